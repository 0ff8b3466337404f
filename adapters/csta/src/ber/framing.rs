//! The BER link's framing: each APDU after a 2-byte big-endian length of the APDU
//! alone (the form ECMA-218/ECMA-285 switches use on TCP, without ACSE or with
//! it).
//!
//! The length keeps the stream in step, but it is trusted only when what follows
//! it starts like an APDU of exactly that length: a ROSE (`a1`–`a4`) or ACSE
//! (`60`–`64`) tag whose own BER length fills the announced length. Bytes that are
//! not such a start (garbage, a half-written APDU after a reconnect, a length above
//! [`MAX_APDU`]) are skipped, and reported, up to the next position that is one:
//! without this, garbage whose first two bytes read as a plausible length would
//! swallow the real APDUs behind it and put the stream out of step for good. An
//! APDU that starts right but cannot be read costs that APDU only.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::framing::{Decoded, Frame};

/// The largest APDU accepted. CSTA APDUs are at most a few KiB (a snapshot of a
/// busy ACD group); 32 KiB leaves room and still stops a garbage length early.
pub const MAX_APDU: usize = 32 * 1024;
const PREFIX: usize = 2;

/// What the bytes at the start of a buffer are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Not all there yet: this many bytes are needed in all.
    Need(usize),
    /// An APDU of `len` bytes after the prefix.
    Apdu { len: usize },
    /// A zero length: nothing to read, two bytes to skip.
    Empty,
    /// The bytes here start no APDU (see the module's comment).
    NoApdu,
}

/// The tags an APDU of the link starts with: ROSE invoke, returnResult, returnError,
/// reject; ACSE AARQ, AARE, RLRQ, RLRE, ABRT.
const APDU_TAGS: [u8; 9] = [0xA1, 0xA2, 0xA3, 0xA4, 0x60, 0x61, 0x62, 0x63, 0x64];

pub fn step(buf: &[u8]) -> Step {
    if buf.len() < PREFIX {
        return Step::Need(PREFIX);
    }
    let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
    if len == 0 {
        return Step::Empty;
    }
    if len > MAX_APDU {
        return Step::NoApdu;
    }
    match header_fills(&buf[PREFIX..], len) {
        None => Step::Need(PREFIX + len.min(6)),
        Some(false) => Step::NoApdu,
        Some(true) if buf.len() < PREFIX + len => Step::Need(PREFIX + len),
        Some(true) => Step::Apdu { len },
    }
}

/// Whether `apdu` starts with an APDU tag whose BER length makes it exactly `len`
/// bytes long; `None` while too few bytes are there to tell.
fn header_fills(apdu: &[u8], len: usize) -> Option<bool> {
    let (&tag, rest) = apdu.split_first()?;
    if !APDU_TAGS.contains(&tag) || len < 2 {
        return Some(false);
    }
    let (&first, rest) = rest.split_first()?;
    let (header, value) = match first {
        0..=0x7F => (2, usize::from(first)),
        0x81 => (3, usize::from(*rest.first()?)),
        0x82 => (
            4,
            usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
        ),
        // Longer forms are more than MAX_APDU; 0x80 (indefinite) is not DER-like
        // and no switch sends it on this link.
        _ => return Some(false),
    };
    Some(header + value == len)
}
/// A tokio codec for the live link: yields each APDU as a [`Frame`] (its bytes in
/// `xml`, no invoke id: that is inside the APDU) and encodes APDUs with their
/// prefix.
#[derive(Debug, Default)]
pub struct BerCodec {
    /// Stream offset of the first byte in the decoder's buffer.
    offset: u64,
}

impl Decoder for BerCodec {
    type Item = Decoded;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, std::io::Error> {
        let offset = self.offset;
        match step(buf) {
            Step::Need(n) => {
                buf.reserve(n.saturating_sub(buf.len()));
                Ok(None)
            }
            Step::Empty => {
                buf.advance(PREFIX);
                self.offset += PREFIX as u64;
                Ok(Some(Decoded::Skipped {
                    offset,
                    len: PREFIX,
                    reason: "an empty APDU (length 0)".into(),
                }))
            }
            Step::NoApdu => {
                // Skip to the next byte that may start an APDU; a start that cannot
                // be told yet stays in the buffer for the next read.
                let skip = (1..buf.len())
                    .find(|&i| step(&buf[i..]) != Step::NoApdu)
                    .unwrap_or(buf.len());
                let first = u16::from_be_bytes([buf[0], buf[1]]);
                buf.advance(skip);
                self.offset += skip as u64;
                Ok(Some(Decoded::Skipped {
                    offset,
                    len: skip,
                    reason: if usize::from(first) > MAX_APDU {
                        format!("a length of {first}, over the {MAX_APDU}-byte maximum, and what follows it, up to the next APDU")
                    } else {
                        "bytes that start no APDU (no ROSE or ACSE tag filling the length before them)".into()
                    },
                }))
            }
            Step::Apdu { len } => {
                let mut frame = buf.split_to(PREFIX + len);
                frame.advance(PREFIX);
                self.offset += (PREFIX + len) as u64;
                Ok(Some(Decoded::Frame(Frame {
                    invoke_id: None,
                    xml: frame.freeze(),
                    offset,
                })))
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, std::io::Error> {
        if let Some(item) = self.decode(buf)? {
            return Ok(Some(item));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let len = buf.len();
        let reason = match step(buf) {
            Step::Need(_) if len >= PREFIX => format!(
                "a truncated APDU: the length says {} bytes, {} are there",
                u16::from_be_bytes([buf[0], buf[1]]),
                len - PREFIX
            ),
            _ => "a truncated length prefix".into(),
        };
        let offset = self.offset;
        buf.clear();
        self.offset += len as u64;
        Ok(Some(Decoded::Skipped {
            offset,
            len,
            reason,
        }))
    }
}

impl Encoder<Vec<u8>> for BerCodec {
    type Error = std::io::Error;

    fn encode(&mut self, apdu: Vec<u8>, buf: &mut BytesMut) -> Result<(), std::io::Error> {
        if apdu.is_empty() || apdu.len() > MAX_APDU {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("an APDU of {} bytes cannot be sent", apdu.len()),
            ));
        }
        buf.reserve(PREFIX + apdu.len());
        buf.put_u16(apdu.len() as u16);
        buf.put_slice(&apdu);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Result<Decoded, String>> {
        let mut codec = BerCodec::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        // One byte at a time: the prefix must keep sync across any split.
        for b in input {
            buf.put_u8(*b);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(item)) => out.push(Ok(item)),
                    Ok(None) => break,
                    Err(e) => {
                        out.push(Err(e.to_string()));
                        return out;
                    }
                }
            }
        }
        while let Ok(Some(item)) = codec.decode_eof(&mut buf) {
            out.push(Ok(item));
        }
        out
    }

