//! API methods → permission checks → switch commands.
//!
//! The engine checks what only it can check (is this call at the agent's extension,
//! is the agent logged on, does the switch support the command) and hands the command
//! to the adapter; the switch's answer comes back through `Internal::CommandDone`.
//! Nothing is retried: a command that timed out may or may not have been carried out,
//! and only the user can decide whether to try again.

use std::sync::atomic::Ordering;

use ctibridge_adapter::{
    AgentStateRequest, Command, CommandKind, MonitorMode, PartyState, TransferMode,
};

use super::request::{ApiError, ErrorCode, MethodCall, Reply, StateName};
use super::Engine;
use crate::auth::Principal;

/// Longest dialable string accepted (E.164 is 15 digits; room for prefixes and codes).
const MAX_NUMBER: usize = 32;

fn check_number(field: &str, number: &str) -> Result<(), ApiError> {
    let valid = !number.is_empty()
        && number.len() <= MAX_NUMBER
        && number
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0));
    if valid {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidDestination,
            format!("{field} `{number}` is not a dialable number (digits, * and #, an optional leading +, at most {MAX_NUMBER})"),
        ))
    }
}

impl Engine {
    pub(super) fn handle_method(&mut self, principal: &Principal, call: MethodCall, reply: Reply) {
        self.metrics.requests.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.dispatch(principal, call, reply) {
            // `dispatch` only returns the reply channel back when it failed early.
            let (error, reply) = *e;
            self.metrics.request_errors.fetch_add(1, Ordering::Relaxed);
            let _ = reply.send(Err(error));
        }
    }

