//! The configuration's sections (`[server]`, `[database]`, `[crm]`, `[reports]`,
//! `[auth]`) as serde structs with their defaults. Each key is documented three
//! times, here, in docs/operations.md and in the example config; a test below fails
//! when they differ.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::auth::TokenEntry;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub crm: CrmConfig,
    #[serde(default)]
    pub reports: ReportsConfig,
    /// One table per switch link. Parsed for the shared keys here; the adapter parses
    /// the rest.
    #[serde(default, rename = "switch")]
    pub switches: Vec<toml::Table>,
    #[serde(default)]
    pub auth: AuthConfig,
}

/// `[server]`: the HTTP and WebSocket listener and the limits per client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address for HTTP, WebSocket, `/healthz` and `/metrics`.
    pub listen: SocketAddr,
    /// Origins a browser may connect from (besides the daemon's own pages). Clients that
    /// send no Origin header (CRM back ends) are not affected.
    pub allowed_origins: Vec<String>,
    /// Events that may wait for one client before it is disconnected (close 4009).
    pub client_queue: usize,
    /// A client this far behind (oldest undelivered event) is disconnected (close 4009).
    #[serde(rename = "max_lag_s", with = "ctibridge_adapter::duration::seconds")]
    pub max_lag: Duration,
    /// Events kept for resume.
    pub replay_events: usize,
    /// Age after which an event is no longer replayed.
    #[serde(rename = "replay_s", with = "ctibridge_adapter::duration::seconds")]
    pub replay_age: Duration,
    /// Largest WebSocket message accepted; larger ones close the connection with 1009.
    pub max_message_bytes: usize,
    /// Requests per second per connection (sustained), and the burst allowed.
    pub rate_limit_per_s: u32,
    pub rate_limit_burst: u32,
    /// Seconds a new connection has to send its `hello`.
    #[serde(
        rename = "auth_timeout_s",
        with = "ctibridge_adapter::duration::seconds"
    )]
    pub auth_timeout: Duration,
    /// Seconds between pings.
    #[serde(rename = "ping_s", with = "ctibridge_adapter::duration::seconds")]
    pub ping_every: Duration,
    /// PEM certificate chain (the server's certificate first) and private key: with
    /// both set, the port serves `https://` and `wss://` only. Reloaded on SIGHUP.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8765".parse().expect("valid default address"),
            allowed_origins: Vec::new(),
            client_queue: 10_000,
            max_lag: Duration::from_secs(10),
            replay_events: 10_000,
            replay_age: Duration::from_secs(600),
            max_message_bytes: 64 * 1024,
            rate_limit_per_s: 20,
            rate_limit_burst: 40,
            auth_timeout: Duration::from_secs(5),
            ping_every: Duration::from_secs(25),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `[database]`: where contacts, the call log and the agent-state journal live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (`sqlite://:memory:` for a throw-away database).
    pub url: String,
    /// The on-disk journal that holds writes while the database is unreachable.
    /// Default: the SQLite file's path with `.journal` appended; for a database
    /// server, `ctibridge-BACKEND-HOST-PORT-DB.journal` in the working directory (one
    /// per database, so two daemons on one host never share a journal).
    pub journal: Option<PathBuf>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://ctibridge.db".into(),
            journal: None,
        }
    }
}

impl DatabaseConfig {
    pub fn journal_path(&self) -> PathBuf {
        if let Some(path) = &self.journal {
            return path.clone();
        }
        match crate::crm::db::sqlite_path(&self.url) {
            Some(path) if path != ":memory:" => PathBuf::from(format!("{path}.journal")),
            Some(_) => PathBuf::from("ctibridge.journal"),
            None => {
                // scheme://[user[:password]@]host[:port]/db[?options] → scheme-host-port-db
                let (scheme, rest) = self.url.split_once("://").unwrap_or(("db", &self.url));
                let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
                let rest = rest.split('?').next().unwrap_or(rest);
                let name: String = format!("{scheme}-{rest}")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                PathBuf::from(format!("ctibridge-{name}.journal"))
            }
        }
    }
}

/// `[crm]`: caller look-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrmConfig {
    /// ISO 3166 country used to read national numbers (ANI without `+`).
    pub default_country: String,
    /// Look-up results kept in memory.
    pub cache_size: usize,
    /// How long a cached look-up is used.
    #[serde(rename = "cache_ttl_s", with = "ctibridge_adapter::duration::seconds")]
    pub cache_ttl: Duration,
    /// How long a screen pop waits for the look-up before it goes out without the match
    /// (a `call.updated` with the match follows).
    #[serde(
        rename = "pop_deadline_ms",
        with = "ctibridge_adapter::duration::millis"
    )]
    pub pop_deadline: Duration,
    /// Look callers up in an existing CRM schema instead of the bridge's contacts
    /// (named parameters :e164, :national, :raw; columns id, name, and optionally
    /// company, url, external_id). Checked against the database at start-up.
    pub lookup_sql: Option<String>,
    /// Also write every call into the CRM's own table (named parameters: the
    /// call_log columns). Checked against the database at start-up.
    pub log_sql: Option<String>,
}

