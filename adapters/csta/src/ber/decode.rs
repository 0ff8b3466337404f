//! `ctibridge decode --adapter csta --format ber [--phase 2|3] FILE`: the events in
//! a file of length-prefixed BER APDUs (the bytes of the TCP stream), as the
//! adapter would report them.
//!
//! Every APDU ends up as events or as an issue naming its byte range: a truncated
//! or oversized APDU, one that is not ROSE or not the phase's CSTA, an error the
//! switch answered with. The APDUs around a bad one still decode, since the length
//! prefix says where the next one starts. Each event carries, beside its fields,
//! the switch's private data (`private_data`, `OID:HEX`) and its timestamp
//! (`switch_time`) where the APDU has them.

use ctibridge_adapter::{DecodeIssue, Decoded};

use super::framing::{step, Step, MAX_APDU};
use super::module::Phase;
use super::read::{raw_details, read};
use crate::correlate::Correlator;
use crate::devices::DeviceNames;
use crate::message::{classify_element, Message};

pub fn decode(phase: Phase, input: &[u8]) -> Vec<Decoded> {
    let module = phase.module();
    let mut calls = Correlator::default();
    let names = DeviceNames::default();
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut index = 0usize;
    let mut messages = 0usize;
    let issue =
        |position: String, message: String| Decoded::Issue(DecodeIssue { position, message });
    while at < input.len() {
        match step(&input[at..]) {
            Step::Need(need) => {
                let message = if input.len() - at < 2 {
                    "a truncated length prefix".to_string()
                } else {
                    format!(
                        "a truncated APDU: the length says {} bytes, {} are there",
                        need - 2,
                        input.len() - at - 2
                    )
                };
                out.push(issue(format!("bytes {at}..{}", input.len()), message));
                break;
            }
            Step::Empty => {
                index += 1;
                out.push(issue(
                    format!("APDU {index} (bytes {at}..{})", at + 2),
                    "an empty APDU (length 0)".into(),
                ));
                at += 2;
            }
            Step::Oversized { announced } => {
                let end = (at + 2 + announced).min(input.len());
                out.push(issue(
                    format!("bytes {at}..{end}"),
                    format!("an APDU length of {announced} is over the {MAX_APDU}-byte maximum; skipped"),
                ));
                at = end;
            }
            Step::Apdu { len } => {
                index += 1;
                let start = at + 2;
                let apdu = &input[start..start + len];
                let position = format!("APDU {index} (bytes {at}..{})", start + len);
                at = start + len;
                let inbound = match read(apdu, module) {
                    Ok(inbound) => inbound,
                    Err(e) => {
                        out.push(issue(
                            position,
                            format!("undecodable at byte {}: {}", start + e.offset, e.message),
                        ));
                        continue;
                    }
                };
                let details = raw_details(&inbound.root);
                let name = inbound.root.name.clone();
                match classify_element(inbound.root) {
                    Ok(Message::Event(mapped)) => {
                        messages += 1;
                        let mut mapped = *mapped;
                        mapped.details.extend(details);
                        out.extend(crate::decode::described(mapped, &mut calls, &names));
                    }
                    Ok(Message::Error(error)) => out.push(issue(
                        position,
                        format!("the switch answered with an error: {error}"),
                    )),
                    Ok(Message::Ignored(_))
                        if name == "UnknownEvent" || name.starts_with("Operation") =>
                    {
                        out.push(issue(
                            position,
                            format!("not a {} message this adapter reads ({name})", module.title),
                        ))
                    }
                    Ok(_) => messages += 1,
                    Err(e) => out.push(issue(position, e.to_string())),
                }
            }
        }
    }
    if messages == 0 && out.is_empty() {
        out.push(issue("byte 0".into(), "no CSTA APDU in the input".into()));
    }
    out
}
