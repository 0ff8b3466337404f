//! A BER value as a tree of tagged nodes, read and written by rasn's BER codec.
//!
//! CSTA's ASN.1 modules are large and switches add vendor fields; reading an APDU
//! into untyped nodes first (every tag, length form and nesting rule handled by
//! rasn, with its depth limit) lets the per-phase tables pick the fields they know
//! and keep the rest for diagnostics, instead of failing on the first field a
//! typed struct did not expect.

use rasn::types::{Class, Tag};
use rasn::{AsnType, Decoder as _, Encode};

/// Nesting deeper than any CSTA APDU (an event report is about 8 levels deep).
const MAX_DEPTH: usize = 24;
/// More nodes than any CSTA APDU has (a snapshot of a busy group is a few hundred).
const MAX_NODES: usize = 4096;

/// One tag-length-value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub tag: Tag,
    pub body: Body,
    /// Byte offset of the node's tag within the APDU.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Primitive(Vec<u8>),
    Constructed(Vec<Node>),
}

/// Why bytes are not BER.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not BER at byte {offset}: {message}")]
pub struct NodeError {
    pub offset: usize,
    pub message: String,
}

impl Node {
    pub fn primitive(tag: Tag, bytes: impl Into<Vec<u8>>) -> Node {
        Node {
            tag,
            body: Body::Primitive(bytes.into()),
            offset: 0,
        }
    }

    pub fn constructed(tag: Tag, children: Vec<Node>) -> Node {
        Node {
            tag,
            body: Body::Constructed(children),
            offset: 0,
        }
    }

    pub fn is(&self, tag: Tag) -> bool {
        self.tag == tag
    }

    pub fn children(&self) -> &[Node] {
        match &self.body {
            Body::Constructed(children) => children,
            Body::Primitive(_) => &[],
        }
    }

    /// The first direct child with `tag`.
    pub fn child(&self, tag: Tag) -> Option<&Node> {
        self.children().iter().find(|c| c.tag == tag)
    }

    /// The contents of a primitive node; a constructed one (a BER string sent in
    /// segments, or an explicit tag around a primitive) gives its leaves joined.
    pub fn octets(&self) -> Vec<u8> {
        match &self.body {
            Body::Primitive(bytes) => bytes.clone(),
            Body::Constructed(children) => children.iter().flat_map(Node::octets).collect(),
        }
    }

    /// The first primitive node at or below this one (explicit tags unwrapped).
    pub fn leaf(&self) -> Option<&Node> {
        match &self.body {
            Body::Primitive(_) => Some(self),
            Body::Constructed(children) => children.first()?.leaf(),
        }
    }

    /// An INTEGER or ENUMERATED value (two's complement, up to 8 octets).
    pub fn integer(&self) -> Option<i64> {
        let bytes = self.leaf()?.octets();
        if bytes.is_empty() || bytes.len() > 8 {
            return None;
        }
        let negative = bytes[0] & 0x80 != 0;
        let mut value: i64 = if negative { -1 } else { 0 };
        for b in bytes {
            value = (value << 8) | i64::from(b);
        }
        Some(value)
    }

    /// Every node at or below this one, depth first.
    pub fn walk<'a>(&'a self, out: &mut Vec<&'a Node>) {
        out.push(self);
        for child in self.children() {
            child.walk(out);
        }
    }

    /// The node's BER encoding.
    pub fn to_ber(&self) -> Result<Vec<u8>, String> {
        rasn::ber::encode(self).map_err(|e| e.to_string())
    }
}

/// Read the values that follow each other in `bytes` (an APDU, or the contents of
/// a constructed value).
pub fn parse(bytes: &[u8]) -> Result<Vec<Node>, NodeError> {
    let mut count = 0;
    parse_at(bytes, 0, 0, &mut count)
}

fn parse_at(
    bytes: &[u8],
    base: usize,
    depth: usize,
    count: &mut usize,
) -> Result<Vec<Node>, NodeError> {
    if depth > MAX_DEPTH {
        return Err(NodeError {
            offset: base,
            message: format!("values nested deeper than {MAX_DEPTH}"),
        });
    }
    let mut decoder = rasn::ber::de::Decoder::new(bytes, rasn::ber::de::DecoderOptions::ber());
    let mut nodes = Vec::new();
    while !decoder.remaining().is_empty() {
        let offset = base + decoder.decoded_len();
        let fail = |message: String| NodeError { offset, message };
        *count += 1;
        if *count > MAX_NODES {
            return Err(fail(format!("more than {MAX_NODES} values")));
        }
        let tag = decoder.peek_tag().map_err(|e| fail(e.to_string()))?;
        if tag == Tag::EOC {
            return Err(fail(
                "end-of-contents octets outside an indefinite length".into(),
            ));
        }
        let constructed = decoder.remaining()[0] & 0x20 != 0;
        let header = header_len(decoder.remaining());
        // With the expected tag given, rasn strips tag and length and returns the
        // contents (definite or indefinite length alike).
        let contents = decoder
            .decode_any(tag)
            .map_err(|e| fail(e.to_string()))?
            .into_bytes();
        let body = if constructed {
            Body::Constructed(parse_at(&contents, offset + header, depth + 1, count)?)
        } else {
            Body::Primitive(contents)
        };
        nodes.push(Node { tag, body, offset });
    }
    Ok(nodes)
}