impl Default for CrmConfig {
    fn default() -> Self {
        CrmConfig {
            default_country: "US".into(),
            cache_size: 10_000,
            cache_ttl: Duration::from_secs(300),
            pop_deadline: Duration::from_millis(300),
            lookup_sql: None,
            log_sql: None,
        }
    }
}

/// `[reports]`: report thresholds (DESIGN.md "Report figures").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// Calls answered within this long of entering a queue are within service level.
    #[serde(
        rename = "service_level_s",
        with = "ctibridge_adapter::duration::seconds"
    )]
    pub service_level: Duration,
    /// Unanswered inbound calls that ended sooner than this are short abandons.
    #[serde(
        rename = "short_abandon_s",
        with = "ctibridge_adapter::duration::seconds"
    )]
    pub short_abandon: Duration,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            service_level: Duration::from_secs(20),
            short_abandon: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
}

/// A configuration with every key of the daemon's own sections, set to its default
/// or commented out where it is optional (docs/operations.md explains each; a test
/// keeps the three in step). The adapters' keys are in their own `EXAMPLE`s.
pub const EXAMPLE: &str = r#"[server]
listen = "127.0.0.1:8765"
allowed_origins = []                # e.g. ["https://crm.example.com"]
client_queue = 10000
max_lag_s = 10
replay_events = 10000
replay_s = 600
max_message_bytes = 65536
rate_limit_per_s = 20
rate_limit_burst = 40
auth_timeout_s = 5
ping_s = 25
# tls_cert = "fullchain.pem"        # with tls_key: https:// and wss:// only; reloaded on SIGHUP
# tls_key = "privkey.pem"

[database]
url = "sqlite://ctibridge.db"
# journal = "ctibridge.db.journal"  # default: next to the SQLite file

[crm]
default_country = "US"
cache_size = 10000
cache_ttl_s = 300
pop_deadline_ms = 300
# lookup_sql = "SELECT id, name FROM people WHERE phone = :e164"
# log_sql = "INSERT INTO activities (ref, phone) VALUES (:call_id, :ani_e164)"

[reports]
service_level_s = 20
short_abandon_s = 5

[[switch]]
name = "pbx1"
adapter = "sim"
devices = ["1001", "1002"]
request_timeout_s = 10
# cti_switch = "pbx1-cti"           # records-only links: the switch whose calls they complete

[[auth.tokens]]
name = "crm-web-1001"
role = "agent"
agent = "1001"
extensions = ["1001"]
sha256 = "450c37581c3449566a72b59f2198b58933928ea950ab656de06f3f1f1c3233ba"
"#;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ctibridge_adapter::config_keys::{compare, documented_keys, struct_keys};
    use serde::de::DeserializeOwned;

    use super::*;

    const DOCS: &str = include_str!("../../docs/operations.md");

    /// The keys of one section of `EXAMPLE` (its first table for an array of
    /// tables), set or commented out.
    fn example_section(path: &[&str]) -> BTreeSet<String> {
        let header = match path {
            ["switch"] => "[[switch]]".to_string(),
            ["auth", "tokens"] => "[[auth.tokens]]".to_string(),
            _ => format!("[{}]", path.join(".")),
        };
        let mut lines = EXAMPLE.lines().skip_while(|l| l.trim() != header).skip(1);
        let mut keys = BTreeSet::new();
        for line in lines.by_ref().take_while(|l| !l.starts_with('[')) {
            let line = line.trim().trim_start_matches('#').trim();
            if let Some((key, _)) = line.split_once('=') {
                let key = key.trim();
                if !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    keys.insert(key.to_string());
                }
            }
        }
        keys
    }

    fn check<T: DeserializeOwned>(heading: &str, path: &[&str]) -> Result<(), String> {
        compare(
            heading,
            &struct_keys::<T>(),
            &documented_keys(DOCS, &["## Configuration", heading]),
            Some(&example_section(path)),
            &[],
        )
    }

    /// The serde fields, the docs tables and `EXAMPLE` name the same keys, section
    /// by section.
    #[test]
    fn the_structs_the_docs_and_the_example_name_the_same_keys() {
        let results = [
            check::<ServerConfig>("### `[server]`", &["server"]),
            check::<DatabaseConfig>("### `[database]`", &["database"]),
            check::<CrmConfig>("### `[crm]`", &["crm"]),
            check::<ReportsConfig>("### `[reports]`", &["reports"]),
            check::<super::super::SharedSwitchKeys>(
                "### `[[switch]]` (one table per switch link)",
                &["switch"],
            ),
            check::<TokenEntry>(
                "### `[[auth.tokens]]` (one table per API token)",
                &["auth", "tokens"],
            ),
        ];
        let problems: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The example is a configuration the daemon accepts.
    #[test]
    fn the_example_loads() {
        let loaded =
            super::super::load_str(EXAMPLE, &crate::adapters::registry()).expect("EXAMPLE loads");
        assert_eq!(loaded.switches.len(), 1);
        assert_eq!(
            loaded.config.crm.pop_deadline,
            std::time::Duration::from_millis(300)
        );
        assert_eq!(
            loaded.switches[0].request_timeout,
            std::time::Duration::from_secs(10)
        );
    }
}
