//! The adapter on a BER link (`encoding = "ber"`, Phase III and Phase II) against a
//! scripted switch on loopback. The switch's bytes are written here from ECMA-285 and X.880
//! (a small tag-length function counts the lengths), not produced by the adapter's
//! encoder, and what the adapter sends is compared byte for byte.

mod common;

use common::Harness;
use ctibridge_adapter::{Command, SwitchEvent, SwitchSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One TLV with a short or long definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if content.len() < 128 {
        out.push(content.len() as u8);
    } else {
        out.extend([0x81, content.len() as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// ECMA-285 DeviceID: SEQUENCE { dialingNumber [0] IMPLICIT IA5String }.
fn device_id(number: &str) -> Vec<u8> {
    tlv(0x30, &tlv(0x80, number.as_bytes()))
}

/// ConnectionID [APPLICATION 11] CHOICE { both SEQUENCE { callID [0], deviceID [1] } }.
fn connection(call: &[u8], number: &str) -> Vec<u8> {
    tlv(
        0x6B,
        &tlv(
            0x30,
            &cat(&[tlv(0x80, call), tlv(0xA1, &device_id(number))]),
        ),
    )
}

fn invoke(id: u8, opcode: &[u8], argument: &[u8]) -> Vec<u8> {
    tlv(
        0xA1,
        &cat(&[tlv(0x02, &[id]), tlv(0x02, opcode), argument.to_vec()]),
    )
}

fn result(id: u8, opcode: &[u8], value: &[u8]) -> Vec<u8> {
    tlv(
        0xA2,
        &cat(&[
            tlv(0x02, &[id]),
            tlv(0x30, &cat(&[tlv(0x02, opcode), value.to_vec()])),
        ]),
    )
}

async fn send(stream: &mut TcpStream, apdu: &[u8]) {
    let mut framed = (apdu.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(apdu);
    stream.write_all(&framed).await.expect("peer writes");
}

async fn receive(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    stream
        .read_exact(&mut len)
        .await
        .expect("adapter sends a length");
    let mut apdu = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream
        .read_exact(&mut apdu)
        .await
        .expect("adapter sends the APDU");
    apdu
}

fn settings(port: u16, phase: u8, device: &str) -> SwitchSettings {
    let text = format!(
        "name = 'pbx'\nadapter = 'csta'\nhost = '127.0.0.1'\nport = {port}\nrequest_timeout_s = 3\nreconnect_min_s = 0.05\nreconnect_max_s = 0.2\nencoding = 'ber'\nphase = {phase}\nheartbeat_s = 0\n"
    );
    SwitchSettings {
        name: "pbx".into(),
        adapter: "csta".into(),
        devices: vec![device.into()],
        table: toml::from_str(&text).expect("test settings parse"),
    }
}

/// The switch's side of the script; an `Err` names the step that went wrong.
async fn switch(listener: TcpListener) -> Result<(), String> {
    let (mut s, _) = listener.accept().await.map_err(|e| e.to_string())?;
    // monitorStart (71) { monitorObject deviceObject 1001 }, invoke id 1.
    let expected = invoke(1, &[71], &tlv(0x30, &device_id("1001")));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "MonitorStart: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    // snapshotDevice (74) { snapshotObject 1001 }, then getAgentState (304).
    let expected = invoke(2, &[74], &tlv(0x30, &device_id("1001")));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "SnapshotDevice: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    let expected = invoke(3, &[0x01, 0x30], &tlv(0x30, &device_id("1001")));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "GetAgentState: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    // MonitorStartResult { crossRefIdentifier [APPLICATION 21] 07 }
    send(&mut s, &result(1, &[71], &tlv(0x30, &tlv(0x55, &[0x07])))).await;
    // SnapshotDeviceResult { snapshotData [1] {} }: no calls.
    send(&mut s, &result(2, &[74], &tlv(0x30, &tlv(0xA1, &[])))).await;
    // returnError { 3, universalFailure (1), operation [0] objectNotKnown (4) }
    send(
        &mut s,
        &tlv(
            0xA3,
            &cat(&[tlv(0x02, &[3]), tlv(0x02, &[1]), tlv(0x80, &[4])]),
        ),
    )
    .await;

    // The switch's keep-alive: systemStatus (211) { normal (2) }, invoke id 99.
    send(
        &mut s,
        &invoke(99, &[0x00, 0xD3], &tlv(0x30, &tlv(0x0A, &[2]))),
    )
    .await;
    let expected = result(99, &[0x00, 0xD3], &[0x05, 0x00]);
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "SystemStatus answer: got {got:02X?}, wanted {expected:02X?}"
        ));
    }

    // An operation the adapter does not serve (escape, 51), invoke id 98: a ROSE
    // reject { 98, invokeProblem [1] unrecognizedOperation (1) }, at once.
    send(&mut s, &invoke(98, &[51], &[0x05, 0x00])).await;
    let expected = tlv(0xA4, &cat(&[tlv(0x02, &[98]), tlv(0x81, &[1])]));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "reject of escape: got {got:02X?}, wanted {expected:02X?}"
        ));
    }

    // A garbage APDU: its length is right, its content is not BER.
    send(&mut s, &[0xFF, 0xFF, 0xFF]).await;

    // cSTAEventReport (21) { 07, callControlEvents [0] delivered [4] { connection,
    // alertingDevice, callingDevice, calledDevice, lastRedirectionDevice notKnown,
    // cause newCall (22) } }
    let delivered = tlv(
        0xA4,
        &cat(&[
            connection(&[0x0A, 0x1F], "1001"),
            tlv(0x63, &device_id("1001")),
            tlv(0x61, &device_id("4155550123")),
            tlv(0x62, &device_id("8000")),
            tlv(0x64, &tlv(0x87, &[])),
            tlv(0x0A, &[22]),
        ]),
    );
    let report = tlv(0x30, &cat(&[tlv(0x55, &[0x07]), tlv(0xA0, &delivered)]));
    send(&mut s, &invoke(100, &[21], &report)).await;

    // makeCall (10) { callingDevice 1001, calledDirectoryNumber 4155550124 }, id 4.
    let expected = invoke(
        4,
        &[10],
        &tlv(0x30, &cat(&[device_id("1001"), device_id("4155550124")])),
    );
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!("MakeCall: got {got:02X?}, wanted {expected:02X?}"));
    }
    // MakeCallResult { callingDevice ConnectionID { 0A20, 1001 } }
    send(
        &mut s,
        &result(4, &[10], &tlv(0x30, &connection(&[0x0A, 0x20], "1001"))),
    )
    .await;
    // Still in step after all that: established [7] on the first call.
    let established = tlv(
        0xA7,
        &cat(&[
            connection(&[0x0A, 0x1F], "1001"),
            tlv(0x63, &device_id("1001")),
            tlv(0x61, &device_id("4155550123")),
            tlv(0x62, &device_id("8000")),
            tlv(0x64, &tlv(0x87, &[])),
            tlv(0x0A, &[22]),
        ]),
    );
    let report = tlv(0x30, &cat(&[tlv(0x55, &[0x07]), tlv(0xA0, &established)]));
    send(&mut s, &invoke(101, &[21], &report)).await;
    // Keep the connection open until the adapter is stopped.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest).await;
    Ok(())
}

