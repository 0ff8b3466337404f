//! What an API method must pass before its command goes out: may this principal use
//! the device or act for the agent, does the switch support the command, which switch
//! and switch call id a bridge call id means, and which device of the call acts.

use ctibridge_adapter::{AgentState, CommandKind, PartyState};

use super::request::ApiError;
use super::Engine;
use crate::auth::{Principal, Role};

/// The call, switch and device a call method acts on.
pub(super) struct Target {
    pub(super) switch: String,
    pub(super) switch_call_id: String,
    pub(super) device: String,
}

impl Engine {
    pub(super) fn may_use(&self, p: &Principal, device: &str) -> Result<(), ApiError> {
        if p.may_use_device(device) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token may not act on extension {device}"
            )))
        }
    }

    pub(super) fn may_act_for(&self, p: &Principal, agent: &str) -> Result<(), ApiError> {
        if p.may_act_for_agent(agent) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token may not act for agent {agent}"
            )))
        }
    }

    /// The switch must exist and support `kind`.
    pub(super) fn require(&self, switch: &str, kind: CommandKind) -> Result<(), ApiError> {
        let link = self
            .switches
            .get(switch)
            .ok_or_else(|| ApiError::invalid_params(format!("no switch `{switch}`")))?;
        if link.capabilities.supports(kind) {
            Ok(())
        } else {
            Err(ApiError::not_supported(format!(
                "switch `{switch}` ({}) does not support {}",
                link.adapter,
                serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            )))
        }
    }

    pub(super) fn switch_of(&self, device: &str, kind: CommandKind) -> Result<String, ApiError> {
        let switch = self
            .switch_for_device(device)
            .map(|s| s.name.clone())
            .ok_or_else(|| {
                ApiError::invalid_params(format!(
                    "extension {device} is not on any configured switch"
                ))
            })?;
        self.require(&switch, kind)?;
        Ok(switch)
    }

    pub(super) fn switch_call_id(&self, call: &str, switch: &str) -> Result<String, ApiError> {
        let c = self
            .calls
            .get(call)
            .ok_or_else(|| ApiError::call_not_found(call))?;
        if c.switch != switch {
            return Err(ApiError::invalid_params(
                "the two calls are on different switches",
            ));
        }
        Ok(c.switch_ids[0].clone())
    }

    /// The device of `call` this principal acts with: the given one, else one of its
    /// own devices in the call, preferring a connection in state `prefer`.
    pub(super) fn target(
        &self,
        p: &Principal,
        call: &str,
        device: Option<&str>,
        prefer: PartyState,
        kind: CommandKind,
    ) -> Result<Target, ApiError> {
        let c = self
            .calls
            .get(call)
            .ok_or_else(|| ApiError::call_not_found(call))?;
        let device = match device {
            Some(device) => {
                self.may_use(p, device)?;
                c.party(device).ok_or_else(|| {
                    ApiError::invalid_params(format!("device {device} is not in call {call}"))
                })?;
                device.to_string()
            }
            None => {
                let mine: Vec<_> = c
                    .parties
                    .iter()
                    .filter(|party| {
                        party.internal
                            && party.state != PartyState::Queued
                            && p.may_use_device(&party.device)
                    })
                    .collect();
                let chosen = mine
                    .iter()
                    .find(|party| party.state == prefer)
                    .or(mine.first());
                match chosen {
                    Some(party) => party.device.clone(),
                    None if p.role == Role::Agent => {
                        return Err(ApiError::forbidden(format!(
                            "call {call} is not at your extension"
                        )))
                    }
                    None => {
                        return Err(ApiError::not_supported(format!(
                            "call {call} has no monitored device to act with"
                        )))
                    }
                }
            }
        };
        self.require(&c.switch, kind)?;
        Ok(Target {
            switch: c.switch.clone(),
            switch_call_id: c.switch_ids[0].clone(),
            device,
        })
    }

    /// The agent a request is about (the token's own by default), logged on.
    pub(super) fn logged_on_agent(
        &self,
        p: &Principal,
        agent: Option<String>,
        kind: CommandKind,
    ) -> Result<(String, String, String), ApiError> {
        let agent = agent.or_else(|| p.agent.clone()).ok_or_else(|| {
            ApiError::invalid_params("`agent` is required: this token is bound to no agent")
        })?;
        if p.role == Role::App || p.role == Role::Agent {
            self.may_act_for(p, &agent)?;
        }
        let entry = self
            .agents
            .get(&agent)
            .filter(|a| a.state != AgentState::LoggedOut)
            .ok_or_else(|| ApiError::not_supported(format!("agent {agent} is not logged on")))?;
        self.require(&entry.switch, kind)?;
        Ok((agent, entry.device.clone(), entry.switch.clone()))
    }
}
