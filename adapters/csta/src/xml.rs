//! A small element tree for one CSTA XML document, read with quick-xml, and the
//! writer for the requests we send.
//!
//! Switches disagree on namespaces (ed3, ed4, ed5, vendor namespaces) and on prefixes
//! (`<csta:DeliveredEvent>`, `<ns3:callID>`), so elements are known by their local
//! name only. Messages are small (a few KiB), so a tree is simpler and safer than
//! streaming; its size and depth are bounded so a hostile peer cannot make us build
//! a huge one.

use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::Reader;

/// An element: its local name, its text (entities resolved, trimmed) and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

/// Deeper nesting than any CSTA message has.
const MAX_DEPTH: usize = 32;
/// More elements than any CSTA message has (a snapshot of a busy ACD group is a few
/// hundred).
const MAX_ELEMENTS: usize = 20_000;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML at byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error("no root element")]
    Empty,
    #[error("content after the root element")]
    TrailingContent,
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} elements")]
    TooLarge,
}

impl Element {
    /// Parse a whole document.
    pub fn parse(xml: &[u8]) -> Result<Element, XmlError> {
        // Text is trimmed per element when it closes, not per piece: quick-xml hands
        // `a &amp; b` over in three pieces, and trimming each would eat the spaces.
        let mut reader = Reader::from_reader(xml);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        let syntax = |reader: &Reader<&[u8]>, message: String| XmlError::Syntax {
            position: reader.buffer_position(),
            message,
        };
        loop {
            let event = reader
                .read_event()
                .map_err(|e| syntax(&reader, e.to_string()))?;
            match event {
                Event::Start(_) | Event::Empty(_) if root.is_some() => {
                    return Err(XmlError::TrailingContent);
                }
                Event::Start(start) => {
                    count += 1;
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    if count > MAX_ELEMENTS {
                        return Err(XmlError::TooLarge);
                    }
                    stack.push(Element::named(local_name(start.local_name().as_ref())));
                }
                Event::Empty(start) => {
                    count += 1;
                    if count > MAX_ELEMENTS {
                        return Err(XmlError::TooLarge);
                    }
                    let element = Element::named(local_name(start.local_name().as_ref()));
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                }
                Event::End(_) => {
                    // quick-xml checks that end names match their start.
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
                    push_text(&mut stack, &root, &text)?;
                }
                Event::CData(data) => {
                    let text = data.decode().map_err(|e| syntax(&reader, e.to_string()))?;
                    push_text(&mut stack, &root, &text)?;
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
                    push_text(&mut stack, &root, &resolved)?;
                }
                Event::Eof => {
                    if !stack.is_empty() {
                        return Err(syntax(&reader, "document ends inside an element".into()));
                    }
                    return root.ok_or(XmlError::Empty);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
        }
    }

    fn named(name: String) -> Element {
        Element {
            name,
            ..Element::default()
        }
    }

    /// The first direct child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first element named `name` anywhere below this one (depth first). Vendors
    /// put the same field at different depths (inside `privateData`, `extensions`).
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// Every element named `name` below this one, in document order.
    pub fn find_all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for child in &self.children {
            if child.name == name {
                out.push(child);
            }
            child.find_all(name, out);
        }
    }

    /// The text of the child `name`, when it has any.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// The text of the first `name` anywhere below, when it has any.
    pub fn find_text(&self, name: &str) -> Option<&str> {
        let mut all = Vec::new();
        self.find_all(name, &mut all);
        all.into_iter()
            .map(|e| e.text.as_str())
            .find(|t| !t.is_empty())
    }
}

fn local_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

fn push_text(stack: &mut [Element], root: &Option<Element>, text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(element) => {
            element.text.push_str(text);
            Ok(())
        }
        None if root.is_some() && !text.trim().is_empty() => Err(XmlError::TrailingContent),
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Syntax {
            position: 0,
            message: "text outside the root element".into(),
        }),
    }
}

/// Builds one request document. Values are escaped; names are ours.
pub struct Writer {
    out: String,
    open: Vec<&'static str>,
}

