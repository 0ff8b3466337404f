//! End to end, in process: the switch link drops while calls go on in the switch; after
//! the reconnect the engine's picture matches the switch's again.

mod common;

use std::time::Duration;

use common::in_process::InProcess;
use common::*;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_ended_or_started_during_an_outage_are_reconciled() {
    let dir = temp_dir("reconnect");
    let port = free_port();
    // The caller hangs up 300 ms after an answer.
    let config = standard_config(port, &dir, "")
        .replace("queues = [\"8000\"]", "queues = [\"8000\"]\ntalk_ms = 300");
    let daemon = InProcess::start(&config, port).await;
    let url = daemon.url.clone();
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
    let sim = daemon.sim();
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

    daemon.stop().await;
}
