//! `ctibridge decode --adapter sip FILE`: the events a capture of SIP messages
//! makes, as the adapter would report them.
//!
//! The input is SIP messages one after another, as a TCP stream carries them or
//! as saved from sngrep/Wireshark ("Follow UDP stream", raw), with CRLF or bare LF
//! line ends; lines between messages that are not SIP are reported and skipped.
//! Every NOTIFY with a dialog-info body goes through the monitor of the extension
//! its `entity` names, so stale versions, hold and resync show as they would live.
//! A Delivered event carries the caller's display name as the `calling_name` key.
//! uaCSTA messages (any request or response with an `application/csta+xml` body)
//! are read as a uacsta session reads them: events with the csta adapter's
//! mapping (its decode keys, `cause` and the raw device text, come along), a CSTA
//! error as an issue, answers and keep-alives quietly.

use std::collections::BTreeMap;

use ctibridge_adapter::{AdapterEvent, DecodeIssue, DecodeOptions, Decoded, SwitchEvent};

use crate::csta_body::{csta_body, CONTENT_TYPE};
use crate::dialog_info::{document_of, DialogInfo};
use crate::message::{message_len, Message};
use crate::monitor::{number, uri_user, Applied, Monitor};

pub fn decode(options: &DecodeOptions, input: &[u8]) -> Result<Vec<Decoded>, String> {
    if let Some(format) = &options.format {
        return Err(format!(
            "the sip adapter has no formats (got --format {format})"
        ));
    }
    // A capture saved with bare LF line ends: Content-Length counted the CRLFs.
    let input: Vec<u8> = if !input.windows(2).any(|w| w == b"\r\n") {
        let text = String::from_utf8_lossy(input);
        text.replace('\n', "\r\n").into_bytes()
    } else {
        input.to_vec()
    };
    let mut out = Vec::new();
    let mut monitors: BTreeMap<String, Monitor> = BTreeMap::new();
    let mut csta = CstaDecoder::default();
    let mut at = 0usize;
    let mut index = 0usize;
    let mut skipped: Option<(usize, usize)> = None;
    while at < input.len() {
        let line_end = input[at..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| at + p + 2)
            .unwrap_or(input.len());
        let line = String::from_utf8_lossy(&input[at..line_end]);
        let line = line.trim_end();
        if line.trim().is_empty() {
            at = line_end;
            continue;
        }
        if !is_start_line(line) {
            let start = skipped.map_or(line_number(&input, at), |(s, _)| s);
            skipped = Some((start, line_number(&input, at)));
            at = line_end;
            continue;
        }
        if let Some((first, last)) = skipped.take() {
            out.push(Decoded::Issue(DecodeIssue {
                position: lines(first, last),
                message: "not a SIP message; skipped".into(),
            }));
        }
        index += 1;
        let position = format!("message {index} (line {})", line_number(&input, at));
        let len = match message_len(&input[at..]) {
            Ok(Some(len)) => len,
            Ok(None) => {
                out.push(issue(
                    &position,
                    "the capture ends inside this message".into(),
                ));
                break;
            }
            Err(e) => {
                out.push(issue(&position, e.to_string()));
                at = line_end;
                continue;
            }
        };
        let bytes = &input[at..at + len];
        at += len;
        let message = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                out.push(issue(&position, e.to_string()));
                continue;
            }
        };
        if message.content_type().as_deref() == Some(CONTENT_TYPE) {
            out.extend(csta.decode(&message, &position));
            continue;
        }
        if message.method() != Some("NOTIFY") || message.body.is_empty() {
            continue;
        }
        let info = match document_of(&message) {
            Ok(info) => info,
            Err(e) => {
                out.push(issue(&position, e));
                continue;
            }
        };
        let Some(device) = uri_user(&info.entity) else {
            out.push(issue(
                &position,
                format!("entity `{}` names no extension", info.entity),
            ));
            continue;
        };
        let monitor = monitors
            .entry(device.clone())
            .or_insert_with(|| Monitor::new(device, 0));
        match monitor.apply(&info) {
            Applied::Stale { version, last } => out.push(issue(
                &position,
                format!("version {version} is not newer than {last}; ignored"),
            )),
            Applied::Events(events) => {
                let raw = String::from_utf8_lossy(&message.body).into_owned();
                for event in events {
                    out.push(described(event, &info, raw.clone()));
                }
            }
        }
    }
    if let Some((first, last)) = skipped {
        out.push(Decoded::Issue(DecodeIssue {
            position: lines(first, last),
            message: "not a SIP message; skipped".into(),
        }));
    }
    Ok(out)
}

/// The uaCSTA side of a capture: call ids filled in and events seen through two
/// monitors passed once, as the session does.
#[derive(Default)]
struct CstaDecoder {
    calls: crate::uacsta::Carry,
    copies: ctibridge_csta::dedup::MonitorCopies,
}

impl CstaDecoder {
    fn decode(&mut self, message: &Message, position: &str) -> Option<Decoded> {
        use ctibridge_csta::message::Message as Csta;
        let body = match csta_body(message) {
            Ok(Some(body)) => body,
            Ok(None) => return None,
            Err(e) => return Some(issue(position, e.to_string())),
        };
        match body.message {
            Csta::Event(mapped) => {
                let details = mapped.details.clone();
                let event =
                    self.calls
                        .for_engine(*mapped, body.cross_ref.as_deref(), &mut self.copies)?;
                let keys = details
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), Some(v)))
                    .collect();
                let event = AdapterEvent {
                    event,
                    raw: Some(String::from_utf8_lossy(&message.body).into_owned()),
                };
                Some(Decoded::Described { event, keys })
            }
            Csta::Error(error) => Some(issue(
                position,
                format!("the CSTA server answered with an error: {error}"),
            )),
            Csta::SessionEnded(reason) => Some(issue(
                position,
                format!("the CSTA server ended the session: {reason}"),
            )),
            Csta::Response(_) | Csta::SystemStatus | Csta::Ignored(_) => None,
        }
    }
}

