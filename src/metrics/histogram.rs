//! A latency histogram with fixed buckets, updated lock-free.
//!
//! Each bucket is its own atomic counter holding the observations that fell into
//! it alone (not cumulative), so an observation is one bucket search over a dozen
//! integers and two relaxed atomic adds: no lock and no allocation on the hot path.
//! The cumulative `le` counts Prometheus wants are summed only when `/metrics` is
//! rendered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (the `+Inf` bucket is implied): from
/// 100 µs, below which a local pop or look-up is not worth telling apart, to 2.5 s,
/// past which a pop has certainly waited out `pop_deadline_ms`.
pub const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The same bounds in nanoseconds, so an observation compares integers.
const BOUNDS_NS: [u64; 14] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
];

#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket; the last one is `+Inf` (over 2.5 s).
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

/// One consistent-enough reading of a histogram, cumulative as exposed.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `(le, observations <= le)` for each finite bound, in order.
    pub cumulative: Vec<(f64, u64)>,
    /// Every observation (the `+Inf` bucket and `_count`).
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        // `le` is inclusive: an observation equal to a bound belongs to that bucket.
        let index = BOUNDS_NS
            .iter()
            .position(|&bound| ns <= bound)
            .unwrap_or(BOUNDS_NS.len());
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Read the buckets. `count` is the sum of the buckets read (not a separate
    /// counter), so `_count` always equals the `+Inf` bucket even while observations
    /// land during the read.
    pub fn snapshot(&self) -> Snapshot {
        let mut running = 0;
        let mut cumulative = Vec::with_capacity(BUCKETS.len());
        for (le, bucket) in BUCKETS.iter().zip(&self.buckets) {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push((*le, running));
        }
        let count = running + self.buckets[BUCKETS.len()].load(Ordering::Relaxed);
        Snapshot {
            cumulative,
            count,
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_in_nanoseconds_match_the_exposed_bounds() {
        for (le, ns) in BUCKETS.iter().zip(BOUNDS_NS) {
            assert_eq!((le * 1e9).round() as u64, ns, "{le}");
        }
        assert!(BUCKETS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn buckets_are_cumulative_and_le_is_inclusive() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50)); // <= 0.0001
        h.observe(Duration::from_micros(100)); // exactly 0.0001
        h.observe(Duration::from_millis(3)); // <= 0.005
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(2)); // <= 2.5
        h.observe(Duration::from_secs(30)); // +Inf only
        let s = h.snapshot();
        let at = |le: f64| s.cumulative.iter().find(|(b, _)| *b == le).unwrap().1;
        assert_eq!(at(0.0001), 2);
        assert_eq!(at(0.00025), 2);
        assert_eq!(at(0.0025), 2);
        assert_eq!(at(0.005), 4);
        assert_eq!(at(1.0), 4);
        assert_eq!(at(2.5), 5);
        assert_eq!(s.count, 6);
        assert!(s.cumulative.windows(2).all(|w| w[0].1 <= w[1].1));
        let want = 0.00005 + 0.0001 + 0.003 + 0.003 + 2.0 + 30.0;
        assert!((s.sum_seconds - want).abs() < 1e-9, "{}", s.sum_seconds);
    }

    #[test]
    fn observations_from_many_threads_are_all_counted() {
        let h = std::sync::Arc::new(Histogram::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let h = h.clone();
                std::thread::spawn(move || {
                    for n in 0..1000u64 {
                        h.observe(Duration::from_micros(n * (t + 1)));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(h.snapshot().count, 4000);
    }
}
