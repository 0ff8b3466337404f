//! The switch model: extensions, ACD queues, agents and calls, and what every command
//! and timer does to them.
//!
//! It is pure: no tokio, no clock, no channels. Each operation appends the events it
//! caused, and the timers it wants armed (as delays), to an [`Effects`]; the actor in
//! `crate::adapter` reports the events and arms the timers, and hands each expired
//! [`Timer`] back to [`Switch::fire`]. A timer never has to be cancelled: it carries a
//! token of the state it was armed for and does nothing when that state has moved on.
//! That keeps the model testable without a runtime.
//!
//! Submodules add the operations by topic: `calls` (placing, ringing, answering and
//! clearing calls, ACD distribution), `transfer` (transfer, conference, monitor),
//! `agents` (log on/off, agent states, after-call work), `timers` (the simulated
//! humans and the call generator).

mod agents;
mod calls;
mod timers;
mod transfer;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use ctibridge_adapter::command::CommandResult;
use ctibridge_adapter::{
    AgentState, Command, CommandError, CommandOk, PartyState, Snapshot, SwitchEvent, TransferMode,
};
use rand::rngs::StdRng;
use rand::Rng;

use crate::agent::Agent;
use crate::call::{Call, Party};
use crate::config::{SimAgentState, SimConfig};
use crate::plan::NumberPlan;

pub(crate) use timers::Timer;

/// The longest delay the model asks for. A very small call rate would otherwise give
/// delays that overflow a clock; a month is "never" for a simulator.
const MAX_DELAY: Duration = Duration::from_secs(30 * 24 * 3600);

/// What an operation caused: events to report, in order, and timers to arm.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub events: Vec<SwitchEvent>,
    pub timers: Vec<(Duration, Timer)>,
}

impl Effects {
    fn emit(&mut self, event: SwitchEvent) {
        self.events.push(event);
    }

    fn after(&mut self, delay: Duration, timer: Timer) {
        self.timers.push((delay.min(MAX_DELAY), timer));
    }
}

/// The simulated humans' timing, sanitised (the config is validated by the factory,
/// but `SimAdapter::new` takes any config and must not panic on it).
#[derive(Debug, Clone)]
struct Timing {
    calls_per_s: f64,
    answer_after: Duration,
    talk: Duration,
    abandon_after: Duration,
    hold: Duration,
    acw: Duration,
    jitter: f64,
}

pub(crate) struct Switch {
    plan: NumberPlan,
    timing: Timing,
    /// The generator's callers and the numbers it dials.
    callers: Vec<String>,
    entries: Vec<String>,
    calls: BTreeMap<u64, Call>,
    /// Calls waiting in ACD groups, oldest first (one line for all groups: every agent
    /// serves every group, so the oldest call anywhere is served first).
    waiting: VecDeque<u64>,
    agents: BTreeMap<String, Agent>,
    next_call: u64,
    /// A switch-wide counter for party tokens and agents' idle order.
    counter: u64,
    rng: StdRng,
}

impl Switch {
    pub(crate) fn new(devices: Vec<String>, config: SimConfig, rng: StdRng) -> Switch {
        let plan = NumberPlan::new(devices, config.queues, config.dnis);
        let finite_or_zero = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        let timing = Timing {
            calls_per_s: finite_or_zero(config.inbound_calls_per_s),
            answer_after: config.answer_after,
            talk: config.talk,
            abandon_after: config.abandon_after,
            hold: config.hold,
            acw: config.acw,
            jitter: finite_or_zero(config.jitter).min(1.0),
        };
        let mut switch = Switch {
            entries: plan.entry_numbers(),
            plan,
            timing,
            callers: config.callers,
            calls: BTreeMap::new(),
            waiting: VecDeque::new(),
            agents: BTreeMap::new(),
            next_call: 1,
            counter: 0,
            rng,
        };
        for agent in config.agents {
            let (device, state) = match agent.state {
                SimAgentState::Ready => (Some(agent.extension.clone()), AgentState::Ready),
                SimAgentState::NotReady => (
                    Some(agent.extension.clone()),
                    AgentState::NotReady { reason: None },
                ),
                SimAgentState::LoggedOut => (None, AgentState::LoggedOut),
            };
            let idle_since = switch.tick();
            switch.agents.insert(
                agent.agent.clone(),
                Agent {
                    id: agent.agent,
                    password: agent.password,
                    device,
                    home: agent.extension,
                    state,
                    epoch: 0,
                    idle_since,
                },
            );
        }
        switch
    }

