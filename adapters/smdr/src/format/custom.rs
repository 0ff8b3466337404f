//! A record layout written in TOML (`[switch.format]`), so a sysadmin can add a PBX
//! without writing Rust:
//!
//! ```toml
//! [switch.format]
//! kind = "fixed"                     # or "csv" (delimiter = ",", quotes honoured)
//! skip = ['^CLASS ', 'PAGE \d+']     # regexes of lines that are headers, not records
//! [switch.format.fields]             # key = decode key; cols 1-based inclusive (fixed)
//! start = { cols = "6-16", pattern = "%H:%M %m/%d" }  # or field = N (csv, 1-based)
//! duration_s = { cols = "23-30", pattern = "%H:%M:%S" }
//! direction = { cols = "1-4", map = { PIN = "in", POT = "out", ICM = "internal" } }
//! ```
//!
//! Field keys are the decode keys: `start`, `duration_s`, `ring_s`, `direction`,
//! `extension`, `trunk`, `calling`, `called`, `dialed`, `answered`, `transfer_to`,
//! `account`, `call_id`. Each takes `cols = "A-B"` (fixed) or `field = N` (csv), and
//! optionally:
//! - `pattern`: for `start`, a strftime pattern (default `%Y-%m-%d %H:%M:%S`; without
//!   a year the year is this one or last, without a date the day is today or
//!   yesterday); for `duration_s`/`ring_s`, `%H`, `%M`, `%S` and literal characters
//!   (default: `hh:mm:ss`, `mm:ss`, `m'ss` or seconds);
//! - `map`: the switch's text → the value (`in`/`out`/`internal` for `direction`,
//!   `true`/`false` for `answered`, any text for the others). Text not in the map
//!   is an error for `direction` and `answered`, and kept as it is for the others.
//!
//! Without a map, `direction` accepts `in`/`out`/`internal` and `I`/`O`, and
//! `answered` accepts `1`/`0`, `Y`/`N`, `yes`/`no`, `true`/`false`. A line matching a
//! `skip` regex, or whose fields are all empty, is skipped.

use std::collections::BTreeMap;

use ctibridge_adapter::{CallRecord, Direction};
use regex::Regex;
use serde::Deserialize;

use super::fields::{cols, duration, duration_by_pattern, need, non_empty, split_csv, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

const DEFAULT_START: &str = "%Y-%m-%d %H:%M:%S";

/// `[switch.format]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomSpec {
    pub kind: Kind,
    #[serde(default)]
    pub delimiter: Option<String>,
    #[serde(default)]
    pub skip: Vec<String>,
    pub fields: BTreeMap<String, FieldSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Fixed,
    Csv,
}

/// One `[switch.format.fields]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(default)]
    pub cols: Option<String>,
    #[serde(default)]
    pub field: Option<usize>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub map: BTreeMap<String, String>,
}

/// The decode keys a custom format may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Start,
    DurationS,
    RingS,
    Direction,
    Extension,
    Trunk,
    Calling,
    Called,
    Dialed,
    Answered,
    TransferTo,
    Account,
    CallId,
}

const KEYS: [(&str, Key); 13] = [
    ("start", Key::Start),
    ("duration_s", Key::DurationS),
    ("ring_s", Key::RingS),
    ("direction", Key::Direction),
    ("extension", Key::Extension),
    ("trunk", Key::Trunk),
    ("calling", Key::Calling),
    ("called", Key::Called),
    ("dialed", Key::Dialed),
    ("answered", Key::Answered),
    ("transfer_to", Key::TransferTo),
    ("account", Key::Account),
    ("call_id", Key::CallId),
];

#[derive(Debug, Clone)]
struct Field {
    key: Key,
    name: &'static str,
    at: FieldAt,
    pattern: Option<String>,
    map: BTreeMap<String, String>,
}

/// A checked custom format, ready to read lines.
#[derive(Debug, Clone)]
pub struct Custom {
    kind: Kind,
    delimiter: char,
    skip: Vec<Regex>,
    fields: Vec<Field>,
}

