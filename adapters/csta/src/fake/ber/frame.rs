//! The BER link's framing: every APDU after a 2-byte big-endian count of
//! its octets, in both directions (as CSTA Phase II and III links over TCP
//! carry them).
//!
//! Any 2-byte header is a length the stream can be cut by, so no input
//! desynchronises it: an APDU that does not decode is the decoder's
//! business (a ROSE reject), not the framing's.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::super::wire::{InFrame, Invoke, WireError};

const HEADER_LEN: usize = 2;

/// Cuts the client's stream into APDUs. Frames carry no invoke id of the
/// framing's own ([`Invoke::None`]): it is inside the APDU.
#[derive(Debug, Clone, Copy, Default)]
pub struct LengthPrefixDecoder;

impl Decoder for LengthPrefixDecoder {
    type Item = InFrame;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<InFrame>, WireError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([src[0], src[1]]));
        if src.len() < HEADER_LEN + len {
            src.reserve(HEADER_LEN + len - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(InFrame {
            invoke: Invoke::None,
            body: src.split_to(len).freeze(),
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<InFrame>, WireError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None => {
                if !src.is_empty() {
                    tracing::debug!(bytes = src.len(), "fake switch: truncated APDU at EOF");
                    src.clear();
                }
                Ok(None)
            }
        }
    }
}

/// One APDU with its length prefix; `None` when it is longer than the
/// prefix can count (nothing the fake writes comes close).
pub fn frame(apdu: &[u8]) -> Option<Bytes> {
    let len = u16::try_from(apdu.len()).ok()?;
    let mut out = Vec::with_capacity(apdu.len() + HEADER_LEN);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(apdu);
    Some(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_apdus_and_waits_for_the_rest() {
        let mut dec = LengthPrefixDecoder;
        let mut buf = BytesMut::from(&[0x00, 0x03, 0xa1, 0x01][..]);
        assert!(dec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x01, 0xff]);
        let a = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(&a.body[..], &[0xa1, 0x01, 0x00]);
        let b = dec.decode(&mut buf).unwrap().unwrap();
        assert!(b.body.is_empty());
        let c = dec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(&c.body[..], &[0xff]);
        assert!(dec.decode(&mut buf).unwrap().is_none());
    }

    #[test]
    fn frames_with_the_length() {
        assert_eq!(&frame(&[1, 2, 3]).unwrap()[..], &[0, 3, 1, 2, 3]);
        assert!(frame(&vec![0; 70_000]).is_none());
    }
}
