//! Assembling call records: one call's lines joined into one [`CallRecord`].
//!
//! Some switches print a call that was transferred or held in several records (Avaya
//! IP Office sets `Continuation = 1` on all but the last, each with the same call id).
//! They are joined: the first line gives the start, caller, direction and the first
//! extension; talk time adds up; a later segment at another extension is the
//! transfer target; fields the first line left empty are filled from later ones. The
//! joined record's raw text is the lines, one per line, in arrival order.
//!
//! A call whose last line never comes (the switch restarted) is let go as it is
//! after [`PENDING_FOR`], and at most [`MAX_PENDING`] calls wait at once.

use std::time::{Duration, Instant};

use ctibridge_adapter::CallRecord;

use crate::format::Parsed;

/// How long the lines of an unfinished call wait for the rest.
pub const PENDING_FOR: Duration = Duration::from_secs(120);
/// How many unfinished calls may wait.
pub const MAX_PENDING: usize = 256;

/// A finished record with its raw text.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub record: CallRecord,
    pub raw: String,
}

#[derive(Debug)]
struct Pending {
    call_id: String,
    record: CallRecord,
    raw: String,
    since: Instant,
}

#[derive(Debug, Default)]
pub struct Assembler {
    pending: Vec<Pending>,
}

impl Assembler {
    /// Add one line's record; returns what is finished now (the call, when this was
    /// its last line, and any unfinished call pushed out to keep within bounds).
    pub fn push(&mut self, parsed: Parsed, raw: &str, now: Instant) -> Vec<Assembled> {
        let mut done = Vec::new();
        let Parsed { record, continues } = parsed;
        let Some(call_id) = record.call_id.clone() else {
            done.push(Assembled {
                record,
                raw: raw.to_string(),
            });
            return done;
        };
        let joined = match self.pending.iter().position(|p| p.call_id == call_id) {
            Some(i) => {
                let mut pending = self.pending.remove(i);
                join(&mut pending.record, record);
                pending.raw.push('\n');
                pending.raw.push_str(raw);
                pending
            }
            None => Pending {
                call_id,
                record,
                raw: raw.to_string(),
                since: now,
            },
        };
        if continues {
            self.pending.push(joined);
            if self.pending.len() > MAX_PENDING {
                let oldest = self.pending.remove(0);
                done.push(finished(oldest));
            }
        } else {
            done.push(finished(joined));
        }
        done
    }

    /// Calls that waited longer than [`PENDING_FOR`] for their last line.
    pub fn expired(&mut self, now: Instant) -> Vec<Assembled> {
        let (old, young): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| now.saturating_duration_since(p.since) >= PENDING_FOR);
        self.pending = young;
        old.into_iter().map(finished).collect()
    }

    /// Everything still waiting (the end of a capture).
    pub fn finish(&mut self) -> Vec<Assembled> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(finished)
            .collect()
    }
}

fn finished(pending: Pending) -> Assembled {
    Assembled {
        record: pending.record,
        raw: pending.raw,
    }
}

/// Fold a later segment of the call into the record so far.
fn join(first: &mut CallRecord, later: CallRecord) {
    if let (Some(a), Some(b)) = (first.duration_s, later.duration_s) {
        first.duration_s = Some(a + b);
    }
    if later.extension.is_some() && later.extension != first.extension && first.extension.is_some()
    {
        first.transfer_to = later.extension.clone();
    }
    if later.transfer_to.is_some() {
        first.transfer_to = later.transfer_to.clone();
    }
    first.answered = match (first.answered, later.answered) {
        (Some(a), Some(b)) => Some(a || b),
        (a, b) => a.or(b),
    };
    let fill = |mine: &mut Option<String>, theirs: Option<String>| {
        if mine.is_none() {
            *mine = theirs;
        }
    };
    fill(&mut first.extension, later.extension);
    fill(&mut first.trunk, later.trunk);
    fill(&mut first.calling, later.calling);
    fill(&mut first.called, later.called);
    fill(&mut first.dialed, later.dialed);
    fill(&mut first.account, later.account);
    first.start = first.start.or(later.start);
    first.ring_s = first.ring_s.or(later.ring_s);
    first.direction = first.direction.or(later.direction);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::avaya_ipo;
    use crate::format::Line;

    fn ipo(line: &str) -> Parsed {
        match avaya_ipo::parse(line, &crate::format::fields::test_clock()) {
            Ok(Line::Record(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn continuations_are_joined() {
        let first = "2026/03/10 09:20:00,00:01:00,3,4155550123,I,2001,2001,,0,1000045,1,E2001,Anna Berg,T9001,Line 1.1,0,0";
        let second = "2026/03/10 09:20:00,00:02:30,0,4155550123,I,2001,2001,ACC9,0,1000045,0,E2003,Cai Dunn,T9001,Line 1.1,0,0";
        let mut assembler = Assembler::default();
        let now = Instant::now();
        assert!(assembler.push(ipo(first), first, now).is_empty());
        let done = assembler.push(ipo(second), second, now);
        assert_eq!(done.len(), 1);
        let r = &done[0].record;
        assert_eq!(r.duration_s, Some(210.0));
        assert_eq!(r.extension.as_deref(), Some("2001"));
        assert_eq!(r.transfer_to.as_deref(), Some("2003"));
        assert_eq!(r.account.as_deref(), Some("ACC9"));
        assert_eq!(r.ring_s, Some(3.0));
        assert_eq!(done[0].raw, format!("{first}\n{second}"));
    }

    #[test]
    fn unfinished_calls_are_let_go() {
        let first =
            "2026/03/10 09:20:00,00:01:00,3,4155550123,I,2001,2001,,0,7,1,E2001,A,T9001,L,0,0";
        let mut assembler = Assembler::default();
        let now = Instant::now();
        assert!(assembler.push(ipo(first), first, now).is_empty());
        assert!(assembler.expired(now).is_empty());
        assert_eq!(assembler.expired(now + PENDING_FOR).len(), 1);
        assert!(assembler.finish().is_empty());
    }
}
