//! How CSTA XML messages are delimited on a TCP stream, and how the stream resyncs
//! after bytes that fit no frame.
//!
//! Three framings are found in the field:
//! - [`Framing::Header`] (the common one: OpenScape/HiPath, Avaya AES, most ECMA-323
//!   servers): an 8-byte header before each XML document. Bytes 0–1 are zero, bytes
//!   2–3 the big-endian length of the whole message *including* the header, bytes 4–7
//!   the invoke id as four ASCII digits; `9999` marks unsolicited events.
//! - [`Framing::Nul`]: each document is followed by one NUL byte, no header, no invoke
//!   id on the wire (responses come back in request order).
//! - [`Framing::Bare`]: documents back to back, each ending with its root's end tag;
//!   found on some gateways and in captures saved from a trace.
//!
//! The decoder never gives up on a stream: bytes that cannot start a frame are skipped
//! up to the next plausible frame and reported as one [`Decoded::Skipped`] item, so a
//! corrupted or truncated message costs that message and nothing after it. Only I/O
//! errors end the stream.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::Deserialize;
use tokio_util::codec::{Decoder, Encoder};

/// The invoke id of unsolicited events in the header framing.
pub const EVENT_INVOKE_ID: u16 = 9999;
/// The largest message the header's 16-bit length can describe.
pub const MAX_HEADER_FRAME: usize = u16::MAX as usize;
/// The largest document accepted without a header (NUL or bare framing). CSTA
/// messages are a few KiB; a megabyte without a delimiter is a broken stream.
pub const MAX_UNFRAMED: usize = 1 << 20;
const HEADER_LEN: usize = 8;

/// The `framing = …` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    #[default]
    Header,
    Nul,
    Bare,
}

impl Framing {
    pub fn parse(name: &str) -> Result<Framing, String> {
        match name {
            "header" => Ok(Framing::Header),
            "nul" => Ok(Framing::Nul),
            "bare" => Ok(Framing::Bare),
            other => Err(format!(
                "unknown framing `{other}`; expected header, nul or bare"
            )),
        }
    }

    /// Whether invoke ids travel on the wire (otherwise responses match requests in
    /// order).
    pub fn carries_invoke_id(self) -> bool {
        self == Framing::Header
    }
}

/// One message off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The header's invoke id; `None` without a header.
    pub invoke_id: Option<u16>,
    pub xml: Bytes,
    /// Byte offset of the frame in the stream, for error messages.
    pub offset: u64,
}

/// What the decoder yields: a frame, or a run of bytes it had to skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Frame(Frame),
    Skipped {
        offset: u64,
        len: usize,
        reason: String,
    },
}

/// A tokio codec for one framing. Encodes `(invoke_id, xml)`.
#[derive(Debug)]
pub struct FrameCodec {
    framing: Framing,
    /// Stream offset of the first byte in the decoder's buffer.
    offset: u64,
}

impl FrameCodec {
    pub fn new(framing: Framing) -> Self {
        FrameCodec { framing, offset: 0 }
    }

    fn take(&mut self, buf: &mut BytesMut, len: usize) -> (u64, BytesMut) {
        let offset = self.offset;
        self.offset += len as u64;
        (offset, buf.split_to(len))
    }

    fn skip(&mut self, buf: &mut BytesMut, len: usize, reason: String) -> Decoded {
        let (offset, _) = self.take(buf, len);
        Decoded::Skipped {
            offset,
            len,
            reason,
        }
    }

    fn decode_header(&mut self, buf: &mut BytesMut) -> Option<Decoded> {
        if buf.len() < HEADER_LEN {
            return None;
        }
        if let Err(reason) = check_header(&buf[..HEADER_LEN]) {
            // Find the next place a valid header starts (and, when its first body byte
            // is here already, is followed by XML); keep a tail that might be the
            // start of one.
            let resume = (1..buf.len())
                .find(|&i| plausible_header_at(buf, i))
                .unwrap_or(buf.len().saturating_sub(HEADER_LEN - 1).max(1));
            return Some(self.skip(buf, resume, reason));
        }
        let len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
        if buf.len() < len {
            buf.reserve(len - buf.len());
            return None;
        }
        let invoke_id = invoke_id(&buf[4..8]);
        let (offset, mut frame) = self.take(buf, len);
        frame.advance(HEADER_LEN);
        Some(Decoded::Frame(Frame {
            invoke_id,
            xml: frame.freeze(),
            offset,
        }))
    }

