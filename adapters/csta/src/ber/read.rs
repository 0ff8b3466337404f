//! One BER APDU from the switch as the ECMA-323 element the XML link would have
//! carried: an event report becomes `DeliveredEvent` (with `monitorCrossRefID`), a
//! returnResult `MonitorStartResponse`, a returnError or reject `CSTAErrorCode`,
//! the switch's keep-alive `SystemStatus`, a routing invoke `RouteRequest` (with
//! `routeRegisterReqID` and `routingCrossRefID`). From there the XML
//! classification, event mapping and snapshot code apply unchanged.

use super::module::{name_of, Event, Events, Field, Kind, Module};
use super::node::{self, app, ctx, tag_name, Node, GENERALIZED_TIME, OID, SEQUENCE};
use super::rose::{self, Rose};
use super::value::{
    connection, connection_list, device, enumerated, first_enumerated, hex, oid_text, printable,
    text,
};
use crate::xml::Element;

/// A decoded APDU.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The ROSE invoke id (for a reject without one: none).
    pub invoke_id: Option<i64>,
    pub root: Element,
    /// The switch invoked an operation that wants an answer (not an event report).
    pub wants_answer: bool,
}

/// Why an APDU could not be read; `offset` is within the APDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset} of the APDU: {message}")]
pub struct ApduError {
    pub offset: usize,
    pub message: String,
}

impl From<node::NodeError> for ApduError {
    fn from(e: node::NodeError) -> Self {
        ApduError {
            offset: e.offset,
            message: e.message,
        }
    }
}

fn at(offset: usize, message: impl Into<String>) -> ApduError {
    ApduError {
        offset,
        message: message.into(),
    }
}

/// Read one APDU (without its length prefix).
pub fn read(apdu: &[u8], module: &Module) -> Result<Inbound, ApduError> {
    if super::acse::is_acse(apdu) {
        let acse = super::acse::read(apdu)?;
        return Ok(Inbound {
            invoke_id: None,
            root: acse.root,
            wants_answer: acse.wants_answer,
        });
    }
    let (rose, rest) = rasn::ber::decode_with_remainder::<Rose>(apdu)
        .map_err(|e| at(0, format!("not a ROSE APDU: {e}")))?;
    if !rest.is_empty() {
        return Err(at(
            apdu.len() - rest.len(),
            format!("{} bytes after the ROSE APDU", rest.len()),
        ));
    }
    match rose {
        Rose::Invoke(invoke) => {
            let id = rose::small(&invoke.invoke_id);
            let code = invoke
                .opcode
                .local()
                .ok_or_else(|| at(0, "an invoke with a global operation code"))?;
            let argument = match &invoke.argument {
                Some(any) => single(any.as_bytes())?,
                None => None,
            };
            if code == module.event_report {
                let argument = argument.ok_or_else(|| at(0, "an event report without argument"))?;
                return Ok(Inbound {
                    invoke_id: id,
                    root: event_report(&argument, module)?,
                    wants_answer: false,
                });
            }
            let name = module
                .operation(code)
                .map(String::from)
                .unwrap_or_else(|| format!("Operation{code}"));
            if let Some(invoked) = module.invoked.iter().find(|i| i.argument.name == name) {
                // The routing dialogue: its argument read like an event's body.
                let argument =
                    argument.ok_or_else(|| at(0, format!("{name} without its argument")))?;
                if !argument.is(SEQUENCE) {
                    // The argument's offsets count from its own first byte; it
                    // is the invoke's last element, so it ends the APDU's bytes
                    // (before any end-of-contents octets).
                    let bytes = invoke
                        .argument
                        .as_ref()
                        .map(|a| a.as_bytes())
                        .filter(|b| !b.is_empty());
                    let base = bytes
                        .and_then(|b| apdu.windows(b.len()).rposition(|w| w == b))
                        .unwrap_or(0);
                    return Err(at(
                        base + argument.offset,
                        format!(
                            "{name}: expected its argument SEQUENCE, found {}",
                            tag_name(argument.tag)
                        ),
                    ));
                }
                return Ok(Inbound {
                    invoke_id: id,
                    root: fields(&invoked.argument, &argument, module),
                    wants_answer: invoked.answered,
                });
            }
            let mut root = Element {
                name,
                ..Element::default()
            };
            if root.name == "SystemStatus" {
                if let Some(status) = argument.as_ref().and_then(first_enumerated) {
                    root.children
                        .push(text("systemStatus", name_of(module.system_status, status)));
                }
            }
            Ok(Inbound {
                invoke_id: id,
                root,
                wants_answer: true,
            })
        }
        Rose::ReturnResult(result) => {
            let (service, body) = match &result.result {
                Some(part) => (
                    part.opcode.local().and_then(|c| module.operation(c)),
                    match &part.result {
                        Some(any) => single(any.as_bytes())?,
                        None => None,
                    },
                ),
                None => (None, None),
            };
            let mut root = Element {
                name: format!("{}Response", service.unwrap_or("")),
                ..Element::default()
            };
            if let Some(body) = body {
                super::answer::result_children(&mut root, service.unwrap_or(""), &body, module);
            }
            Ok(Inbound {
                invoke_id: rose::small(&result.invoke_id),
                root,
                wants_answer: false,
            })
        }
        Rose::ReturnError(error) => {
            let parameter = match &error.parameter {
                Some(any) => single(any.as_bytes())?,
                None => None,
            };
            Ok(Inbound {
                invoke_id: rose::small(&error.invoke_id),
                root: super::answer::error_element(parameter.as_ref(), module),
                wants_answer: false,
            })
        }
        Rose::Reject(reject) => Ok(Inbound {
            invoke_id: match &reject.invoke_id {
                rose::RejectId::Present(id) => rose::small(id),
                rose::RejectId::Absent(()) => None,
            },
            root: Element {
                name: "CSTAErrorCode".into(),
                children: vec![text("reject", reject.problem.name())],
                ..Element::default()
            },
            wants_answer: false,
        }),
    }
}

