//! The hub's index of clients by what their scope lets them see (agent, extension, or
//! everything), so publishing an event visits the clients in its audience only: a
//! daemon with thousands of idle desktops pays nothing for them per event.

use std::collections::{HashMap, HashSet};

use super::{Audience, Scope};

/// Clients by what their scope lets them see.
#[derive(Default)]
pub(super) struct ScopeIndex {
    pub(super) all: HashSet<u64>,
    pub(super) by_agent: HashMap<String, HashSet<u64>>,
    pub(super) by_device: HashMap<String, HashSet<u64>>,
}

impl ScopeIndex {
    pub(super) fn add(&mut self, id: u64, scope: &Scope) {
        match scope {
            Scope::All => {
                self.all.insert(id);
            }
            Scope::Agent { agent, extensions } => {
                if let Some(agent) = agent {
                    self.by_agent.entry(agent.clone()).or_default().insert(id);
                }
                for extension in extensions {
                    self.by_device
                        .entry(extension.clone())
                        .or_default()
                        .insert(id);
                }
            }
        }
    }

    pub(super) fn remove(&mut self, id: u64, scope: &Scope) {
        fn take(map: &mut HashMap<String, HashSet<u64>>, key: &str, id: u64) {
            if let Some(ids) = map.get_mut(key) {
                ids.remove(&id);
                if ids.is_empty() {
                    map.remove(key);
                }
            }
        }
        match scope {
            Scope::All => {
                self.all.remove(&id);
            }
            Scope::Agent { agent, extensions } => {
                if let Some(agent) = agent {
                    take(&mut self.by_agent, agent, id);
                }
                for extension in extensions {
                    take(&mut self.by_device, extension, id);
                }
            }
        }
    }

    /// Every client that may see an event for `audience` (not `everyone`), once each.
    pub(super) fn audience(&self, audience: &Audience) -> Vec<u64> {
        let mut ids: Vec<u64> = self.all.iter().copied().collect();
        let agents = audience.agents.iter().filter_map(|a| self.by_agent.get(a));
        let devices = audience
            .devices
            .iter()
            .filter_map(|d| self.by_device.get(d));
        for set in agents.chain(devices) {
            ids.extend(set.iter().copied());
        }
        if ids.len() > self.all.len() {
            ids.sort_unstable();
            ids.dedup();
        }
        ids
    }
}
