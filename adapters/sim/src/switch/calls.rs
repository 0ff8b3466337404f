//! Basic call control: placing calls (from outside and from extensions), routing them
//! to an extension, a queue or the outside world, ACD distribution to ready agents,
//! answering, hold/retrieve, DTMF and clearing.

use ctibridge_adapter::{CommandError, PartyState, SwitchEvent};

use super::agents::Departure;
use super::{state_name, Effects, Switch, Timer};
use crate::call::Call;
use crate::plan::{is_dialable, Destination};

const NORMAL_CLEARING: &str = "normal_clearing";
const FORCED_RELEASE: &str = "forced_release";

impl Switch {
    /// An outside caller `from` dials `to` (an extension, a queue or a DNIS).
    pub(crate) fn inbound(
        &mut self,
        from: &str,
        to: &str,
        digits: Option<String>,
        out: &mut Effects,
    ) -> Result<String, CommandError> {
        if !is_dialable(from) || self.plan.is_own(from) {
            return Err(CommandError::InvalidDestination(format!(
                "calling number `{from}` is not an outside number"
            )));
        }
        let destination = self.plan.classify(to)?;
        if let Destination::External(_) = destination {
            return Err(CommandError::InvalidDestination(format!(
                "`{to}` is not a number of this switch"
            )));
        }
        let key = self.new_call(Call {
            id: 0,
            calling: Some(from.to_string()),
            called: Some(to.to_string()),
            queue: None,
            digits,
            parties: Vec::new(),
            remote: Some(from.to_string()),
            inbound: true,
            answered: false,
            talk_epoch: 0,
        });
        // The caller hears ringback until someone answers.
        self.add_party(key, from, PartyState::Initiated);
        if !self.timing.abandon_after.is_zero() {
            out.after(self.timing.abandon_after, Timer::Abandon { call: key });
        }
        self.route(key, destination, out);
        self.distribute(out);
        Ok(key.to_string())
    }

    /// Click-to-dial from extension `from`.
    pub(super) fn make_call(
        &mut self,
        from: &str,
        to: &str,
        out: &mut Effects,
    ) -> Result<String, CommandError> {
        if !self.plan.is_device(from) {
            return Err(CommandError::InvalidDestination(format!(
                "unknown calling device `{from}`"
            )));
        }
        let destination = self.plan.classify(to)?;
        if to == from {
            return Err(CommandError::InvalidDestination(format!(
                "`{from}` cannot call itself"
            )));
        }
        if self.device_busy(from) {
            return Err(CommandError::NotSupported(format!(
                "device {from} already has a call"
            )));
        }
        Ok(self.originate(from, to, destination, out))
    }

    /// A new call from extension `from` to `to`; also the consultation call of a
    /// consultation transfer (where `from` has the held call besides).
    pub(super) fn originate(
        &mut self,
        from: &str,
        to: &str,
        destination: Destination,
        out: &mut Effects,
    ) -> String {
        let key = self.new_call(Call {
            id: 0,
            calling: Some(from.to_string()),
            called: Some(to.to_string()),
            queue: None,
            digits: None,
            parties: Vec::new(),
            remote: None,
            inbound: false,
            answered: false,
            talk_epoch: 0,
        });
        self.add_party(key, from, PartyState::Initiated);
        out.emit(SwitchEvent::Originated {
            call_id: key.to_string(),
            device: from.to_string(),
            called: Some(to.to_string()),
        });
        self.route(key, destination, out);
        key.to_string()
    }

    fn new_call(&mut self, mut call: Call) -> u64 {
        let key = self.next_call;
        self.next_call += 1;
        call.id = key;
        self.calls.insert(key, call);
        key
    }

    /// Send the call on to `destination`: ring an extension, wait in a queue, or reach
    /// the outside world.
    pub(super) fn route(&mut self, key: u64, destination: Destination, out: &mut Effects) {
        match destination {
            Destination::Device(device) => self.ring(key, &device, None, out),
            Destination::Queue(queue) => self.enqueue(key, &queue, out),
            Destination::External(number) => {
                // The simulator has no model of a far end ringing: the outside world
                // answers at once, and its human may hang up after `talk_ms`.
                self.add_party(key, &number, PartyState::Alerting);
                if let Some(call) = self.calls.get_mut(&key) {
                    if call.remote.is_none() {
                        call.remote = Some(number.clone());
                    }
                }
                self.establish(key, &number, out);
            }
        }
    }

