//! Generic XML handling: parsing a received document into a small tree keyed
//! by local names (namespace prefixes are dropped, as the switch must accept
//! any prefix the client uses), and writing documents with an optional
//! element prefix.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Deepest nesting accepted. CSTA requests are a handful of levels deep;
/// the limit keeps hostile input from building a pathological tree.
const MAX_DEPTH: usize = 32;

/// An element of a received document: local name, concatenated text, and
/// child elements. Attributes are not kept: no request the fake understands
/// needs one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

/// Why a document was rejected.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("not UTF-8")]
    Utf8,
    #[error("malformed XML: {0}")]
    Syntax(String),
    #[error("no root element")]
    NoRoot,
    #[error("more than one root element")]
    TrailingElement,
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("document ends inside <{0}>")]
    Unclosed(String),
}

impl Element {
    /// Parses one document.
    pub fn parse(doc: &[u8]) -> Result<Element, XmlError> {
        let text = std::str::from_utf8(doc).map_err(|_| XmlError::Utf8)?;
        let mut reader = Reader::from_str(text);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| XmlError::Syntax(e.to_string()))?;
            match event {
                Event::Start(_) | Event::Empty(_) if root.is_some() => {
                    return Err(XmlError::TrailingElement);
                }
                Event::Start(start) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    stack.push(Element {
                        name: local_name(start.local_name().as_ref())?,
                        ..Element::default()
                    });
                }
                Event::Empty(start) => {
                    let element = Element {
                        name: local_name(start.local_name().as_ref())?,
                        ..Element::default()
                    };
                    attach(&mut stack, &mut root, element);
                }
                Event::End(_) => {
                    // quick-xml checks that end names match their start.
                    let Some(done) = stack.pop() else {
                        return Err(XmlError::Syntax("unbalanced end tag".into()));
                    };
                    attach(&mut stack, &mut root, done);
                }
                Event::Text(t) => {
                    let s = t.decode().map_err(|e| XmlError::Syntax(e.to_string()))?;
                    push_text(&mut stack, &s);
                }
                Event::CData(t) => {
                    let s = t.decode().map_err(|e| XmlError::Syntax(e.to_string()))?;
                    push_text(&mut stack, &s);
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|e| XmlError::Syntax(e.to_string()))?;
                    let entity = format!("&{name};");
                    let s = quick_xml::escape::unescape(&entity)
                        .map_err(|e| XmlError::Syntax(e.to_string()))?;
                    push_text(&mut stack, &s);
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if let Some(open) = stack.pop() {
            return Err(XmlError::Unclosed(open.name));
        }
        root.ok_or(XmlError::NoRoot)
    }

    /// First child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Follows a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |el, name| el.child(name))
    }

    /// First element with this local name anywhere below (depth first).
    pub fn descendant(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.descendant(name)
            }
        })
    }

    /// Trimmed text of the element, `None` when empty.
    pub fn value(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    /// Trimmed, non-empty text of the child at `path`.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(Element::value)
    }
}

fn local_name(raw: &[u8]) -> Result<String, XmlError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| XmlError::Utf8)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], s: &str) {
    // Text outside the root (whitespace between documents) is ignored.
    if let Some(top) = stack.last_mut() {
        top.text.push_str(s);
    }
}

/// Writes one XML document. Every element gets the prefix, if any; the
/// namespace is declared on the root.
pub struct XmlOut<'p> {
    buf: String,
    prefix: Option<&'p str>,
}

impl<'p> XmlOut<'p> {
    /// Writes a whole document: declaration, root element with the
    /// namespace, and whatever `body` adds inside it.
    pub fn document(
        root: &str,
        namespace: &str,
        prefix: Option<&'p str>,
        body: impl FnOnce(&mut XmlOut<'p>),
    ) -> String {
        let mut out = XmlOut {
            buf: String::with_capacity(512),
            prefix,
        };
        out.buf
            .push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        out.buf.push('<');
        out.name(root);
        match prefix {
            Some(p) => out.buf.push_str(&format!(" xmlns:{p}=\"{namespace}\">")),
            None => out.buf.push_str(&format!(" xmlns=\"{namespace}\">")),
        }
        body(&mut out);
        out.close(root);
        out.buf
    }

    fn name(&mut self, name: &str) {
        if let Some(p) = self.prefix {
            self.buf.push_str(p);
            self.buf.push(':');
        }
        self.buf.push_str(name);
    }

    fn open(&mut self, name: &str) {
        self.buf.push('<');
        self.name(name);
        self.buf.push('>');
    }

    fn close(&mut self, name: &str) {
        self.buf.push_str("</");
        self.name(name);
        self.buf.push('>');
    }

    /// `<name>text</name>`, text escaped.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.buf.push_str(&quick_xml::escape::escape(text));
        self.close(name);
    }

    /// `<name/>`.
    pub fn empty(&mut self, name: &str) {
        self.buf.push('<');
        self.name(name);
        self.buf.push_str("/>");
    }

    /// `<name>…</name>` with children written by `f`.
    pub fn elem(&mut self, name: &str, f: impl FnOnce(&mut Self)) {
        self.open(name);
        f(self);
        self.close(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_by_local_name_and_unescapes() {
        let doc = br#"<?xml version="1.0"?>
            <x:MakeCall xmlns:x="urn:a">
              <x:callingDevice>1001</x:callingDevice>
              <x:calledDirectoryNumber>+1&amp;2&#51;</x:calledDirectoryNumber>
              <x:empty/>
            </x:MakeCall>"#;
        let el = Element::parse(doc).expect("valid");
        assert_eq!(el.name, "MakeCall");
        assert_eq!(el.text_at(&["callingDevice"]), Some("1001"));
        assert_eq!(el.text_at(&["calledDirectoryNumber"]), Some("+1&23"));
        assert!(el.child("empty").is_some());
        assert_eq!(el.text_at(&["empty"]), None);
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"",
            b"just text",
            b"<a/><b/>",
            b"\xff\xfe<a/>",
            b"<a>&bogus;</a>",
        ] {
            assert!(
                Element::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(matches!(
            Element::parse(deep.as_bytes()),
            Err(XmlError::TooDeep)
        ));
    }

    #[test]
    fn writes_prefixed_and_escaped() {
        let doc = XmlOut::document("Ev", "urn:n", Some("csta"), |x| {
            x.elem("dev", |x| x.leaf("id", "a<b"));
            x.empty("none");
        });
        assert_eq!(
            doc,
            r#"<?xml version="1.0" encoding="UTF-8"?><csta:Ev xmlns:csta="urn:n"><csta:dev><csta:id>a&lt;b</csta:id></csta:dev><csta:none/></csta:Ev>"#
        );
        let plain = XmlOut::document("Ev", "urn:n", None, |x| x.leaf("a", "1"));
        assert!(plain.ends_with(r#"<Ev xmlns="urn:n"><a>1</a></Ev>"#));
    }
}
