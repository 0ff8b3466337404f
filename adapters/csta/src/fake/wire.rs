//! Framing of CSTA XML documents on the TCP stream: the 8-byte header
//! (`Framing::Header`) and NUL-terminated documents (`Framing::Nul`), in both
//! directions.
//!
//! Decoding distinguishes what a real switch can recover from (a frame whose
//! invoke id is not four digits: the length is still trustworthy, so the
//! frame is skipped and the stream stays in step) from what it cannot (a
//! header that does not start with two zero bytes or gives a length below 8,
//! a NUL-framed document longer than [`MAX_FRAME`]): those are fatal and the
//! connection is closed.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

/// How XML documents are delimited on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// 8-byte header before each document: `00 00`, the big-endian total
    /// length (header included), then the invoke id as four ASCII digits.
    #[default]
    Header,
    /// Each document is followed by one `0x00` byte; there is no invoke id,
    /// so replies are matched to requests by order.
    Nul,
}

/// Invoke id that marks unsolicited messages (events, and the switch's
/// routing requests).
pub const EVENT_INVOKE_ID: u16 = 9999;

/// Largest frame (header included) the two-byte length can express.
pub const MAX_FRAME: usize = 65535;

const HEADER_LEN: usize = 8;

/// The invoke id of a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invoke {
    /// Four ASCII digits.
    Id(u16),
    /// The header carried something other than four digits.
    Malformed([u8; 4]),
    /// NUL framing: no invoke id on the wire.
    None,
}

/// One received document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFrame {
    pub invoke: Invoke,
    pub body: Bytes,
}

/// A framing error the connection cannot recover from.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("header does not start with two zero bytes: {0:02x?}")]
    BadMagic([u8; 2]),
    #[error("header length {0} is below the 8-byte header")]
    ShortLength(usize),
    #[error("NUL-framed document exceeds {MAX_FRAME} bytes")]
    TooLong,
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Decoder for frames sent by the client.
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    framing: Framing,
}

impl FrameDecoder {
    pub fn new(framing: Framing) -> Self {
        Self { framing }
    }

    fn decode_header(src: &mut BytesMut) -> Result<Option<InFrame>, WireError> {
        // Validate as soon as the length field is in, so garbage is rejected
        // without waiting for bytes that may never come.
        if src.len() >= 2 && (src[0] != 0 || src[1] != 0) {
            return Err(WireError::BadMagic([src[0], src[1]]));
        }
        if src.len() < 4 {
            return Ok(None);
        }
        let total = usize::from(u16::from_be_bytes([src[2], src[3]]));
        if total < HEADER_LEN {
            return Err(WireError::ShortLength(total));
        }
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(total);
        let raw = [frame[4], frame[5], frame[6], frame[7]];
        frame.advance(HEADER_LEN);
        let invoke = parse_invoke_id(raw).map_or(Invoke::Malformed(raw), Invoke::Id);
        Ok(Some(InFrame {
            invoke,
            body: frame.freeze(),
        }))
    }

    fn decode_nul(src: &mut BytesMut) -> Result<Option<InFrame>, WireError> {
        loop {
            let Some(end) = src.iter().position(|b| *b == 0) else {
                if src.len() > MAX_FRAME {
                    return Err(WireError::TooLong);
                }
                return Ok(None);
            };
            if end > MAX_FRAME {
                return Err(WireError::TooLong);
            }
            let doc = src.split_to(end).freeze();
            src.advance(1);
            // Empty documents (doubled NULs, whitespace keep-alives) carry
            // nothing to answer.
            if doc.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(InFrame {
                invoke: Invoke::None,
                body: doc,
            }));
        }
    }
}

impl Decoder for FrameDecoder {
    type Item = InFrame;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<InFrame>, WireError> {
        match self.framing {
            Framing::Header => Self::decode_header(src),
            Framing::Nul => Self::decode_nul(src),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<InFrame>, WireError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None => {
                // A peer that hangs up mid-frame is not an error worth more
                // than a log line: the bytes are simply dropped.
                if !src.is_empty() {
                    tracing::debug!(bytes = src.len(), "fake switch: truncated frame at EOF");
                    src.clear();
                }
                Ok(None)
            }
        }
    }
}

