//! Dials: a leg begins ringing (one Delivered per leg at a monitored phone), a
//! monitored phone dials out (Originated), a dial ends (answered, refused, or
//! cancelled with its cause decided by the rest of the call).

use ctibridge_adapter::SwitchEvent;

use super::{channel, Leg, LegState, Tracker};
use crate::codec::Message;

impl Tracker {
    pub(super) fn on_dial_begin(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let (Some(du), Some(dname)) = (msg.get("DestUniqueid"), msg.get("DestChannel")) else {
            return;
        };
        let dlinked = msg.get("DestLinkedid").unwrap_or(du);
        self.learn(
            du,
            dname,
            dlinked,
            msg.get("DestCallerIDNum"),
            msg.get("DestExten"),
            msg.get("DestChannelStateDesc"),
        );
        // The dialling side: a monitored phone that starts the call reports Originated.
        if let Some(src) = msg.get("Uniqueid") {
            if let Some(chan) = self.channels.get(src) {
                if let Some(device) = chan.device.clone() {
                    let id = self.call_id(&chan.linkedid).to_string();
                    if let Some(call) = self.calls.get_mut(&id) {
                        if call.origin == src && !call.originated {
                            call.originated = true;
                            call.caller.get_or_insert_with(|| device.clone());
                            let called = msg
                                .get("DialString")
                                .map(channel::dialled)
                                .or(msg.get("DestExten"))
                                .map(String::from);
                            if call.dnis.is_none() {
                                call.dnis = called.clone();
                            }
                            call.legs.push(Leg {
                                device: device.clone(),
                                uniqueid: src.to_string(),
                                state: LegState::Initiated,
                            });
                            out.push(SwitchEvent::Originated {
                                call_id: id,
                                device,
                                called,
                            });
                        }
                    }
                }
            }
        }
        let Some(chan) = self.channels.get(du) else {
            return;
        };
        let Some(device) = chan.device.clone() else {
            return;
        };
        let id = self.call_id(&chan.linkedid).to_string();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.legs.iter().any(|l| l.uniqueid == du) {
            return;
        }
        // A device rung again (a queue retrying it) replaces its earlier leg.
        call.legs
            .retain(|l| !(l.device == device && l.state == LegState::Pending));
        if call
            .legs
            .iter()
            .any(|l| l.device == device && l.state != LegState::Pending)
        {
            // Already popped at this device in this call (a second channel to one
            // phone): one pop per leg at a device.
            call.legs.push(Leg {
                device,
                uniqueid: du.to_string(),
                state: LegState::Alerting,
            });
            return;
        }
        call.legs.push(Leg {
            device: device.clone(),
            uniqueid: du.to_string(),
            state: LegState::Alerting,
        });
        call.queue_party = false;
        out.push(SwitchEvent::Delivered {
            call_id: id,
            device,
            calling: call.caller.clone(),
            called: call.dnis.clone(),
            original_called: None,
            trunk: None,
            queue: call.queue.clone(),
            digits: None,
        });
    }

    pub(super) fn on_dial_end(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(du) = msg.get("DestUniqueid") else {
            return;
        };
        let status = msg.get("DialStatus").unwrap_or("");
        match status {
            "ANSWER" => self.on_answered_channel(Some(du), out),
            "CANCEL" => self.end_leg(du, None, out),
            "NOANSWER" => self.end_leg(du, Some("no_answer"), out),
            "BUSY" => self.end_leg(du, Some("busy"), out),
            "CHANUNAVAIL" | "CONGESTION" => self.end_leg(du, Some("unavailable"), out),
            _ => {}
        }
        // A phone dialling out whose far end refused: the call failed there.
        if matches!(status, "BUSY" | "CHANUNAVAIL" | "CONGESTION" | "NOANSWER") {
            if let Some(src) = msg.get("Uniqueid") {
                if let Some(chan) = self.channels.get(src) {
                    let dest_monitored = self
                        .channels
                        .get(du)
                        .is_some_and(|c| c.device.is_some() || c.local);
                    if let (Some(device), false) = (chan.device.clone(), dest_monitored) {
                        let id = self.call_id(&chan.linkedid).to_string();
                        out.push(SwitchEvent::Failed {
                            call_id: id,
                            device,
                            cause: Some(status.to_ascii_lowercase()),
                        });
                    }
                }
            }
        }
    }

    /// A ringing leg stopped. `cause` None: cancelled, cause decided by the call.
    pub(super) fn end_leg(
        &mut self,
        uniqueid: &str,
        cause: Option<&str>,
        out: &mut Vec<SwitchEvent>,
    ) {
        let Some(chan) = self.channels.get(uniqueid) else {
            return;
        };
        let id = self.call_id(&chan.linkedid).to_string();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let answered = call.answered;
        let abandoned = call.abandoned;
        let Some(leg) = call.leg_mut(uniqueid) else {
            return;
        };
        if leg.state != LegState::Alerting {
            return;
        }
        let cause = match cause {
            Some(c) => c,
            None if answered => "answered_elsewhere",
            None if abandoned => "abandoned",
            None => {
                leg.state = LegState::Pending;
                return;
            }
        };
        let device = leg.device.clone();
        call.legs.retain(|l| l.uniqueid != uniqueid);
        // The last ringing phone of a queued call did not answer: the caller waits
        // in the queue again (said first, so the call does not end with the leg).
        let ringing = call.legs.iter().any(|l| l.state == LegState::Alerting);
        if call.queued && !call.answered && !ringing && !call.queue_party {
            if let Some(queue) = call.queue.clone() {
                call.queue_party = true;
                out.push(SwitchEvent::Queued {
                    call_id: id.clone(),
                    queue,
                    calling: call.caller.clone(),
                    called: call.dnis.clone(),
                    digits: None,
                });
            }
        }
        out.push(SwitchEvent::ConnectionCleared {
            call_id: id,
            device,
            cause: Some(cause.to_string()),
        });
    }

    /// Clear the pending legs of a call whose outcome is now known.
    pub(super) fn settle_pending(&mut self, id: &str, out: &mut Vec<SwitchEvent>) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        let cause = if call.answered {
            "answered_elsewhere"
        } else if call.abandoned {
            "abandoned"
        } else {
            return;
        };
        call.legs.retain(|leg| {
            if leg.state == LegState::Pending {
                out.push(SwitchEvent::ConnectionCleared {
                    call_id: id.to_string(),
                    device: leg.device.clone(),
                    cause: Some(cause.to_string()),
                });
                false
            } else {
                true
            }
        });
    }
}
