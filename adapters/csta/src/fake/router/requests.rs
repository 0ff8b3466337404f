//! Serving the client's requests: session management, monitors,
//! snapshots, agent and call control. Each request gets its positive
//! response or a `CSTAErrorCode`, written before the events it causes.

use super::super::message::{self, CstaError, Writer, CSTA_NS};
use super::super::model::{AgentCmd, AgentSnapshot, CallSnapshot, DeviceKind, PartyState};
use super::super::reply::Reply;
use super::super::request::{self, Conn, Request};
use super::super::wire::{InFrame, Invoke};
use super::super::xml::Element;
use super::{Router, Session, TimerMsg};
use std::time::Duration;

/// Session duration granted when the client asks for none.
const DEFAULT_SESSION_SECS: u64 = 180;

/// Any connection a device has, the active one first (as a hang-up picks).
const ANY: &[PartyState] = &[
    PartyState::Connected,
    PartyState::Initiated,
    PartyState::Alerting,
    PartyState::Failed,
    PartyState::Held,
    PartyState::Queued,
];

impl Router {
    /// A connection named by its device alone means that device's call in the
    /// first of `states` it has one in.
    fn at(&self, mut conn: Conn, states: &[PartyState]) -> Conn {
        if conn.call.is_empty() {
            if let Some(id) = self.model.call_at(&conn.device, states) {
                conn.call = id;
            }
        }
        conn
    }

