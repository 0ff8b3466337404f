//! ACD agents: who is logged on where, in which state since when, and the
//! agent-state journal rows each change leaves.
//!
//! States are the ACD's (`logged_out`, `ready`, `not_ready` with a reason, `acw`);
//! what the phone is doing (`idle`, `ringing`, `talking`, `held`) is worked out from the
//! calls and reported beside the state, never instead of it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ctibridge_adapter::AgentState;

use super::states::PhoneState;
use super::views::AgentView;
use crate::crm::models::AgentStateRow;
use crate::crm::writes::DbWrite;

#[derive(Debug, Clone)]
pub struct Agent {
    pub agent: String,
    pub switch: String,
    /// The extension the agent is (or was last) logged on at.
    pub device: String,
    pub state: AgentState,
    pub since: DateTime<Utc>,
    /// The agent-state journal row of the current state (none while logged out).
    pub row: Option<String>,
    /// The call whose after-call work the current `acw` state is.
    pub acw_call: Option<String>,
    /// The last call this agent answered that has ended.
    pub last_call: Option<String>,
    /// What the phone was last reported doing.
    pub phone: PhoneState,
}

impl Agent {
    /// The agent as clients see it (snapshot entries and `agent.state`).
    pub fn view(&self) -> AgentView {
        AgentView {
            agent: self.agent.clone(),
            extension: self.device.clone(),
            switch: self.switch.clone(),
            state: self.state.name(),
            reason: self.state.reason().map(String::from),
            phone: self.phone,
            since: self.since,
        }
    }
}

/// A state change the engine must publish and journal.
pub struct Change {
    pub writes: Vec<DbWrite>,
    /// The finished ACW stretch: (call id, seconds).
    pub acw_done: Option<(String, f64)>,
    /// Another agent this change logged off (it was logged on at the same device).
    pub displaced: Option<String>,
}

#[derive(Default)]
pub struct AgentTable {
    agents: HashMap<String, Agent>,
    /// extension → agent logged on there
    by_device: HashMap<String, String>,
}

impl AgentTable {
    pub fn get(&self, agent: &str) -> Option<&Agent> {
        self.agents.get(agent)
    }

    pub fn get_mut(&mut self, agent: &str) -> Option<&mut Agent> {
        self.agents.get_mut(agent)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    pub fn agent_id_at(&self, device: &str) -> Option<&str> {
        self.by_device.get(device).map(String::as_str)
    }

    /// Put `agent` in `state` at `device`. Returns the journal writes, or `None` when
    /// nothing changed.
    pub fn set(
        &mut self,
        agent: &str,
        switch: &str,
        device: &str,
        state: AgentState,
        now: DateTime<Utc>,
    ) -> Option<Change> {
        let mut writes = Vec::new();
        let mut acw_done = None;
        // Another agent logged on at this device is logged off by the switch's word.
        let mut displaced = None;
        if state != AgentState::LoggedOut {
            if let Some(other) = self.by_device.get(device).filter(|a| *a != agent).cloned() {
                if let Some(change) = self.set(&other, switch, device, AgentState::LoggedOut, now) {
                    writes.extend(change.writes);
                    displaced = Some(other);
                }
            }
        }
        let entry = self
            .agents
            .entry(agent.to_string())
            .or_insert_with(|| Agent {
                agent: agent.to_string(),
                switch: switch.to_string(),
                device: device.to_string(),
                state: AgentState::LoggedOut,
                since: now,
                row: None,
                acw_call: None,
                last_call: None,
                phone: PhoneState::Idle,
            });
        if entry.state == state && entry.device == device {
            return if writes.is_empty() {
                None
            } else {
                Some(Change {
                    writes,
                    acw_done,
                    displaced,
                })
            };
        }
        if let Some(row) = entry.row.take() {
            writes.push(DbWrite::AgentStateEnd {
                id: row,
                ended_at: now.naive_utc(),
            });
        }
        if entry.state == AgentState::Acw {
            if let Some(call) = entry.acw_call.take() {
                acw_done = Some((call, crate::time::seconds(entry.since, now)));
            }
        }
        if state == AgentState::Acw {
            entry.acw_call = entry.last_call.clone();
        }
        if entry.device != device {
            if self.by_device.get(&entry.device).map(String::as_str) == Some(agent) {
                self.by_device.remove(&entry.device);
            }
            entry.device = device.to_string();
        }
        entry.switch = switch.to_string();
        entry.state = state.clone();
        entry.since = now;
        if state == AgentState::LoggedOut {
            if self.by_device.get(device).map(String::as_str) == Some(agent) {
                self.by_device.remove(device);
            }
        } else {
            let id = uuid::Uuid::now_v7().to_string();
            writes.push(DbWrite::AgentStateStart(AgentStateRow {
                id: id.clone(),
                agent: agent.to_string(),
                extension: Some(device.to_string()),
                state: state.name().to_string(),
                reason: state.reason().map(String::from),
                started_at: now.naive_utc(),
                ended_at: None,
            }));
            entry.row = Some(id);
            self.by_device.insert(device.to_string(), agent.to_string());
        }
        Some(Change {
            writes,
            acw_done,
            displaced,
        })
    }

    /// Agents of `switch` logged on (not logged out).
    pub fn logged_on_of_switch(&self, switch: &str) -> Vec<String> {
        self.agents
            .values()
            .filter(|a| a.switch == switch && a.state != AgentState::LoggedOut)
            .map(|a| a.agent.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn journal_rows_follow_state_changes() {
        let mut table = AgentTable::default();
        let c = table
            .set("5001", "pbx", "1001", AgentState::Ready, t(0))
            .unwrap();
        assert!(matches!(&c.writes[..], [DbWrite::AgentStateStart(row)] if row.state == "ready"));
        assert!(table
            .set("5001", "pbx", "1001", AgentState::Ready, t(1))
            .is_none());
        table.get_mut("5001").unwrap().last_call = Some("call-1".into());
        let c = table
            .set("5001", "pbx", "1001", AgentState::Acw, t(10))
            .unwrap();
        assert_eq!(c.writes.len(), 2);
        let c = table
            .set("5001", "pbx", "1001", AgentState::Ready, t(25))
            .unwrap();
        assert_eq!(c.acw_done, Some(("call-1".to_string(), 15.0)));
        assert_eq!(table.agent_id_at("1001"), Some("5001"));
        let c = table
            .set("5001", "pbx", "1001", AgentState::LoggedOut, t(30))
            .unwrap();
        assert!(matches!(&c.writes[..], [DbWrite::AgentStateEnd { .. }]));
        assert_eq!(table.agent_id_at("1001"), None);
    }

    #[test]
    fn a_new_agent_at_a_device_logs_the_old_one_off() {
        let mut table = AgentTable::default();
        table.set("a", "pbx", "1001", AgentState::Ready, t(0));
        table.set(
            "b",
            "pbx",
            "1001",
            AgentState::NotReady { reason: None },
            t(5),
        );
        assert_eq!(table.get("a").unwrap().state, AgentState::LoggedOut);
        assert_eq!(table.agent_id_at("1001"), Some("b"));
    }
}
