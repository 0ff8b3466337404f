//! `ctibridge-sim`: a simulated PBX/ACD switch, as a ctibridge adapter (`adapter =
//! "sim"`). `ctibridge demo` runs it lively (a call generator, agents that answer,
//! talk, hold and do after-call work); tests run it quiet and drive it with commands
//! and a [`SimControl`].
//!
//! It is a real in-memory switch model: extensions (the `devices`), ACD groups
//! (`queues`, reached by their number or a DNIS), agents, and calls with CSTA-style
//! parties. Queue calls go, oldest first, to agents who are logged on, ready and not
//! on a call; direct calls ring the extension. Call ids are decimal strings counting
//! up from 1.
//!
//! Conventions an engine may rely on:
//! - Every call has its outside caller (or dialling extension) as a party; in a
//!   [`ctibridge_adapter::Snapshot`] a call still waiting lists its ACD group as a
//!   party in state `queued`. The group is not a connection: no `ConnectionCleared`
//!   is ever reported for it.
//! - A call ends when fewer than two connections remain: each remaining one gets its
//!   own `ConnectionCleared`, after the one for the party that hung up.
//! - A transfer reports `Transferred` and no `ConnectionCleared` for the transferring
//!   extension; a consultation call merged by transfer or conference reports nothing
//!   more under its own id.
//! - Command replies come before the events the command caused.
//!
//! Map of the crate:
//! - [`config`]: the `[[switch]]` keys ([`SimConfig`]), their example and checks.
//! - `plan`: the number plan (extension, queue, DNIS or outside number).
//! - `call`, `agent`: one call with its parties; one ACD agent.
//! - `switch`: the state model and what commands and timers do to it; pure, tested
//!   without a runtime.
//! - `schedule`: the actor's timer heap.
//! - `adapter`: [`SimAdapter`], the actor task that owns the switch and the link.
//! - `control`: [`SimControl`], the outside world's handle (ring, break the link).

mod adapter;
mod agent;
mod call;
pub mod config;
mod control;
mod plan;
mod schedule;
mod switch;

use ctibridge_adapter::{Adapter, AdapterFactory, SettingsError, SwitchSettings};

pub use adapter::SimAdapter;
pub use config::{SimAgent, SimAgentState, SimConfig};
pub use control::SimControl;

/// How the daemon builds a `sim` adapter from its `[[switch]]` table.
pub fn factory() -> AdapterFactory {
    AdapterFactory {
        name: "sim",
        summary:
            "simulated PBX/ACD switch (extensions, ACD queues, agents, calls) for demos and tests",
        example: config::EXAMPLE,
        build,
        decode: None,
    }
}

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let config: SimConfig = settings.parse(&[])?;
    config.validate(&settings.devices)?;
    Ok(Box::new(SimAdapter::new(settings.devices.clone(), config)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctibridge_adapter::config_kit::switch_settings as settings;

    /// The `[[switch]]` table of a config text, as the daemon's loader hands it over.
    #[test]
    fn the_example_builds() {
        let settings = settings(factory().example);
        let config: SimConfig = settings.parse(&[]).expect("example parses");
        assert_eq!(config.queues, ["8000", "8001"]);
        assert_eq!(config.agents.len(), 3);
        assert_eq!(config.agents[2].state, SimAgentState::LoggedOut);
        let adapter = (factory().build)(&settings).expect("example builds");
        let capabilities = adapter.capabilities();
        assert!(!capabilities.supports(ctibridge_adapter::CommandKind::RouteSelect));
        assert!(capabilities.supports(ctibridge_adapter::CommandKind::TransferConsult));
    }

    #[test]
    fn build_names_the_bad_key() {
        let bad = "[[switch]]\nname = 's'\nadapter = 'sim'\ndevices = ['1001']\nqueues = ['1001']";
        let err = (factory().build)(&settings(bad)).err().expect("rejected");
        assert_eq!(err.key.as_deref(), Some("queues"));
        let bad = "[[switch]]\nname = 's'\nadapter = 'sim'\ndevices = ['1001']\ntalk_secs = 3";
        let err = (factory().build)(&settings(bad)).err().expect("rejected");
        assert_eq!(err.key.as_deref(), Some("talk_secs"));
    }
}