impl Custom {
    /// Check a spec; the error says which key is wrong and why.
    pub fn new(spec: CustomSpec) -> Result<Custom, String> {
        let delimiter = match spec.delimiter.as_deref() {
            None => ',',
            Some(d) => {
                let mut chars = d.chars();
                match (chars.next(), chars.next(), spec.kind) {
                    (Some(c), None, Kind::Csv) => c,
                    (_, _, Kind::Fixed) => {
                        return Err("`delimiter` is for kind = \"csv\" only".into())
                    }
                    _ => return Err(format!("`delimiter` must be one character, not `{d}`")),
                }
            }
        };
        let skip = spec
            .skip
            .iter()
            .map(|r| Regex::new(r).map_err(|e| format!("`skip` regex `{r}`: {e}")))
            .collect::<Result<_, _>>()?;
        if spec.fields.is_empty() {
            return Err("[format.fields] lists no fields".into());
        }
        let mut fields = Vec::new();
        for (name, f) in spec.fields {
            let Some(&(name, key)) = KEYS.iter().find(|(n, _)| *n == name) else {
                return Err(format!(
                    "unknown field `{name}`; fields are {}",
                    KEYS.map(|(n, _)| n).join(", ")
                ));
            };
            let at = match (spec.kind, &f.cols, f.field) {
                (Kind::Fixed, Some(range), None) => column_range(range)
                    .map(|(a, b)| FieldAt::Columns(a, b))
                    .ok_or_else(|| format!("`{name}`: cols must be \"FROM-TO\" (1-based, FROM ≤ TO), not `{range}`"))?,
                (Kind::Csv, None, Some(n)) if n >= 1 => FieldAt::Field(n),
                (Kind::Fixed, _, _) => return Err(format!("`{name}` needs cols = \"FROM-TO\" (kind = \"fixed\")")),
                (Kind::Csv, _, _) => return Err(format!("`{name}` needs field = N, from 1 (kind = \"csv\")")),
            };
            for value in f.map.values() {
                let ok = match key {
                    Key::Direction => direction(value).is_some(),
                    Key::Answered => matches!(value.as_str(), "true" | "false"),
                    _ => true,
                };
                if !ok {
                    return Err(format!("`{name}`: map value `{value}` is not allowed here"));
                }
            }
            if let (Some(p), Key::DurationS | Key::RingS) = (&f.pattern, key) {
                if p.contains('%')
                    && p.split('%')
                        .skip(1)
                        .any(|s| !s.starts_with(['H', 'M', 'S']))
                {
                    return Err(format!(
                        "`{name}`: pattern `{p}` may use %H, %M and %S only"
                    ));
                }
            }
            fields.push(Field {
                key,
                name,
                at,
                pattern: f.pattern,
                map: f.map,
            });
        }
        Ok(Custom {
            kind: spec.kind,
            delimiter,
            skip,
            fields,
        })
    }

    pub fn parse(&self, line: &str, clock: &Clock) -> Result<Line, ParseError> {
        if self.skip.iter().any(|r| r.is_match(line)) {
            return Ok(Line::Skip);
        }
        let csv = match self.kind {
            Kind::Csv => split_csv(line, self.delimiter),
            Kind::Fixed => Vec::new(),
        };
        let text_at = |at: FieldAt| match at {
            FieldAt::Columns(a, b) => cols(line, a, b),
            FieldAt::Field(n) => csv.get(n - 1).map(|s| s.trim()).unwrap_or(""),
        };
        if self.fields.iter().all(|f| text_at(f.at).is_empty()) {
            return Ok(Line::Skip);
        }
        let mut record = CallRecord::default();
        for f in &self.fields {
            let raw = text_at(f.at);
            let mapped = f.map.get(raw).map(String::as_str);
            let text = mapped.unwrap_or(raw);
            match f.key {
                Key::Start => {
                    let pattern = f.pattern.as_deref().unwrap_or(DEFAULT_START);
                    record.start = Some(need(
                        clock.parse(text, pattern),
                        f.name,
                        f.at,
                        text,
                        "a date and time matching its pattern",
                    )?);
                }
                Key::DurationS | Key::RingS if !text.is_empty() => {
                    let seconds = match &f.pattern {
                        Some(p) => duration_by_pattern(text, p),
                        None => duration(text),
                    };
                    let seconds = Some(need(
                        seconds,
                        f.name,
                        f.at,
                        text,
                        "a duration matching its pattern",
                    )?);
                    match f.key {
                        Key::DurationS => record.duration_s = seconds,
                        _ => record.ring_s = seconds,
                    }
                }
                Key::Direction => {
                    record.direction = Some(need(
                        direction(text),
                        f.name,
                        f.at,
                        raw,
                        "a direction in its map",
                    )?)
                }
                Key::Answered => {
                    record.answered = Some(need(
                        answered(text),
                        f.name,
                        f.at,
                        raw,
                        "yes or no (or a value in its map)",
                    )?)
                }
                Key::DurationS | Key::RingS => {}
                Key::Extension => record.extension = non_empty(text),
                Key::Trunk => record.trunk = non_empty(text),
                Key::Calling => record.calling = non_empty(text),
                Key::Called => record.called = non_empty(text),
                Key::Dialed => record.dialed = non_empty(text),
                Key::TransferTo => record.transfer_to = non_empty(text),
                Key::Account => record.account = non_empty(text),
                Key::CallId => record.call_id = non_empty(text),
            }
        }
        if record.answered.is_none() {
            record.answered = record.duration_s.map(|d| d > 0.0);
        }
        Ok(Line::Record(Parsed::new(record)))
    }
}

