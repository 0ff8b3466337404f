//! BER values as element text, shared by events (`read`) and answers (`answer`):
//! connection identifiers and their lists, devices, enumerations by name, octets as
//! hex, character strings and object identifiers.

use super::module::{name_of, ConnectionForm};
use super::node::{self, app, ctx, Body, Node, SEQUENCE};
use crate::xml::Element;

pub(super) fn text(name: &str, value: impl Into<String>) -> Element {
    Element {
        name: name.into(),
        text: value.into(),
        children: Vec::new(),
    }
}

pub(super) fn first_enumerated(node: &Node) -> Option<i64> {
    let mut all = Vec::new();
    node.walk(&mut all);
    all.into_iter()
        .find(|n| n.is(node::ENUMERATED))
        .and_then(Node::integer)
}

pub(super) fn enumerated(node: &Node, names: super::module::Names) -> String {
    node.integer()
        .map(|v| name_of(names, v))
        .unwrap_or_default()
}

/// A ConnectionID as `<name><callID>0A1F</callID><deviceID>1001</deviceID></name>`.
pub fn connection(name: &str, node: &Node, form: ConnectionForm) -> Element {
    let mut out = Element {
        name: name.into(),
        ..Element::default()
    };
    let mut call = None;
    let mut dev = None;
    match form {
        ConnectionForm::Two => {
            for part in node.children() {
                if part.is(ctx(2)) {
                    call = Some(hex(&part.octets()));
                } else if dev.is_none() {
                    dev = device_text(part, None);
                }
            }
        }
        ConnectionForm::Three => {
            let mut parts: Vec<&Node> = Vec::new();
            for alternative in node.children() {
                if alternative.is(SEQUENCE) {
                    // both { callID [0], deviceID [1] }
                    parts.extend(alternative.children());
                } else {
                    parts.push(alternative);
                }
            }
            for part in parts {
                if part.is(ctx(0)) && matches!(part.body, Body::Primitive(_)) {
                    call = Some(hex(&part.octets()));
                } else if part.is(ctx(1)) {
                    // LocalDeviceID: staticID DeviceID | dynamicID [3] IMPLICIT
                    dev = part.children().first().and_then(|d| device_text(d, None));
                }
            }
        }
    }
    if let Some(call) = call {
        out.children.push(text("callID", call));
    }
    if let Some(dev) = dev {
        out.children.push(text("deviceID", dev));
    }
    out
}

pub(super) fn connection_list(name: &str, node: &Node, form: ConnectionForm) -> Element {
    let mut out = Element {
        name: name.into(),
        ..Element::default()
    };
    for item in node.children() {
        let mut entry = Element {
            name: "connectionListItem".into(),
            ..Element::default()
        };
        if item.is(app(11)) {
            // Phase II: a plain list of the resulting connections.
            entry.children.push(connection("newConnection", item, form));
        } else {
            for part in item.children() {
                let inner = part.children().iter().find(|c| c.is(app(11)));
                match (part.tag, inner) {
                    (t, Some(c)) if t == ctx(0) => {
                        entry.children.push(connection("newConnection", c, form))
                    }
                    (t, Some(c)) if t == ctx(1) => {
                        entry.children.push(connection("oldConnection", c, form))
                    }
                    (t, _) if t == ctx(2) => entry.children.push(device("endpoint", part)),
                    _ => {}
                }
            }
        }
        out.children.push(entry);
    }
    out
}

/// A device field: `<name><deviceIdentifier>1001</deviceIdentifier></name>`, or
/// `<name><notKnown/></name>` (the names events.rs treats as absent).
pub fn device(name: &str, node: &Node) -> Element {
    let mut out = Element {
        name: name.into(),
        ..Element::default()
    };
    match device_text(node, None) {
        Some(value) => out.children.push(text("deviceIdentifier", value)),
        None => {
            let placeholder = null_name(node).unwrap_or("notKnown");
            out.children.push(text(placeholder, ""));
        }
    }
    out
}

/// The number a device value holds, whatever CHOICE and explicit tags wrap it:
/// the first string leaf; `deviceNumber [1]` (an INTEGER) as decimal; none for the
/// NULL alternatives (notKnown [7], notRequired [8], notSpecified [9]).
pub(super) fn device_text(node: &Node, parent: Option<rasn::types::Tag>) -> Option<String> {
    match &node.body {
        Body::Primitive(bytes) => {
            if bytes.is_empty() {
                return None;
            }
            let in_numbering_plan = parent.is_some_and(|p| p == ctx(3) || p == ctx(5));
            if node.is(ctx(1)) && !in_numbering_plan {
                return node.integer().map(|v| v.to_string());
            }
            Some(printable(bytes))
        }
        Body::Constructed(children) => children.iter().find_map(|c| device_text(c, Some(node.tag))),
    }
}

pub(super) fn null_name(node: &Node) -> Option<&'static str> {
    let mut all = Vec::new();
    node.walk(&mut all);
    all.into_iter().find_map(|n| match (&n.body, n.tag.value) {
        (Body::Primitive(b), 7) if b.is_empty() => Some("notKnown"),
        (Body::Primitive(b), 8) if b.is_empty() => Some("notRequired"),
        (Body::Primitive(b), 9) if b.is_empty() => Some("notSpecified"),
        _ => None,
    })
}

/// Octets as upper-case hex: binary call ids and cross references (`0A1F`).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// A character string; non-printable octets shown as `\xNN` so a log line stays
/// one line.
pub(super) fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7F).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// An OBJECT IDENTIFIER's contents in dotted form.
pub(super) fn oid_text(bytes: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &b in bytes {
        value = value.saturating_mul(128) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}
