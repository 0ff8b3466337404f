//! Idle clients at scale: how `--idle N` is spread over client processes and loopback
//! source addresses, and the bench's handle on those processes.
//!
//! Two limits of one machine decide the spread. A process may hold only so many files
//! (20,000 on the machine of docs/performance.md), so no one client process holds more
//! than [`PER_PROCESS`] idle clients. And loopback has one ephemeral port range
//! (about 28,000 ports) per source address, destination address and port, so each idle
//! client connects from its own address of 127.0.0.0/8 (all of it is loopback on
//! Linux): client `k` from [`source_address`]`(k)`.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::child::Clients;

/// Idle clients one client process holds at most, by default.
pub const PER_PROCESS: usize = 15_000;

/// The first source address; 127.0.0.1 stays the active clients'.
const FIRST_SOURCE: u32 = 0x7f00_0002;
/// Source addresses used before they repeat: 127.0.0.2 to 127.255.255.253, so neither
/// 127.0.0.1 nor the /8's broadcast address is ever one.
const SOURCES: u32 = 0x00ff_fffc;

/// The loopback source address of idle client `k`.
pub fn source_address(k: usize) -> Ipv4Addr {
    let offset = u32::try_from(k % SOURCES as usize).unwrap_or(0);
    Ipv4Addr::from(FIRST_SOURCE + offset)
}

/// `n` idle clients over processes of at most `per_process` each (at least 1): the
/// first client's number and the count of each process.
pub fn split(n: usize, per_process: usize) -> Vec<(usize, usize)> {
    let per_process = per_process.max(1);
    (0..n)
        .step_by(per_process)
        .map(|first| (first, per_process.min(n - first)))
        .collect()
}

/// How long opening `n` idle clients may take: they all queue at the one daemon.
fn open_timeout(n: usize) -> Duration {
    Duration::from_secs(120) + Duration::from_millis(10) * u32::try_from(n).unwrap_or(u32::MAX)
}

/// The client processes that hold the idle clients.
pub struct Fleet {
    processes: Vec<Clients>,
}

impl Fleet {
    /// Start the processes and open `n` idle clients, at most `per_process` in each,
    /// all at once; returns the fleet and how many clients got in.
    pub async fn open(url: &str, n: usize, per_process: usize) -> Result<(Fleet, usize), String> {
        let parts = split(n, per_process);
        let mut processes = Vec::with_capacity(parts.len());
        for _ in &parts {
            processes.push(Clients::spawn(url, 0, 0, false).await?);
        }
        let timeout = open_timeout(n);
        let opening = processes
            .iter_mut()
            .zip(&parts)
            .map(|(process, &(first, count))| process.open_idle(count, first, timeout));
        let opened: usize = futures_util::future::try_join_all(opening)
            .await?
            .into_iter()
            .sum();
        Ok((Fleet { processes }, opened))
    }

    /// Client processes in the fleet.
    pub fn len(&self) -> usize {
        self.processes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }

    /// Close the idle clients and end the processes.
    pub async fn close(self) -> Result<(), String> {
        for process in self.processes {
            process.finish(0).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_has_its_own_loopback_address() {
        assert_eq!(source_address(0), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_address(1), Ipv4Addr::new(127, 0, 0, 3));
        assert_eq!(source_address(254), Ipv4Addr::new(127, 0, 1, 0));
        assert_eq!(source_address(49_999), Ipv4Addr::new(127, 0, 195, 81));
        let last = source_address(SOURCES as usize - 1);
        assert_eq!(last, Ipv4Addr::new(127, 255, 255, 253));
        assert_eq!(source_address(SOURCES as usize), source_address(0));
        for k in [0, 1_000, 16_777_000, usize::MAX] {
            let a = source_address(k);
            assert!(a.is_loopback() && a != Ipv4Addr::LOCALHOST, "{a}");
        }
    }

    #[test]
    fn the_split_covers_every_client_once() {
        assert_eq!(
            split(50_000, PER_PROCESS),
            vec![
                (0, 15_000),
                (15_000, 15_000),
                (30_000, 15_000),
                (45_000, 5_000)
            ]
        );
        assert_eq!(split(300, 150), vec![(0, 150), (150, 150)]);
        assert_eq!(split(5, 15_000), vec![(0, 5)]);
        assert!(split(0, 10).is_empty());
        assert_eq!(
            split(2, 0),
            vec![(0, 1), (1, 1)],
            "at least one per process"
        );
    }
}