/// The one value of an open type's bytes.
fn single(bytes: &[u8]) -> Result<Option<Node>, ApduError> {
    let mut nodes = node::parse(bytes)?;
    match nodes.len() {
        0 => Ok(None),
        1 => Ok(nodes.pop()),
        _ => Err(at(nodes[1].offset, "more than one value in an argument")),
    }
}

/// `CSTAEventReportArgument` to the event element.
fn event_report(argument: &Node, module: &Module) -> Result<Element, ApduError> {
    let children = argument.children();
    let cross_ref = children.iter().find(|c| c.is(app(21)));
    let (event, body) = match module.events {
        Events::Tagged(table) => {
            // eventSpecificInfo: [category] { [event] IMPLICIT SEQUENCE { … } }
            let info = children
                .iter()
                .find(|c| c.tag.class == rasn::types::Class::Context)
                .ok_or_else(|| at(argument.offset, "an event report without eventSpecificInfo"))?;
            let inner = info
                .children()
                .first()
                .ok_or_else(|| at(info.offset, "an empty event category"))?;
            let found = table
                .iter()
                .find(|(cat, tag, _)| info.is(ctx(*cat)) && inner.is(ctx(*tag)));
            match found {
                Some((_, _, event)) => (Some(event), inner),
                None => {
                    return Ok(unknown_event(
                        format!("{}/{}", tag_name(info.tag), tag_name(inner.tag)),
                        cross_ref,
                    ))
                }
            }
        }
        Events::Numbered(table) => {
            let (number, info) = match numbered_event(children) {
                Some(found) => found,
                None => match ecma_218_event(children) {
                    Some(found) => found,
                    None => {
                        let missing = if children.iter().any(|c| c.is(ctx(0))) {
                            "an event report without eventInfo"
                        } else {
                            "an event report without eventType or eventSpecificInfo"
                        };
                        return Err(at(argument.offset, missing));
                    }
                },
            };
            match table.iter().find(|(n, _)| *n == number) {
                Some((_, event)) => (Some(event), info),
                None => return Ok(unknown_event(format!("eventType {number}"), cross_ref)),
            }
        }
    };
    let Some(event) = event else {
        return Err(at(argument.offset, "no event"));
    };
    let mut root = fields(event, body, module);
    if let Some(cross_ref) = cross_ref {
        root.children
            .insert(0, text("monitorCrossRefID", hex(&cross_ref.octets())));
    }
    // Extensions of the report itself (after eventSpecificInfo).
    for extra in children.iter().filter(|c| c.is(app(30)) || c.is(app(29))) {
        root.children.push(extensions("extensions", extra));
    }
    Ok(root)
}

