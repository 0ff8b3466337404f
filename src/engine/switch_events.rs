//! Adapter events → state changes → bridge events.
//!
//! Every handler follows the same steps: find (or create) the call by the switch's
//! id, update parties and timings, publish the matching `call.*` event, and refresh
//! the phone state of the agents involved. Events for calls that already ended (the
//! second `ConnectionCleared` of a two-party call, a late `Held`) are ignored.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use ctibridge_adapter::{AdapterEvent, AgentState, Direction, PartyState, Snapshot, SwitchEvent};
use serde_json::{json, Value};

use super::calls::seconds;
use super::Engine;
use crate::crm::phone;
use crate::crm::writes::DbWrite;
use crate::hub::Audience;

impl Engine {
    pub(super) fn handle_switch_event(&mut self, switch: &str, event: AdapterEvent) {
        self.metrics.switch_events.fetch_add(1, Ordering::Relaxed);
        let now = Self::now();
        use SwitchEvent::*;
        match event.event {
            LinkUp => self.link_changed(switch, true, None),
            LinkDown { reason } => self.link_changed(switch, false, Some(reason)),
            Snapshot(snapshot) => self.reconcile(switch, snapshot, now),
            Delivered {
                call_id,
                device,
                calling,
                called,
                queue,
                digits,
                ..
            } => self.on_delivered(
                switch, &call_id, &device, calling, called, queue, digits, now,
            ),
            Queued {
                call_id,
                queue,
                calling,
                called,
                digits,
            } => self.on_queued(switch, &call_id, &queue, calling, called, digits, now),
            Originated {
                call_id,
                device,
                called,
            } => self.on_originated(switch, &call_id, &device, called, now),
            Established {
                call_id,
                device,
                calling,
                called,
            } => self.on_established(switch, &call_id, &device, calling, called, now),
            Held { call_id, device } => {
                self.on_hold_change(switch, &call_id, &device, PartyState::Held, now)
            }
            Retrieved { call_id, device } => {
                self.on_hold_change(switch, &call_id, &device, PartyState::Connected, now)
            }
            Transferred {
                call_id,
                secondary_call_id,
                device,
                transferred_to,
            } => self.on_transferred(
                switch,
                &call_id,
                secondary_call_id.as_deref(),
                &device,
                &transferred_to,
                now,
            ),
            Conferenced {
                call_id,
                secondary_call_id,
                device,
                added,
            } => self.on_conferenced(
                switch,
                &call_id,
                secondary_call_id.as_deref(),
                &device,
                &added,
                now,
            ),
            Diverted {
                call_id,
                device,
                to,
            } => self.on_diverted(switch, &call_id, &device, &to, now),
            ConnectionCleared {
                call_id,
                device,
                cause,
            } => self.on_cleared(switch, &call_id, &device, cause, now),
            Failed {
                call_id,
                device,
                cause,
            } => {
                if let Some(id) = self.calls.find(switch, &call_id).map(String::from) {
                    if let Some(call) = self.calls.get_mut(&id) {
                        call.failed = true;
                    }
                    let cause = cause.unwrap_or_else(|| format!("failed at {device}"));
                    self.end_call(&id, &cause, now);
                }
            }
            LoggedOn { agent, device } => {
                // The switch confirming a log-on the engine took on from its
                // answer (the agent may be ready by now): nothing changes.
                let already = self
                    .agents
                    .get(&agent)
                    .is_some_and(|a| a.device == device && a.state != AgentState::LoggedOut);
                if !already {
                    self.set_agent_state(
                        switch,
                        &agent,
                        &device,
                        AgentState::NotReady { reason: None },
                        now,
                    )
                }
            }
            LoggedOff { agent, device } => {
                self.set_agent_state(switch, &agent, &device, AgentState::LoggedOut, now)
            }
            Ready { agent, device } => {
                self.set_agent_state(switch, &agent, &device, AgentState::Ready, now)
            }
            NotReady {
                agent,
                device,
                reason,
            } => self.set_agent_state(
                switch,
                &agent,
                &device,
                AgentState::NotReady { reason },
                now,
            ),
            WorkNotReady { agent, device } => {
                self.set_agent_state(switch, &agent, &device, AgentState::Acw, now)
            }
            RouteRequest {
                route_id, calling, ..
            } => self.on_route_request(switch, route_id, calling),
            CallRecord(record) => self.on_call_record(switch, record, event.raw),
        }
    }

