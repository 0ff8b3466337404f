//! Calls the switch names only by a device.
//!
//! A CSTA connection identifier is a call id, a device id, or both. OpenScape Voice
//! sends some events (Delivered, Established, ConnectionCleared, …) with the device
//! alone. The engine needs a call id for every call event, so the adapter finds the
//! call by its devices:
//!
//! - Every event the switch names a call in teaches which devices that call has
//!   (the connection's device, the calling and called devices, transfer targets).
//! - An event named by device `D` alone belongs to the most recent call that has
//!   `D`. When there is none, an event that starts a call (Delivered, Established,
//!   Queued, Originated) starts one under an id made up here, `~N`; any other event
//!   gets a made-up id the engine does not know, so it is ignored like a late event.
//!   An Originated or ServiceInitiated event always starts a new call: a device
//!   that dials while it has a call on hold is making a second call.
//! - When the switch later names a call that has a made-up id (the first event with
//!   a call id at one of its devices that is not a new call or a clear), the made-up
//!   id stays the engine's and the switch's id is recorded as the one to address it
//!   by ([`crate::ids`]).
//! - A call's devices leave with ConnectionCleared and Diverted; a call with one
//!   device left, a Failed or a CallCleared call, is forgotten. Transfers and
//!   conferences merge the two calls' devices.
//! - A snapshot after (re)connecting names every call the switch has: calls it
//!   does not list are forgotten, made-up ones it lists (by their devices) are named.
//!
//! This cannot tell two calls at one device apart while neither is named (a second
//! call ringing during a call); switches that omit call ids name the call in the
//! next event that matters (hold, consultation, transfer), which is enough for
//! screen pops, call control and the call log.

use std::collections::VecDeque;

use ctibridge_adapter::SwitchEvent;

/// Made-up call ids start with this; a switch's never do.
pub const MADE_UP: char = '~';

/// Whether a call id was made up by the adapter (the switch does not know it).
pub fn is_made_up(call_id: &str) -> bool {
    call_id.starts_with(MADE_UP)
}

/// Calls are short; a few thousand tracked at once is far more than one link has.
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct Correlator {
    /// Least recently used first.
    tracks: VecDeque<Track>,
    next: u64,
}

#[derive(Debug)]
struct Track {
    /// The first is the one events carry to the engine; the rest are ids the
    /// switch has used for the same call since.
    ids: Vec<String>,
    devices: Vec<String>,
    /// The switch has named this call.
    named: bool,
}

impl Track {
    fn add(&mut self, device: &str) {
        if !device.is_empty() && !self.devices.iter().any(|d| d == device) {
            self.devices.push(device.to_string());
        }
    }

    fn remove(&mut self, device: &str) {
        self.devices.retain(|d| d != device);
    }
}

/// What an event does to its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Starts a call when none is known (Delivered, Established, Queued).
    Opens,
    /// Always a new call (Originated).
    Starts,
    Continues,
    /// A device leaves (ConnectionCleared).
    Leaves,
    /// The call is over (Failed).
    Ends,
}

