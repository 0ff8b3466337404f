//! Agent and phone state: the switch's agent states (with the journal rows they
//! imply) and the phone state derived from the calls a device is in, published as
//! `agent.state` whenever either changes.

use chrono::{DateTime, Utc};
use ctibridge_adapter::{AgentState, PartyState};

use super::names::{EventName, Topic};
use super::states::PhoneState;
use super::views::to_data;
use super::Engine;
use crate::crm::writes::DbWrite;

impl Engine {
    pub(super) fn set_agent_state(
        &mut self,
        switch: &str,
        agent: &str,
        device: &str,
        state: AgentState,
        now: DateTime<Utc>,
    ) {
        // ACW begun while the agent is still in a call is that call's after-call work.
        if state == AgentState::Acw {
            let current = self
                .calls
                .iter()
                .find(|c| c.party(device).is_some())
                .map(|c| c.id.clone());
            if let (Some(call), Some(entry)) = (current, self.agents.get_mut(agent)) {
                entry.last_call = Some(call);
            }
        }
        let Some(change) = self.agents.set(agent, switch, device, state, now) else {
            return;
        };
        let mut writes = change.writes;
        // Clients of an agent the switch logged off by this log-on learn it too.
        if let Some(other) = change.displaced {
            self.emit_agent_state(&other, device, Vec::new());
        }
        if let Some((call_id, acw_s)) = change.acw_done {
            match self.calls.get_mut(&call_id) {
                // The call goes on (it was transferred): its row, written at its end,
                // carries the ACW.
                Some(call) => call.acw_s += acw_s,
                None => writes.push(DbWrite::CallAcw { call_id, acw_s }),
            }
        }
        let phone = self.phone_state(device);
        if let Some(entry) = self.agents.get_mut(agent) {
            entry.phone = phone;
        }
        self.emit_agent_state(agent, device, writes);
    }

    /// Publish an agent's current state (with the journal writes it implies).
    pub(super) fn emit_agent_state(&mut self, agent: &str, device: &str, writes: Vec<DbWrite>) {
        let Some(entry) = self.agents.get(agent) else {
            return;
        };
        let data = to_data(&entry.view());
        let audience = self.agent_audience(agent, device);
        self.emit(
            EventName::AgentState,
            Topic::Agent(agent.to_string()),
            audience,
            data,
            writes,
        );
    }

    /// What the phone at `device` is doing, from the calls it is in: the loudest
    /// (see [`PhoneState`]'s order).
    pub(super) fn phone_state(&self, device: &str) -> PhoneState {
        self.calls
            .iter()
            .filter_map(|call| call.party(device))
            .filter_map(|party| match party.state {
                PartyState::Connected => Some(PhoneState::Talking),
                PartyState::Held => Some(PhoneState::Held),
                PartyState::Alerting => Some(PhoneState::Ringing),
                PartyState::Initiated => Some(PhoneState::Dialing),
                PartyState::Queued => None,
            })
            .max()
            .unwrap_or(PhoneState::Idle)
    }

    /// Publish `agent.state` when the phone of the agent at `device` changed.
    pub(super) fn refresh_phone(&mut self, device: &str) {
        let Some(agent) = self.agents.agent_id_at(device).map(String::from) else {
            return;
        };
        let phone = self.phone_state(device);
        let Some(entry) = self.agents.get_mut(&agent) else {
            return;
        };
        if entry.phone == phone {
            return;
        }
        entry.phone = phone;
        self.emit_agent_state(&agent, device, Vec::new());
    }

    pub(super) fn refresh_call_phones(&mut self, id: &str) {
        let devices: Vec<String> = self
            .calls
            .get(id)
            .map(|c| c.involved.clone())
            .unwrap_or_default();
        for device in devices {
            self.refresh_phone(&device);
        }
    }
}
