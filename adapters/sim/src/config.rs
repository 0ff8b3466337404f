//! The simulator's own `[[switch]]` keys ([`SimConfig`]), their documented example,
//! and the checks that turn a configuration that cannot work into a [`SettingsError`]
//! naming the key.

use std::collections::{BTreeMap, BTreeSet};

use ctibridge_adapter::SettingsError;
use std::time::Duration;

use ctibridge_adapter::duration::millis;
use serde::Deserialize;

use crate::plan::is_dialable;

/// The `sim` adapter's keys in its `[[switch]]` table. Every key is optional; the
/// defaults give a quiet switch that only does what commands ask (what tests want).
/// `devices` (the extensions) is a shared key and is not part of this struct.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// ACD group numbers, e.g. `"8000"`. A call to one waits, first in first out, for
    /// an agent who is logged on, ready and not on a call. Must not be devices.
    pub queues: Vec<String>,
    /// Caller numbers (ANIs) the call generator picks from.
    pub callers: Vec<String>,
    /// Dialled numbers (DNIS) that lead to a queue, DNIS → queue. A queue no DNIS
    /// maps to is dialled by its own number, which is then the call's DNIS.
    pub dnis: BTreeMap<String, String>,
    /// Outside calls generated per second, as a Poisson process, each from a random
    /// caller to a random queue or DNIS. 0 (the default) generates none.
    pub inbound_calls_per_s: f64,
    /// A logged-on agent's phone answers a call ringing at it after this long.
    /// 0 (the default): phones never answer by themselves; clients answer.
    #[serde(rename = "answer_after_ms", with = "millis")]
    pub answer_after: Duration,
    /// An outside party hangs up this long after being answered (the far end of a
    /// dialled outside call likewise). 0 (the default): never by itself.
    #[serde(rename = "talk_ms", with = "millis")]
    pub talk: Duration,
    /// An outside caller not yet answered (queued or ringing) hangs up this long after
    /// the call arrived. 0 (the default): callers wait for ever.
    #[serde(rename = "abandon_after_ms", with = "millis")]
    pub abandon_after: Duration,
    /// With `talk_ms`, an agent holds an answered outside call once, a third into the
    /// talk time, for this long; the caller's hang-up moves back by as much.
    /// 0 (the default): no simulated hold.
    #[serde(rename = "hold_ms", with = "millis")]
    pub hold: Duration,
    /// After an ACD call ends at a ready agent, the agent is in after-call work
    /// (`WorkNotReady`) for this long, then `Ready` again. 0 (the default): no ACW.
    #[serde(rename = "acw_ms", with = "millis")]
    pub acw: Duration,
    /// 0..=1: answer, talk, hold and ACW times vary randomly by up to this fraction
    /// either way, so a demo looks alive. 0 (the default) keeps them exact.
    pub jitter: f64,
    /// Agents the switch knows at start: logged on (ready or not ready) at their
    /// extension, or logged out (a known agent, typically to give it a password).
    pub agents: Vec<SimAgent>,
}

/// An agent the simulated ACD knows at start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAgent {
    /// The agent id.
    pub agent: String,
    /// The extension (a device) the agent is logged on at, or would log on at.
    pub extension: String,
    /// The state at start; `ready` by default.
    #[serde(default)]
    pub state: SimAgentState,
    /// When set, `agent.login` must give this password.
    #[serde(default)]
    pub password: Option<String>,
}

/// The state a configured agent starts in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimAgentState {
    #[default]
    Ready,
    NotReady,
    LoggedOut,
}

/// More generated calls per second than this would flood the engine rather than
/// simulate a call centre (`ctibridge bench` measures throughput its own way).
const MAX_CALLS_PER_S: f64 = 1000.0;

