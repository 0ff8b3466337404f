//! The call lifecycle: each call event of a switch updates the call's parties and
//! timings and publishes the matching `call.*` event, then refreshes the phones of
//! the agents involved. Every handler follows the same steps: find (or create) the
//! call by the switch's id, update it, publish, refresh. Events for calls that
//! already ended (the second `ConnectionCleared` of a two-party call, a late `Held`)
//! are ignored. Transfers and conferences merge the consultation call into the
//! original one.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use ctibridge_adapter::PartyState;
use serde_json::json;

use super::names::EventName;
use super::Engine;
use crate::time::seconds;

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_delivered(
        &mut self,
        switch: &str,
        switch_id: &str,
        device: &str,
        calling: Option<String>,
        called: Option<String>,
        queue: Option<String>,
        digits: Option<String>,
        now: DateTime<Utc>,
    ) {
        let direction = self.direction_from(switch, calling.as_deref(), Some(device));
        let Some((id, new)) = self.call_for(switch, switch_id, direction, now) else {
            return;
        };
        let device_internal = self.is_internal(switch, device);
        let calling_internal = calling
            .as_deref()
            .is_some_and(|c| self.is_internal(switch, c));
        self.fill(&id, calling.clone(), called, queue, digits);
        if let Some(call) = self.calls.get_mut(&id) {
            if let Some(calling) = &calling {
                // After a transfer the switch may name the transferring device as
                // calling; it has left the call and must not come back as a party.
                if call.party(calling).is_none() && call.transferred_to.is_none() {
                    let state = if calling_internal {
                        PartyState::Initiated
                    } else {
                        PartyState::Connected
                    };
                    call.set_party(calling, state, calling_internal);
                }
            }
            // Leaving the queue for an agent's phone.
            call.parties.retain(|p| p.state != PartyState::Queued);
            call.set_party(device, PartyState::Alerting, device_internal);
            call.delivered_at.get_or_insert(now);
        }
        if new {
            self.start_lookup(&id);
        }
        if device_internal {
            self.offer(&id, device);
        }
        self.refresh_phone(device);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_queued(
        &mut self,
        switch: &str,
        switch_id: &str,
        queue: &str,
        calling: Option<String>,
        called: Option<String>,
        digits: Option<String>,
        now: DateTime<Utc>,
    ) {
        self.queue_stats.learn(queue);
        let direction = self.direction_from(switch, calling.as_deref(), Some(queue));
        let Some((id, new)) = self.call_for(switch, switch_id, direction, now) else {
            return;
        };
        let calling_internal = calling
            .as_deref()
            .is_some_and(|c| self.is_internal(switch, c));
        self.fill(
            &id,
            calling.clone(),
            called,
            Some(queue.to_string()),
            digits,
        );
        let first_time = match self.calls.get_mut(&id) {
            Some(call) => {
                if let Some(calling) = &calling {
                    if call.party(calling).is_none() {
                        call.set_party(calling, PartyState::Connected, calling_internal);
                    }
                }
                call.set_party(queue, PartyState::Queued, true);
                call.queue = Some(queue.to_string());
                call.queued_at.is_none() && {
                    call.queued_at = Some(now);
                    true
                }
            }
            None => false,
        };
        if first_time {
            self.queue_stats.offered(queue);
        }
        if new {
            self.start_lookup(&id);
        }
        self.emit_call_event(&id, EventName::CallUpdated, None, json!({}));
    }

    pub(super) fn on_originated(
        &mut self,
        switch: &str,
        switch_id: &str,
        device: &str,
        called: Option<String>,
        now: DateTime<Utc>,
    ) {
        let direction = self.direction_from(switch, Some(device), called.as_deref());
        let Some((id, new)) = self.call_for(switch, switch_id, direction, now) else {
            return;
        };
        let internal = self.is_internal(switch, device);
        self.fill(&id, Some(device.to_string()), called, None, None);
        let agent = self.agents.agent_id_at(device).map(String::from);
        // A dial whose answer has not come back yet: its reference belongs to this call.
        let pending_ref = match self.calls.get(&id) {
            Some(call) if new && call.client_ref.is_none() => self
                .pending_dials
                .get(device)
                .and_then(|p| p.first().cloned()),
            _ => None,
        };
        if let Some(call) = self.calls.get_mut(&id) {
            if pending_ref.is_some() {
                call.client_ref = pending_ref;
            }
            call.set_party(device, PartyState::Initiated, internal);
            if call.extension.is_none() && internal {
                call.extension = Some(device.to_string());
                call.agent = agent;
            }
            // The far end of an outbound call is the interaction's customer.
            call.popped.insert(device.to_string());
        }
        if new {
            self.start_lookup(&id);
        }
        self.emit_call_event(
            &id,
            EventName::CallOriginated,
            Some(device),
            json!({ "to": self.calls.get(&id).and_then(|c| c.dnis.clone()) }),
        );
        self.refresh_phone(device);
    }

    pub(super) fn on_established(
        &mut self,
        switch: &str,
        switch_id: &str,
        device: &str,
        calling: Option<String>,
        called: Option<String>,
        now: DateTime<Utc>,
    ) {
        let direction = self.direction_from(switch, calling.as_deref(), called.as_deref());
        let Some((id, new)) = self.call_for(switch, switch_id, direction, now) else {
            return;
        };
        let internal = self.is_internal(switch, device);
        self.fill(&id, calling, called, None, None);
        let agent = self.agents.agent_id_at(device).map(String::from);
        let mut handled_queue = None;
        if let Some(call) = self.calls.get_mut(&id) {
            call.set_party(device, PartyState::Connected, internal);
            for party in call.parties.iter_mut() {
                if party.state == PartyState::Initiated {
                    party.state = PartyState::Connected;
                }
            }
            if call.answered_at.is_none() {
                call.answered_at = Some(now);
                if let (Some(queue), Some(queued_at)) = (&call.queue, call.queued_at) {
                    handled_queue = Some((queue.clone(), seconds(queued_at, now)));
                }
            }
            if call.extension.is_none() && internal {
                call.extension = Some(device.to_string());
                call.agent = agent;
            }
        }
        if let Some((queue, wait)) = handled_queue {
            self.queue_stats.handled(&queue, wait);
        }
        if new {
            self.start_lookup(&id);
        }
        self.emit_call_event(&id, EventName::CallAnswered, Some(device), json!({}));
        self.refresh_call_phones(&id);
    }

    pub(super) fn on_hold_change(
        &mut self,
        switch: &str,
        switch_id: &str,
        device: &str,
        state: PartyState,
        now: DateTime<Utc>,
    ) {
        let Some(id) = self.calls.find(switch, switch_id).map(String::from) else {
            return;
        };
        let internal = self.is_internal(switch, device);
        if let Some(call) = self.calls.get_mut(&id) {
            call.set_party(device, state, internal);
            call.update_hold(now);
        }
        let name = if state == PartyState::Held {
            EventName::CallHeld
        } else {
            EventName::CallRetrieved
        };
        self.emit_call_event(&id, name, Some(device), json!({}));
        self.refresh_phone(device);
    }

    /// Merge the consultation call `secondary` into `id`: its other parties join, its
    /// switch id maps to `id` from now on, and it leaves no log row of its own.
    pub(super) fn merge(
        &mut self,
        switch: &str,
        id: &str,
        secondary: Option<&str>,
        leaving: &str,
    ) -> Option<String> {
        let secondary_id = self.calls.find(switch, secondary?)?.to_string();
        if secondary_id == id {
            return None;
        }
        let merged = self.calls.remove(&secondary_id)?;
        if let Some(call) = self.calls.get_mut(id) {
            for party in merged.parties.iter().filter(|p| p.device != leaving) {
                if call.party(&party.device).is_none() {
                    call.set_party(&party.device, party.state, party.internal);
                }
            }
            call.popped.extend(merged.popped.iter().cloned());
        }
        for switch_id in &merged.switch_ids {
            self.calls.alias(id, switch, switch_id);
        }
        self.metrics
            .calls_active
            .store(self.calls.len() as u64, Ordering::Relaxed);
        Some(secondary_id)
    }

    pub(super) fn on_transferred(
        &mut self,
        switch: &str,
        switch_id: &str,
        secondary: Option<&str>,
        device: &str,
        to: &str,
        now: DateTime<Utc>,
    ) {
        let Some(id) = self.calls.find(switch, switch_id).map(String::from) else {
            return;
        };
        let merged = self.merge(switch, &id, secondary, device);
        // The transferring agent's part of the call is over: ACW it starts is for this call.
        if let Some(agent) = self.agents.agent_id_at(device).map(String::from) {
            if let Some(entry) = self.agents.get_mut(&agent) {
                entry.last_call = Some(id.clone());
            }
        }
        if let Some(call) = self.calls.get_mut(&id) {
            call.remove_party(device);
            call.transferred_to = Some(to.to_string());
            call.update_hold(now);
        }
        self.emit_call_event(
            &id,
            EventName::CallTransferred,
            Some(device),
            json!({ "to": to, "merged_call": merged }),
        );
        self.refresh_phone(device);
        self.refresh_call_phones(&id);
    }

    pub(super) fn on_conferenced(
        &mut self,
        switch: &str,
        switch_id: &str,
        secondary: Option<&str>,
        device: &str,
        added: &str,
        now: DateTime<Utc>,
    ) {
        let Some(id) = self.calls.find(switch, switch_id).map(String::from) else {
            return;
        };
        let merged = self.merge(switch, &id, secondary, "");
        let added_internal = self.is_internal(switch, added);
        let device_internal = self.is_internal(switch, device);
        if let Some(call) = self.calls.get_mut(&id) {
            call.set_party(added, PartyState::Connected, added_internal);
            call.set_party(device, PartyState::Connected, device_internal);
            call.update_hold(now);
        }
        self.emit_call_event(
            &id,
            EventName::CallConferenced,
            Some(device),
            json!({ "added": added, "merged_call": merged }),
        );
        self.refresh_call_phones(&id);
    }

    pub(super) fn on_diverted(
        &mut self,
        switch: &str,
        switch_id: &str,
        device: &str,
        to: &str,
        now: DateTime<Utc>,
    ) {
        let Some(id) = self.calls.find(switch, switch_id).map(String::from) else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&id) {
            call.remove_party(device);
            call.update_hold(now);
        }
        self.emit_call_event(
            &id,
            EventName::CallUpdated,
            Some(device),
            json!({ "diverted_to": to }),
        );
        self.refresh_phone(device);
    }

    pub(super) fn on_cleared(
        &mut self,
        switch: &str,
        switch_id: &str,
        device: &str,
        cause: Option<String>,
        now: DateTime<Utc>,
    ) {
        let Some(id) = self.calls.find(switch, switch_id).map(String::from) else {
            return;
        };
        let (removed, remaining) = match self.calls.get_mut(&id) {
            Some(call) => {
                let removed = call.remove_party(device);
                call.update_hold(now);
                (removed, call.parties.len())
            }
            None => return,
        };
        if !removed {
            // Already gone from the call (it transferred away): nothing changes.
            return;
        }
        if remaining < 2 {
            let cause = cause.unwrap_or_else(|| "normal_clearing".into());
            self.end_call(&id, &cause, now);
        } else {
            // The cause tells a ring-all agent whether the call was answered elsewhere
            // or abandoned.
            let data = match &cause {
                Some(cause) => json!({ "left": device, "cause": cause }),
                None => json!({ "left": device }),
            };
            self.emit_call_event(&id, EventName::CallUpdated, Some(device), data);
            self.refresh_phone(device);
        }
    }
}
