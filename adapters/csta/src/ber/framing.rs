//! The BER link's framing: each APDU after a 2-byte big-endian length of the APDU
//! alone (the form ECMA-218/ECMA-285 switches use on TCP, without ACSE or with
//! it).
//!
//! The length is the only thing that keeps the stream in step, so it is trusted
//! up to [`MAX_APDU`]: an APDU that cannot be read costs that APDU only, because
//! the next one starts where the length says. A length above the maximum means the
//! stream is not what we think it is; the live link reports an error (and is
//! dropped and reopened), `ctibridge decode` reports it and carries on after the
//! announced length.

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
    /// A length above [`MAX_APDU`].
    Oversized { announced: usize },
}

pub fn step(buf: &[u8]) -> Step {
    if buf.len() < PREFIX {
        return Step::Need(PREFIX);
    }
    let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
    if len == 0 {
        Step::Empty
    } else if len > MAX_APDU {
        Step::Oversized { announced: len }
    } else if buf.len() < PREFIX + len {
        Step::Need(PREFIX + len)
    } else {
        Step::Apdu { len }
    }
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
            Step::Oversized { announced } => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("at byte {offset}: an APDU length of {announced} is over the {MAX_APDU}-byte maximum; the stream cannot be followed"),
            )),
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
            Step::Need(n) if len >= PREFIX => format!(
                "a truncated APDU: the length says {} bytes, {} are there",
                n - PREFIX,
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

    #[test]
    fn apdus_by_length_in_any_split() {
        let out = frames(&[0, 2, 0xA1, 0x00, 0, 0, 0, 1, 0x05, 0, 5, 1]);
        assert_eq!(out.len(), 4, "{out:?}");
        let Ok(Decoded::Frame(first)) = &out[0] else {
            panic!()
        };
        assert_eq!((&first.xml[..], first.offset), (&[0xA1, 0x00][..], 0));
        assert!(matches!(&out[1], Ok(Decoded::Skipped { offset: 4, .. })));
        let Ok(Decoded::Frame(third)) = &out[2] else {
            panic!()
        };
        assert_eq!((&third.xml[..], third.offset), (&[0x05][..], 6));
        let Ok(Decoded::Skipped {
            offset: 9,
            len: 3,
            reason,
        }) = &out[3]
        else {
            panic!("{out:?}")
        };
        assert!(reason.contains("says 5 bytes, 1 are there"), "{reason}");
    }

    #[test]
    fn an_oversized_length_is_an_error() {
        let out = frames(&[0xFF, 0xFF, 1, 2, 3]);
        let Err(e) = &out[0] else { panic!("{out:?}") };
        assert!(e.contains("at byte 0") && e.contains("65535"), "{e}");
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