    fn decode_nul(&mut self, buf: &mut BytesMut) -> Option<Decoded> {
        loop {
            let Some(end) = buf.iter().position(|&b| b == 0) else {
                if buf.len() > MAX_UNFRAMED {
                    let len = buf.len();
                    return Some(self.skip(buf, len, format!("no NUL delimiter in {len} bytes")));
                }
                return None;
            };
            let (offset, mut doc) = self.take(buf, end + 1);
            doc.truncate(end);
            // Keep-alive NULs and line breaks between documents are not messages.
            if doc.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Some(Decoded::Frame(Frame {
                invoke_id: None,
                xml: doc.freeze(),
                offset,
            }));
        }
    }

    fn decode_bare(&mut self, buf: &mut BytesMut) -> Option<Decoded> {
        let start = buf.iter().position(|b| !b.is_ascii_whitespace() && *b != 0);
        let Some(start) = start else {
            let len = buf.len();
            self.take(buf, len);
            return None;
        };
        if start > 0 {
            self.take(buf, start);
        }
        if buf.first() != Some(&b'<') {
            let resume = buf.iter().position(|&b| b == b'<').unwrap_or(buf.len());
            return Some(self.skip(buf, resume, "text outside an XML document".into()));
        }
        match document_end(buf) {
            DocumentEnd::At(end) => {
                let (offset, doc) = self.take(buf, end);
                Some(Decoded::Frame(Frame {
                    invoke_id: None,
                    xml: doc.freeze(),
                    offset,
                }))
            }
            DocumentEnd::NotYet if buf.len() > MAX_UNFRAMED => {
                let len = buf.len();
                Some(self.skip(buf, len, format!("no document end in {len} bytes")))
            }
            DocumentEnd::NotYet => None,
            DocumentEnd::Invalid(reason) => {
                // Resume at the next `<?xml` or, failing that, the next tag.
                let resume = find(&buf[1..], b"<?xml")
                    .or_else(|| buf[1..].iter().position(|&b| b == b'<'))
                    .map(|i| i + 1)
                    .unwrap_or(buf.len());
                Some(self.skip(buf, resume, reason))
            }
        }
    }
}

impl Decoder for FrameCodec {
    type Item = Decoded;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, std::io::Error> {
        Ok(match self.framing {
            Framing::Header => self.decode_header(buf),
            Framing::Nul => self.decode_nul(buf),
            Framing::Bare => self.decode_bare(buf),
        })
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, std::io::Error> {
        if let Some(item) = self.decode(buf)? {
            return Ok(Some(item));
        }
        let pending = buf.iter().filter(|b| !b.is_ascii_whitespace()).count();
        if pending == 0 {
            buf.clear();
            return Ok(None);
        }
        let len = buf.len();
        Ok(Some(self.skip(
            buf,
            len,
            format!("stream ended inside a message ({len} bytes of it)"),
        )))
    }
}

impl Encoder<(Option<u16>, String)> for FrameCodec {
    type Error = std::io::Error;

    fn encode(
        &mut self,
        (invoke_id, xml): (Option<u16>, String),
        dst: &mut BytesMut,
    ) -> Result<(), std::io::Error> {
        match self.framing {
            Framing::Header => {
                let len = xml.len() + HEADER_LEN;
                if len > MAX_HEADER_FRAME {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("message of {len} bytes does not fit the CSTA header"),
                    ));
                }
                dst.reserve(len);
                dst.put_u16(0);
                dst.put_u16(len as u16);
                let id = invoke_id.unwrap_or(EVENT_INVOKE_ID).min(EVENT_INVOKE_ID);
                dst.put_slice(format!("{id:04}").as_bytes());
                dst.put_slice(xml.as_bytes());
            }
            Framing::Nul => {
                dst.put_slice(xml.as_bytes());
                dst.put_u8(0);
            }
            Framing::Bare => {
                dst.put_slice(xml.as_bytes());
                dst.put_u8(b'\n');
            }
        }
        Ok(())
    }
}

/// Why the 8 bytes cannot be a CSTA header.
fn check_header(header: &[u8]) -> Result<(), String> {
    if header[0] != 0 || header[1] != 0 {
        return Err(format!(
            "bad frame header: first bytes {:02x} {:02x}, expected 00 00",
            header[0], header[1]
        ));
    }
    let len = u16::from_be_bytes([header[2], header[3]]) as usize;
    if len <= HEADER_LEN {
        return Err(format!(
            "bad frame header: length {len} leaves no room for a message"
        ));
    }
    if invoke_id(&header[4..8]).is_none() {
        return Err(format!(
            "bad frame header: invoke id {:?} is not four digits",
            String::from_utf8_lossy(&header[4..8])
        ));
    }
    Ok(())
}