fn described(event: SwitchEvent, info: &DialogInfo, raw: String) -> Decoded {
    let name = match &event {
        SwitchEvent::Delivered {
            calling: Some(calling),
            ..
        } => info
            .dialogs
            .iter()
            .find(|d| number(&d.remote).as_deref() == Some(calling.as_str()))
            .and_then(|d| d.remote.display.clone()),
        _ => None,
    };
    let event = AdapterEvent {
        event,
        raw: Some(raw),
    };
    match name {
        Some(name) => Decoded::Described {
            event,
            keys: vec![("calling_name".into(), Some(name))],
        },
        None => Decoded::Event(event),
    }
}

fn is_start_line(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        return rest.len() >= 3 && rest.as_bytes()[..3].iter().all(u8::is_ascii_digit);
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(_uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    version == "SIP/2.0" && !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase())
}

fn line_number(input: &[u8], at: usize) -> usize {
    input[..at].iter().filter(|&&b| b == b'\n').count() + 1
}

fn lines(first: usize, last: usize) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}..{last}")
    }
}

fn issue(position: &str, message: String) -> Decoded {
    Decoded::Issue(DecodeIssue {
        position: position.to_string(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/captures/sip/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn a_capture_of_several_messages_with_garbage_between() {
        let mut input = capture("asterisk-401-subscribe.sip");
        input.extend_from_slice(b"\r\n-- sngrep separator --\r\n");
        input.extend(capture("kamailio-notify-early.sip"));
        input.extend(capture("kamailio-notify-early.sip")); // a retransmission
        input.extend(capture("freeswitch-notify-compact.sip"));
        let out = decode(&DecodeOptions::default(), &input).unwrap();
        assert_eq!(out.len(), 4, "{out:#?}");
        assert!(matches!(&out[0], Decoded::Issue(i) if i.position == "line 13"));
        assert!(matches!(&out[1], Decoded::Described { event, keys }
            if event.event.kind() == "delivered" && keys[0].1.as_deref() == Some("Jean-Luc Marchetti")));
        assert!(matches!(&out[2], Decoded::Issue(i) if i.message.contains("not newer")));
        let Decoded::Described { event, keys } = &out[3] else {
            panic!("{:?}", out[3])
        };
        assert_eq!(event.event.kind(), "delivered");
        assert_eq!(keys[0].1.as_deref(), Some("Hanna Kowalczyk"));
    }

    #[test]
    fn bare_lf_captures_and_broken_bodies() {
        let text = String::from_utf8(capture("asterisk-notify-ringing.sip")).unwrap();
        let lf = text.replace("\r\n", "\n");
        let out = decode(&DecodeOptions::default(), lf.as_bytes()).unwrap();
        assert!(
            matches!(&out[..], [Decoded::Event(e)] if e.event.kind() == "delivered"),
            "{out:?}"
        );
        let broken = text.replace("</dialog>", "</dialoX>");
        let out = decode(&DecodeOptions::default(), broken.as_bytes()).unwrap();
        assert!(
            matches!(&out[..], [Decoded::Issue(i)] if i.message.contains("not well-formed") && i.position.starts_with("message 1")),
            "{out:?}"
        );
    }

    #[test]
    fn uacsta_infos_are_read_as_the_session_reads_them() {
        let mut input = capture("rcc-200-invite.sip");
        input.extend(capture("rcc-200-monitorstart.sip"));
        input.extend(capture("rcc-info-delivered.sip"));
        input.extend(capture("rcc-info-established.sip"));
        input.extend(capture("uacsta-200-info-error.sip"));
        let out = decode(&DecodeOptions::default(), &input).unwrap();
        assert_eq!(out.len(), 3, "{out:#?}");
        let Decoded::Described { event, keys } = &out[0] else {
            panic!("{:?}", out[0])
        };
        assert!(
            matches!(&event.event, SwitchEvent::Delivered { call_id, device, calling, .. }
            if call_id == "0_7a4c02e9" && device == "2210" && calling.as_deref() == Some("+14155550123"))
        );
        assert!(
            keys.contains(&("cause".into(), Some("newCall".into()))),
            "{keys:?}"
        );
        assert!(event.raw.as_deref().unwrap().contains("<DeliveredEvent"));
        assert!(
            matches!(&out[1], Decoded::Described { event, .. } if event.event.kind() == "established")
        );
        assert!(
            matches!(&out[2], Decoded::Issue(i) if i.position.starts_with("message 5") && i.message.contains("invalidConnectionIdentifier")),
            "{:?}",
            out[2]
        );
    }

    #[test]
    fn a_truncated_capture_says_so() {
        let input = capture("kamailio-notify-early.sip");
        let out = decode(&DecodeOptions::default(), &input[..input.len() - 10]).unwrap();
        assert!(matches!(&out[..], [Decoded::Issue(i)] if i.message.contains("ends inside")));
    }
}
