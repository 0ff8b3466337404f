//! CSTA Phase III (ECMA-285) in BER: operation codes, error values and event
//! causes, and the shapes of identifiers, requests, results and events.
//!
//! ECMA-285's modules say `DEFINITIONS ::=` with no default tagging, so a
//! context tag is explicit unless the ASN.1 writes `IMPLICIT` (and always on
//! a CHOICE). A `DeviceID` is a SEQUENCE around the identifier CHOICE; a
//! `ConnectionID` is `[APPLICATION 11]` around a CHOICE whose `both`
//! alternative holds `callID [0] IMPLICIT` and `deviceID [1]`.

mod events;
mod routing;

use super::super::model::{AgentSnapshot, AgentState, CallSnapshot};
use super::super::reply::Reply;
use super::super::request::Request;
use super::super::shared::{AgentRequest, Conn, CstaError};
use super::requests::{self, CONNECTION_ID};
use super::tlv::{cons, int, tlv, BerError, Reader, Tlv};
use super::values::{self, ArgError};
use super::Op;

pub use events::event;
pub use routing::{route_end_argument, route_request_argument};

/// `CODE local:n` of every operation the fake knows.
pub const OPS: &[(i64, Op)] = &[
    (2, Op::AnswerCall),
    (4, Op::ClearCall),
    (5, Op::ClearConnection),
    (6, Op::ConferenceCall),
    (7, Op::ConsultationCall),
    (9, Op::HoldCall),
    (10, Op::MakeCall),
    (14, Op::RetrieveCall),
    (16, Op::TransferCall),
    (21, Op::EventReport),
    // ECMA-285 §18: the routing dialogue keeps Phase II's codes (31 to 35);
    // the registration is new.
    (31, Op::RouteRequest),
    (33, Op::RouteSelect),
    (35, Op::RouteEnd),
    (50, Op::SingleStepTransfer),
    (71, Op::MonitorStart),
    (73, Op::MonitorStop),
    (74, Op::SnapshotDevice),
    (75, Op::SnapshotCall),
    (211, Op::SystemStatus),
    (232, Op::GenerateDigits),
    (248, Op::RouteRegister),
    (304, Op::GetAgentState),
    (312, Op::SetAgentState),
];

/// ACSE application context name. ECMA-285 links keep ECMA-218's (`{ iso(1)
/// identified-organization(3) icd-ecma(12) standard(0) csta(218) }`): the HiPath
/// 4000 client that names it offers CSTA versions past Phase II in the same AARQ.
pub const APPLICATION_CONTEXT: &[u32] = &[1, 3, 12, 0, 218];

pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const CALLING: u8 = 0x61;
pub(super) const CALLED: u8 = 0x62;
pub(super) const SUBJECT: u8 = 0x63;
const REDIRECTION: u8 = 0x64;
pub(super) const EXTENSIONS: u8 = 0x7e;
pub(super) const ENUMERATED: u8 = 0x0a;

// ----- identifiers ----------------------------------------------------------

/// `DeviceID` with the `dialingNumber` alternative.
pub(super) fn device(d: &str) -> Vec<u8> {
    cons(SEQUENCE, &[tlv(0x80, d.as_bytes())])
}

/// A `[APPLICATION n] CHOICE { deviceIdentifier DeviceID, notKnown [7] … }`;
/// an empty number is `notKnown`.
pub(super) fn named(id: u8, d: &str) -> Vec<u8> {
    if d.is_empty() {
        cons(id, &[tlv(0x87, &[])])
    } else {
        cons(id, &[device(d)])
    }
}

/// `RedirectionDeviceID`; none is `notRequired [8]`.
pub(super) fn redirection(d: Option<&str>) -> Vec<u8> {
    match d {
        Some(d) => cons(REDIRECTION, &[device(d)]),
        None => cons(REDIRECTION, &[tlv(0x88, &[])]),
    }
}

