//! Agents as queue members: QueueMemberAdded/Removed (log on/off) and the pause
//! state (QueueMemberPause, or Paused in QueueMemberStatus) of the configured agents.
//!
//! An agent is logged on while it is a member of at least one configured queue (all
//! queues when none are configured); paused is not ready with the pause reason
//! (`PausedReason` from Asterisk 14, `Reason` in 13).

use std::collections::BTreeSet;

use ctibridge_adapter::{AgentSnapshot, AgentState, SwitchEvent};

use super::channel;
use crate::codec::{Headers, Message};
use crate::config::AgentConfig;

#[derive(Debug, Clone)]
struct Agent {
    config: AgentConfig,
    interface: String,
    queues: BTreeSet<String>,
    paused: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub struct Agents {
    agents: Vec<Agent>,
    queues: Vec<String>,
}

impl Agents {
    pub fn new(agents: &[AgentConfig], queues: &[String]) -> Agents {
        Agents {
            agents: agents
                .iter()
                .map(|a| Agent {
                    interface: a.interface(),
                    config: a.clone(),
                    queues: BTreeSet::new(),
                    paused: None,
                })
                .collect(),
            queues: queues.to_vec(),
        }
    }

    pub fn config(&self, agent: &str) -> Option<&AgentConfig> {
        self.agents
            .iter()
            .find(|a| a.config.agent == agent)
            .map(|a| &a.config)
    }

    fn find(&self, msg: &impl Headers) -> Option<usize> {
        let names = [
            "Interface",
            "Location",
            "StateInterface",
            "MemberName",
            "Name",
        ];
        names.iter().filter_map(|k| msg.header(k)).find_map(|name| {
            self.agents
                .iter()
                .position(|a| a.interface.eq_ignore_ascii_case(name))
                .or_else(|| {
                    let device = channel::device(name)?;
                    self.agents
                        .iter()
                        .position(|a| a.config.extension == device)
                })
        })
    }

    fn counts(&self, queue: &str) -> bool {
        self.queues.is_empty() || self.queues.iter().any(|q| q == queue)
    }

    fn state(agent: &Agent) -> AgentState {
        match (&agent.paused, agent.queues.is_empty()) {
            (_, true) => AgentState::LoggedOut,
            (Some(reason), false) => AgentState::NotReady {
                reason: reason.clone(),
            },
            (None, false) => AgentState::Ready,
        }
    }

    fn report(agent: &Agent, out: &mut Vec<SwitchEvent>) {
        let (a, d) = (agent.config.agent.clone(), agent.config.extension.clone());
        out.push(match Self::state(agent) {
            AgentState::LoggedOut => SwitchEvent::LoggedOff {
                agent: a,
                device: d,
            },
            AgentState::Ready => SwitchEvent::Ready {
                agent: a,
                device: d,
            },
            AgentState::NotReady { reason } => SwitchEvent::NotReady {
                agent: a,
                device: d,
                reason,
            },
            AgentState::Acw => SwitchEvent::WorkNotReady {
                agent: a,
                device: d,
            },
        });
    }

    fn paused_of(msg: &impl Headers) -> Option<Option<String>> {
        let paused = msg.header("Paused")?;
        (paused == "1" || paused.eq_ignore_ascii_case("true")).then(|| {
            msg.header("PausedReason")
                .or(msg.header("Reason"))
                .filter(|r| !r.is_empty())
                .map(String::from)
        })
    }

    pub fn handle(&mut self, event: &str, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        let Some(queue) = msg.get("Queue") else {
            return;
        };
        if !self.counts(queue) {
            return;
        }
        let Some(i) = self.find(msg) else { return };
        let before = Self::state(&self.agents[i]);
        let agent = &mut self.agents[i];
        match event {
            "QueueMemberAdded" => {
                let first = agent.queues.is_empty();
                agent.queues.insert(queue.to_string());
                agent.paused = Self::paused_of(msg);
                if first {
                    out.push(SwitchEvent::LoggedOn {
                        agent: agent.config.agent.clone(),
                        device: agent.config.extension.clone(),
                    });
                }
            }
            "QueueMemberRemoved" => {
                agent.queues.remove(queue);
            }
            _ => {
                if msg.get("Paused").is_some() {
                    agent.paused = Self::paused_of(msg);
                }
            }
        }
        let agent = &self.agents[i];
        if Self::state(agent) != before {
            Self::report(agent, out);
        }
    }

    /// Rebuild from a QueueStatus list (QueueMember items), for a snapshot.
    pub fn resync<'m, H: Headers + 'm>(
        &mut self,
        members: impl Iterator<Item = &'m H>,
    ) -> Vec<AgentSnapshot> {
        for a in &mut self.agents {
            a.queues.clear();
            a.paused = None;
        }
        for msg in members {
            let Some(queue) = msg.header("Queue") else {
                continue;
            };
            if !self.counts(queue) {
                continue;
            }
            if let Some(i) = self.find(msg) {
                self.agents[i].queues.insert(queue.to_string());
                self.agents[i].paused = Self::paused_of(msg);
            }
        }
        self.agents
            .iter()
            .filter(|a| !a.queues.is_empty())
            .map(|a| AgentSnapshot {
                agent: a.config.agent.clone(),
                device: a.config.extension.clone(),
                state: Self::state(a),
            })
            .collect()
    }
}
