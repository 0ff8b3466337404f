//! One ACD agent as the simulated switch knows it: where it is logged on, its state,
//! its password.

use ctibridge_adapter::{AgentSnapshot, AgentState};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Agent {
    pub id: String,
    pub password: Option<String>,
    /// The extension the agent is logged on at; `None` when logged out.
    pub device: Option<String>,
    /// The extension the agent was last known at (for snapshots of logged-out agents).
    pub home: String,
    pub state: AgentState,
    /// Changes with every state change, so a pending end of after-call work is ignored
    /// once the agent has changed state by itself.
    pub epoch: u64,
    /// When the agent last became free for an ACD call (switch-wide counter): the one
    /// idle longest gets the next call, as real ACDs do.
    pub idle_since: u64,
}

impl Agent {
    pub(crate) fn logged_on_at(&self, device: &str) -> bool {
        self.device.as_deref() == Some(device)
    }

    pub(crate) fn snapshot(&self) -> AgentSnapshot {
        AgentSnapshot {
            agent: self.id.clone(),
            device: self.device.clone().unwrap_or_else(|| self.home.clone()),
            state: self.state.clone(),
        }
    }
}
