//! The tracker over the capture corpus (`tests/captures/ami`): what each real
//! sequence must make, and what it must not.

use ctibridge_adapter::SwitchEvent;

use super::*;
use crate::codec::{Item, Parser};
use crate::config::AgentConfig;

fn capture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/captures/ami/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn agents() -> Vec<AgentConfig> {
    vec![
        AgentConfig {
            agent: "1001".into(),
            extension: "1001".into(),
            interface: Some("Local/1001@from-queue/n".into()),
        },
        AgentConfig {
            agent: "1002".into(),
            extension: "1002".into(),
            interface: Some("Local/1002@from-queue/n".into()),
        },
    ]
}

fn run_with(tracker: &mut Tracker, bytes: &[u8]) -> Vec<SwitchEvent> {
    let mut parser = Parser::new(bytes.starts_with(b"Asterisk Call Manager"));
    parser.feed(bytes);
    let mut out = Vec::new();
    while let Some(item) = parser.next() {
        match item {
            Item::Message(m) => tracker.handle(&m, &mut out),
            Item::Error(e) => panic!("capture does not frame: {e}"),
            Item::Banner(_) => {}
        }
    }
    out
}

fn run(name: &str) -> Vec<SwitchEvent> {
    let devices = vec!["1001".to_string(), "1002".to_string()];
    let mut tracker = Tracker::new(&devices, &agents(), &["support".into()]);
    let out = run_with(&mut tracker, &capture(name));
    assert!(
        tracker.calls.is_empty(),
        "every call of {name} ended: {:?}",
        tracker.calls
    );
    assert!(tracker.channels.is_empty(), "every channel of {name} gone");
    out
}

fn cleared(call_id: &str, device: &str, cause: &str) -> SwitchEvent {
    SwitchEvent::ConnectionCleared {
        call_id: call_id.into(),
        device: device.into(),
        cause: Some(cause.into()),
    }
}

fn delivered(
    call_id: &str,
    device: &str,
    calling: &str,
    called: &str,
    queue: Option<&str>,
) -> SwitchEvent {
    SwitchEvent::Delivered {
        call_id: call_id.into(),
        device: device.into(),
        calling: Some(calling.into()),
        called: Some(called.into()),
        original_called: None,
        trunk: None,
        queue: queue.map(String::from),
        digits: None,
    }
}

#[test]
fn freepbx_ring_all_answered_by_one_agent_clears_the_other_as_answered_elsewhere() {
    let id = "1765432100.101";
    let events = run("queue_ringall_answered_freepbx_local.ami");
    assert_eq!(
        events,
        vec![
            SwitchEvent::Queued {
                call_id: id.into(),
                queue: "support".into(),
                calling: Some("4155550123".into()),
                called: Some("3125550188".into()),
                digits: None
            },
            delivered(id, "1001", "4155550123", "3125550188", Some("support")),
            delivered(id, "1002", "4155550123", "3125550188", Some("support")),
            SwitchEvent::Established {
                call_id: id.into(),
                device: "1001".into(),
                calling: Some("4155550123".into()),
                called: Some("3125550188".into())
            },
            cleared(id, "1002", "answered_elsewhere"),
            SwitchEvent::Held {
                call_id: id.into(),
                device: "1001".into()
            },
            SwitchEvent::Retrieved {
                call_id: id.into(),
                device: "1001".into()
            },
            cleared(id, "4155550123", "normal_clearing"),
            cleared(id, "1001", "normal_clearing"),
        ]
    );
}

#[test]
fn ring_all_abandoned_ends_as_abandoned_at_every_agent() {
    let id = "1765432200.301";
    let events = run("queue_ringall_abandoned.ami");
    assert_eq!(events.len(), 5, "{events:#?}");
    assert!(matches!(&events[0], SwitchEvent::Queued { queue, .. } if queue == "sales"));
    assert_eq!(
        events[1],
        delivered(id, "1001", "+442079460111", "08005550199", Some("sales"))
    );
    assert_eq!(
        events[2],
        delivered(id, "1002", "+442079460111", "08005550199", Some("sales"))
    );
    // The cancels and the ringing phones' hang-ups come before Asterisk says the
    // caller abandoned; neither agent may be told anything else.
    assert_eq!(
        events[3..],
        [
            cleared(id, "1001", "abandoned"),
            cleared(id, "1002", "abandoned")
        ]
    );
}

