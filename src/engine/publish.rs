//! Publishing a call: a `call.*` event with the call's view, to the call's audience
//! on the right topic, and a call's end with its log row made durable first.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::names::{EventName, Topic};
use super::states::CallState;
use super::views::{to_data, CallView, EndedCallView};
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
            .unwrap_or_else(|| Topic::Call(id.to_string()));
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
        let data = to_data(&EndedCallView {
            call: CallView {
                state: CallState::Ended,
                ..call.view()
            },
            cause: cause.to_string(),
            outcome,
            ended_at: now,
            talk_s: row.talk_s,
            hold_s: row.hold_s,
            queue_s: row.queue_s,
            ring_s: row.ring_s,
            agent: call.agent.clone(),
            extension: call.extension.clone(),
            transferred_to: call.transferred_to.clone(),
        });
        let mut writes = vec![DbWrite::CallLog(Box::new(row))];
        if let Some(completion) = &call.record {
            writes.push(completion.write(&call.id));
        }
        self.records.call_ended(&call, now);
        self.emit(EventName::CallEnded, topic, audience, data, writes);
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
        name: EventName,
        device: Option<&str>,
        extra: Value,
    ) {
        self.flush_pops(id);
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let mut audience = self.call_audience(call);
        let mut data = to_data(&call.view());
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
                        None => Topic::Call(id.to_string()),
                    }
                }
            }
            None => match &call.queue {
                Some(queue) if call.state() == CallState::Queued => Topic::Queue(queue.clone()),
                _ => Topic::Call(id.to_string()),
            },
        };
        self.emit(name, topic, audience, data, Vec::new());
    }
}
