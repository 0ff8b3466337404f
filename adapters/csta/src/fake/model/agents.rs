//! ACD agents and queues: agent log-on and state changes, and handing
//! queued calls to the longest-ready agent.

use super::super::config::{FakeAgent, FakeConfig};
use super::super::shared::AgentRequest;
use super::super::shared::CstaError;
use super::{
    AgentEventKind, AgentSnapshot, AgentState, DeviceKind, Event, Model, Notice, PartyState,
    INVALID_DEVICE,
};

#[derive(Debug, Clone)]
pub(super) struct Agent {
    id: String,
    password: String,
    groups: Vec<String>,
    device: Option<String>,
    state: AgentState,
    reason: Option<String>,
    /// Clock value when the agent last became ready (longest-ready first).
    ready_since: u64,
    /// The ACD call the agent is handling.
    acd_call: Option<String>,
}

impl Agent {
    pub(super) fn new(agent: &FakeAgent, cfg: &FakeConfig) -> Self {
        Self {
            id: agent.agent.clone(),
            password: agent.password.clone(),
            groups: cfg
                .acd_groups
                .iter()
                .filter(|g| g.agents.contains(&agent.agent))
                .map(|g| g.device.clone())
                .collect(),
            device: None,
            state: AgentState::Null,
            reason: None,
            ready_since: 0,
            acd_call: None,
        }
    }

    fn snapshot(&self) -> AgentSnapshot {
        AgentSnapshot {
            agent: self.id.clone(),
            device: self.device.clone(),
            state: self.state,
            reason: self.reason.clone(),
        }
    }
}

/// Who asks for an agent state change, and what they proved.
#[derive(Debug, Clone, Copy)]
pub struct AgentCmd<'a> {
    pub device: &'a str,
    pub agent: Option<&'a str>,
    pub password: Option<&'a str>,
    pub group: Option<&'a str>,
    /// `false` for changes made at the phone (tests), which need no password.
    pub check_password: bool,
}

impl Model {
    pub fn agent(&self, agent: &str) -> Option<AgentSnapshot> {
        self.agents
            .iter()
            .find(|a| a.id == agent)
            .map(Agent::snapshot)
    }

    /// Agents to report for `GetAgentState` on `device`: the agent logged
    /// on at an extension (a logged-off entry with no agent id when there
    /// is none), or every agent serving an ACD group.
    pub fn agents_at(
        &self,
        device: &str,
        agent: Option<&str>,
    ) -> Result<Vec<AgentSnapshot>, CstaError> {
        if let Some(id) = agent {
            return self
                .agent(id)
                .map(|a| vec![a])
                .ok_or(CstaError::Operation("invalidAgentID"));
        }
        match self.kind(device) {
            DeviceKind::Extension => Ok(vec![self
                .agents
                .iter()
                .find(|a| a.device.as_deref() == Some(device))
                .map_or_else(
                    || AgentSnapshot {
                        agent: String::new(),
                        device: None,
                        state: AgentState::Null,
                        reason: None,
                    },
                    Agent::snapshot,
                )]),
            DeviceKind::AcdGroup => Ok(self
                .agents
                .iter()
                .filter(|a| a.groups.iter().any(|g| g == device))
                .map(Agent::snapshot)
                .collect()),
            _ => Err(INVALID_DEVICE),
        }
    }

    fn emit_agent(&mut self, ai: usize, kind: AgentEventKind, device: &str) {
        let a = &self.agents[ai];
        let mut audience = vec![(device.to_owned(), None)];
        audience.extend(a.groups.iter().map(|g| (g.clone(), None)));
        let reason = if kind == AgentEventKind::NotReady {
            a.reason.clone()
        } else {
            None
        };
        self.out.notices.push(Notice {
            event: Event::Agent {
                kind,
                device: device.to_owned(),
                agent: a.id.clone(),
                reason,
            },
            audience,
        });
    }

