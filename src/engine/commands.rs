//! Switch commands from the core's side: refused at once when the switch is unknown
//! or its link is down, else handed to the driver as an effect; and the answer when
//! it comes back (the agent state an accepted command implies, a dial's reference
//! settled, the stable id of a call the command created).

use std::sync::atomic::Ordering;

use ctibridge_adapter::{AgentState, Command, CommandOk};
use serde_json::json;

use super::effects::{AfterCommand, Effect, Implied};
use super::request::{ApiError, ErrorCode, Reply};
use super::Engine;

impl Engine {
    /// Hand a command to a switch's adapter; the answer comes back as
    /// `Internal::CommandDone` so the engine never waits. A switch that is unknown or
    /// down is answered at once.
    pub(super) fn send_command(
        &mut self,
        switch: &str,
        command: Command,
        client_ref: Option<String>,
        created: Option<&'static str>,
        reply: Reply,
    ) {
        let Some(link) = self.switches.get(switch) else {
            let _ = reply.send(Err(ApiError::new(
                ErrorCode::SwitchUnavailable,
                format!("no switch `{switch}`"),
            )));
            return;
        };
        if !link.up {
            let _ = reply.send(Err(ApiError::switch_unavailable(switch)));
            return;
        }
        let dial_from = match &command {
            Command::MakeCall { from, .. } => Some(from.clone()),
            _ => None,
        };
        let implied = Implied::of(&command);
        self.effects.push(Effect::Command {
            switch: switch.to_string(),
            command,
            then: AfterCommand::Reply {
                client_ref,
                created,
                dial_from,
                implied,
                reply,
            },
        });
    }

    /// The switch answered a client's command (or the driver gave up waiting).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn command_done(
        &mut self,
        switch: &str,
        result: Result<CommandOk, ApiError>,
        client_ref: Option<String>,
        created: Option<&'static str>,
        dial_from: Option<String>,
        implied: Option<Implied>,
        reply: Reply,
    ) {
        if let (Ok(_), Some(implied)) = (&result, implied) {
            let logged_on = self
                .agents
                .get(&implied.agent)
                .is_some_and(|a| a.state != AgentState::LoggedOut);
            if !(implied.login && logged_on) {
                self.set_agent_state(
                    switch,
                    &implied.agent,
                    &implied.device,
                    implied.state,
                    Self::now(),
                );
            }
        }
        // Whether or not the switch reported the call first, this dial's
        // reference is settled now: on the call, or on its reserved id.
        if let (Some(device), Some(reference)) = (&dial_from, &client_ref) {
            if let Some(pending) = self.pending_dials.get_mut(device) {
                if let Some(i) = pending.iter().position(|r| r == reference) {
                    pending.remove(i);
                }
                if pending.is_empty() {
                    self.pending_dials.remove(device);
                }
            }
        }
        let answer = result.map(|ok| match (created, ok.call_id) {
            (Some(field), Some(switch_id)) => {
                let id = self.calls.reserve(switch, &switch_id, client_ref.clone());
                if let Some(call) = self.calls.get_mut(&id) {
                    call.client_ref = call.client_ref.take().or(client_ref.clone());
                }
                let mut result = json!({ field: id });
                if let Some(client_ref) = client_ref {
                    result["client_ref"] = json!(client_ref);
                }
                result
            }
            _ => json!({}),
        });
        if answer.is_err() {
            self.metrics.request_errors.fetch_add(1, Ordering::Relaxed);
        }
        let _ = reply.send(answer);
    }
}
