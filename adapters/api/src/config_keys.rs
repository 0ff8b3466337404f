//! One source of truth for configuration keys (feature `testkit`): a key lives in
//! the serde struct that reads it, in the `EXAMPLE` that shows it and in the docs
//! table that explains it. These helpers read each copy's key names so a test can
//! fail, naming the key, when the three differ.
//!
//! - [`struct_keys`]: the keys a `#[derive(Deserialize)]` struct accepts, as serde
//!   itself knows them (renames applied), without an instance of the struct;
//! - [`documented_keys`]: the first column of the key table under a docs heading;
//! - [`example_keys`]: the keys of an example's `[[switch]]` tables;
//! - [`compare`]: the three side by side, with the keys every side may leave out.

use std::collections::BTreeSet;

use serde::de::{self, DeserializeOwned, Visitor};

/// A deserializer that only notes the field list a struct's derived `Deserialize`
/// hands to `deserialize_struct`, then stops.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct with named fields"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("field names noted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// The keys `T` accepts (its serde field names, renames applied).
///
/// # Panics
/// When `T` is not a struct with named fields (a test's own mistake), or uses
/// `#[serde(flatten)]`, which hides its field list.
pub fn struct_keys<T: DeserializeOwned>() -> BTreeSet<String> {
    let mut fields = None;
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
        .expect("a struct with named fields and no flatten")
        .iter()
        .map(|f| f.to_string())
        .collect()
}

/// The keys in the first column of the first table under the last of `headings`,
/// up to the next heading. Each heading line is looked for (exactly, e.g.
/// "## The `csta` adapter", then "### Keys") after the one before it, so a heading
/// used in several sections is found in the right one. A cell may name several keys
/// (`` `host`, `port` ``).
///
/// # Panics
/// When a heading is not in `doc` or the last has no key table.
pub fn documented_keys(doc: &str, headings: &[&str]) -> BTreeSet<String> {
    let mut lines = doc.lines();
    for heading in headings {
        assert!(
            lines.any(|l| l.trim_end() == *heading),
            "no heading `{heading}` in the docs"
        );
    }
    let mut keys = BTreeSet::new();
    let mut in_table = false;
    let mut lines = lines.peekable();
    while let Some(line) = lines.next() {
        if line.starts_with('#') {
            break;
        }
        // Keys shown as a commented example instead of a table.
        if !in_table && line.trim_end() == "```toml" {
            let block: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            keys.extend(example_keys(&block.join("\n")));
            break;
        }
        let Some(row) = line.strip_prefix('|') else {
            if in_table {
                break; // the table ended
            }
            continue;
        };
        in_table = true;
        let first = row.split('|').next().unwrap_or_default();
        if first.trim().eq_ignore_ascii_case("key") || first.trim().starts_with("---") {
            continue;
        }
        keys.extend(
            first
                .split(',')
                .filter_map(|k| k.trim().strip_prefix('`')?.strip_suffix('`'))
                .map(String::from),
        );
    }
    assert!(!keys.is_empty(), "no key table under {headings:?}");
    keys
}

/// The keys of every `[[switch]]` table of an example configuration, and the keys
/// it shows commented out (`# host = "…"`: an alternative to a key it sets).
///
/// # Panics
/// When the example is not TOML.
pub fn example_keys(example: &str) -> BTreeSet<String> {
    let doc: toml::Table = toml::from_str(example).expect("the example is TOML");
    let set = doc
        .get("switch")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_table())
        .flat_map(|t| t.keys().cloned());
    let commented = example.lines().filter_map(|line| {
        let (key, _) = line.trim().strip_prefix('#')?.split_once('=')?;
        let key = key.trim();
        (!key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .then(|| key.to_string())
    });
    set.chain(commented).collect()
}

/// The `[[switch]]` keys the daemon reads for every adapter (docs/operations.md
/// documents them): an adapter's docs and struct may leave them out.
pub const SHARED_SWITCH_KEYS: [&str; 5] = [
    "name",
    "adapter",
    "devices",
    "cti_switch",
    "request_timeout_s",
];

/// Compare the keys of the struct, the docs and the example (when there is one),
/// leaving out `shared` (keys another part reads and documents, such as the daemon's
/// `name`, `adapter` and `devices` of every `[[switch]]`). `Err` names every key
/// that is missing somewhere.
pub fn compare(
    what: &str,
    fields: &BTreeSet<String>,
    documented: &BTreeSet<String>,
    example: Option<&BTreeSet<String>>,
    shared: &[&str],
) -> Result<(), String> {
    let own = |keys: &BTreeSet<String>| -> BTreeSet<String> {
        keys.iter()
            .filter(|k| !shared.contains(&k.as_str()))
            .cloned()
            .collect()
    };
    let fields = own(fields);
    let mut problems = Vec::new();
    let mut differ = |side: &str, keys: &BTreeSet<String>| {
        let keys = own(keys);
        for missing in fields.difference(&keys) {
            problems.push(format!("`{missing}` is read but not in the {side}"));
        }
        for extra in keys.difference(&fields) {
            problems.push(format!("`{extra}` is in the {side} but not read"));
        }
    };
    differ("docs", documented);
    if let Some(example) = example {
        differ("example", example);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{what}: {}", problems.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        host: String,
        #[serde(rename = "port_no")]
        port: u16,
        #[serde(default)]
        timeout_s: Option<f64>,
    }

    const DOC: &str = "## Sample\n\nText.\n\n| Key | Default | Meaning |\n|---|---|---|\n\
        | `host`, `port_no` | | Where. |\n| `timeout_s` | `10` | How long. |\n\n\
        | `not_this` | | A later table. |\n## Next\n| `nor_this` | | |\n";

    #[test]
    fn each_copy_is_read() {
        let fields = struct_keys::<Sample>();
        assert_eq!(
            fields.iter().map(String::as_str).collect::<Vec<_>>(),
            ["host", "port_no", "timeout_s"]
        );
        let documented = documented_keys(DOC, &["## Sample"]);
        assert_eq!(documented, fields);
        let example = example_keys(
            "[[switch]]\nname = \"a\"\nhost = \"h\"\n# port_no = 1\n[[switch]]\ntimeout_s = 2\n",
        );
        let shown =
            "# S\n```toml\n[[switch]]\nhost = \"h\"\nport_no = 1 # = 2\ntimeout_s = 2\n```\n";
        assert_eq!(documented_keys(shown, &["# S"]), fields);
        assert!(compare("sample", &fields, &documented, Some(&example), &["name"]).is_ok());
    }

    #[test]
    fn a_difference_names_the_key() {
        let fields = struct_keys::<Sample>();
        let documented = documented_keys(DOC, &["## Sample"]);
        let example = example_keys("[[switch]]\nhost = \"h\"\nport = 1\n");
        let err = compare("sample", &fields, &documented, Some(&example), &[]).unwrap_err();
        assert!(
            err.contains("`port_no` is read but not in the example"),
            "{err}"
        );
        assert!(
            err.contains("`timeout_s` is read but not in the example"),
            "{err}"
        );
        assert!(
            err.contains("`port` is in the example but not read"),
            "{err}"
        );
    }
}
