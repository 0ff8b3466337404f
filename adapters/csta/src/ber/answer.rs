//! The switch's answers to our requests as the XML link's elements: a returnResult's
//! value under `<ServiceResponse>` (the connections a service yields, a monitor's
//! cross reference, a snapshot's calls, agent states), and a returnError's
//! UniversalFailure as `CSTAErrorCode` with its ECMA category and value names.

use super::module::{name_of, Module};
use super::node::{self, app, ctx, tag_name, Node};
use super::value::{connection, enumerated, first_enumerated, hex, printable, text};
use crate::xml::Element;

/// A returnResult's value as the children of `<ServiceResponse>`.
pub(super) fn result_children(root: &mut Element, service: &str, body: &Node, module: &Module) {
    let mut all = Vec::new();
    body.walk(&mut all);
    if let Some(xref) = all.iter().find(|n| n.is(app(21))) {
        root.children
            .push(text("monitorCrossRefID", hex(&xref.octets())));
    }
    if let Some((_, names)) = module.results.iter().find(|(s, _)| *s == service) {
        let connections = all.iter().filter(|n| n.is(app(11)));
        for (name, node) in names.iter().zip(connections) {
            root.children
                .push(connection(name, node, module.connection));
        }
    }
    match service {
        "SnapshotDevice" => root.children.push(snapshot(body, module)),
        "GetAgentState" => root.children.push(agent_states(body, module)),
        // SnapshotCallResult { crossRefIDorSnapshotData, mediaCallCharacteristics,
        // callCharacteristics, callingDevice [APPLICATION 1], calledDevice
        // [APPLICATION 2], … }: the caller and the number called, at the top level.
        "SnapshotCall" => {
            for (tag, name) in [(app(1), "callingDevice"), (app(2), "calledDevice")] {
                if let Some(node) = body.children().iter().find(|n| n.is(tag)) {
                    root.children.push(super::value::device(name, node));
                }
            }
        }
        "QueryDevice" => {
            // QueryDeviceInformation `agentState [5] IMPLICIT AgentState`: one
            // state, of whichever agent is at the device asked about.
            if let Some(state) = all.iter().find(|n| n.is(ctx(5))).and_then(|n| n.integer()) {
                root.children.push(Element {
                    name: "agentStateList".into(),
                    children: vec![Element {
                        name: "agentStateEntry".into(),
                        children: vec![text("agentState", name_of(module.agent_states, state))],
                        ..Element::default()
                    }],
                    ..Element::default()
                });
            }
        }
        _ => {}
    }
}

/// SnapshotDeviceData: each item that holds a ConnectionID becomes a
/// `snapshotDeviceResponseInfo` with its connection and LocalConnectionState
/// (Phase II lists them as [APPLICATION 22] items, Phase III inside a CallState;
/// both carry the state as [APPLICATION 14]).
fn snapshot(body: &Node, module: &Module) -> Element {
    let mut data = Element {
        name: "snapshotData".into(),
        ..Element::default()
    };
    let mut all = Vec::new();
    body.walk(&mut all);
    for item in all
        .iter()
        .filter(|n| n.children().iter().any(|c| c.is(app(11))))
    {
        let Some(conn) = item.children().iter().find(|c| c.is(app(11))) else {
            continue;
        };
        let mut info = Element {
            name: "snapshotDeviceResponseInfo".into(),
            children: vec![connection("connectionIdentifier", conn, module.connection)],
            ..Element::default()
        };
        let mut below = Vec::new();
        item.walk(&mut below);
        if let Some(state) = below.iter().find(|n| n.is(app(14))) {
            info.children.push(text(
                "localConnectionState",
                enumerated(state, module.connection_states),
            ));
        }
        data.children.push(info);
    }
    data
}

