//! The call and agent state machine: AMI events in, normalised [`SwitchEvent`]s out.
//!
//! Sans-I/O: [`Tracker::handle`] takes one parsed [`Message`] and appends what it
//! means to a caller-owned vector, so the same code runs in the live session, in
//! `ctibridge decode`, in the benchmark entry point and in unit tests.
//!
//! The model:
//! - A **call** is everything sharing one Asterisk `Linkedid` (the Uniqueid of the
//!   oldest channel; Asterisk 12+ carries it through Dial, Queue and Local
//!   channels). Its id is that Linkedid, so it survives a reconnect. After an
//!   attended transfer the consultation call's Linkedid is an alias of the
//!   customer's call, so one call id runs through transfers.
//! - The call's **caller** (ANI) is the CallerIDNum of its first channel, its DNIS the
//!   first real `Exten` that channel was in, its queue the `Queue` of
//!   QueueCallerJoin.
//! - A **leg** is a monitored device's phone channel in the call (Local channels are
//!   dialplan plumbing and never legs). One Delivered per leg, when a Dial (or a
//!   queue's Dial) to it begins.
//! - A ringing leg that stops because the dial was cancelled is cleared with the
//!   cause the rest of the call explains: `answered_elsewhere` once another leg
//!   answered, `abandoned` once the caller hung up or abandoned the queue. Asterisk
//!   sends the cancel before it says which, so such a leg waits ("pending") until
//!   the call says.

mod agents;
pub mod channel;
mod dial;
mod queue;
mod transfer;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use ctibridge_adapter::SwitchEvent;

use crate::codec::Message;
use crate::config::AgentConfig;

pub use agents::Agents;

/// What a leg is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegState {
    /// The device dials out (an origin channel).
    Initiated,
    Alerting,
    Connected,
    Held,
    /// Its dial was cancelled; the cause is not known yet.
    Pending,
}

#[derive(Debug, Clone)]
pub struct Leg {
    pub device: String,
    pub uniqueid: String,
    pub state: LegState,
}

#[derive(Debug, Clone)]
pub struct Chan {
    pub name: String,
    pub linkedid: String,
    /// A monitored device's phone channel.
    pub device: Option<String>,
    pub local: bool,
    pub caller: Option<String>,
    pub exten: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Default)]
pub struct Call {
    /// Uniqueid of the first channel (the caller's).
    pub origin: String,
    pub caller: Option<String>,
    pub dnis: Option<String>,
    pub queue: Option<String>,
    /// Waiting in `queue` (between QueueCallerJoin and Leave/Abandon).
    pub queued: bool,
    pub legs: Vec<Leg>,
    pub answered: bool,
    /// The caller hung up or abandoned before anyone answered.
    pub abandoned: bool,
    /// Live channels of the call (including Local and trunk ones).
    pub channels: u32,
    /// The origin is a monitored device that has been reported as dialling.
    pub originated: bool,
    /// The engine holds the queue as a party (Queued sent, no Delivered since).
    pub queue_party: bool,
}

impl Call {
    fn leg_mut(&mut self, uniqueid: &str) -> Option<&mut Leg> {
        self.legs.iter_mut().find(|l| l.uniqueid == uniqueid)
    }
}

/// The state machine. See the module documentation.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Monitored extensions.
    devices: Vec<String>,
    pub(crate) channels: HashMap<String, Chan>,
    pub(crate) calls: HashMap<String, Call>,
    /// Linkedid of a merged consultation call → the call it became.
    pub(crate) alias: HashMap<String, String>,
    pub agents: Agents,
}

impl Tracker {
    pub fn new(devices: &[String], agents: &[AgentConfig], queues: &[String]) -> Tracker {
        Tracker {
            devices: devices.to_vec(),
            agents: Agents::new(agents, queues),
            ..Tracker::default()
        }
    }

    pub fn is_monitored(&self, device: &str) -> bool {
        self.devices.iter().any(|d| d == device)
    }