/// The `both` alternative of a connection identifier.
pub(super) fn both(c: &Conn) -> Vec<u8> {
    cons(
        SEQUENCE,
        &[
            tlv(0x80, &values::call_octets(&c.call)),
            cons(0xa1, &[device(&c.device)]),
        ],
    )
}

pub(super) fn conn(c: &Conn) -> Vec<u8> {
    cons(CONNECTION_ID, &[both(c)])
}

/// `ConnectionList ::= SEQUENCE OF SEQUENCE { newConnection [0]
/// ConnectionID, oldConnection [1] ConnectionID, endpoint [2] CHOICE {…} }`
/// under the identifier octet `id`.
pub(super) fn conn_list(id: u8, items: &[(Conn, Option<Conn>)]) -> Vec<u8> {
    let entries: Vec<Vec<u8>> = items
        .iter()
        .map(|(new, old)| {
            let mut parts = vec![cons(0xa0, &[conn(new)])];
            if let Some(o) = old {
                parts.push(cons(0xa1, &[conn(o)]));
            }
            parts.push(cons(0xa2, &[device(&new.device)]));
            cons(SEQUENCE, &parts)
        })
        .collect();
    cons(id, &entries)
}

/// A `DeviceID` from the client.
pub(super) fn read_device(t: &Tlv<'_>) -> Result<String, BerError> {
    if !t.tag.is(SEQUENCE) {
        return Err(BerError::at(
            t.offset,
            format!("DeviceID: expected a SEQUENCE, found {}", t.tag),
        ));
    }
    let mut r = t.children()?;
    values::identifier_text(&r.required("DeviceID's deviceIdentifier")?)
}

/// The CHOICE inside a connection identifier (what `[APPLICATION 11]`, or
/// an implicit tag replacing it, holds).
fn read_conn_choice(c: &Tlv<'_>) -> Result<Conn, BerError> {
    let local = |t: &Tlv<'_>| -> Result<String, BerError> {
        let d = t.inner()?;
        if d.tag.is(0x83) {
            return d.text(); // dynamicID
        }
        read_device(&d)
    };
    if c.tag.is(0x80) {
        return Ok(Conn::new(&values::call_from_octets(c.primitive()?), ""));
    }
    if c.tag.is(0xa1) {
        return Ok(Conn::new("", &local(c)?));
    }
    if c.tag.is(SEQUENCE) {
        let mut r = c.children()?;
        let call = r.expect(0x80, "ConnectionID's callID")?;
        let dev = r.expect(0xa1, "ConnectionID's deviceID")?;
        r.finish()?;
        return Ok(Conn::new(
            &values::call_from_octets(call.primitive()?),
            &local(&dev)?,
        ));
    }
    Err(BerError::at(
        c.offset,
        format!("ConnectionID: unknown alternative {}", c.tag),
    ))
}

fn read_conn(t: &Tlv<'_>) -> Result<Conn, BerError> {
    if !t.tag.is(CONNECTION_ID) {
        return Err(BerError::at(
            t.offset,
            format!("ConnectionID: expected [APPLICATION 11], found {}", t.tag),
        ));
    }
    read_conn_choice(&t.inner()?)
}

// ----- requests ---------------------------------------------------------------

