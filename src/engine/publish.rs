//! Publishing a call: a `call.*` event with the call's view, to the call's audience
//! on the right topic, and a call's end with its log row made durable first.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::states::CallState;
use super::Engine;
use crate::crm::writes::DbWrite;

impl Engine {
    /// End a call: its log row goes to the gate with `call.ended`, so the row is
    /// durable before anyone sees the event.
    pub(super) fn end_call(&mut self, id: &str, cause: &str, now: DateTime<Utc>) {
        self.flush_pops(id);
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let audience = self.call_audience(call);
        let outcome = call.outcome(now, self.config.short_abandon_s);
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
                self.queue_stats.unanswered(queue, outcome);
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
        data["outcome"] = json!(outcome);
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
                Some(queue) if call.state() == CallState::Queued => format!("queue:{queue}"),
                _ => format!("call:{id}"),
            },
        };
        self.emit(name, topic, audience, data, Vec::new());
    }
}