#[tokio::test]
async fn a_ber_switch_pops_answers_and_survives_garbage() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = tokio::spawn(switch(listener));
    let adapter = common::build(&settings(port, 3, "1001"));
    let caps = adapter.capabilities();
    assert!(caps.supports(ctibridge_adapter::CommandKind::MakeCall));
    assert!(caps.supports(ctibridge_adapter::CommandKind::TransferBlind));
    let mut h = Harness::start(adapter);
    let snapshot = h.up().await;
    assert!(snapshot.calls.is_empty());

    let delivered = h
        .expect("Delivered", |e| matches!(e, SwitchEvent::Delivered { .. }))
        .await;
    let SwitchEvent::Delivered {
        call_id,
        device,
        calling,
        called,
        ..
    } = delivered
    else {
        unreachable!()
    };
    assert_eq!(call_id, "0A1F");
    assert_eq!(device, "1001");
    assert_eq!(calling.as_deref(), Some("4155550123"));
    assert_eq!(called.as_deref(), Some("8000"));

    let made = h
        .ok(Command::MakeCall {
            from: "1001".into(),
            to: "4155550124".into(),
        })
        .await;
    assert_eq!(made.call_id.as_deref(), Some("0A20"));
    h.expect(
        "Established",
        |e| matches!(e, SwitchEvent::Established { call_id, .. } if call_id == "0A1F"),
    )
    .await;
    assert!(
        !h.seen
            .iter()
            .any(|e| matches!(e, SwitchEvent::LinkDown { .. })),
        "the garbage APDU dropped the link: {:#?}",
        h.seen
    );
    h.stop().await;
    // The adapter closed the link; the script ends and says whether every step
    // matched.
    tokio::time::timeout(common::WAIT, peer)
        .await
        .expect("the scripted switch ends")
        .expect("no panic")
        .expect("every step as scripted");
}