    /// A device of ours: monitored by the switch, a queue we have seen, or an agent's phone.
    pub(super) fn is_internal(&self, switch: &str, device: &str) -> bool {
        self.switches
            .get(switch)
            .is_some_and(|s| s.devices.contains(device))
            || self.queue_stats.knows(device)
            || self.agents.agent_id_at(device).is_some()
    }

    /// The stable id for a switch call id, creating the call when it is new; `None` for
    /// a call that already ended.
    fn call_for(
        &mut self,
        switch: &str,
        switch_id: &str,
        direction: Direction,
        now: DateTime<Utc>,
    ) -> Option<(String, bool)> {
        if let Some(id) = self.calls.find(switch, switch_id) {
            return Some((id.to_string(), false));
        }
        if self.calls.is_ended(switch, switch_id) {
            return None;
        }
        let id = self
            .calls
            .create(switch, switch_id, direction, now)
            .id
            .clone();
        self.metrics
            .calls_active
            .store(self.calls.len() as u64, Ordering::Relaxed);
        Some((id, true))
    }

    fn direction_from(
        &self,
        switch: &str,
        calling: Option<&str>,
        called: Option<&str>,
    ) -> Direction {
        let calling_internal = calling.is_some_and(|c| self.is_internal(switch, c));
        let called_internal = called.is_none_or(|c| self.is_internal(switch, c));
        match (calling_internal, called_internal) {
            (true, true) => Direction::Internal,
            (true, false) => Direction::Out,
            _ => Direction::In,
        }
    }

    /// Fill in what a call did not know yet.
    fn fill(
        &mut self,
        id: &str,
        ani: Option<String>,
        dnis: Option<String>,
        queue: Option<String>,
        digits: Option<String>,
    ) {
        let country = self.config.country.clone();
        if let Some(call) = self.calls.get_mut(id) {
            if call.ani.is_none() {
                if let Some(ani) = ani {
                    call.ani_e164 = phone::normalise(&ani, &country).map(|n| n.e164);
                    call.ani = Some(ani);
                }
            }
            if call.dnis.is_none() {
                call.dnis = dnis;
            }
            if queue.is_some() && call.queue.is_none() {
                call.queue = queue;
            }
            if digits.is_some() {
                call.digits = digits;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_delivered(
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
    fn on_queued(
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
        self.emit_call_event(&id, "call.updated", None, json!({}));
    }

    fn on_originated(
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
            "call.originated",
            Some(device),
            json!({ "to": self.calls.get(&id).and_then(|c| c.dnis.clone()) }),
        );
        self.refresh_phone(device);
    }

    fn on_established(
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
        self.emit_call_event(&id, "call.answered", Some(device), json!({}));
        self.refresh_call_phones(&id);
    }

    fn on_hold_change(
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
            "call.held"
        } else {
            "call.retrieved"
        };
        self.emit_call_event(&id, name, Some(device), json!({}));
        self.refresh_phone(device);
    }

    /// Merge the consultation call `secondary` into `id`: its other parties join, its
    /// switch id maps to `id` from now on, and it leaves no log row of its own.
    fn merge(
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

    fn on_transferred(
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
            "call.transferred",
            Some(device),
            json!({ "to": to, "merged_call": merged }),
        );
        self.refresh_phone(device);
        self.refresh_call_phones(&id);
    }

    fn on_conferenced(
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
            "call.conferenced",
            Some(device),
            json!({ "added": added, "merged_call": merged }),
        );
        self.refresh_call_phones(&id);
    }

    fn on_diverted(
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
            "call.updated",
            Some(device),
            json!({ "diverted_to": to }),
        );
        self.refresh_phone(device);
    }

