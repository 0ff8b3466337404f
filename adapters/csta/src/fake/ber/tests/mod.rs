//! Round trips against a running fake switch in BER mode, with a client
//! whose APDUs are hex written by hand from the standards' ASN.1 (nothing
//! produced by the fake's encoder or read by its decoder): requests,
//! results, events, rejects and ACSE, for both phases. This file holds the
//! client and what the tests share; `calls` drives calls and agents,
//! `link` the link itself (keep-alives, rejects, ACSE, extras), `routing`
//! the routing dialogue.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::super::{BerOptions, CstaPhase, Encoding, FakeConfig, FakeSwitch};

mod calls;
mod link;
mod routing;

const WAIT: Duration = Duration::from_secs(3);

/// Bytes from hex; spaces, newlines and `--` comments ignored.
fn h(hex: &str) -> Vec<u8> {
    let digits: Vec<u8> = hex
        .lines()
        .flat_map(|l| l.split("--").next().unwrap_or_default().bytes())
        .filter(u8::is_ascii_hexdigit)
        .collect();
    assert!(digits.len().is_multiple_of(2), "odd hex: {hex}");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn show(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x} ")).collect()
}

/// The elements of one level of BER: `(identifier octet, contents)`.
/// Short and long definite lengths only: all the switch should send.
fn elements(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let id = b[0];
        let (len, skip) = if b[1] < 0x80 {
            (usize::from(b[1]), 2)
        } else {
            let n = usize::from(b[1] & 0x7f);
            let len = b[2..2 + n]
                .iter()
                .fold(0usize, |a, x| (a << 8) | usize::from(*x));
            (len, 2 + n)
        };
        out.push((id, b[skip..skip + len].to_vec()));
        b = &b[skip + len..];
    }
    out
}

/// The contents of the path of identifier octets from `b` down.
fn dig(b: &[u8], path: &[u8]) -> Vec<u8> {
    path.iter().fold(b.to_vec(), |cur, id| {
        elements(&cur)
            .into_iter()
            .find(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("no {id:02x} in {}", show(&cur)))
            .1
    })
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(sw: &FakeSwitch) -> Client {
        let stream = TcpStream::connect(sw.addr()).await.expect("connect");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes an APDU with its 2-byte length.
    async fn send(&mut self, apdu: &[u8]) {
        let mut out = u16::try_from(apdu.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(apdu);
        self.stream.write_all(&out).await.expect("write");
    }

    /// The next APDU, or `None` on EOF.
    async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.buf.len() >= 2 {
                let len = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
                if self.buf.len() >= 2 + len {
                    let apdu = self.buf[2..2 + len].to_vec();
                    self.buf.drain(..2 + len);
                    return Some(apdu);
                }
            }
            let mut chunk = [0u8; 4096];
            let n = timeout(WAIT, self.stream.read(&mut chunk))
                .await
                .expect("timed out waiting for the switch")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn expect(&mut self, want: &[u8]) {
        let got = self.next().await.expect("link closed");
        assert_eq!(show(&got), show(want));
    }
}

fn ber(phase: CstaPhase) -> FakeConfig {
    FakeConfig {
        encoding: Encoding::Ber(BerOptions::new(phase)),
        ..FakeConfig::default()
    }
}

async fn start(config: FakeConfig) -> (FakeSwitch, Client) {
    let sw = FakeSwitch::start(config).await.expect("start fake switch");
    let c = Client::connect(&sw).await;
    (sw, c)
}

// MonitorStart 1001, invoke 1. Phase III: SEQUENCE { monitorObject
// DeviceID ::= SEQUENCE { dialingNumber [0] "1001" } }.
const MONITOR_1001_P3: &str = "a1 10 02 01 01 02 01 47  30 08 30 06 80 04 31 30 30 31";
// Phase II: the DeviceID is the bare CHOICE.
const MONITOR_1001_P2: &str = "a1 0e 02 01 01 02 01 47  30 06 80 04 31 30 30 31";
// returnResult { 1, { 71, SEQUENCE { crossRefIdentifier [APPLICATION 21] 00000001 } } },
// the same in both phases.
const MONITOR_RESULT: &str = "a2 10 02 01 01 30 0b 02 01 47 30 06 55 04 00 00 00 01";

/// The call-control event tag (`CallControlEvents` alternative) of an event
/// report, with the event's fields.
fn call_event(apdu: &[u8]) -> (u8, Vec<(u8, Vec<u8>)>) {
    let (tag, fields) = elements(&dig(apdu, &[0xa1, 0x30, 0xa0])).remove(0);
    (tag, elements(&fields))
}
