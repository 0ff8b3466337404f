//! Basic Encoding Rules (X.690) at the level of single elements: reading
//! tag-length-value triples with the offset of every one (so an error names
//! the byte it is about), and writing them with definite lengths.
//!
//! Only what CSTA needs: definite lengths (the indefinite form is refused,
//! no CSTA peer we know of sends it), integers up to 64 bits, object
//! identifiers, strings as bytes. Nothing here knows CSTA.

use std::fmt;

/// Tag class, the top two bits of the identifier octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// An element's tag: class, constructed or not, number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
}

impl Tag {
    /// The tag of a one-octet identifier (all CSTA tags are below 31).
    pub const fn from_octet(octet: u8) -> Tag {
        Tag {
            class: match octet >> 6 {
                0 => Class::Universal,
                1 => Class::Application,
                2 => Class::Context,
                _ => Class::Private,
            },
            constructed: octet & 0x20 != 0,
            number: (octet & 0x1f) as u32,
        }
    }

    /// Whether this is the one-octet identifier `octet`.
    pub fn is(self, octet: u8) -> bool {
        self == Tag::from_octet(octet) && octet & 0x1f != 0x1f
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.class {
            Class::Universal => "UNIVERSAL ",
            Class::Application => "APPLICATION ",
            Class::Context => "",
            Class::Private => "PRIVATE ",
        };
        write!(f, "[{class}{}]", self.number)
    }
}

/// Input that is not the BER expected, with the offset (from the start of
/// the APDU) of the element or byte at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BerError {
    pub offset: usize,
    pub what: String,
}

impl BerError {
    pub fn at(offset: usize, what: impl Into<String>) -> BerError {
        BerError {
            offset,
            what: what.into(),
        }
    }
}

impl fmt::Display for BerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.what)
    }
}

/// One element read from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    /// Offset of the identifier octet within the APDU.
    pub offset: usize,
    /// Offset of the first content octet within the APDU.
    pub value_offset: usize,
    pub value: &'a [u8],
    /// The whole element, identifier and length included.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// A reader over the contents of a constructed element.
    pub fn children(&self) -> Result<Reader<'a>, BerError> {
        if !self.tag.constructed {
            return Err(BerError::at(
                self.offset,
                format!(
                    "{} is primitive, a constructed element was expected",
                    self.tag
                ),
            ));
        }
        Ok(Reader::at(self.value, self.value_offset))
    }

    /// The contents of a primitive element.
    pub fn primitive(&self) -> Result<&'a [u8], BerError> {
        if self.tag.constructed {
            return Err(BerError::at(
                self.offset,
                format!("{} is constructed, a primitive was expected", self.tag),
            ));
        }
        Ok(self.value)
    }

    /// A reader that yields this element alone (for a value that may come
    /// bare or as the first field of a SEQUENCE).
    pub fn alone(&self) -> Reader<'a> {
        Reader::at(self.raw, self.offset)
    }

    /// Contents read as a signed integer (INTEGER, ENUMERATED).
    pub fn integer(&self) -> Result<i64, BerError> {
        let v = self.primitive()?;
        if v.is_empty() || v.len() > 8 {
            return Err(BerError::at(
                self.offset,
                format!("integer of {} octets (1 to 8 expected)", v.len()),
            ));
        }
        let first = i64::from(v[0] as i8);
        Ok(v[1..]
            .iter()
            .fold(first, |acc, b| (acc << 8) | i64::from(*b)))
    }

    /// Contents read as text (IA5String, NumberDigits, and the like).
    pub fn text(&self) -> Result<String, BerError> {
        let v = self.primitive()?;
        match std::str::from_utf8(v) {
            Ok(s) if s.is_ascii() => Ok(s.to_owned()),
            _ => Err(BerError::at(self.value_offset, "string is not ASCII")),
        }
    }

    /// The only element inside a constructed element (an explicit tag, or
    /// a CHOICE wrapped in one).
    pub fn inner(&self) -> Result<Tlv<'a>, BerError> {
        let mut r = self.children()?;
        let first = r.required("an element inside")?;
        r.finish()?;
        Ok(first)
    }
}