/// The client's argument of `op`, as a request the router serves.
pub fn request(op: Op, arg: Option<Tlv<'_>>) -> Result<Request, ArgError> {
    let Some(arg) = arg else {
        return Err(BerError::at(0, format!("{} has no argument", op.name())).into());
    };
    if !arg.tag.is(SEQUENCE) {
        return Err(BerError::at(
            arg.offset,
            format!(
                "{} argument: expected a SEQUENCE, found {}",
                op.name(),
                arg.tag
            ),
        )
        .into());
    }
    let mut r = arg.children()?;
    let r = &mut r;
    if let Some(request) = requests::common::<Ids>(op, r)? {
        return Ok(request);
    }
    Ok(match op {
        Op::SingleStepTransfer => Request::SingleStepTransfer {
            active: read_conn(&r.required("activeCall")?)?,
            to: read_device(&r.required("transferredTo")?)?,
        },
        Op::ConsultationCall => Request::ConsultationCall {
            // [0] IMPLICIT ConnectionID: the tag replaces [APPLICATION 11].
            existing: read_conn_choice(&r.expect(0xa0, "existingCall")?.inner()?)?,
            consulted: read_device(&r.expect(0xa1, "consultedDevice")?.inner()?)?,
        },
        Op::GenerateDigits => {
            let conn = read_conn(&r.required("connectionToSendDigits")?)?;
            r.optional(ENUMERATED)?; // digitMode
            Request::GenerateDigits {
                conn,
                digits: r.expect(0x16, "charactersToSend")?.text()?,
            }
        }
        Op::SystemStatus => {
            r.optional(0x04)?; // sysStatRegisterID
            r.expect(ENUMERATED, "systemStatus")?.integer()?;
            Request::SystemStatus
        }
        Op::GetAgentState => Request::GetAgentState {
            device: read_device(&r.required("device")?)?,
            agent: None,
        },
        // SnapshotCallArgument ::= SEQUENCE { snapshotObject ConnectionID, … }
        Op::SnapshotCall => Request::SnapshotCall {
            call: read_conn(&r.required("snapshotObject")?)?.call,
        },
        Op::SetAgentState => set_agent_state(r)?,
        Op::RouteRegister | Op::RouteSelect | Op::RouteEnd => routing::request(op, r)?,
        _ => return Err(ArgError::Csta(CstaError::UNKNOWN_REQUEST)),
    })
}

/// Phase III identifiers for the argument fields both phases share.
struct Ids;

impl requests::Identifiers for Ids {
    fn device(t: &Tlv<'_>) -> Result<String, BerError> {
        read_device(t)
    }
    fn conn(t: &Tlv<'_>) -> Result<Conn, BerError> {
        read_conn(t)
    }
}

fn set_agent_state(r: &mut Reader<'_>) -> Result<Request, ArgError> {
    let device = read_device(&r.required("device")?)?;
    let state = r.expect(ENUMERATED, "requestedAgentState")?;
    let request = match state.integer()? {
        0 => AgentRequest::LoggedOn,
        1 => AgentRequest::LoggedOff,
        2 => AgentRequest::NotReady { reason: None },
        3 => AgentRequest::Ready,
        4 => AgentRequest::WorkingAfterCall,
        _ => return Err(ArgError::Csta(CstaError::Operation("invalidAgentState"))),
    };
    let agent = r.optional(0x82)?.map(|t| t.text()).transpose()?;
    let password = r.optional(0x83)?.map(|t| t.text()).transpose()?;
    let group = match r.optional(SEQUENCE)? {
        Some(t) => Some(read_device(&t)?),
        None => None,
    };
    Ok(Request::SetAgentState {
        device,
        request,
        agent,
        password,
        group,
    })
}

// ----- results and errors -------------------------------------------------------

/// The result of `op` (what goes after the operation code in
/// `returnResult`); `None` when `reply` is not one this operation has.
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
        (Op::GetAgentState, Reply::AgentStates(agents)) => agent_states(agents),
        (Op::SnapshotCall, Reply::CallSnapshot(call)) => call_snapshot(call),
        (Op::RouteRegister, Reply::RouteRegistered { reg }) => routing::register_result(*reg),
        // SetAgentStateResult ::= SEQUENCE { pendingAgentState OPTIONAL, … }
        (Op::SetAgentState, Reply::Done(_)) => cons(SEQUENCE, &[]),
        (
            Op::MakeCall
            | Op::ConsultationCall
            | Op::TransferCall
            | Op::SingleStepTransfer
            | Op::ConferenceCall,
            Reply::Call { conn: c, .. },
        ) => cons(SEQUENCE, &[conn(c)]),
        // CHOICE { extensions CSTACommonArguments, noData NULL }
        (_, Reply::Done(_)) => tlv(0x05, &[]),
        _ => return None,
    })
}