/// A `[[switch]]` table with every `sim` key, for `--help` and the docs. A test builds
/// an adapter from it, so it stays valid.
pub const EXAMPLE: &str = r#"[[switch]]
name = "sim"
adapter = "sim"
# Extensions: the agents' phones. ACD groups are not devices here.
devices = ["1001", "1002", "1003"]
# ACD groups. A call to one waits, FIFO, for a logged-on, ready, idle agent.
queues = ["8000", "8001"]
# Caller numbers (ANI) the call generator picks from.
callers = ["+14155550123", "+442071838750", "5551234"]
# Dialled numbers (DNIS) that lead to a queue. Without an entry, a queue is dialled
# by its own number.
dnis = { "8005550100" = "8000", "8005550199" = "8001" }
# Outside calls per second (Poisson arrivals); 0 = only calls that commands place.
inbound_calls_per_s = 0.05
# A logged-on agent's phone answers after this long; 0 = clients answer.
answer_after_ms = 3000
# The caller hangs up this long after the answer; 0 = never by itself.
talk_ms = 45000
# A caller not answered this long after calling hangs up (abandons); 0 = never.
abandon_after_ms = 60000
# The agent holds once, a third into the talk, for this long; 0 = no hold.
hold_ms = 10000
# After-call work after an ACD call, then ready again; 0 = no ACW.
acw_ms = 15000
# Vary answer/talk/hold/ACW times by up to this fraction either way (0..=1).
jitter = 0.3

# Agents at start: state = "ready" (default), "not_ready" or "logged_out".
# An agent with a password must give it to log on.
[[switch.agents]]
agent = "5001"
extension = "1001"

[[switch.agents]]
agent = "5002"
extension = "1002"
state = "not_ready"
password = "1234"

[[switch.agents]]
agent = "5003"
extension = "1003"
state = "logged_out"
password = "4321"
"#;

