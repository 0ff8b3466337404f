//! The `[[switch]]` keys of an `ami` link ([`AmiConfig`]) and their example.

use std::time::Duration;

use ctibridge_adapter::duration::seconds;
use ctibridge_adapter::SettingsError;
use serde::Deserialize;

/// An example `[[switch]]` table with every key.
pub const EXAMPLE: &str = r#"[[switch]]
name = "asterisk"
adapter = "ami"
host = "10.0.0.7"
port = 5038                        # 5039 is the usual TLS port
tls = false                        # true: TLS (manager.conf tlsenable), usually port 5039
# tls_ca = "/etc/ctibridge/asterisk-ca.pem"  # the CA that signed Asterisk's certificate
username = "ctibridge"             # a manager.conf user with read = call,agent
password = "secret"                # write = call,originate,agent
auth = "plain"                     # or "md5" (Challenge/Login with Key)
devices = ["1001", "1002"]         # extensions: PJSIP/1001-…, SIP/1001-…, Local/1001@…
queues = ["support"]               # Asterisk queue names agents log on to
agents = [
  { agent = "1001", extension = "1001" },                         # interface PJSIP/1001
  { agent = "1002", extension = "1002", interface = "Local/1002@from-queue/n" },
]
context = "from-internal"          # click-to-dial and transfer context
request_timeout_s = 5
ping_s = 20                        # keep-alive Ping interval
reconnect_min_s = 1
reconnect_max_s = 30
"#;

/// How to log in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// `Action: Login` with `Secret`.
    #[default]
    Plain,
    /// `Action: Challenge` (`AuthType: MD5`), then Login with `Key` = MD5(challenge + secret).
    Md5,
}

/// One ACD agent: who logs on at which extension, and the queue member interface.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub agent: String,
    pub extension: String,
    /// The queue member interface; `PJSIP/EXTENSION` when not given.
    #[serde(default)]
    pub interface: Option<String>,
}

impl AgentConfig {
    pub fn interface(&self) -> String {
        self.interface
            .clone()
            .unwrap_or_else(|| format!("PJSIP/{}", self.extension))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmiConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: bool,
    /// With `tls`: the PEM file of the CA (or the self-signed certificate) to trust
    /// for the manager port; without it the Mozilla roots decide.
    #[serde(default)]
    pub tls_ca: Option<std::path::PathBuf>,
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub queues: Vec<String>,
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
    #[serde(default = "default_context")]
    pub context: String,
    /// `request_timeout_s`: an action without a Response by then fails `timeout`.
    #[serde(
        rename = "request_timeout_s",
        default = "default_timeout",
        with = "seconds"
    )]
    pub request_timeout: Duration,
    /// `ping_s`: the keep-alive Ping interval.
    #[serde(rename = "ping_s", default = "default_ping", with = "seconds")]
    pub ping_every: Duration,
    #[serde(
        rename = "reconnect_min_s",
        default = "default_reconnect_min",
        with = "seconds"
    )]
    pub reconnect_min: Duration,
    #[serde(
        rename = "reconnect_max_s",
        default = "default_reconnect_max",
        with = "seconds"
    )]
    pub reconnect_max: Duration,
}

fn default_port() -> u16 {
    5038
}
fn default_context() -> String {
    "from-internal".into()
}
fn default_timeout() -> Duration {
    Duration::from_secs(5)
}
fn default_ping() -> Duration {
    Duration::from_secs(20)
}
fn default_reconnect_min() -> Duration {
    Duration::from_secs(1)
}
fn default_reconnect_max() -> Duration {
    Duration::from_secs(30)
}

impl AmiConfig {
    /// Checks serde cannot make.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.tls {
            crate::tls::client_config(self.tls_ca.as_deref())
                .map_err(|e| SettingsError::new("tls_ca", e))?;
        } else if self.tls_ca.is_some() {
            return Err(SettingsError::new("tls_ca", "is set but tls is not true"));
        }
        if self.request_timeout.is_zero() {
            return Err(SettingsError::new(
                "request_timeout_s",
                "must be a positive number of seconds",
            ));
        }
        if self.ping_every.is_zero() {
            return Err(SettingsError::new(
                "ping_s",
                "must be a positive number of seconds",
            ));
        }
        if self.host.is_empty() {
            return Err(SettingsError::new("host", "must not be empty"));
        }
        Ok(())
    }

    /// The request timeout, at most an hour.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout.min(Duration::from_secs(3600))
    }
}