    fn dispatch(
        &mut self,
        p: &Principal,
        call: MethodCall,
        reply: Reply,
    ) -> Result<(), Box<(ApiError, Reply)>> {
        macro_rules! check {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(error) => return Err(Box::new((error, reply))),
                }
            };
        }
        match call {
            MethodCall::Dial(params) => {
                let from = check!(params
                    .from
                    .clone()
                    .or_else(|| p.extensions.first().cloned())
                    .ok_or_else(|| ApiError::invalid_params(
                        "`from` is required: this token is bound to no extension"
                    )));
                check!(self.may_use(p, &from));
                check!(check_number("to", &params.to));
                let switch = check!(self.switch_of(&from, CommandKind::MakeCall));
                if let Some(reference) = &params.client_ref {
                    self.pending_dials
                        .entry(from.clone())
                        .or_default()
                        .push(reference.clone());
                }
                let command = Command::MakeCall {
                    from,
                    to: params.to,
                };
                self.send_command(&switch, command, params.client_ref, Some("call"), reply);
            }
            MethodCall::Answer(params) => {
                let t = check!(self.target(
                    p,
                    &params.call,
                    params.device.as_deref(),
                    PartyState::Alerting,
                    CommandKind::Answer
                ));
                let command = Command::Answer {
                    call_id: t.switch_call_id,
                    device: t.device,
                };
                self.send_command(&t.switch, command, None, None, reply);
            }
            MethodCall::Hangup(params) => {
                let t = check!(self.target(
                    p,
                    &params.call,
                    params.device.as_deref(),
                    PartyState::Connected,
                    CommandKind::Hangup
                ));
                let command = Command::Hangup {
                    call_id: t.switch_call_id,
                    device: t.device,
                };
                self.send_command(&t.switch, command, None, None, reply);
            }
            MethodCall::Hold(params) => {
                let t = check!(self.target(
                    p,
                    &params.call,
                    params.device.as_deref(),
                    PartyState::Connected,
                    CommandKind::Hold
                ));
                let command = Command::Hold {
                    call_id: t.switch_call_id,
                    device: t.device,
                };
                self.send_command(&t.switch, command, None, None, reply);
            }
            MethodCall::Retrieve(params) => {
                let t = check!(self.target(
                    p,
                    &params.call,
                    params.device.as_deref(),
                    PartyState::Held,
                    CommandKind::Retrieve
                ));
                let command = Command::Retrieve {
                    call_id: t.switch_call_id,
                    device: t.device,
                };
                self.send_command(&t.switch, command, None, None, reply);
            }
            MethodCall::Transfer(params) => {
                let kind = match params.mode {
                    TransferMode::Blind => CommandKind::TransferBlind,
                    _ => CommandKind::TransferConsult,
                };
                let prefer = if params.mode == TransferMode::Complete {
                    PartyState::Held
                } else {
                    PartyState::Connected
                };
                let t =
                    check!(self.target(p, &params.call, params.device.as_deref(), prefer, kind));
                let (to, consult_call_id, created) = match params.mode {
                    TransferMode::Blind | TransferMode::Consult => {
                        let to = check!(params.to.ok_or_else(|| ApiError::invalid_params(
                            "`to` is required for a blind or consult transfer"
                        )));
                        check!(check_number("to", &to));
                        let created =
                            (params.mode == TransferMode::Consult).then_some("consult_call");
                        (Some(to), None, created)
                    }
                    TransferMode::Complete => {
                        let consult =
                            check!(params.consult_call.ok_or_else(|| ApiError::invalid_params(
                                "`consult_call` is required to complete a transfer"
                            )));
                        let consult = check!(self.switch_call_id(&consult, &t.switch));
                        (None, Some(consult), None)
                    }
                };
                let command = Command::Transfer {
                    call_id: t.switch_call_id,
                    device: t.device,
                    mode: params.mode,
                    to,
                    consult_call_id,
                };
                self.send_command(&t.switch, command, None, created, reply);
            }
            MethodCall::Conference(params) => {
                let prefer = if params.consult_call.is_some() {
                    PartyState::Held
                } else {
                    PartyState::Connected
                };
                let t = check!(self.target(
                    p,
                    &params.call,
                    params.device.as_deref(),
                    prefer,
                    CommandKind::Conference
                ));
                let consult_call_id = match params.consult_call {
                    Some(consult) => Some(check!(self.switch_call_id(&consult, &t.switch))),
                    None => None,
                };
                if let Some(to) = &params.to {
                    check!(check_number("to", to));
                } else if consult_call_id.is_none() {
                    check!(Err(ApiError::invalid_params(
                        "`to` or `consult_call` is required"
                    )));
                }
                let command = Command::Conference {
                    call_id: t.switch_call_id,
                    device: t.device,
                    to: params.to,
                    consult_call_id,
                };
                self.send_command(&t.switch, command, None, None, reply);
            }
            MethodCall::Dtmf(params) => {
                let valid = !params.digits.is_empty()
                    && params.digits.len() <= 64
                    && params
                        .digits
                        .chars()
                        .all(|c| c.is_ascii_digit() || "*#ABCD".contains(c));
                if !valid {
                    check!(Err(ApiError::invalid_params(
                        "`digits` must be 1 to 64 of 0-9 * # A-D"
                    )));
                }
                let t = check!(self.target(
                    p,
                    &params.call,
                    params.device.as_deref(),
                    PartyState::Connected,
                    CommandKind::Dtmf
                ));
                let command = Command::Dtmf {
                    call_id: t.switch_call_id,
                    device: t.device,
                    digits: params.digits,
                };
                self.send_command(&t.switch, command, None, None, reply);
            }
            MethodCall::AgentLogin(params) => {
                let agent = check!(params.agent.or_else(|| p.agent.clone()).ok_or_else(|| {
                    ApiError::invalid_params("`agent` is required: this token is bound to no agent")
                }));
                check!(self.may_act_for(p, &agent));
                let device = check!(params
                    .extension
                    .or_else(|| p.extensions.first().cloned())
                    .ok_or_else(|| ApiError::invalid_params(
                        "`extension` is required: this token is bound to no extension"
                    )));
                check!(self.may_use(p, &device));
                let switch = check!(self.switch_of(&device, CommandKind::AgentLogin));
                let command = Command::AgentLogin {
                    agent,
                    device,
                    password: params.password,
                };
                self.send_command(&switch, command, None, None, reply);
            }
            MethodCall::AgentLogout(params) => {
                let (agent, device, switch) =
                    check!(self.logged_on_agent(p, params.agent, CommandKind::AgentLogout));
                self.send_command(
                    &switch,
                    Command::AgentLogout { agent, device },
                    None,
                    None,
                    reply,
                );
            }
            MethodCall::AgentSetState(params) => {
                if params.reason.is_some() && params.state != StateName::NotReady {
                    check!(Err(ApiError::invalid_params(
                        "`reason` goes with state `not_ready` only"
                    )));
                }
                let state = match params.state {
                    StateName::Ready => AgentStateRequest::Ready,
                    StateName::NotReady => {
                        if params
                            .reason
                            .as_ref()
                            .is_some_and(|r| r.is_empty() || r.len() > 64)
                        {
                            check!(Err(ApiError::invalid_params(
                                "`reason` must be 1 to 64 characters"
                            )));
                        }
                        AgentStateRequest::NotReady {
                            reason: params.reason,
                        }
                    }
                    StateName::Acw => AgentStateRequest::Acw,
                };
                let (agent, device, switch) =
                    check!(self.logged_on_agent(p, params.agent, CommandKind::SetAgentState));
                self.send_command(
                    &switch,
                    Command::SetAgentState {
                        agent,
                        device,
                        state,
                    },
                    None,
                    None,
                    reply,
                );
            }
            MethodCall::Monitor(params) | MethodCall::Barge(params) if !p.may_supervise() => {
                let _ = params;
                check!(Err(ApiError::forbidden(
                    "supervisor functions need a supervisor token"
                )));
            }
            MethodCall::Monitor(params) => {
                let mode = params.mode.unwrap_or(MonitorMode::Silent);
                if mode == MonitorMode::Barge {
                    check!(Err(ApiError::invalid_params(
                        "use supervisor.barge to join the conversation"
                    )));
                }
                self.monitor(p, params.call, params.device, mode, reply)?;
            }
            MethodCall::Barge(params) => {
                self.monitor(p, params.call, params.device, MonitorMode::Barge, reply)?;
            }
            MethodCall::ForceRelease(params) => {
                if !p.may_supervise() {
                    check!(Err(ApiError::forbidden(
                        "supervisor functions need a supervisor token"
                    )));
                }
                let call = check!(self
                    .calls
                    .get(&params.call)
                    .ok_or_else(|| ApiError::call_not_found(&params.call)));
                let (switch, call_id) = (call.switch.clone(), call.switch_ids[0].clone());
                check!(self.require(&switch, CommandKind::ForceRelease));
                self.send_command(
                    &switch,
                    Command::ForceRelease { call_id },
                    None,
                    None,
                    reply,
                );
            }
            MethodCall::SimCall(params) => {
                check!(check_number("from", &params.from));
                check!(check_number("to", &params.to));
                let switch = match params.switch {
                    Some(switch) => switch,
                    None => check!(self
                        .switches
                        .values()
                        .find(|s| s.capabilities.supports(CommandKind::SimulateInbound))
                        .map(|s| s.name.clone())
                        .ok_or_else(|| ApiError::not_supported(
                            "no simulator switch is configured"
                        ))),
                };
                check!(self.require(&switch, CommandKind::SimulateInbound));
                let command = Command::SimulateInbound {
                    from: params.from,
                    to: params.to,
                    digits: params.digits,
                };
                self.send_command(&switch, command, None, None, reply);
            }
        }
        Ok(())
    }

    fn monitor(
        &mut self,
        p: &Principal,
        call: String,
        device: Option<String>,
        mode: MonitorMode,
        reply: Reply,
    ) -> Result<(), Box<(ApiError, Reply)>> {
        let result = (|| {
            let supervisor_device = device
                .or_else(|| p.extensions.first().cloned())
                .ok_or_else(|| ApiError::invalid_params("`device` (the supervisor's phone) is required: this token is bound to no extension"))?;
            let c = self
                .calls
                .get(&call)
                .ok_or_else(|| ApiError::call_not_found(&call))?;
            let target = c
                .parties
                .iter()
                .find(|party| party.internal && party.state == PartyState::Connected)
                .ok_or_else(|| {
                    ApiError::not_supported("the call has no connected agent to monitor")
                })?;
            let command = Command::Monitor {
                call_id: c.switch_ids[0].clone(),
                device: target.device.clone(),
                supervisor_device,
                mode,
            };
            let switch = c.switch.clone();
            self.require(&switch, command.kind())?;
            Ok((switch, command))
        })();
        match result {
            Ok((switch, command)) => {
                self.send_command(&switch, command, None, None, reply);
                Ok(())
            }
            Err(e) => Err(Box::new((e, reply))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_number;

    #[test]
    fn numbers() {
        assert!(check_number("to", "+14155550123").is_ok());
        assert!(check_number("to", "*67#1001").is_ok());
        assert_eq!(
            check_number("to", "").unwrap_err().code,
            "invalid_destination"
        );
        assert!(check_number("to", "1+2").is_err());
        assert!(check_number("to", "call me").is_err());
        assert!(check_number("to", &"1".repeat(33)).is_err());
    }
}
