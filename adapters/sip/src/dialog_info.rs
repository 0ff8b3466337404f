//! RFC 4235 `application/dialog-info+xml` documents, read into [`DialogInfo`].
//!
//! PBXs fill the format very differently (see tests/captures/sip/SOURCES.md):
//! Asterisk names the one dialog after the extension and gives neither call-id,
//! tags nor remote identity; FreeSWITCH names it by channel uuid and sends the
//! remote party with a display name; Kamailio's presence_dialoginfo and phones
//! give call-id, tags and `direction`. So everything except the root attributes,
//! the dialog `id` and its `<state>` is optional here. Elements are read by local
//! name (documents come with and without prefixes); unknown elements are skipped.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::message::Message;

/// The dialog-info document of a NOTIFY.
pub fn document_of(notify: &Message) -> Result<DialogInfo, String> {
    match notify.content_type().as_deref() {
        Some("application/dialog-info+xml") => {}
        Some(other) => {
            return Err(format!(
                "body of type {other}, not application/dialog-info+xml"
            ))
        }
        None => return Err("body without Content-Type".into()),
    }
    parse(&notify.body).map_err(|e| format!("dialog-info: {e}"))
}

/// More nesting than any dialog-info document has.
const MAX_DEPTH: usize = 16;
/// More dialogs than one extension ever has at once; a document over it is refused.
const MAX_DIALOGS: usize = 256;

/// One document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogInfo {
    /// Orders the documents of one subscription (RFC 4235 §4.1).
    pub version: u64,
    /// `full` replaces everything the subscriber knew; `partial` updates the dialogs
    /// it names.
    pub full: bool,
    /// The monitored address (`sip:1001@pbx`).
    pub entity: String,
    pub dialogs: Vec<Dialog>,
}

/// One `<dialog>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dialog {
    pub id: String,
    pub call_id: Option<String>,
    pub local_tag: Option<String>,
    pub remote_tag: Option<String>,
    /// `initiator` (the monitored phone called out) or `recipient` (it is called).
    pub direction: Option<Role>,
    pub state: DialogState,
    /// `<state event="…" code="…">`: why a dialog ended (`cancelled`, `rejected`,
    /// `replaced`, `local-bye`, `remote-bye`, `error`, `timeout`).
    pub state_event: Option<String>,
    pub state_code: Option<u16>,
    pub local: Participant,
    pub remote: Participant,
}

/// `<local>` or `<remote>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Participant {
    /// The `<identity>` URI.
    pub identity: Option<String>,
    /// Its `display` attribute (the caller's name).
    pub display: Option<String>,
    /// `<target uri>`.
    pub target: Option<String>,
    /// `<target><param pname="+sip.rendering" pvalue="no"/>`: the media is not
    /// rendered, i.e. the call is on hold (RFC 4235 §4.1.6.2, Asterisk, FreeSWITCH).
    pub rendering: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Recipient,
}

/// The dialog states of RFC 4235 §3.7.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DialogState {
    /// INVITE sent or received, no provisional response yet.
    #[default]
    Trying,
    /// Provisional response with a tag (the phone is ringing, or ringback).
    Proceeding,
    Early,
    Confirmed,
    Terminated,
}

impl DialogState {
    fn parse(text: &str) -> Option<DialogState> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "trying" => DialogState::Trying,
            "proceeding" => DialogState::Proceeding,
            "early" => DialogState::Early,
            "confirmed" => DialogState::Confirmed,
            "terminated" => DialogState::Terminated,
            _ => return None,
        })
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogInfoError {
    #[error("not well-formed XML at byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error("the root element is <{0}>, not <dialog-info>")]
    NotDialogInfo(String),
    #[error("<dialog-info> has no `{0}` attribute")]
    MissingAttribute(&'static str),
    #[error("<dialog-info> `{attribute}` is `{value}`: {expected}")]
    BadAttribute {
        attribute: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("dialog {index} has no `id`")]
    DialogWithoutId { index: usize },
    #[error("dialog `{id}` has no <state>")]
    DialogWithoutState { id: String },
    #[error("dialog `{id}` has state `{state}`, not trying/proceeding/early/confirmed/terminated")]
    BadState { id: String, state: String },
    #[error("more than {MAX_DIALOGS} dialogs")]
    TooManyDialogs,
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("no root element")]
    Empty,
}