/// The event of a report in the form Alcatel OmniPCX and MD110 Application Link
/// send: `eventType [0] IMPLICIT INTEGER` (cSTAform, possibly inside an EventTypeID
/// CHOICE) beside an untagged `eventInfo` SEQUENCE.
fn numbered_event(children: &[Node]) -> Option<(i64, &Node)> {
    let number = children
        .iter()
        .find(|c| c.is(ctx(0)))
        .and_then(Node::integer)?;
    let info = children.iter().find(|c| c.is(SEQUENCE))?;
    Some((number, info))
}

/// The event of a report in ECMA-218's own form: `eventSpecificInfo`, a CHOICE of
/// categories (`callEvent [0]`, `featureEvent [1]`, `agentStateEvent [2]`,
/// `maintenanceEvent [3]`), each a CHOICE of `[n] IMPLICIT SEQUENCE` events. The
/// event numbers of the other form are these tags counted from the category's base
/// (callCleared [0] is 1, delivered [3] is 4; loggedOn [0] is 201; backInService
/// [0] is 301), so one table serves both.
fn ecma_218_event(children: &[Node]) -> Option<(i64, &Node)> {
    let category = children
        .iter()
        .find(|c| c.tag.class == rasn::types::Class::Context && !c.children().is_empty())?;
    let event = category.children().first()?;
    if event.tag.class != rasn::types::Class::Context {
        return None;
    }
    let base = match category.tag.value {
        0 => 1,
        1 => 101,
        2 => 201,
        3 => 301,
        _ => return None,
    };
    Some((base + event.tag.value as i64, event))
}

fn unknown_event(what: String, cross_ref: Option<&Node>) -> Element {
    let mut root = text("UnknownEvent", what);
    if let Some(cross_ref) = cross_ref {
        root.children
            .push(text("monitorCrossRefID", hex(&cross_ref.octets())));
    }
    root
}

/// An event's SEQUENCE by its field table: each value goes to the next field (in
/// ASN.1 order) that takes its tag, so two fields of one type (primaryOldCall,
/// secondaryOldCall) are told apart by position as BER does.
fn fields(event: &Event, body: &Node, module: &Module) -> Element {
    let mut root = Element {
        name: event.name.into(),
        ..Element::default()
    };
    let mut cursor = 0;
    for child in body.children() {
        let found = event.fields[cursor.min(event.fields.len())..]
            .iter()
            .position(|f| f.tags.contains(&child.tag));
        match found {
            Some(i) => {
                let field = &event.fields[cursor + i];
                cursor += i + 1;
                root.children.push(render(field, child, module));
            }
            // Fields the table does not read (vendor additions, fields of later
            // editions) are kept by tag for diagnostics.
            None => root.children.push(text(
                "unknownField",
                format!("{} {}", tag_name(child.tag), hex(&child.octets())),
            )),
        }
    }
    root
}

fn render(field: &Field, node: &Node, module: &Module) -> Element {
    match field.kind {
        Kind::Connection => connection(field.name, node, module.connection),
        Kind::Device => device(field.name, node),
        Kind::Cause => text(field.name, enumerated(node, module.causes)),
        Kind::ConnectionState => text(field.name, enumerated(node, module.connection_states)),
        Kind::ConnectionList => connection_list(field.name, node, module.connection),
        Kind::Text => text(field.name, printable(&node.octets())),
        Kind::Octets => text(field.name, hex(&node.octets())),
        Kind::Integer => text(
            field.name,
            node.integer().map(|v| v.to_string()).unwrap_or_default(),
        ),
        Kind::Extensions => extensions(field.name, node),
    }
}