    /// The call id a Linkedid belongs to now.
    pub fn call_id<'a>(&'a self, linkedid: &'a str) -> &'a str {
        self.alias
            .get(linkedid)
            .map(String::as_str)
            .unwrap_or(linkedid)
    }

    /// The monitored phone channel of `device` in call `call_id`, for commands.
    pub fn channel_of(&self, call_id: &str, device: &str) -> Option<&str> {
        let call = self.calls.get(call_id)?;
        let leg = call.legs.iter().find(|l| l.device == device)?;
        self.channels.get(&leg.uniqueid).map(|c| c.name.as_str())
    }

    /// The caller's channel of a call (the one a blind transfer redirects).
    pub fn caller_channel(&self, call_id: &str) -> Option<&str> {
        let call = self.calls.get(call_id)?;
        self.channels.get(&call.origin).map(|c| c.name.as_str())
    }

    /// Every live channel of a call, for ForceRelease.
    pub fn channels_of(&self, call_id: &str) -> Vec<String> {
        self.channels
            .values()
            .filter(|c| self.call_id(&c.linkedid) == call_id)
            .map(|c| c.name.clone())
            .collect()
    }

    /// `device` left call `call_id` by a transfer the adapter made (a Redirect):
    /// its legs end without a ConnectionCleared.
    pub fn left(&mut self, call_id: &str, device: &str) {
        if let Some(call) = self.calls.get_mut(call_id) {
            call.legs.retain(|l| l.device != device);
        }
    }

    /// Read one message. Messages that are not events, and events about nothing
    /// monitored, change nothing visible.
    pub fn handle(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(event) = msg.event() else { return };
        match event {
            "Newchannel" => self.on_newchannel(msg),
            "Newexten" => self.on_newexten(msg),
            "Newstate" => self.on_newstate(msg, out),
            "NewCallerid" => {
                if let (Some(u), Some(n)) = (msg.get("Uniqueid"), msg.get("CallerIDNum")) {
                    if let Some(c) = self.channels.get_mut(u) {
                        c.caller = channel::number(Some(n)).map(String::from);
                    }
                }
            }
            "Rename" => {
                if let (Some(u), Some(n)) = (msg.get("Uniqueid"), msg.get("Newname")) {
                    if let Some(c) = self.channels.get_mut(u) {
                        c.name = n.to_string();
                    }
                }
            }
            "DialBegin" => self.on_dial_begin(msg, out),
            "DialEnd" => self.on_dial_end(msg, out),
            "BridgeEnter" => self.on_answered_channel(msg.get("Uniqueid"), out),
            "Hold" | "Unhold" => self.on_hold(msg, event == "Hold", out),
            "Hangup" => self.on_hangup(msg, out),
            "QueueCallerJoin" | "Join" => self.on_queue_join(msg, out),
            "QueueCallerLeave" | "Leave" => {
                if let Some(call) = self.call_of_msg(msg) {
                    call.queued = false;
                }
            }
            "QueueCallerAbandon" => self.on_abandon(msg, out),
            "AgentConnect" => self.on_agent_connect(msg, out),
            "AgentRingNoAnswer" => self.on_ring_no_answer(msg, out),
            "BlindTransfer" => self.on_blind_transfer(msg, out),
            "AttendedTransfer" => self.on_attended_transfer(msg, out),
            "QueueMemberAdded" | "QueueMemberRemoved" | "QueueMemberPause"
            | "QueueMemberPaused" | "QueueMemberStatus" => self.agents.handle(event, msg, out),
            _ => {}
        }
    }

    /// The call id of the call an event names (by Linkedid, or by the Uniqueid of
    /// a known channel for Asterisk 13 events without Linkedid).
    fn id_of_msg(&self, msg: &Message<'_>) -> Option<String> {
        let linkedid = msg.get("Linkedid").or_else(|| {
            let u = msg.get("Uniqueid")?;
            self.channels.get(u).map(|c| c.linkedid.as_str())
        })?;
        Some(self.call_id(linkedid).to_string())
    }