/// Reads consecutive elements from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole APDU.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader::at(buf, 0)
    }

    fn at(buf: &'a [u8], base: usize) -> Reader<'a> {
        Reader { buf, pos: 0, base }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// The next element without consuming it.
    pub fn peek(&self) -> Result<Option<Tlv<'a>>, BerError> {
        self.clone().next()
    }

    /// The next element, or `None` at the end of the input.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Tlv<'a>>, BerError> {
        if self.is_empty() {
            return Ok(None);
        }
        let start = self.offset();
        let id = self.buf[self.pos];
        self.pos += 1;
        let mut number = u32::from(id & 0x1f);
        if number == 0x1f {
            // High tag number form: base-128 digits, the last without the top bit.
            number = 0;
            loop {
                let Some(&b) = self.buf.get(self.pos) else {
                    return Err(BerError::at(start, "input ends inside a tag"));
                };
                self.pos += 1;
                if number > (u32::MAX >> 7) {
                    return Err(BerError::at(start, "tag number too large"));
                }
                number = (number << 7) | u32::from(b & 0x7f);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag = Tag {
            number,
            ..Tag::from_octet(id & 0xe0)
        };
        let len_at = self.offset();
        let Some(&first) = self.buf.get(self.pos) else {
            return Err(BerError::at(len_at, "input ends before a length"));
        };
        self.pos += 1;
        let len = if first < 0x80 {
            usize::from(first)
        } else if first == 0x80 {
            return Err(BerError::at(len_at, "indefinite length is not supported"));
        } else {
            let n = usize::from(first & 0x7f);
            if n > 4 {
                return Err(BerError::at(len_at, format!("length of {n} octets")));
            }
            let Some(bytes) = self.buf.get(self.pos..self.pos + n) else {
                return Err(BerError::at(len_at, "input ends inside a length"));
            };
            self.pos += n;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        let value_offset = self.offset();
        let Some(value) = self.buf.get(self.pos..).and_then(|rest| rest.get(..len)) else {
            return Err(BerError::at(
                len_at,
                format!(
                    "length {len} runs past the end of its container ({} octets left)",
                    self.buf.len() - self.pos
                ),
            ));
        };
        let raw = &self.buf[start - self.base..self.pos + len];
        self.pos += len;
        Ok(Some(Tlv {
            tag,
            offset: start,
            value_offset,
            value,
            raw,
        }))
    }

    /// The next element, which must be there.
    pub fn required(&mut self, what: &str) -> Result<Tlv<'a>, BerError> {
        let at = self.offset();
        self.next()?
            .ok_or_else(|| BerError::at(at, format!("{what} is missing")))
    }

    /// The next element if it has the one-octet identifier `octet`.
    pub fn optional(&mut self, octet: u8) -> Result<Option<Tlv<'a>>, BerError> {
        match self.peek()? {
            Some(t) if t.tag.is(octet) => self.next(),
            _ => Ok(None),
        }
    }

    /// The next element, which must have the one-octet identifier `octet`.
    pub fn expect(&mut self, octet: u8, what: &str) -> Result<Tlv<'a>, BerError> {
        let t = self.required(what)?;
        if !t.tag.is(octet) {
            return Err(BerError::at(
                t.offset,
                format!(
                    "{what}: expected {}, found {}",
                    Tag::from_octet(octet),
                    t.tag
                ),
            ));
        }
        Ok(t)
    }

    /// Succeeds when nothing is left.
    pub fn finish(&mut self) -> Result<(), BerError> {
        match self.next()? {
            None => Ok(()),
            Some(t) => Err(BerError::at(t.offset, format!("unexpected {}", t.tag))),
        }
    }
}

// ----- writing --------------------------------------------------------------

