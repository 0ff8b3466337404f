//! End to end, in process: the switch link drops while calls go on in the switch; after
//! the reconnect the engine's picture matches the switch's again.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::*;
use ctibridge::daemon::{self, RunOptions};
use ctibridge_adapter::{Adapter, AdapterFactory, Registry, SettingsError, SwitchSettings};
use ctibridge_sim::{SimAdapter, SimConfig, SimControl};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The control handle of the simulator the daemon built last.
static CONTROL: Mutex<Option<SimControl>> = Mutex::new(None);

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let config: SimConfig = settings.parse(&[])?;
    let (adapter, control) = SimAdapter::with_control(settings.devices.clone(), config);
    *CONTROL.lock().unwrap() = Some(control);
    Ok(Box::new(adapter))
}

fn control() -> SimControl {
    CONTROL.lock().unwrap().clone().expect("simulator built")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_ended_or_started_during_an_outage_are_reconciled() {
    let dir = temp_dir("reconnect");
    let port = free_port();
    // The caller hangs up 300 ms after an answer.
    let config = standard_config(port, &dir, "")
        .replace("queues = [\"8000\"]", "queues = [\"8000\"]\ntalk_ms = 300");
    let mut registry = Registry::new();
    registry.register(AdapterFactory {
        name: "sim",
        summary: "simulator with a test handle",
        example: "",
        build,
        decode: None,
    });
    let loaded = ctibridge::config::load_str(&config, &registry).unwrap();
    let shutdown = CancellationToken::new();
    let options = RunOptions {
        serve_pages: false,
        on_listening: Box::new(|_| {}),
        shutdown: shutdown.clone(),
    };
    let daemon = tokio::spawn(async move { daemon::run(loaded, &registry, options).await });
    let url = format!("ws://127.0.0.1:{port}/v1/ws");
    let deadline = tokio::time::Instant::now() + WAIT;
    while !matches!(http_get(port, "/healthz", &[]).await, Ok((200, _))) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "daemon did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut supervisor, _) = Client::login(&url, SUPERVISOR).await;
    let (mut agent, _) = Client::login(&url, AGENT_1001).await;

    // Call B rings at 1002 through the outage.
    supervisor
        .ok("sim.call", json!({"from": "+14155550124", "to": "1002"}))
        .await;
    let b = supervisor
        .event("call.offered", |d| d["device"] == "1002")
        .await["data"]["call"]
        .clone();
    // Call A is answered at 1001; the link drops at once, and A ends during the outage.
    supervisor
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let a = agent.event("call.offered", |_| true).await["data"]["call"].clone();
    let sim = control();
    agent.ok("call.answer", json!({"call": a})).await;
    sim.drop_link(Duration::from_millis(1500)).await;
    supervisor
        .event("link.down", |d| d["switch"] == "pbx")
        .await;
    let res = agent.req("call.hangup", json!({"call": a})).await;
    assert_eq!(res["error"]["code"], "switch_unavailable", "{res}");
    let (status, _) = http_get(port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 503, "health reports the link down");
    // Call C starts during the outage: its Delivered event is lost with the link.
    tokio::time::sleep(Duration::from_millis(600)).await;
    sim.ring("+14155550199", "1001").await;

    supervisor.event("link.up", |d| d["switch"] == "pbx").await;
    let ended = agent.event("call.ended", |d| d["call"] == a).await;
    assert_eq!(ended["data"]["cause"], "cleared_during_link_outage");
    assert_eq!(ended["data"]["outcome"], "answered");
    let c = agent
        .event("call.offered", |d| d["ani"] == "+14155550199")
        .await;
    assert_eq!(c["data"]["device"], "1001");
    // B is still the same call, popped once only.
    let snapshot_calls = {
        let (mut late, _) = Client::login(&url, SUPERVISOR).await;
        late.event("snapshot", |_| true).await["data"]["calls"].clone()
    };
    let ids: Vec<_> = snapshot_calls
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call"].clone())
        .collect();
    assert!(
        ids.contains(&b) && ids.contains(&c["data"]["call"]) && !ids.contains(&a),
        "{ids:?}"
    );
    while let Some(frame) = supervisor.frame_within(Duration::from_millis(300)).await {
        supervisor.seen.push(frame);
    }
    let b_pops = supervisor
        .seen
        .iter()
        .filter(|f| f["name"] == "call.offered" && f["data"]["call"] == b)
        .count();
    assert_eq!(
        b_pops, 0,
        "no second pop for a call that rang through the outage"
    );

    shutdown.cancel();
    daemon.await.unwrap().unwrap();
}
