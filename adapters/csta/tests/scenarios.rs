//! Call-centre scenarios against the fake CSTA switch: what the engine is told, and
//! what the switch is asked, in the situations a CSTA link meets in the field.

mod common;

use std::time::Duration;

use common::{build, fake, settings, Harness};
use ctibridge_adapter::{
    AgentStateRequest, Command, CommandError, MonitorMode, PartyState, SwitchEvent, TransferMode,
};
use ctibridge_csta::fake::{BerOptions, CstaPhase, Dialect, Encoding, FakeConfig, FakeSwitch};

const ANI: &str = "+14155550123";
const DEVICES: [&str; 3] = ["1001", "1002", "8000"];

async fn started(config: FakeConfig, extra: &str) -> (FakeSwitch, Harness) {
    let switch = fake(config).await;
    let mut h = Harness::start(build(&settings(&switch, &DEVICES, extra)));
    h.up().await;
    (switch, h)
}

/// Ring `device` from the outside and answer it through the adapter.
async fn answered_call(switch: &FakeSwitch, h: &mut Harness, device: &str) -> String {
    let call = switch.ring(ANI, device).await;
    h.expect(
        "Delivered",
        |e| matches!(e, SwitchEvent::Delivered { device: d, .. } if d == device),
    )
    .await;
    h.ok(Command::Answer {
        call_id: call.clone(),
        device: device.into(),
    })
    .await;
    h.expect(
        "Established",
        |e| matches!(e, SwitchEvent::Established { device: d, .. } if d == device),
    )
    .await;
    call
}

/// 1001 holds `call` and consults 1002; returns the consultation call's id.
async fn consult_1002(h: &mut Harness, call: &str) -> String {
    h.ok(Command::Transfer {
        call_id: call.to_string(),
        device: "1001".into(),
        mode: TransferMode::Consult,
        to: Some("1002".into()),
        consult_call_id: None,
    })
    .await
    .call_id
    .expect("the consultation call's id")
}

/// 1002 answers the consultation `consult` and 1001 completes the transfer of
/// `call` to it; the adapter reports one Transferred under the caller's call id.
async fn complete_transfer_to_1002(
    switch: &FakeSwitch,
    h: &mut Harness,
    call: &str,
    consult: &str,
) {
    h.expect("the consultation rings at 1002", |e| {
        matches!(e, SwitchEvent::Delivered { call_id, device, .. } if call_id == consult && device == "1002")
    })
    .await;
    switch.answer("1002").await;
    h.expect("1002 answers the consultation", |e| {
        matches!(e, SwitchEvent::Established { call_id, device, .. } if call_id == consult && device == "1002")
    })
    .await;
    h.ok(Command::Transfer {
        call_id: call.to_string(),
        device: "1001".into(),
        mode: TransferMode::Complete,
        to: None,
        consult_call_id: Some(consult.to_string()),
    })
    .await;
    let transferred = h
        .expect("Transferred", |e| {
            matches!(e, SwitchEvent::Transferred { .. })
        })
        .await;
    assert_eq!(
        transferred,
        SwitchEvent::Transferred {
            call_id: call.to_string(),
            secondary_call_id: Some(consult.to_string()),
            device: "1001".into(),
            transferred_to: "1002".into(),
        }
    );
}

