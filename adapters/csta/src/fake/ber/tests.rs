//! Round trips against a running fake switch in BER mode, with a client
//! whose APDUs are hex written by hand from the standards' ASN.1 (nothing
//! produced by the fake's encoder or read by its decoder): requests,
//! results, events, rejects and ACSE, for both phases.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::super::PrivateData;
use super::super::{AgentRequest, BerOptions, CstaPhase, Encoding, FakeConfig, FakeSwitch};

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

#[tokio::test]
async fn phase3_monitor_ring_delivered_bytes() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;

    let call = sw.ring_with("+14155550123", "1001", "8005550100").await;
    assert_eq!(call, "101");
    c.expect(&h("
        a1 5c 02 01 01 02 01 15                      -- invoke 1, cSTAEventReport (21)
        30 54 55 04 00 00 00 01                      -- crossRefIdentifier
        a0 4c a4 4a                                  -- callControlEvents [0], delivered [4]
          6b 12 30 10 80 04 00 00 00 65              -- connection: both { callID 101,
                a1 08 30 06 80 04 31 30 30 31        --   deviceID 1001 }
          63 08 30 06 80 04 31 30 30 31              -- alertingDevice
          61 10 30 0e 80 0c 2b 31 34 31 35 35 35 35 30 31 32 33  -- callingDevice
          62 0e 30 0c 80 0a 38 30 30 35 35 35 30 31 30 30        -- calledDevice
          64 02 88 00                                -- lastRedirectionDevice notRequired
          4e 01 02                                   -- localConnectionInfo alerting
          0a 01 16                                   -- cause newCall (22)
    "))
        .await;

    sw.answer("1001").await;
    let est = c.next().await.expect("established");
    let info = dig(&est, &[0xa1, 0x30, 0xa0]);
    assert_eq!(
        elements(&info)[0].0,
        0xa7,
        "established [7]: {}",
        show(&est)
    );
    assert_eq!(dig(&info, &[0xa7, 0x4e]), [3], "connected");
    assert_eq!(sw.received().await, ["MonitorStart"]);
}

#[tokio::test]
async fn phase2_monitor_ring_delivered_bytes() {
    let (sw, mut c) = start(ber(CstaPhase::Two)).await;
    c.send(&h(MONITOR_1001_P2)).await;
    c.expect(&h(MONITOR_RESULT)).await;

    sw.ring_with("+14155550123", "1001", "8005550100").await;
    c.expect(&h("
        a1 50 02 01 01 02 01 15                      -- invoke 1, cSTAEventReport (21)
        30 48 55 04 00 00 00 01                      -- crossRefIdentifier
        a0 40 a3 3e                                  -- callEvent [0], delivered [3]
          6b 0c 82 04 00 00 00 65 80 04 31 30 30 31  -- connection { call [2], device [0] }
          63 06 80 04 31 30 30 31                    -- alertingDevice
          61 0e 80 0c 2b 31 34 31 35 35 35 35 30 31 32 33  -- callingDevice
          62 0c 80 0a 38 30 30 35 35 35 30 31 30 30        -- calledDevice
          64 02 88 00                                -- lastRedirectionDevice notRequired
          4e 01 02                                   -- localConnectionInfo alerting
          0a 01 16                                   -- cause newCall (22)
    "))
        .await;
}

#[tokio::test]
async fn phase3_make_call_result_and_events() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    // MakeCall (10) { callingDevice 1001, calledDirectoryNumber 1002 }, invoke 2.
    c.send(&h("a1 18 02 01 02 02 01 0a
               30 10 30 06 80 04 31 30 30 31 30 06 80 04 31 30 30 32"))
        .await;
    // returnResult { 2, { 10, MakeCallResult { callingDevice ConnectionID (101 at 1001) } } }
    c.expect(&h(
        "a2 1e 02 01 02 30 19 02 01 0a 30 14
                 6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    let first = c.next().await.expect("event");
    let info = dig(&first, &[0xa1, 0x30, 0xa0]);
    // serviceInitiated [16] or originated [13] first, for 1001's monitor.
    assert!(
        matches!(elements(&info)[0].0, 0xb0 | 0xad),
        "{}",
        show(&first)
    );
    assert_eq!(sw.calls().await[0].id, "101");
}

#[tokio::test]
async fn phase2_make_call_result() {
    let (_sw, mut c) = start(ber(CstaPhase::Two)).await;
    // MakeCall { callingDevice [0] 1001, calledDirectoryNumber [APPLICATION 2] { [0] 1002 } }
    c.send(&h("a1 16 02 01 02 02 01 0a
               30 0e 80 04 31 30 30 31 62 06 80 04 31 30 30 32"))
        .await;
    // returnResult { 2, { 10, ConnectionID { call 101, device 1001 } } }
    c.expect(&h("a2 16 02 01 02 30 11 02 01 0a
                 6b 0c 82 04 00 00 00 65 80 04 31 30 30 31"))
        .await;
}

#[tokio::test]
async fn system_status_both_ways_phase3() {
    let (sw, mut c) = start(FakeConfig {
        heartbeat: Some(Duration::from_millis(100)),
        heartbeat_strict: true,
        ..ber(CstaPhase::Three)
    })
    .await;
    // Ours: systemStatus (211) { systemStatus normal }, invoke 3 → noData.
    c.send(&h("a1 0c 02 01 03 02 02 00 d3 30 03 0a 01 02"))
        .await;
    c.expect(&h("a2 0b 02 01 03 30 06 02 02 00 d3 05 00")).await;
    // The switch's: answered three times, the link stays.
    for _ in 0..3 {
        let hb = c.next().await.expect("heartbeat");
        let e = elements(&dig(&hb, &[0xa1]));
        assert_eq!(e[1], (0x02, vec![0x00, 0xd3]), "{}", show(&hb));
        assert_eq!(e[2], (0x30, h("0a 01 02")), "{}", show(&hb));
        let mut answer = h("a2 0b 02 01 00 30 06 02 02 00 d3 05 00");
        answer[4] = e[0].1[0];
        c.send(&answer).await;
    }
    assert!(sw.is_connected().await);
    // Unanswered twice: strict mode closes the link.
    while c.next().await.is_some() {}
    assert!(!sw.is_connected().await);
    assert_eq!(sw.received().await, ["SystemStatus"]);
}

#[tokio::test]
async fn system_status_phase2_is_operation_52() {
    let (sw, mut c) = start(FakeConfig {
        heartbeat: Some(Duration::from_millis(100)),
        heartbeat_strict: true,
        ..ber(CstaPhase::Two)
    })
    .await;
    c.send(&h("a1 09 02 01 03 02 01 34 0a 01 02")).await;
    c.expect(&h("a2 0a 02 01 03 30 05 02 01 34 05 00")).await;
    // Keep-alives answered with a returnError (universalFailure generic) or
    // a reject (mistypedArgument) still show the client is there.
    for answer in [
        "a3 09 02 01 00 02 01 01 81 01 01",
        "a4 06 02 01 00 81 01 02",
        "a3 09 02 01 00 02 01 01 81 01 01",
    ] {
        let hb = c.next().await.expect("heartbeat");
        let e = elements(&dig(&hb, &[0xa1]));
        assert_eq!(&e[1..], [(0x02, vec![0x34]), (0x0a, vec![0x02])]);
        let mut answer = h(answer);
        answer[4] = e[0].1[0];
        c.send(&answer).await;
    }
    assert!(sw.is_connected().await);
}

/// Rejects for what cannot be served, errors for what the switch refuses;
/// the link survives all of them.
async fn garbage_then_monitor(phase: CstaPhase, monitor: &str, bad_device_error: &str) {
    let (_sw, mut c) = start(ber(phase)).await;
    // Not BER (a tag that never ends): badlyStructuredAPDU, invoke id absent.
    c.send(&h("ff ff ff")).await;
    c.expect(&h("a4 05 05 00 80 01 02")).await;
    // BER, but not ROSE: unrecognizedAPDU.
    c.send(&h("04 01 00")).await;
    c.expect(&h("a4 05 05 00 80 01 00")).await;
    // An empty frame.
    c.send(&[]).await;
    c.expect(&h("a4 05 05 00 80 01 02")).await;
    // Operation 99: unrecognizedOperation, with the invoke id.
    c.send(&h("a1 08 02 01 07 02 01 63 05 00")).await;
    c.expect(&h("a4 06 02 01 07 81 01 01")).await;
    // MonitorStart with a BOOLEAN for argument: mistypedArgument.
    c.send(&h("a1 09 02 01 08 02 01 47 01 01 ff")).await;
    c.expect(&h("a4 06 02 01 08 81 01 02")).await;
    // A device the switch does not have: returnError universalFailure.
    let mut unknown = h(monitor);
    let at = unknown.len() - 4;
    unknown[at..].copy_from_slice(b"9999");
    unknown[4] = 0x09;
    c.send(&unknown).await;
    c.expect(&h(bad_device_error)).await;
    // Still in step.
    c.send(&h(monitor)).await;
    c.expect(&h(MONITOR_RESULT)).await;
}

#[tokio::test]
async fn garbage_is_rejected_and_the_link_survives_phase3() {
    // operation [0] { invalidDeviceID (12) }
    garbage_then_monitor(
        CstaPhase::Three,
        MONITOR_1001_P3,
        "a3 0b 02 01 09 02 01 01 a0 03 0a 01 0c",
    )
    .await;
}

#[tokio::test]
async fn garbage_is_rejected_and_the_link_survives_phase2() {
    // operationalErrors [1] IMPLICIT invalidDeviceIdentifier (12)
    garbage_then_monitor(
        CstaPhase::Two,
        MONITOR_1001_P2,
        "a3 09 02 01 09 02 01 01 81 01 0c",
    )
    .await;
}

#[tokio::test]
async fn acse_association_is_required_when_configured() {
    let (sw, mut c) = start(FakeConfig {
        credentials: Some(("app".into(), "p".into())),
        encoding: Encoding::Ber(BerOptions {
            require_acse: true,
            ..BerOptions::new(CstaPhase::Three)
        }),
        ..FakeConfig::default()
    })
    .await;
    // Before the association: operation generic (1).
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h("a3 0b 02 01 01 02 01 01 a0 03 0a 01 01")).await;
    // AARQ { protocol-version, application-context-name 1.3.12.0.285.200,
    //        calling-authentication-value charstring "x" }: authentication-failure.
    let aarq = |pw: u8| {
        let mut a = h("60 14 80 02 07 80 a1 09 06 07 2b 0c 00 82 1d 81 48 ac 03 80 01 00");
        let last = a.len() - 1;
        a[last] = pw;
        a
    };
    c.send(&aarq(b'x')).await;
    c.expect(&h("61 17 a1 09 06 07 2b 0c 00 82 1d 81 48
                 a2 03 02 01 01 a3 05 a1 03 02 01 0d"))
        .await;
    // Another application context (Phase II's): not supported.
    let mut phase2 = aarq(b'p');
    phase2[14] = 0x5a; // 218 = 0x81 0x5a
    c.send(&phase2).await;
    c.expect(&h("61 17 a1 09 06 07 2b 0c 00 82 1d 81 48
                 a2 03 02 01 01 a3 05 a1 03 02 01 02"))
        .await;
    c.send(&aarq(b'p')).await;
    c.expect(&h("61 17 a1 09 06 07 2b 0c 00 82 1d 81 48
                 a2 03 02 01 00 a3 05 a1 03 02 01 00"))
        .await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    // RLRQ { reason normal }: RLRE, and the monitors go with the association.
    c.send(&h("62 03 80 01 00")).await;
    c.expect(&h("63 03 80 01 00")).await;
    assert!(sw.monitored().await.is_empty());
}

const EXAMPLE_OID: [u32; 8] = [1, 3, 6, 1, 4, 1, 32473, 1];
// OBJECT IDENTIFIER 1.3.6.1.4.1.32473.1 (RFC 5612's documentation enterprise).
const EXAMPLE_OID_BER: &str = "06 09 2b 06 01 04 01 81 fd 59 01";

#[tokio::test]
async fn phase2_private_data_ends_the_event() {
    let (sw, mut c) = start(FakeConfig {
        encoding: Encoding::Ber(BerOptions {
            private_data: Some(PrivateData {
                manufacturer: EXAMPLE_OID.to_vec(),
                data: vec![0xca, 0xfe],
            }),
            ..BerOptions::new(CstaPhase::Two)
        }),
        ..FakeConfig::default()
    })
    .await;
    c.send(&h(MONITOR_1001_P2)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.ring("+14155550123", "1001").await;
    let ev = c.next().await.expect("event");
    let delivered = elements(&dig(&ev, &[0xa1, 0x30, 0xa0, 0xa3]));
    let (id, private) = delivered.last().expect("fields");
    assert_eq!(*id, 0x7d, "[APPLICATION 29]: {}", show(&ev));
    assert_eq!(
        show(private),
        show(&h(&format!("{EXAMPLE_OID_BER} 04 02 ca fe")))
    );
}

#[tokio::test]
async fn phase3_extensions_carry_time_stamp_and_private_data() {
    let (sw, mut c) = start(FakeConfig {
        encoding: Encoding::Ber(BerOptions {
            private_data: Some(PrivateData {
                manufacturer: EXAMPLE_OID.to_vec(),
                data: vec![0xca, 0xfe],
            }),
            timestamps: true,
            ..BerOptions::new(CstaPhase::Three)
        }),
        ..FakeConfig::default()
    })
    .await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.ring("+14155550123", "1001").await;
    let ev = c.next().await.expect("event");
    let ext = dig(&ev, &[0xa1, 0x30, 0xa0, 0xa4, 0x7e]);
    let stamp = dig(&ext, &[0xa0, 0x18]);
    assert_eq!(stamp.len(), 15, "GeneralizedTime YYYYMMDDHHMMSSZ");
    assert!(stamp.starts_with(b"20") && stamp.ends_with(b"Z"));
    let private = dig(&ext, &[0xa1, 0x30]);
    assert_eq!(
        show(&private),
        show(&h(&format!("{EXAMPLE_OID_BER} 04 02 ca fe")))
    );
}

#[tokio::test]
async fn phase3_agent_state_set_and_get() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    // SetAgentState (312) { device 1001, loggedOn (0), agentID [2] "5001",
    // password [3] "1234" }, invoke 4.
    c.send(&h("a1 20 02 01 04 02 02 01 38
               30 17 30 06 80 04 31 30 30 31 0a 01 00
                     82 04 35 30 30 31 83 04 31 32 33 34"))
        .await;
    // returnResult { 4, { 312, SetAgentStateResult {} } }
    c.expect(&h("a2 0b 02 01 04 30 06 02 02 01 38 30 00")).await;
    let ev = c.next().await.expect("agent event");
    // logicalDeviceFeatureEvents [4], agentLoggedOn [1] { agentDevice, agentID [2] }
    assert_eq!(
        show(&dig(&ev, &[0xa1, 0x30, 0xa4, 0xa1])),
        show(&h("63 08 30 06 80 04 31 30 30 31 82 04 35 30 30 31"))
    );
    // GetAgentState (304) { device 1001 }, invoke 5: agentNotReady (0), logged on.
    c.send(&h(
        "a1 11 02 01 05 02 02 01 30 30 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    c.expect(&h(
        "a2 1f 02 01 05 30 1a 02 02 01 30
                 30 14 30 12 30 10 04 04 35 30 30 31 01 01 ff 30 05 30 03 0a 01 00",
    ))
    .await;
    sw.agent("5001", "1001", AgentRequest::Ready).await;
    let ready = c.next().await.expect("ready event");
    assert_eq!(elements(&dig(&ready, &[0xa1, 0x30, 0xa4]))[0].0, 0xa4);
}

#[tokio::test]
async fn phase3_hold_retrieve_transfer() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.ring("+14155550123", "1001").await;
    sw.answer("1001").await;
    while c
        .next()
        .await
        .is_some_and(|ev| dig(&ev, &[0xa1, 0x30, 0xa0])[0] != 0xa7)
    {}
    // HoldCall (9) { callToBeHeld { 101 at 1001 } }, invoke 6 → noData.
    c.send(&h(
        "a1 1c 02 01 06 02 01 09 30 14
               6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    c.expect(&h("a2 0a 02 01 06 30 05 02 01 09 05 00")).await; // noData
    let held = c.next().await.expect("held");
    assert_eq!(dig(&held, &[0xa1, 0x30, 0xa0])[0], 0xa9, "held [9]");
    // SingleStepTransferCall (50) { activeCall (a held call is allowed), transferredTo 1002 }.
    c.send(&h("a1 24 02 01 07 02 01 32 30 1c
               6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
               30 06 80 04 31 30 30 32"))
        .await;
    let result = c.next().await.expect("result");
    assert_eq!(result[0], 0xa2, "{}", show(&result));
    let calls = sw.calls().await;
    assert!(calls[0].state_of("1002").is_some(), "{calls:?}");
}

/// The call-control event tag (`CallControlEvents` alternative) of an event
/// report, with the event's fields.
fn call_event(apdu: &[u8]) -> (u8, Vec<(u8, Vec<u8>)>) {
    let (tag, fields) = elements(&dig(apdu, &[0xa1, 0x30, 0xa0])).remove(0);
    (tag, elements(&fields))
}

#[tokio::test]
async fn phase3_consultation_then_transfer() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.ring("+14155550123", "1001").await;
    sw.answer("1001").await;
    while c.next().await.is_some_and(|ev| call_event(&ev).0 != 0xa7) {}
    // ConsultationCall (7) { existingCall [0] IMPLICIT ConnectionID (101 at 1001),
    // consultedDevice [1] DeviceID 1002 }, invoke 6.
    c.send(&h("a1 26 02 01 06 02 01 07 30 1e
               a0 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
               a1 08 30 06 80 04 31 30 30 32"))
        .await;
    // ConsultationCallResult { initiatedCall (102 at 1001) }
    c.expect(&h(
        "a2 1e 02 01 06 30 19 02 01 07 30 14
                 6b 12 30 10 80 04 00 00 00 66 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    sw.answer("1002").await;
    // TransferCall (16) { heldCall 101 at 1001, activeCall 102 at 1001 }, invoke 7.
    c.send(&h(
        "a1 30 02 01 07 02 01 10 30 28
               6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
               6b 12 30 10 80 04 00 00 00 66 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    let mut transferred = None;
    let mut result = None;
    while transferred.is_none() || result.is_none() {
        let apdu = c.next().await.expect("link closed");
        if apdu[0] == 0xa2 {
            result = Some(apdu);
        } else if call_event(&apdu).0 == 0xb1 {
            transferred = Some(apdu);
        }
    }
    let result = result.unwrap();
    assert_eq!(dig(&result, &[0xa2, 0x02]), [7]);
    let (_, fields) = call_event(&transferred.unwrap());
    let tags: Vec<u8> = fields.iter().map(|(t, _)| *t).collect();
    // primaryOldCall, secondaryOldCall [0] IMPLICIT, transferringDevice,
    // transferredToDevice, transferredConnections [1] IMPLICIT,
    // localConnectionInfo, cause
    assert_eq!(tags, [0x6b, 0xa0, 0x63, 0x63, 0xa1, 0x4e, 0x0a]);
    assert_eq!(
        fields[1].1,
        h("30 10 80 04 00 00 00 66 a1 08 30 06 80 04 31 30 30 31")
    );
    assert_eq!(fields[5].1, [0], "1001 has left: null");
    assert_eq!(fields[6].1, [32], "cause transfer");
}

#[tokio::test]
async fn phase2_agent_events_from_the_phone() {
    let (sw, mut c) = start(ber(CstaPhase::Two)).await;
    c.send(&h(MONITOR_1001_P2)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.agent("5001", "1001", AgentRequest::LoggedOn).await;
    // agentStateEvent [2] { loggedOn [0] { agentDevice [APPLICATION 3] { [0] 1001 },
    // agentID [10] IMPLICIT "5001" } }
    c.expect(&h("a1 20 02 01 01 02 01 15 30 18 55 04 00 00 00 01
                 a2 10 a0 0e 63 06 80 04 31 30 30 31 8a 04 35 30 30 31"))
        .await;
    sw.agent("5001", "1001", AgentRequest::WorkingAfterCall)
        .await;
    let wac = c.next().await.expect("event");
    // workNotReady [4]
    assert_eq!(elements(&dig(&wac, &[0xa1, 0x30, 0xa2]))[0].0, 0xa4);
}

#[tokio::test]
async fn snapshot_device_both_phases() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    sw.ring("+14155550123", "1001").await;
    // SnapshotDevice (74) { snapshotObject 1001 }, invoke 3.
    c.send(&h("a1 10 02 01 03 02 01 4a 30 08 30 06 80 04 31 30 30 31"))
        .await;
    // { crossRefIDorSnapshotData snapshotData [APPLICATION 22] { { connection
    // 101 at 1001, localCallState compoundCallState [0] { alerting } } } }
    c.expect(&h("a2 27 02 01 03 30 22 02 01 4a 30 1d 76 1b 30 19
                 6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
                 a0 03 4e 01 02"))
        .await;

    let (sw, mut c) = start(ber(CstaPhase::Two)).await;
    sw.ring("+14155550123", "1001").await;
    // Phase II: the bare DeviceID; the bare SnapshotDeviceData back.
    c.send(&h("a1 0c 02 01 03 02 01 4a 80 04 31 30 30 31"))
        .await;
    c.expect(&h(
        "a2 1f 02 01 03 30 1a 02 01 4a 76 15 30 13
                 6b 0c 82 04 00 00 00 65 80 04 31 30 30 31 a0 03 4e 01 02",
    ))
    .await;
}
