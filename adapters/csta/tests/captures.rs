//! Every message form in the capture corpus (`tests/captures/csta/` at the workspace
//! root, one file per form real switches send, see its SOURCES.md) decodes to the
//! keys written down by hand in `expected.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ctibridge_adapter::{DecodeOptions, Decoded};
use serde_json::{Map, Value};

/// The keys `ctibridge decode` promises for call events.
const KEYS: [&str; 6] = ["kind", "call_id", "device", "calling", "called", "cause"];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/captures/csta")
}

/// What `ctibridge decode` prints for one item (before the E.164 companions).
fn line(item: Decoded) -> Result<Value, String> {
    let (event, keys) = match item {
        Decoded::Event(event) => (event, Vec::new()),
        Decoded::Described { event, keys } => (event, keys),
        Decoded::Issue(issue) => return Err(format!("{}: {}", issue.position, issue.message)),
    };
    let mut value = serde_json::to_value(&event.event).unwrap();
    let fields = value.as_object_mut().unwrap();
    for (key, set) in keys {
        match set {
            Some(v) => fields.insert(key, Value::String(v)),
            None => fields.remove(&key),
        };
    }
    Ok(value)
}

#[test]
fn every_corpus_form_decodes_to_the_keys_its_source_gives() {
    let expected: Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap())
            .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus has {} forms", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let Some(want) = expected.get(&name).and_then(Value::as_array) else {
            failures.push(format!("{name}: no entry in expected.json"));
            continue;
        };
        let input = std::fs::read(file).unwrap();
        let items = ctibridge_csta::decode::decode(&DecodeOptions::default(), &input).unwrap();
        let got: Vec<Result<Value, String>> = items.into_iter().map(line).collect();
        if got.len() != want.len() {
            failures.push(format!(
                "{name}: {} items, expected {}: {got:?}",
                got.len(),
                want.len()
            ));
            continue;
        }
        for (i, (got, want)) in got.iter().zip(want).enumerate() {
            let got = match got {
                Ok(v) => v,
                Err(issue) => {
                    failures.push(format!("{name} event {i}: {issue}"));
                    continue;
                }
            };
            let pick = |v: &Value| -> BTreeMap<&str, Option<String>> {
                KEYS.iter()
                    .map(|k| (*k, v.get(*k).and_then(Value::as_str).map(String::from)))
                    .collect()
            };
            if pick(got) != pick(want) {
                failures.push(format!(
                    "{name} event {i}:\n  got      {:?}\n  expected {:?}",
                    pick(got),
                    pick(want)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn what_is_not_csta_is_an_issue_not_silence() {
    for (file, says) in [
        ("not-csta/empty.xml", "no CSTA message"),
        (
            "not-csta/login-page.html",
            "not XML: starts with `<!DOCTYPE html>`",
        ),
    ] {
        let input = std::fs::read(corpus().join(file)).unwrap();
        let items = ctibridge_csta::decode::decode(&DecodeOptions::default(), &input).unwrap();
        match items.as_slice() {
            [Decoded::Issue(issue)] => {
                assert_eq!(issue.position, "byte 0", "{file}");
                assert!(issue.message.contains(says), "{file}: {}", issue.message);
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    // A well-formed document of some other kind is named, too.
    let items = ctibridge_csta::decode::decode(
        &DecodeOptions::default(),
        b"<rss xmlns=\"http://purl.org/rss/1.0/\"><channel/></rss>",
    )
    .unwrap();
    assert!(
        matches!(items.as_slice(), [Decoded::Issue(i)] if i.message.contains("not a CSTA message: <rss>")),
        "{items:?}"
    );
}
