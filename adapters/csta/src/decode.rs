//! `ctibridge decode --adapter csta [--format header|nul|bare] FILE`: the events a
//! capture holds, as the adapter would report them (before monitor copies are merged,
//! so a capture shows everything the switch sent).
//!
//! The input is a framed capture (the bytes of the TCP stream, e.g. saved from
//! tshark's "follow TCP stream" as raw) or one or more bare XML documents. With no
//! `--format`, a capture that starts with two zero bytes is read as `header` and
//! anything else as `bare`.

use ctibridge_adapter::{AdapterEvent, DecodeIssue, DecodeOptions, Decoded, SwitchEvent};
use tokio_util::codec::Decoder;

use crate::events::CstaEvent;
use crate::framing::{self, FrameCodec, Framing};
use crate::message::{classify, Message};

pub fn decode(options: &DecodeOptions, input: &[u8]) -> Result<Vec<Decoded>, String> {
    let framing = match options.format.as_deref() {
        Some(name) => Framing::parse(name)?,
        None if input.starts_with(&[0, 0]) => Framing::Header,
        None => Framing::Bare,
    };
    let mut codec = FrameCodec::new(framing);
    let mut buf = bytes::BytesMut::from(input);
    let mut out = Vec::new();
    let mut index = 0usize;
    loop {
        let item = codec
            .decode_eof(&mut buf)
            .map_err(|e| format!("reading the capture: {e}"))?;
        let Some(item) = item else { break };
        match item {
            framing::Decoded::Skipped {
                offset,
                len,
                reason,
            } => out.push(Decoded::Issue(DecodeIssue {
                position: format!("bytes {offset}..{}", offset + len as u64),
                message: reason,
            })),
            framing::Decoded::Frame(frame) => {
                index += 1;
                let position = format!(
                    "message {index} (bytes {}..{})",
                    frame.offset,
                    frame.offset + frame.xml.len() as u64
                );
                match classify(&frame.xml) {
                    Ok(Message::Event(event)) => {
                        let event = match event {
                            CstaEvent::Switch(event) | CstaEvent::Renamed { event, .. } => event,
                            CstaEvent::RouteEnd { .. } => continue,
                        };
                        out.push(Decoded::Event(AdapterEvent::from(event)));
                    }
                    Ok(Message::Error(error)) => out.push(Decoded::Issue(DecodeIssue {
                        position,
                        message: format!("the switch answered with an error: {error}"),
                    })),
                    // Responses, heartbeats and unmapped events are not events.
                    Ok(_) => {}
                    Err(e) => out.push(Decoded::Issue(DecodeIssue {
                        position,
                        message: e.to_string(),
                    })),
                }
            }
        }
    }
    Ok(out)
}

/// The kinds of a decoded capture, for tests and quick checks.
pub fn kinds(items: &[Decoded]) -> Vec<&'static str> {
    items
        .iter()
        .filter_map(|d| match d {
            Decoded::Event(AdapterEvent { event, .. }) => Some(SwitchEvent::kind(event)),
            Decoded::Issue(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_documents_and_framed_captures() {
        let doc = "<?xml version=\"1.0\"?><EstablishedEvent><establishedConnection><callID>4</callID><deviceID>1001</deviceID></establishedConnection><answeringDevice><deviceIdentifier>1001</deviceIdentifier></answeringDevice></EstablishedEvent>";
        let items = decode(
            &DecodeOptions::default(),
            format!("{doc}\n{doc}\n<Broken>").as_bytes(),
        )
        .unwrap();
        assert_eq!(kinds(&items), ["established", "established"]);
        assert!(
            matches!(items.last(), Some(Decoded::Issue(i)) if i.message.contains("stream ended"))
        );

        let mut framed = vec![0, 0];
        framed.extend_from_slice(&((doc.len() + 8) as u16).to_be_bytes());
        framed.extend_from_slice(b"9999");
        framed.extend_from_slice(doc.as_bytes());
        let items = decode(&DecodeOptions::default(), &framed).unwrap();
        assert_eq!(kinds(&items), ["established"]);
        let err = decode(
            &DecodeOptions {
                format: Some("ber".into()),
            },
            &framed,
        )
        .unwrap_err();
        assert!(err.contains("unknown framing"), "{err}");
    }
}
