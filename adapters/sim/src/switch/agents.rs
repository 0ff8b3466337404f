//! ACD agents: log on (with the configured password), log off, agent states, and the
//! after-call work that follows an ACD call.

use ctibridge_adapter::{AgentState, CommandError, PartyState, SwitchEvent};

use super::{Effects, Switch, Timer};
use crate::agent::Agent;
use crate::call::Party;

/// An extension left a call; what its agent does next depends on how.
pub(super) struct Departure {
    device: String,
    /// It was in the conversation (connected or on hold), not only ringing.
    talked: bool,
    /// The call came through an ACD group.
    acd: bool,
}

impl Departure {
    pub(super) fn new(party: &Party, acd: bool) -> Self {
        Departure {
            device: party.device.clone(),
            talked: matches!(party.state, PartyState::Connected | PartyState::Held),
            acd,
        }
    }

    /// One departure for an extension that left two calls at once (a transfer).
    pub(super) fn merge(self, other: Departure) -> Self {
        Departure {
            device: self.device,
            talked: self.talked || other.talked,
            acd: self.acd || other.acd,
        }
    }
}

impl Switch {
    /// Bookkeeping after extensions left calls: an agent whose extension is now free
    /// joins the back of the idle line, and an agent that talked on an ACD call goes
    /// into after-call work (when configured) before taking the next one.
    pub(super) fn departed(&mut self, departures: Vec<Departure>, out: &mut Effects) {
        for departure in departures {
            let Some(agent_id) = self.agent_at(&departure.device).map(|a| a.id.clone()) else {
                continue;
            };
            let now_free = !self.device_busy(&departure.device);
            let stamp = self.tick();
            let acw = departure.acd && departure.talked && !self.timing.acw.is_zero();
            let acw_for = if acw {
                self.vary(self.timing.acw)
            } else {
                std::time::Duration::ZERO
            };
            let Some(agent) = self.agents.get_mut(&agent_id) else {
                continue;
            };
            if now_free {
                agent.idle_since = stamp;
            }
            // An agent who went not ready during the call stays so: no ACW then.
            if acw && agent.state == AgentState::Ready {
                agent.state = AgentState::Acw;
                agent.epoch += 1;
                out.emit(SwitchEvent::WorkNotReady {
                    agent: agent.id.clone(),
                    device: departure.device.clone(),
                });
                out.after(
                    acw_for,
                    Timer::AcwEnd {
                        agent: agent.id.clone(),
                        epoch: agent.epoch,
                    },
                );
            }
        }
    }

    pub(super) fn agent_login(
        &mut self,
        agent: &str,
        device: &str,
        password: Option<&str>,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        if !self.plan.is_device(device) {
            return Err(CommandError::InvalidDestination(format!(
                "unknown device `{device}`"
            )));
        }
        if agent.trim().is_empty() {
            return Err(CommandError::Rejected("the agent id is empty".into()));
        }
        if let Some(other) = self.agent_at(device).filter(|other| other.id != agent) {
            return Err(CommandError::Rejected(format!(
                "agent {} is already logged on at {device}",
                other.id
            )));
        }
        if let Some(known) = self.agents.get(agent) {
            if let Some(at) = &known.device {
                return Err(CommandError::Rejected(format!(
                    "agent {agent} is already logged on at {at}"
                )));
            }
            if let Some(expected) = &known.password {
                if password != Some(expected.as_str()) {
                    return Err(CommandError::Rejected("wrong agent password".into()));
                }
            }
        }
        let stamp = self.tick();
        let entry = self
            .agents
            .entry(agent.to_string())
            .or_insert_with(|| Agent {
                id: agent.to_string(),
                password: None,
                device: None,
                home: device.to_string(),
                state: AgentState::LoggedOut,
                epoch: 0,
                idle_since: stamp,
            });
        entry.device = Some(device.to_string());
        entry.home = device.to_string();
        // Logged on means not ready until the agent says otherwise, as on real ACDs;
        // the engine infers that from `LoggedOn`, so no `NotReady` is reported.
        entry.state = AgentState::NotReady { reason: None };
        entry.epoch += 1;
        entry.idle_since = stamp;
        out.emit(SwitchEvent::LoggedOn {
            agent: agent.to_string(),
            device: device.to_string(),
        });
        Ok(())
    }

    pub(super) fn agent_logout(
        &mut self,
        agent: &str,
        device: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let entry = self.logged_on(agent, device)?;
        entry.device = None;
        entry.state = AgentState::LoggedOut;
        entry.epoch += 1;
        out.emit(SwitchEvent::LoggedOff {
            agent: agent.to_string(),
            device: device.to_string(),
        });
        Ok(())
    }

    pub(super) fn set_agent_state(
        &mut self,
        agent: &str,
        device: &str,
        state: AgentState,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let stamp = self.tick();
        let entry = self.logged_on(agent, device)?;
        let event = match &state {
            AgentState::Ready => SwitchEvent::Ready {
                agent: agent.to_string(),
                device: device.to_string(),
            },
            AgentState::NotReady { reason } => SwitchEvent::NotReady {
                agent: agent.to_string(),
                device: device.to_string(),
                reason: reason.clone(),
            },
            AgentState::Acw => SwitchEvent::WorkNotReady {
                agent: agent.to_string(),
                device: device.to_string(),
            },
            AgentState::LoggedOut => {
                return Err(CommandError::NotSupported(
                    "log the agent out with agent logout".into(),
                ))
            }
        };
        if state == AgentState::Ready && entry.state != AgentState::Ready {
            entry.idle_since = stamp;
        }
        entry.state = state;
        // Whatever after-call work was pending is over: the agent chose a state.
        entry.epoch += 1;
        out.emit(event);
        Ok(())
    }

    /// The end of after-call work: ready again, unless the agent changed state since.
    pub(super) fn acw_over(&mut self, agent: &str, epoch: u64, out: &mut Effects) {
        let stamp = self.tick();
        let Some(entry) = self.agents.get_mut(agent) else {
            return;
        };
        let Some(device) = entry.device.clone() else {
            return;
        };
        if entry.epoch != epoch || entry.state != AgentState::Acw {
            return;
        }
        entry.state = AgentState::Ready;
        entry.epoch += 1;
        entry.idle_since = stamp;
        out.emit(SwitchEvent::Ready {
            agent: agent.to_string(),
            device,
        });
    }

    /// The agent, when it is logged on at `device`; else `Rejected`.
    fn logged_on(&mut self, agent: &str, device: &str) -> Result<&mut Agent, CommandError> {
        self.agents
            .get_mut(agent)
            .filter(|entry| entry.logged_on_at(device))
            .ok_or_else(|| {
                CommandError::Rejected(format!("agent {agent} is not logged on at {device}"))
            })
    }
}