fn snapshot(device: &str, calls: &[CallSnapshot]) -> Vec<u8> {
    // crossRefIDorSnapshotData: snapshotData
    cons(SEQUENCE, &[values::snapshot_data(device, calls, conn)])
}

/// `SnapshotCallResult ::= SEQUENCE { crossRefIDorSnapshotData CHOICE {
/// serviceCrossRefID [0], snapshotData }, mediaCallCharacteristics OPTIONAL,
/// callCharacteristics OPTIONAL, callingDevice CallingDeviceID OPTIONAL,
/// calledDevice CalledDeviceID OPTIONAL, … }`. The snapshotData goes out as a
/// SEQUENCE OF `{ deviceOnCall SubjectDeviceID, callIdentifier ConnectionID }`:
/// its own tag was not confirmed from a source, and clients of this fake read the
/// caller and the number called.
fn call_snapshot(call: &CallSnapshot) -> Vec<u8> {
    let parties: Vec<Vec<u8>> = call
        .parties
        .iter()
        .map(|p| {
            cons(
                SEQUENCE,
                &[
                    named(SUBJECT, &p.device),
                    conn(&Conn::new(&call.id, &p.device)),
                ],
            )
        })
        .collect();
    cons(
        SEQUENCE,
        &[
            cons(SEQUENCE, &parties),
            named(CALLING, &call.calling),
            named(CALLED, &call.called),
        ],
    )
}

fn agent_state_value(state: AgentState) -> i64 {
    match state {
        AgentState::NotReady => 0,
        AgentState::Null => 1,
        AgentState::Ready => 2,
        AgentState::Busy => 3,
        AgentState::WorkingAfterCall => 4,
    }
}

fn agent_states(agents: &[AgentSnapshot]) -> Vec<u8> {
    let entries: Vec<Vec<u8>> = agents
        .iter()
        .map(|a| {
            let mut parts = Vec::new();
            if !a.agent.is_empty() {
                parts.push(tlv(0x04, a.agent.as_bytes()));
            }
            parts.push(tlv(0x01, &[if a.logged_on() { 0xff } else { 0x00 }]));
            let info = cons(SEQUENCE, &[int(ENUMERATED, agent_state_value(a.state))]);
            parts.push(cons(SEQUENCE, &[info]));
            cons(SEQUENCE, &parts)
        })
        .collect();
    cons(SEQUENCE, &[cons(SEQUENCE, &entries)])
}

/// `UniversalFailure` for a refused request.
pub fn error(e: CstaError) -> Vec<u8> {
    match e {
        CstaError::Operation(name) => {
            let v = match name {
                "valueOutOfRange" => 3,
                "invalidCallingDevice" => 5,
                "invalidCalledDevice" => 6,
                "invalidCallID" => 11,
                "invalidDeviceID" => 12,
                "invalidConnectionID" => 13,
                "invalidFeature" => 15,
                "invalidCrossRefID" => 17,
                "invalidAgentGroup" => 32,
                "invalidAgentID" => 33,
                "invalidAgentPassword" => 34,
                "invalidAgentState" => 35,
                "invalidMonitorObjectType" => 83,
                _ => 1, // generic
            };
            cons(0xa0, &[int(ENUMERATED, v)])
        }
        CstaError::State(name) => {
            let v = match name {
                "invalidObjectState" => 2,
                _ => 1, // generic
            };
            cons(0xa2, &[int(ENUMERATED, v)])
        }
    }
}

/// The argument of the switch's own `systemStatus` invoke.
pub fn system_status_argument() -> Vec<u8> {
    cons(SEQUENCE, &[int(ENUMERATED, values::SYSTEM_STATUS_NORMAL)])
}
