//! Writes what the fake CSTA switch sends in BER mode for a scripted call to a
//! file, each APDU after its 2-byte big-endian length (the link's own framing),
//! for trying decoders such as `ctibridge decode` on. The file is the fake
//! switch's output, not a trace of a real switch.
//!
//! ```text
//! cargo run -p ctibridge-csta --features fake-switch --example fake_ber_dump -- 3 fake-phase3.ber
//! ```
//!
//! The script: monitors on 1001 and 2001; a caller rings 1001, which answers;
//! agent 5001 logs on at 1001 and gets ready; the caller hangs up; 2001 dials
//! an external number that answers, then hangs up. The first argument is the
//! phase (2 or 3).

use std::time::Duration;

use ctibridge_csta::fake::{AgentRequest, BerOptions, CstaPhase, Encoding, FakeConfig, FakeSwitch};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// MonitorStart (71) invokes for a four-digit device, written by hand: Phase III
/// wraps the device in `DeviceID ::= SEQUENCE`, Phase II sends the bare CHOICE.
fn monitor_start(phase: CstaPhase, invoke: u8, device: &[u8; 4]) -> Vec<u8> {
    let mut apdu = match phase {
        CstaPhase::Three => vec![
            0xa1, 0x10, 0x02, 0x01, invoke, 0x02, 0x01, 0x47, 0x30, 0x08, 0x30, 0x06, 0x80, 0x04,
        ],
        CstaPhase::Two => vec![
            0xa1, 0x0e, 0x02, 0x01, invoke, 0x02, 0x01, 0x47, 0x30, 0x06, 0x80, 0x04,
        ],
    };
    apdu.extend_from_slice(device);
    let mut framed = u16::try_from(apdu.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    framed.extend(apdu);
    framed
}

/// Reads until the switch has been quiet for a while.
async fn drain(stream: &mut TcpStream, out: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    while let Ok(Ok(n)) = timeout(Duration::from_millis(400), stream.read(&mut chunk)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let phase = match args.next().as_deref() {
        Some("2") => CstaPhase::Two,
        Some("3") => CstaPhase::Three,
        _ => return Err("usage: fake_ber_dump <2|3> <output file>".into()),
    };
    let path = args
        .next()
        .ok_or("usage: fake_ber_dump <2|3> <output file>")?;

    let switch = FakeSwitch::start(FakeConfig {
        encoding: Encoding::Ber(BerOptions::new(phase)),
        ..FakeConfig::default()
    })
    .await?;
    let mut stream = TcpStream::connect(switch.addr()).await?;
    let mut received = Vec::new();
    stream.write_all(&monitor_start(phase, 1, b"1001")).await?;
    stream.write_all(&monitor_start(phase, 2, b"2001")).await?;
    drain(&mut stream, &mut received).await;

    switch.ring("+14155550123", "1001").await;
    switch.answer("1001").await;
    switch.agent("5001", "1001", AgentRequest::LoggedOn).await;
    switch.agent("5001", "1001", AgentRequest::Ready).await;
    switch.hangup("+14155550123").await;
    drain(&mut stream, &mut received).await;
    // An outgoing call the far end answers (after 200 ms), then hangs up.
    switch.ring("2001", "+14155550199").await;
    drain(&mut stream, &mut received).await;
    switch.hangup("2001").await;
    drain(&mut stream, &mut received).await;

    let mut apdus = 0;
    let mut rest = &received[..];
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = &rest[(2 + len).min(rest.len())..];
        apdus += 1;
    }
    std::fs::write(&path, &received)?;
    eprintln!(
        "wrote {apdus} APDUs ({} octets) to {path}: the fake switch's output, not a real switch trace",
        received.len()
    );
    Ok(())
}
