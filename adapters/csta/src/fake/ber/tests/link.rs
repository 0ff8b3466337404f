//! The BER link itself: keep-alives both ways, rejects and errors that
//! leave it up, ACSE association, and the extras on events.

use std::time::Duration;

use super::super::super::PrivateData;
use super::*;

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
    // AARQ { protocol-version, application-context-name 1.3.12.0.218,
    //        calling-authentication-value charstring "x" }: authentication-failure.
    let aarq = |pw: u8| {
        let mut a = h("60 12 80 02 07 80 a1 07 06 05 2b 0c 00 81 5a ac 03 80 01 00");
        let last = a.len() - 1;
        a[last] = pw;
        a
    };
    let aare = |result: &str, diagnostic: &str| {
        h(&format!(
            "61 15 a1 07 06 05 2b 0c 00 81 5a a2 03 02 01 {result} a3 05 a1 03 02 01 {diagnostic}"
        ))
    };
    c.send(&aarq(b'x')).await;
    c.expect(&aare("01", "0d")).await;
    // Another application context (the OmniPCX client's 1.3.12.0.180.1): not supported.
    c.send(&h(
        "60 13 80 02 07 80 a1 08 06 06 2b 0c 00 81 34 01 ac 03 80 01 70",
    ))
    .await;
    c.expect(&aare("01", "02")).await;
    // The HiPath 4000 client's form: sender-acse-requirements, then external [2]
    // { single-ASN1-type [0] { [0] { name "app", password } } }; a wrong password fails.
    let hipath = |pw: u8| {
        h(&format!(
            "60 1d a1 07 06 05 2b 0c 00 81 5a 8a 02 07 80
             ac 0e a2 0c a0 0a a0 08 04 03 61 70 70 04 01 {pw:02x}"
        ))
    };
    c.send(&hipath(b'x')).await;
    c.expect(&aare("01", "0d")).await;
    c.send(&hipath(b'p')).await;
    c.expect(&aare("00", "00")).await;
    c.send(&aarq(b'p')).await;
    c.expect(&aare("00", "00")).await;
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
