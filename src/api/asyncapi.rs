//! Holds docs/asyncapi.yaml to the code, so the two cannot drift: the event names the
//! engine publishes, the methods the API parses, the error codes it answers with and
//! the close codes it sends are exactly those the document describes, no more and no
//! fewer. (tests/asyncapi.rs validates the document itself and the daemon's frames
//! against its schemas.) Test-only.

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

use super::protocol::METHODS;
use super::ws;
use crate::engine::names::EventName;
use crate::engine::request::ErrorCode;

const DOC: &str = include_str!("../../docs/asyncapi.yaml");

fn document() -> Yaml {
    let mut docs = YamlLoader::load_from_str(DOC).expect("docs/asyncapi.yaml is YAML");
    assert_eq!(docs.len(), 1, "docs/asyncapi.yaml holds one document");
    docs.remove(0)
}

/// The component messages whose payload's `type` is `frame_type`: key and the
/// `const` of payload property `property`.
fn messages(doc: &Yaml, frame_type: &str, property: &str) -> Vec<(String, String)> {
    let all = doc["components"]["messages"]
        .as_hash()
        .expect("components.messages");
    all.iter()
        .filter(|(_, m)| m["payload"]["properties"]["type"]["const"].as_str() == Some(frame_type))
        .map(|(key, m)| {
            let key = key.as_str().expect("message keys are strings").to_string();
            let value = m["payload"]["properties"][property]["const"]
                .as_str()
                .unwrap_or_else(|| panic!("message {key} has no const `{property}`"))
                .to_string();
            (key, value)
        })
        .collect()
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(String::from).collect()
}

/// Where `EventName::ALL` lists each name: adding a variant fails to compile here,
/// and a variant missing from `ALL` fails `all_lists_every_variant`.
fn event_index(name: EventName) -> usize {
    use EventName as E;
    match name {
        E::Snapshot => 0,
        E::CallOffered => 1,
        E::CallOriginated => 2,
        E::CallAnswered => 3,
        E::CallHeld => 4,
        E::CallRetrieved => 5,
        E::CallTransferred => 6,
        E::CallConferenced => 7,
        E::CallUpdated => 8,
        E::CallEnded => 9,
        E::CallRecord => 10,
        E::AgentState => 11,
        E::QueueStats => 12,
        E::LinkUp => 13,
        E::LinkDown => 14,
        E::DatabaseUp => 15,
        E::DatabaseDown => 16,
    }
}

/// Likewise for `ErrorCode::ALL`.
fn error_index(code: ErrorCode) -> usize {
    use ErrorCode as C;
    match code {
        C::Unauthenticated => 0,
        C::Forbidden => 1,
        C::InvalidMessage => 2,
        C::UnknownMethod => 3,
        C::InvalidParams => 4,
        C::CallNotFound => 5,
        C::InvalidDestination => 6,
        C::NotSupported => 7,
        C::SwitchUnavailable => 8,
        C::Timeout => 9,
        C::RateLimited => 10,
    }
}

#[test]
fn all_lists_every_variant() {
    for (i, name) in EventName::ALL.iter().enumerate() {
        assert_eq!(
            event_index(*name),
            i,
            "EventName::ALL is out of order at {name}"
        );
    }
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        assert_eq!(
            error_index(*code),
            i,
            "ErrorCode::ALL is out of order at {code}"
        );
    }
    // The largest index the matches give must be in the lists.
    assert_eq!(
        event_index(EventName::DatabaseDown) + 1,
        EventName::ALL.len()
    );
    assert_eq!(
        error_index(ErrorCode::RateLimited) + 1,
        ErrorCode::ALL.len()
    );
}

#[test]
fn every_event_name_is_a_documented_event_and_nothing_else() {
    let doc = document();
    let documented = messages(&doc, "evt", "name");
    let in_doc = set(documented.iter().map(|(_, name)| name.as_str()));
    let in_code = set(EventName::ALL.iter().map(|n| n.as_str()));
    assert_eq!(
        in_doc.len(),
        documented.len(),
        "an event is documented twice"
    );
    assert_eq!(
        in_doc, in_code,
        "docs/asyncapi.yaml's evt messages differ from EventName"
    );
    // Each is something the daemon sends: a message of the events operation.
    let sent = operation_messages(&doc, "send");
    for (key, name) in &documented {
        assert!(
            sent.contains(key),
            "event {name} ({key}) is in no send operation"
        );
    }
}

