//! `ctibridge decode --adapter NAME [--format F] [--phase P] [--country CC] FILE`: print what an
//! adapter makes of a capture, one JSON object per line (DESIGN.md keys), with the
//! E.164 forms of the numbers beside them. Parts the adapter rejects are printed on
//! stderr with their position; the exit code is then 1, so a script notices.

use std::io::{Read, Write};
use std::path::Path;

use ctibridge_adapter::{DecodeOptions, Decoded};
use serde_json::{Map, Value};

use super::{Failure, Outcome};
use crate::crm::phone;

/// Number fields that get an `*_e164` companion when they are public numbers.
const NUMBER_KEYS: [&str; 5] = [
    "calling",
    "called",
    "original_called",
    "dialed",
    "transfer_to",
];

pub fn decode(
    adapter: &str,
    format: Option<String>,
    phase: Option<String>,
    country: &str,
    file: &Path,
) -> Outcome {
    phone::check_country(country).map_err(Failure::config)?;
    let registry = crate::adapters::registry();
    let factory = registry.get(adapter).ok_or_else(|| {
        Failure::config(format!(
            "unknown adapter `{adapter}`; known adapters: {}",
            registry.names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let decoder = factory.decode.ok_or_else(|| {
        Failure::config(format!(
            "the `{adapter}` adapter has no capture format to decode"
        ))
    })?;
    let input = read_input(file)?;
    let items = decoder(&DecodeOptions { format, phase }, &input).map_err(Failure::config)?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut issues = 0usize;
    // An empty file is a wrong path or a capture that never started; saying
    // nothing would look like success.
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Failure::new(format!(
            "no {} message in {}: the file is empty",
            adapter.to_uppercase(),
            file.display()
        )));
    }
    for item in items {
        let (event, keys) = match item {
            Decoded::Event(event) => (event, Vec::new()),
            Decoded::Described { event, keys } => (event, keys),
            Decoded::Issue(issue) => {
                issues += 1;
                eprintln!("{}:{}: {}", file.display(), issue.position, issue.message);
                continue;
            }
        };
        let mut value = serde_json::to_value(&event.event).unwrap_or_default();
        if let Value::Object(fields) = &mut value {
            for (key, set) in keys {
                match set {
                    Some(v) => {
                        fields.insert(key, Value::String(v));
                    }
                    None => {
                        fields.shift_remove(&key);
                    }
                }
            }
        }
        let line = event_json(&value, country);
        writeln!(out, "{line}").map_err(|e| Failure::new(format!("stdout: {e}")))?;
    }
    out.flush()
        .map_err(|e| Failure::new(format!("stdout: {e}")))?;
    if issues > 0 {
        return Err(Failure::new(format!(
            "{issues} part(s) of {} could not be decoded (listed above)",
            file.display()
        )));
    }
    Ok(())
}

fn read_input(file: &Path) -> Result<Vec<u8>, Failure> {
    let mut input = Vec::new();
    if file == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut input)
            .map_err(|e| Failure::new(format!("stdin: {e}")))?;
        return Ok(input);
    }
    std::fs::read(file).map_err(|e| Failure::new(format!("{}: {e}", file.display())))
}

/// The event as JSON with `*_e164` added after each public number.
fn event_json(event: &Value, country: &str) -> Value {
    let Value::Object(fields) = event else {
        return event.clone();
    };
    let mut out = Map::new();
    for (key, value) in fields {
        out.insert(key.clone(), value.clone());
        if !NUMBER_KEYS.contains(&key.as_str()) {
            continue;
        }
        if let Some(normalised) = value
            .as_str()
            .and_then(|raw| phone::normalise(raw, country))
        {
            out.insert(format!("{key}_e164"), Value::String(normalised.e164));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn public_numbers_get_an_e164_companion() {
        let event = json!({"kind": "delivered", "call_id": "7", "device": "1001",
            "calling": "4155550123", "called": "1002"});
        let out = event_json(&event, "US");
        assert_eq!(out["calling"], "4155550123");
        assert_eq!(out["calling_e164"], "+14155550123");
        assert!(
            out.get("called_e164").is_none(),
            "an extension has no E.164 form"
        );
        let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "kind",
                "call_id",
                "device",
                "calling",
                "calling_e164",
                "called"
            ]
        );
    }
}