/// CSTACommonArguments / CSTAPrivateData: every vendor OID with the octets after
/// it, and the switch's timestamps (GeneralizedTime), kept as the switch sent them.
fn extensions(name: &str, node: &Node) -> Element {
    let mut out = Element {
        name: name.into(),
        ..Element::default()
    };
    let mut all = Vec::new();
    node.walk(&mut all);
    for time in all.iter().filter(|n| n.is(GENERALIZED_TIME)) {
        out.children
            .push(text("switchTime", printable(&time.octets())));
    }
    // A private data item: the node holding a manufacturer OID; its data is what
    // follows the OID.
    for holder in all
        .iter()
        .filter(|n| n.children().iter().any(|c| c.is(OID)))
    {
        let children = holder.children();
        let Some(at_oid) = children.iter().position(|c| c.is(OID)) else {
            continue;
        };
        let mut data = Vec::new();
        for rest in &children[at_oid + 1..] {
            data.extend(rest.to_ber().unwrap_or_default());
        }
        out.children.push(Element {
            name: "privateData".into(),
            text: String::new(),
            children: vec![
                text("manufacturer", oid_text(&children[at_oid].octets())),
                text("octets", hex(&data)),
            ],
        });
    }
    // Private data as a bare octet string (Phase III's `string` alternative).
    if !out.children.iter().any(|c| c.name == "privateData") {
        if let Some(list) = node.child(ctx(1)) {
            for item in list.children().iter().filter(|c| c.is(node::OCTET_STRING)) {
                out.children.push(Element {
                    name: "privateData".into(),
                    text: String::new(),
                    children: vec![text("octets", hex(&item.octets()))],
                });
            }
        }
    }
    out
}

/// The details the raw event keeps beside the normalised one: each vendor's
/// private data (`OID:HEX`) and the switch's own timestamp.
pub fn raw_details(root: &Element) -> Vec<(&'static str, String)> {
    let mut details = Vec::new();
    let mut private = Vec::new();
    root.find_all("privateData", &mut private);
    for item in private {
        let octets = item.child_text("octets").unwrap_or_default();
        let value = match item.child_text("manufacturer") {
            Some(oid) => format!("{oid}:{octets}"),
            None => octets.to_string(),
        };
        details.push(("private_data", value));
    }
    if let Some(time) = root.find_text("switchTime") {
        details.push(("switch_time", time.to_string()));
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ber::Phase;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes read as an APDU of either phase give an element or an error
        /// whose offset lies inside the APDU; none panics.
        #[test]
        fn any_bytes_read_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for phase in [Phase::Two, Phase::Three] {
                if let Err(e) = read(&bytes, phase.module()) {
                    prop_assert!(e.offset <= bytes.len());
                }
            }
        }

        /// Bytes that start like a ROSE invoke of an event report reach the event
        /// tables, and still never panic.
        #[test]
        fn event_reports_with_any_body_read_or_fail(body in proptest::collection::vec(any::<u8>(), 0..120)) {
            let mut argument = vec![0x30, body.len() as u8];
            argument.extend(&body);
            let mut apdu = vec![0xA1, (argument.len() + 6) as u8, 0x02, 0x01, 0x01, 0x02, 0x01, 0x15];
            apdu.extend(argument);
            for phase in [Phase::Two, Phase::Three] {
                let _ = read(&apdu, phase.module());
            }
        }
    }

    #[test]
    fn oids_and_hex() {
        // 1.3.12.2.1107 (an ECMA-registered manufacturer arc): 2B 0C 02 88 53
        assert_eq!(oid_text(&[0x2B, 0x0C, 0x02, 0x88, 0x53]), "1.3.12.2.1107");
        assert_eq!(hex(&[0x0A, 0x1F]), "0A1F");
        assert_eq!(printable(b"12\x01"), "12\\x01");
    }
}
