//! The actor's armed timers: a min-heap of (deadline, arming order, timer). Timers due
//! at the same instant fire in the order they were armed, so runs are reproducible.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tokio::time::Instant;

use crate::switch::Timer;

#[derive(Debug, Default)]
pub(crate) struct Schedule {
    heap: BinaryHeap<Reverse<Entry>>,
    armed: u64,
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    order: u64,
    timer: Timer,
}

// Ordered by deadline, then arming order; the timer itself takes no part.
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl Schedule {
    pub(crate) fn arm(&mut self, at: Instant, timer: Timer) {
        self.armed += 1;
        self.heap.push(Reverse(Entry {
            at,
            order: self.armed,
            timer,
        }));
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(entry)| entry.at)
    }

    /// The earliest timer due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.next_deadline()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(entry)| entry.timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_timers_come_out_by_deadline_then_arming_order() {
        let now = Instant::now();
        let mut schedule = Schedule::default();
        schedule.arm(now + Duration::from_secs(2), Timer::Abandon { call: 3 });
        schedule.arm(now, Timer::Abandon { call: 1 });
        schedule.arm(now, Timer::Abandon { call: 2 });
        assert_eq!(schedule.pop_due(now), Some(Timer::Abandon { call: 1 }));
        assert_eq!(schedule.pop_due(now), Some(Timer::Abandon { call: 2 }));
        assert_eq!(schedule.pop_due(now), None);
        assert_eq!(schedule.next_deadline(), Some(now + Duration::from_secs(2)));
        assert_eq!(
            schedule.pop_due(now + Duration::from_secs(2)),
            Some(Timer::Abandon { call: 3 })
        );
    }
}
