//! CSTA Phase II (ECMA-218, as Alcatel OmniPCX, HiPath 4000 and MD110 links
//! speak it) in BER: operation codes, error values and event causes, and
//! the shapes of identifiers, requests, results and events.
//!
//! Where Phase II differs from Phase III: a `DeviceID` is the bare CHOICE
//! (`dialingNumber [0]`, `deviceNumber [1]`) with no SEQUENCE around it; a
//! `ConnectionID` is `[APPLICATION 11] IMPLICIT SEQUENCE { call [2]
//! IMPLICIT OCTET STRING OPTIONAL, device CHOICE { staticID DeviceID,
//! dynamicID [3] IMPLICIT OCTET STRING } OPTIONAL }`; errors are tagged from
//! `[1]` (`operationalErrors [1] IMPLICIT`, `stateErrors [2] IMPLICIT`);
//! `systemStatus` is operation 52 with a bare `SystemStatus`; events are
//! `callEvent [0]` and `agentStateEvent [2]` choices, causes are optional,
//! and manufacturer data is `[APPLICATION 29] IMPLICIT SEQUENCE {
//! manufacturer OBJECT IDENTIFIER, data }` at the end of an event. Many
//! arguments are a CHOICE of the bare value and a SEQUENCE of it with
//! extensions; both are read. Phase II has no Set/Get Agent State, Generate
//! Digits or Single Step Transfer operation among those served here.

use super::super::model::{AgentEventKind, AgentState, CallEvent, CallSnapshot, Event, PartyState};
use super::super::reply::Reply;
use super::super::request::Request;
use super::super::shared::{AgentRequest, Conn, CstaError};
use super::requests::{self, CONNECTION_ID};
use super::tlv::{cons, int, tlv, BerError, Class, Reader, Tlv};
use super::values::{self, ArgError, Extras};
use super::Op;

/// Operation values of the operations the fake knows.
pub const OPS: &[(i64, Op)] = &[
    (2, Op::AnswerCall),
    (4, Op::ClearCall),
    (5, Op::ClearConnection),
    (6, Op::ConferenceCall),
    (7, Op::ConsultationCall),
    (9, Op::HoldCall),
    (10, Op::MakeCall),
    // queryDevice and setFeature: Phase II's way to ask for and set agent states.
    (12, Op::GetAgentState),
    (14, Op::RetrieveCall),
    (15, Op::SetAgentState),
    (16, Op::TransferCall),
    (21, Op::EventReport),
    (52, Op::SystemStatus),
    (71, Op::MonitorStart),
    (73, Op::MonitorStop),
    (74, Op::SnapshotDevice),
];

/// ACSE application context name: `{ iso(1) identified-organization(3)
/// icd-ecma(12) standard(0) csta(218) }`, as a HiPath 4000 client's AARQ names it
/// and that switch's AARE echoes.
pub const APPLICATION_CONTEXT: &[u32] = &[1, 3, 12, 0, 218];

const SEQUENCE: u8 = 0x30;
const CONNECTION_LIST: u8 = 0x6c;
const CALLING: u8 = 0x61;
const CALLED: u8 = 0x62;
const SUBJECT: u8 = 0x63;
const REDIRECTION: u8 = 0x64;
const PRIVATE_DATA: u8 = 0x7d;
const ENUMERATED: u8 = 0x0a;

// ----- identifiers ----------------------------------------------------------

fn device(d: &str) -> Vec<u8> {
    tlv(0x80, d.as_bytes())
}

fn named(id: u8, d: &str) -> Vec<u8> {
    if d.is_empty() {
        cons(id, &[tlv(0x87, &[])])
    } else {
        cons(id, &[device(d)])
    }
}

fn redirection(d: Option<&str>) -> Vec<u8> {
    match d {
        Some(d) => cons(REDIRECTION, &[device(d)]),
        None => cons(REDIRECTION, &[tlv(0x88, &[])]),
    }
}

fn conn(c: &Conn) -> Vec<u8> {
    cons(
        CONNECTION_ID,
        &[tlv(0x82, &values::call_octets(&c.call)), device(&c.device)],
    )
}

/// `ConnectionList ::= [APPLICATION 12] IMPLICIT SEQUENCE OF ConnectionID`:
/// the connections of the resulting call.
fn conn_list(items: &[(Conn, Option<Conn>)]) -> Vec<u8> {
    let conns: Vec<Vec<u8>> = items.iter().map(|(new, _)| conn(new)).collect();
    cons(CONNECTION_LIST, &conns)
}

