//! The dialog state of one monitored extension, and the normalised events its
//! changes make. Sans-I/O: documents in, [`SwitchEvent`]s out.
//!
//! Rules (RFC 4235 §4 and what PBXs do):
//! - Documents of one subscription are ordered by `version`; one not newer than the
//!   last accepted is stale and ignored (it never pops a call twice). A new
//!   subscription (after a 481 or a PBX restart, whose counter starts again at 0)
//!   accepts its first document whatever its version.
//! - A `full` document replaces the picture: tracked dialogs it leaves out ended.
//!   After a resubscription that is the resync: vanished calls end, live ones keep
//!   their call id and state (no second pop), new ones are reported as new.
//! - Dialogs are tracked by their `id`, which stays put while call-id tags appear.
//!   The engine's call id is the dialog's `call-id` when the PBX gives one (so both
//!   ends of a proxied call meet in one call), otherwise `device/id/n`: Asterisk
//!   reuses the extension as the id of every call, so each call gets a new `n`.
//! - FreeSWITCH reports a held call as `early` again, and Asterisk/RFC 4235 as a
//!   target with `+sip.rendering=no`: both are Held, never a second ringing.

use std::collections::BTreeMap;

use ctibridge_adapter::{PartySnapshot, PartyState, SnapshotCall, SwitchEvent};

use crate::dialog_info::{Dialog, DialogInfo, DialogState, Participant, Role};

/// What the monitored phone is doing in one tracked dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Ringing at the phone.
    Ringing,
    /// The phone dialled out; the far end is not connected yet.
    Dialling,
    Talking,
    Held,
}

#[derive(Debug, Clone)]
struct Tracked {
    call_id: String,
    phase: Phase,
    /// The far end's number (ANI for an inbound call, the dialled number otherwise).
    remote: Option<String>,
    inbound: bool,
}

/// What became of one document.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Accepted; these events follow from it (possibly none).
    Events(Vec<SwitchEvent>),
    /// Not newer than the last accepted document: ignored.
    Stale { version: u64, last: u64 },
}

/// One extension's dialogs.
#[derive(Debug, Clone)]
pub struct Monitor {
    device: String,
    last_version: Option<u64>,
    /// A new subscription began: its first document is accepted whatever its version.
    fresh: bool,
    calls: BTreeMap<String, Tracked>,
    /// Numbers the calls of dialogs without a call-id.
    next_episode: u64,
}

