//! Client transactions of non-INVITE requests (RFC 3261 §17.1.2): on UDP a request
//! is sent again after T1, 2·T1, … up to T2 (Timer E) until a final response; on
//! any transport it has failed when none came within 64·T1 (Timer F).

use std::time::Duration;

use tokio::time::Instant;

/// RFC 3261 T2: the longest retransmission interval.
pub const T2: Duration = Duration::from_secs(4);

/// What a transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The SUBSCRIBE (initial or refresh) of `devices[index]`.
    Subscribe(usize),
    /// uaCSTA: our request with this CSeq number in the CSTA dialog.
    Csta(u32),
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub branch: String,
    pub bytes: Vec<u8>,
    pub purpose: Purpose,
    next_send: Option<Instant>,
    interval: Duration,
    deadline: Instant,
    /// INVITE's Timer A doubles without the T2 cap of Timer E (RFC 3261 §17.1.1.2).
    uncapped: bool,
}

impl Pending {
    /// A request just sent. `udp`: retransmit it.
    pub fn new(
        branch: String,
        bytes: Vec<u8>,
        purpose: Purpose,
        t1: Duration,
        udp: bool,
        now: Instant,
    ) -> Pending {
        Pending {
            branch,
            bytes,
            purpose,
            next_send: udp.then(|| now + t1),
            interval: t1,
            deadline: now + t1 * 64,
            uncapped: false,
        }
    }

    /// An INVITE client transaction: retransmissions double without a cap.
    pub fn invite(mut self) -> Pending {
        self.uncapped = true;
        self
    }

    /// A provisional response came: stop retransmitting faster than T2 (an
    /// INVITE stops retransmitting altogether, RFC 3261 §17.1.1.2).
    pub fn provisional(&mut self, now: Instant) {
        if self.uncapped {
            self.next_send = None;
            return;
        }
        if let Some(next) = &mut self.next_send {
            self.interval = T2;
            *next = now + T2;
        }
    }

    /// When something is due for this transaction.
    pub fn wake_at(&self) -> Instant {
        match self.next_send {
            Some(next) => next.min(self.deadline),
            None => self.deadline,
        }
    }

    pub fn timed_out(&self, now: Instant) -> bool {
        now >= self.deadline
    }

    /// True when the request is to be sent again now (and schedules the next time).
    pub fn retransmit_due(&mut self, now: Instant) -> bool {
        match self.next_send {
            Some(next) if now >= next => {
                self.interval = if self.uncapped {
                    self.interval * 2
                } else {
                    (self.interval * 2).min(T2)
                };
                self.next_send = Some(now + self.interval);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_timer_e_doubles_to_t2_and_timer_f_ends_it() {
        let t1 = Duration::from_millis(500);
        let start = Instant::now();
        let mut p = Pending::new("b".into(), vec![], Purpose::Subscribe(0), t1, true, start);
        let mut sent_at = Vec::new();
        let mut now = start;
        while !p.timed_out(now) {
            now = p.wake_at();
            if p.retransmit_due(now) {
                sent_at.push((now - start).as_millis());
            }
        }
        // 0.5, 1.5, 3.5, 7.5, 11.5, … every 4 s until 32 s
        assert_eq!(&sent_at[..5], &[500, 1500, 3500, 7500, 11500]);
        assert_eq!((now - start).as_millis(), 32_000);
        assert_eq!(sent_at.len(), 10);
    }

    #[test]
    fn tcp_is_not_retransmitted() {
        let start = Instant::now();
        let mut p = Pending::new(
            "b".into(),
            vec![],
            Purpose::Subscribe(0),
            Duration::from_millis(500),
            false,
            start,
        );
        assert_eq!(p.wake_at(), start + Duration::from_secs(32));
        assert!(!p.retransmit_due(start + Duration::from_secs(5)));
    }

    #[test]
    fn an_invite_doubles_without_a_cap_and_stops_on_a_provisional_answer() {
        let t1 = Duration::from_millis(500);
        let start = Instant::now();
        let mut p = Pending::new("b".into(), vec![], Purpose::Csta(1), t1, true, start).invite();
        let mut sent_at = Vec::new();
        let mut now = start;
        while sent_at.len() < 5 {
            now = p.wake_at();
            if p.retransmit_due(now) {
                sent_at.push((now - start).as_millis());
            }
        }
        assert_eq!(sent_at, [500, 1500, 3500, 7500, 15500]);
        p.provisional(now);
        assert_eq!(p.wake_at(), start + t1 * 64, "only Timer B is left");
    }
}
