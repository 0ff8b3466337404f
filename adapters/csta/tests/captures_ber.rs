//! The BER corpus (`tests/captures/csta-ber/` at the workspace root, see its
//! SOURCES.md): each annotated hex dump decodes to the keys written down by hand in
//! `expected.json`, the manufacturer's private data and the switch's timestamp are
//! kept, and a damaged stream costs only its bad APDUs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ctibridge_adapter::{DecodeOptions, Decoded};
use serde_json::{Map, Value};

const KEYS: [&str; 6] = ["kind", "call_id", "device", "calling", "called", "cause"];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/captures/csta-ber")
}

/// The bytes of an annotated dump: hex pairs, with `#` starting a comment.
fn bytes_of(text: &str) -> Vec<u8> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(|code| code.split_whitespace())
        .map(|pair| u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("not hex: {pair}")))
        .collect()
}

/// The phase a dump says it is in (`# phase: 2`).
fn phase_of(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("# phase: "))
        .expect("a `# phase:` line")
        .trim()
        .to_string()
}

fn decode(file: &str) -> Vec<Decoded> {
    let text = std::fs::read_to_string(corpus().join(file)).unwrap();
    let options = DecodeOptions {
        format: Some("ber".into()),
        phase: Some(phase_of(&text)),
    };
    ctibridge_csta::decode::decode(&options, &bytes_of(&text)).unwrap()
}

fn fields(item: &Decoded) -> Result<Map<String, Value>, String> {
    let (event, keys) = match item {
        Decoded::Event(event) => (event, Vec::new()),
        Decoded::Described { event, keys } => (event, keys.clone()),
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
    Ok(fields.clone())
}

#[test]
fn every_ber_form_decodes_to_the_keys_written_down() {
    let expected: Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, want) in expected.iter().filter(|(k, _)| !k.starts_with('_')) {
        let want = want.as_array().unwrap();
        let got: Vec<_> = decode(name).iter().map(fields).collect();
        if got.len() != want.len() {
            failures.push(format!(
                "{name}: {} items, expected {}: {got:#?}",
                got.len(),
                want.len()
            ));
            continue;
        }
        for (i, (got, want)) in got.iter().zip(want).enumerate() {
            let got = match got {
                Ok(v) => Value::Object(v.clone()),
                Err(issue) => {
                    failures.push(format!("{name} item {i}: {issue}"));
                    continue;
                }
            };
            let pick = |v: &Value| -> BTreeMap<&str, Option<String>> {
                KEYS.iter()
                    .map(|k| (*k, v.get(*k).and_then(Value::as_str).map(String::from)))
                    .collect()
            };
            if pick(&got) != pick(want) {
                failures.push(format!(
                    "{name} item {i}:\n  got      {:?}\n  expected {:?}",
                    pick(&got),
                    pick(want)
                ));
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // Every dump but the damaged one has an entry.
    let dumps = std::fs::read_dir(corpus())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "hex")
        })
        .count();
    assert_eq!(checked + 1, dumps, "a dump without an expected.json entry");
}

#[test]
fn private_data_and_the_switch_timestamp_are_kept() {
    let items = decode("p2-oxe-inbound-call.hex");
    let delivered = fields(&items[0]).unwrap();
    assert_eq!(delivered["private_data"], "1.3.12.2.9999.1:04030102A0");
    let items = decode("p2-md110-agent-and-call.hex");
    assert_eq!(
        fields(&items[1]).unwrap()["private_data"],
        "1.3.12.2.9999.2:040300FF10"
    );
    let items = decode("p3-inbound-acd-call.hex");
    let delivered = fields(&items[1]).unwrap();
    assert_eq!(delivered["switch_time"], "20261207091500.250Z");
    assert_eq!(delivered["private_data"], "5A0001");
    // The ACD group of a distributed call is its last redirection device.
    assert_eq!(delivered["queue"], "8000");
    // The agent events carry the agent.
    let items = decode("p3-agent-states.hex");
    assert_eq!(fields(&items[0]).unwrap()["agent"], "5001");
    let items = decode("p2-md110-agent-and-call.hex");
    assert_eq!(fields(&items[0]).unwrap()["agent"], "4711");
}

#[test]
fn a_damaged_stream_costs_only_its_bad_apdus() {
    let items = decode("p3-damaged.hex");
    let shown: Vec<String> = items
        .iter()
        .map(|item| match fields(item) {
            Ok(f) => format!("event {}", f["kind"].as_str().unwrap()),
            Err(issue) => issue,
        })
        .collect();
    // Offsets from the dump: the first APDU is 56 bytes (0..56), then 5, 5, 2, 15, 56
    // and 6.
    let want = [
        "event held",
        // A length followed by no ROSE tag that fills it is not trusted: the bytes
        // up to the next APDU are skipped in one piece.
        "bytes 56..66: bytes that start no APDU (no ROSE or ACSE tag",
        "APDU 2 (bytes 66..68): an empty APDU",
        "APDU 3 (bytes 68..83): not a CSTA Phase III (ECMA-285) message this adapter reads (Operation51)",
        "event retrieved",
        "bytes 139..145: a truncated APDU: the length says 32 bytes, 4 are there",
    ];
    assert_eq!(shown.len(), want.len(), "{shown:#?}");
    for (got, want) in shown.iter().zip(want) {
        assert!(got.starts_with(want), "got {got:?}, want {want:?}");
    }
}

#[test]
fn an_oversized_length_is_reported_and_skipped() {
    // A length of 40000 (over the maximum) with 3 bytes behind it, then nothing.
    let items = ctibridge_csta::decode::decode(
        &DecodeOptions {
            format: Some("ber".into()),
            phase: None,
        },
        &[0x9C, 0x40, 1, 2, 3],
    )
    .unwrap();
    match items.as_slice() {
        [Decoded::Issue(skipped), Decoded::Issue(rest)] => {
            assert_eq!(skipped.position, "bytes 0..3");
            assert!(skipped.message.contains("40000"), "{}", skipped.message);
            // What follows reads as a length of 515 with nothing behind it.
            assert_eq!(rest.position, "bytes 3..5");
            assert!(
                rest.message.contains("says 515 bytes, 0 are there"),
                "{}",
                rest.message
            );
        }
        other => panic!("{other:?}"),
    }
}
