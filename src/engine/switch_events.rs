//! Adapter events → the handler for each, and the look-ups every handler shares
//! (which call a switch id is, which devices are ours, what a call did not know yet).
//!
//! The handlers live by concern: [`super::call_events`] (the call lifecycle),
//! [`super::publish`] (`call.*` events and a call's end), [`super::phones`] (agent and
//! phone state) and [`super::link`] (link state and reconciling after an outage).

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use ctibridge_adapter::{AdapterEvent, AgentState, Direction, PartyState, SwitchEvent};

use super::Engine;
use crate::crm::phone;

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
    pub(super) fn call_for(
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

    pub(super) fn direction_from(
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
    pub(super) fn fill(
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
}