/// An element with a one-octet identifier and `content`.
pub fn tlv(id: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(id);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed element made of `parts`, in order.
pub fn cons(id: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(id, &parts.concat())
}

/// Minimal two's complement octets of `v`.
pub fn int_octets(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

/// An INTEGER (or, with another identifier, an ENUMERATED or implicitly
/// tagged integer).
pub fn int(id: u8, v: i64) -> Vec<u8> {
    tlv(id, &int_octets(v))
}

/// An OBJECT IDENTIFIER's contents; `None` for fewer than two arcs or a
/// first arc above 2.
pub fn oid_octets(arcs: &[u32]) -> Option<Vec<u8>> {
    let (&a, &b) = (arcs.first()?, arcs.get(1)?);
    if a > 2 || (a < 2 && b > 39) {
        return None;
    }
    let mut out = Vec::new();
    let first = u64::from(a) * 40 + u64::from(b);
    for arc in std::iter::once(first).chain(arcs[2..].iter().map(|x| u64::from(*x))) {
        let mut digits = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            digits.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        digits.reverse();
        out.extend(digits);
    }
    Some(out)
}

/// An OBJECT IDENTIFIER's arcs from its contents.
pub fn oid_arcs(t: &Tlv<'_>) -> Result<Vec<u32>, BerError> {
    let v = t.primitive()?;
    let mut arcs = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in v.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if acc > u64::from(u32::MAX) {
            return Err(BerError::at(
                t.value_offset + i,
                "object identifier arc too large",
            ));
        }
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first as u32);
                arcs.push((acc - first * 40) as u32);
            } else {
                arcs.push(acc as u32);
            }
            acc = 0;
        }
    }
    if v.is_empty() || v.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(BerError::at(t.offset, "object identifier is truncated"));
    }
    Ok(arcs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal() {
        assert_eq!(int(0x02, 0), [0x02, 0x01, 0x00]);
        assert_eq!(int(0x02, 127), [0x02, 0x01, 0x7f]);
        assert_eq!(int(0x02, 128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(int(0x02, 211), [0x02, 0x02, 0x00, 0xd3]);
        assert_eq!(int(0x02, -1), [0x02, 0x01, 0xff]);
        assert_eq!(int(0x02, 312), [0x02, 0x02, 0x01, 0x38]);
    }

    #[test]
    fn long_lengths() {
        let content = vec![0u8; 200];
        let out = tlv(0x04, &content);
        assert_eq!(&out[..3], &[0x04, 0x81, 200]);
        let t = Reader::new(&out).next().unwrap().unwrap();
        assert_eq!(t.value.len(), 200);
        assert_eq!(t.value_offset, 3);
    }

    #[test]
    fn reads_nested_with_offsets() {
        // SEQUENCE { INTEGER 5, [0] "12" }
        let bytes = [0x30, 0x07, 0x02, 0x01, 0x05, 0x80, 0x02, b'1', b'2'];
        let seq = Reader::new(&bytes).next().unwrap().unwrap();
        let mut r = seq.children().unwrap();
        let i = r.expect(0x02, "n").unwrap();
        assert_eq!((i.offset, i.integer().unwrap()), (2, 5));
        let s = r.expect(0x80, "s").unwrap();
        assert_eq!((s.offset, s.text().unwrap().as_str()), (5, "12"));
        r.finish().unwrap();
    }

    #[test]
    fn errors_name_the_byte() {
        let e = Reader::new(&[0x30, 0x05, 0x02, 0x01]).next().unwrap_err();
        assert_eq!(e.offset, 1);
        let e = Reader::new(&[0x30, 0x80, 0x00, 0x00]).next().unwrap_err();
        assert_eq!(
            (e.offset, e.what.as_str()),
            (1, "indefinite length is not supported")
        );
        let e = Reader::new(&[0x02]).next().unwrap_err();
        assert_eq!(e.offset, 1);
        let seq = [0x30, 0x03, 0x02, 0x01, 0x05];
        let t = Reader::new(&seq).next().unwrap().unwrap();
        let e = t.children().unwrap().expect(0x04, "name").unwrap_err();
        assert_eq!(e.offset, 2);
    }

    #[test]
    fn object_identifiers_round_trip() {
        let arcs = [1, 3, 12, 0, 285, 200];
        let v = oid_octets(&arcs).unwrap();
        assert_eq!(v, [0x2b, 0x0c, 0x00, 0x82, 0x1d, 0x81, 0x48]);
        let bytes = tlv(0x06, &v);
        let t = Reader::new(&bytes).next().unwrap().unwrap();
        assert_eq!(oid_arcs(&t).unwrap(), arcs);
        assert!(oid_octets(&[3, 1]).is_none());
    }

    #[test]
    fn high_tag_numbers_are_read() {
        let bytes = [0x9f, 0x81, 0x00, 0x01, 0xaa];
        let t = Reader::new(&bytes).next().unwrap().unwrap();
        assert_eq!(t.tag.number, 128);
        assert_eq!(t.tag.class, Class::Context);
        assert!(!t.tag.is(0x9f));
    }
}
