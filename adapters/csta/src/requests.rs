//! The requests we send: one builder per CSTA service, and the translation of a
//! daemon [`Command`] into the service that carries it out.
//!
//! | Command                     | CSTA service                                   |
//! |-----------------------------|------------------------------------------------|
//! | MakeCall                    | MakeCall                                       |
//! | Answer                      | AnswerCall                                     |
//! | Hangup                      | ClearConnection                                |
//! | ForceRelease                | ClearCall                                      |
//! | Hold / Retrieve             | HoldCall / RetrieveCall                        |
//! | Transfer blind              | SingleStepTransferCall                         |
//! | Transfer consult            | ConsultationCall                               |
//! | Transfer complete           | TransferCall (held call + consultation call)   |
//! | Conference (consultation)   | ConferenceCall                                 |
//! | Conference (add a number)   | SingleStepConferenceCall, participation active |
//! | Dtmf                        | GenerateDigits                                 |
//! | AgentLogin/Logout/State     | SetAgentState                                  |
//! | Monitor silent / barge      | SingleStepConferenceCall silent / active       |
//! | RouteSelect                 | RouteSelectRequest                             |
//!
//! Whisper (coach) has no ECMA-323 service and is not offered.

use ctibridge_adapter::{
    AgentStateRequest, Command, CommandError, CommandKind, CommandOk, MonitorMode, TransferMode,
};

use crate::xml::Writer;

/// What the positive response of a request gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Yields {
    Nothing,
    /// The call the request created, in the connection element named here.
    CallIn(&'static str),
}

impl Yields {
    /// The command's answer from the positive response's `body`: the call the
    /// request created, by the id the engine knows it as.
    pub fn answer(self, body: &crate::xml::Element, ids: &crate::ids::CallIds) -> CommandOk {
        match self {
            Yields::Nothing => CommandOk::default(),
            Yields::CallIn(element) => CommandOk {
                call_id: body
                    .child(element)
                    .and_then(|c| c.find_text("callID"))
                    .map(|id| ids.engine(id).to_string()),
            },
        }
    }
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub xml: String,
    pub yields: Yields,
    /// The switch answers nothing (route dialogue messages).
    pub no_response: bool,
}

impl Request {
    fn new(xml: String) -> Request {
        Request {
            xml,
            yields: Yields::Nothing,
            no_response: false,
        }
    }

    fn yields(mut self, element: &'static str) -> Request {
        self.yields = Yields::CallIn(element);
        self
    }
}

/// The commands this adapter carries out.
pub const SUPPORTED: [CommandKind; 16] = [
    CommandKind::MakeCall,
    CommandKind::Answer,
    CommandKind::Hangup,
    CommandKind::Hold,
    CommandKind::Retrieve,
    CommandKind::TransferBlind,
    CommandKind::TransferConsult,
    CommandKind::Conference,
    CommandKind::Dtmf,
    CommandKind::AgentLogin,
    CommandKind::AgentLogout,
    CommandKind::SetAgentState,
    CommandKind::Monitor,
    CommandKind::Barge,
    CommandKind::ForceRelease,
    CommandKind::RouteSelect,
];

/// Session and monitoring requests.
pub struct Requests<'a> {
    pub namespace: &'a str,
}