#[test]
fn a_caller_abandoning_before_any_phone_rang_leaves_the_queue_abandoned() {
    let bytes = capture("queue_ringall_abandoned.ami");
    let text = String::from_utf8(bytes).unwrap();
    // Keep only the caller's own events.
    let kept: String = text
        .split("\r\n\r\n")
        .filter(|m| {
            m.contains("Channel: PJSIP/carrier-00000102\r\n")
                && !m.contains("DialBegin")
                && !m.contains("DialEnd")
                && !m.contains("AgentCalled")
        })
        .map(|m| format!("{m}\r\n\r\n"))
        .collect();
    let mut tracker = Tracker::new(&["1001".into()], &[], &[]);
    let events = run_with(&mut tracker, kept.as_bytes());
    assert_eq!(
        events.last(),
        Some(&cleared("1765432200.301", "sales", "abandoned"))
    );
}

#[test]
fn blind_transfer_keeps_the_call_id_and_the_original_caller() {
    let id = "1765432300.11";
    let events = run("blind_transfer_chan_sip_13.ami");
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            "delivered",
            "established",
            "transferred",
            "delivered",
            "established",
            "connection_cleared",
            "connection_cleared"
        ]
    );
    assert_eq!(
        events[0],
        delivered(id, "1001", "0301234567", "4930555000", None)
    );
    assert_eq!(
        events[2],
        SwitchEvent::Transferred {
            call_id: id.into(),
            secondary_call_id: None,
            device: "1001".into(),
            transferred_to: "1002".into()
        }
    );
    assert_eq!(
        events[3],
        delivered(id, "1002", "0301234567", "4930555000", None)
    );
    assert!(events.iter().all(|e| e.call_id() == Some(id)));
}

#[test]
fn attended_transfer_merges_the_consultation_into_the_customer_call() {
    let (a, b) = ("1765432400.501", "1765432400.504");
    let events = run("attended_transfer_bridge_20.ami");
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            "delivered",
            "established",
            "held",
            "originated",
            "delivered",
            "established",
            "transferred",
            "connection_cleared",
            "connection_cleared"
        ],
        "{events:#?}"
    );
    assert_eq!(
        events[3],
        SwitchEvent::Originated {
            call_id: b.into(),
            device: "1001".into(),
            called: Some("1002".into())
        }
    );
    assert_eq!(
        events[6],
        SwitchEvent::Transferred {
            call_id: a.into(),
            secondary_call_id: Some(b.into()),
            device: "1001".into(),
            transferred_to: "1002".into()
        }
    );
    // After the transfer the target's channel (Linkedid b) is reported in call a.
    assert_eq!(events[7], cleared(a, "1002", "normal_clearing"));
    assert_eq!(events[8], cleared(a, "5125550177", "normal_clearing"));
}

#[test]
fn every_attended_transfer_dest_type_is_handled() {
    let text = String::from_utf8(capture("attended_transfer_bridge_20.ami")).unwrap();
    for (dest_type, kind) in [
        ("Bridge", "transferred"),
        ("Link", "transferred"),
        ("App", "transferred"),
        ("Threeway", "conferenced"),
        ("Fail", ""),
    ] {
        let variant = text.replace("DestType: Bridge", &format!("DestType: {dest_type}"));
        let mut tracker = Tracker::new(&["1001".into(), "1002".into()], &[], &[]);
        let events = run_with(&mut tracker, variant.as_bytes());
        let found = events.iter().find(|e| {
            matches!(
                e,
                SwitchEvent::Transferred { .. } | SwitchEvent::Conferenced { .. }
            )
        });
        match found {
            Some(e) => assert_eq!(e.kind(), kind, "{dest_type}"),
            None => assert_eq!(kind, "", "{dest_type}: {events:?}"),
        }
        assert!(tracker.calls.is_empty(), "{dest_type}: every call ended");
    }
}