/// GetAgentState's AgentStateList: each entry with an agent id (an octet string)
/// and its state (the first ENUMERATED), by ECMA-323 names.
fn agent_states(body: &Node, module: &Module) -> Element {
    let mut list = Element {
        name: "agentStateList".into(),
        ..Element::default()
    };
    let mut all = Vec::new();
    body.walk(&mut all);
    for entry in all
        .iter()
        .filter(|n| n.children().iter().any(|c| c.is(node::OCTET_STRING)))
    {
        let Some(agent) = entry.children().iter().find(|c| c.is(node::OCTET_STRING)) else {
            continue;
        };
        let mut element = Element {
            name: "agentStateEntry".into(),
            children: vec![text("agentID", printable(&agent.octets()))],
            ..Element::default()
        };
        if let Some(logged) = entry.children().iter().find(|c| c.is(node::BOOLEAN)) {
            let on = logged.octets().first().is_some_and(|b| *b != 0);
            element.children.push(text("loggedOnState", on.to_string()));
        }
        if let Some(state) = first_enumerated(entry) {
            element
                .children
                .push(text("agentState", name_of(module.agent_states, state)));
        }
        list.children.push(element);
    }
    list
}

/// UniversalFailure to `<CSTAErrorCode><operation>invalidCallIdentifier</operation>`.
pub(super) fn error_element(parameter: Option<&Node>, module: &Module) -> Element {
    let mut root = Element {
        name: "CSTAErrorCode".into(),
        ..Element::default()
    };
    let category = parameter.and_then(|p| {
        module
            .errors
            .iter()
            .find(|(tag, _, _)| p.is(ctx(*tag)))
            .map(|(_, name, values)| (p, *name, *values))
    });
    match category {
        Some((node, name, values)) => {
            let value = match node.integer() {
                Some(v) if !values.is_empty() => name_of(values, v),
                Some(v) => v.to_string(),
                None => "unspecified".into(),
            };
            root.children.push(text(name, value));
        }
        None => root.children.push(text(
            "unspecified",
            parameter
                .map(|p| format!("{} {}", tag_name(p.tag), hex(&p.octets())))
                .unwrap_or_else(|| "no parameter".into()),
        )),
    }
    root
}

#[cfg(test)]
mod tests {
    use crate::ber::read::read;
    use crate::ber::Phase;
    use crate::message::{classify_element, Message};

    #[test]
    fn a_snapshot_call_answer_names_the_caller() {
        // returnResult { 8, { snapshotCall (75), SnapshotCallResult { snapshotData
        // {}, callingDevice [APPLICATION 1] { dialingNumber "+15550100" },
        // calledDevice [APPLICATION 2] { dialingNumber "8000" } } } }
        let mut result = vec![0x30, 0x00];
        result.extend([0x61, 0x0B, 0x30, 0x09, 0x80, 0x07]);
        result.extend(b"5550100");
        result.extend([0x62, 0x08, 0x30, 0x06, 0x80, 0x04]);
        result.extend(b"8000");
        let mut body = vec![0x02, 0x01, 0x4B, 0x30, result.len() as u8];
        body.extend(&result);
        let mut apdu = vec![
            0xA2,
            (body.len() + 5) as u8,
            0x02,
            0x01,
            0x08,
            0x30,
            body.len() as u8,
        ];
        apdu.extend(&body);
        let inbound = read(&apdu, Phase::Three.module()).unwrap();
        let Ok(Message::Response(body)) = classify_element(inbound.root) else {
            panic!("not a response")
        };
        assert_eq!(body.name, "SnapshotCallResponse");
        let calling = body.find("callingDevice").unwrap();
        assert_eq!(
            crate::events::device_of(calling).as_deref(),
            Some("5550100")
        );
        let called = body.find("calledDevice").unwrap();
        assert_eq!(crate::events::device_of(called).as_deref(), Some("8000"));
    }