impl Requests<'_> {
    fn doc(&self, name: &'static str) -> Writer {
        Writer::new(name, self.namespace)
    }

    pub fn start_session(
        &self,
        application_id: &str,
        username: Option<&str>,
        password: Option<&str>,
        duration_s: u32,
    ) -> String {
        let mut w = self
            .doc("StartApplicationSession")
            .open("applicationInfo")
            .text("applicationID", application_id);
        if username.is_some() {
            w = w
                .open("applicationSpecificInfo")
                .open("sessionLoginInfo")
                .text_opt("userName", username)
                .text_opt("password", password)
                .close()
                .close();
        }
        w.close()
            .open("requestedProtocolVersions")
            .text("protocolVersion", self.namespace)
            .close()
            .text("requestedSessionDuration", &duration_s.to_string())
            .finish()
    }

    pub fn reset_session_timer(&self, session_id: &str, duration_s: u32) -> String {
        self.doc("ResetApplicationSessionTimer")
            .text("sessionID", session_id)
            .text("requestedSessionDuration", &duration_s.to_string())
            .finish()
    }

    pub fn system_status(&self) -> String {
        self.doc("SystemStatus")
            .text("systemStatus", "normal")
            .finish()
    }

    pub fn system_status_response(&self) -> String {
        self.doc("SystemStatusResponse").finish()
    }

    /// Our end of the application session (on a BER link: the RLRQ).
    pub fn stop_session(&self, session_id: &str) -> String {
        self.doc("StopApplicationSession")
            .text("sessionID", session_id)
            .open("sessionEndReason")
            .text("definedEndReason", "normal")
            .close()
            .finish()
    }

    /// The answer to the switch's end of the session (on a BER link: the RLRE).
    pub fn stop_session_response(&self) -> String {
        self.doc("StopApplicationSessionPosResponse").finish()
    }

    /// Avaya DMCC: the device id of an extension.
    pub fn get_device_id(
        &self,
        extension: &str,
        switch_name: Option<&str>,
        switch_ip: Option<&str>,
    ) -> String {
        Writer::new("GetDeviceId", crate::devices::AVAYA_NAMESPACE)
            .text_opt("switchName", switch_name)
            .text_opt("switchIPInterface", switch_ip)
            .text("extension", extension)
            .text("controllableByOtherSessions", "true")
            .finish()
    }

    pub fn monitor_start(&self, device: &str) -> String {
        self.doc("MonitorStart")
            .open("monitorObject")
            .text("deviceObject", device)
            .close()
            .finish()
    }

    pub fn snapshot_device(&self, device: &str) -> String {
        self.doc("SnapshotDevice")
            .text("snapshotObject", device)
            .finish()
    }

    /// SnapshotCall for the switch's call `call_id` (asked where SnapshotDevice
    /// did not name the caller).
    pub fn snapshot_call(&self, call_id: &str) -> String {
        self.doc("SnapshotCall")
            .open("snapshotObject")
            .text("callID", call_id)
            .close()
            .finish()
    }

    pub fn get_agent_state(&self, device: &str) -> String {
        self.doc("GetAgentState").text("device", device).finish()
    }

    pub fn route_register(&self, device: &str) -> String {
        self.doc("RouteRegister")
            .text("routeingDevice", device)
            .finish()
    }

    /// `route_id` is `register:crossref` (see `events::route_id`).
    pub fn route_select(&self, route_id: &str, destination: &str) -> Result<Request, CommandError> {
        let (register, cross_ref) = split_route_id(route_id)?;
        let mut request = Request::new(
            self.doc("RouteSelectRequest")
                .text("routeRegisterReqID", register)
                .text("routingCrossRefID", cross_ref)
                .text("routeSelected", destination)
                .finish(),
        );
        request.no_response = true;
        Ok(request)
    }

    pub fn route_end(&self, route_id: &str) -> Result<Request, CommandError> {
        let (register, cross_ref) = split_route_id(route_id)?;
        let mut request = Request::new(
            self.doc("RouteEndRequest")
                .text("routeRegisterReqID", register)
                .text("routingCrossRefID", cross_ref)
                .text("errorValue", "normal")
                .finish(),
        );
        request.no_response = true;
        Ok(request)
    }

    /// The request for a command. Call ids are the switch's (already translated).
    pub fn command(&self, command: &Command) -> Result<Request, CommandError> {
        let unsupported = || {
            Err(CommandError::NotSupported(format!(
                "{:?} is not a CSTA service",
                command.kind()
            )))
        };
        Ok(match command {
            Command::MakeCall { from, to } => Request::new(
                self.doc("MakeCall")
                    .text("callingDevice", from)
                    .text("calledDirectoryNumber", to)
                    .finish(),
            )
            .yields("callingDevice"),
            Command::Answer { call_id, device } => Request::new(
                self.doc("AnswerCall")
                    .connection("callToBeAnswered", call_id, Some(device))
                    .finish(),
            ),
            Command::Hangup { call_id, device } => Request::new(
                self.doc("ClearConnection")
                    .connection("connectionToBeCleared", call_id, Some(device))
                    .finish(),
            ),
            Command::ForceRelease { call_id } => Request::new(
                self.doc("ClearCall")
                    .connection("callToBeCleared", call_id, None)
                    .finish(),
            ),
            Command::Hold { call_id, device } => Request::new(
                self.doc("HoldCall")
                    .connection("callToBeHeld", call_id, Some(device))
                    .finish(),
            ),
            Command::Retrieve { call_id, device } => Request::new(
                self.doc("RetrieveCall")
                    .connection("callToBeRetrieved", call_id, Some(device))
                    .finish(),
            ),
            Command::Transfer {
                call_id,
                device,
                mode,
                to,
                consult_call_id,
            } => match mode {
                TransferMode::Blind => Request::new(
                    self.doc("SingleStepTransferCall")
                        .connection("activeCall", call_id, Some(device))
                        .text("transferredTo", required(to, "to")?)
                        .finish(),
                )
                .yields("transferredCall"),
                TransferMode::Consult => Request::new(
                    self.doc("ConsultationCall")
                        .connection("existingCall", call_id, Some(device))
                        .text("consultedDevice", required(to, "to")?)
                        .finish(),
                )
                .yields("initiatedCall"),
                TransferMode::Complete => Request::new(
                    self.doc("TransferCall")
                        .connection("heldCall", call_id, Some(device))
                        .connection(
                            "activeCall",
                            required(consult_call_id, "consult_call")?,
                            Some(device),
                        )
                        .finish(),
                ),
            },
            Command::Conference {
                call_id,
                device,
                to,
                consult_call_id,
            } => match (consult_call_id, to) {
                (Some(consult), _) => Request::new(
                    self.doc("ConferenceCall")
                        .connection("heldCall", call_id, Some(device))
                        .connection("activeCall", consult, Some(device))
                        .finish(),
                ),
                (None, Some(to)) => self.single_step_conference(call_id, device, to, "active"),
                (None, None) => {
                    return Err(CommandError::Rejected(
                        "conference needs `to` or a consultation call".into(),
                    ))
                }
            },
            Command::Dtmf {
                call_id,
                device,
                digits,
            } => Request::new(
                self.doc("GenerateDigits")
                    .connection("connectionToSendDigits", call_id, Some(device))
                    .text("charactersToSend", digits)
                    .finish(),
            ),
            Command::AgentLogin {
                agent,
                device,
                password,
            } => self.set_agent_state(device, "loggedOn", agent, password.as_deref(), None),
            Command::AgentLogout { agent, device } => {
                self.set_agent_state(device, "loggedOff", agent, None, None)
            }
            Command::SetAgentState {
                agent,
                device,
                state,
            } => match state {
                AgentStateRequest::Ready => {
                    self.set_agent_state(device, "ready", agent, None, None)
                }
                AgentStateRequest::NotReady { reason } => {
                    self.set_agent_state(device, "notReady", agent, None, reason.as_deref())
                }
                AgentStateRequest::Acw => {
                    self.set_agent_state(device, "workingAfterCall", agent, None, None)
                }
            },
            Command::Monitor {
                call_id,
                device,
                supervisor_device,
                mode,
            } => match mode {
                MonitorMode::Silent => {
                    self.single_step_conference(call_id, device, supervisor_device, "silent")
                }
                MonitorMode::Barge => {
                    self.single_step_conference(call_id, device, supervisor_device, "active")
                }
                MonitorMode::Whisper => return unsupported(),
            },
            Command::RouteSelect {
                route_id,
                destination,
            } => self.route_select(route_id, destination)?,
            Command::Snapshot | Command::SimulateInbound { .. } => return unsupported(),
        })
    }

    fn single_step_conference(
        &self,
        call_id: &str,
        device: &str,
        join: &str,
        participation: &str,
    ) -> Request {
        Request::new(
            self.doc("SingleStepConferenceCall")
                .connection("activeCall", call_id, Some(device))
                .text("deviceToJoin", join)
                .text("participationType", participation)
                .finish(),
        )
        .yields("conferencedCall")
    }

    fn set_agent_state(
        &self,
        device: &str,
        state: &str,
        agent: &str,
        password: Option<&str>,
        reason: Option<&str>,
    ) -> Request {
        let mut w = self
            .doc("SetAgentState")
            .text("device", device)
            .text("requestedAgentState", state)
            .text("agentID", agent)
            .text_opt("password", password);
        if let Some(reason) = reason {
            // No ECMA field carries a reason code; the switches that take one read it
            // from private data.
            w = w
                .open("privateData")
                .open("private")
                .text("reasonCode", reason)
                .close()
                .close();
        }
        Request::new(w.finish())
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, CommandError> {
    value
        .as_deref()
        .ok_or_else(|| CommandError::Rejected(format!("`{name}` is required")))
}

fn split_route_id(route_id: &str) -> Result<(&str, &str), CommandError> {
    route_id
        .split_once(':')
        .ok_or_else(|| CommandError::CallNotFound(format!("no route dialogue `{route_id}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Element;

    const NS: &str = crate::config::ED3_NAMESPACE;

    fn parsed(request: &Request) -> Element {
        Element::parse(request.xml.as_bytes()).unwrap()
    }

    #[test]
    fn commands_become_their_services() {
        let r = Requests { namespace: NS };
        let make = r
            .command(&Command::MakeCall {
                from: "1001".into(),
                to: "+14155550123".into(),
            })
            .unwrap();
        assert_eq!(make.yields, Yields::CallIn("callingDevice"));
        let root = parsed(&make);
        assert_eq!(root.name, "MakeCall");
        assert_eq!(
            root.child_text("calledDirectoryNumber"),
            Some("+14155550123")
        );

        let complete = r
            .command(&Command::Transfer {
                call_id: "101".into(),
                device: "1001".into(),
                mode: TransferMode::Complete,
                to: None,
                consult_call_id: Some("102".into()),
            })
            .unwrap();
        let root = parsed(&complete);
        assert_eq!(root.name, "TransferCall");
        assert_eq!(
            root.child("heldCall").unwrap().child_text("callID"),
            Some("101")
        );
        assert_eq!(
            root.child("activeCall").unwrap().child_text("callID"),
            Some("102")
        );

        let state = r
            .command(&Command::SetAgentState {
                agent: "5001".into(),
                device: "1001".into(),
                state: AgentStateRequest::NotReady {
                    reason: Some("lunch".into()),
                },
            })
            .unwrap();
        let root = parsed(&state);
        assert_eq!(root.child_text("requestedAgentState"), Some("notReady"));
        assert_eq!(root.find_text("reasonCode"), Some("lunch"));

        let silent = r
            .command(&Command::Monitor {
                call_id: "101".into(),
                device: "1001".into(),
                supervisor_device: "2001".into(),
                mode: MonitorMode::Silent,
            })
            .unwrap();
        assert_eq!(
            parsed(&silent).child_text("participationType"),
            Some("silent")
        );
        assert!(matches!(
            r.command(&Command::Monitor {
                call_id: "101".into(),
                device: "1001".into(),
                supervisor_device: "2001".into(),
                mode: MonitorMode::Whisper,
            }),
            Err(CommandError::NotSupported(_))
        ));
    }

    #[test]
    fn route_select_splits_the_route_id() {
        let r = Requests { namespace: NS };
        let select = r.route_select("3:77", "1002").unwrap();
        assert!(select.no_response);
        let root = parsed(&select);
        assert_eq!(root.child_text("routeRegisterReqID"), Some("3"));
        assert_eq!(root.child_text("routingCrossRefID"), Some("77"));
        assert!(r.route_select("bogus", "1002").is_err());
    }
}