    /// The call starts ringing at extension `device` (through ACD group `queue`).
    fn ring(&mut self, key: u64, device: &str, queue: Option<String>, out: &mut Effects) {
        let token = self.add_party(key, device, PartyState::Alerting);
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        out.emit(SwitchEvent::Delivered {
            call_id: call.id_string(),
            device: device.to_string(),
            calling: call.calling.clone(),
            called: call.called.clone(),
            original_called: None,
            trunk: None,
            queue,
            digits: call.digits.clone(),
        });
        self.schedule_auto_answer(key, device, token, out);
    }

    /// A logged-on agent's simulated human answers a ringing phone after a while.
    pub(super) fn schedule_auto_answer(
        &mut self,
        key: u64,
        device: &str,
        token: u64,
        out: &mut Effects,
    ) {
        if !self.timing.answer_after.is_zero() && self.agent_at(device).is_some() {
            let delay = self.vary(self.timing.answer_after);
            out.after(
                delay,
                Timer::AutoAnswer {
                    call: key,
                    device: device.to_string(),
                    token,
                },
            );
        }
    }

    fn enqueue(&mut self, key: u64, queue: &str, out: &mut Effects) {
        self.add_party(key, queue, PartyState::Queued);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.queue = Some(queue.to_string());
        out.emit(SwitchEvent::Queued {
            call_id: call.id_string(),
            queue: queue.to_string(),
            calling: call.calling.clone(),
            called: call.called.clone(),
            digits: call.digits.clone(),
        });
        self.waiting.push_back(key);
    }

    /// Hand waiting calls, oldest first, to free agents (logged on, ready, no call at
    /// their extension), the one idle longest first.
    pub(super) fn distribute(&mut self, out: &mut Effects) {
        while let Some(&key) = self.waiting.front() {
            let Some(queue) = self
                .calls
                .get(&key)
                .and_then(|call| call.waiting_in())
                .map(str::to_string)
            else {
                // Gone or no longer waiting: nothing to hand out.
                self.waiting.pop_front();
                continue;
            };
            let Some(device) = self.free_agent_device() else {
                break;
            };
            self.waiting.pop_front();
            if let Some(call) = self.calls.get_mut(&key) {
                call.parties.retain(|p| p.is_connection());
            }
            self.ring(key, &device, Some(queue), out);
        }
    }

    fn free_agent_device(&self) -> Option<String> {
        self.agents
            .values()
            .filter(|agent| agent.state == ctibridge_adapter::AgentState::Ready)
            .filter_map(|agent| Some((agent.idle_since, agent.device.as_deref()?)))
            .filter(|(_, device)| !self.device_busy(device))
            .min_by_key(|(idle_since, _)| *idle_since)
            .map(|(_, device)| device.to_string())
    }

    pub(super) fn answer(
        &mut self,
        call_id: &str,
        device: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        let state = self.party_state(key, device)?;
        if state != PartyState::Alerting {
            return Err(CommandError::NotSupported(format!(
                "{device} is {} in call {call_id}, not ringing",
                state_name(state)
            )));
        }
        self.establish(key, device, out);
        Ok(())
    }

    /// `device` answers: it and the dialling party are connected. Arms the simulated
    /// humans: the outside party hangs up after `talk_ms`, the agent holds once.
    pub(super) fn establish(&mut self, key: u64, device: &str, out: &mut Effects) {
        let token = self.tick();
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        for party in call.parties.iter_mut() {
            if party.device == device || party.state == PartyState::Initiated {
                party.state = PartyState::Connected;
                party.token = token;
            }
        }
        call.answered = true;
        call.talk_epoch += 1;
        let epoch = call.talk_epoch;
        let inbound = call.inbound;
        let has_remote = call.remote.is_some();
        out.emit(SwitchEvent::Established {
            call_id: call.id_string(),
            device: device.to_string(),
            calling: call.calling.clone(),
            called: call.called.clone(),
        });
        if self.timing.talk.is_zero() || !has_remote {
            return;
        }
        let mut hangup_after = self.vary(self.timing.talk);
        if inbound && !self.timing.hold.is_zero() && self.agent_at(device).is_some() {
            let hold = self.vary(self.timing.hold);
            out.after(
                hangup_after / 3,
                Timer::HoldStart {
                    call: key,
                    device: device.to_string(),
                    token,
                    hold,
                },
            );
            hangup_after += hold;
        }
        out.after(hangup_after, Timer::RemoteHangup { call: key, epoch });
    }