impl Correlator {
    /// Fill in the call id of an event whose connection the switch named by device
    /// alone, and learn from the ones it named. `aliases` are `(new, old)` ids the
    /// switch gave a call in this event (a transfer's surviving call). Returns
    /// `(switch id, made-up id)` pairs: calls that had a made-up id and now have the
    /// switch's.
    pub fn resolve(
        &mut self,
        event: &mut SwitchEvent,
        aliases: &[(String, String)],
    ) -> Vec<(String, String)> {
        use SwitchEvent::*;
        let mut named = Vec::new();
        match event {
            Delivered {
                call_id,
                device,
                calling,
                called,
                ..
            }
            | Established {
                call_id,
                device,
                calling,
                called,
            } => {
                let others = [calling.as_deref(), called.as_deref()];
                self.one(call_id, device, &others, Role::Opens, &mut named);
            }
            Queued {
                call_id,
                queue,
                calling,
                called,
                ..
            } => {
                let others = [calling.as_deref(), called.as_deref()];
                self.one(call_id, queue, &others, Role::Opens, &mut named);
            }
            Originated {
                call_id,
                device,
                called,
            } => {
                self.one(
                    call_id,
                    device,
                    &[called.as_deref()],
                    Role::Starts,
                    &mut named,
                );
            }
            Held { call_id, device } | Retrieved { call_id, device } => {
                self.one(call_id, device, &[], Role::Continues, &mut named);
            }
            ConnectionCleared {
                call_id, device, ..
            } => {
                self.one(call_id, device, &[], Role::Leaves, &mut named);
            }
            Failed {
                call_id, device, ..
            } => {
                self.one(call_id, device, &[], Role::Ends, &mut named);
            }
            Diverted {
                call_id,
                device,
                to,
            } => {
                let at = self.one(call_id, device, &[], Role::Continues, &mut named);
                if let Some(track) = at.and_then(|i| self.tracks.get_mut(i)) {
                    track.remove(device);
                    track.add(to);
                }
            }
            Transferred {
                call_id,
                secondary_call_id,
                device,
                transferred_to,
            } => {
                let at = self.one(call_id, device, &[], Role::Continues, &mut named);
                self.merge(at, secondary_call_id.as_deref());
                let at = self.position(call_id);
                if let Some(track) = at.and_then(|i| self.tracks.get_mut(i)) {
                    track.remove(device);
                    track.add(transferred_to);
                }
            }
            Conferenced {
                call_id,
                secondary_call_id,
                device,
                added,
            } => {
                let at = self.one(call_id, device, &[], Role::Continues, &mut named);
                self.merge(at, secondary_call_id.as_deref());
                let at = self.position(call_id);
                if let Some(track) = at.and_then(|i| self.tracks.get_mut(i)) {
                    track.add(added);
                }
            }
            RouteRequest { call_id, .. } => {
                if !call_id.is_empty() && self.position(call_id).is_none() {
                    self.push(call_id.clone(), &[], true);
                }
            }
            Snapshot(snapshot) => {
                let mut kept = VecDeque::new();
                for call in &snapshot.calls {
                    let devices: Vec<&str> =
                        call.parties.iter().map(|p| p.device.as_str()).collect();
                    let at = self.position(&call.call_id).or_else(|| {
                        let at = self.unnamed_at(&devices)?;
                        named.push((call.call_id.clone(), self.tracks[at].ids[0].clone()));
                        Some(at)
                    });
                    let mut track = match at.and_then(|i| self.tracks.remove(i)) {
                        Some(track) => track,
                        None => Track {
                            ids: vec![call.call_id.clone()],
                            devices: Vec::new(),
                            named: true,
                        },
                    };
                    if !track.ids.contains(&call.call_id) {
                        track.ids.push(call.call_id.clone());
                    }
                    track.named = true;
                    track.devices.clear();
                    for device in &devices {
                        track.add(device);
                    }
                    kept.push_back(track);
                }
                // Calls the switch no longer has ended while we were away.
                self.tracks = kept;
            }
            CallRecord(_)
            | LinkUp
            | LinkDown { .. }
            | LoggedOn { .. }
            | LoggedOff { .. }
            | Ready { .. }
            | NotReady { .. }
            | WorkNotReady { .. } => {}
        }
        for (new, old) in aliases {
            if let Some(at) = self.position(old) {
                if !self.tracks[at].ids.contains(new) {
                    self.tracks[at].ids.push(new.clone());
                }
            }
        }
        named
    }

    /// One connection of an event: fill in or learn the call id; returns the
    /// call's track, if it has one.
    fn one(
        &mut self,
        call_id: &mut String,
        device: &str,
        others: &[Option<&str>],
        role: Role,
        named: &mut Vec<(String, String)>,
    ) -> Option<usize> {
        let others: Vec<&str> = others.iter().flatten().copied().collect();
        let at = if call_id.is_empty() {
            let found = match role {
                Role::Starts => None,
                _ => self.latest_with(device),
            };
            match (found, role) {
                (Some(at), _) => {
                    *call_id = self.tracks[at].ids[0].clone();
                    Some(at)
                }
                (None, Role::Opens | Role::Starts) => {
                    let id = self.made_up();
                    *call_id = id.clone();
                    let mut devices = vec![device];
                    devices.extend(&others);
                    Some(self.push(id, &devices, false))
                }
                (None, _) => {
                    // Not a call the engine knows: it ignores the event.
                    *call_id = self.made_up();
                    None
                }
            }
        } else {
            let at = self.position(call_id).or_else(|| {
                // The first id the switch gives a call that only had a made-up one.
                // A new call (Originated) is not it, and neither is a late clear of
                // some other call at the device.
                if !matches!(role, Role::Opens | Role::Continues) {
                    return None;
                }
                let at = self.unnamed_at(&[device])?;
                named.push((call_id.clone(), self.tracks[at].ids[0].clone()));
                self.tracks[at].ids.push(call_id.clone());
                self.tracks[at].named = true;
                Some(at)
            });
            Some(match at {
                Some(at) => at,
                None => {
                    let mut devices = vec![device];
                    devices.extend(&others);
                    self.push(call_id.clone(), &devices, true)
                }
            })
        };
        let at = at.map(|i| self.touch(i));
        if let Some(at) = at {
            let track = &mut self.tracks[at];
            for other in &others {
                track.add(other);
            }
            track.add(device);
            match role {
                Role::Leaves => {
                    track.remove(device);
                    if track.devices.len() <= 1 {
                        self.tracks.remove(at);
                        return None;
                    }
                }
                Role::Ends => {
                    self.tracks.remove(at);
                    return None;
                }
                Role::Opens | Role::Starts | Role::Continues => {}
            }
        }
        at
    }