/// How many octets the tag and length of the value at the start of `bytes` take,
/// for the offsets of nested values in error messages (rasn has checked them).
fn header_len(bytes: &[u8]) -> usize {
    let mut at = 1;
    if bytes.first().is_some_and(|b| b & 0x1F == 0x1F) {
        while bytes.get(at).is_some_and(|b| b & 0x80 != 0) {
            at += 1;
        }
        at += 1;
    }
    match bytes.get(at) {
        Some(&first) if first & 0x80 != 0 && first != 0x80 => at + 1 + usize::from(first & 0x7F),
        Some(_) => at + 1,
        None => at,
    }
}

impl AsnType for Node {
    // Each node carries its own tag.
    const TAG: Tag = Tag::EOC;
}

impl Encode for Node {
    fn encode<'b, E: rasn::Encoder<'b>>(&self, encoder: &mut E) -> Result<(), E::Error> {
        self.encode_with_tag_and_constraints(
            encoder,
            self.tag,
            &rasn::types::Constraints::NONE,
            rasn::types::Identifier::EMPTY,
        )
    }

    fn encode_with_tag_and_constraints<'b, E: rasn::Encoder<'b>>(
        &self,
        encoder: &mut E,
        tag: Tag,
        constraints: &rasn::types::Constraints,
        identifier: rasn::types::Identifier,
    ) -> Result<(), E::Error> {
        match &self.body {
            Body::Primitive(bytes) => encoder
                .encode_octet_string(tag, constraints, bytes, identifier)
                .map(drop),
            Body::Constructed(children) => encoder
                .encode_sequence_of(tag, children, constraints, identifier)
                .map(drop),
        }
    }
}

/// Tags for the tables, by class and number.
pub const fn ctx(number: u32) -> Tag {
    Tag::new(Class::Context, number)
}

pub const fn app(number: u32) -> Tag {
    Tag::new(Class::Application, number)
}

pub const fn univ(number: u32) -> Tag {
    Tag::new(Class::Universal, number)
}

pub const INTEGER: Tag = univ(2);
pub const OCTET_STRING: Tag = univ(4);
pub const NULL: Tag = univ(5);
pub const OID: Tag = univ(6);
pub const ENUMERATED: Tag = univ(10);
pub const SEQUENCE: Tag = univ(16);
pub const IA5: Tag = univ(22);
pub const GENERALIZED_TIME: Tag = univ(24);
pub const BOOLEAN: Tag = univ(1);

/// The minimal two's-complement octets of an INTEGER or ENUMERATED value.
pub fn integer_octets(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// How a tag is written in messages: `[APPLICATION 11]`, `[3]`, `UNIVERSAL 16`.
pub fn tag_name(tag: Tag) -> String {
    match tag.class {
        Class::Universal => format!("UNIVERSAL {}", tag.value),
        Class::Application => format!("[APPLICATION {}]", tag.value),
        Class::Context => format!("[{}]", tag.value),
        Class::Private => format!("[PRIVATE {}]", tag.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x690_examples_read_and_write_back() {
        // X.690 §8.1.3: a definite short length, a long length form, and an
        // indefinite length with end-of-contents; all the same SEQUENCE { INTEGER 5 }.
        let short = [0x30, 0x03, 0x02, 0x01, 0x05];
        let long = [0x30, 0x81, 0x03, 0x02, 0x01, 0x05];
        let indefinite = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00];
        for bytes in [&short[..], &long[..], &indefinite[..]] {
            let nodes = parse(bytes).unwrap();
            assert_eq!(nodes.len(), 1, "{bytes:02X?}");
            assert_eq!(nodes[0].tag, SEQUENCE);
            assert_eq!(nodes[0].children()[0].integer(), Some(5));
            // Written back in the definite form.
            assert_eq!(nodes[0].to_ber().unwrap(), short);
        }
        // A high tag number (X.690 §8.1.2.4): [APPLICATION 201] primitive.
        let high = [0x5F, 0x81, 0x49, 0x01, 0x07];
        let node = &parse(&high).unwrap()[0];
        assert_eq!(node.tag, app(201));
        assert_eq!(node.to_ber().unwrap(), high);
    }

    #[test]
    fn integers() {
        for (value, octets) in [
            (0, vec![0x00]),
            (127, vec![0x7F]),
            (128, vec![0x00, 0x80]),
            (-1, vec![0xFF]),
            (-129, vec![0xFF, 0x7F]),
            (312, vec![0x01, 0x38]),
        ] {
            assert_eq!(integer_octets(value), octets);
            assert_eq!(Node::primitive(INTEGER, octets).integer(), Some(value));
        }
    }

    #[test]
    fn bad_input_is_an_error_with_its_offset() {
        // Truncated: the length says 5, 2 octets follow.
        let err = parse(&[0x30, 0x05, 0x02, 0x01]).unwrap_err();
        assert_eq!(err.offset, 0);
        // A bad value inside a good one is found at its own offset.
        let err = parse(&[0x30, 0x04, 0x02, 0x01, 0x05, 0x30, 0x02, 0x02, 0x05]).unwrap_err();
        assert!(err.offset > 0, "{err}");
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 40)
            .flatten()
            .chain(std::iter::repeat_n(0u8, 80))
            .collect();
        assert!(parse(&deep).is_err());
    }
}
