//! Phase III events: the `EventSpecificInfo` of each call and agent event,
//! the event causes, and the `extensions` (time stamp, private data) at the
//! end of every event.

use super::super::super::model::{AgentEventKind, CallEvent, Event, PartyState};
use super::super::tlv::{cons, int, tlv};
use super::super::values::{self, Extras};
use super::{both, conn, conn_list, named, redirection};
use super::{CALLED, CALLING, ENUMERATED, EXTENSIONS, SEQUENCE, SUBJECT};

fn cause(name: &str) -> Vec<u8> {
    let v = match name {
        "busy" => 3,
        "newCall" => 22,
        "redirected" => 28,
        "transfer" => 32,
        "consultation" => 37,
        "distributed" => 38,
        "enteringDistribution" => 42,
        "makeCall" => 44,
        "normalClearing" => 48,
        "singleStepConference" => 51,
        "singleStepTransfer" => 52,
        "conference" => 63,
        "invalidNumberFormat" => 69,
        // Held and Retrieved carry no cause in the model; ECMA-285 wants
        // one, and `normal` says nothing more than "it happened".
        _ => 78,
    };
    int(ENUMERATED, v)
}

/// `CSTACommonArguments` (under `id`): the time stamp in `security`, the
/// private data as the vendor's alternative of `CSTAPrivateData`.
fn extensions(id: u8, extras: &Extras) -> Option<Vec<u8>> {
    let mut parts = Vec::new();
    if let Some(t) = &extras.timestamp {
        // security [0] IMPLICIT CSTASecurityData { timestamp GeneralizedTime }
        parts.push(cons(0xa0, &[tlv(0x18, t.as_bytes())]));
    }
    if let Some((oid, data)) = &extras.private {
        // privateData [1] IMPLICIT SEQUENCE OF CSTAPrivateData
        parts.push(cons(0xa1, &[values::private_data(SEQUENCE, oid, data)?]));
    }
    (!parts.is_empty()).then(|| cons(id, &parts))
}

/// The `EventSpecificInfo` of an event, as reported to a monitor whose
/// device's connection is in `local` state.
pub fn event(ev: &Event, local: Option<PartyState>, extras: &Extras) -> Vec<u8> {
    let lci = values::local_state_element(local);
    let mut ext_tag = EXTENSIONS;
    let (category, tag, mut fields) = match ev {
        Event::Call(ev) => {
            let (tag, fields) = call_event(ev, lci);
            if matches!(ev, CallEvent::Conferenced { .. }) {
                // ConferencedEvent has `extensions [5] IMPLICIT`.
                ext_tag = 0xa5;
            }
            (0xa0, tag, fields)
        }
        Event::Agent {
            kind,
            device,
            agent,
            ..
        } => {
            let (tag, agent_id) = match kind {
                AgentEventKind::Busy => (0xa0, 0x04),
                AgentEventKind::LoggedOn => (0xa1, 0x82),
                AgentEventKind::LoggedOff => (0xa2, 0x82),
                AgentEventKind::NotReady => (0xa3, 0x04),
                AgentEventKind::Ready => (0xa4, 0x04),
                AgentEventKind::WorkingAfterCall => (0xa5, 0x04),
            };
            let fields = vec![named(SUBJECT, device), tlv(agent_id, agent.as_bytes())];
            // logicalDeviceFeatureEvents [4]
            (0xa4, tag, fields)
        }
    };
    fields.extend(extensions(ext_tag, extras));
    cons(category, &[cons(tag, &fields)])
}

/// A call event's `CallControlEvents` tag and fields up to its cause.
fn call_event(ev: &CallEvent, lci: Vec<u8>) -> (u8, Vec<Vec<u8>>) {
    match ev {
        CallEvent::ServiceInitiated { conn: c, cause: k } => (
            0xb0,
            vec![conn(c), named(SUBJECT, &c.device), lci, cause(k)],
        ),
        CallEvent::Originated {
            conn: c,
            calling,
            called,
            cause: k,
        } => (
            0xad,
            vec![
                conn(c),
                named(SUBJECT, calling),
                named(CALLED, called),
                lci,
                cause(k),
            ],
        ),
        CallEvent::Delivered {
            conn: c,
            calling,
            called,
            redirection: r,
            cause: k,
            ..
        } => (
            0xa4,
            vec![
                conn(c),
                named(SUBJECT, &c.device),
                named(CALLING, calling),
                named(CALLED, called),
                redirection(r.as_deref()),
                lci,
                cause(k),
            ],
        ),
        CallEvent::Established {
            conn: c,
            calling,
            called,
            redirection: r,
            cause: k,
        } => (
            0xa7,
            vec![
                conn(c),
                named(SUBJECT, &c.device),
                named(CALLING, calling),
                named(CALLED, called),
                redirection(r.as_deref()),
                lci,
                cause(k),
            ],
        ),
        CallEvent::Held { conn: c, cause: k } => (
            0xa9,
            vec![
                conn(c),
                named(SUBJECT, &c.device),
                lci,
                cause(k.unwrap_or("normal")),
            ],
        ),
        CallEvent::Retrieved { conn: c } => (
            0xaf,
            vec![conn(c), named(SUBJECT, &c.device), lci, cause("normal")],
        ),
        CallEvent::Cleared { conn: c, cause: k } => (
            0xa3,
            vec![conn(c), named(SUBJECT, &c.device), lci, cause(k)],
        ),
        CallEvent::Failed {
            conn: c,
            called,
            cause: k,
        } => (
            0xa8,
            vec![
                conn(c),
                named(SUBJECT, &c.device),
                // The model does not say who called; `notKnown`.
                named(CALLING, ""),
                named(CALLED, called),
                redirection(None),
                lci,
                cause(k),
            ],
        ),
        CallEvent::Diverted {
            conn: c,
            to,
            cause: k,
        } => (
            0xa6,
            vec![
                conn(c),
                named(SUBJECT, &c.device),
                named(SUBJECT, to),
                redirection(None),
                lci,
                cause(k),
            ],
        ),
        CallEvent::Queued {
            conn: c,
            calling,
            called,
            number_queued,
            cause: k,
        } => (
            0xae,
            vec![
                conn(c),
                named(SUBJECT, &c.device),
                named(CALLING, calling),
                named(CALLED, called),
                redirection(None),
                int(0x80, *number_queued as i64),
                lci,
                cause(k),
            ],
        ),
        CallEvent::Transfered {
            primary,
            secondary,
            transferring,
            to,
            connections,
            cause: k,
        } => {
            let mut f = vec![conn(primary)];
            if let Some(s) = secondary {
                // secondaryOldCall [0] IMPLICIT ConnectionID
                f.push(cons(0xa0, &[both(s)]));
            }
            f.extend([
                named(SUBJECT, transferring),
                named(SUBJECT, to),
                conn_list(0xa1, connections),
                lci,
                cause(k),
            ]);
            (0xb1, f)
        }
        CallEvent::Conferenced {
            primary,
            secondary,
            conferencing,
            added,
            connections,
            cause: k,
        } => {
            let mut f = vec![conn(primary)];
            if let Some(s) = secondary {
                f.push(conn(s));
            }
            f.extend([
                named(SUBJECT, conferencing),
                named(SUBJECT, added),
                conn_list(SEQUENCE, connections),
                lci,
                cause(k),
            ]);
            (0xa2, f)
        }
    }
}
