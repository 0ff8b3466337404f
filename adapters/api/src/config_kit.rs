//! Checks every adapter's configuration tests share (feature `testkit`): the
//! documented `EXAMPLE` builds, and a key the adapter does not know is refused by
//! name (the daemon's config loader then reports it with its line). An adapter's
//! test calls them with its factory instead of keeping its own copy.

use crate::{AdapterFactory, SettingsError, SwitchSettings};

/// The settings of one `[[switch]]` table.
pub fn settings_of(table: toml::Table) -> SwitchSettings {
    let text = |key: &str| {
        table
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let devices = table
        .get("devices")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    SwitchSettings {
        name: text("name"),
        adapter: text("adapter"),
        devices,
        table,
    }
}

/// The settings of the last `[[switch]]` table of a configuration text, as an
/// adapter's unit tests build them from its `EXAMPLE` or a variant of it.
///
/// # Panics
/// When the text is not TOML or has no `[[switch]]` table: a test's own mistake.
pub fn switch_settings(text: &str) -> SwitchSettings {
    let mut doc: toml::Table = toml::from_str(text).expect("valid TOML");
    let Some(toml::Value::Array(mut switches)) = doc.remove("switch") else {
        panic!("no [[switch]] table");
    };
    let Some(toml::Value::Table(table)) = switches.pop() else {
        panic!("[[switch]] is not a table");
    };
    settings_of(table)
}

/// Build an adapter of `factory` from the keys of a `[[switch]]` table (besides
/// `name` and `adapter`, which are filled in).
pub fn build(factory: &AdapterFactory, keys: &str) -> Result<(), SettingsError> {
    let mut table: toml::Table =
        toml::from_str(keys).map_err(|e| SettingsError::new("?", e.to_string()))?;
    table.insert("name".into(), "pbx".into());
    table.insert("adapter".into(), factory.name.into());
    (factory.build)(&settings_of(table)).map(drop)
}

/// The `[[switch]]` tables of the factory's `example`.
fn example_tables(factory: &AdapterFactory) -> Result<Vec<toml::Table>, String> {
    let doc: toml::Table = toml::from_str(factory.example)
        .map_err(|e| format!("{}: the example is not TOML: {e}", factory.name))?;
    let tables: Vec<toml::Table> = doc
        .get("switch")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|t| t.as_table().cloned()).collect())
        .unwrap_or_default();
    if tables.is_empty() {
        return Err(format!(
            "{}: the example has no [[switch]] table",
            factory.name
        ));
    }
    Ok(tables)
}

/// Every `[[switch]]` table of the factory's documented example builds; the number
/// of tables.
pub fn example_builds(factory: &AdapterFactory) -> Result<usize, String> {
    let tables = example_tables(factory)?;
    for (i, table) in tables.iter().enumerate() {
        if table.get("adapter").and_then(|a| a.as_str()) != Some(factory.name) {
            return Err(format!(
                "{}: example table {} is not `adapter = \"{}\"`",
                factory.name,
                i + 1,
                factory.name
            ));
        }
        (factory.build)(&settings_of(table.clone()))
            .map_err(|e| format!("{}: example table {} refused: {e}", factory.name, i + 1))?;
    }
    Ok(tables.len())
}

/// A key the adapter does not know, added to the example's first table, is refused
/// with that key named.
pub fn unknown_key_is_named(factory: &AdapterFactory) -> Result<(), String> {
    const KEY: &str = "no_such_key_xyz";
    let mut table = example_tables(factory)?.remove(0);
    table.insert(KEY.into(), 1.into());
    match (factory.build)(&settings_of(table)) {
        Ok(_) => Err(format!("{}: unknown key `{KEY}` accepted", factory.name)),
        Err(e) if e.key.as_deref() == Some(KEY) || e.message.contains(KEY) => Ok(()),
        Err(e) => Err(format!(
            "{}: unknown key refused without its name: {e:?}",
            factory.name
        )),
    }
}