#[test]
fn every_method_is_a_documented_request_and_nothing_else() {
    let doc = document();
    let documented = messages(&doc, "req", "method");
    let in_doc = set(documented.iter().map(|(_, m)| m.as_str()));
    assert_eq!(
        in_doc.len(),
        documented.len(),
        "a method is documented twice"
    );
    assert_eq!(
        in_doc,
        set(METHODS),
        "docs/asyncapi.yaml's req messages differ from the methods the API parses"
    );
    // Each request is what a receive operation takes, and that operation replies with
    // a result and with the error answer.
    let operations = doc["operations"].as_hash().expect("operations");
    for (key, method) in &documented {
        let target = format!("#/channels/cti/messages/{key}");
        let operation = operations
            .values()
            .find(|op| refs(&op["messages"]).contains(&target))
            .unwrap_or_else(|| panic!("method {method} is in no operation"));
        assert_eq!(operation["action"].as_str(), Some("receive"), "{method}");
        let replies = refs(&operation["reply"]["messages"]);
        assert!(
            replies.contains(&"#/channels/cti/messages/errorResult".to_string()),
            "{method}'s operation does not reply with errors"
        );
        assert_eq!(replies.len(), 2, "{method}: a result and the error answer");
    }
}

#[test]
fn the_error_code_enum_is_error_code() {
    let doc = document();
    let schema = &doc["components"]["schemas"]["ErrorCode"];
    let listed: Vec<&str> = schema["enum"]
        .as_vec()
        .expect("ErrorCode has an enum")
        .iter()
        .map(|v| v.as_str().expect("codes are strings"))
        .collect();
    assert_eq!(set(listed.iter().copied()).len(), listed.len());
    assert_eq!(
        set(listed.iter().copied()),
        set(ErrorCode::ALL.iter().map(|c| c.as_str())),
        "docs/asyncapi.yaml's ErrorCode enum differs from ErrorCode"
    );
    let description = schema["description"].as_str().expect("described");
    for code in ErrorCode::ALL {
        assert!(
            description.contains(&format!("| `{code}` |")),
            "{code} has no row in ErrorCode's description"
        );
    }
}

#[test]
fn the_close_codes_are_those_the_connection_sends() {
    let doc = document();
    let schema = &doc["components"]["schemas"]["CloseCode"];
    let listed: BTreeSet<i64> = schema["enum"]
        .as_vec()
        .expect("CloseCode has an enum")
        .iter()
        .map(|v| v.as_i64().expect("close codes are integers"))
        .collect();
    // The daemon's own codes, and the client's (1000, 1005) it echoes back.
    let sent: BTreeSet<i64> = [
        ws::CLOSE_UNAUTHENTICATED,
        ws::CLOSE_TOO_SLOW,
        ws::CLOSE_TOO_BIG,
        ws::CLOSE_GOING_AWAY,
        ws::CLOSE_POLICY,
        1000,
        1005,
    ]
    .into_iter()
    .map(i64::from)
    .collect();
    assert_eq!(listed, sent);
    let description = schema["description"].as_str().expect("described");
    for code in listed {
        let code = code.to_string();
        assert!(
            description
                .lines()
                .any(|row| row.starts_with("| ") && row.contains(&code)),
            "close code {code} has no row in CloseCode's description"
        );
    }
}

#[test]
fn the_server_and_channel_are_the_endpoint() {
    let doc = document();
    assert_eq!(doc["asyncapi"].as_str(), Some("3.0.0"));
    let channel = &doc["channels"]["cti"];
    assert_eq!(channel["address"].as_str(), Some(super::WS_PATH));
    assert_eq!(
        channel["bindings"]["ws"]["headers"]["properties"]["Sec-WebSocket-Protocol"]["const"]
            .as_str(),
        Some(super::SUBPROTOCOL)
    );
    assert_eq!(doc["servers"]["daemon"]["protocol"].as_str(), Some("ws"));
}

/// The `$ref`s of a list of references.
fn refs(list: &Yaml) -> Vec<String> {
    list.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|r| r["$ref"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The channel message keys of every operation with `action`.
fn operation_messages(doc: &Yaml, action: &str) -> BTreeSet<String> {
    let operations = doc["operations"].as_hash().expect("operations");
    operations
        .values()
        .filter(|op| op["action"].as_str() == Some(action))
        .flat_map(|op| refs(&op["messages"]))
        .filter_map(|r| r.strip_prefix("#/channels/cti/messages/").map(String::from))
        .collect()
}