impl SimConfig {
    /// Check the keys against each other and against the switch's `devices` (its
    /// extensions). The first problem found is reported, naming its key.
    pub fn validate(&self, devices: &[String]) -> Result<(), SettingsError> {
        let devices: BTreeSet<&str> = devices.iter().map(String::as_str).collect();

        let mut queues = BTreeSet::new();
        for queue in &self.queues {
            if queue.trim().is_empty() {
                return Err(SettingsError::new("queues", "a queue number is empty"));
            }
            if devices.contains(queue.as_str()) {
                return Err(SettingsError::new(
                    "queues",
                    format!("`{queue}` is both a queue and a device; list it in one of them only"),
                ));
            }
            if !queues.insert(queue.as_str()) {
                return Err(SettingsError::new(
                    "queues",
                    format!("queue `{queue}` is listed twice"),
                ));
            }
        }

        for (dnis, queue) in &self.dnis {
            if !is_dialable(dnis) {
                return Err(SettingsError::new(
                    "dnis",
                    format!(
                        "`{dnis}` is not a dialable number (digits, * and #, optional leading +)"
                    ),
                ));
            }
            if devices.contains(dnis.as_str()) || queues.contains(dnis.as_str()) {
                return Err(SettingsError::new(
                    "dnis",
                    format!("DNIS `{dnis}` is already a device or queue number"),
                ));
            }
            if !queues.contains(queue.as_str()) {
                return Err(SettingsError::new(
                    "dnis",
                    format!("DNIS `{dnis}` maps to `{queue}`, which is not in `queues`"),
                ));
            }
        }

        for caller in &self.callers {
            if !is_dialable(caller) {
                return Err(SettingsError::new(
                    "callers",
                    format!(
                        "`{caller}` is not a dialable number (digits, * and #, optional leading +)"
                    ),
                ));
            }
            if devices.contains(caller.as_str())
                || queues.contains(caller.as_str())
                || self.dnis.contains_key(caller)
            {
                return Err(SettingsError::new(
                    "callers",
                    format!("caller `{caller}` is a number of this switch, not an outside number"),
                ));
            }
        }

        let rate = self.inbound_calls_per_s;
        if !rate.is_finite() || rate < 0.0 {
            return Err(SettingsError::new(
                "inbound_calls_per_s",
                format!("must be a number of calls per second, 0 or more (got {rate})"),
            ));
        }
        if rate > MAX_CALLS_PER_S {
            return Err(SettingsError::new(
                "inbound_calls_per_s",
                format!("at most {MAX_CALLS_PER_S} calls per second (got {rate})"),
            ));
        }
        if rate > 0.0 {
            if self.callers.is_empty() {
                return Err(SettingsError::new(
                    "callers",
                    "inbound_calls_per_s > 0 needs at least one caller number in `callers`",
                ));
            }
            if queues.is_empty() {
                return Err(SettingsError::new(
                    "queues",
                    "inbound_calls_per_s > 0 needs at least one queue in `queues`",
                ));
            }
        }

        let jitter = self.jitter;
        if !jitter.is_finite() || !(0.0..=1.0).contains(&jitter) {
            return Err(SettingsError::new(
                "jitter",
                format!("must be a fraction from 0 to 1 (got {jitter})"),
            ));
        }

        let mut agents = BTreeSet::new();
        let mut occupied = BTreeMap::new();
        for agent in &self.agents {
            if agent.agent.trim().is_empty() {
                return Err(SettingsError::new("agents", "an agent id is empty"));
            }
            if !agents.insert(agent.agent.as_str()) {
                return Err(SettingsError::new(
                    "agents",
                    format!("agent `{}` is listed twice", agent.agent),
                ));
            }
            if !devices.contains(agent.extension.as_str()) {
                return Err(SettingsError::new(
                    "agents",
                    format!(
                        "agent `{}` has extension `{}`, which is not in `devices`",
                        agent.agent, agent.extension
                    ),
                ));
            }
            if agent.state != SimAgentState::LoggedOut {
                if let Some(other) = occupied.insert(agent.extension.as_str(), agent.agent.as_str())
                {
                    return Err(SettingsError::new(
                        "agents",
                        format!(
                            "agents `{other}` and `{}` are both logged on at extension `{}`",
                            agent.agent, agent.extension
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices() -> Vec<String> {
        vec!["1001".into(), "1002".into()]
    }

    fn key_of(config: &SimConfig) -> Option<String> {
        config.validate(&devices()).err().and_then(|e| e.key)
    }

    #[test]
    fn default_is_valid() {
        assert_eq!(SimConfig::default().validate(&devices()), Ok(()));
    }

    #[test]
    fn queue_that_is_a_device_is_rejected() {
        let config = SimConfig {
            queues: vec!["1001".into()],
            ..SimConfig::default()
        };
        let err = config.validate(&devices()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("queues"));
        assert!(
            err.message.contains("both a queue and a device"),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_rates_are_rejected() {
        for rate in [-1.0, f64::NAN, f64::INFINITY] {
            let config = SimConfig {
                inbound_calls_per_s: rate,
                ..SimConfig::default()
            };
            assert_eq!(key_of(&config).as_deref(), Some("inbound_calls_per_s"));
        }
        let config = SimConfig {
            jitter: 1.5,
            ..SimConfig::default()
        };
        assert_eq!(key_of(&config).as_deref(), Some("jitter"));
    }

    #[test]
    fn generator_needs_callers_and_queues() {
        let config = SimConfig {
            inbound_calls_per_s: 0.5,
            queues: vec!["8000".into()],
            ..SimConfig::default()
        };
        assert_eq!(key_of(&config).as_deref(), Some("callers"));
        let config = SimConfig {
            inbound_calls_per_s: 0.5,
            callers: vec!["+15550001".into()],
            ..SimConfig::default()
        };
        assert_eq!(key_of(&config).as_deref(), Some("queues"));
    }

    #[test]
    fn agent_on_unknown_extension_is_rejected() {
        let config = SimConfig {
            agents: vec![SimAgent {
                agent: "5001".into(),
                extension: "1009".into(),
                state: SimAgentState::Ready,
                password: None,
            }],
            ..SimConfig::default()
        };
        let err = config.validate(&devices()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("agents"));
        assert!(err.message.contains("1009"), "{}", err.message);
    }

    #[test]
    fn two_agents_on_one_extension_are_rejected() {
        let agent = |id: &str| SimAgent {
            agent: id.into(),
            extension: "1001".into(),
            state: SimAgentState::Ready,
            password: None,
        };
        let config = SimConfig {
            agents: vec![agent("5001"), agent("5002")],
            ..SimConfig::default()
        };
        assert_eq!(key_of(&config).as_deref(), Some("agents"));
    }

    #[test]
    fn dnis_must_lead_to_a_queue() {
        let config = SimConfig {
            queues: vec!["8000".into()],
            dnis: [("8005550100".to_string(), "8001".to_string())].into(),
            ..SimConfig::default()
        };
        assert_eq!(key_of(&config).as_deref(), Some("dnis"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let table: toml::Table = toml::from_str("queues = ['8000']\ntalk_msec = 5").unwrap();
        let err = SimConfig::deserialize(toml::Value::Table(table)).unwrap_err();
        assert!(err.to_string().contains("talk_msec"), "{err}");
    }
}