impl Monitor {
    /// `episode_seed` makes made-up call ids differ between runs of the daemon
    /// (the adapter passes the start time).
    pub fn new(device: impl Into<String>, episode_seed: u64) -> Monitor {
        Monitor {
            device: device.into(),
            last_version: None,
            fresh: true,
            calls: BTreeMap::new(),
            next_episode: episode_seed,
        }
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// A new subscription was made: accept its first document as a resync.
    pub fn resubscribed(&mut self) {
        self.fresh = true;
    }

    /// Apply one document.
    pub fn apply(&mut self, info: &DialogInfo) -> Applied {
        if !self.fresh {
            if let Some(last) = self.last_version {
                if info.version <= last {
                    return Applied::Stale {
                        version: info.version,
                        last,
                    };
                }
            }
        }
        self.fresh = false;
        self.last_version = Some(info.version);
        let mut events = Vec::new();
        if info.full {
            let present: Vec<&str> = info.dialogs.iter().map(|d| d.id.as_str()).collect();
            let vanished: Vec<String> = self
                .calls
                .keys()
                .filter(|id| !present.contains(&id.as_str()))
                .cloned()
                .collect();
            for id in vanished {
                if let Some(call) = self.calls.remove(&id) {
                    events.push(self.cleared(call, None));
                }
            }
        }
        for dialog in &info.dialogs {
            self.dialog(dialog, &mut events);
        }
        Applied::Events(events)
    }

    /// The calls this extension is in now, for the adapter's snapshot.
    pub fn live_calls(&self) -> Vec<SnapshotCall> {
        self.calls
            .values()
            .map(|call| SnapshotCall {
                call_id: call.call_id.clone(),
                calling: if call.inbound {
                    call.remote.clone()
                } else {
                    Some(self.device.clone())
                },
                called: if call.inbound {
                    Some(self.device.clone())
                } else {
                    call.remote.clone()
                },
                queue: None,
                parties: vec![PartySnapshot {
                    device: self.device.clone(),
                    state: match call.phase {
                        Phase::Ringing => PartyState::Alerting,
                        Phase::Dialling => PartyState::Initiated,
                        Phase::Talking => PartyState::Connected,
                        Phase::Held => PartyState::Held,
                    },
                }],
            })
            .collect()
    }

    fn dialog(&mut self, dialog: &Dialog, events: &mut Vec<SwitchEvent>) {
        let held = dialog.local.rendering == Some(false);
        let Some(call) = self.calls.get_mut(&dialog.id) else {
            self.new_dialog(dialog, held, events);
            return;
        };
        let device = self.device.clone();
        match dialog.state {
            DialogState::Terminated => {
                if let Some(call) = self.calls.remove(&dialog.id) {
                    events.push(self.cleared(call, cause(dialog)));
                }
            }
            DialogState::Confirmed => match call.phase {
                Phase::Ringing | Phase::Dialling => {
                    call.phase = Phase::Talking;
                    let (calling, called) = ends(&device, call.inbound, call.remote.clone());
                    events.push(SwitchEvent::Established {
                        call_id: call.call_id.clone(),
                        device,
                        calling,
                        called,
                    });
                    if held {
                        call.phase = Phase::Held;
                        events.push(SwitchEvent::Held {
                            call_id: call.call_id.clone(),
                            device: self.device.clone(),
                        });
                    }
                }
                Phase::Talking if held => {
                    call.phase = Phase::Held;
                    events.push(SwitchEvent::Held {
                        call_id: call.call_id.clone(),
                        device,
                    });
                }
                Phase::Held if !held => {
                    call.phase = Phase::Talking;
                    events.push(SwitchEvent::Retrieved {
                        call_id: call.call_id.clone(),
                        device,
                    });
                }
                Phase::Talking | Phase::Held => {}
            },
            // FreeSWITCH's way of saying "held" once the call was up.
            DialogState::Trying | DialogState::Proceeding | DialogState::Early => {
                if call.phase == Phase::Talking {
                    call.phase = Phase::Held;
                    events.push(SwitchEvent::Held {
                        call_id: call.call_id.clone(),
                        device,
                    });
                }
            }
        }
    }

    fn new_dialog(&mut self, dialog: &Dialog, held: bool, events: &mut Vec<SwitchEvent>) {
        if dialog.state == DialogState::Terminated {
            return;
        }
        let call_id = match &dialog.call_id {
            Some(call_id) if !call_id.trim().is_empty() => call_id.trim().to_string(),
            _ => {
                self.next_episode += 1;
                format!("{}/{}/{}", self.device, dialog.id, self.next_episode)
            }
        };
        let remote = number(&dialog.remote);
        let device = self.device.clone();
        let inbound = match dialog.direction {
            Some(Role::Recipient) => true,
            Some(Role::Initiator) => false,
            // Without a direction, a phone in `trying` sent the INVITE itself;
            // Asterisk's `early` is its ringing state.
            None => !matches!(dialog.state, DialogState::Trying | DialogState::Confirmed),
        };
        let phase = match dialog.state {
            DialogState::Confirmed if held => Phase::Held,
            DialogState::Confirmed => Phase::Talking,
            _ if inbound => Phase::Ringing,
            _ => Phase::Dialling,
        };
        let (calling, called) = ends(&device, inbound, remote.clone());
        match phase {
            Phase::Ringing => events.push(SwitchEvent::Delivered {
                call_id: call_id.clone(),
                device,
                calling,
                called,
                original_called: None,
                trunk: None,
                queue: None,
                digits: None,
            }),
            Phase::Dialling => events.push(SwitchEvent::Originated {
                call_id: call_id.clone(),
                device,
                called,
            }),
            Phase::Talking | Phase::Held => {
                events.push(SwitchEvent::Established {
                    call_id: call_id.clone(),
                    device: device.clone(),
                    calling,
                    called,
                });
                if phase == Phase::Held {
                    events.push(SwitchEvent::Held {
                        call_id: call_id.clone(),
                        device,
                    });
                }
            }
        }
        self.calls.insert(
            dialog.id.clone(),
            Tracked {
                call_id,
                phase,
                remote,
                inbound,
            },
        );
    }

    fn cleared(&self, call: Tracked, cause: Option<String>) -> SwitchEvent {
        SwitchEvent::ConnectionCleared {
            call_id: call.call_id,
            device: self.device.clone(),
            cause,
        }
    }
}

/// calling/called of a call at `device` with the far end `remote`.
fn ends(device: &str, inbound: bool, remote: Option<String>) -> (Option<String>, Option<String>) {
    if inbound {
        (remote, Some(device.to_string()))
    } else {
        (Some(device.to_string()), remote)
    }
}

fn cause(dialog: &Dialog) -> Option<String> {
    match (&dialog.state_event, dialog.state_code) {
        (Some(event), Some(code)) => Some(format!("{event} ({code})")),
        (Some(event), None) => Some(event.clone()),
        (None, Some(code)) => Some(code.to_string()),
        (None, None) => None,
    }
}

/// The number of a participant: the user part of its identity (or target) URI,
/// `sip:+4930…@host;user=phone` → `+4930…`, `tel:+1415…;ext=1` → `+1415…`.
pub fn number(participant: &Participant) -> Option<String> {
    let uri = participant
        .identity
        .as_deref()
        .or(participant.target.as_deref())?;
    uri_user(uri)
}

/// The user part of a `sip:`/`sips:`/`tel:` URI, without parameters or password.
pub fn uri_user(uri: &str) -> Option<String> {
    let uri = uri.trim().trim_start_matches('<').trim_end_matches('>');
    let lower = uri.to_ascii_lowercase();
    let rest = if lower.starts_with("tel:") {
        let rest = &uri[4..];
        return Some(rest.split(';').next().unwrap_or(rest).to_string()).filter(|s| !s.is_empty());
    } else if lower.starts_with("sips:") {
        &uri[5..]
    } else if lower.starts_with("sip:") {
        &uri[4..]
    } else {
        return None;
    };
    let user = rest.split_once('@').map(|(user, _)| user)?;
    let user = user.split(';').next().unwrap_or(user);
    let user = user.split(':').next().unwrap_or(user);
    Some(user.to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog_info::parse;

    fn capture(name: &str) -> DialogInfo {
        let bytes = std::fs::read(format!(
            "{}/../../tests/captures/sip/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        parse(&bytes).unwrap()
    }

    fn events(applied: Applied) -> Vec<SwitchEvent> {
        match applied {
            Applied::Events(events) => events,
            stale => panic!("{stale:?}"),
        }
    }

    #[test]
    fn kamailio_ringing_answered_ended() {
        let mut m = Monitor::new("4417", 0);
        let delivered = events(m.apply(&capture("kamailio-early.xml")));
        assert_eq!(
            delivered,
            vec![SwitchEvent::Delivered {
                call_id: "c3a7e1f09b2d4411@198.51.100.20".into(),
                device: "4417".into(),
                calling: Some("+33155508214".into()),
                called: Some("4417".into()),
                original_called: None,
                trunk: None,
                queue: None,
                digits: None,
            }]
        );
        let answered = events(m.apply(&capture("kamailio-confirmed.xml")));
        assert!(
            matches!(&answered[..], [SwitchEvent::Established { call_id, device, .. }]
            if call_id == "c3a7e1f09b2d4411@198.51.100.20" && device == "4417")
        );
        let ended = events(m.apply(&capture("kamailio-terminated.xml")));
        assert_eq!(
            ended,
            vec![SwitchEvent::ConnectionCleared {
                call_id: "c3a7e1f09b2d4411@198.51.100.20".into(),
                device: "4417".into(),
                cause: Some("remote-bye".into()),
            }]
        );
        assert!(m.live_calls().is_empty());
    }

    #[test]
    fn a_stale_version_is_ignored_and_never_pops_twice() {
        let mut m = Monitor::new("4417", 0);
        events(m.apply(&capture("kamailio-confirmed.xml")));
        // version 0 arrives late, after version 1
        assert_eq!(
            m.apply(&capture("kamailio-early.xml")),
            Applied::Stale {
                version: 0,
                last: 1
            }
        );
        // the same version again (a retransmitted NOTIFY)
        assert!(matches!(
            m.apply(&capture("kamailio-confirmed.xml")),
            Applied::Stale { .. }
        ));
    }

    #[test]
    fn asterisk_calls_without_call_id_get_a_new_id_each_time() {
        let mut m = Monitor::new("2210", 100);
        let ringing = capture("asterisk-pjsip-ringing.xml");
        let first = events(m.apply(&ringing));
        let [SwitchEvent::Delivered {
            call_id: first_id,
            calling: None,
            ..
        }] = &first[..]
        else {
            panic!("{first:?}")
        };
        assert_eq!(first_id, "2210/2210/101");
        let idle = parse(b"<dialog-info version=\"8\" state=\"full\" entity=\"sip:2210@pbx.example.net\"></dialog-info>").unwrap();
        let cleared = events(m.apply(&idle));
        assert!(
            matches!(&cleared[..], [SwitchEvent::ConnectionCleared { call_id, .. }] if call_id == first_id)
        );
        let mut again = ringing.clone();
        again.version = 9;
        let second = events(m.apply(&again));
        assert!(
            matches!(&second[..], [SwitchEvent::Delivered { call_id, .. }] if call_id == "2210/2210/102")
        );
    }

    #[test]
    fn freeswitch_early_after_confirmed_is_hold_not_a_new_ring() {
        let mut m = Monitor::new("3105", 0);
        let mut doc = capture("freeswitch-early-recipient.xml");
        let first = events(m.apply(&doc));
        assert!(
            matches!(&first[..], [SwitchEvent::Delivered { calling: Some(c), .. }] if c == "+48225550173")
        );
        doc.version += 1;
        doc.dialogs[0].state = DialogState::Confirmed;
        assert!(matches!(
            &events(m.apply(&doc))[..],
            [SwitchEvent::Established { .. }]
        ));
        doc.version += 1;
        doc.dialogs[0].state = DialogState::Early;
        assert!(matches!(
            &events(m.apply(&doc))[..],
            [SwitchEvent::Held { .. }]
        ));
        let mut ended = capture("freeswitch-terminated.xml");
        ended.version = doc.version + 1;
        let ended = events(m.apply(&ended));
        assert!(matches!(
            &ended[..],
            [SwitchEvent::ConnectionCleared { .. }]
        ));
    }

    #[test]
    fn asterisk_hold_and_retrieve() {
        let mut m = Monitor::new("2210", 0);
        let mut hold = capture("asterisk-pjsip-hold.xml");
        let first = events(m.apply(&hold));
        assert!(matches!(
            &first[..],
            [SwitchEvent::Established { .. }, SwitchEvent::Held { .. }]
        ));
        hold.version += 1;
        hold.dialogs[0].local.rendering = None;
        assert!(matches!(
            &events(m.apply(&hold))[..],
            [SwitchEvent::Retrieved { .. }]
        ));
    }

    #[test]
    fn partial_documents_leave_other_dialogs_alone_and_outbound_calls_originate() {
        let mut m = Monitor::new("5120", 0);
        let out = events(m.apply(&capture("rfc4235-partial-multi.xml")));
        // za81 is an outbound call already up; zb02 ended before we knew it.
        assert!(
            matches!(&out[..], [SwitchEvent::Established { calling: Some(a), called: Some(b), .. }]
            if a == "5120" && b == "+14155550148")
        );
        let mut trying = capture("rfc4235-partial-multi.xml");
        trying.version = 6;
        trying.dialogs = vec![Dialog {
            id: "zc03".into(),
            direction: Some(Role::Initiator),
            state: DialogState::Trying,
            ..Dialog::default()
        }];
        let dialled = events(m.apply(&trying));
        assert!(matches!(&dialled[..], [SwitchEvent::Originated { .. }]));
        assert_eq!(m.live_calls().len(), 2);
    }

    #[test]
    fn resync_after_resubscribe_ends_vanished_calls_and_adopts_live_ones() {
        let mut m = Monitor::new("4417", 0);
        events(m.apply(&capture("kamailio-confirmed.xml")));
        let mut other = capture("freeswitch-early-recipient.xml");
        other.full = false;
        other.version = 2;
        events(m.apply(&other));
        assert_eq!(m.live_calls().len(), 2);
        // The PBX restarted: its counter begins at 0 again, and the full state only
        // has the Kamailio call.
        m.resubscribed();
        let mut resync = capture("kamailio-confirmed.xml");
        resync.version = 0;
        let out = events(m.apply(&resync));
        assert_eq!(
            out,
            vec![SwitchEvent::ConnectionCleared {
                call_id: "4417/6b1f0c52-93a4-4d7e-b0c1-5a2e9f3d7c11/1".into(),
                device: "4417".into(),
                cause: None,
            }],
            "the live call is adopted without a second pop"
        );
        assert_eq!(m.live_calls().len(), 1);
    }

    /// Whatever order, repetition, version or resubscription documents come in,
    /// the events tell a consistent story: a call pops at most once while it is
    /// live, and only live calls are held, retrieved or cleared.
    #[test]
    fn events_stay_consistent_under_any_document_sequence() {
        use proptest::prelude::*;
        let step = (
            0u64..6,
            0usize..5,
            any::<bool>(),
            any::<bool>(),
            0usize..3,
            any::<bool>(),
        );
        proptest!(|(steps in proptest::collection::vec(step, 1..40))| {
            let mut m = Monitor::new("1001", 0);
            let mut live = std::collections::BTreeSet::new();
            for (version, state, full, resubscribe, id, rendering) in steps {
                if resubscribe {
                    m.resubscribed();
                }
                let state = [
                    DialogState::Trying,
                    DialogState::Proceeding,
                    DialogState::Early,
                    DialogState::Confirmed,
                    DialogState::Terminated,
                ][state];
                let mut dialog = Dialog {
                    id: format!("d{id}"),
                    call_id: (id != 2).then(|| format!("c{id}@pbx")),
                    state,
                    ..Dialog::default()
                };
                dialog.local.rendering = Some(rendering);
                let info = DialogInfo {
                    version,
                    full,
                    entity: "sip:1001@pbx".into(),
                    dialogs: vec![dialog],
                };
                let Applied::Events(events) = m.apply(&info) else { continue };
                for event in events {
                    let call = event.call_id().unwrap().to_string();
                    match event {
                        SwitchEvent::Delivered { .. } | SwitchEvent::Originated { .. } => {
                            prop_assert!(live.insert(call), "popped twice while live");
                        }
                        SwitchEvent::Established { .. } => {
                            live.insert(call);
                        }
                        SwitchEvent::ConnectionCleared { .. } => {
                            prop_assert!(live.remove(&call), "cleared a call never live");
                        }
                        _ => prop_assert!(live.contains(&call), "{event:?} of a call not live"),
                    }
                }
                let tracked: std::collections::BTreeSet<String> =
                    m.live_calls().into_iter().map(|c| c.call_id).collect();
                prop_assert_eq!(&tracked, &live);
            }
        });
    }

    #[test]
    fn numbers_from_uris() {
        assert_eq!(
            uri_user("sip:+4930555@x;user=phone").as_deref(),
            Some("+4930555")
        );
        assert_eq!(uri_user("<sips:1001:secret@x>").as_deref(), Some("1001"));
        assert_eq!(
            uri_user("tel:+14155550148;ext=1").as_deref(),
            Some("+14155550148")
        );
        assert_eq!(uri_user("sip:pbx.example.net"), None);
        assert_eq!(uri_user("mailto:a@b"), None);
    }
}