    pub(super) fn on_frame(&mut self, frame: InFrame) {
        let invoke = match frame.invoke {
            Invoke::Id(n) => Some(n),
            Invoke::None => None,
            Invoke::Malformed(raw) => {
                // The length was sound, so the stream is still in step; with
                // no invoke id there is nothing to address an error to.
                tracing::warn!(?raw, "fake switch: non-numeric invoke id, frame ignored");
                return;
            }
        };
        tracing::debug!(
            ?invoke,
            xml = %String::from_utf8_lossy(&frame.body),
            "fake switch: received"
        );
        // DMCC device ids in, extensions for the model.
        let body = match &self.cfg.avaya_switch {
            Some(switch) => String::from_utf8_lossy(&frame.body)
                .replace(&format!(":{switch}:0.0.0.0:0"), "")
                .into_bytes(),
            None => frame.body.to_vec(),
        };
        let root = match Element::parse(&body) {
            Ok(root) => root,
            Err(e) => {
                tracing::warn!(error = %e, "fake switch: unparseable document");
                if let Some(n) = invoke {
                    let xml = self.writer.error(CstaError::MALFORMED);
                    self.send(n, &xml);
                }
                return;
            }
        };
        self.received.push(root.name.clone());
        let reply_invoke = invoke.unwrap_or(0);
        let request = match request::parse(&root) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(request = %root.name, ?e, "fake switch: rejected request");
                let xml = self.writer.error(e);
                self.send(reply_invoke, &xml);
                return;
            }
        };
        let needs_session = self.cfg.credentials.is_some()
            && self.link.as_ref().is_some_and(|l| l.session.is_none())
            && !matches!(
                request,
                Request::StartSession { .. } | Request::SystemStatusResponse
            );
        let result = if needs_session {
            Err(CstaError::NO_SESSION)
        } else {
            self.dispatch(request, invoke)
        };
        match result {
            Ok(Some(reply)) => {
                let xml = xml_reply(&self.writer, reply);
                self.send(reply_invoke, &xml);
            }
            Ok(None) => {}
            Err(e) => {
                let xml = self.writer.error(e);
                self.send(reply_invoke, &xml);
            }
        }
        self.flush();
    }

    /// Serves one request; `Ok(Some(reply))` is the positive response.
    pub(super) fn dispatch(
        &mut self,
        req: Request,
        invoke: Option<u16>,
    ) -> Result<Option<Reply>, CstaError> {
        let w = self.writer.clone();
        let empty = |root: &'static str| Ok(Some(Reply::Done(root)));
        match req {
            Request::GetDeviceId { extension } => match &self.cfg.avaya_switch {
                Some(switch) if self.cfg.extensions.contains(&extension) => {
                    Ok(Some(Reply::Xml(w.csta("GetDeviceIdResponse", |x| {
                        x.leaf("device", &format!("{extension}:{switch}:0.0.0.0:0"))
                    }))))
                }
                Some(_) => Err(CstaError::Operation("invalidDeviceID")),
                None => Err(CstaError::Operation("invalidFeature")),
            },
            Request::StartSession {
                user,
                password,
                versions,
                duration,
            } => Ok(Some(Reply::Xml(
                self.start_session(user, password, &versions, duration),
            ))),
            Request::StopSession => {
                if let Some(l) = &mut self.link {
                    l.session = None;
                    l.monitors.clear();
                    l.route_regs.clear();
                }
                Ok(Some(Reply::Xml(
                    w.acse("StopApplicationSessionPosResponse", |_| {}),
                )))
            }
            Request::ResetSessionTimer {
                session_id,
                duration,
            } => Ok(self
                .reset_session(session_id.as_deref(), duration)
                .map(Reply::Xml)),
            Request::SystemStatus => empty("SystemStatusResponse"),
            Request::SystemStatusResponse => {
                if let Some(l) = &mut self.link {
                    match invoke {
                        Some(n) => l.heartbeats.retain(|h| *h != n),
                        // NUL framing: replies come in order.
                        None => {
                            l.heartbeats.pop_front();
                        }
                    }
                }
                Ok(None)
            }
            Request::MonitorStart { device } => {
                if !self.model.is_internal(&device) {
                    return Err(CstaError::Operation("invalidDeviceID"));
                }
                let Some(link) = &mut self.link else {
                    return Ok(None);
                };
                let xref = match link.monitors.iter().find(|(d, _)| *d == device) {
                    Some((_, x)) => *x,
                    None => {
                        let x = self.next_xref;
                        self.next_xref += 1;
                        link.monitors.push((device, x));
                        x
                    }
                };
                Ok(Some(Reply::MonitorStarted { xref }))
            }
            Request::MonitorStop { xref } => {
                let Some(link) = &mut self.link else {
                    return Ok(None);
                };
                let before = link.monitors.len();
                link.monitors.retain(|(_, x)| x.to_string() != xref);
                if link.monitors.len() == before {
                    return Err(CstaError::Operation("invalidCrossRefID"));
                }
                empty("MonitorStopResponse")
            }
            Request::SnapshotDevice { device } => {
                if !self.model.is_internal(&device) {
                    return Err(CstaError::Operation("invalidDeviceID"));
                }
                Ok(Some(Reply::Snapshot {
                    device,
                    calls: self.model.calls(),
                }))
            }
            Request::SnapshotCall { call } => self
                .model
                .calls()
                .into_iter()
                .find(|c| c.id == call)
                .map(|c| Some(Reply::CallSnapshot(c)))
                .ok_or(CstaError::Operation("invalidCallID")),
            Request::GetAgentState { device, agent } => {
                let agents = self.model.agents_at(&device, agent.as_deref())?;
                Ok(Some(Reply::AgentStates(agents)))
            }
            Request::SetAgentState {
                device,
                request,
                agent,
                password,
                group,
            } => {
                let cmd = AgentCmd {
                    device: &device,
                    agent: agent.as_deref(),
                    password: password.as_deref(),
                    group: group.as_deref(),
                    // Phase II's SetFeature carries no password (see fake::ber::phase2).
                    check_password: !matches!(
                        &self.cfg.encoding,
                        super::super::Encoding::Ber(o) if o.phase == super::super::CstaPhase::Two
                    ),
                };
                self.model.set_agent(cmd, &request)?;
                empty("SetAgentStateResponse")
            }
            Request::MakeCall { calling, called } => {
                let id = self.model.make_call(&calling, &called)?;
                Ok(Some(call(
                    "MakeCallResponse",
                    "callingDevice",
                    Conn::new(&id, &calling),
                )))
            }
            Request::AnswerCall(c) => {
                let c = self.at(c, &[PartyState::Alerting]);
                self.model.answer(&c)?;
                empty("AnswerCallResponse")
            }
            Request::ClearConnection(c) => {
                let c = self.at(c, ANY);
                self.model.clear_connection(&c)?;
                empty("ClearConnectionResponse")
            }
            Request::ClearCall(c) => {
                let c = self.at(c, ANY);
                self.model.clear_call(&c)?;
                empty("ClearCallResponse")
            }
            Request::HoldCall(c) => {
                let c = self.at(c, &[PartyState::Connected]);
                self.model.hold(&c)?;
                empty("HoldCallResponse")
            }
            Request::RetrieveCall(c) => {
                let c = self.at(c, &[PartyState::Held]);
                self.model.retrieve(&c)?;
                empty("RetrieveCallResponse")
            }
            Request::ConsultationCall {
                existing,
                consulted,
            } => {
                let existing = self.at(existing, &[PartyState::Connected]);
                let id = self.model.consultation(&existing, &consulted)?;
                Ok(Some(call(
                    "ConsultationCallResponse",
                    "initiatedCall",
                    Conn::new(&id, &existing.device),
                )))
            }
            Request::TransferCall { held, active } => {
                let held = self.at(held, &[PartyState::Held]);
                let active = self.at(active, &[PartyState::Connected]);
                let (id, to) = self.model.transfer(&held, &active)?;
                Ok(Some(call(
                    "TransferCallResponse",
                    "transferredCall",
                    Conn::new(&id, &to),
                )))
            }
            Request::SingleStepTransfer { active, to } => {
                let active = self.at(active, &[PartyState::Connected, PartyState::Held]);
                self.model.single_step_transfer(&active, &to)?;
                Ok(Some(call(
                    "SingleStepTransferCallResponse",
                    "transferredCall",
                    Conn::new(&active.call, &to),
                )))
            }
            Request::ConferenceCall { held, active } => {
                let held = self.at(held, &[PartyState::Held]);
                let active = self.at(active, &[PartyState::Connected]);
                let id = self.model.conference(&held, &active)?;
                Ok(Some(call(
                    "ConferenceCallResponse",
                    "conferenceCall",
                    Conn::new(&id, &held.device),
                )))
            }
            Request::SingleStepConference {
                active,
                join,
                silent,
            } => {
                let active = self.at(active, &[PartyState::Connected]);
                self.model.single_step_conference(&active, &join, silent)?;
                Ok(Some(call(
                    "SingleStepConferenceCallResponse",
                    "conferencedCall",
                    Conn::new(&active.call, &join),
                )))
            }
            Request::GenerateDigits { conn, digits } => {
                let conn = self.at(conn, &[PartyState::Connected]);
                self.model.generate_digits(&conn, &digits)?;
                empty("GenerateDigitsResponse")
            }
            Request::RouteRegister { device } => {
                if let Some(d) = &device {
                    if self.model.kind(d) != DeviceKind::RoutePoint {
                        return Err(CstaError::Operation("invalidDeviceID"));
                    }
                }
                let Some(link) = &mut self.link else {
                    return Ok(None);
                };
                let reg = self.next_reg;
                self.next_reg += 1;
                link.route_regs.push((reg, device));
                Ok(Some(Reply::RouteRegistered { reg }))
            }
            Request::RouteRegisterCancel { reg } => {
                let Some(link) = &mut self.link else {
                    return Ok(None);
                };
                let before = link.route_regs.len();
                link.route_regs.retain(|(r, _)| r.to_string() != reg);
                if link.route_regs.len() == before {
                    return Err(CstaError::Operation("invalidCrossRefID"));
                }
                Ok(Some(Reply::Xml(w.csta(
                    "RouteRegisterCancelResponse",
                    |x| {
                        x.leaf("routeRegisterReqID", &reg);
                    },
                ))))
            }
            Request::RouteSelect { xref, selected, .. } => {
                let pending = self.take_route(&xref)?;
                self.route_selected(pending, &xref, &selected);
                Ok(None)
            }
            Request::RouteEnd { xref, .. } => {
                let pending = self.take_route(&xref)?;
                let default = self.default_route(&pending.route_point);
                self.finish_route(&pending.call, &pending.route_point, &default);
                Ok(None)
            }
        }
    }

    fn start_session(
        &mut self,
        user: Option<String>,
        password: Option<String>,
        versions: &[String],
        duration: Option<u64>,
    ) -> String {
        let w = self.writer.clone();
        let neg = |error: &str| {
            w.acse("StartApplicationSessionNegResponse", |x| {
                x.elem("errorCode", |x| x.leaf("definedError", error));
            })
        };
        if !versions.is_empty() && !versions.iter().any(|v| v == CSTA_NS) {
            return neg("requestedProtocolVersionNotSupported");
        }
        if let Some((u, p)) = &self.cfg.credentials {
            if user.as_ref() != Some(u) || password.as_ref() != Some(p) {
                return neg("invalidApplicationInfo");
            }
        }
        let Some(link) = &mut self.link else {
            return neg("invalidApplicationInfo");
        };
        let generation = self.next_generation;
        self.next_generation += 1;
        let id = format!("{:016X}-{}", rand::random::<u64>(), link.id);
        let duration = duration.unwrap_or(DEFAULT_SESSION_SECS);
        link.session = Some(Session {
            id: id.clone(),
            generation,
            duration,
        });
        let link_id = link.id;
        self.arm_session_timer(link_id, generation, duration);
        w.acse("StartApplicationSessionPosResponse", |x| {
            x.leaf("sessionID", &id);
            x.leaf("actualProtocolVersion", CSTA_NS);
            x.leaf("actualSessionDuration", &duration.to_string());
        })
    }

    fn reset_session(&mut self, session_id: Option<&str>, duration: Option<u64>) -> Option<String> {
        let w = self.writer.clone();
        let generation = self.next_generation;
        let link = self.link.as_mut()?;
        let Some(session) = link
            .session
            .as_mut()
            .filter(|s| Some(s.id.as_str()) == session_id)
        else {
            return Some(w.acse("ResetApplicationSessionTimerNegResponse", |x| {
                x.elem("errorCode", |x| x.leaf("definedError", "invalidSessionID"));
            }));
        };
        self.next_generation += 1;
        // A reset without a duration keeps the one in force.
        let duration = duration.unwrap_or(session.duration);
        session.generation = generation;
        session.duration = duration;
        let link_id = link.id;
        self.arm_session_timer(link_id, generation, duration);
        Some(w.acse("ResetApplicationSessionTimerPosResponse", |x| {
            x.leaf("actualSessionDuration", &duration.to_string());
        }))
    }

    /// Closes the link `duration` seconds from now unless the session is
    /// reset or replaced before (0 = never).
    fn arm_session_timer(&self, link: u64, generation: u64, duration: u64) {
        if duration > 0 {
            self.after(
                Duration::from_secs(duration),
                TimerMsg::SessionExpiry { link, generation },
            );
        }
    }
}