    pub(super) fn hangup(
        &mut self,
        call_id: &str,
        device: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        self.party_state(key, device)?;
        self.release(key, device, NORMAL_CLEARING, out);
        Ok(())
    }

    /// `device` leaves the call. A call needs two parties, so when fewer than two
    /// remain the rest are released too and the call is gone.
    pub(super) fn release(&mut self, key: u64, device: &str, cause: &str, out: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let call_id = call.id_string();
        let acd = call.queue.is_some();
        let Some(party) = call.remove_connection(device) else {
            return;
        };
        let cleared = |device: &str| SwitchEvent::ConnectionCleared {
            call_id: call_id.clone(),
            device: device.to_string(),
            cause: Some(cause.to_string()),
        };
        out.emit(cleared(&party.device));
        let mut departures = vec![Departure::new(&party, acd)];
        let ended = call.connection_count() < 2;
        if ended {
            for rest in call.parties.iter().filter(|p| p.is_connection()) {
                out.emit(cleared(&rest.device));
                departures.push(Departure::new(rest, acd));
            }
            self.remove_call(key);
        }
        self.departed(departures, out);
    }

    pub(super) fn force_release(
        &mut self,
        call_id: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        let Some(call) = self.remove_call(key) else {
            return Err(CommandError::CallNotFound(format!("no call {call_id}")));
        };
        let acd = call.queue.is_some();
        let mut departures = Vec::new();
        for party in call.connections() {
            out.emit(SwitchEvent::ConnectionCleared {
                call_id: call.id_string(),
                device: party.device.clone(),
                cause: Some(FORCED_RELEASE.into()),
            });
            departures.push(Departure::new(party, acd));
        }
        self.departed(departures, out);
        Ok(())
    }

    pub(super) fn hold(
        &mut self,
        call_id: &str,
        device: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        let state = self.party_state(key, device)?;
        if state != PartyState::Connected {
            return Err(CommandError::NotSupported(format!(
                "{device} is {} in call {call_id}; only a connected call can be held",
                state_name(state)
            )));
        }
        self.set_party_state(key, device, PartyState::Held);
        out.emit(SwitchEvent::Held {
            call_id: key.to_string(),
            device: device.to_string(),
        });
        Ok(())
    }

    pub(super) fn retrieve(
        &mut self,
        call_id: &str,
        device: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        let state = self.party_state(key, device)?;
        if state != PartyState::Held {
            return Err(CommandError::NotSupported(format!(
                "{device} is {} in call {call_id}, not on hold",
                state_name(state)
            )));
        }
        self.set_party_state(key, device, PartyState::Connected);
        out.emit(SwitchEvent::Retrieved {
            call_id: key.to_string(),
            device: device.to_string(),
        });
        Ok(())
    }

    pub(super) fn dtmf(
        &mut self,
        call_id: &str,
        device: &str,
        digits: &str,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        let state = self.party_state(key, device)?;
        if state != PartyState::Connected {
            return Err(CommandError::NotSupported(format!(
                "{device} is {} in call {call_id}; DTMF needs a connected call",
                state_name(state)
            )));
        }
        let valid = !digits.is_empty()
            && digits.bytes().all(|b| {
                b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'A'..=b'D' | b'a'..=b'd')
            });
        if !valid {
            return Err(CommandError::Rejected(format!(
                "`{digits}` are not DTMF digits (0-9, *, #, A-D)"
            )));
        }
        // The tones go down the line; nothing in the switch's state changes.
        Ok(())
    }
}
