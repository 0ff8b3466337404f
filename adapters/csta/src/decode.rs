//! `ctibridge decode --adapter csta [--format header|nul|bare|ber] [--phase 2|3] FILE`: the events a
//! capture holds, as the adapter would report them (before monitor copies are merged,
//! so a capture shows everything the switch sent).
//!
//! The input is a framed capture (the bytes of the TCP stream, e.g. saved from
//! tshark's "follow TCP stream" as raw) or one or more bare XML documents. With no
//! `--format`, a capture that starts with two zero bytes is read as `header` and
//! anything else as `bare`.
//!
//! Each event line carries the decode keys: the variant's fields, plus `cause` when
//! the switch gave one and `device_raw`/`calling_raw`/`called_raw` when it wrote a
//! device in a decorated form (`N<+4989…>;displayNumber=…`). `call_id` is left out
//! when the switch named the call by a device alone. Avaya DMCC device ids
//! (`1001:CM1:10.0.0.6:0`) are shown as their extensions.

use ctibridge_adapter::{AdapterEvent, DecodeIssue, DecodeOptions, Decoded, SwitchEvent};
use tokio_util::codec::Decoder;

use crate::correlate::Correlator;
use crate::devices::DeviceNames;
use crate::framing::{self, FrameCodec, Framing};
use crate::message::{classify, Message};

pub fn decode(options: &DecodeOptions, input: &[u8]) -> Result<Vec<Decoded>, String> {
    if options.format.as_deref() == Some("ber") {
        let phase = match options.phase.as_deref() {
            Some(phase) => crate::ber::Phase::parse(phase)?,
            None => crate::ber::Phase::Three,
        };
        return Ok(crate::ber::decode::decode(phase, input));
    }
    if options.phase.is_some() {
        return Err("--phase applies to --format ber only".into());
    }
    let framing = match options.format.as_deref() {
        Some(name) => Framing::parse(name)?,
        None if input.starts_with(&[0, 0]) => Framing::Header,
        None => Framing::Bare,
    };
    if let Some(issue) = not_xml(input, framing) {
        return Ok(vec![Decoded::Issue(issue)]);
    }
    let mut calls = Correlator::default();
    // DMCC device ids of any switch, without asking for them.
    let names = DeviceNames::default();
    let mut messages = 0usize;
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
                    Ok(Message::Event(mapped)) => {
                        messages += 1;
                        out.extend(crate::described::described(*mapped, &mut calls, &names));
                    }
                    Ok(Message::Error(error)) => out.push(Decoded::Issue(DecodeIssue {
                        position,
                        message: format!("the switch answered with an error: {error}"),
                    })),
                    // Responses, heartbeats and unmapped events are not events.
                    Ok(Message::Ignored(name)) if !is_csta(&frame.xml) => {
                        out.push(Decoded::Issue(DecodeIssue {
                            position,
                            message: format!("not a CSTA message: <{name}>"),
                        }))
                    }
                    Ok(_) => messages += 1,
                    Err(e) => out.push(Decoded::Issue(DecodeIssue {
                        position,
                        message: e.to_string(),
                    })),
                }
            }
        }
    }
    if messages == 0 && out.is_empty() {
        out.push(Decoded::Issue(DecodeIssue {
            position: "byte 0".into(),
            message: "no CSTA message in the input".into(),
        }));
    }
    Ok(out)
}

/// Input that is plainly not CSTA XML (an HTML page, a text log), named by how it
/// starts, rather than a run of skipped bytes or silence.
fn not_xml(input: &[u8], framing: Framing) -> Option<DecodeIssue> {
    if framing == Framing::Header {
        return None;
    }
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0)?;
    let head: String = String::from_utf8_lossy(&input[start..input.len().min(start + 40)])
        .chars()
        .take_while(|c| *c != '\n' && *c != '\r')
        .take(16)
        .collect();
    let lower = head.to_ascii_lowercase();
    let html = lower.starts_with("<!doctype html") || lower.starts_with("<html");
    if input[start] == b'<' && !html {
        return None;
    }
    Some(DecodeIssue {
        position: format!("byte {start}"),
        message: format!("not XML: starts with `{head}`"),
    })
}

/// Whether a document's root is in a CSTA namespace (ECMA-323, the ECMA-354 session
/// messages, a vendor's CSTA namespace) or has none, as some switches send.
fn is_csta(xml: &[u8]) -> bool {
    let head = &xml[..xml.len().min(512)];
    let text = String::from_utf8_lossy(head);
    // The root's start tag, after any declaration and comments.
    let Some(root) = text
        .split('<')
        .find(|t| !t.starts_with('?') && !t.starts_with('!') && !t.trim().is_empty())
    else {
        return false;
    };
    let tag = root.split('>').next().unwrap_or_default();
    !tag.contains("xmlns") || tag.contains("csta") || tag.contains("ecma")
}

/// The kinds of a decoded capture, for tests and quick checks.
pub fn kinds(items: &[Decoded]) -> Vec<&'static str> {
    items
        .iter()
        .filter_map(|d| match d {
            Decoded::Event(AdapterEvent { event, .. })
            | Decoded::Described {
                event: AdapterEvent { event, .. },
                ..
            } => Some(SwitchEvent::kind(event)),
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
                format: Some("nul".into()),
                phase: Some("2".into()),
            },
            &framed,
        )
        .unwrap_err();
        assert!(err.contains("--format ber only"), "{err}");
        let err = decode(
            &DecodeOptions {
                format: Some("ber".into()),
                phase: Some("4".into()),
            },
            &framed,
        )
        .unwrap_err();
        assert!(err.contains("expected 2 or 3"), "{err}");
    }
}