    #[test]
    fn a_phase_two_query_device_answer_is_an_agent_state() {
        // returnResult { 6, { queryDevice (12), agentState [5] IMPLICIT ready (2) } }
        let inbound = read(
            &[
                0xA2, 0x0B, 0x02, 0x01, 0x06, 0x30, 0x06, 0x02, 0x01, 0x0C, 0x85, 0x01, 0x02,
            ],
            Phase::Two.module(),
        )
        .unwrap();
        let Ok(Message::Response(body)) = classify_element(inbound.root) else {
            panic!("not a response")
        };
        assert_eq!(body.find_text("agentState"), Some("agentReady"));
        let mut snapshot = crate::snapshot::SnapshotBuilder::default();
        snapshot.add_agents("1002", &body);
        let agents = snapshot.finish().agents;
        assert_eq!(agents.len(), 1);
        assert_eq!(
            (agents[0].agent.as_str(), agents[0].device.as_str()),
            ("1002", "1002")
        );
    }

    #[test]
    fn errors_rejects_and_snapshots_read_as_their_xml_elements() {
        let three = Phase::Three.module();
        // returnError { 7, universalFailure (1), stateIncompatibility [2] noActiveCall (4) }
        let inbound = read(
            &[
                0xA3, 0x09, 0x02, 0x01, 0x07, 0x02, 0x01, 0x01, 0x82, 0x01, 0x04,
            ],
            three,
        )
        .unwrap();
        assert_eq!(inbound.invoke_id, Some(7));
        let Ok(Message::Error(error)) = classify_element(inbound.root) else {
            panic!("not an error")
        };
        assert_eq!(error.to_string(), "stateIncompatibility: noActiveCall");
        // The same category is [2] in Phase II too, but operation is [1] there.
        let two = Phase::Two.module();
        let inbound = read(
            &[
                0xA3, 0x09, 0x02, 0x01, 0x07, 0x02, 0x01, 0x01, 0x81, 0x01, 0x0B,
            ],
            two,
        )
        .unwrap();
        let Ok(Message::Error(error)) = classify_element(inbound.root) else {
            panic!("not an error")
        };
        assert_eq!(error.to_string(), "operation: invalidCallIdentifier");
        // reject { 9, returnResult problem mistypedResult (2) }
        let inbound = read(&[0xA4, 0x06, 0x02, 0x01, 0x09, 0x82, 0x01, 0x02], three).unwrap();
        let Ok(Message::Error(error)) = classify_element(inbound.root) else {
            panic!("not an error")
        };
        assert_eq!(error.to_string(), "reject: mistypedResult");
        // Phase II snapshotDevice (74) result: SnapshotDeviceData [APPLICATION 22]
        // { { ConnectionID { call 012C, 2101 }, LocalConnectionState connect (3) } }
        let mut apdu = vec![0xA2, 0x1B, 0x02, 0x01, 0x05, 0x30, 0x16, 0x02, 0x01, 0x4A];
        apdu.extend([
            0x76, 0x11, 0x30, 0x0F, 0x6B, 0x0A, 0x82, 0x02, 0x01, 0x2C, 0x80, 0x04,
        ]);
        apdu.extend(b"2101");
        apdu.extend([0x4E, 0x01, 0x03]);
        let inbound = read(&apdu, two).unwrap();
        assert_eq!(inbound.root.name, "SnapshotDeviceResponse");
        let mut builder = crate::snapshot::SnapshotBuilder::default();
        builder.add_device("2101", &inbound.root);
        let snapshot = builder.finish();
        assert_eq!(snapshot.calls.len(), 1);
        assert_eq!(snapshot.calls[0].call_id, "012C");
        assert_eq!(
            snapshot.calls[0].parties[0].state,
            ctibridge_adapter::PartyState::Connected
        );
    }

    #[test]
    fn trailing_bytes_and_global_codes_are_errors() {
        let three = Phase::Three.module();
        let err = read(
            &[0xA4, 0x06, 0x02, 0x01, 0x09, 0x82, 0x01, 0x02, 0x00],
            three,
        )
        .unwrap_err();
        assert_eq!(err.offset, 8);
        // invoke { 1, global OID 1.2 }
        let err = read(&[0xA1, 0x06, 0x02, 0x01, 0x01, 0x06, 0x01, 0x2A], three).unwrap_err();
        assert!(err.message.contains("global"), "{err}");
    }
}
