//! A record layout written in TOML (`[switch.format]`), so a sysadmin can add a PBX
//! without writing Rust:
//!
//! ```toml
//! [switch.format]
//! kind = "fixed"                     # or "csv" (delimiter = ",", quotes honoured), or
//!                                    # "words" (fields are runs of non-blanks)
//! skip = ['^CLASS ', 'PAGE \d+']     # regexes of lines that are headers, not records
//! [switch.format.fields]             # key = decode key; cols 1-based inclusive (fixed)
//! start = { cols = "6-16", pattern = "%H:%M %m/%d" }  # or field = N (csv, words)
//! duration_s = { cols = "23-30", pattern = "%H:%M:%S" }
//! direction = { cols = "1-4", map = { PIN = "in", POT = "out", ICM = "internal" } }
//! ```
//!
//! Field keys are the decode keys: `start`, `duration_s`, `ring_s`, `direction`,
//! `extension`, `trunk`, `calling`, `called`, `dialed`, `answered`, `transfer_to`,
//! `account`, `call_id`, and `start_date` + `start_time` for a date and a time printed
//! apart (instead of `start`). Each takes `cols = "A-B"` (fixed; `"A-"` runs to the
//! end of the line) or `field = N` (csv, words), and optionally:
//! - `pattern`: for `start`, a strftime pattern (default `%Y-%m-%d %H:%M:%S`; without
//!   a year the year is this one or last, without a date the day is today or
//!   yesterday; `%I` and `%p` read a 12-hour clock), or `"epoch"` / `"epoch_ms"` for
//!   Unix seconds / milliseconds (an absolute time, shown at `utc_offset` or in UTC);
//!   `start_date` and `start_time` take a pattern each and are read together; for
//!   `duration_s`/`ring_s`, `%H`, `%M`, `%S` and literal characters (`%M'%S`,
//!   `%H:%M'%S`; default: `hh:mm:ss`, `mm:ss`, `m'ss`, `hh:mm'ss` or seconds);
//! - `map`: the switch's text → the value (`in`/`out`/`internal` for `direction`,
//!   `true`/`false` for `answered`, any text for the others). Text not in the map
//!   is an error for `direction` and `answered`, and kept as it is for the others;
//! - `default`: the value when the field is empty (the line is shorter, the column
//!   blank) or, with a `map`, when its text is not in the map;
//! - `optional = true`: an empty field is left out instead of being an error (for
//!   `start`, `start_date`, `direction`, `answered`); a `start_date` left out makes
//!   the `start_time` today's (or yesterday's);
//! - `if_direction = ["in", …]`: the field is read only for records of those
//!   directions, so one column can be the caller on incoming calls and the number
//!   dialled on outgoing ones.
//!
//! Without a map, `direction` accepts `in`/`out`/`internal` and `I`/`O`, and
//! `answered` accepts `1`/`0`, `Y`/`N`, `yes`/`no`, `true`/`false`. A line matching a
//! `skip` regex, or whose fields are all empty, is skipped. Without an `answered`
//! field a call is answered when its duration is above zero.

use std::collections::BTreeMap;

use chrono::DateTime;
use ctibridge_adapter::{CallRecord, Direction, SwitchTime};
use regex::Regex;
use serde::Deserialize;

use super::fields::{cols, duration, duration_by_pattern, need, non_empty, split_csv, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};
use crate::framing::MAX_RECORD;

const DEFAULT_START: &str = "%Y-%m-%d %H:%M:%S";
const DEFAULT_DATE: &str = "%Y-%m-%d";
const DEFAULT_TIME: &str = "%H:%M:%S";

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
    /// Fields are the runs of non-blank characters (variable-width columns).
    Words,
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
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub optional: bool,
    /// Read only for records of these directions (`in`, `out`, `internal`).
    #[serde(default)]
    pub if_direction: Vec<String>,
}

/// The decode keys a custom format may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Start,
    StartDate,
    StartTime,
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