    /// Fold the secondary call of a transfer or conference into the track at `at`.
    fn merge(&mut self, at: Option<usize>, secondary: Option<&str>) {
        let (Some(at), Some(secondary)) = (at, secondary) else {
            return;
        };
        let Some(from) = self.position(secondary) else {
            return;
        };
        if from == at {
            return;
        }
        let primary_id = self.tracks[at].ids[0].clone();
        let Some(gone) = self.tracks.remove(from) else {
            return;
        };
        if let Some(at) = self.position(&primary_id) {
            let track = &mut self.tracks[at];
            for id in gone.ids {
                if !track.ids.contains(&id) {
                    track.ids.push(id);
                }
            }
            for device in &gone.devices {
                track.add(device);
            }
        }
    }

    fn made_up(&mut self) -> String {
        self.next += 1;
        format!("{MADE_UP}{}", self.next)
    }

    fn push(&mut self, id: String, devices: &[&str], named: bool) -> usize {
        let mut track = Track {
            ids: vec![id],
            devices: Vec::new(),
            named,
        };
        for device in devices {
            track.add(device);
        }
        self.tracks.push_back(track);
        while self.tracks.len() > CAPACITY {
            self.tracks.pop_front();
        }
        self.tracks.len() - 1
    }

    /// Mark the track at `at` most recently used; returns its new place.
    fn touch(&mut self, at: usize) -> usize {
        if let Some(track) = self.tracks.remove(at) {
            self.tracks.push_back(track);
        }
        self.tracks.len() - 1
    }

    fn position(&self, call_id: &str) -> Option<usize> {
        self.tracks
            .iter()
            .position(|t| t.ids.iter().any(|id| id == call_id))
    }

    fn latest_with(&self, device: &str) -> Option<usize> {
        self.tracks
            .iter()
            .rposition(|t| t.devices.iter().any(|d| d == device))
    }

