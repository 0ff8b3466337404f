//! Queue calls: a caller joining, abandoning, a member connected or not answering.
//!
//! A caller who gives up before an answer (QueueCallerAbandon, or the caller's own
//! hang-up) ends every ringing or pending leg and the queue as `abandoned`; a
//! member that does not answer ends its leg `no_answer`, and a queued caller is
//! reported back in the queue first so the call does not end with the leg.

use ctibridge_adapter::SwitchEvent;

use super::{channel, Call, LegState, Tracker};
use crate::codec::Message;

impl Tracker {
    /// The caller gave up before an answer: every ringing or pending leg, and the
    /// queue it waited in, ends as abandoned.
    pub(super) fn abandon(&mut self, id: &str, out: &mut Vec<SwitchEvent>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.answered || call.abandoned {
            return;
        }
        call.abandoned = true;
        call.legs.retain(|leg| {
            if matches!(leg.state, LegState::Alerting | LegState::Pending) {
                out.push(SwitchEvent::ConnectionCleared {
                    call_id: id.to_string(),
                    device: leg.device.clone(),
                    cause: Some("abandoned".into()),
                });
                false
            } else {
                true
            }
        });
        call.queued = false;
        if call.queue_party {
            call.queue_party = false;
            if let Some(queue) = call.queue.clone() {
                out.push(SwitchEvent::ConnectionCleared {
                    call_id: id.to_string(),
                    device: queue,
                    cause: Some("abandoned".into()),
                });
            }
        }
    }

    pub(super) fn on_abandon(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        if let Some(id) = self.id_of_msg(msg) {
            self.abandon(&id, out);
        }
    }

    pub(super) fn on_queue_join(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(queue) = msg.get("Queue") else {
            return;
        };
        let Some(linkedid) = msg.get("Linkedid").or_else(|| {
            msg.get("Uniqueid")
                .and_then(|u| self.channels.get(u))
                .map(|c| c.linkedid.as_str())
        }) else {
            return;
        };
        let id = self.call_id(linkedid).to_string();
        let caller = channel::number(msg.get("CallerIDNum")).map(String::from);
        let call = self.calls.entry(id.clone()).or_insert_with(|| Call {
            origin: linkedid.to_string(),
            ..Call::default()
        });
        call.queue = Some(queue.to_string());
        call.queued = true;
        call.queue_party = true;
        if call.caller.is_none() {
            call.caller = caller;
        }
        out.push(SwitchEvent::Queued {
            call_id: id,
            queue: queue.to_string(),
            calling: call.caller.clone(),
            called: call.dnis.clone(),
            digits: None,
        });
    }

    pub(super) fn on_agent_connect(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(id) = self.id_of_msg(msg) else {
            return;
        };
        // The member's phone leg (the DestChannel is a Local channel for FreePBX
        // members): established if BridgeEnter/Newstate did not say so already.
        let device = msg
            .get("Interface")
            .or(msg.get("DestChannel"))
            .and_then(channel::device);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.answered = true;
        call.queued = false;
        let leg = call
            .legs
            .iter()
            .find(|l| Some(l.device.as_str()) == device && l.state == LegState::Alerting)
            .map(|l| l.uniqueid.clone());
        if let Some(u) = leg {
            self.on_answered_channel(Some(&u), out);
        }
        self.settle_pending(&id, out);
    }

    pub(super) fn on_ring_no_answer(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let dest = msg.get("DestUniqueid").map(String::from);
        // FreePBX: the DestChannel is the member's Local channel; the ringing phone
        // leg is the one at the member's device.
        let device = msg
            .get("Interface")
            .or(msg.get("DestChannel"))
            .and_then(channel::device)
            .map(String::from);
        let Some(call) = self.call_of_msg(msg) else {
            return;
        };
        let leg = call
            .legs
            .iter()
            .find(|l| {
                l.state == LegState::Alerting
                    && (Some(&l.uniqueid) == dest.as_ref() || Some(&l.device) == device.as_ref())
            })
            .map(|l| l.uniqueid.clone());
        if let Some(u) = leg {
            self.end_leg(&u, Some("no_answer"), out);
        }
    }
}
