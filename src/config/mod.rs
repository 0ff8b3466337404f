//! The TOML configuration: its documented structs, strict parsing, and errors that
//! name the file, line and key.
//!
//! Unknown keys are errors everywhere (`deny_unknown_fields`), so a misspelt key never
//! silently falls back to a default. Each `[[switch]]` table is parsed twice: the daemon
//! reads the shared keys here, and the adapter named by `adapter = "…"` parses its own
//! keys through the [`Registry`]; either error is reported with the line of the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ctibridge_adapter::{Registry, SettingsError, SwitchSettings};
use serde::Deserialize;

use crate::auth::Role;

mod sections;

pub use sections::{
    AuthConfig, Config, CrmConfig, DatabaseConfig, ReportsConfig, ServerConfig, EXAMPLE,
};

/// The keys of a `[[switch]]` table the daemon itself reads.
#[derive(Debug, Clone, Deserialize)]
struct SharedSwitchKeys {
    name: String,
    adapter: String,
    #[serde(default)]
    devices: Vec<String>,
    #[serde(
        default,
        rename = "request_timeout_s",
        with = "ctibridge_adapter::duration::optional_seconds"
    )]
    request_timeout: Option<Duration>,
    #[serde(default)]
    cti_switch: Option<String>,
}

/// A switch ready to start: its settings, checked by its adapter.
#[derive(Debug, Clone)]
pub struct SwitchDef {
    pub settings: SwitchSettings,
    /// How long to wait for the switch to answer a request (`request_timeout_s`,
    /// default 10 s).
    pub request_timeout: Duration,
    /// For a records-only link (SMDR): the `[[switch]]` whose live calls its records
    /// complete, when the PBX's CTI link is a separate switch table.
    pub cti_switch: Option<String>,
}

/// A configuration error, located in the file where possible.
#[derive(Debug)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: {}", file.display(), self.message),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.message),
            (None, Some(line)) => write!(f, "line {line}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn plain(message: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            line: None,
            message: message.into(),
        }
    }
}

/// A loaded, checked configuration.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub switches: Vec<SwitchDef>,
}

impl Loaded {
    /// Tokens by role, for the start-up summary.
    pub fn token_count(&self, role: Role) -> usize {
        self.config
            .auth
            .tokens
            .iter()
            .filter(|t| t.role == role)
            .count()
    }
}

/// Read and check a config file.
pub fn load_file(path: &Path, registry: &Registry) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: Some(path.to_path_buf()),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    load_str(&text, registry).map_err(|mut e| {
        e.file = Some(path.to_path_buf());
        e
    })
}

/// Parse and check config text.
pub fn load_str(text: &str, registry: &Registry) -> Result<Loaded, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| ConfigError {
        file: None,
        line: e.span().map(|span| line_of(text, span.start)),
        message: e.message().trim().to_string(),
    })?;
    check(config, Some(text), registry)
}