fn call(root: &'static str, field: &'static str, conn: Conn) -> Reply {
    Reply::Call { root, field, conn }
}

/// A positive response as ECMA-323 writes it.
fn xml_reply(w: &Writer, reply: Reply) -> String {
    match reply {
        Reply::Done(root) => w.csta(root, |_| {}),
        Reply::Call { root, field, conn } => w.csta(root, |x| message::conn(x, field, &conn)),
        Reply::MonitorStarted { xref } => w.csta("MonitorStartResponse", |x| {
            x.leaf("monitorCrossRefID", &xref.to_string());
        }),
        Reply::Snapshot { device, calls } => snapshot(w, &device, &calls),
        Reply::AgentStates(agents) => agent_state_response(w, &agents),
        Reply::CallSnapshot(call) => call_snapshot(w, &call),
        Reply::RouteRegistered { reg } => w.csta("RouteRegisterResponse", |x| {
            x.leaf("routeRegisterReqID", &reg.to_string());
        }),
        Reply::Xml(xml) => xml,
    }
}

/// ECMA-323 SnapshotCallResponse: each party with its connection and state, then
/// the caller and the number called.
fn call_snapshot(w: &Writer, call: &CallSnapshot) -> String {
    w.csta("SnapshotCallResponse", |x| {
        x.elem("crossRefIDorSnapshotData", |x| {
            x.elem("snapshotData", |x| {
                for party in &call.parties {
                    x.elem("snapshotCallResponseInfo", |x| {
                        x.elem("deviceOnCall", |x| {
                            x.leaf("deviceIdentifier", &party.device);
                        });
                        message::conn(x, "callIdentifier", &Conn::new(&call.id, &party.device));
                    });
                }
            });
        });
        x.elem("callingDevice", |x| {
            x.leaf("deviceIdentifier", &call.calling)
        });
        x.elem("calledDevice", |x| x.leaf("deviceIdentifier", &call.called));
    })
}