impl Writer {
    /// A document whose root `name` carries `namespace` as its default namespace.
    pub fn new(name: &'static str, namespace: &str) -> Writer {
        let mut out = String::with_capacity(256);
        let _ = write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{name} xmlns=\"{}\">",
            quick_xml::escape::escape(namespace)
        );
        Writer {
            out,
            open: vec![name],
        }
    }

    pub fn open(mut self, name: &'static str) -> Writer {
        let _ = write!(self.out, "<{name}>");
        self.open.push(name);
        self
    }

    pub fn close(mut self) -> Writer {
        if let Some(name) = self.open.pop() {
            let _ = write!(self.out, "</{name}>");
        }
        self
    }

    pub fn text(mut self, name: &'static str, value: &str) -> Writer {
        let _ = write!(
            self.out,
            "<{name}>{}</{name}>",
            quick_xml::escape::escape(value)
        );
        self
    }

    pub fn text_opt(self, name: &'static str, value: Option<&str>) -> Writer {
        match value {
            Some(value) => self.text(name, value),
            None => self,
        }
    }

    /// A connection id: `<name><callID>…</callID><deviceID>…</deviceID></name>`. A
    /// call the switch named only by its device (the adapter made its id up) is
    /// addressed by the device alone, as the switch named it.
    pub fn connection(self, name: &'static str, call_id: &str, device: Option<&str>) -> Writer {
        let call_id = (!crate::correlate::is_made_up(call_id)).then_some(call_id);
        self.open(name)
            .text_opt("callID", call_id)
            .text_opt("deviceID", device)
            .close()
    }

    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self = self.close();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prefixes_and_namespaces_are_ignored() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<csta:DeliveredEvent xmlns:csta="http://www.ecma-international.org/standards/ecma-323/csta/ed4">
  <csta:connection><csta:callID>12</csta:callID><csta:deviceID typeOfNumber="dialingNumber">1001</csta:deviceID></csta:connection>
  <csta:callingDevice><csta:deviceIdentifier>+1415&amp;5550123</csta:deviceIdentifier></csta:callingDevice>
  <csta:lastRedirectionDevice><csta:notRequired/></csta:lastRedirectionDevice>
</csta:DeliveredEvent>"#;
        let root = Element::parse(doc).unwrap();
        assert_eq!(root.name, "DeliveredEvent");
        let connection = root.child("connection").unwrap();
        assert_eq!(connection.child_text("callID"), Some("12"));
        assert_eq!(connection.child_text("deviceID"), Some("1001"));
        assert_eq!(root.find_text("deviceIdentifier"), Some("+1415&5550123"));
        assert!(root.find("notRequired").is_some());
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for (doc, expect) in [
            (&b""[..], "no root"),
            (b"<A><B></A>", "not well-formed"),
            (b"<A>", "ends inside"),
            (b"<A/><B/>", "after the root"),
            (b"<A>&bogus;</A>", "unknown entity"),
            (b"<A>&#xD800;</A>", "not well-formed"),
        ] {
            let err = Element::parse(doc).unwrap_err().to_string();
            assert!(err.contains(expect), "{doc:?}: {err}");
        }
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert_eq!(Element::parse(deep.as_bytes()), Err(XmlError::TooDeep));
    }

    #[test]
    fn writer_escapes_values() {
        let xml = Writer::new("MakeCall", "urn:x")
            .text("callingDevice", "1001")
            .text("calledDirectoryNumber", "<&\">")
            .finish();
        assert!(xml.ends_with(
            "<MakeCall xmlns=\"urn:x\"><callingDevice>1001</callingDevice><calledDirectoryNumber>&lt;&amp;&quot;&gt;</calledDirectoryNumber></MakeCall>"
        ));
        let back = Element::parse(xml.as_bytes()).unwrap();
        assert_eq!(back.child_text("calledDirectoryNumber"), Some("<&\">"));
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Element::parse(&bytes);
        }

        #[test]
        fn any_text_round_trips(value in "\\PC{0,40}") {
            let xml = Writer::new("R", "urn:x").text("v", &value).finish();
            let back = Element::parse(xml.as_bytes()).unwrap();
            prop_assert_eq!(back.child("v").map(|v| v.text.as_str()), Some(value.trim()));
        }
    }
}