    /// Carry out a command. Commands that fail change nothing.
    pub(crate) fn command(&mut self, command: Command, out: &mut Effects) -> CommandResult {
        let done = |()| CommandOk::default();
        let result = match command {
            Command::MakeCall { from, to } => self.make_call(&from, &to, out).map(CommandOk::call),
            Command::Answer { call_id, device } => self.answer(&call_id, &device, out).map(done),
            Command::Hangup { call_id, device } => self.hangup(&call_id, &device, out).map(done),
            Command::Hold { call_id, device } => self.hold(&call_id, &device, out).map(done),
            Command::Retrieve { call_id, device } => {
                self.retrieve(&call_id, &device, out).map(done)
            }
            Command::Transfer {
                call_id,
                device,
                mode,
                to,
                consult_call_id,
            } => match (mode, to, consult_call_id) {
                (TransferMode::Blind, Some(to), _) => {
                    self.transfer_blind(&call_id, &device, &to, out).map(done)
                }
                (TransferMode::Consult, Some(to), _) => self
                    .transfer_consult(&call_id, &device, &to, out)
                    .map(CommandOk::call),
                (TransferMode::Complete, _, Some(consult)) => self
                    .transfer_complete(&call_id, &device, &consult, out)
                    .map(done),
                (TransferMode::Blind | TransferMode::Consult, None, _) => {
                    Err(CommandError::InvalidDestination(
                        "a transfer needs a destination (`to`)".into(),
                    ))
                }
                (TransferMode::Complete, _, None) => Err(CommandError::CallNotFound(
                    "completing a transfer needs the consultation call (`consult_call_id`)".into(),
                )),
            },
            Command::Conference {
                call_id,
                device,
                to,
                consult_call_id,
            } => match (consult_call_id, to) {
                (Some(consult), _) => self
                    .conference_consult(&call_id, &device, &consult, out)
                    .map(done),
                (None, Some(to)) => self.conference_add(&call_id, &device, &to, out).map(done),
                (None, None) => Err(CommandError::InvalidDestination(
                    "a conference needs `to` or `consult_call_id`".into(),
                )),
            },
            Command::Dtmf {
                call_id,
                device,
                digits,
            } => self.dtmf(&call_id, &device, &digits).map(done),
            Command::AgentLogin {
                agent,
                device,
                password,
            } => self
                .agent_login(&agent, &device, password.as_deref(), out)
                .map(done),
            Command::AgentLogout { agent, device } => {
                self.agent_logout(&agent, &device, out).map(done)
            }
            Command::SetAgentState {
                agent,
                device,
                state,
            } => self
                .set_agent_state(&agent, &device, state.as_state(), out)
                .map(done),
            Command::Monitor {
                call_id,
                device,
                supervisor_device,
                mode: _,
            } => self
                .monitor(&call_id, &device, &supervisor_device, out)
                .map(done),
            Command::ForceRelease { call_id } => self.force_release(&call_id, out).map(done),
            Command::RouteSelect { .. } => Err(CommandError::NotSupported(
                "the simulator makes no routing requests".into(),
            )),
            Command::Snapshot => {
                out.emit(SwitchEvent::Snapshot(self.snapshot()));
                Ok(CommandOk::default())
            }
            Command::SimulateInbound { from, to, digits } => {
                self.inbound(&from, &to, digits, out).map(CommandOk::call)
            }
        };
        // Any change may have freed an agent or queued a call.
        self.distribute(out);
        result
    }

    /// Every call with its parties, every agent the switch knows.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            calls: self.calls.values().map(Call::snapshot).collect(),
            agents: self.agents.values().map(Agent::snapshot).collect(),
        }
    }

    fn tick(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// `ms` milliseconds, varied by up to ±jitter.
    fn vary(&mut self, base: Duration) -> Duration {
        let jitter = self.timing.jitter;
        if jitter <= 0.0 {
            return base.min(MAX_DELAY);
        }
        let factor = 1.0 + self.rng.random_range(-jitter..=jitter);
        seconds(base.as_secs_f64() * factor)
    }

    /// The call a command names, or `CallNotFound`.
    fn call_key(&self, call_id: &str) -> Result<u64, CommandError> {
        call_id
            .parse::<u64>()
            .ok()
            .filter(|key| self.calls.contains_key(key))
            .ok_or_else(|| CommandError::CallNotFound(format!("no call {call_id}")))
    }

    /// `device`'s connection state in a call, or `CallNotFound` when it has none.
    fn party_state(&self, key: u64, device: &str) -> Result<PartyState, CommandError> {
        self.calls
            .get(&key)
            .and_then(|call| call.connection(device))
            .map(|party| party.state)
            .ok_or_else(|| CommandError::CallNotFound(format!("{device} is not in call {key}")))
    }

    /// Whether `number` is a party of the call in any state (the queue included).
    fn in_call(&self, key: u64, number: &str) -> bool {
        self.calls
            .get(&key)
            .is_some_and(|call| call.parties.iter().any(|p| p.device == number))
    }

    /// Whether `device` has a connection to any call.
    fn device_busy(&self, device: &str) -> bool {
        self.calls
            .values()
            .any(|call| call.connection(device).is_some())
    }

    fn agent_at(&self, device: &str) -> Option<&Agent> {
        self.agents.values().find(|a| a.logged_on_at(device))
    }

    fn add_party(&mut self, key: u64, device: &str, state: PartyState) -> u64 {
        let token = self.tick();
        if let Some(call) = self.calls.get_mut(&key) {
            call.parties.push(Party {
                device: device.to_string(),
                state,
                token,
            });
        }
        token
    }

    /// Put `device`'s connection in `state`; returns its new token.
    fn set_party_state(&mut self, key: u64, device: &str, state: PartyState) -> u64 {
        let token = self.tick();
        if let Some(party) = self
            .calls
            .get_mut(&key)
            .and_then(|call| call.connection_mut(device))
        {
            party.state = state;
            party.token = token;
        }
        token
    }

    fn remove_call(&mut self, key: u64) -> Option<Call> {
        self.waiting.retain(|k| *k != key);
        self.calls.remove(&key)
    }
}

/// A duration of `secs` seconds, clamped to 0..=[`MAX_DELAY`] (NaN is 0).
fn seconds(secs: f64) -> Duration {
    if secs.is_finite() && secs > 0.0 {
        Duration::try_from_secs_f64(secs)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY)
    } else {
        Duration::ZERO
    }
}

/// A party state as the messages name it.
fn state_name(state: PartyState) -> &'static str {
    match state {
        PartyState::Alerting => "ringing",
        PartyState::Initiated => "dialling",
        PartyState::Connected => "connected",
        PartyState::Held => "on hold",
        PartyState::Queued => "queued",
    }
}
