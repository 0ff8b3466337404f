//! Link state and reconciling: `link.up`/`link.down` for everyone, and after a
//! (re)connection the switch's snapshot brought in: calls that ended during an outage
//! end here too, calls that started are adopted (and popped once), agents the switch
//! no longer lists are logged out.

use chrono::{DateTime, Utc};
use ctibridge_adapter::{AgentState, PartyState, Snapshot};
use serde_json::json;

use super::names::{EventName, Topic};
use super::Engine;
use crate::hub::Audience;

impl Engine {
    pub(super) fn link_changed(&mut self, switch: &str, up: bool, reason: Option<String>) {
        let Some(link) = self.switches.get_mut(switch) else {
            return;
        };
        link.up = up;
        let adapter = link.adapter.clone();
        self.metrics.set_link(switch, &adapter, up);
        if up {
            tracing::info!(switch, adapter, "switch link up");
        } else {
            tracing::warn!(
                switch,
                adapter,
                reason = reason.as_deref().unwrap_or(""),
                "switch link down"
            );
        }
        let name = if up {
            EventName::LinkUp
        } else {
            EventName::LinkDown
        };
        let audience = Audience {
            everyone: true,
            ..Audience::default()
        };
        let data = json!({ "switch": switch, "adapter": adapter, "reason": reason });
        self.emit(
            name,
            Topic::Switch(switch.to_string()),
            audience,
            data,
            Vec::new(),
        );
    }

    /// Bring the engine's picture of one switch in line with the switch's snapshot:
    /// calls that ended during an outage end here too, calls that started are adopted.
    pub(super) fn reconcile(&mut self, switch: &str, snapshot: Snapshot, now: DateTime<Utc>) {
        let mut seen = std::collections::HashSet::new();
        for sc in snapshot.calls {
            let direction =
                self.direction_from(switch, sc.calling.as_deref(), sc.called.as_deref());
            let Some((id, new)) = self.call_for(switch, &sc.call_id, direction, now) else {
                continue;
            };
            seen.insert(id.clone());
            self.fill(
                &id,
                sc.calling.clone(),
                sc.called.clone(),
                sc.queue.clone(),
                None,
            );
            let parties: Vec<(String, PartyState, bool)> = sc
                .parties
                .iter()
                .map(|p| {
                    (
                        p.device.clone(),
                        p.state,
                        self.is_internal(switch, &p.device),
                    )
                })
                .collect();
            let before = self.calls.get(&id).map(|c| c.view());
            let mut alerting = Vec::new();
            if let Some(call) = self.calls.get_mut(&id) {
                call.parties.clear();
                for (device, state, internal) in &parties {
                    call.set_party(device, *state, *internal);
                    if *state == PartyState::Alerting && *internal {
                        alerting.push(device.clone());
                    }
                }
                let connected = call
                    .parties
                    .iter()
                    .filter(|p| p.state == PartyState::Connected)
                    .count();
                if connected >= 2 && call.answered_at.is_none() {
                    call.answered_at = Some(now);
                }
                call.update_hold(now);
            }
            if new {
                self.start_lookup(&id);
            }
            for device in &alerting {
                self.offer(&id, device);
            }
            let after = self.calls.get(&id).map(|c| c.view());
            // A new call whose pop waits for its CRM look-up is announced by that pop
            // (with the match); a call.updated now would release it unmatched.
            let pop_waiting = self
                .calls
                .get(&id)
                .is_some_and(|c| !c.pops_waiting.is_empty());
            if (new && !pop_waiting) || (!new && before != after) {
                self.emit_call_event(
                    &id,
                    EventName::CallUpdated,
                    None,
                    json!({ "reconciled": true }),
                );
            }
            self.refresh_call_phones(&id);
        }
        for id in self.calls.ids_of_switch(switch) {
            if !seen.contains(&id) {
                self.end_call(&id, "cleared_during_link_outage", now);
            }
        }
        let mut listed = std::collections::HashSet::new();
        for agent in snapshot.agents {
            listed.insert(agent.agent.clone());
            self.set_agent_state(switch, &agent.agent, &agent.device, agent.state, now);
        }
        for agent in self.agents.logged_on_of_switch(switch) {
            if !listed.contains(&agent) {
                let device = self
                    .agents
                    .get(&agent)
                    .map(|a| a.device.clone())
                    .unwrap_or_default();
                self.set_agent_state(switch, &agent, &device, AgentState::LoggedOut, now);
            }
        }
    }
}
