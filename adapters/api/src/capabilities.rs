//! Which commands an adapter carries out. The API answers `not_supported` for the rest
//! before anything reaches the switch.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::command::CommandKind;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub commands: BTreeSet<CommandKind>,
    /// The adapter reports live call events (a CTI link), not only completed-call
    /// records (SMDR).
    pub live_calls: bool,
    /// The adapter reports ACD agent states.
    pub agent_states: bool,
}

impl Capabilities {
    pub fn new(commands: impl IntoIterator<Item = CommandKind>) -> Self {
        Capabilities {
            commands: commands.into_iter().collect(),
            live_calls: true,
            agent_states: true,
        }
    }

    /// Every command there is.
    pub fn all() -> Self {
        Capabilities::new(CommandKind::ALL)
    }

    /// A record-only link (SMDR/CDR): no commands, no live calls.
    pub fn records_only() -> Self {
        Capabilities {
            commands: BTreeSet::new(),
            live_calls: false,
            agent_states: false,
        }
    }

    pub fn supports(&self, kind: CommandKind) -> bool {
        self.commands.contains(&kind)
    }
}
