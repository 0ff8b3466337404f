//! The `[[switch]]` keys every adapter shares, and strict parsing of the rest.
//!
//! The daemon's config loader keeps `name`, `adapter` and `devices` and hands the whole
//! table to the adapter, which parses its own keys with `deny_unknown_fields` so that a
//! misspelt key is an error naming the key (the loader adds the line number).

use serde::de::DeserializeOwned;

/// One `[[switch]]` table.
#[derive(Debug, Clone)]
pub struct SwitchSettings {
    pub name: String,
    pub adapter: String,
    /// Extensions and ACD groups to monitor.
    pub devices: Vec<String>,
    /// The whole table, including the shared keys.
    pub table: toml::Table,
}

/// A `[[switch]]` table an adapter cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SettingsError {
    /// The offending key, when there is one (the config loader finds its line).
    pub key: Option<String>,
    pub message: String,
}

impl SettingsError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        SettingsError {
            key: Some(key.into()),
            message: message.into(),
        }
    }
}

/// The keys every adapter accepts in its table besides its own. `request_timeout_s`
/// is the engine's limit on a command; an adapter that correlates requests itself
/// may ask for it too.
pub const SHARED_KEYS: [&str; 4] = ["name", "adapter", "devices", "request_timeout_s"];

impl SwitchSettings {
    /// Parse the adapter's own config struct `T` from the table. `T` should carry
    /// `#[serde(deny_unknown_fields)]` and may declare the shared keys or not: they are
    /// removed before parsing unless `T` asks for them by name in `keep`.
    pub fn parse<T: DeserializeOwned>(&self, keep: &[&str]) -> Result<T, SettingsError> {
        let mut table = self.table.clone();
        for key in SHARED_KEYS {
            if !keep.contains(&key) {
                table.remove(key);
            }
        }
        T::deserialize(toml::Value::Table(table)).map_err(|e| {
            let message = e.message().to_string();
            SettingsError {
                key: offending_key(&message),
                message,
            }
        })
    }
}

/// serde names the key in backticks: "unknown field `prot`, expected one of …",
/// "missing field `host`", "invalid type: … for key `port`".
fn offending_key(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Example {
        host: String,
        #[serde(default)]
        port: u16,
    }

    fn settings(text: &str) -> SwitchSettings {
        let table: toml::Table = toml::from_str(text).unwrap();
        SwitchSettings {
            name: "pbx".into(),
            adapter: "example".into(),
            devices: vec![],
            table,
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let err = settings("name='pbx'\nadapter='x'\nhost='h'\nprot=1")
            .parse::<Example>(&[])
            .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("prot"));
        assert!(err.message.contains("unknown field"), "{}", err.message);
    }

    #[test]
    fn shared_keys_are_removed() {
        let parsed = settings("name='pbx'\nadapter='x'\ndevices=['1']\nhost='h'")
            .parse::<Example>(&[])
            .unwrap();
        assert_eq!(parsed.host, "h");
    }
}