/// `"6-16"` → (6, 16); `"7"` → (7, 7).
fn column_range(text: &str) -> Option<(usize, usize)> {
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let n = text.trim().parse().ok()?;
            (n, n)
        }
    };
    (a >= 1 && a <= b).then_some((a, b))
}

fn direction(text: &str) -> Option<Direction> {
    match text.to_ascii_lowercase().as_str() {
        "in" | "i" => Some(Direction::In),
        "out" | "o" => Some(Direction::Out),
        "internal" => Some(Direction::Internal),
        _ => None,
    }
}

fn answered(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" | "true" => Some(true),
        "0" | "n" | "no" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;

    fn custom(text: &str) -> Result<Custom, String> {
        let spec: CustomSpec = toml::from_str(text).map_err(|e| e.to_string())?;
        Custom::new(spec)
    }

    const FIXED: &str = r#"
kind = "fixed"
skip = ['^CLASS ', 'PAGE \d+']
[fields]
direction = { cols = "1-4", map = { PIN = "in", POT = "out", ICM = "internal" } }
start = { cols = "6-16", pattern = "%H:%M %m/%d" }
duration_s = { cols = "18-25", pattern = "%H:%M:%S" }
extension = { cols = "27-30" }
dialed = { cols = "32-50" }
"#;

    #[test]
    fn the_design_example_reads_lines() {
        let format = custom(FIXED).unwrap();
        let Ok(Line::Record(p)) =
            format.parse("POT  09:12 03/10 00:01:30 2001 0442071838750", &clock())
        else {
            panic!("not a record")
        };
        let r = p.record;
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.start, Some("2026-03-10T09:12:00Z".parse().unwrap()));
        assert_eq!(r.duration_s, Some(90.0));
        assert_eq!(r.extension.as_deref(), Some("2001"));
        assert_eq!(r.dialed.as_deref(), Some("0442071838750"));
        assert_eq!(r.answered, Some(true));
        assert_eq!(format.parse("CLASS TIME  DATE", &clock()), Ok(Line::Skip));
        assert_eq!(format.parse("            PAGE 2", &clock()), Ok(Line::Skip));
        let err = format
            .parse("XXX  09:12 03/10 00:01:30 2001", &clock())
            .unwrap_err();
        assert!(err.to_string().contains("direction (columns 1-4)"), "{err}");
    }

    #[test]
    fn csv_kind() {
        let format = custom(
            r#"
kind = "csv"
delimiter = ";"
[fields]
start = { field = 1, pattern = "%d.%m.%Y %H:%M:%S" }
calling = { field = 2 }
extension = { field = 3 }
ring_s = { field = 4 }
answered = { field = 5, map = { A = "true", N = "false" } }
direction = { field = 6 }
"#,
        )
        .unwrap();
        let Ok(Line::Record(p)) =
            format.parse("10.03.2026 08:00:00;4155550123;2001;12;N;I", &clock())
        else {
            panic!("not a record")
        };
        assert_eq!(p.record.ring_s, Some(12.0));
        assert_eq!(p.record.answered, Some(false));
        assert_eq!(p.record.direction, Some(Direction::In));
    }

    #[test]
    fn bad_specs_are_explained() {
        let err = custom("kind = \"fixed\"\n[fields]\nstart = { field = 1 }").unwrap_err();
        assert!(err.contains("needs cols"), "{err}");
        let err = custom("kind = \"csv\"\n[fields]\nwho = { field = 1 }").unwrap_err();
        assert!(err.contains("unknown field `who`"), "{err}");
        let err = custom("kind = \"fixed\"\nskip = ['(']\n[fields]\nstart = { cols = \"1-2\" }")
            .unwrap_err();
        assert!(err.contains("regex"), "{err}");
        let err = custom("kind = \"fixed\"\n[fields]\ndirection = { cols = \"1-2\", map = { X = \"sideways\" } }").unwrap_err();
        assert!(err.contains("sideways"), "{err}");
        let err = custom("kind = \"fixed\"\n[fields]\nstart = { cols = \"9-2\" }").unwrap_err();
        assert!(err.contains("FROM-TO"), "{err}");
    }
}