    fn call_of_msg(&mut self, msg: &Message<'_>) -> Option<&mut Call> {
        let id = self.id_of_msg(msg)?;
        self.calls.get_mut(&id)
    }

    /// Learn a channel (from Newchannel, or from the Dest* headers of a DialBegin
    /// whose Newchannel was missed).
    fn learn(
        &mut self,
        uniqueid: &str,
        name: &str,
        linkedid: &str,
        caller: Option<&str>,
        exten: Option<&str>,
        state: Option<&str>,
    ) {
        if self.channels.contains_key(uniqueid) {
            return;
        }
        let parsed = channel::parse(name);
        let local = parsed.is_some_and(|p| p.local);
        let device = parsed
            .filter(|p| !p.local && self.is_monitored(p.resource))
            .map(|p| p.resource.to_string());
        let exten = exten.filter(|e| !e.is_empty() && *e != "s" && *e != "h");
        self.channels.insert(
            uniqueid.to_string(),
            Chan {
                name: name.to_string(),
                linkedid: linkedid.to_string(),
                device,
                local,
                caller: channel::number(caller).map(String::from),
                exten: exten.map(String::from),
                state: state.unwrap_or("Down").to_string(),
            },
        );
        let id = self.call_id(linkedid).to_string();
        let call = self.calls.entry(id).or_insert_with(|| Call {
            origin: linkedid.to_string(),
            ..Call::default()
        });
        call.channels += 1;
        if uniqueid == call.origin {
            if call.caller.is_none() {
                call.caller = channel::number(caller).map(String::from);
            }
            if call.dnis.is_none() {
                call.dnis = exten.map(String::from);
            }
        }
    }

    fn on_newchannel(&mut self, msg: &Message<'_>) {
        let (Some(u), Some(name)) = (msg.get("Uniqueid"), msg.get("Channel")) else {
            return;
        };
        let linkedid = msg.get("Linkedid").unwrap_or(u);
        self.learn(
            u,
            name,
            linkedid,
            msg.get("CallerIDNum"),
            msg.get("Exten"),
            msg.get("ChannelStateDesc"),
        );
    }

    fn on_newexten(&mut self, msg: &Message<'_>) {
        let Some(u) = msg.get("Uniqueid") else { return };
        let Some(exten) = msg
            .get("Exten")
            .filter(|e| !e.is_empty() && *e != "s" && *e != "h")
        else {
            return;
        };
        let Some(chan) = self.channels.get_mut(u) else {
            return;
        };
        if chan.exten.is_none() {
            chan.exten = Some(exten.to_string());
        }
        // Field by field (not `call_id`), so nothing is copied for each dialplan step.
        let linkedid = chan.linkedid.as_str();
        let id = self
            .alias
            .get(linkedid)
            .map(String::as_str)
            .unwrap_or(linkedid);
        if let Some(call) = self.calls.get_mut(id) {
            if call.origin == u && call.dnis.is_none() {
                call.dnis = Some(exten.to_string());
            }
        }
    }

    fn on_newstate(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(u) = msg.get("Uniqueid") else { return };
        let state = msg.get("ChannelStateDesc").unwrap_or("");
        if let Some(chan) = self.channels.get_mut(u) {
            chan.state.clear();
            chan.state.push_str(state);
            if chan.caller.is_none() {
                chan.caller = channel::number(msg.get("CallerIDNum")).map(String::from);
            }
        }
        if state == "Up" {
            self.on_answered_channel(Some(u), out);
        }
    }