    /// The most recent call with a made-up id only that has one of `devices`.
    fn unnamed_at(&self, devices: &[&str]) -> Option<usize> {
        self.tracks
            .iter()
            .rposition(|t| !t.named && t.devices.iter().any(|d| devices.contains(&d.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(kind: u8, device: &str, other: &str, id: Option<&str>) -> SwitchEvent {
        let call_id = id.unwrap_or_default().to_string();
        match kind % 8 {
            0 => delivered(&call_id, device, other),
            1 => SwitchEvent::Established {
                call_id,
                device: device.into(),
                calling: Some(other.into()),
                called: None,
            },
            2 => SwitchEvent::Originated {
                call_id,
                device: device.into(),
                called: Some(other.into()),
            },
            3 => SwitchEvent::Held {
                call_id,
                device: device.into(),
            },
            4 => cleared(&call_id, device),
            5 => SwitchEvent::Failed {
                call_id,
                device: device.into(),
                cause: None,
            },
            6 => SwitchEvent::Transferred {
                call_id,
                secondary_call_id: Some(other.into()),
                device: device.into(),
                transferred_to: other.into(),
            },
            _ => SwitchEvent::Diverted {
                call_id,
                device: device.into(),
                to: other.into(),
            },
        }
    }

    proptest! {
        /// Any order of events, named or not: every event leaves with a call id,
        /// the switch's own where it gave one, else a call's it named before or a
        /// made-up one.
        #[test]
        fn every_event_gets_a_call_id(steps in proptest::collection::vec((0u8..8, 0usize..4, 0usize..4, proptest::option::of(0u8..5)), 0..60)) {
            let devices = ["1001", "1002", "+4930812447309", "8000"];
            let mut c = Correlator::default();
            for (kind, d, o, id) in steps {
                let id = id.map(|n| format!("C{n}"));
                let mut e = event(kind, devices[d], devices[o], id.as_deref());
                c.resolve(&mut e, &[]);
                let got = e.call_id().unwrap();
                match &id {
                    Some(id) => prop_assert_eq!(got, id.as_str()),
                    None => prop_assert!(is_made_up(got) || got.starts_with('C'), "{}", got),
                }
            }
        }
    }

    fn delivered(call_id: &str, device: &str, calling: &str) -> SwitchEvent {
        SwitchEvent::Delivered {
            call_id: call_id.into(),
            device: device.into(),
            calling: Some(calling.into()),
            called: Some(device.into()),
            original_called: None,
            trunk: None,
            queue: None,
            digits: None,
        }
    }

    fn cleared(call_id: &str, device: &str) -> SwitchEvent {
        SwitchEvent::ConnectionCleared {
            call_id: call_id.into(),
            device: device.into(),
            cause: None,
        }
    }

    #[test]
    fn an_unnamed_call_keeps_one_made_up_id_until_it_ends() {
        let mut c = Correlator::default();
        let mut ring = delivered("", "1001", "+4930812447309");
        assert!(c.resolve(&mut ring, &[]).is_empty());
        let id = ring.call_id().unwrap().to_string();
        assert!(is_made_up(&id), "{id}");
        let mut answer = SwitchEvent::Established {
            call_id: String::new(),
            device: "1001".into(),
            calling: None,
            called: None,
        };
        c.resolve(&mut answer, &[]);
        assert_eq!(answer.call_id(), Some(id.as_str()));
        // The caller hangs up: the call is over.
        let mut gone = cleared("", "+4930812447309");
        c.resolve(&mut gone, &[]);
        assert_eq!(gone.call_id(), Some(id.as_str()));
        // The next call at the device is a new one; a late clear is nobody's.
        let mut late = cleared("", "1001");
        c.resolve(&mut late, &[]);
        assert_ne!(late.call_id(), Some(id.as_str()));
        let mut next = delivered("", "1001", "+14155550123");
        c.resolve(&mut next, &[]);
        assert_ne!(next.call_id(), Some(id.as_str()));
        assert_ne!(next.call_id(), late.call_id());
    }

    #[test]
    fn the_first_call_id_names_the_made_up_call() {
        let mut c = Correlator::default();
        let mut ring = delivered("", "1001", "+4930812447309");
        c.resolve(&mut ring, &[]);
        let made_up = ring.call_id().unwrap().to_string();
        let mut hold = SwitchEvent::Held {
            call_id: "FF01".into(),
            device: "1001".into(),
        };
        assert_eq!(
            c.resolve(&mut hold, &[]),
            [("FF01".to_string(), made_up.clone())]
        );
        // A consultation call from the same device is a call of its own, and an
        // unnamed event at the consulted device belongs to it.
        let mut consult = SwitchEvent::Originated {
            call_id: "FF02".into(),
            device: "1001".into(),
            called: Some("1002".into()),
        };
        assert!(c.resolve(&mut consult, &[]).is_empty());
        let mut ring = delivered("", "1002", "1001");
        c.resolve(&mut ring, &[]);
        assert_eq!(ring.call_id(), Some("FF02"));
        // The transfer joins them under a new id; the target's later unnamed events
        // are the customer's call.
        let mut transfer = SwitchEvent::Transferred {
            call_id: "FF01".into(),
            secondary_call_id: Some("FF02".into()),
            device: "1001".into(),
            transferred_to: "1002".into(),
        };
        c.resolve(&mut transfer, &[("FF03".into(), "FF01".into())]);
        let mut hangup = cleared("", "1002");
        c.resolve(&mut hangup, &[]);
        assert_eq!(hangup.call_id(), Some(made_up.as_str()));
    }

    #[test]
    fn a_late_clear_of_another_call_does_not_name_the_current_one() {
        let mut c = Correlator::default();
        let mut ring = delivered("", "1001", "+4930812447309");
        c.resolve(&mut ring, &[]);
        let mut late = cleared("FF09", "1001");
        assert!(c.resolve(&mut late, &[]).is_empty());
        assert_eq!(late.call_id(), Some("FF09"));
        let mut answer = SwitchEvent::Established {
            call_id: String::new(),
            device: "1001".into(),
            calling: None,
            called: None,
        };
        c.resolve(&mut answer, &[]);
        assert_eq!(answer.call_id(), ring.call_id());
    }

    #[test]
    fn a_snapshot_names_made_up_calls_and_forgets_ended_ones() {
        let mut c = Correlator::default();
        let mut a = delivered("", "1001", "+4930812447309");
        c.resolve(&mut a, &[]);
        let mut b = delivered("", "1002", "+14155550123");
        c.resolve(&mut b, &[]);
        let mut snapshot = SwitchEvent::Snapshot(ctibridge_adapter::Snapshot {
            calls: vec![ctibridge_adapter::SnapshotCall {
                call_id: "77".into(),
                calling: None,
                called: None,
                queue: None,
                parties: vec![ctibridge_adapter::PartySnapshot {
                    device: "1001".into(),
                    state: ctibridge_adapter::PartyState::Connected,
                }],
            }],
            agents: Vec::new(),
        });
        let named = c.resolve(&mut snapshot, &[]);
        assert_eq!(
            named,
            [("77".to_string(), a.call_id().unwrap().to_string())]
        );
        // The call at 1002 ended during the outage: a new ring there is a new call.
        let mut again = delivered("", "1002", "+14155550123");
        c.resolve(&mut again, &[]);
        assert_ne!(again.call_id(), b.call_id());
    }
}