/// A device from the client: the bare identifier CHOICE, or one of the
/// `[APPLICATION n]` device types around it.
fn read_device(t: &Tlv<'_>) -> Result<String, BerError> {
    if t.tag.class == Class::Application && t.tag.constructed {
        return values::identifier_text(&t.inner()?);
    }
    values::identifier_text(t)
}

fn read_conn(t: &Tlv<'_>) -> Result<Conn, BerError> {
    if !t.tag.is(CONNECTION_ID) {
        return Err(BerError::at(
            t.offset,
            format!("ConnectionID: expected [APPLICATION 11], found {}", t.tag),
        ));
    }
    let mut r = t.children()?;
    let call = match r.optional(0x82)? {
        Some(c) => values::call_from_octets(c.primitive()?),
        None => String::new(),
    };
    let device = match r.next()? {
        None => String::new(),
        Some(d) if d.tag.is(0x83) => d.text()?, // dynamicID
        Some(d) => values::identifier_text(&d)?,
    };
    r.finish()?;
    Ok(Conn::new(&call, &device))
}

// ----- requests ---------------------------------------------------------------

/// The fields of an argument that is either a bare value or a SEQUENCE
/// starting with it.
fn fields<'a>(arg: &Tlv<'a>) -> Result<Reader<'a>, BerError> {
    if arg.tag.is(SEQUENCE) {
        return arg.children();
    }
    Ok(arg.alone())
}

/// The client's argument of `op`, as a request the router serves.
pub fn request(op: Op, arg: Option<Tlv<'_>>) -> Result<Request, ArgError> {
    let Some(arg) = arg else {
        return Err(BerError::at(0, format!("{} has no argument", op.name())).into());
    };
    let mut r = fields(&arg)?;
    let r = &mut r;
    if let Some(request) = requests::common::<Ids>(op, r)? {
        return Ok(request);
    }
    Ok(match op {
        Op::ConsultationCall => Request::ConsultationCall {
            existing: read_conn(&r.required("existingCall")?)?,
            consulted: read_device(&r.required("consultedDevice")?)?,
        },
        Op::SystemStatus => {
            r.expect(ENUMERATED, "systemStatus")?.integer()?;
            Request::SystemStatus
        }
        // QueryDeviceArgs ::= SEQUENCE { device DeviceID, feature QueryDeviceFeature }:
        // only agentState (5) is served.
        Op::GetAgentState => {
            let device = read_device(&r.required("device")?)?;
            if r.expect(ENUMERATED, "feature")?.integer()? != 5 {
                return Err(ArgError::Csta(CstaError::UNKNOWN_REQUEST));
            }
            Request::GetAgentState {
                device,
                agent: None,
            }
        }
        Op::SetAgentState => set_feature(r)?,
        _ => return Err(ArgError::Csta(CstaError::UNKNOWN_REQUEST)),
    })
}

/// `SetFeatureArgs ::= SEQUENCE { device DeviceID, feature SetDeviceFeature }`, of
/// which only `requestedAgentState [3] AgentParameter` is served: `logOn [0]
/// IMPLICIT SEQUENCE { agentGroup DeviceID OPTIONAL }`, `logOff [1]` likewise,
/// `notReady [2]`, `readyInfo [3]`, `workNotReady [4]`, `workReady [5]` NULLs.
/// The argument names no agent: logging on takes the agent whose id is the
/// device's number, the other states the agent at the device, and there is no
/// password to check.
fn set_feature(r: &mut Reader<'_>) -> Result<Request, ArgError> {
    let device = read_device(&r.required("device")?)?;
    let feature = r.required("feature")?;
    if !feature.tag.is(0xa3) {
        return Err(ArgError::Csta(CstaError::UNKNOWN_REQUEST));
    }
    let parameter = feature.inner()?;
    let group = |t: &Tlv<'_>| -> Result<Option<String>, BerError> {
        let mut fields = t.children()?;
        fields.next()?.map(|g| read_device(&g)).transpose()
    };
    if parameter.tag.class != Class::Context {
        return Err(ArgError::Csta(CstaError::Operation("invalidAgentState")));
    }
    let (request, agent, group) = match parameter.tag.number {
        0 => (
            AgentRequest::LoggedOn,
            Some(device.clone()),
            group(&parameter)?,
        ),
        1 => (AgentRequest::LoggedOff, None, group(&parameter)?),
        2 => (AgentRequest::NotReady { reason: None }, None, None),
        3 | 5 => (AgentRequest::Ready, None, None),
        4 => (AgentRequest::WorkingAfterCall, None, None),
        _ => return Err(ArgError::Csta(CstaError::Operation("invalidAgentState"))),
    };
    Ok(Request::SetAgentState {
        device,
        request,
        agent,
        password: None,
        group,
    })
}