/// Phase II in the shapes an OmniPCX client uses (ECMA-218): DeviceID as the bare
/// `dialingNumber [0]`, ConnectionID `{ call [2], device }`, systemStatus 52 with a
/// bare ENUMERATED, event reports numbered by `eventType`, the agent state asked for
/// with queryDevice (12).
async fn phase_two_switch(listener: TcpListener) -> Result<(), String> {
    let (mut s, _) = listener.accept().await.map_err(|e| e.to_string())?;
    let dial = |number: &str| tlv(0x80, number.as_bytes());
    let expected = invoke(1, &[71], &tlv(0x30, &dial("2101")));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "MonitorStart: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    let expected = invoke(2, &[74], &tlv(0x30, &dial("2101")));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "SnapshotDevice: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    send(&mut s, &result(1, &[71], &tlv(0x30, &tlv(0x55, &[0x09])))).await;
    // SnapshotDeviceData [APPLICATION 22]: one call, 012C, connected at 2101.
    let info = tlv(
        0x30,
        &cat(&[
            tlv(0x6B, &cat(&[tlv(0x82, &[0x01, 0x2C]), dial("2101")])),
            tlv(0x4E, &[3]),
        ]),
    );
    send(&mut s, &result(2, &[74], &tlv(0x76, &info))).await;
    // queryDevice (12) { device, feature agentState (5) }; a phone without an agent
    // answers returnError { universalFailure, operation [1] invalidFeature (15) }.
    let expected = invoke(3, &[12], &tlv(0x30, &cat(&[dial("2101"), tlv(0x0A, &[5])])));
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "QueryDevice: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    send(
        &mut s,
        &tlv(
            0xA3,
            &cat(&[tlv(0x02, &[3]), tlv(0x02, &[1]), tlv(0x81, &[15])]),
        ),
    )
    .await;
    // The switch's keep-alive (52) and our answer { 52, NULL }.
    send(&mut s, &invoke(98, &[52], &tlv(0x0A, &[2]))).await;
    let expected = result(98, &[52], &[0x05, 0x00]);
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!(
            "SystemStatus answer: got {got:02X?}, wanted {expected:02X?}"
        ));
    }
    // eventType 4 (delivered) with its eventInfo SEQUENCE.
    let info = tlv(
        0x30,
        &cat(&[
            tlv(0x6B, &cat(&[tlv(0x82, &[0x01, 0x2C]), dial("2101")])),
            tlv(0x63, &dial("2101")),
            tlv(0x61, &tlv(0x82, b"0611223344")),
            tlv(0x62, &dial("2101")),
            tlv(0x64, &tlv(0x87, &[])),
            tlv(0x0A, &[22]),
        ]),
    );
    let report = tlv(0x30, &cat(&[tlv(0x55, &[0x09]), tlv(0x80, &[4]), info]));
    send(&mut s, &invoke(100, &[21], &report)).await;
    // makeCall { callingDevice, calledDirectoryNumber CalledDeviceID [APPLICATION 2] }
    let expected = invoke(
        4,
        &[10],
        &tlv(0x30, &cat(&[dial("2101"), tlv(0x62, &dial("0611223345"))])),
    );
    let got = receive(&mut s).await;
    if got != expected {
        return Err(format!("MakeCall: got {got:02X?}, wanted {expected:02X?}"));
    }
    // The result is the new call's ConnectionID.
    let connection = tlv(0x6B, &cat(&[tlv(0x82, &[0x01, 0x2D]), dial("2101")]));
    send(&mut s, &result(4, &[10], &connection)).await;
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest).await;
    Ok(())
}

#[tokio::test]
async fn a_phase_two_switch_gets_the_same_treatment() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = tokio::spawn(phase_two_switch(listener));
    let adapter = common::build(&settings(port, 2, "2101"));
    let caps = adapter.capabilities();
    assert!(caps.supports(ctibridge_adapter::CommandKind::Hold));
    assert!(!caps.supports(ctibridge_adapter::CommandKind::Dtmf));
    assert!(caps.supports(ctibridge_adapter::CommandKind::SetAgentState));
    let mut h = Harness::start(adapter);
    let snapshot = h.up().await;
    assert_eq!(snapshot.calls.len(), 1, "{snapshot:?}");
    assert_eq!(snapshot.calls[0].call_id, "012C");
    let delivered = h
        .expect("Delivered", |e| matches!(e, SwitchEvent::Delivered { .. }))
        .await;
    let SwitchEvent::Delivered {
        call_id, calling, ..
    } = delivered
    else {
        unreachable!()
    };
    assert_eq!(call_id, "012C");
    assert_eq!(calling.as_deref(), Some("0611223344"));
    let made = h
        .ok(Command::MakeCall {
            from: "2101".into(),
            to: "0611223345".into(),
        })
        .await;
    assert_eq!(made.call_id.as_deref(), Some("012D"));
    // What the phase cannot carry is refused without a word to the switch.
    let refused = h
        .command(Command::Dtmf {
            call_id: "012C".into(),
            device: "2101".into(),
            digits: "1".into(),
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(ctibridge_adapter::CommandError::NotSupported(_))
        ),
        "{refused:?}"
    );
    h.stop().await;
    tokio::time::timeout(common::WAIT, peer)
        .await
        .expect("the scripted switch ends")
        .expect("no panic")
        .expect("every step as scripted");
}
