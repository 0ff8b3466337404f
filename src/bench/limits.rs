//! The bench's open-file limits: every WebSocket client is a socket in the bench
//! process (the daemon's end) and another in a client process, so the run raises its
//! `RLIMIT_NOFILE` first and, when the limits cannot hold the idle clients asked for,
//! says so and opens as many as fit instead of failing halfway through.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Files the bench process keeps for itself beside the clients' sockets: the database
/// pool and SQLite's files, the switch link, the pipes to the child processes, the
/// `/metrics` requests, the runtime's own descriptors, with room to spare.
pub const RESERVE: u64 = 256;

/// The open-file limits after [`raise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    /// The soft limit: what the process may open now.
    pub soft: u64,
    /// The hard limit the soft one may be raised to.
    pub hard: u64,
}

/// `None` (no limit) as a number.
fn finite(limit: Option<u64>) -> u64 {
    limit.unwrap_or(u64::MAX)
}

/// The kernel's ceiling for any process's limit (`/proc/sys/fs/nr_open`).
pub fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Raise this process's open-file limit so it may hold `wanted` files: the soft limit
/// to the hard one, and the hard one too, up to the kernel's `nr_open`, when the
/// process may (root or `CAP_SYS_RESOURCE`; otherwise the kernel refuses and the hard
/// limit stays). Child processes inherit the result.
pub fn raise(wanted: u64) -> FileLimit {
    let limit = getrlimit(Resource::Nofile);
    let hard = finite(limit.maximum);
    if wanted > hard {
        let target = nr_open().map_or(wanted, |ceiling| wanted.min(ceiling));
        if target > hard {
            let raised = Rlimit {
                current: Some(target),
                maximum: Some(target),
            };
            // Refused without the privilege: the soft limit is raised below instead.
            if setrlimit(Resource::Nofile, raised).is_ok() {
                return current();
            }
        }
    }
    if finite(limit.current) < hard {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    current()
}

/// This process's open-file limits now.
pub fn current() -> FileLimit {
    let limit = getrlimit(Resource::Nofile);
    FileLimit {
        soft: finite(limit.current),
        hard: finite(limit.maximum),
    }
}

/// Files this process has open now (the entries of `/proc/self/fd`), or 0 when it
/// cannot be read.
pub fn open_now() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |entries| entries.count() as u64)
}

/// How many idle clients a process with `limit` and `open` files already open can
/// hold beside `others` sockets and [`RESERVE`].
pub fn room(limit: FileLimit, open: u64, others: u64) -> u64 {
    limit
        .soft
        .saturating_sub(open)
        .saturating_sub(others)
        .saturating_sub(RESERVE)
}

/// What to tell the user when `asked` idle clients do not fit and only `fit` will be
/// opened: the limits, and how to raise them.
pub fn capped_message(asked: usize, fit: u64, limit: FileLimit, need: u64) -> String {
    let ceiling = nr_open().map_or_else(String::new, |n| format!(", at most fs.nr_open = {n}"));
    format!(
        "bench: {asked} idle clients need about {need} open files in this process, but its \
         limit is {soft} (hard limit {hard}) and it could not raise it (raising the hard \
         limit needs root with CAP_SYS_RESOURCE{ceiling}); opening {fit} idle clients \
         instead. To hold them all, raise the limit for the bench: `ulimit -n {need}` in a \
         shell that may (root), or LimitNOFILE={need} in the systemd unit that runs it.",
        soft = limit.soft,
        hard = limit.hard,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_leaves_the_reserve_and_the_other_sockets() {
        let limit = FileLimit {
            soft: 20_000,
            hard: 20_000,
        };
        assert_eq!(room(limit, 44, 102), 20_000 - 44 - 102 - RESERVE);
        assert_eq!(room(limit, 19_900, 102), 0, "never below zero");
    }

    #[test]
    fn raising_reaches_at_least_the_hard_limit_and_never_lowers_it() {
        let before = current();
        let after = raise(before.hard.saturating_add(1_000));
        assert_eq!(
            after.soft, after.hard,
            "the soft limit is raised to the hard one"
        );
        assert!(after.hard >= before.hard);
        // A process that may raise it did so, up to what was asked or the kernel's ceiling.
        if after.hard > before.hard {
            assert!(after.hard <= before.hard.saturating_add(1_000));
            assert!(nr_open().is_none_or(|n| after.hard <= n));
        }
        assert!(open_now() > 0, "stdin, stdout, stderr at least");
    }

    #[test]
    fn the_message_says_how_many_and_how_to_raise_it() {
        let limit = FileLimit {
            soft: 20_000,
            hard: 20_000,
        };
        let text = capped_message(50_000, 19_500, limit, 50_400);
        assert!(text.contains("50000 idle clients"), "{text}");
        assert!(text.contains("opening 19500"), "{text}");
        assert!(text.contains("LimitNOFILE=50400"), "{text}");
        assert!(text.contains("ulimit -n 50400"), "{text}");
    }
}