#[tokio::test]
async fn an_acd_call_reaches_the_ready_agent_with_ani_dnis_and_queue() {
    let (switch, mut h) = started(FakeConfig::default(), "").await;
    h.ok(Command::AgentLogin {
        agent: "5001".into(),
        device: "1001".into(),
        password: Some("1234".into()),
    })
    .await;
    h.expect("LoggedOn", |e| matches!(e, SwitchEvent::LoggedOn { agent, device } if agent == "5001" && device == "1001"))
        .await;
    h.ok(Command::SetAgentState {
        agent: "5001".into(),
        device: "1001".into(),
        state: AgentStateRequest::Ready,
    })
    .await;
    h.expect(
        "Ready",
        |e| matches!(e, SwitchEvent::Ready { agent, .. } if agent == "5001"),
    )
    .await;

    let call = switch.ring_with(ANI, "8000", "8005550100").await;
    h.expect(
        "Queued at 8000",
        |e| matches!(e, SwitchEvent::Queued { queue, .. } if queue == "8000"),
    )
    .await;
    let delivered = h
        .expect(
            "Delivered at the agent",
            |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1001"),
        )
        .await;
    assert_eq!(
        delivered,
        SwitchEvent::Delivered {
            call_id: call.clone(),
            device: "1001".into(),
            calling: Some(ANI.into()),
            called: Some("8005550100".into()),
            original_called: None,
            trunk: None,
            queue: Some("8000".into()),
            digits: None,
        }
    );
    // The group's monitor saw the same delivery: one event reaches the engine.
    h.none(Duration::from_millis(300), |e| {
        matches!(e, SwitchEvent::Delivered { .. })
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn click_to_dial_names_the_new_call_and_the_far_end_answers() {
    let (_switch, mut h) = started(FakeConfig::default(), "").await;
    let ok = h
        .ok(Command::MakeCall {
            from: "1001".into(),
            to: ANI.into(),
        })
        .await;
    let call = ok.call_id.expect("MakeCall gives the call id");
    h.expect("Originated", |e| matches!(e, SwitchEvent::Originated { call_id, called: Some(c), .. } if *call_id == call && c == ANI))
        .await;
    h.expect("the far end answers", |e| matches!(e, SwitchEvent::Established { call_id, device, .. } if *call_id == call && device == ANI))
        .await;
    let busy = h
        .command(Command::MakeCall {
            from: "1001".into(),
            to: "sip:nobody".into(),
        })
        .await;
    assert!(
        matches!(busy, Err(CommandError::InvalidDestination(_))),
        "{busy:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_busy_destination_fails_the_dialled_call() {
    let config = FakeConfig {
        busy_numbers: vec!["+14155550199".into()],
        ..FakeConfig::default()
    };
    let (_switch, mut h) = started(config, "").await;
    let call = h
        .ok(Command::MakeCall {
            from: "1001".into(),
            to: "+14155550199".into(),
        })
        .await
        .call_id
        .unwrap();
    let failed = h
        .expect("Failed", |e| matches!(e, SwitchEvent::Failed { .. }))
        .await;
    assert!(
        matches!(&failed, SwitchEvent::Failed { call_id, cause: Some(cause), .. } if *call_id == call && cause == "busy"),
        "{failed:?}"
    );
    h.stop().await;
}

/// An adapter in listen mode (the switch dials out) beside a fake switch; the port it
/// listens on.
async fn listening(extra: &str) -> (FakeSwitch, Harness, u16) {
    let switch = fake(FakeConfig::default()).await;
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut settings = settings(&switch, &DEVICES, extra);
    settings.table.remove("host");
    settings.table.remove("port");
    settings
        .table
        .insert("listen".into(), format!("127.0.0.1:{port}").into());
    let h = Harness::start(build(&settings));
    (switch, h, port)
}

/// Connect to the adapter's listening port, as the switch does, once it listens.
async fn dial(port: u16) -> tokio::net::TcpStream {
    loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => return stream,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Where the switch dials out to the application: the adapter listens, and here the
/// "switch's" outgoing connection is a relay to the fake switch.
#[tokio::test]
async fn in_listen_mode_the_switch_connects_to_the_adapter() {
    let (switch, mut h, port) = listening("").await;
    let relay = tokio::spawn({
        let fake_addr = switch.addr();
        async move {
            let mut outgoing = dial(port).await;
            let mut fake_side = tokio::net::TcpStream::connect(fake_addr).await.unwrap();
            let _ = tokio::io::copy_bidirectional(&mut outgoing, &mut fake_side).await;
        }
    });
    h.up().await;
    switch.ring(ANI, "1001").await;
    h.expect(
        "Delivered through the switch's connection",
        |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1001"),
    )
    .await;
    h.stop().await;
    relay.abort();
}

#[tokio::test]
async fn a_consult_transfer_keeps_the_callers_call() {
    let (switch, mut h) = started(FakeConfig::default(), "").await;
    let call = answered_call(&switch, &mut h, "1001").await;
    let consult = consult_1002(&mut h, &call).await;
    assert_ne!(consult, call);
    h.expect(
        "the caller held",
        |e| matches!(e, SwitchEvent::Held { call_id, .. } if *call_id == call),
    )
    .await;
    complete_transfer_to_1002(&switch, &mut h, &call, &consult).await;
    // The caller now talks to 1002 on the original call.
    let calls = switch.calls().await;
    let live = calls
        .iter()
        .find(|c| c.id == call)
        .expect("the call goes on");
    assert_eq!(live.calling, ANI);
    assert_eq!(
        live.state_of("1002"),
        Some(ctibridge_csta::fake::PartyState::Connected)
    );
    switch.hangup("1002").await;
    h.expect(
        "the call ends at 1002",
        |e| matches!(e, SwitchEvent::ConnectionCleared { call_id, .. } if *call_id == call),
    )
    .await;
    h.stop().await;
}

#[tokio::test]
async fn a_consultation_becomes_a_conference_and_a_supervisor_listens_in() {
    let (switch, mut h) = started(FakeConfig::default(), "").await;
    let call = answered_call(&switch, &mut h, "1001").await;
    let consult = consult_1002(&mut h, &call).await;
    switch.answer("1002").await;
    h.ok(Command::Conference {
        call_id: call.clone(),
        device: "1001".into(),
        to: None,
        consult_call_id: Some(consult),
    })
    .await;
    h.expect("Conferenced", |e| matches!(e, SwitchEvent::Conferenced { call_id, added, .. } if *call_id == call && added == "1002"))
        .await;

    h.ok(Command::Monitor {
        call_id: call.clone(),
        device: "1001".into(),
        supervisor_device: "2001".into(),
        mode: MonitorMode::Silent,
    })
    .await;
    let calls = switch.calls().await;
    let live = calls.iter().find(|c| c.id == call).unwrap();
    let supervisor = live
        .parties
        .iter()
        .find(|p| p.device == "2001")
        .expect("2001 joined");
    assert!(supervisor.silent, "a silent monitor joins silently");
    let whisper = h
        .command(Command::Monitor {
            call_id: call.clone(),
            device: "1001".into(),
            supervisor_device: "2001".into(),
            mode: MonitorMode::Whisper,
        })
        .await;
    assert!(
        matches!(whisper, Err(CommandError::NotSupported(_))),
        "{whisper:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn digits_and_a_not_ready_reason_reach_the_switch() {
    let (switch, mut h) = started(FakeConfig::default(), "").await;
    let call = answered_call(&switch, &mut h, "1001").await;
    h.ok(Command::Dtmf {
        call_id: call.clone(),
        device: "1001".into(),
        digits: "12#".into(),
    })
    .await;
    assert_eq!(switch.digits(&call).await, "12#");

    h.ok(Command::AgentLogin {
        agent: "5002".into(),
        device: "1002".into(),
        password: Some("1234".into()),
    })
    .await;
    let wrong = h
        .command(Command::AgentLogin {
            agent: "5001".into(),
            device: "1001".into(),
            password: Some("0000".into()),
        })
        .await;
    assert!(
        matches!(&wrong, Err(CommandError::Rejected(m)) if m.contains("invalidAgentPassword")),
        "{wrong:?}"
    );
    h.ok(Command::SetAgentState {
        agent: "5002".into(),
        device: "1002".into(),
        state: AgentStateRequest::NotReady {
            reason: Some("lunch".into()),
        },
    })
    .await;
    h.expect("NotReady with its reason", |e| matches!(e, SwitchEvent::NotReady { agent, reason: Some(r), .. } if agent == "5002" && r == "lunch"))
        .await;
    let agent = switch.agent_state("5002").await.unwrap();
    assert_eq!(agent.reason.as_deref(), Some("lunch"));
    h.stop().await;
}

#[tokio::test]
async fn after_a_link_drop_mid_call_the_snapshot_tells_what_changed() {
    let (switch, mut h) = started(FakeConfig::default(), "").await;
    let ended = answered_call(&switch, &mut h, "1001").await;
    let ringing = switch.ring(ANI, "1002").await;
    h.expect(
        "Delivered at 1002",
        |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1002"),
    )
    .await;

    switch.set_accepting(false).await;
    assert!(switch.drop_link().await);
    h.expect("LinkDown", |e| matches!(e, SwitchEvent::LinkDown { .. }))
        .await;
    let refused = h
        .command(Command::Hangup {
            call_id: ringing.clone(),
            device: "1002".into(),
        })
        .await;
    assert_eq!(refused, Err(CommandError::SwitchUnavailable));
    // While the link is down the first call ends and a new one rings.
    switch.hangup("1001").await;
    let started_meanwhile = switch.ring("+442079460000", "1001").await;
    switch.set_accepting(true).await;

    let snapshot = h.up().await;
    let ids: Vec<&str> = snapshot.calls.iter().map(|c| c.call_id.as_str()).collect();
    assert!(
        !ids.contains(&ended.as_str()),
        "the ended call is gone: {snapshot:?}"
    );
    let new = snapshot
        .calls
        .iter()
        .find(|c| c.call_id == started_meanwhile)
        .expect("the call that started during the outage");
    assert_eq!(new.calling.as_deref(), Some("+442079460000"));
    assert_eq!(new.parties[0].device, "1001");
    assert_eq!(new.parties[0].state, PartyState::Alerting);
    let still = snapshot
        .calls
        .iter()
        .find(|c| c.call_id == ringing)
        .expect("the call still ringing at 1002");
    assert_eq!(still.parties[0].state, PartyState::Alerting);
    // Monitoring is back: new traffic flows.
    switch.answer("1002").await;
    h.expect(
        "Established after the reconnection",
        |e| matches!(e, SwitchEvent::Established { call_id, .. } if *call_id == ringing),
    )
    .await;
    h.stop().await;
}

#[tokio::test]
async fn garbage_and_broken_messages_from_the_switch_cost_nothing_else() {
    let (switch, mut h) = started(FakeConfig::default(), "").await;
    assert!(
        switch
            .inject_raw(b"\x16\x03\x01 not csta at all \xff\xfe".to_vec())
            .await
    );
    let broken = b"<DeliveredEvent><connection><callID>1</callID></DeliveredEvent>";
    let mut frame = vec![0, 0];
    frame.extend_from_slice(&((broken.len() + 8) as u16).to_be_bytes());
    frame.extend_from_slice(b"9999");
    frame.extend_from_slice(broken);
    assert!(switch.inject_raw(frame).await);
    switch.ring(ANI, "1001").await;
    h.expect(
        "Delivered after the garbage",
        |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1001"),
    )
    .await;
    assert!(
        !h.seen
            .iter()
            .any(|e| matches!(e, SwitchEvent::LinkDown { .. })),
        "the link stayed up: {:?}",
        h.seen
    );
    assert_eq!(switch.connections_accepted().await, 1);
    h.stop().await;
}

#[tokio::test]
async fn the_session_is_kept_alive_and_heartbeats_are_answered() {
    let config = FakeConfig {
        credentials: Some(("ctibridge".into(), "secret".into())),
        heartbeat: Some(Duration::from_millis(200)),
        heartbeat_strict: true,
        ..FakeConfig::default()
    };
    let (switch, mut h) = started(
        config,
        "username = 'ctibridge'\npassword = 'secret'\nsession_duration_s = 1\nheartbeat_s = 0.3",
    )
    .await;
    h.none(Duration::from_millis(2500), |e| {
        matches!(e, SwitchEvent::LinkDown { .. })
    })
    .await;
    let received = switch.received().await;
    assert!(
        received.iter().any(|r| r == "ResetApplicationSessionTimer"),
        "{received:?}"
    );
    assert!(
        received.iter().any(|r| r == "SystemStatus"),
        "our heartbeat: {received:?}"
    );
    assert!(
        received.iter().any(|r| r == "SystemStatusResponse"),
        "{received:?}"
    );
    assert_eq!(switch.connections_accepted().await, 1);
    h.stop().await;
    // The switch reads the goodbye after the adapter has gone.
    let deadline = tokio::time::Instant::now() + common::WAIT;
    while !switch
        .received()
        .await
        .iter()
        .any(|r| r == "StopApplicationSession")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a clean stop ends the session"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_refused_login_is_reported_and_retried() {
    let config = FakeConfig {
        credentials: Some(("ctibridge".into(), "secret".into())),
        ..FakeConfig::default()
    };
    let switch = fake(config).await;
    let mut h = Harness::start(build(&settings(
        &switch,
        &DEVICES,
        "username = 'ctibridge'\npassword = 'wrong'",
    )));
    let down = h
        .expect("LinkDown", |e| matches!(e, SwitchEvent::LinkDown { .. }))
        .await;
    let SwitchEvent::LinkDown { reason } = down else {
        unreachable!()
    };
    assert!(
        reason.contains("refused the application session"),
        "{reason}"
    );
    assert!(reason.contains("invalidApplicationInfo"), "{reason}");
    // It keeps trying (with backoff) without reporting every attempt.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(switch.connections_accepted().await >= 2);
    h.none(Duration::from_millis(100), |e| {
        matches!(e, SwitchEvent::LinkDown { .. })
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn route_requests_are_answered_or_fall_back_to_the_default() {
    route_dialogue(FakeConfig::default(), "").await
}

/// The same dialogue over ASN.1 BER (ECMA-285): routeRegister, the switch's
/// routeRequest, our routeSelectRequest, and routeSelectRequest with
/// route_default when nobody chose.
#[tokio::test]
async fn route_requests_over_ber_phase_3_are_answered_or_fall_back_to_the_default() {
    let config = FakeConfig {
        encoding: Encoding::Ber(BerOptions::new(CstaPhase::Three)),
        ..FakeConfig::default()
    };
    route_dialogue(config, "encoding = 'ber'\nphase = 3\n").await
}

async fn route_dialogue(config: FakeConfig, extra: &str) {
    let config = FakeConfig {
        route_timeout: Duration::from_secs(5),
        ..config
    };
    let (switch, mut h) = started(
        config,
        &format!("{extra}route_points = ['7000']\nroute_timeout_ms = 400\nroute_default = '1001'"),
    )
    .await;
    assert!(switch.received().await.iter().any(|r| r == "RouteRegister"));

    let routed = tokio::spawn({
        let switch = switch.clone();
        async move { switch.route(ANI, "7000").await }
    });
    let request = h
        .expect("RouteRequest", |e| {
            matches!(e, SwitchEvent::RouteRequest { .. })
        })
        .await;
    let SwitchEvent::RouteRequest {
        route_id,
        calling,
        called,
        ..
    } = request
    else {
        unreachable!()
    };
    assert_eq!(calling.as_deref(), Some(ANI));
    assert_eq!(called.as_deref(), Some("7000"));
    h.ok(Command::RouteSelect {
        route_id: route_id.clone(),
        destination: "1002".into(),
    })
    .await;
    assert_eq!(routed.await.unwrap(), "1002");
    h.expect(
        "Delivered at the chosen device",
        |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1002"),
    )
    .await;
    // A late answer to a finished dialogue is an error, not a second route.
    let late = h
        .command(Command::RouteSelect {
            route_id,
            destination: "1001".into(),
        })
        .await;
    assert!(
        matches!(late, Err(CommandError::CallNotFound(_))),
        "{late:?}"
    );

    // Nobody answers: route_default after route_timeout_ms.
    let fallback = switch.route(ANI, "7000").await;
    assert_eq!(fallback, "1001");
    h.stop().await;
}

/// Listening, a switch that reconnects while its old connection still looks open
/// (it restarted, or saw the link die first) is taken at once, not after the old
/// one times out.
#[tokio::test]
async fn in_listen_mode_a_new_connection_from_the_switch_replaces_the_old() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (switch, mut h, port) = listening("heartbeat_s = 0").await;
    let dial_adapter = move || dial(port);
    // The first connection: relayed, but when the fake side goes away the adapter
    // side stays open and silent, as a half-dead link does.
    let first = tokio::spawn({
        let fake_addr = switch.addr();
        async move {
            let to_adapter = dial_adapter().await;
            let to_switch = tokio::net::TcpStream::connect(fake_addr).await.unwrap();
            let (mut ar, mut aw) = to_adapter.into_split();
            let (mut sr, mut sw) = to_switch.into_split();
            let up = tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = ar.read(&mut buf).await {
                    if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = sr.read(&mut buf).await {
                if n == 0 || aw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            up.abort();
            // Hold the adapter side open.
            std::future::pending::<()>().await;
            drop(aw);
        }
    });
    h.up().await;
    // The switch comes back on a new connection (the fake drops the old one).
    let second = tokio::spawn({
        let fake_addr = switch.addr();
        async move {
            let mut to_adapter = dial_adapter().await;
            let mut to_switch = tokio::net::TcpStream::connect(fake_addr).await.unwrap();
            let _ = tokio::io::copy_bidirectional(&mut to_adapter, &mut to_switch).await;
        }
    });
    let down = h
        .expect("LinkDown", |e| matches!(e, SwitchEvent::LinkDown { .. }))
        .await;
    assert!(
        matches!(&down, SwitchEvent::LinkDown { reason } if reason.contains("new connection")),
        "{down:?}"
    );
    h.up().await;
    switch.ring(ANI, "1001").await;
    h.expect(
        "Delivered on the new connection",
        |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1001"),
    )
    .await;
    h.stop().await;
    first.abort();
    second.abort();
}

/// OpenScape Voice names the ringing, answered and cleared connections by their
/// device alone and gives a transferred call a new id. The adapter finds the call
/// by its devices, addresses it the way the switch names it at each step, and after
/// the transfer hangs up the target on the call's new id.
#[tokio::test]
async fn openscape_voice_consult_transfer_then_hang_up_at_the_target() {
    let config = FakeConfig {
        dialect: Dialect::OpenScapeVoice,
        ..FakeConfig::default()
    };
    let (switch, mut h) = started(config, "").await;
    let first = switch.ring(ANI, "1001").await;
    let ring = h
        .expect("Delivered at 1001", |e| {
            matches!(e, SwitchEvent::Delivered { device, calling: Some(c), .. } if device == "1001" && c == ANI)
        })
        .await;
    let call = ring.call_id().unwrap().to_string();
    assert!(call.starts_with('~'), "a made-up id: {call}");
    h.ok(Command::Answer {
        call_id: call.clone(),
        device: "1001".into(),
    })
    .await;
    h.expect(
        "Established at 1001",
        |e| matches!(e, SwitchEvent::Established { call_id, device, .. } if *call_id == call && device == "1001"),
    )
    .await;
    let consult = consult_1002(&mut h, &call).await;
    h.expect(
        "the caller held, on the same call",
        |e| matches!(e, SwitchEvent::Held { call_id, .. } if *call_id == call),
    )
    .await;
    complete_transfer_to_1002(&switch, &mut h, &call, &consult).await;
    let calls = switch.calls().await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    let renamed = calls[0].id.clone();
    assert!(
        renamed != consult && renamed != first,
        "the switch gave the call a new id"
    );
    // The target hangs up through call control: the command reaches the call
    // under the id the switch uses now.
    h.ok(Command::Hangup {
        call_id: call.clone(),
        device: "1002".into(),
    })
    .await;
    h.expect(
        "the call ends at 1002",
        |e| matches!(e, SwitchEvent::ConnectionCleared { call_id, device, .. } if *call_id == call && device == "1002"),
    )
    .await;
    assert!(switch.calls().await.is_empty());
    h.stop().await;
}

/// OpenScape Voice gives a conference a new call id too: the parties' later
/// hang-ups go to the call under that id, and the call goes on until the last.
#[tokio::test]
async fn openscape_voice_conference_then_the_parties_hang_up() {
    let config = FakeConfig {
        dialect: Dialect::OpenScapeVoice,
        ..FakeConfig::default()
    };
    let (switch, mut h) = started(config, "").await;
    let first = switch.ring(ANI, "1001").await;
    let call = h
        .expect(
            "Delivered at 1001",
            |e| matches!(e, SwitchEvent::Delivered { device, .. } if device == "1001"),
        )
        .await
        .call_id()
        .unwrap()
        .to_string();
    h.ok(Command::Answer {
        call_id: call.clone(),
        device: "1001".into(),
    })
    .await;
    let consult = consult_1002(&mut h, &call).await;
    switch.answer("1002").await;
    h.expect("1002 answers the consultation", |e| {
        matches!(e, SwitchEvent::Established { call_id, device, .. } if *call_id == consult && device == "1002")
    })
    .await;
    h.ok(Command::Conference {
        call_id: call.clone(),
        device: "1001".into(),
        to: None,
        consult_call_id: Some(consult.clone()),
    })
    .await;
    h.expect("Conferenced", |e| {
        matches!(e, SwitchEvent::Conferenced { call_id, added, .. } if *call_id == call && added == "1002")
    })
    .await;
    let calls = switch.calls().await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].id != first && calls[0].id != consult, "a new id");
    h.ok(Command::Hangup {
        call_id: call.clone(),
        device: "1002".into(),
    })
    .await;
    h.expect("1002 leaves the conference", |e| {
        matches!(e, SwitchEvent::ConnectionCleared { call_id, device, .. } if *call_id == call && device == "1002")
    })
    .await;
    assert_eq!(switch.calls().await[0].parties.len(), 2, "the call goes on");
    h.ok(Command::Hangup {
        call_id: call.clone(),
        device: "1001".into(),
    })
    .await;
    h.expect("1001 leaves", |e| {
        matches!(e, SwitchEvent::ConnectionCleared { call_id, device, .. } if *call_id == call && device == "1001")
    })
    .await;
    h.stop().await;
}