fn invoke_id(digits: &[u8]) -> Option<u16> {
    if digits.len() != 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A valid header starts at `i`, followed by what looks like XML if that is here yet.
fn plausible_header_at(buf: &[u8], i: usize) -> bool {
    let Some(header) = buf.get(i..i + HEADER_LEN) else {
        // Too close to the end to tell: resume here if it could still be a header.
        return buf[i..].iter().take(2).all(|&b| b == 0);
    };
    if check_header(header).is_err() {
        return false;
    }
    match buf.get(i + HEADER_LEN) {
        Some(b) => *b == b'<' || b.is_ascii_whitespace() || *b == 0xEF,
        None => true,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum DocumentEnd {
    At(usize),
    NotYet,
    Invalid(String),
}

/// Where the XML document at the start of `buf` ends: after the end tag of its root
/// element (CSTA roots never nest an element of their own name), or after a root
/// that closes itself.
fn document_end(buf: &[u8]) -> DocumentEnd {
    let mut i = 0;
    // The declaration, comments and processing instructions before the root.
    loop {
        while buf.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let rest = &buf[i.min(buf.len())..];
        if rest.len() < 4 {
            return DocumentEnd::NotYet;
        }
        if rest.starts_with(b"<?") {
            match find(rest, b"?>") {
                Some(end) => i += end + 2,
                None => return DocumentEnd::NotYet,
            }
        } else if rest.starts_with(b"<!--") {
            match find(rest, b"-->") {
                Some(end) => i += end + 3,
                None => return DocumentEnd::NotYet,
            }
        } else if rest.starts_with(b"<") {
            break;
        } else {
            return DocumentEnd::Invalid("text before the root element".into());
        }
    }
    let name_start = i + 1;
    let name_len = buf[name_start..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/');
    let Some(name_len) = name_len else {
        return DocumentEnd::NotYet;
    };
    if name_len == 0 {
        return DocumentEnd::Invalid("an element without a name".into());
    }
    let name = &buf[name_start..name_start + name_len];
    let Some(tag_end) = find(&buf[name_start..], b">").map(|p| name_start + p) else {
        return DocumentEnd::NotYet;
    };
    if buf[tag_end - 1] == b'/' {
        return DocumentEnd::At(tag_end + 1);
    }
    let mut close = b"</".to_vec();
    close.extend_from_slice(name);
    let mut from = tag_end + 1;
    while let Some(p) = find(&buf[from..], &close) {
        let after = from + p + close.len();
        let mut j = after;
        while buf.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        match buf.get(j) {
            Some(b'>') => return DocumentEnd::At(j + 1),
            Some(_) => from = after,
            None => return DocumentEnd::NotYet,
        }
    }
    DocumentEnd::NotYet
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn framed(invoke: &str, xml: &str) -> Vec<u8> {
        let mut out = vec![0, 0];
        out.extend_from_slice(&((xml.len() + 8) as u16).to_be_bytes());
        out.extend_from_slice(invoke.as_bytes());
        out.extend_from_slice(xml.as_bytes());
        out
    }

    fn decode_all(framing: Framing, input: &[u8]) -> Vec<Decoded> {
        let mut codec = FrameCodec::new(framing);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(item) = codec.decode_eof(&mut buf).unwrap() {
            out.push(item);
        }
        out
    }

    fn frames(items: &[Decoded]) -> Vec<(Option<u16>, String)> {
        items
            .iter()
            .filter_map(|d| match d {
                Decoded::Frame(f) => {
                    Some((f.invoke_id, String::from_utf8_lossy(&f.xml).into_owned()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn header_frames_round_trip_byte_by_byte() {
        let mut codec = FrameCodec::new(Framing::Header);
        let mut wire = BytesMut::new();
        codec
            .encode((Some(7), "<A/>".to_string()), &mut wire)
            .unwrap();
        codec
            .encode((None, "<B>x</B>".to_string()), &mut wire)
            .unwrap();
        assert_eq!(&wire[..8], b"\0\0\0\x0c0007");
        // Fed one byte at a time, as a slow link delivers it.
        let mut decoder = FrameCodec::new(Framing::Header);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for byte in wire.iter() {
            buf.put_u8(*byte);
            while let Some(item) = decoder.decode(&mut buf).unwrap() {
                got.push(item);
            }
        }
        assert_eq!(
            frames(&got),
            [
                (Some(7), "<A/>".to_string()),
                (Some(9999), "<B>x</B>".to_string())
            ]
        );
    }

    #[test]
    fn garbage_between_frames_is_skipped_and_reported() {
        let mut input = framed("0001", "<One/>");
        input.extend_from_slice(b"\x16\x03garbage\0\0\xff");
        input.extend_from_slice(&framed("9999", "<Two/>"));
        let items = decode_all(Framing::Header, &input);
        assert_eq!(
            frames(&items),
            [
                (Some(1), "<One/>".to_string()),
                (Some(9999), "<Two/>".to_string())
            ]
        );
        let skipped: Vec<_> = items
            .iter()
            .filter(|d| matches!(d, Decoded::Skipped { .. }))
            .collect();
        assert_eq!(skipped.len(), 1, "{items:?}");
        let Decoded::Skipped {
            offset,
            len,
            reason,
        } = skipped[0]
        else {
            unreachable!()
        };
        assert_eq!((*offset, *len), (14, 12));
        assert!(reason.contains("first bytes 16 03"), "{reason}");
    }

    #[test]
    fn bad_length_and_invoke_id_are_named() {
        let items = decode_all(Framing::Header, b"\0\0\0\x050001<A/>");
        assert!(
            matches!(&items[0], Decoded::Skipped { reason, .. } if reason.contains("length 5")),
            "{items:?}"
        );
        let items = decode_all(Framing::Header, b"\0\0\0\x0c00x1<A/>");
        assert!(
            matches!(&items[0], Decoded::Skipped { reason, .. } if reason.contains("\"00x1\"")),
            "{items:?}"
        );
    }

    #[test]
    fn a_truncated_last_frame_is_reported_at_eof() {
        let mut input = framed("0002", "<Done/>");
        input.extend_from_slice(&framed("9999", "<Cut>abc</Cut>")[..12]);
        let items = decode_all(Framing::Header, &input);
        assert_eq!(frames(&items).len(), 1);
        assert!(matches!(
            items.last(),
            Some(Decoded::Skipped { reason, len: 12, .. }) if reason.contains("stream ended")
        ));
    }

    #[test]
    fn nul_framing_splits_on_nul_and_ignores_keepalives() {
        let items = decode_all(Framing::Nul, b"<A/>\0\0\r\n\0<B>t</B>\0<C");
        assert_eq!(
            frames(&items),
            [(None, "<A/>".to_string()), (None, "<B>t</B>".to_string())]
        );
        assert!(matches!(
            items.last(),
            Some(Decoded::Skipped { len: 2, .. })
        ));
    }

    #[test]
    fn bare_framing_finds_document_ends() {
        let input = concat!(
            "<?xml version=\"1.0\"?>\n<ns:DeliveredEvent xmlns:ns=\"u\"><ns:x>1</ns:x></ns:DeliveredEvent >",
            "<?xml version=\"1.0\"?><SystemStatus/>\n",
            "junk<HeldEvent><a/></HeldEvent>"
        );
        let items = decode_all(Framing::Bare, input.as_bytes());
        let got: Vec<_> = frames(&items).into_iter().map(|(_, x)| x).collect();
        assert_eq!(got.len(), 3, "{items:?}");
        assert!(got[0].ends_with("</ns:DeliveredEvent >"));
        assert!(got[1].ends_with("<SystemStatus/>"));
        assert_eq!(got[2], "<HeldEvent><a/></HeldEvent>");
        assert!(items
            .iter()
            .any(|d| matches!(d, Decoded::Skipped { reason, .. } if reason.contains("outside"))));
    }

    proptest! {
        /// Any bytes in front of a good frame cost at most those bytes: the frame after
        /// them still comes out, and nothing panics.
        #[test]
        fn resyncs_after_any_garbage(garbage in proptest::collection::vec(any::<u8>(), 0..300)) {
            let good = framed("0042", "<MonitorStartResponse/>");
            let mut input = garbage.clone();
            input.extend_from_slice(&good);
            for framing in [Framing::Header, Framing::Nul, Framing::Bare] {
                let _ = decode_all(framing, &input);
            }
            let items = decode_all(Framing::Header, &input);
            let got = frames(&items);
            prop_assert!(
                got.last() == Some(&(Some(42), "<MonitorStartResponse/>".to_string())),
                "{:?}", items
            );
        }
    }
}