/// Phase II identifiers for the argument fields both phases share.
struct Ids;

impl requests::Identifiers for Ids {
    fn device(t: &Tlv<'_>) -> Result<String, BerError> {
        read_device(t)
    }
    fn conn(t: &Tlv<'_>) -> Result<Conn, BerError> {
        read_conn(t)
    }
}

// ----- results and errors -------------------------------------------------------

pub fn result(op: Op, reply: &Reply) -> Option<Vec<u8>> {
    Some(match (op, reply) {
        (Op::MonitorStart, Reply::MonitorStarted { xref }) => cons(
            SEQUENCE,
            &[tlv(
                values::MONITOR_CROSS_REF_ID,
                &values::xref_octets(&xref.to_string()),
            )],
        ),
        (Op::SnapshotDevice, Reply::Snapshot { device, calls }) => snapshot(device, calls),
        // MakeCall and ConsultationCall answer with the bare ConnectionID.
        (Op::MakeCall | Op::ConsultationCall, Reply::Call { conn: c, .. }) => conn(c),
        (Op::TransferCall | Op::ConferenceCall, Reply::Call { conn: c, .. }) => {
            cons(SEQUENCE, &[conn(c)])
        }
        // QueryDeviceInformation `agentState [5] IMPLICIT AgentState { logOut (0),
        // notReady (1), ready (2), workNotReady (3), workReady (4) }`.
        (Op::GetAgentState, Reply::AgentStates(agents)) => {
            let state = agents.first().map_or(0, |a| match a.state {
                AgentState::Null => 0,
                AgentState::NotReady => 1,
                AgentState::Ready | AgentState::Busy => 2,
                AgentState::WorkingAfterCall => 3,
            });
            int(0x85, state)
        }
        (_, Reply::Done(_)) => tlv(0x05, &[]),
        _ => return None,
    })
}

/// `SnapshotDeviceData ::= [APPLICATION 22] IMPLICIT SEQUENCE OF SEQUENCE {
/// callIdentifier ConnectionID, localCallState CallState }`.
fn snapshot(device: &str, calls: &[CallSnapshot]) -> Vec<u8> {
    values::snapshot_data(device, calls, conn)
}

/// `UniversalFailure` for a refused request. Phase II has no agent errors:
/// an unknown agent or group is `objectNotKnown`, a wrong password
/// `securityViolation`.
pub fn error(e: CstaError) -> Vec<u8> {
    match e {
        CstaError::Operation(name) => {
            let v = match name {
                "valueOutOfRange" => 3,
                "invalidAgentID" | "invalidAgentGroup" => 4,
                "invalidCallingDevice" => 5,
                "invalidCalledDevice" => 6,
                "invalidCallID" => 11,
                "invalidDeviceID" => 12,
                "invalidConnectionID" => 13,
                "invalidFeature" => 15,
                "invalidCrossRefID" => 17,
                "invalidMonitorObjectType" => 18,
                "invalidAgentPassword" => 19,
                _ => 1, // generic
            };
            int(0x81, v)
        }
        CstaError::State(name) => {
            let v = match name {
                "invalidObjectState" => 2, // incorrectObjectState
                _ => 1,
            };
            int(0x82, v)
        }
    }
}

// ----- events -------------------------------------------------------------------

/// `EventCause`, optional in Phase II events: `None` when Phase II has no
/// value for what the model says.
fn cause(name: &str) -> Option<Vec<u8>> {
    let v = match name {
        "busy" => 3,
        "invalidNumberFormat" => 13, // destNotObtainable
        "conference" => 17,          // keyConference
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
        _ => return None,
    };
    Some(int(ENUMERATED, v))
}

