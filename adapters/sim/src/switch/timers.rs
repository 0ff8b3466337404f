//! What happens when time passes: the simulated humans (agents answering and holding,
//! callers hanging up or giving up, after-call work ending) and the call generator.
//!
//! Each [`Timer`] names the state it was armed for (a party's token, a call's talk
//! epoch, an agent's epoch); when it expires after that state has changed it does
//! nothing, so timers never need cancelling.

use std::time::Duration;

use ctibridge_adapter::{PartyState, SwitchEvent};
use rand::seq::IndexedRandom;
use rand::Rng;

use super::{seconds, Effects, Switch};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Timer {
    /// The generator places its next outside call.
    NextInbound,
    /// The agent at `device` picks up the ringing phone.
    AutoAnswer {
        call: u64,
        device: String,
        token: u64,
    },
    /// The outside caller gives up if nobody has answered yet.
    Abandon { call: u64 },
    /// The outside party ends the conversation that began with answer `epoch`.
    RemoteHangup { call: u64, epoch: u64 },
    /// The agent puts the caller on hold for `hold`.
    HoldStart {
        call: u64,
        device: String,
        token: u64,
        hold: Duration,
    },
    /// The agent takes the caller off hold.
    HoldEnd {
        call: u64,
        device: String,
        token: u64,
    },
    /// After-call work ends.
    AcwEnd { agent: String, epoch: u64 },
}

impl Switch {
    /// Arm what runs by itself from the start: the call generator.
    pub(crate) fn start(&mut self, out: &mut Effects) {
        if self.timing.calls_per_s > 0.0 {
            let delay = self.next_arrival();
            out.after(delay, Timer::NextInbound);
        }
    }

    /// An armed timer expired.
    pub(crate) fn fire(&mut self, timer: Timer, out: &mut Effects) {
        match timer {
            Timer::NextInbound => self.generate(out),
            Timer::AutoAnswer {
                call,
                device,
                token,
            } => {
                if self.party_is(call, &device, token, PartyState::Alerting) {
                    self.establish(call, &device, out);
                }
            }
            Timer::Abandon { call } => {
                let caller = self
                    .calls
                    .get(&call)
                    .filter(|c| !c.answered)
                    .and_then(|c| c.remote.clone());
                if let Some(caller) = caller {
                    self.release(call, &caller, "normal_clearing", out);
                }
            }
            Timer::RemoteHangup { call, epoch } => {
                let remote = self
                    .calls
                    .get(&call)
                    .filter(|c| c.talk_epoch == epoch)
                    .and_then(|c| c.remote.clone());
                if let Some(remote) = remote {
                    self.release(call, &remote, "normal_clearing", out);
                }
            }
            Timer::HoldStart {
                call,
                device,
                token,
                hold,
            } => {
                if self.party_is(call, &device, token, PartyState::Connected) {
                    let token = self.set_party_state(call, &device, PartyState::Held);
                    out.emit(SwitchEvent::Held {
                        call_id: call.to_string(),
                        device: device.clone(),
                    });
                    out.after(
                        hold,
                        Timer::HoldEnd {
                            call,
                            device,
                            token,
                        },
                    );
                }
            }
            Timer::HoldEnd {
                call,
                device,
                token,
            } => {
                if self.party_is(call, &device, token, PartyState::Held) {
                    self.set_party_state(call, &device, PartyState::Connected);
                    out.emit(SwitchEvent::Retrieved {
                        call_id: call.to_string(),
                        device,
                    });
                }
            }
            Timer::AcwEnd { agent, epoch } => self.acw_over(&agent, epoch, out),
        }
        // A call may have ended or an agent become ready.
        self.distribute(out);
    }

    /// Whether `device` is still in `state` with the token the timer was armed with.
    fn party_is(&self, call: u64, device: &str, token: u64, state: PartyState) -> bool {
        self.calls
            .get(&call)
            .and_then(|c| c.connection(device))
            .is_some_and(|p| p.token == token && p.state == state)
    }

    /// Place one generated call and arm the next.
    fn generate(&mut self, out: &mut Effects) {
        let caller = self.callers.choose(&mut self.rng).cloned();
        let entry = self.entries.choose(&mut self.rng).cloned();
        if let (Some(caller), Some(entry)) = (caller, entry) {
            if let Err(e) = self.inbound(&caller, &entry, None, out) {
                tracing::warn!("simulated call from {caller} to {entry} failed: {e}");
            }
        }
        let delay = self.next_arrival();
        out.after(delay, Timer::NextInbound);
    }

    /// Time to the next arrival of a Poisson process: exponentially distributed.
    fn next_arrival(&mut self) -> Duration {
        // 1 - u is in (0, 1], so its logarithm is finite.
        let u: f64 = self.rng.random();
        seconds(-(1.0 - u).ln() / self.timing.calls_per_s)
    }
}
