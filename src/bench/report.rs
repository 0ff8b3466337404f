//! The bench's figures: percentiles, the process's CPU time and resident memory from
//! `/proc`, the daemon's counters read from its own `/metrics` (as a user would), and
//! the JSON object `bench` prints (DESIGN.md, CLI).

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// p50, p99 and max of `samples` (sorted in place); zeros when there are none.
pub fn percentiles(samples: &mut [u64]) -> (u64, u64, u64) {
    if samples.is_empty() {
        return (0, 0, 0);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99), samples[samples.len() - 1])
}

/// This process's user + system CPU time in microseconds (`/proc/self/stat`).
pub fn cpu_us() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    let per_s = rustix::param::clock_ticks_per_second().max(1);
    ticks * 1_000_000 / per_s
}

/// This process's resident memory in bytes (`VmRSS` in `/proc/self/status`).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The daemon's counters: one GET of `/metrics` on loopback.
pub async fn daemon_metrics(addr: std::net::SocketAddr) -> Result<Metrics, String> {
    let body = get(addr, "/metrics").await?;
    let value = |name: &str| {
        body.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name).then(|| value.trim().parse::<f64>().ok())?
            })
            .unwrap_or(0.0) as u64
    };
    Ok(Metrics {
        seq: value("ctibridge_seq"),
        switch_events: value("ctibridge_switch_events_total"),
        calls_active: value("ctibridge_calls_active"),
        slow_clients_closed: value("ctibridge_slow_clients_closed_total"),
    })
}

/// Is every switch link up (`/healthz`)?
pub async fn links_up(addr: std::net::SocketAddr) -> bool {
    let Ok(body) = get(addr, "/healthz").await else {
        return false;
    };
    let json = body.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str::<Value>(json).is_ok_and(|health| {
        health["switches"]
            .as_array()
            .is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["up"] == true))
    })
}

async fn get(addr: std::net::SocketAddr, path: &str) -> Result<String, String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("cannot reach the daemon at {addr}: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut body = String::new();
    stream
        .read_to_string(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    Ok(body)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Metrics {
    pub seq: u64,
    pub switch_events: u64,
    pub calls_active: u64,
    pub slow_clients_closed: u64,
}

/// Everything the bench measured.
pub struct Figures {
    pub events: u64,
    pub window_s: f64,
    pub frames: u64,
    pub frames_window_s: f64,
    pub cpu_us: u64,
    pub clients: usize,
    /// p50, p99, max in ns; `None` when the source carries no time stamps.
    pub latency_ns: Option<(u64, u64, u64)>,
    pub lookup_ns: (u64, u64),
    pub contacts: u64,
    pub idle_clients: usize,
    pub idle_bytes_per_client: u64,
    pub dropped: u64,
    /// With the AMI generator: every AMI event written, and the daemon's CPU time
    /// (µs) from the start of the window until it had handled them all.
    pub ami: Option<(u64, u64)>,
    /// This process's resident memory after the warm-up ([`warm_up_s`]) and at the end
    /// of the window.
    pub rss_bytes: (u64, u64),
}

/// The second of a window of `secs` after which resident memory counts as warm: the
/// first 10 % of the window, at most 60 s, at least 1 s.
pub fn warm_up_s(secs: u64) -> u64 {
    secs.div_ceil(10).clamp(1, 60)
}

/// `rss_mb`: resident memory after the warm-up and at the end (MB, one decimal), and
/// its growth between the two in percent (one decimal).
fn rss_mb((warm, end): (u64, u64)) -> Value {
    let mb = |b: u64| (b as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0;
    let growth = if warm > 0 {
        ((end as f64 - warm as f64) / warm as f64 * 1_000.0).round() / 10.0
    } else {
        0.0
    };
    json!({"warm": mb(warm), "end": mb(end), "growth_pct": growth})
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1_000.0).round() / 1_000.0
}

/// The JSON object `bench` prints.
pub fn json(f: &Figures) -> Value {
    let per_s = |n: u64, s: f64| if s > 0.0 { (n as f64 / s).round() } else { 0.0 };
    let latency = match f.latency_ns {
        Some((p50, p99, max)) => json!({"p50": ms(p50), "p99": ms(p99), "max": ms(max)}),
        None => json!({"p50": null, "p99": null, "max": null}),
    };
    json!({
        "events_per_s": per_s(f.events, f.window_s),
        "frames_per_s": per_s(f.frames, f.frames_window_s),
        "cpu_us_per_event": if f.events > 0 {
            (f.cpu_us as f64 / f.events as f64 * 100.0).round() / 100.0
        } else { 0.0 },
        "clients": f.clients,
        "latency_ms": latency,
        "lookup_ms": {"p50": ms(f.lookup_ns.0), "p99": ms(f.lookup_ns.1)},
        "contacts": f.contacts,
        "idle_clients": f.idle_clients,
        "idle_bytes_per_client": f.idle_bytes_per_client,
        "dropped": f.dropped,
        "ami_events_per_cpu_s": match f.ami {
            Some((events, cpu_us)) if cpu_us > 0 => json!((events as f64 * 1e6 / cpu_us as f64).round()),
            _ => Value::Null,
        },
        "rss_mb": rss_mb(f.rss_bytes),
    })
}

/// `lookup_db_ms`: the look-up timed on `--lookup-database`, or null.
pub fn lookup_db_json(timed: Option<&(String, u64, u64)>) -> Value {
    match timed {
        Some((backend, p50, p99)) => json!({"backend": backend, "p50": ms(*p50), "p99": ms(*p99)}),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_set() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentiles(&mut samples), (51, 99, 100));
        assert_eq!(percentiles(&mut []), (0, 0, 0));
    }

    #[test]
    fn warm_up_is_a_tenth_of_the_window_within_1_to_60_s() {
        assert_eq!(warm_up_s(600), 60);
        assert_eq!(warm_up_s(3_600), 60);
        assert_eq!(warm_up_s(10), 1);
        assert_eq!(warm_up_s(25), 3);
        assert_eq!(warm_up_s(1), 1);
    }

    #[test]
    fn rss_growth_in_percent_of_the_warm_figure() {
        let mb = 1024 * 1024;
        let figure = rss_mb((200 * mb, 206 * mb));
        assert_eq!(
            figure,
            json!({"warm": 200.0, "end": 206.0, "growth_pct": 3.0})
        );
        let shrunk = rss_mb((200 * mb, 190 * mb + mb / 2));
        assert_eq!(shrunk["growth_pct"], -4.8);
        assert_eq!(shrunk["end"], 190.5);
        assert_eq!(rss_mb((0, 0))["growth_pct"], 0.0);
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let spin: u64 = (0..5_000_000u64).map(|i| i ^ (i >> 3)).sum();
        assert!(spin > 0);
        assert!(rss_bytes() > 0);
        assert!(cpu_us() > 0);
    }
}