const KEYS: [(&str, Key); 15] = [
    ("start", Key::Start),
    ("start_date", Key::StartDate),
    ("start_time", Key::StartTime),
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
    default: Option<String>,
    optional: bool,
    if_direction: Vec<Direction>,
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
                    (_, _, Kind::Fixed | Kind::Words) => {
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
        let has = |key: &str| spec.fields.contains_key(key);
        if has("start") && (has("start_date") || has("start_time")) {
            return Err("give `start`, or `start_date` and `start_time`, not both".into());
        }
        if has("start_date") && !has("start_time") {
            return Err("`start_date` needs a `start_time`".into());
        }
        let mut fields = Vec::new();
        for (name, f) in spec.fields {
            let Some(&(name, key)) = KEYS.iter().find(|(n, _)| *n == name) else {
                return Err(format!(
                    "unknown field `{name}`; fields are {}",
                    KEYS.map(|(n, _)| n).join(", ")
                ));
            };
            fields.push(check_field(spec.kind, name, key, f)?);
        }
        // The direction first: other fields may depend on it (`if_direction`).
        fields.sort_by_key(|f| f.key != Key::Direction);
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
        let split: Vec<String> = match self.kind {
            Kind::Csv => split_csv(line, self.delimiter),
            Kind::Words => line.split_whitespace().map(str::to_string).collect(),
            Kind::Fixed => Vec::new(),
        };
        let text_at = |at: FieldAt| match at {
            FieldAt::Columns(a, b) => cols(line, a, b),
            FieldAt::Field(n) => split.get(n - 1).map(|s| s.trim()).unwrap_or(""),
        };
        if self.fields.iter().all(|f| text_at(f.at).is_empty()) {
            return Ok(Line::Skip);
        }
        let mut record = CallRecord::default();
        let (mut date, mut time) = (None, None);
        for f in &self.fields {
            let raw = text_at(f.at);
            let text = match (f.map.get(raw), raw.is_empty(), &f.default) {
                (Some(mapped), _, _) => mapped.as_str(),
                (None, true, Some(default)) => default.as_str(),
                (None, false, Some(default)) if !f.map.is_empty() => default.as_str(),
                _ => raw,
            };
            if text.is_empty() && f.optional {
                continue;
            }
            if !f.if_direction.is_empty()
                && !record
                    .direction
                    .is_some_and(|d| f.if_direction.contains(&d))
            {
                continue;
            }
            match f.key {
                Key::Start => record.start = Some(read_start(f, text, clock)?),
                Key::StartDate => date = Some((f, text)),
                Key::StartTime => time = Some((f, text)),
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
        if let Some((tf, time_text)) = time {
            record.start = Some(read_date_time(date, tf, time_text, clock)?);
        }
        if record.answered.is_none() {
            record.answered = record.duration_s.map(|d| d > 0.0);
        }
        Ok(Line::Record(Parsed::new(record)))
    }
}

/// Check one field's spec against its key and the layout kind.
fn check_field(kind: Kind, name: &'static str, key: Key, f: FieldSpec) -> Result<Field, String> {
    let at = match (kind, &f.cols, f.field) {
        (Kind::Fixed, Some(range), None) => column_range(range)
            .map(|(a, b)| FieldAt::Columns(a, b))
            .ok_or_else(|| {
                format!("`{name}`: cols must be \"FROM-TO\" or \"FROM-\" (1-based, FROM ≤ TO), not `{range}`")
            })?,
        (Kind::Csv | Kind::Words, None, Some(n)) if n >= 1 => FieldAt::Field(n),
        (Kind::Fixed, _, _) => {
            return Err(format!("`{name}` needs cols = \"FROM-TO\" (kind = \"fixed\")"))
        }
        (Kind::Csv | Kind::Words, _, _) => {
            return Err(format!("`{name}` needs field = N, from 1 (kind = \"csv\" or \"words\")"))
        }
    };
    let allowed = |value: &str| match key {
        Key::Direction => direction(value).is_some(),
        Key::Answered => answered(value).is_some(),
        _ => true,
    };
    for value in f.map.values().chain(f.default.iter()) {
        if !allowed(value) {
            return Err(format!("`{name}`: value `{value}` is not allowed here"));
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
    if let (Some(p), Key::StartDate | Key::StartTime) = (&f.pattern, key) {
        if matches!(p.as_str(), "epoch" | "epoch_ms") {
            return Err(format!("`{name}`: epoch times go in `start`"));
        }
    }
    let if_direction = f
        .if_direction
        .iter()
        .map(|d| {
            direction(d)
                .ok_or_else(|| format!("`{name}`: if_direction `{d}` is not in, out or internal"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !if_direction.is_empty() && key == Key::Direction {
        return Err("`direction` cannot depend on itself".into());
    }
    Ok(Field {
        key,
        name,
        at,
        pattern: f.pattern,
        map: f.map,
        default: f.default,
        optional: f.optional,
        if_direction,
    })
}

/// `start` by its pattern, or as Unix seconds / milliseconds.
fn read_start(f: &Field, text: &str, clock: &Clock) -> Result<SwitchTime, ParseError> {
    let pattern = f.pattern.as_deref().unwrap_or(DEFAULT_START);
    let read = match pattern {
        "epoch" => epoch(text, 1.0).map(|t| clock.instant(t)),
        "epoch_ms" => epoch(text, 1000.0).map(|t| clock.instant(t)),
        _ => clock.parse(text, pattern),
    };
    need(
        read,
        f.name,
        f.at,
        text,
        "a date and time matching its pattern",
    )
}

/// Unix time in `per_second` units (1: seconds, 1000: milliseconds), with or
/// without a fraction.
fn epoch(text: &str, per_second: f64) -> Option<DateTime<chrono::Utc>> {
    let value: f64 = text.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let millis = (value * 1000.0 / per_second).round() as i64;
    DateTime::from_timestamp_millis(millis)
}

/// `start_date` and `start_time` read together; without a date, the time is today's
/// (or yesterday's).
fn read_date_time(
    date: Option<(&Field, &str)>,
    time_field: &Field,
    time_text: &str,
    clock: &Clock,
) -> Result<SwitchTime, ParseError> {
    let time_pattern = time_field.pattern.as_deref().unwrap_or(DEFAULT_TIME);
    let Some((date_field, date_text)) = date.filter(|(_, text)| !text.is_empty()) else {
        return need(
            clock.parse(time_text, time_pattern),
            time_field.name,
            time_field.at,
            time_text,
            "a time matching its pattern",
        );
    };
    let date_pattern = date_field.pattern.as_deref().unwrap_or(DEFAULT_DATE);
    // Each part alone first, so the error names the one that is wrong.
    need(
        clock.parse(date_text, date_pattern),
        date_field.name,
        date_field.at,
        date_text,
        "a date matching its pattern",
    )?;
    need(
        clock.parse(time_text, time_pattern),
        time_field.name,
        time_field.at,
        time_text,
        "a time matching its pattern",
    )?;
    need(
        clock.parse(
            &format!("{date_text} {time_text}"),
            &format!("{date_pattern} {time_pattern}"),
        ),
        date_field.name,
        date_field.at,
        date_text,
        "a date of this or last year",
    )
}

/// `"6-16"` → (6, 16); `"7"` → (7, 7); `"43-"` → (43, the longest record).
fn column_range(text: &str) -> Option<(usize, usize)> {
    let (a, b) = match text.split_once('-') {
        Some((a, "")) => (a.trim().parse().ok()?, MAX_RECORD),
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
mod tests;