    /// Calls queued at `group`, longest waiting first.
    pub(super) fn queued_at(&self, group: &str) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.calls.len())
            .filter(|&i| {
                self.calls[i]
                    .parties
                    .iter()
                    .any(|p| p.device == group && p.state == PartyState::Queued)
            })
            .collect();
        v.sort_by_key(|&i| self.calls[i].queued_seq);
        v
    }

    /// Hands queued calls to ready agents, longest-ready first, while both
    /// exist.
    pub(super) fn distribute(&mut self, group: &str) {
        loop {
            let Some(&ci) = self.queued_at(group).first() else {
                return;
            };
            let Some(ai) = (0..self.agents.len())
                .filter(|&i| {
                    let a = &self.agents[i];
                    a.device.is_some()
                        && a.state == AgentState::Ready
                        && a.acd_call.is_none()
                        && a.groups.iter().any(|g| g == group)
                })
                .min_by_key(|&i| self.agents[i].ready_since)
            else {
                return;
            };
            let Some(device) = self.agents[ai].device.clone() else {
                return;
            };
            self.calls[ci].parties.retain(|p| p.device != group);
            let call_id = self.calls[ci].id.clone();
            let agent = &mut self.agents[ai];
            agent.state = AgentState::Busy;
            agent.acd_call = Some(call_id);
            self.deliver(ci, &device, "distributed", Some(group), &[group]);
            self.emit_agent(ai, AgentEventKind::Busy, &device);
        }
    }

    /// The agent at `device` finished ACD call `call`.
    pub(super) fn acd_call_done(&mut self, call: &str, device: &str) {
        let Some(ai) = self.agents.iter().position(|a| {
            a.device.as_deref() == Some(device) && a.acd_call.as_deref() == Some(call)
        }) else {
            return;
        };
        self.agents[ai].acd_call = None;
        // A state the agent chose during the call (not ready, ready) stands.
        if self.agents[ai].state != AgentState::Busy {
            return;
        }
        if self.acw_after_call {
            self.agents[ai].state = AgentState::WorkingAfterCall;
            self.emit_agent(ai, AgentEventKind::WorkingAfterCall, device);
        } else {
            self.make_ready(ai, device);
        }
    }

    fn make_ready(&mut self, ai: usize, device: &str) {
        let t = self.tick();
        let a = &mut self.agents[ai];
        a.state = AgentState::Ready;
        a.ready_since = t;
        a.reason = None;
        self.emit_agent(ai, AgentEventKind::Ready, device);
        for g in self.agents[ai].groups.clone() {
            self.distribute(&g);
        }
    }

    /// Calls merged into another keep their agents' ACD association.
    pub(super) fn rename_acd_call(&mut self, from: &str, to: &str) {
        for a in &mut self.agents {
            if a.acd_call.as_deref() == Some(from) {
                a.acd_call = Some(to.to_owned());
            }
        }
    }

    pub fn set_agent(
        &mut self,
        cmd: AgentCmd<'_>,
        request: &AgentRequest,
    ) -> Result<(), CstaError> {
        if self.kind(cmd.device) != DeviceKind::Extension {
            return Err(INVALID_DEVICE);
        }
        let invalid_id = CstaError::Operation("invalidAgentID");
        let invalid_state = CstaError::Operation("invalidAgentState");
        let ai = match cmd.agent {
            Some(id) => self
                .agents
                .iter()
                .position(|a| a.id == id)
                .ok_or(invalid_id)?,
            None => self
                .agents
                .iter()
                .position(|a| a.device.as_deref() == Some(cmd.device))
                .ok_or(if *request == AgentRequest::LoggedOn {
                    invalid_id
                } else {
                    invalid_state
                })?,
        };
        if cmd.check_password {
            let wrong = cmd.password.is_some_and(|p| p != self.agents[ai].password)
                || (*request == AgentRequest::LoggedOn && cmd.password.is_none());
            if wrong {
                return Err(CstaError::Operation("invalidAgentPassword"));
            }
        }
        if let Some(g) = cmd.group {
            if !self.agents[ai].groups.iter().any(|x| x == g) {
                return Err(CstaError::Operation("invalidAgentGroup"));
            }
        }
        let device = cmd.device.to_owned();
        if *request == AgentRequest::LoggedOn {
            let occupied = self
                .agents
                .iter()
                .any(|a| a.device.as_deref() == Some(cmd.device));
            if self.agents[ai].device.is_some() || occupied {
                return Err(invalid_state);
            }
            let a = &mut self.agents[ai];
            a.device = Some(device.clone());
            a.state = AgentState::NotReady;
            a.reason = None;
            self.emit_agent(ai, AgentEventKind::LoggedOn, &device);
            return Ok(());
        }
        if self.agents[ai].device.as_deref() != Some(cmd.device) {
            return Err(invalid_state);
        }
        match request {
            AgentRequest::LoggedOn => {}
            AgentRequest::LoggedOff => {
                let a = &mut self.agents[ai];
                a.device = None;
                a.state = AgentState::Null;
                a.reason = None;
                // The call stays up, but it no longer binds the agent: after
                // the next log-on the agent must be free for ACD calls.
                a.acd_call = None;
                self.emit_agent(ai, AgentEventKind::LoggedOff, &device);
            }
            AgentRequest::NotReady { reason } => {
                let a = &mut self.agents[ai];
                a.state = AgentState::NotReady;
                a.reason = reason.clone();
                self.emit_agent(ai, AgentEventKind::NotReady, &device);
            }
            AgentRequest::Ready => self.make_ready(ai, &device),
            AgentRequest::WorkingAfterCall => {
                let a = &mut self.agents[ai];
                a.state = AgentState::WorkingAfterCall;
                a.reason = None;
                self.emit_agent(ai, AgentEventKind::WorkingAfterCall, &device);
            }
        }
        Ok(())
    }
}