/// Check a configuration built in code (the demo) or parsed from text.
pub fn check(
    config: Config,
    text: Option<&str>,
    registry: &Registry,
) -> Result<Loaded, ConfigError> {
    let mut switches = Vec::new();
    let mut names = BTreeMap::new();
    for (index, table) in config.switches.iter().enumerate() {
        let locate = |key: Option<&str>| match (text, key) {
            (Some(text), Some(key)) => switch_key_line(text, index, key),
            (Some(text), None) => switch_key_line(text, index, "adapter"),
            _ => None,
        };
        let shared =
            SharedSwitchKeys::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
                let message = e.message().to_string();
                let key = backticked(&message);
                ConfigError {
                    file: None,
                    line: locate(key.as_deref()),
                    message: format!("[[switch]] #{}: {message}", index + 1),
                }
            })?;
        if shared.name.trim().is_empty() {
            return Err(ConfigError {
                file: None,
                line: locate(Some("name")),
                message: "[[switch]] name must not be empty".into(),
            });
        }
        if let Some(first) = names.insert(shared.name.clone(), index) {
            return Err(ConfigError {
                file: None,
                line: locate(Some("name")),
                message: format!(
                    "switch name `{}` is used twice (switch #{} and #{})",
                    shared.name,
                    first + 1,
                    index + 1
                ),
            });
        }
        let timeout = shared.request_timeout.unwrap_or(Duration::from_secs(10));
        if timeout.is_zero() || timeout > Duration::from_secs(600) {
            return Err(ConfigError {
                file: None,
                line: locate(Some("request_timeout_s")),
                message: "request_timeout_s must be between 0 and 600 seconds".into(),
            });
        }
        // `cti_switch` is the daemon's key; the adapter does not see it.
        let mut adapter_table = table.clone();
        adapter_table.remove("cti_switch");
        let settings = SwitchSettings {
            name: shared.name.clone(),
            adapter: shared.adapter.clone(),
            devices: shared.devices.clone(),
            table: adapter_table,
        };
        registry
            .build(&settings)
            .map_err(|e: SettingsError| ConfigError {
                file: None,
                line: locate(e.key.as_deref()),
                message: format!(
                    "switch `{}` ({}): {}",
                    shared.name, shared.adapter, e.message
                ),
            })?;
        switches.push(SwitchDef {
            settings,
            request_timeout: timeout,
            cti_switch: shared.cti_switch.clone(),
        });
    }
    for (index, def) in switches.iter().enumerate() {
        let Some(target) = &def.cti_switch else {
            continue;
        };
        if *target == def.settings.name || !names.contains_key(target) {
            return Err(ConfigError {
                file: None,
                line: text.and_then(|t| switch_key_line(t, index, "cti_switch")),
                message: format!(
                    "switch `{}`: cti_switch = \"{target}\" must name another [[switch]] (known: {})",
                    def.settings.name,
                    names.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    for (index, token) in config.auth.tokens.iter().enumerate() {
        token.check().map_err(|message| ConfigError {
            file: None,
            line: text.and_then(|t| table_array_line(t, "auth.tokens", index)),
            message: format!("[[auth.tokens]] `{}`: {message}", token.name),
        })?;
    }
    crate::crm::db::check_url(&config.database.url).map_err(|message| ConfigError {
        file: None,
        line: text.and_then(|t| key_line(t, "url")),
        message,
    })?;
    crate::crm::phone::check_country(&config.crm.default_country).map_err(|message| {
        ConfigError {
            file: None,
            line: text.and_then(|t| key_line(t, "default_country")),
            message,
        }
    })?;
    if config.server.max_message_bytes < 1024 || config.server.client_queue == 0 {
        return Err(ConfigError::plain(
            "[server] max_message_bytes must be at least 1024 and client_queue at least 1",
        ));
    }
    if config.server.rate_limit_per_s == 0 || config.server.rate_limit_burst == 0 {
        return Err(ConfigError::plain(
            "[server] rate_limit_per_s and rate_limit_burst must be at least 1",
        ));
    }
    match (&config.server.tls_cert, &config.server.tls_key) {
        (None, None) => {}
        (Some(cert), Some(key)) => {
            // Read and checked now, so `check-config` finds a bad file before a start.
            crate::tls::server_config(cert, key).map_err(|e| ConfigError {
                file: None,
                line: text.and_then(|t| key_line(t, e.key)),
                message: e.to_string(),
            })?;
        }
        (cert, _) => {
            let (set, missing) = if cert.is_some() {
                ("tls_cert", "tls_key")
            } else {
                ("tls_key", "tls_cert")
            };
            return Err(ConfigError {
                file: None,
                line: text.and_then(|t| key_line(t, set)),
                message: format!("[server] {set} is set but {missing} is not: TLS needs both"),
            });
        }
    }
    Ok(Loaded { config, switches })
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

fn is_header(line: &str) -> bool {
    line.trim_start().starts_with('[')
}

fn is_key(line: &str, key: &str) -> bool {
    let line = line.trim_start();
    line.strip_prefix(key)
        .map(|rest| rest.trim_start().starts_with('='))
        .unwrap_or(false)
        || line
            .strip_prefix(&format!("\"{key}\""))
            .map(|rest| rest.trim_start().starts_with('='))
            .unwrap_or(false)
}

/// Line of the `index`-th `[[NAME]]` header.
fn table_array_line(text: &str, name: &str, index: usize) -> Option<usize> {
    let header = format!("[[{name}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(&header))
        .nth(index)
        .map(|(n, _)| n + 1)
}

/// Line of `key` inside the `index`-th `[[switch]]` table (or its sub-tables), falling
/// back to the table's header line.
fn switch_key_line(text: &str, index: usize, key: &str) -> Option<usize> {
    let header = table_array_line(text, "switch", index)?;
    for (n, line) in text.lines().enumerate().skip(header) {
        let trimmed = line.trim_start();
        if trimmed.starts_with("[[") && !trimmed.starts_with("[[switch.") {
            break;
        }
        if is_header(line) && !trimmed.starts_with("[switch.") && !trimmed.starts_with("[[switch.")
        {
            break;
        }
        if is_key(line, key) {
            return Some(n + 1);
        }
    }
    Some(header)
}

/// Line of the first `key = …` anywhere.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines().position(|l| is_key(l, key)).map(|n| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        crate::adapters::registry()
    }

    #[test]
    fn defaults_are_sane() {
        let loaded = load_str("", &registry()).unwrap();
        assert_eq!(loaded.config.server.listen.port(), 8765);
        assert_eq!(loaded.config.server.max_message_bytes, 65536);
        assert!(loaded.switches.is_empty());
    }

    #[test]
    fn unknown_top_level_key_names_key_and_line() {
        let err = load_str(
            "[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n",
            &registry(),
        )
        .unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("lisen"), "{err}");
    }

    #[test]
    fn unknown_switch_key_is_located_by_the_adapter() {
        let text = "[server]\nlisten = \"127.0.0.1:1\"\n\n[[switch]]\nname = \"a\"\nadapter = \"sim\"\ndevices = [\"1001\"]\n\n[[switch]]\nname = \"b\"\nadapter = \"sim\"\ncalers = [\"1\"]\n";
        let err = load_str(text, &registry()).unwrap_err();
        assert_eq!(err.line, Some(12), "{err}");
        assert!(err.message.contains("calers"), "{err}");
        assert!(err.message.contains("switch `b`"), "{err}");
    }

    #[test]
    fn unknown_adapter_is_named() {
        let err = load_str(
            "[[switch]]\nname = \"a\"\nadapter = \"nope\"\n",
            &registry(),
        )
        .unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("unknown adapter `nope`"), "{err}");
    }

    #[test]
    fn duplicate_switch_names_are_rejected() {
        let text = "[[switch]]\nname = \"a\"\nadapter = \"sim\"\n[[switch]]\nname = \"a\"\nadapter = \"sim\"\n";
        let err = load_str(text, &registry()).unwrap_err();
        assert_eq!(err.line, Some(5));
        assert!(err.message.contains("used twice"), "{err}");
    }

    #[test]
    fn each_server_database_has_a_journal_of_its_own() {
        let journal = |url: &str| {
            DatabaseConfig {
                url: url.into(),
                journal: None,
            }
            .journal_path()
        };
        assert_eq!(
            journal("sqlite://data/crm.db"),
            PathBuf::from("data/crm.db.journal")
        );
        assert_eq!(
            journal("postgres://app:secret@db.example.com:5432/crm?sslmode=disable"),
            PathBuf::from("ctibridge-postgres-db-example-com-5432-crm.journal")
        );
        assert_ne!(
            journal("mysql://root@127.0.0.1:3306/a"),
            journal("mysql://root@127.0.0.1:3306/b")
        );
    }

    #[test]
    fn cti_switch_must_name_another_switch() {
        let text = "[[switch]]\nname = \"pbx\"\nadapter = \"sim\"\n\n[[switch]]\nname = \"ipo\"\nadapter = \"smdr\"\nlisten = \"127.0.0.1:1\"\nformat = \"avaya-ipo\"\ncti_switch = \"pbx2\"\n";
        let err = load_str(text, &registry()).unwrap_err();
        assert_eq!(err.line, Some(10), "{err}");
        assert!(err.message.contains("cti_switch = \"pbx2\""), "{err}");
        let loaded = load_str(&text.replace("pbx2", "pbx"), &registry()).unwrap();
        assert_eq!(loaded.switches[1].cti_switch.as_deref(), Some("pbx"));
        assert!(!loaded.switches[1].settings.table.contains_key("cti_switch"));
    }

    #[test]
    fn bad_token_hash_is_located() {
        let text =
            "[[auth.tokens]]\nname = \"x\"\nrole = \"agent\"\nagent = \"1001\"\nsha256 = \"abc\"\n";
        let err = load_str(text, &registry()).unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("sha256"), "{err}");
    }

    #[test]
    fn tls_needs_both_files_and_names_the_one_that_fails() {
        let err = load_str("[server]\ntls_cert = \"cert.pem\"\n", &registry()).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("tls_key is not"), "{err}");
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls");
        let text = format!(
            "[server]\ntls_cert = \"{fixtures}/ec-cert.pem\"\ntls_key = \"{fixtures}/missing.pem\"\n"
        );
        let err = load_str(&text, &registry()).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("missing.pem"), "{err}");
        let good = text.replace("missing.pem", "ec-sec1-key.pem");
        assert!(load_str(&good, &registry()).is_ok());
    }

    #[test]
    fn bad_country_is_rejected() {
        let err = load_str("[crm]\ndefault_country = \"XX\"\n", &registry()).unwrap_err();
        assert_eq!(err.line, Some(2));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text is a config or an error with a message; never a panic, and a
        /// reported line lies inside the text.
        #[test]
        fn any_text_is_checked(text in "(\\[\\[switch\\]\\]\n|name = \"a\"\n|adapter = \"sim\"\n|devices = \\[\"1\"\\]\n|[a-z_]{1,8} = [0-9]{1,3}\n|\\[server\\]\n|.{0,20}\n){0,12}") {
            let registry = crate::adapters::registry();
            if let Err(e) = load_str(&text, &registry) {
                prop_assert!(!e.message.is_empty());
                if let Some(line) = e.line {
                    prop_assert!(line >= 1 && line <= text.lines().count().max(1));
                }
            }
        }
    }
}
