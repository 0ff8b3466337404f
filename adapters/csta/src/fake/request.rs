//! Turning a parsed document from the client into a typed request (or a
//! reply to one of the switch's own requests). Only local names are looked
//! at; missing mandatory fields become a `generic` operation error.

pub use super::shared::{AgentRequest, Conn, CstaError};
use super::xml::Element;

/// Everything the fake understands from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Avaya DMCC: the device id of an extension.
    GetDeviceId {
        extension: String,
    },
    StartSession {
        user: Option<String>,
        password: Option<String>,
        versions: Vec<String>,
        duration: Option<u64>,
    },
    StopSession,
    ResetSessionTimer {
        session_id: Option<String>,
        duration: Option<u64>,
    },
    SystemStatus,
    /// The client's answer to the switch's own `SystemStatus`.
    SystemStatusResponse,
    MonitorStart {
        device: String,
    },
    MonitorStop {
        xref: String,
    },
    SnapshotDevice {
        device: String,
    },
    /// The parties, caller and number called of one call (by the switch's id).
    SnapshotCall {
        call: String,
    },
    GetAgentState {
        device: String,
        agent: Option<String>,
    },
    SetAgentState {
        device: String,
        request: AgentRequest,
        agent: Option<String>,
        password: Option<String>,
        group: Option<String>,
    },
    MakeCall {
        calling: String,
        called: String,
    },
    AnswerCall(Conn),
    ClearConnection(Conn),
    ClearCall(Conn),
    HoldCall(Conn),
    RetrieveCall(Conn),
    ConsultationCall {
        existing: Conn,
        consulted: String,
    },
    TransferCall {
        held: Conn,
        active: Conn,
    },
    SingleStepTransfer {
        active: Conn,
        to: String,
    },
    ConferenceCall {
        held: Conn,
        active: Conn,
    },
    SingleStepConference {
        active: Conn,
        join: String,
        silent: bool,
    },
    GenerateDigits {
        conn: Conn,
        digits: String,
    },
    RouteRegister {
        device: Option<String>,
    },
    RouteRegisterCancel {
        reg: String,
    },
    RouteSelect {
        reg: Option<String>,
        xref: String,
        selected: String,
    },
    RouteEnd {
        reg: Option<String>,
        xref: String,
    },
}

fn missing(_what: &str) -> CstaError {
    CstaError::Operation("generic")
}

fn text(el: &Element, path: &[&str]) -> Result<String, CstaError> {
    el.text_at(path)
        .map(str::to_owned)
        .ok_or_else(|| missing(path.last().copied().unwrap_or_default()))
}

/// A device id that may be given bare or wrapped in `<deviceIdentifier>`.
fn device(el: &Element, name: &str) -> Result<String, CstaError> {
    let field = el.child(name).ok_or_else(|| missing(name))?;
    field
        .value()
        .or_else(|| field.text_at(&["deviceIdentifier"]))
        .map(str::to_owned)
        .ok_or_else(|| missing(name))
}

/// A connection identifier `<name><callID/><deviceID/></name>`; `deviceID`
/// may also sit inside `<staticID>`. ECMA-269 lets the call id be left out:
/// then `call` is empty and the device's call is meant.
fn conn(el: &Element, name: &str) -> Result<Conn, CstaError> {
    let field = el.child(name).ok_or_else(|| missing(name))?;
    let call = field.text_at(&["callID"]).unwrap_or("");
    let dev = field
        .text_at(&["deviceID"])
        .or_else(|| field.text_at(&["staticID", "deviceID"]))
        .ok_or_else(|| missing("deviceID"))?;
    Ok(Conn::new(call, dev))
}

fn seconds(el: &Element, name: &str) -> Option<u64> {
    el.text_at(&[name]).and_then(|s| s.parse().ok())
}