/// The `EventSpecificInfo` of an event, as reported to a monitor whose
/// device's connection is in `local` state; `None` for an event Phase II
/// does not have (agent busy).
pub fn event(ev: &Event, local: Option<PartyState>, extras: &Extras) -> Option<Vec<u8>> {
    let lci = values::local_state_element(local);
    let (category, tag, mut fields) = match ev {
        Event::Call(ev) => {
            let (tag, fields) = call_event(ev, lci);
            (0xa0, tag, fields) // callEvent [0]
        }
        Event::Agent {
            kind,
            device,
            agent,
            ..
        } => {
            let tag = match kind {
                AgentEventKind::LoggedOn => 0xa0,
                AgentEventKind::LoggedOff => 0xa1,
                AgentEventKind::NotReady => 0xa2,
                AgentEventKind::Ready => 0xa3,
                AgentEventKind::WorkingAfterCall => 0xa4, // workNotReady
                AgentEventKind::Busy => return None,
            };
            // agentStateEvent [2]; agentID [10] IMPLICIT
            (
                0xa2,
                tag,
                vec![named(SUBJECT, device), tlv(0x8a, agent.as_bytes())],
            )
        }
    };
    if let Some((oid, data)) = &extras.private {
        fields.extend(values::private_data(PRIVATE_DATA, oid, data));
    }
    Some(cons(category, &[cons(tag, &fields)]))
}

fn with_tail(mut f: Vec<Vec<u8>>, lci: Vec<u8>, k: Option<&str>) -> Vec<Vec<u8>> {
    f.push(lci);
    f.extend(k.and_then(cause));
    f
}

fn call_event(ev: &CallEvent, lci: Vec<u8>) -> (u8, Vec<Vec<u8>>) {
    match ev {
        CallEvent::ServiceInitiated { conn: c, cause: k } => {
            (0xac, with_tail(vec![conn(c)], lci, Some(k)))
        }
        CallEvent::Originated {
            conn: c,
            calling,
            called,
            cause: k,
        } => (
            0xa9,
            with_tail(
                vec![conn(c), named(SUBJECT, calling), named(CALLED, called)],
                lci,
                Some(k),
            ),
        ),
        CallEvent::Delivered {
            conn: c,
            calling,
            called,
            redirection: r,
            cause: k,
            ..
        } => (
            0xa3,
            with_tail(
                vec![
                    conn(c),
                    named(SUBJECT, &c.device),
                    named(CALLING, calling),
                    named(CALLED, called),
                    redirection(r.as_deref()),
                ],
                lci,
                Some(k),
            ),
        ),
        CallEvent::Established {
            conn: c,
            calling,
            called,
            redirection: r,
            cause: k,
        } => (
            0xa5,
            with_tail(
                vec![
                    conn(c),
                    named(SUBJECT, &c.device),
                    named(CALLING, calling),
                    named(CALLED, called),
                    redirection(r.as_deref()),
                ],
                lci,
                Some(k),
            ),
        ),
        CallEvent::Held { conn: c, cause: k } => (
            0xa7,
            with_tail(vec![conn(c), named(SUBJECT, &c.device)], lci, *k),
        ),
        CallEvent::Retrieved { conn: c } => (
            0xab,
            with_tail(vec![conn(c), named(SUBJECT, &c.device)], lci, None),
        ),
        CallEvent::Cleared { conn: c, cause: k } => (
            0xa2,
            with_tail(vec![conn(c), named(SUBJECT, &c.device)], lci, Some(k)),
        ),
        CallEvent::Failed {
            conn: c,
            called,
            cause: k,
        } => (
            0xa6,
            with_tail(
                vec![conn(c), named(SUBJECT, &c.device), named(CALLED, called)],
                lci,
                Some(k),
            ),
        ),
        CallEvent::Diverted {
            conn: c,
            to,
            cause: k,
        } => (
            0xa4,
            with_tail(
                vec![conn(c), named(SUBJECT, &c.device), named(CALLED, to)],
                lci,
                Some(k),
            ),
        ),
        CallEvent::Queued {
            conn: c,
            calling,
            called,
            number_queued,
            cause: k,
        } => (
            0xaa,
            with_tail(
                vec![
                    conn(c),
                    named(SUBJECT, &c.device),
                    named(CALLING, calling),
                    named(CALLED, called),
                    redirection(None),
                    int(0x02, *number_queued as i64),
                ],
                lci,
                Some(k),
            ),
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
            f.extend(secondary.as_ref().map(conn));
            f.extend([
                named(SUBJECT, transferring),
                named(SUBJECT, to),
                conn_list(connections),
            ]);
            (0xad, with_tail(f, lci, Some(k)))
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
            f.extend(secondary.as_ref().map(conn));
            f.extend([
                named(SUBJECT, conferencing),
                named(SUBJECT, added),
                conn_list(connections),
            ]);
            (0xa1, with_tail(f, lci, Some(k)))
        }
    }
}

/// The argument of the switch's own `systemStatus` invoke: the bare value.
pub fn system_status_argument() -> Vec<u8> {
    int(ENUMERATED, values::SYSTEM_STATUS_NORMAL)
}
