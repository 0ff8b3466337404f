//! Reconnecting to a switch: the wait between attempts and when an outage is reported.
//!
//! Every adapter that owns a connection (a CSTA TCP session, an SMDR port, an AMI or
//! SIP link) loops "open, run, lose, wait, open again". The wait doubles from `min`
//! to `max` and each one is varied by ±20 %, so that many bridges restarted together
//! (or one bridge with several links to one switch) do not hammer the switch in
//! step. [`Outage`] decides which losses become a `LinkDown` event: every drop of a
//! link that was up, and only the first failed attempt of an outage, so a switch
//! that is away for an hour gives clients one `link.down`, not one per attempt.

use std::time::Duration;

use rand::Rng;

/// The shortest wait [`Backoff`] allows, whatever the configuration says: a link
/// that fails at once must not spin.
pub const MIN_WAIT: Duration = Duration::from_millis(50);

/// Doubling backoff between `min` and `max`, each wait jittered by ±20 %.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// `min` is raised to [`MIN_WAIT`] and `max` to `min` where they are smaller.
    pub fn new(min: Duration, max: Duration) -> Backoff {
        let min = min.max(MIN_WAIT);
        Backoff {
            min,
            max: max.max(min),
            next: min,
        }
    }

    /// Start again from `min` (call it once a link has been up).
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// The wait before the next attempt; each call doubles the base up to `max`.
    pub fn next_wait(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        base.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

/// Which lost or failed connections are reported as `LinkDown`.
#[derive(Debug, Default, Clone)]
pub struct Outage {
    reported: bool,
}

impl Outage {
    /// A connection was lost (`was_up`) or an attempt failed: `true` when this one is
    /// to be reported. A drop of a link that was up is always reported; of the failed
    /// attempts of one outage only the first.
    pub fn report(&mut self, was_up: bool) -> bool {
        let report = was_up || !self.reported;
        self.reported = true;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_max_with_jitter() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        let bases = [1.0, 2.0, 4.0, 5.0, 5.0];
        for base in bases {
            let w = b.next_wait().as_secs_f64();
            assert!(w >= base * 0.8 && w <= base * 1.2, "{w} for base {base}");
        }
        b.reset();
        let w = b.next_wait().as_secs_f64();
        assert!((0.8..=1.2).contains(&w), "{w} after reset");
    }

    #[test]
    fn nonsense_bounds_are_clamped() {
        let mut b = Backoff::new(Duration::ZERO, Duration::ZERO);
        let w = b.next_wait();
        assert!(w >= MIN_WAIT.mul_f64(0.8) && w <= MIN_WAIT.mul_f64(1.2));
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(1));
        assert!(b.next_wait() >= Duration::from_secs(8));
    }

    #[test]
    fn an_outage_is_reported_once_and_every_drop_of_a_live_link() {
        let mut o = Outage::default();
        assert!(o.report(false), "first failed attempt");
        assert!(!o.report(false), "second failed attempt of the same outage");
        assert!(o.report(true), "a link that was up dropped");
        assert!(!o.report(false));
    }
}
