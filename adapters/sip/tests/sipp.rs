//! The adapter against SIPp playing the PBX (scenarios in tests/sipp/): a real SIP
//! stack answers and checks our SUBSCRIBEs (its `verifyauth` checks our digest
//! answer) and sends NOTIFY flows, or plays a uaCSTA server (ECMA TR/87). Skipped, with a notice, when `sipp` is not on
//! PATH (Debian/Ubuntu: `apt-get install sip-tester`).

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ctibridge_adapter::{
    AdapterEvent, AdapterLink, Command as SwitchCommand, CommandError, CommandOk, CommandRequest,
    EngineSide, SwitchEvent, SwitchSettings,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn sipp_available() -> bool {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!(
            "NOTICE: sipp is not on PATH; SIPp scenarios skipped (apt-get install sip-tester)"
        );
    }
    found
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// SIPp as the PBX on `port`, running `scenario` for one call.
fn sipp(scenario: &str, port: u16) -> Child {
    sipp_on(scenario, port, "u1")
}

/// SIPp on transport `t` (`u1` UDP, `t1` TCP), for one call.
fn sipp_on(scenario: &str, port: u16, t: &str) -> Child {
    sipp_calls(scenario, port, t, 1)
}

/// SIPp running `scenario` until `calls` calls (dialogs: a subscription, an
/// INVITE) have passed through it.
fn sipp_calls(scenario: &str, port: u16, t: &str, calls: u32) -> Child {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(scenario);
    let log = std::env::temp_dir().join(format!("ctibridge-sipp-{port}-{scenario}.log"));
    Command::new("sipp")
        .args(["-sf", path.to_str().unwrap()])
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-t",
            t,
            "-m",
            &calls.to_string(),
            "-nostdin",
            "-timeout",
            "30s",
            "-timeout_error",
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sipp starts")
}

/// Wait for SIPp to finish; true when its scenario passed.
async fn passed(mut child: Child) -> bool {
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().ok();
    false
}

struct Running {
    /// Commands go to the adapter here (and while it lives, the adapter runs).
    engine: EngineSide,
    events: mpsc::Receiver<(String, AdapterEvent)>,
    shutdown: CancellationToken,
    local: u16,
}

fn start_adapter(pbx_port: u16, extra: &str) -> Running {
    start_in_mode(pbx_port, "dialog", extra)
}

fn start_in_mode(pbx_port: u16, mode: &str, extra: &str) -> Running {
    let local = free_udp_port();
    let text = format!(
        "name='pbx'\nadapter='sip'\ndevices=['1001']\nmode='{mode}'\nhost='127.0.0.1'\nport={pbx_port}\n\
         local='127.0.0.1:{local}'\ndomain='sipp.test'\nusername='ctibridge'\npassword='s3cret'\n\
         reconnect_min_s=0.1\nreconnect_max_s=0.5\n{extra}"
    );
    let table: toml::Table = toml::from_str(&text).unwrap();
    let settings = SwitchSettings {
        name: "pbx".into(),
        adapter: "sip".into(),
        devices: vec!["1001".into()],
        table,
    };
    let adapter = (ctibridge_sip::factory().build)(&settings).expect("builds");
    let (tx, rx) = mpsc::channel(64);
    let shutdown = CancellationToken::new();
    let (link, engine) = AdapterLink::new("pbx", tx, shutdown.clone());
    tokio::spawn(adapter.run(link));
    Running {
        engine,
        events: rx,
        shutdown,
        local,
    }
}

impl Running {
    async fn next(&mut self) -> SwitchEvent {
        tokio::time::timeout(Duration::from_secs(15), self.events.recv())
            .await
            .expect("an event in time")
            .expect("adapter running")
            .1
            .event
    }
}

#[tokio::test]
async fn challenge_subscribe_and_a_call_rings_is_answered_and_ends() {
    dialog_flow("u1", "").await;
}

#[tokio::test]
async fn the_same_over_tcp() {
    dialog_flow("t1", "transport = 'tcp'\n").await;
}

async fn dialog_flow(t: &str, extra: &str) {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    let pbx = sipp_on("dialog_flow.xml", port, t);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut adapter = start_adapter(port, extra);
    assert_eq!(adapter.next().await, SwitchEvent::LinkUp);
    assert!(matches!(adapter.next().await, SwitchEvent::Snapshot(s) if s.calls.is_empty()));
    // Garbage datagrams at our port do not disturb the link.
    let stray = UdpSocket::bind("127.0.0.1:0").unwrap();
    stray
        .send_to(b"\x16\x03\x01 not sip at all", ("127.0.0.1", adapter.local))
        .unwrap();
    stray
        .send_to(b"OPTIONS nonsense\r\n\r\n", ("127.0.0.1", adapter.local))
        .unwrap();
    assert_eq!(
        adapter.next().await,
        SwitchEvent::Delivered {
            call_id: "9c1e77a0b3@10.9.8.7".into(),
            device: "1001".into(),
            calling: Some("+14155550123".into()),
            called: Some("1001".into()),
            original_called: None,
            trunk: None,
            queue: None,
            digits: None,
        }
    );
    assert!(
        matches!(adapter.next().await, SwitchEvent::Established { call_id, device, .. }
        if call_id == "9c1e77a0b3@10.9.8.7" && device == "1001")
    );
    // The stale repeat of version 1 and the broken body are answered and ignored:
    // the next event is the hang-up.
    assert!(
        matches!(adapter.next().await, SwitchEvent::ConnectionCleared { call_id, .. }
        if call_id == "9c1e77a0b3@10.9.8.7")
    );
    assert!(
        passed(pbx).await,
        "SIPp's scenario failed (see its log in the temp dir)"
    );
    adapter.shutdown.cancel();
}

#[tokio::test]
async fn a_481_after_a_pbx_restart_resubscribes_and_adopts_the_live_call() {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    let before = sipp("restart_before.xml", port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut adapter = start_adapter(port, "");
    assert_eq!(adapter.next().await, SwitchEvent::LinkUp);
    adapter.next().await; // snapshot
    assert!(matches!(
        adapter.next().await,
        SwitchEvent::Delivered { .. }
    ));
    assert!(passed(before).await, "first PBX run");
    let after = sipp("restart_after.xml", port);
    // The refresh was answered 481: the adapter subscribes again, the restarted
    // PBX's full state (version 0) is taken, and the call is answered, not
    // delivered a second time.
    let event = adapter.next().await;
    assert!(
        matches!(&event, SwitchEvent::Established { call_id, .. } if call_id == "9c1e77a0b3@10.9.8.7"),
        "{event:?}"
    );
    assert!(passed(after).await, "restarted PBX run");
    adapter.shutdown.cancel();
}

#[tokio::test]
async fn a_pbx_that_does_not_answer_is_named_and_retried() {
    // No SIPp needed: nothing listens on this port.
    let port = free_udp_port();
    let mut adapter = start_adapter(port, "timer_t1_ms = 10\n");
    let event = adapter.next().await;
    let SwitchEvent::LinkDown { reason } = event else {
        panic!("{event:?}")
    };
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
    assert!(
        reason.contains("no answer") || reason.contains("refused"),
        "{reason}"
    );
    adapter.shutdown.cancel();
}

/// A click-to-dial from 1001 to `to` against SIPp playing `scenario` (the
/// subscription for 1001 is its first dialog, the dial its second): the command's
/// answer, once SIPp's scenario has passed.
async fn dial_against(scenario: &str, to: &str) -> Option<Result<CommandOk, CommandError>> {
    dial_against_calls(scenario, to, 2)
        .await
        .map(|(result, _)| result)
}

/// [`dial_against`] for a scenario of `calls` dialogs (the REFER fallback adds our
/// call to the destination), with the events the engine got after the snapshot.
async fn dial_against_calls(
    scenario: &str,
    to: &str,
    calls: u32,
) -> Option<(Result<CommandOk, CommandError>, Vec<SwitchEvent>)> {
    if !sipp_available() {
        return None;
    }
    let port = free_udp_port();
    let pbx = sipp_calls(scenario, port, "u1", calls);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut adapter = start_adapter(port, "");
    assert_eq!(adapter.next().await, SwitchEvent::LinkUp);
    adapter.next().await; // snapshot
    let (request, answer) = CommandRequest::new(SwitchCommand::MakeCall {
        from: "1001".into(),
        to: to.into(),
    });
    adapter.engine.commands.send(request).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(15), answer)
        .await
        .expect("an answer in time")
        .expect("answered");
    assert!(
        passed(pbx).await,
        "SIPp's scenario {scenario} failed (see its log in the temp dir)"
    );
    let mut events = Vec::new();
    while let Ok((_, event)) = adapter.events.try_recv() {
        events.push(event.event);
    }
    adapter.shutdown.cancel();
    Some((result, events))
}

#[tokio::test]
async fn click_to_dial_invites_the_agents_phone_with_digest_and_refers_it() {
    if let Some(result) = dial_against("dial_flow.xml", "+442079460123").await {
        assert_eq!(result, Ok(CommandOk::default()));
    }
}

/// Asterisk accepts the REFER, then reports the number unknown (a NOTIFY 404).
#[tokio::test]
async fn a_number_the_pbx_reports_unknown_after_accepting_the_refer_is_an_error() {
    if let Some(result) = dial_against("dial_unknown_number.xml", "9999").await {
        let err = result.unwrap_err();
        assert_eq!(err.code(), "invalid_destination", "{err}");
        assert!(err.to_string().contains("404 Not Found"), "{err}");
    }
}

/// The phone refuses the REFER (405): the adapter calls the destination itself,
/// joins the phone to it by re-INVITE and passes the phone's BYE on; SIPp checks
/// the offer and answer went across and that the destination got the BYE.
#[tokio::test]
async fn a_refused_refer_falls_back_to_reinvite_and_the_bye_is_passed_on() {
    let to = "+442079460123";
    if let Some((result, events)) = dial_against_calls("dial_refer_refused.xml", to, 3).await {
        let call = result
            .unwrap()
            .call_id
            .expect("the call the adapter placed");
        // The engine hears of the call from the dial: placed, connected, ended by
        // the agent.
        let ours: Vec<_> = events
            .iter()
            .filter(|e| e.call_id() == Some(call.as_str()))
            .map(|e| e.kind())
            .collect();
        assert_eq!(
            ours,
            ["originated", "established", "connection_cleared"],
            "{events:?}"
        );
        assert!(
            matches!(&events[..], [SwitchEvent::Originated { called: Some(n), .. }, ..] if n == to)
        );
    }
}

/// The phone answers REFER with 501; the destination of our own call is busy: the
/// command says so and the phone is left (SIPp checks our ACK and BYE).
#[tokio::test]
async fn a_busy_destination_of_the_fallback_is_named_and_the_phone_left() {
    let scenario = "dial_refer_refused_busy.xml";
    if let Some((result, _)) = dial_against_calls(scenario, "+442079460123", 3).await {
        let err = result.unwrap_err();
        assert_eq!(err.code(), "not_supported", "{err}");
        assert!(err.to_string().contains("is busy (486 Busy Here)"), "{err}");
    }
}

#[tokio::test]
async fn a_dial_string_that_cannot_be_dialled_is_refused_before_any_request() {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    let pbx = sipp("dialog_flow.xml", port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut adapter = start_adapter(port, "");
    assert_eq!(adapter.next().await, SwitchEvent::LinkUp);
    let (request, answer) = CommandRequest::new(SwitchCommand::MakeCall {
        from: "1001".into(),
        to: "0207 946".into(),
    });
    adapter.engine.commands.send(request).await.unwrap();
    let err = answer.await.unwrap().unwrap_err();
    assert_eq!(err.code(), "invalid_destination");
    assert!(err.to_string().contains("position 4"), "{err}");
    let mut pbx = pbx;
    pbx.kill().ok();
    adapter.shutdown.cancel();
}

#[tokio::test]
async fn uacsta_session_with_digest_events_commands_bye_and_resync_after_reconnecting() {
    if !sipp_available() {
        return;
    }
    let port = free_udp_port();
    let pbx = sipp("uacsta_flow.xml", port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut adapter = start_in_mode(port, "uacsta", "server_uri = 'sip:csta@sipp.test'\n");
    assert_eq!(adapter.next().await, SwitchEvent::LinkUp);
    assert!(matches!(adapter.next().await, SwitchEvent::Snapshot(s) if s.calls.is_empty()));
    assert_eq!(
        adapter.next().await,
        SwitchEvent::Delivered {
            call_id: "7b1f0c2a".into(),
            device: "1001".into(),
            calling: Some("+14155550123".into()),
            called: Some("1001".into()),
            original_called: None,
            trunk: None,
            queue: None,
            digits: None,
        }
    );
    let answer = command(
        &adapter,
        SwitchCommand::Answer {
            call_id: "7b1f0c2a".into(),
            device: "1001".into(),
        },
    )
    .await;
    assert_eq!(answer, Ok(CommandOk::default()));
    assert!(
        matches!(adapter.next().await, SwitchEvent::Established { call_id, device, .. }
        if call_id == "7b1f0c2a" && device == "1001")
    );
    // The server answers MakeCall in an INFO of its own, after an empty 200.
    let made = command(
        &adapter,
        SwitchCommand::MakeCall {
            from: "1001".into(),
            to: "+442079460123".into(),
        },
    )
    .await;
    assert_eq!(
        made,
        Ok(CommandOk {
            call_id: Some("7b1f0c99".into())
        })
    );
    assert!(
        matches!(adapter.next().await, SwitchEvent::ConnectionCleared { call_id, .. }
        if call_id == "7b1f0c2a")
    );
    let event = adapter.next().await;
    assert!(
        matches!(&event, SwitchEvent::LinkDown { reason } if reason.contains("BYE")),
        "{event:?}"
    );
    assert!(
        passed(pbx).await,
        "SIPp's scenario failed (see its log in the temp dir)"
    );
    // The server is back: the session is opened again and the snapshot resyncs
    // the call 1001 has now; the session is refreshed; on shutdown we leave it
    // with BYE.
    let restarted = sipp("uacsta_restart.xml", port);
    let event = adapter.next().await;
    assert_eq!(event, SwitchEvent::LinkUp);
    let SwitchEvent::Snapshot(snapshot) = adapter.next().await else {
        panic!("no snapshot after the link came up again")
    };
    assert_eq!(snapshot.calls.len(), 1, "{snapshot:?}");
    assert_eq!(snapshot.calls[0].call_id, "7b1f0d10");
    assert_eq!(snapshot.calls[0].parties[0].device, "1001");
    // The session interval (4 s) is refreshed by re-INVITE at half of it.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    adapter.shutdown.cancel();
    assert!(
        passed(restarted).await,
        "SIPp's restarted server did not see the session through to our BYE"
    );
}

#[tokio::test]
async fn uacsta_refuses_phone_controls_it_has_not_and_commands_before_the_link_is_up() {
    // No SIPp needed: nothing answers, so the link never comes up.
    let port = free_udp_port();
    let adapter = start_in_mode(port, "uacsta", "");
    let early = command(
        &adapter,
        SwitchCommand::Hold {
            call_id: "1".into(),
            device: "1001".into(),
        },
    )
    .await;
    assert_eq!(early.unwrap_err().code(), "switch_unavailable");
    adapter.shutdown.cancel();
}

async fn command(
    adapter: &Running,
    command: SwitchCommand,
) -> Result<CommandOk, ctibridge_adapter::CommandError> {
    let (request, answer) = CommandRequest::new(command);
    adapter.engine.commands.send(request).await.unwrap();
    tokio::time::timeout(Duration::from_secs(15), answer)
        .await
        .expect("an answer in time")
        .expect("answered")
}