/// A parsed element with attributes, text and children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Parse one document.
pub fn parse(xml: &[u8]) -> Result<DialogInfo, DialogInfoError> {
    let root = tree(xml)?;
    if root.name != "dialog-info" {
        return Err(DialogInfoError::NotDialogInfo(root.name));
    }
    let version_text = root
        .attr("version")
        .ok_or(DialogInfoError::MissingAttribute("version"))?;
    let version =
        version_text
            .trim()
            .parse::<u64>()
            .map_err(|_| DialogInfoError::BadAttribute {
                attribute: "version",
                value: version_text.to_string(),
                expected: "a non-negative integer",
            })?;
    let full = match root.attr("state").map(str::trim) {
        Some("full") => true,
        Some("partial") => false,
        Some(other) => {
            return Err(DialogInfoError::BadAttribute {
                attribute: "state",
                value: other.to_string(),
                expected: "full or partial",
            })
        }
        None => return Err(DialogInfoError::MissingAttribute("state")),
    };
    let entity = root
        .attr("entity")
        .ok_or(DialogInfoError::MissingAttribute("entity"))?
        .to_string();
    let mut dialogs = Vec::new();
    for (index, node) in root
        .children
        .iter()
        .filter(|c| c.name == "dialog")
        .enumerate()
    {
        if dialogs.len() == MAX_DIALOGS {
            return Err(DialogInfoError::TooManyDialogs);
        }
        dialogs.push(dialog(index + 1, node)?);
    }
    Ok(DialogInfo {
        version,
        full,
        entity,
        dialogs,
    })
}

fn dialog(index: usize, node: &Node) -> Result<Dialog, DialogInfoError> {
    let id = node
        .attr("id")
        .filter(|id| !id.trim().is_empty())
        .ok_or(DialogInfoError::DialogWithoutId { index })?
        .to_string();
    let state_node = node
        .child("state")
        .ok_or_else(|| DialogInfoError::DialogWithoutState { id: id.clone() })?;
    let state = DialogState::parse(&state_node.text).ok_or_else(|| DialogInfoError::BadState {
        id: id.clone(),
        state: state_node.text.clone(),
    })?;
    let owned = |name: &str| node.attr(name).map(str::to_string);
    Ok(Dialog {
        call_id: owned("call-id"),
        local_tag: owned("local-tag"),
        remote_tag: owned("remote-tag"),
        direction: match node.attr("direction").map(str::trim) {
            Some("initiator") => Some(Role::Initiator),
            Some("recipient") => Some(Role::Recipient),
            _ => None,
        },
        state,
        state_event: state_node.attr("event").map(str::to_string),
        state_code: state_node.attr("code").and_then(|c| c.trim().parse().ok()),
        local: participant(node.child("local")),
        remote: participant(node.child("remote")),
        id,
    })
}

fn participant(node: Option<&Node>) -> Participant {
    let Some(node) = node else {
        return Participant::default();
    };
    let identity = node.child("identity");
    let target = node.child("target");
    let rendering = target.and_then(|t| {
        t.children
            .iter()
            .filter(|p| p.name == "param")
            .find(|p| p.attr("pname") == Some("+sip.rendering"))
            .and_then(|p| match p.attr("pvalue").map(str::trim) {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => None,
            })
    });
    Participant {
        identity: identity.map(|i| i.text.clone()).filter(|t| !t.is_empty()),
        display: identity
            .and_then(|i| i.attr("display"))
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty()),
        target: target.and_then(|t| t.attr("uri")).map(str::to_string),
        rendering,
    }
}