    /// The frames, and the bytes skipped between them (fed one byte at a time, a
    /// run of garbage may be skipped in several pieces: they are joined here).
    fn summary(out: &[Result<Decoded, String>]) -> Vec<String> {
        let garbage =
            |reason: &str| reason.starts_with("bytes that") || reason.starts_with("a length of");
        let mut items: Vec<(u64, usize, String)> = Vec::new();
        let mut lines = Vec::new();
        for item in out {
            match item {
                Ok(Decoded::Skipped {
                    offset,
                    len,
                    reason,
                }) => {
                    if let Some(last) = items.last_mut() {
                        if last.0 + last.1 as u64 == *offset && garbage(&last.2) && garbage(reason)
                        {
                            last.1 += len;
                            continue;
                        }
                    }
                    items.push((*offset, *len, reason.clone()));
                }
                Ok(Decoded::Frame(f)) => {
                    lines.extend(items.drain(..).map(|(o, l, r)| format!("skip {o}+{l} {r}")));
                    lines.push(format!("frame {} {:02x?}", f.offset, &f.xml[..]));
                }
                Err(e) => lines.push(format!("error {e}")),
            }
        }
        lines.extend(items.drain(..).map(|(o, l, r)| format!("skip {o}+{l} {r}")));
        lines
    }

    #[test]
    fn apdus_by_length_in_any_split() {
        let mut input = vec![0, 2, 0xA1, 0x00, 0, 0];
        // Garbage whose first bytes read as a plausible length (5635).
        input.extend([0x16, 0x03, 0x01, 0x20, 0x6E]);
        input.extend([0, 3, 0xA2, 0x01, 0x05]);
        input.extend([0, 5, 0xA1, 0x03, 1]);
        let lines = summary(&frames(&input));
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert_eq!(lines[0], "frame 0 [a1, 00]");
        assert!(lines[1].starts_with("skip 4+2 an empty APDU"), "{lines:#?}");
        assert!(
            lines[2].starts_with("skip 6+5 bytes that start no APDU"),
            "{lines:#?}"
        );
        assert_eq!(lines[3], "frame 11 [a2, 01, 05]");
        assert!(
            lines[4].starts_with("skip 16+5 a truncated APDU")
                && lines[4].contains("says 5 bytes, 3 are there"),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_length_whose_apdu_does_not_fill_it_is_not_trusted() {
        // A ROSE tag, but its own length (3) does not make the 9 bytes announced.
        let input = [0, 9, 0xA1, 0x03, 2, 1, 1, 0, 4, 0xA4, 0x02, 0x05, 0x00];
        let lines = summary(&frames(&input));
        assert!(
            lines[0].starts_with("skip 0+7 bytes that start no APDU"),
            "{lines:#?}"
        );
        assert_eq!(lines[1], "frame 7 [a4, 02, 05, 00]");
    }

    #[test]
    fn an_oversized_length_is_skipped_to_the_next_apdu() {
        let lines = summary(&frames(&[0xFF, 0xFF, 1, 2, 3, 0, 2, 0xA1, 0x00]));
        assert!(
            lines[0].starts_with("skip 0+5 a length of 65535"),
            "{lines:#?}"
        );
        assert_eq!(lines[1], "frame 5 [a1, 00]");
        assert_eq!(lines.len(), 2, "{lines:#?}");
    }

    #[test]
    fn encoding_prefixes_the_length() {
        let mut buf = BytesMut::new();
        BerCodec::default()
            .encode(vec![0xA1, 0x00], &mut buf)
            .unwrap();
        assert_eq!(&buf[..], &[0, 2, 0xA1, 0x00]);
        assert!(BerCodec::default()
            .encode(vec![0; MAX_APDU + 1], &mut buf)
            .is_err());
    }
}