fn parse_invoke_id(raw: [u8; 4]) -> Option<u16> {
    if !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        raw.iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')),
    )
}

/// Frames one outgoing document. `invoke` is ignored with NUL framing.
/// Returns `None` when the document is too long for the header's length
/// field (the caller logs and drops it; nothing the fake writes gets close).
pub fn encode(framing: Framing, invoke: u16, xml: &str) -> Option<Bytes> {
    match framing {
        Framing::Header => {
            let total = HEADER_LEN + xml.len();
            let len = u16::try_from(total).ok()?;
            let mut out = Vec::with_capacity(total);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(format!("{:04}", invoke % 10000).as_bytes());
            out.extend_from_slice(xml.as_bytes());
            Some(out.into())
        }
        Framing::Nul => {
            let mut out = Vec::with_capacity(xml.len() + 1);
            out.extend_from_slice(xml.as_bytes());
            out.push(0);
            Some(out.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(framing: Framing, bytes: &[u8]) -> Result<Vec<InFrame>, WireError> {
        let mut dec = FrameDecoder::new(framing);
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(f) = dec.decode(&mut buf)? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn header_round_trip() {
        let bytes = encode(Framing::Header, 42, "<a/>").expect("fits");
        assert_eq!(&bytes[..8], b"\0\0\0\x0c0042");
        let frames = decode_all(Framing::Header, &bytes).expect("valid");
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].invoke, Invoke::Id(42));
        assert_eq!(&frames[0].body[..], b"<a/>");
    }

    #[test]
    fn header_waits_for_the_whole_frame() {
        let bytes = encode(Framing::Header, 1, "<abc/>").expect("fits");
        let mut dec = FrameDecoder::new(Framing::Header);
        let mut buf = BytesMut::from(&bytes[..5]);
        assert!(dec.decode(&mut buf).expect("ok so far").is_none());
        buf.extend_from_slice(&bytes[5..]);
        assert!(dec.decode(&mut buf).expect("valid").is_some());
    }

    #[test]
    fn header_rejects_impossible_headers() {
        assert!(matches!(
            decode_all(Framing::Header, b"\x01\0\0\x100001"),
            Err(WireError::BadMagic(_))
        ));
        assert!(matches!(
            decode_all(Framing::Header, b"\0\0\0\x070001"),
            Err(WireError::ShortLength(7))
        ));
        assert!(matches!(
            decode_all(Framing::Header, b"<?xml"),
            Err(WireError::BadMagic(_))
        ));
    }

    #[test]
    fn non_digit_invoke_id_keeps_stream_in_step() {
        let mut bytes = b"\0\0\0\x0cAB12<a/>".to_vec();
        bytes.extend_from_slice(&encode(Framing::Header, 7, "<b/>").expect("fits"));
        let frames = decode_all(Framing::Header, &bytes).expect("valid lengths");
        assert_eq!(frames[0].invoke, Invoke::Malformed(*b"AB12"));
        assert_eq!(frames[1].invoke, Invoke::Id(7));
    }

    #[test]
    fn truncated_input_at_eof_is_dropped() {
        let mut dec = FrameDecoder::new(Framing::Header);
        let mut buf = BytesMut::from(&b"\0\0\0"[..]);
        assert!(dec.decode_eof(&mut buf).expect("no error").is_none());
        assert!(buf.is_empty());
    }

    #[test]
    fn nul_framing() {
        let frames = decode_all(Framing::Nul, b"<a/>\0\0<b/>\0<c").expect("valid");
        assert_eq!(frames.len(), 2);
        assert_eq!(&frames[1].body[..], b"<b/>");
        assert_eq!(frames[1].invoke, Invoke::None);
        assert_eq!(
            &encode(Framing::Nul, 5, "<a/>").expect("fits")[..],
            b"<a/>\0"
        );
        let long = vec![b'x'; MAX_FRAME + 1];
        assert!(matches!(
            decode_all(Framing::Nul, &long),
            Err(WireError::TooLong)
        ));
    }

    #[test]
    fn oversized_document_is_not_encoded() {
        let xml = "x".repeat(MAX_FRAME);
        assert!(encode(Framing::Header, 1, &xml).is_none());
    }
}