fn tree(xml: &[u8]) -> Result<Node, DialogInfoError> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<Node> = Vec::new();
    let syntax = |reader: &Reader<&[u8]>, message: String| DialogInfoError::Syntax {
        position: reader.buffer_position(),
        message,
    };
    let mut root: Option<Node> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| syntax(&reader, e.to_string()))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(syntax(&reader, "content after the root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DialogInfoError::TooDeep);
                }
                stack.push(node(&reader, &start)?);
            }
            Event::Empty(start) => {
                let done = node(&reader, &start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::End(_) => {
                let Some(mut done) = stack.pop() else {
                    return Err(syntax(&reader, "end tag without a start".into()));
                };
                done.text = done.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|e| syntax(&reader, e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|e| syntax(&reader, e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|e| syntax(&reader, e.to_string()))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| syntax(&reader, format!("unknown entity &{name};")))?
                            .to_string()
                    }
                    Err(e) => return Err(syntax(&reader, e.to_string())),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(syntax(&reader, "document ends inside an element".into()));
                }
                return root.ok_or(DialogInfoError::Empty);
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

fn node(reader: &Reader<&[u8]>, start: &BytesStart<'_>) -> Result<Node, DialogInfoError> {
    let syntax = |message: String| DialogInfoError::Syntax {
        position: reader.buffer_position(),
        message,
    };
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| syntax(e.to_string()))?;
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        if key == "xmlns" || attr.key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let value = attr
            .decoded_and_normalized_value(quick_xml::XmlVersion::default(), reader.decoder())
            .map_err(|e| syntax(e.to_string()))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Node {
        name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
        attrs,
        ..Node::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/captures/sip/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn asterisk_names_the_dialog_after_the_extension_and_nothing_else() {
        let info = parse(&capture("asterisk-pjsip-ringing.xml")).unwrap();
        assert_eq!(info.version, 7);
        assert!(info.full);
        assert_eq!(info.entity, "sip:2210@pbx.example.net");
        assert_eq!(info.dialogs.len(), 1);
        let d = &info.dialogs[0];
        assert_eq!(d.id, "2210");
        assert_eq!(d.state, DialogState::Early);
        assert_eq!(d.call_id, None);
        assert_eq!(d.remote.identity, None);
    }

    #[test]
    fn asterisk_hold_is_a_target_not_rendered() {
        let info = parse(&capture("asterisk-pjsip-hold.xml")).unwrap();
        let d = &info.dialogs[0];
        assert_eq!(d.state, DialogState::Confirmed);
        assert_eq!(d.local.rendering, Some(false));
    }

    #[test]
    fn freeswitch_gives_the_caller_with_display_name() {
        let info = parse(&capture("freeswitch-early-recipient.xml")).unwrap();
        let d = &info.dialogs[0];
        assert_eq!(d.id, "6b1f0c52-93a4-4d7e-b0c1-5a2e9f3d7c11");
        assert_eq!(d.direction, Some(Role::Recipient));
        assert_eq!(d.remote.display.as_deref(), Some("Hanna Kowalczyk"));
        assert_eq!(
            d.remote.identity.as_deref(),
            Some("sip:+48225550173@fs.example.org")
        );
        assert_eq!(d.local.rendering, Some(true));
    }

    #[test]
    fn kamailio_gives_call_id_and_tags() {
        let info = parse(&capture("kamailio-early.xml")).unwrap();
        assert_eq!(info.version, 0);
        let d = &info.dialogs[0];
        assert_eq!(d.call_id.as_deref(), Some("c3a7e1f09b2d4411@198.51.100.20"));
        assert_eq!(d.local_tag.as_deref(), Some("as71c2d9e0"));
        assert_eq!(d.remote_tag.as_deref(), Some("8842aa17"));
        let ended = parse(&capture("kamailio-terminated.xml")).unwrap();
        assert_eq!(ended.dialogs[0].state, DialogState::Terminated);
        assert_eq!(ended.dialogs[0].state_event.as_deref(), Some("remote-bye"));
    }

    #[test]
    fn partial_documents_with_several_dialogs_and_causes() {
        let info = parse(&capture("rfc4235-partial-multi.xml")).unwrap();
        assert!(!info.full);
        assert_eq!(info.dialogs.len(), 2);
        assert_eq!(
            info.dialogs[0].remote.identity.as_deref(),
            Some("tel:+14155550148")
        );
        assert_eq!(info.dialogs[0].direction, Some(Role::Initiator));
        assert_eq!(info.dialogs[1].state_code, Some(487));
        assert_eq!(info.dialogs[1].state_event.as_deref(), Some("cancelled"));
        let yealink = parse(&capture("yealink-partial-terminated.xml")).unwrap();
        assert_eq!(yealink.version, 12);
        assert_eq!(yealink.dialogs[0].state, DialogState::Terminated);
    }

    #[test]
    fn broken_documents_are_refused_with_the_position() {
        let err = parse(&capture("broken-unclosed.xml")).unwrap_err();
        match err {
            DialogInfoError::Syntax { position, .. } => assert!(position > 100, "{position}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn precise_errors() {
        let doc = |attrs: &str, body: &str| {
            format!("<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" {attrs}>{body}</dialog-info>")
        };
        let ok = "version=\"1\" state=\"full\" entity=\"sip:1@x\"";
        assert_eq!(
            parse(doc("state=\"full\" entity=\"sip:1@x\"", "").as_bytes()),
            Err(DialogInfoError::MissingAttribute("version"))
        );
        assert!(matches!(
            parse(doc("version=\"-1\" state=\"full\" entity=\"e\"", "").as_bytes()),
            Err(DialogInfoError::BadAttribute {
                attribute: "version",
                ..
            })
        ));
        assert!(matches!(
            parse(doc("version=\"1\" state=\"some\" entity=\"e\"", "").as_bytes()),
            Err(DialogInfoError::BadAttribute {
                attribute: "state",
                ..
            })
        ));
        assert_eq!(
            parse(doc(ok, "<dialog><state>early</state></dialog>").as_bytes()),
            Err(DialogInfoError::DialogWithoutId { index: 1 })
        );
        assert_eq!(
            parse(doc(ok, "<dialog id=\"a\"/>").as_bytes()),
            Err(DialogInfoError::DialogWithoutState { id: "a".into() })
        );
        assert!(matches!(
            parse(doc(ok, "<dialog id=\"a\"><state>ringing</state></dialog>").as_bytes()),
            Err(DialogInfoError::BadState { .. })
        ));
        assert_eq!(
            parse(b"<presence/>"),
            Err(DialogInfoError::NotDialogInfo("presence".into()))
        );
        assert_eq!(parse(b""), Err(DialogInfoError::Empty));
    }

    #[test]
    fn entities_in_display_names_are_resolved() {
        let xml = "<dialog-info version=\"1\" state=\"full\" entity=\"sip:1@x\"><dialog id=\"a\"><state>early</state><remote><identity display=\"M&#252;ller &amp; Co\">sip:+4930555@x</identity></remote></dialog></dialog-info>";
        let info = parse(xml.as_bytes()).unwrap();
        assert_eq!(
            info.dialogs[0].remote.display.as_deref(),
            Some("Müller & Co")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes);
        }
    }
}