/// Parses a document's root element. `Err` carries the error to answer.
pub fn parse(root: &Element) -> Result<Request, CstaError> {
    let r = root;
    Ok(match r.name.as_str() {
        "GetDeviceId" => Request::GetDeviceId {
            extension: text(r, &["extension"])?,
        },
        "StartApplicationSession" => Request::StartSession {
            user: r
                .descendant("userName")
                .and_then(Element::value)
                .map(str::to_owned),
            password: r
                .descendant("password")
                .and_then(Element::value)
                .map(str::to_owned),
            versions: r
                .child("requestedProtocolVersions")
                .map(|v| {
                    v.children
                        .iter()
                        .filter_map(Element::value)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            duration: seconds(r, "requestedSessionDuration"),
        },
        "StopApplicationSession" => Request::StopSession,
        "ResetApplicationSessionTimer" => Request::ResetSessionTimer {
            session_id: r.text_at(&["sessionID"]).map(str::to_owned),
            duration: seconds(r, "requestedSessionDuration"),
        },
        "SystemStatus" => Request::SystemStatus,
        "SystemStatusResponse" => Request::SystemStatusResponse,
        "MonitorStart" => Request::MonitorStart {
            device: r
                .text_at(&["monitorObject", "deviceObject"])
                .map(str::to_owned)
                .ok_or_else(|| missing("deviceObject"))?,
        },
        "MonitorStop" => Request::MonitorStop {
            xref: text(r, &["monitorCrossRefID"])?,
        },
        "SnapshotDevice" => Request::SnapshotDevice {
            device: device(r, "snapshotObject")?,
        },
        "SnapshotCall" => Request::SnapshotCall {
            call: text(r, &["snapshotObject", "callID"])?,
        },
        "GetAgentState" => Request::GetAgentState {
            device: device(r, "device")?,
            agent: r.text_at(&["agentID"]).map(str::to_owned),
        },
        "SetAgentState" => Request::SetAgentState {
            device: device(r, "device")?,
            request: match r.text_at(&["requestedAgentState"]) {
                Some("loggedOn") => AgentRequest::LoggedOn,
                Some("loggedOff") => AgentRequest::LoggedOff,
                Some("notReady") => AgentRequest::NotReady {
                    reason: r
                        .descendant("reasonCode")
                        .and_then(Element::value)
                        .map(str::to_owned),
                },
                Some("ready") => AgentRequest::Ready,
                Some("workingAfterCall") => AgentRequest::WorkingAfterCall,
                Some(_) => return Err(CstaError::Operation("invalidAgentState")),
                None => return Err(missing("requestedAgentState")),
            },
            agent: r.text_at(&["agentID"]).map(str::to_owned),
            password: r.text_at(&["password"]).map(str::to_owned),
            group: r.text_at(&["acdGroup"]).map(str::to_owned),
        },
        "MakeCall" => Request::MakeCall {
            calling: device(r, "callingDevice")?,
            called: device(r, "calledDirectoryNumber")?,
        },
        "AnswerCall" => Request::AnswerCall(conn(r, "callToBeAnswered")?),
        "ClearConnection" => Request::ClearConnection(conn(r, "connectionToBeCleared")?),
        "ClearCall" => Request::ClearCall(conn(r, "callToBeCleared")?),
        "HoldCall" => Request::HoldCall(conn(r, "callToBeHeld")?),
        "RetrieveCall" => Request::RetrieveCall(conn(r, "callToBeRetrieved")?),
        "ConsultationCall" => Request::ConsultationCall {
            existing: conn(r, "existingCall")?,
            consulted: device(r, "consultedDevice")?,
        },
        "TransferCall" => Request::TransferCall {
            held: conn(r, "heldCall")?,
            active: conn(r, "activeCall")?,
        },
        "SingleStepTransferCall" => Request::SingleStepTransfer {
            active: conn(r, "activeCall")?,
            to: device(r, "transferredTo")?,
        },
        "ConferenceCall" => Request::ConferenceCall {
            held: conn(r, "heldCall")?,
            active: conn(r, "activeCall")?,
        },
        "SingleStepConferenceCall" => Request::SingleStepConference {
            active: conn(r, "activeCall")?,
            join: device(r, "deviceToJoin")?,
            silent: r.text_at(&["participationType"]) == Some("silent"),
        },
        "GenerateDigits" => Request::GenerateDigits {
            conn: conn(r, "connectionToSendDigits")?,
            digits: text(r, &["charactersToSend"])?,
        },
        "RouteRegister" => Request::RouteRegister {
            device: r
                .child("routeingDevice")
                .and_then(|d| d.value().or_else(|| d.text_at(&["deviceIdentifier"])))
                .map(str::to_owned),
        },
        "RouteRegisterCancel" => Request::RouteRegisterCancel {
            reg: text(r, &["routeRegisterReqID"])?,
        },
        "RouteSelectRequest" => Request::RouteSelect {
            reg: r.text_at(&["routeRegisterReqID"]).map(str::to_owned),
            xref: text(r, &["routingCrossRefID"])?,
            selected: device(r, "routeSelected")?,
        },
        "RouteEndRequest" => Request::RouteEnd {
            reg: r.text_at(&["routeRegisterReqID"]).map(str::to_owned),
            xref: text(r, &["routingCrossRefID"])?,
        },
        _ => return Err(CstaError::UNKNOWN_REQUEST),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(xml: &str) -> Result<Request, CstaError> {
        parse(&Element::parse(xml.as_bytes()).expect("valid xml"))
    }

    #[test]
    fn parses_connections_and_devices() {
        assert_eq!(
            req("<AnswerCall><callToBeAnswered><callID>101</callID><deviceID>1001</deviceID></callToBeAnswered></AnswerCall>"),
            Ok(Request::AnswerCall(Conn::new("101", "1001")))
        );
        assert_eq!(
            req("<MakeCall><callingDevice><deviceIdentifier>1001</deviceIdentifier></callingDevice><calledDirectoryNumber>1002</calledDirectoryNumber></MakeCall>"),
            Ok(Request::MakeCall { calling: "1001".into(), called: "1002".into() })
        );
    }

    #[test]
    fn missing_fields_and_unknown_requests() {
        assert_eq!(req("<AnswerCall/>"), Err(CstaError::Operation("generic")));
        assert_eq!(req("<Bogus/>"), Err(CstaError::UNKNOWN_REQUEST));
        assert_eq!(
            req("<SetAgentState><device>1001</device><requestedAgentState>dancing</requestedAgentState></SetAgentState>"),
            Err(CstaError::Operation("invalidAgentState"))
        );
    }

    #[test]
    fn session_start_fields() {
        let r = req("<StartApplicationSession><applicationInfo><applicationID>x</applicationID><applicationSpecificInfo><sessionLoginInfo><userName>u</userName><password>p</password></sessionLoginInfo></applicationSpecificInfo></applicationInfo><requestedProtocolVersions><protocolVersion>v</protocolVersion></requestedProtocolVersions><requestedSessionDuration>30</requestedSessionDuration></StartApplicationSession>");
        assert_eq!(
            r,
            Ok(Request::StartSession {
                user: Some("u".into()),
                password: Some("p".into()),
                versions: vec!["v".into()],
                duration: Some(30),
            })
        );
    }
}