    fn on_cleared(
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
            self.emit_call_event(&id, "call.updated", Some(device), data);
            self.refresh_phone(device);
        }
    }

    /// End a call: its log row goes to the gate with `call.ended`, so the row is
    /// durable before anyone sees the event.
    pub(super) fn end_call(&mut self, id: &str, cause: &str, now: DateTime<Utc>) {
        self.flush_pops(id);
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let audience = self.call_audience(call);
        let row = call.log_row(now, self.config.short_abandon_s);
        let topic = call
            .extension
            .as_deref()
            .map(|d| self.device_topic(d))
            .unwrap_or_else(|| format!("call:{id}"));
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        if call.answered_at.is_none() {
            if let Some(queue) = &call.queue {
                self.queue_stats.unanswered(queue, &row.outcome);
            }
        }
        if let Some(agent) = call.agent.as_deref() {
            if let Some(agent) = self.agents.get_mut(agent) {
                agent.last_call = Some(call.id.clone());
            }
        }
        let mut data = call.view();
        data["state"] = json!("ended");
        data["cause"] = json!(cause);
        data["outcome"] = json!(row.outcome);
        data["ended_at"] = json!(now);
        data["talk_s"] = json!(row.talk_s);
        data["hold_s"] = json!(row.hold_s);
        data["queue_s"] = json!(row.queue_s);
        data["ring_s"] = json!(row.ring_s);
        data["agent"] = json!(call.agent);
        data["extension"] = json!(call.extension);
        data["transferred_to"] = json!(call.transferred_to);
        let mut writes = vec![DbWrite::CallLog(Box::new(row))];
        if let Some(completion) = &call.record {
            writes.push(completion.write(&call.id));
        }
        self.records.call_ended(&call, now);
        self.emit("call.ended", topic, audience, data, writes);
        self.metrics.calls_ended.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .calls_active
            .store(self.calls.len() as u64, Ordering::Relaxed);
        for device in &call.involved {
            self.refresh_phone(device);
        }
    }

    /// Publish a `call.*` event with the call's current view plus `extra`.
    pub(super) fn emit_call_event(
        &mut self,
        id: &str,
        name: &'static str,
        device: Option<&str>,
        extra: Value,
    ) {
        self.flush_pops(id);
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let mut audience = self.call_audience(call);
        let mut data = call.view();
        if let (Some(fields), Value::Object(map)) = (data.as_object_mut(), extra) {
            fields.extend(map);
        }
        let topic = match device {
            Some(device) => {
                data["device"] = json!(device);
                if !audience.devices.iter().any(|d| d == device) {
                    audience.devices.push(device.to_string());
                    if let Some(agent) = self.agents.agent_id_at(device) {
                        audience.agents.push(agent.to_string());
                    }
                }
                // An outside number has no topic of its own: the call's agent does.
                if self.is_internal(&call.switch, device) {
                    self.device_topic(device)
                } else {
                    match &call.extension {
                        Some(extension) => self.device_topic(extension),
                        None => format!("call:{id}"),
                    }
                }
            }
            None => match &call.queue {
                Some(queue) if call.state() == "queued" => format!("queue:{queue}"),
                _ => format!("call:{id}"),
            },
        };
        self.emit(name, topic, audience, data, Vec::new());
    }

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
    fn emit_agent_state(&mut self, agent: &str, device: &str, writes: Vec<DbWrite>) {
        let Some(entry) = self.agents.get(agent) else {
            return;
        };
        let data = entry.view();
        let audience = self.agent_audience(agent, device);
        self.emit(
            "agent.state",
            format!("agent:{agent}"),
            audience,
            data,
            writes,
        );
    }

    /// What the phone at `device` is doing, from the calls it is in.
    fn phone_state(&self, device: &str) -> &'static str {
        let mut phone = "idle";
        for call in self.calls.iter() {
            if let Some(party) = call.party(device) {
                let state = match party.state {
                    PartyState::Connected => "talking",
                    PartyState::Held => "held",
                    PartyState::Alerting => "ringing",
                    PartyState::Initiated => "dialing",
                    PartyState::Queued => continue,
                };
                // Talking beats dialling beats ringing beats held: what the agent hears.
                let rank = |s: &str| match s {
                    "talking" => 4,
                    "dialing" => 3,
                    "ringing" => 2,
                    "held" => 1,
                    _ => 0,
                };
                if rank(state) > rank(phone) {
                    phone = state;
                }
            }
        }
        phone
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

    fn refresh_call_phones(&mut self, id: &str) {
        let devices: Vec<String> = self
            .calls
            .get(id)
            .map(|c| c.involved.clone())
            .unwrap_or_default();
        for device in devices {
            self.refresh_phone(&device);
        }
    }

    fn link_changed(&mut self, switch: &str, up: bool, reason: Option<String>) {
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
        let name = if up { "link.up" } else { "link.down" };
        let audience = Audience {
            everyone: true,
            ..Audience::default()
        };
        let data = json!({ "switch": switch, "adapter": adapter, "reason": reason });
        self.emit(name, format!("switch:{switch}"), audience, data, Vec::new());
    }

    /// Bring the engine's picture of one switch in line with the switch's snapshot:
    /// calls that ended during an outage end here too, calls that started are adopted.
    fn reconcile(&mut self, switch: &str, snapshot: Snapshot, now: DateTime<Utc>) {
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
            if new || before != after {
                self.emit_call_event(&id, "call.updated", None, json!({ "reconciled": true }));
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
