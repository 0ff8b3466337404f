//! The capture corpus (`tests/captures/smdr/` at the workspace root): each capture
//! re-creates, with its own values, the lines a real switch prints (SOURCES.md says
//! where each form was seen), and its `.expected.jsonl` holds the decode keys of
//! every call in it, worked out by hand from the vendor's field documentation.
//!
//! A capture is read the way `ctibridge decode` reads it (framing, format, dedup,
//! joining), with the format named by its directory (`avaya-ipo/…`), or by the
//! `format.toml` beside it (`custom/…`), and a clock pinned to 10 March 2026, 23:00
//! UTC so dates printed without a year or a day always mean the same. Every line
//! must be read or skipped (no issue), and every field must match.

use std::path::{Path, PathBuf};

use ctibridge_smdr::dedup::DEFAULT_WINDOW;
use ctibridge_smdr::format::custom::{Custom, CustomSpec};
use ctibridge_smdr::format::Format;
use ctibridge_smdr::framing::Terminator;
use ctibridge_smdr::reader::{Output, Reader};
use serde_json::{Map, Value};

/// The decode keys compared (`call_id` too where a capture expects one).
const KEYS: [&str; 13] = [
    "start",
    "duration_s",
    "ring_s",
    "direction",
    "extension",
    "trunk",
    "calling",
    "called",
    "dialed",
    "answered",
    "transfer_to",
    "account",
    "call_id",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/captures/smdr")
}

/// Every capture: (format directory, capture file).
fn captures(dir: &Path, out: &mut Vec<(PathBuf, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            captures(&path, out);
        } else if !name.ends_with(".expected.jsonl")
            && !name.ends_with(".toml")
            && !name.ends_with(".md")
        {
            out.push((dir.to_path_buf(), path));
        }
    }
}

fn format_of(dir: &Path) -> Format {
    let toml = dir.join("format.toml");
    if toml.exists() {
        let spec: CustomSpec =
            toml::from_str(&std::fs::read_to_string(&toml).unwrap()).expect("format.toml");
        return Format::Custom(Box::new(Custom::new(spec).expect("a valid format.toml")));
    }
    let name = dir.file_name().unwrap().to_string_lossy();
    Format::named(&name).expect("a built-in format named by its directory")
}

/// The start as the switch printed it: the local date and time, whatever offset
/// follows.
fn wall_clock(value: &Value) -> Value {
    match value.as_str() {
        Some(text) => Value::String(text.chars().take(19).collect()),
        None => value.clone(),
    }
}

/// A number as a float, so `65` and `65.0` compare equal.
fn normal(key: &str, value: &Value) -> Value {
    match (key, value) {
        ("start", v) => wall_clock(v),
        (_, Value::Number(n)) => serde_json::json!(n.as_f64()),
        (_, v) => v.clone(),
    }
}

#[test]
fn every_capture_decodes_to_its_expected_fields() {
    let mut all = Vec::new();
    captures(&corpus(), &mut all);
    assert!(all.len() >= 10, "the corpus is missing: {all:?}");
    let (mut right, mut total) = (0usize, 0usize);
    let mut wrong = Vec::new();
    for (dir, capture) in &all {
        let mut reader = Reader::new(format_of(dir), Terminator::Auto, None, DEFAULT_WINDOW);
        reader.pin_clock("2026-03-10T23:00:00Z".parse().unwrap());
        let mut outputs = reader.push(&std::fs::read(capture).unwrap());
        outputs.extend(reader.finish());
        let mut records = Vec::new();
        for output in outputs {
            match output {
                Output::Record(done) => records.push(serde_json::to_value(&done.record).unwrap()),
                Output::Issue(issue) => wrong.push(format!(
                    "{}: {}: {}",
                    capture.display(),
                    issue.position(),
                    issue.error
                )),
            }
        }
        let expected_path = capture.with_extension("expected.jsonl");
        let expected: Vec<Map<String, Value>> = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
            .collect();
        if records.len() != expected.len() {
            wrong.push(format!(
                "{}: {} records, expected {}",
                capture.display(),
                records.len(),
                expected.len()
            ));
        }
        for (i, want) in expected.iter().enumerate() {
            let got = records.get(i).cloned().unwrap_or(Value::Null);
            for key in KEYS {
                if key == "call_id" && !want.contains_key(key) {
                    continue;
                }
                total += 1;
                let want_value = want.get(key).map(|v| normal(key, v)).unwrap_or(Value::Null);
                let got_value = got.get(key).map(|v| normal(key, v)).unwrap_or(Value::Null);
                if want_value == got_value {
                    right += 1;
                } else {
                    wrong.push(format!(
                        "{} record {}: {key}: got {got_value}, expected {want_value}",
                        capture.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    println!("corpus: {right} of {total} fields right");
    assert!(
        wrong.is_empty(),
        "{right} of {total} fields right:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_local_start_says_so_and_a_configured_offset_is_kept() {
    let line = b"2026/03/09 08:12:31,00:00:00,11,01632960441,I,5201,5201,,0,1000231,0,E5201,Dana Price,T9003,LINE 2.1,0,0\r\n";
    let read = |offset| {
        let mut reader = Reader::new(
            Format::named("avaya-ipo").unwrap(),
            Terminator::Auto,
            offset,
            DEFAULT_WINDOW,
        );
        let mut out = reader.push(line);
        out.extend(reader.finish());
        match out.pop() {
            Some(Output::Record(done)) => serde_json::to_value(&done.record).unwrap(),
            other => panic!("{other:?}"),
        }
    };
    let local = read(None);
    assert_eq!(local["start"], "2026-03-09T08:12:31");
    assert_eq!(local["start_zone"], "switch-local");
    let at = read(chrono::FixedOffset::east_opt(-5 * 3600));
    assert_eq!(at["start"], "2026-03-09T08:12:31-05:00");
    assert!(at.get("start_zone").is_none());
}
