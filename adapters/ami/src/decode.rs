//! `ctibridge decode --adapter ami FILE`: the events the adapter makes of an AMI
//! capture (what `ngrep`/`tcpdump -A` or a manager log shows of port 5038), the
//! banner optional.
//!
//! Without a switch table there is no `devices` list: every channel whose resource
//! is all digits (an extension: `PJSIP/1001-…`, `Local/1001@…`) counts as
//! monitored, so trunk channels (`PJSIP/carrier-…`) do not pop. `--format
//! devices=1001,1002` names the extensions instead.

use ctibridge_adapter::{AdapterEvent, DecodeIssue, DecodeOptions, Decoded};

use crate::codec::{Item, Parser};
use crate::tracker::{channel, Tracker};

pub fn decode(options: &DecodeOptions, input: &[u8]) -> Result<Vec<Decoded>, String> {
    let devices: Vec<String> = match options.format.as_deref() {
        None => extensions_in(input),
        Some(f) => match f.strip_prefix("devices=") {
            Some(list) => list
                .split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect(),
            None => {
                return Err(format!(
                    "unknown --format `{f}` for ami; use devices=EXT,EXT,…"
                ))
            }
        },
    };
    let mut tracker = Tracker::new(&devices, &[], &[]);
    let mut parser = Parser::new(input.starts_with(b"Asterisk Call Manager"));
    parser.feed(input);
    let mut out = Vec::new();
    let mut events = Vec::new();
    while let Some(item) = parser.next() {
        match item {
            Item::Banner(_) => {}
            Item::Error(e) => out.push(Decoded::Issue(DecodeIssue {
                position: format!("byte {}", e.offset()),
                message: e.to_string(),
            })),
            Item::Message(m) => {
                tracker.handle(&m, &mut events);
                for event in events.drain(..) {
                    out.push(Decoded::Event(AdapterEvent {
                        event,
                        raw: Some(m.to_text()),
                    }));
                }
            }
        }
    }
    if parser.buffered() > 0 {
        out.push(Decoded::Issue(DecodeIssue {
            position: "end of input".into(),
            message: format!(
                "{} bytes of an unfinished message (no blank line after it)",
                parser.buffered()
            ),
        }));
    }
    Ok(out)
}

/// Every all-digit device named by a `Channel:`/`DestChannel:` header.
fn extensions_in(input: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(input);
    let mut found: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Channel: ")
                .or_else(|| l.strip_prefix("DestChannel: "))
        })
        .filter_map(|c| channel::device(c.trim()))
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .map(String::from)
        .collect();
    found.sort();
    found.dedup();
    found
}
