//! One occurrence, one event. A switch reports what happens to a call on every
//! monitor that sees it: a call from 1001 to 1002 rings once but arrives as two
//! DeliveredEvents, one per monitored device. The copies carry different monitor
//! cross-reference ids and come one after another.
//!
//! An event is a copy when an equal event was seen recently through a *different*
//! monitor and not yet through this one. Seen again through the same monitor, it is a
//! new occurrence (hold, retrieve, hold again).

use std::collections::VecDeque;

use ctibridge_adapter::SwitchEvent;

/// How many distinct recent events are remembered: more than the monitors one
/// occurrence can reach in practice (the parties' phones and an ACD group or two).
const WINDOW: usize = 8;

#[derive(Debug, Default)]
pub struct MonitorCopies {
    recent: VecDeque<(SwitchEvent, Vec<String>)>,
}

impl MonitorCopies {
    /// Whether `event`, which came through monitor `cross_ref`, is new.
    pub fn is_new(&mut self, event: &SwitchEvent, cross_ref: Option<&str>) -> bool {
        let Some(cross_ref) = cross_ref else {
            // Without a monitor id (a switch that sends none) copies cannot be told
            // from occurrences; pass everything.
            return true;
        };
        if let Some(pos) = self.recent.iter().position(|(e, _)| e == event) {
            let (_, monitors) = &mut self.recent[pos];
            if !monitors.iter().any(|m| m == cross_ref) {
                monitors.push(cross_ref.to_string());
                return false;
            }
            self.recent.remove(pos);
        }
        self.recent
            .push_back((event.clone(), vec![cross_ref.to_string()]));
        if self.recent.len() > WINDOW {
            self.recent.pop_front();
        }
        true
    }

    /// Forget everything (a new link: cross-reference ids start again).
    pub fn clear(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held() -> SwitchEvent {
        SwitchEvent::Held {
            call_id: "1".into(),
            device: "1001".into(),
        }
    }

    fn retrieved() -> SwitchEvent {
        SwitchEvent::Retrieved {
            call_id: "1".into(),
            device: "1001".into(),
        }
    }

    #[test]
    fn copies_dropped_repeats_kept() {
        let mut copies = MonitorCopies::default();
        assert!(copies.is_new(&held(), Some("1")));
        assert!(!copies.is_new(&held(), Some("2")));
        assert!(copies.is_new(&retrieved(), Some("1")));
        assert!(!copies.is_new(&retrieved(), Some("2")));
        assert!(
            copies.is_new(&held(), Some("1")),
            "held again is a new occurrence"
        );
        assert!(!copies.is_new(&held(), Some("2")));
        assert!(copies.is_new(&held(), None));
        assert!(copies.is_new(&held(), None));
    }
}