    /// A channel answered or entered a bridge: a ringing leg on it is established.
    fn on_answered_channel(&mut self, uniqueid: Option<&str>, out: &mut Vec<SwitchEvent>) {
        let Some(u) = uniqueid else { return };
        let Some(chan) = self.channels.get(u) else {
            return;
        };
        let id = self.call_id(&chan.linkedid).to_string();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let (caller, dnis) = (call.caller.clone(), call.dnis.clone());
        let Some(leg) = call.leg_mut(u) else { return };
        if leg.state != LegState::Alerting {
            return;
        }
        leg.state = LegState::Connected;
        let device = leg.device.clone();
        call.answered = true;
        call.queued = false;
        out.push(SwitchEvent::Established {
            call_id: id.clone(),
            device,
            calling: caller,
            called: dnis,
        });
        self.settle_pending(&id, out);
    }

    fn on_hold(&mut self, msg: &Message<'_>, hold: bool, out: &mut Vec<SwitchEvent>) {
        // Asterisk 1.8/11 sent `Event: Hold` with `Status: On|Off`.
        let hold = hold && msg.get("Status").is_none_or(|s| s != "Off");
        let Some(u) = msg.get("Uniqueid") else { return };
        let Some(chan) = self.channels.get(u) else {
            return;
        };
        let id = self.call_id(&chan.linkedid).to_string();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(leg) = call.leg_mut(u) else { return };
        let (from, to) = if hold {
            (LegState::Connected, LegState::Held)
        } else {
            (LegState::Held, LegState::Connected)
        };
        if leg.state != from {
            return;
        }
        leg.state = to;
        let device = leg.device.clone();
        out.push(if hold {
            SwitchEvent::Held {
                call_id: id,
                device,
            }
        } else {
            SwitchEvent::Retrieved {
                call_id: id,
                device,
            }
        });
    }

    fn on_hangup(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(u) = msg.get("Uniqueid") else { return };
        let Some(chan) = self.channels.remove(u) else {
            return;
        };
        let id = self.call_id(&chan.linkedid).to_string();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.channels = call.channels.saturating_sub(1);
        let is_origin = call.origin == u;
        if let Some(pos) = call.legs.iter().position(|l| l.uniqueid == u) {
            let device = call.legs[pos].device.clone();
            match call.legs[pos].state {
                // Cause 26: app_queue / Dial cancelled it because another answered.
                LegState::Alerting if msg.get("Cause") == Some("26") => {
                    call.answered = true;
                    call.legs.remove(pos);
                    out.push(SwitchEvent::ConnectionCleared {
                        call_id: id.clone(),
                        device,
                        cause: Some("answered_elsewhere".into()),
                    });
                }
                // A ringing phone hung up by Asterisk: decided like a cancel.
                LegState::Alerting | LegState::Pending => {
                    call.legs[pos].state = LegState::Pending;
                }
                _ => {
                    call.legs.remove(pos);
                    out.push(SwitchEvent::ConnectionCleared {
                        call_id: id.clone(),
                        device,
                        cause: Some(cause_of(msg)),
                    });
                }
            }
        }
        if is_origin {
            if !call.answered {
                self.abandon(&id, out);
            } else if chan.device.is_none() {
                if let Some(caller) = call.caller.clone() {
                    // The outside caller left an answered call.
                    out.push(SwitchEvent::ConnectionCleared {
                        call_id: id.clone(),
                        device: caller,
                        cause: Some(cause_of(msg)),
                    });
                }
            }
        }
        self.settle_pending(&id, out);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.channels == 0 {
            // The last channel is gone: legs still pending ended without an answer.
            for leg in std::mem::take(&mut call.legs) {
                out.push(SwitchEvent::ConnectionCleared {
                    call_id: id.clone(),
                    device: leg.device,
                    cause: Some("not_answered".into()),
                });
            }
            self.calls.remove(&id);
            self.alias.retain(|_, to| *to != id);
        }
    }
}

/// The hangup cause as a snake_case name (`Cause-txt: Normal Clearing` →
/// `normal_clearing`).
fn cause_of(msg: &Message<'_>) -> String {
    match msg
        .get("Cause-txt")
        .filter(|c| !c.is_empty() && *c != "Unknown")
    {
        Some(text) => text
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect(),
        None => "normal_clearing".into(),
    }
}