#[test]
fn agents_follow_queue_member_events() {
    let mut tracker = Tracker::new(
        &["1001".into(), "1002".into()],
        &agents(),
        &["support".into()],
    );
    let events = run_with(&mut tracker, &capture("login_lists_and_agents_16.ami"));
    // Bob (1002) is not known as a member until the lists are applied: the pause
    // change alone names no member the book holds.
    assert!(events.is_empty(), "{events:?}");
    let add = "Event: QueueMemberAdded\r\nQueue: support\r\nMemberName: Bob\r\nInterface: Local/1002@from-queue/n\r\nPaused: 1\r\nPausedReason: Lunch\r\n\r\nEvent: QueueMemberPause\r\nQueue: support\r\nInterface: Local/1002@from-queue/n\r\nPaused: 0\r\n\r\nEvent: QueueMemberRemoved\r\nQueue: support\r\nInterface: Local/1002@from-queue/n\r\n\r\nEvent: QueueMemberAdded\r\nQueue: other\r\nInterface: Local/1002@from-queue/n\r\n\r\n";
    let events = run_with(&mut tracker, add.as_bytes());
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, ["logged_on", "not_ready", "ready", "logged_off"]);
    assert_eq!(
        events[1],
        SwitchEvent::NotReady {
            agent: "1002".into(),
            device: "1002".into(),
            reason: Some("Lunch".into())
        }
    );
}

#[test]
fn events_missing_their_ids_change_nothing() {
    let mut tracker = Tracker::new(&["1001".into()], &[], &[]);
    let input = "Event: DialBegin\r\nDestChannel: PJSIP/1001-00000001\r\n\r\nEvent: Hangup\r\n\r\nEvent: Newchannel\r\nChannel: PJSIP/1001-00000001\r\n\r\nEvent: AttendedTransfer\r\nResult: Success\r\n\r\nEvent: BlindTransfer\r\n\r\nEvent: QueueCallerAbandon\r\n\r\n";
    assert!(run_with(&mut tracker, input.as_bytes()).is_empty());
    assert!(tracker.calls.is_empty());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any subsequence of the corpus' messages, in any order of whole
        /// messages, never panics, and every event names a call.
        #[test]
        fn shuffled_corpus_never_panics(seed in any::<u64>(), keep in 0.3f64..1.0) {
            let mut messages = Vec::new();
            for name in ["queue_ringall_answered_freepbx_local.ami", "queue_ringall_abandoned.ami", "blind_transfer_chan_sip_13.ami", "attended_transfer_bridge_20.ami"] {
                let text = String::from_utf8(capture(name)).unwrap();
                messages.extend(text.split("\r\n\r\n").map(|m| format!("{m}\r\n\r\n")));
            }
            let mut state = seed | 1;
            let mut next = || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
            let mut picked: Vec<String> = messages.into_iter().filter(|_| (next() % 1000) as f64 / 1000.0 < keep).collect();
            for i in (1..picked.len()).rev() {
                if next() % 4 == 0 {
                    let j = (next() as usize) % (i + 1);
                    picked.swap(i, j);
                }
            }
            let mut tracker = Tracker::new(&["1001".into(), "1002".into()], &agents(), &[]);
            let mut parser = Parser::new(false);
            let mut out = Vec::new();
            for m in &picked {
                parser.feed(m.as_bytes());
                while let Some(Item::Message(m)) = parser.next() {
                    tracker.handle(&m, &mut out);
                }
            }
            for e in &out {
                prop_assert!(e.call_id().is_some_and(|c| !c.is_empty()));
            }
        }
    }
}

#[test]
fn a_member_not_answering_puts_the_caller_back_in_the_queue_before_its_leg_clears() {
    let text = String::from_utf8(capture("queue_ringall_abandoned.ami")).unwrap();
    // Both members time out (RINGNOANSWER) before the caller abandons.
    let variant = text.replace("DialStatus: CANCEL", "DialStatus: NOANSWER");
    let mut tracker = Tracker::new(&["1001".into(), "1002".into()], &[], &[]);
    let events = run_with(&mut tracker, variant.as_bytes());
    let id = "1765432200.301";
    let kinds: Vec<_> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            "queued",
            "delivered",
            "delivered",
            "connection_cleared",
            "queued",
            "connection_cleared",
            "connection_cleared"
        ],
        "{events:#?}"
    );
    assert_eq!(events[3], cleared(id, "1001", "no_answer"));
    assert_eq!(events[6], cleared(id, "sales", "abandoned"));
}
