//! Screen pops and the CRM look-ups behind them.
//!
//! A call's look-up starts when the engine first hears of the call (often while it is
//! still queued, so the answer is usually there before any phone rings). A pop for a
//! device goes out at once when the look-up has finished; otherwise it waits at most
//! `pop_deadline`, then goes out with `crm.pending = true` and a `call.updated` with
//! the match follows. Any other event of the call releases waiting pops first, so a
//! client never sees `call.answered` before `call.offered`. One pop per call per device.

use std::sync::atomic::Ordering;
use std::time::Instant;

use ctibridge_adapter::Direction;
use serde_json::json;

use super::effects::{DbJob, Effect, Internal};
use super::names::EventName;
use super::views::to_data;
use super::Engine;
use crate::crm::db::DbError;
use crate::crm::lookup::CallerInfo;

impl Engine {
    /// Look up the call's customer: the caller of an inbound call, the called number
    /// of an outbound one. Internal calls have no customer.
    pub(super) fn start_lookup(&mut self, id: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let number = match call.direction {
            Direction::In => call.ani.clone(),
            Direction::Out => call.dnis.clone(),
            Direction::Internal => None,
        };
        let dnis = match call.direction {
            Direction::In => call.dnis.clone(),
            _ => None,
        };
        if number.is_none() && dnis.is_none() {
            return;
        }
        let key = format!(
            "{}|{}",
            number.as_deref().unwrap_or(""),
            dnis.as_deref().unwrap_or("")
        );
        if let Some(info) = self.cache.get(&key) {
            call.crm.info = info;
            call.crm.pending = false;
            return;
        }
        call.crm.pending = true;
        self.metrics.lookups.fetch_add(1, Ordering::Relaxed);
        self.effects.push(Effect::Db(DbJob::Lookup {
            call: id.to_string(),
            key,
            number,
            dnis,
        }));
    }

    /// Pop the call at `device` (once), now or when the look-up is done.
    pub(super) fn offer(&mut self, id: &str, device: &str) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.popped.contains(device) || call.pops_waiting.iter().any(|(d, _)| d == device) {
            return;
        }
        let since = self.taken_up;
        if call.crm.pending {
            call.pops_waiting.push((device.to_string(), since));
            self.effects.push(Effect::Timer {
                after: self.config.pop_deadline,
                then: Internal::PopDeadline {
                    call: id.to_string(),
                },
            });
            return;
        }
        self.pop(id, device, since);
    }

    /// `since`: when the engine took up the event that rang `device`.
    fn pop(&mut self, id: &str, device: &str, since: Instant) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.popped.insert(device.to_string());
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let mut data = to_data(&call.view());
        data["device"] = json!(device);
        let mut audience = self.call_audience(call);
        // The pop is for this device (and its agent); supervisors and apps see all.
        audience.devices = vec![device.to_string()];
        audience.agents = self
            .agents
            .agent_id_at(device)
            .map(String::from)
            .into_iter()
            .collect();
        let topic = self.device_topic(device);
        self.metrics.pops.fetch_add(1, Ordering::Relaxed);
        self.emit_pop(topic, audience, data, since);
    }

    /// Send every pop still waiting for the look-up.
    pub(super) fn flush_pops(&mut self, id: &str) {
        let waiting = match self.calls.get_mut(id) {
            Some(call) if !call.pops_waiting.is_empty() => std::mem::take(&mut call.pops_waiting),
            _ => return,
        };
        for (device, since) in waiting {
            self.pop(id, &device, since);
        }
    }

    pub(super) fn lookup_done(
        &mut self,
        id: &str,
        key: String,
        result: Result<CallerInfo, DbError>,
    ) {
        let info = match result {
            Ok(info) => {
                self.cache.insert(key, info.clone());
                info
            }
            Err(e) => {
                // The pop goes on without the match; the database's state shows in
                // /healthz through the writer.
                self.metrics.lookup_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(call = id, error = %e, "CRM look-up failed");
                CallerInfo::default()
            }
        };
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        call.crm.info = info;
        call.crm.pending = false;
        let waiting = call.pops_waiting.len();
        let popped_before = call.popped.len();
        self.flush_pops(id);
        // Clients that already have the call (an earlier pop, the queue on a wallboard)
        // learn the match from call.updated.
        if popped_before > 0 || waiting == 0 {
            self.emit_call_event(id, EventName::CallUpdated, None, json!({}));
        }
    }
}