fn snapshot(w: &Writer, device: &str, calls: &[CallSnapshot]) -> String {
    w.csta("SnapshotDeviceResponse", |x| {
        x.elem("crossRefIDorSnapshotData", |x| {
            x.elem("snapshotData", |x| {
                for call in calls {
                    let Some(state) = call.state_of(device) else {
                        continue;
                    };
                    x.elem("snapshotDeviceResponseInfo", |x| {
                        message::conn(x, "connectionIdentifier", &Conn::new(&call.id, device));
                        x.elem("localCallState", |x| {
                            x.elem("compoundCallState", |x| {
                                x.leaf("localConnectionState", state.as_csta());
                            });
                        });
                        message::private(x, |x| {
                            x.leaf("callingDevice", &call.calling);
                            x.leaf("calledDevice", &call.called);
                            if let Some(g) = &call.acd_group {
                                x.leaf("acdGroup", g);
                            }
                        });
                    });
                }
            });
        });
    })
}

fn agent_state_response(w: &Writer, agents: &[AgentSnapshot]) -> String {
    w.csta("GetAgentStateResponse", |x| {
        x.elem("agentStateList", |x| {
            for a in agents {
                x.elem("agentStateEntry", |x| {
                    if !a.agent.is_empty() {
                        x.leaf("agentID", &a.agent);
                    }
                    x.leaf(
                        "loggedOnState",
                        if a.logged_on() { "true" } else { "false" },
                    );
                    x.elem("agentInfo", |x| {
                        x.elem("agentInfoItem", |x| x.leaf("agentState", a.state.as_csta()));
                    });
                    if let Some(r) = &a.reason {
                        message::private(x, |x| x.leaf("reasonCode", r));
                    }
                });
            }
        });
    })
}
