//! `ctibridge decode --adapter csta --format ber [--phase 2|3] FILE`: the events in
//! a file of length-prefixed BER APDUs (the bytes of the TCP stream), as the
//! adapter would report them.
//!
//! Every APDU ends up as events or as an issue naming its byte range: a truncated
//! or oversized APDU, bytes that start no APDU, one that is not the phase's CSTA,
//! an error the switch answered with. The APDUs around a bad one still decode: a
//! length prefix is followed only when an APDU of that length starts after it
//! (see [`super::framing`]), otherwise the bytes up to the next one are skipped. Each event carries, beside its fields,
//! the switch's private data (`private_data`, `OID:HEX`) and its timestamp
//! (`switch_time`) where the APDU has them.

use ctibridge_adapter::{DecodeIssue, Decoded};

use super::framing::{step, Step, MAX_APDU};
use super::phase::Phase;
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
            Step::Need(_) => {
                let message = if input.len() - at < 2 {
                    "a truncated length prefix".to_string()
                } else {
                    format!(
                        "a truncated APDU: the length says {} bytes, {} are there",
                        u16::from_be_bytes([input[at], input[at + 1]]),
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
            Step::NoApdu => {
                // As the live link does: skip to the next byte that starts an APDU.
                let skip = (at + 1..input.len())
                    .find(|&i| step(&input[i..]) != Step::NoApdu)
                    .unwrap_or(input.len());
                let announced = usize::from(u16::from_be_bytes([input[at], input[at + 1]]));
                let why = if announced > MAX_APDU {
                    format!("a length of {announced}, over the {MAX_APDU}-byte maximum")
                } else {
                    "no ROSE or ACSE tag filling the length".to_string()
                };
                out.push(issue(
                    format!("bytes {at}..{skip}"),
                    format!("bytes that start no APDU ({why}); skipped to the next APDU"),
                ));
                at = skip;
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
                        out.extend(crate::described::described(mapped, &mut calls, &names));
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
