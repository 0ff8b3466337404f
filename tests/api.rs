//! End to end: the real daemon with the simulator switch, a real SQLite database and
//! real WebSocket clients on loopback.

mod common;

use std::time::Duration;

use common::*;
use diesel::prelude::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const CONTACTS: &str = "name,phone,company,external_id,url\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1\n";

async fn standard(name: &str) -> Daemon {
    let dir = temp_dir(name);
    let port = free_port();
    let config = standard_config(port, &dir, "");
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        CONTACTS,
    );
    Daemon::start(&dir, port, &config).await
}

#[tokio::test]
async fn screen_pop_with_crm_match_is_answered_and_logged() {
    let daemon = standard("pop").await;
    let (mut agent, welcome) = Client::login(&daemon.url(), AGENT_1001).await;
    assert_eq!(welcome["role"], "agent");
    assert_eq!(welcome["agent"], "1001");
    assert_eq!(welcome["devices"], json!(["1001"]));
    let snapshot = agent.event("snapshot", |_| true).await;
    assert_eq!(snapshot["data"]["resumed"], false);
    assert!(snapshot["data"]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["agent"] == "1001" && a["state"] == "ready"));

    // An outside caller rings agent 1001's extension (the US national form of Ada's number).
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    supervisor
        .ok(
            "sim.call",
            json!({"from": "4155550123", "to": "1001", "digits": "4711"}),
        )
        .await;

    let pop = agent.event("call.offered", |_| true).await;
    assert_eq!(pop["topic"], "agent:1001");
    let data = &pop["data"];
    assert_eq!(data["device"], "1001");
    assert_eq!(data["ani"], "4155550123");
    assert_eq!(data["ani_e164"], "+14155550123");
    assert_eq!(data["digits"], "4711");
    assert_eq!(data["crm"]["pending"], false);
    assert_eq!(data["crm"]["matches"][0]["name"], "Ada Lovelace");
    assert_eq!(data["crm"]["matches"][0]["company"], "Analytical Engines");
    let call = data["call"].as_str().unwrap().to_string();

    agent.ok("call.answer", json!({"call": call})).await;
    let answered = agent
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(answered["data"]["state"], "talking");
    agent.ok("call.hold", json!({"call": call})).await;
    agent
        .event("call.held", |d| d["call"] == call.as_str())
        .await;
    agent.ok("call.retrieve", json!({"call": call})).await;
    agent
        .event("call.retrieved", |d| d["call"] == call.as_str())
        .await;
    agent.ok("call.hangup", json!({"call": call})).await;
    let ended = agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(ended["data"]["outcome"], "answered");
    assert_eq!(ended["data"]["agent"], "1001");

    // The row is durable before call.ended is published: read it straight away.
    let mut conn = sqlite(&daemon.db_url());
    use ctibridge::crm::schema::call_log::dsl as log;
    let (outcome, contact, agent_id, ani_e164): (
        String,
        Option<i32>,
        Option<String>,
        Option<String>,
    ) = log::call_log
        .filter(log::call_id.eq(&call))
        .select((log::outcome, log::contact_id, log::agent, log::ani_e164))
        .first(&mut conn)
        .unwrap();
    assert_eq!(outcome, "answered");
    assert!(contact.is_some());
    assert_eq!(agent_id.as_deref(), Some("1001"));
    assert_eq!(ani_e164.as_deref(), Some("+14155550123"));

    // One pop per call per agent: the whole exchange held exactly one call.offered.
    let pops = agent
        .seen
        .iter()
        .filter(|f| f["name"] == "call.offered")
        .count();
    assert_eq!(pops, 0, "a second call.offered arrived: {:?}", agent.seen);
}

#[tokio::test]
async fn queue_calls_go_to_a_ready_agent_with_the_service() {
    let daemon = standard("queue").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    a2.ok(
        "agent.set_state",
        json!({"state": "not_ready", "reason": "lunch"}),
    )
    .await;
    a2.event("agent.state", |d| d["state"] == "not_ready").await;
    a1.ok(
        "sim.call",
        json!({"from": "+14155550123", "to": "8005550100"}),
    )
    .await;
    let pop = a1.event("call.offered", |_| true).await;
    assert_eq!(pop["data"]["queue"], "8000");
    assert_eq!(pop["data"]["dnis"], "8005550100");
    assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");
    // Agent 1002 is not ready: it never sees the call.
    while let Some(frame) = a2.frame_within(Duration::from_millis(300)).await {
        assert_ne!(frame["name"], "call.offered", "{frame}");
    }
}

#[tokio::test]
async fn click_to_dial_creates_one_call_with_the_client_ref() {
    let daemon = standard("dial").await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let result = agent
        .ok(
            "call.dial",
            json!({"to": "+14155550123", "client_ref": "crm-42"}),
        )
        .await;
    let call = result["call"].as_str().unwrap().to_string();
    assert_eq!(result["client_ref"], "crm-42");
    let originated = agent
        .event("call.originated", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(originated["data"]["client_ref"], "crm-42");
    assert_eq!(originated["data"]["direction"], "out");
    assert_eq!(originated["data"]["device"], "1001");
    // Outbound calls are looked up by the called number; the match follows.
    agent
        .event("call.updated", |d| {
            d["call"] == call.as_str() && d["crm"]["matches"][0]["name"] == "Ada Lovelace"
        })
        .await;
    agent
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    agent.ok("call.hangup", json!({"call": call})).await;
    let ended = agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(ended["data"]["direction"], "out");

    let res = agent.req("call.dial", json!({"to": "call me maybe"})).await;
    assert_eq!(res["error"]["code"], "invalid_destination", "{res}");
    let res = agent
        .req("call.hangup", json!({"call": "no-such-call"}))
        .await;
    assert_eq!(res["error"]["code"], "call_not_found", "{res}");
}

#[tokio::test]
async fn agent_state_changes_reach_the_supervisor_and_not_other_agents() {
    let daemon = standard("state").await;
    let (mut supervisor, welcome) = Client::login(&daemon.url(), SUPERVISOR).await;
    assert_eq!(welcome["role"], "supervisor");
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    a1.ok(
        "agent.set_state",
        json!({"state": "not_ready", "reason": "lunch"}),
    )
    .await;
    let seen = supervisor
        .event("agent.state", |d| {
            d["agent"] == "1001" && d["state"] == "not_ready"
        })
        .await;
    assert_eq!(seen["data"]["reason"], "lunch");
    assert_eq!(seen["data"]["phone"], "idle");
    a1.ok("agent.set_state", json!({"state": "acw"})).await;
    supervisor
        .event("agent.state", |d| {
            d["agent"] == "1001" && d["state"] == "acw"
        })
        .await;
    a1.ok("agent.logout", json!({})).await;
    supervisor
        .event("agent.state", |d| {
            d["agent"] == "1001" && d["state"] == "logged_out"
        })
        .await;
    a1.ok("agent.login", json!({})).await;
    supervisor
        .event("agent.state", |d| {
            d["agent"] == "1001" && d["state"] == "not_ready"
        })
        .await;
    a1.ok("agent.set_state", json!({"state": "ready"})).await;
    supervisor
        .event("agent.state", |d| {
            d["agent"] == "1001" && d["state"] == "ready"
        })
        .await;
    // Agent 1002 saw its snapshot and nothing of agent 1001.
    let mut frames = Vec::new();
    while let Some(frame) = a2.frame_within(Duration::from_millis(300)).await {
        frames.push(frame);
    }
    assert!(
        frames
            .iter()
            .all(|f| f["data"]["agent"] != "1001" || f["name"] == "snapshot"),
        "{frames:?}"
    );
    let res = a1
        .req("agent.set_state", json!({"state": "ready", "reason": "x"}))
        .await;
    assert_eq!(res["error"]["code"], "invalid_params");
}

#[tokio::test]
async fn an_agent_may_not_act_on_another_extension() {
    let daemon = standard("forbidden").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    let res = a1
        .req("call.dial", json!({"from": "1002", "to": "+14155550123"}))
        .await;
    assert_eq!(res["error"]["code"], "forbidden", "{res}");
    let res = a1
        .req(
            "agent.set_state",
            json!({"agent": "1002", "state": "ready"}),
        )
        .await;
    assert_eq!(res["error"]["code"], "forbidden", "{res}");
    let res = a1
        .req("agent.login", json!({"agent": "1001", "extension": "1002"}))
        .await;
    assert_eq!(res["error"]["code"], "forbidden", "{res}");
    let res = a1
        .req("supervisor.force_release", json!({"call": "x"}))
        .await;
    assert_eq!(res["error"]["code"], "forbidden", "{res}");

    a2.ok("sim.call", json!({"from": "+14155550123", "to": "1002"}))
        .await;
    let pop = a2.event("call.offered", |_| true).await;
    let call = pop["data"]["call"].as_str().unwrap();
    let res = a1.req("call.answer", json!({"call": call})).await;
    assert_eq!(res["error"]["code"], "forbidden", "{res}");
    let res = a1
        .req("call.answer", json!({"call": call, "device": "1002"}))
        .await;
    assert_eq!(res["error"]["code"], "forbidden", "{res}");
    // Agent 1001 never saw 1002's call.
    while let Some(frame) = a1.frame_within(Duration::from_millis(300)).await {
        assert!(frame["data"]["call"] != call, "{frame}");
    }
}

#[tokio::test]
async fn a_bad_token_is_closed_with_4001() {
    let daemon = standard("badtoken").await;
    let mut client = Client::connect(&daemon.url()).await;
    client
        .send(json!({"type": "req", "id": 1, "method": "call.dial", "params": {"to": "1"}}))
        .await;
    let res = client.frame().await;
    assert_eq!(res["error"]["code"], "unauthenticated");
    client
        .send(json!({"type": "hello", "token": "not-a-token"}))
        .await;
    let error = client.frame().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["code"], "unauthenticated");
    assert_eq!(client.closed().await, 4001);
}

#[tokio::test]
async fn no_hello_before_the_deadline_is_closed_with_4001() {
    let dir = temp_dir("deadline");
    let port = free_port();
    let daemon = Daemon::start(
        &dir,
        port,
        &standard_config(port, &dir, "auth_timeout_s = 1"),
    )
    .await;
    let mut client = Client::connect(&daemon.url()).await;
    let error = client.frame().await;
    assert_eq!(error["error"]["code"], "unauthenticated");
    assert_eq!(client.closed().await, 4001);
}

#[tokio::test]
async fn resume_returns_exactly_the_missed_events_in_scope() {
    let daemon = standard("resume").await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let (mut agent, welcome) = Client::login(&daemon.url(), AGENT_1001).await;
    let snapshot = agent.event("snapshot", |_| true).await;
    let session = welcome["session"].as_str().unwrap().to_string();
    let last_seq = snapshot["seq"].as_u64().unwrap();
    agent.ws.close(None).await.unwrap();
    drop(agent);

    // While agent 1001 is away: a call for it and one for agent 1002.
    supervisor
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let mine = supervisor
        .event("call.offered", |d| d["device"] == "1001")
        .await;
    supervisor
        .ok("sim.call", json!({"from": "+14155550124", "to": "1002"}))
        .await;
    let other = supervisor
        .event("call.offered", |d| d["device"] == "1002")
        .await;
    supervisor
        .ok(
            "agent.set_state",
            json!({"agent": "1001", "state": "not_ready", "reason": "break"}),
        )
        .await;
    let state = supervisor
        .event("agent.state", |d| {
            d["agent"] == "1001" && d["state"] == "not_ready"
        })
        .await;

    let mut resumed = Client::connect(&daemon.url()).await;
    resumed.send(json!({"type": "hello", "token": AGENT_1001, "resume": {"session": session, "seq": last_seq}})).await;
    let welcome = resumed.frame().await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    assert_eq!(welcome["session"], session.as_str());
    let mut missed = Vec::new();
    while let Some(frame) = resumed.frame_within(Duration::from_millis(500)).await {
        missed.push(frame);
    }
    let seqs: Vec<u64> = missed.iter().map(|f| f["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates: {seqs:?}"
    );
    assert!(seqs.iter().all(|s| *s > last_seq));
    assert!(
        missed.iter().all(|f| f["name"] != "snapshot"),
        "a good resume sends no snapshot"
    );
    assert!(
        missed.iter().any(|f| f["seq"] == mine["seq"]),
        "the missed pop is replayed: {missed:?}"
    );
    assert!(
        missed.iter().any(|f| f["seq"] == state["seq"]),
        "the missed state change is replayed"
    );
    let other_call = &other["data"]["call"];
    assert!(
        missed.iter().all(|f| &f["data"]["call"] != other_call),
        "nothing of agent 1002's call: {missed:?}"
    );

    // A session the daemon does not know gets a fresh snapshot instead.
    let mut stranger = Client::connect(&daemon.url()).await;
    stranger.send(json!({"type": "hello", "token": AGENT_1001, "resume": {"session": "elsewhere-1", "seq": 3}})).await;
    let welcome = stranger.frame().await;
    assert_eq!(welcome["resumed"], false);
    let snapshot = stranger.event("snapshot", |_| true).await;
    assert_eq!(snapshot["data"]["resumed"], false);
    assert!(snapshot["data"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["call"] == mine["data"]["call"]));
}

#[tokio::test]
async fn malformed_frames_get_errors_and_the_connection_goes_on() {
    let daemon = standard("malformed").await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    agent.event("snapshot", |_| true).await;
    for (text, code) in [
        ("{not json", "invalid_message"),
        ("[]", "invalid_message"),
        (r#"{"type":"subscribe"}"#, "invalid_message"),
        (r#"{"type":"req","method":"call.dial"}"#, "invalid_message"),
        (r#"{"type":"hello","token":"x"}"#, "invalid_message"),
    ] {
        agent.send_text(text).await;
        let frame = agent.frame().await;
        assert_eq!(frame["type"], "error", "{text} → {frame}");
        assert_eq!(frame["error"]["code"], code, "{text} → {frame}");
        assert!(!frame["error"]["message"].as_str().unwrap().is_empty());
    }
    let res = agent.req("call.teleport", json!({})).await;
    assert_eq!(res["error"]["code"], "unknown_method");
    let res = agent.req("call.dial", json!({"too": "1"})).await;
    assert_eq!(res["error"]["code"], "invalid_params");
    let res = agent
        .req("call.transfer", json!({"call": "x", "mode": "sideways"}))
        .await;
    assert_eq!(res["error"]["code"], "invalid_params");
    // Still connected, still the same session: a pop arrives as usual.
    agent
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    agent.event("call.offered", |d| d["device"] == "1001").await;
}

#[tokio::test]
async fn oversized_messages_close_with_1009() {
    let daemon = standard("oversized").await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let big = format!(
        r#"{{"type":"req","id":1,"method":"call.dial","params":{{"to":"{}"}}}}"#,
        "1".repeat(70 * 1024)
    );
    agent.send_text(&big).await;
    assert_eq!(agent.closed().await, 1009);
}

#[tokio::test]
async fn origins_not_allowed_get_403() {
    let daemon = standard("origin").await;
    let upgrade = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let mut evil = upgrade.to_vec();
    evil.push(("Origin", "https://evil.example"));
    let (status, _) = http_get(daemon.port, "/v1/ws", &evil).await.unwrap();
    assert_eq!(status, 403);
    // Allowed: the configured CRM origin, and the daemon's own pages (same origin).
    for origin in [
        "https://crm.example.com".to_string(),
        format!("http://127.0.0.1:{}", daemon.port),
    ] {
        let mut request = daemon.url().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(&origin).unwrap());
        assert!(
            tokio_tungstenite::connect_async(request).await.is_ok(),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn health_and_metrics() {
    let daemon = standard("health").await;
    let (status, body) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["switches"][0]["name"], "pbx");
    assert_eq!(health["switches"][0]["up"], true);
    assert_eq!(health["database"]["up"], true);
    let (status, body) = http_get(daemon.port, "/metrics", &[]).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains("ctibridge_switch_link_up{switch=\"pbx\",adapter=\"sim\"} 1"),
        "{body}"
    );
    // `run` does not serve the demo pages, but does serve the client library.
    let (status, _) = http_get(daemon.port, "/", &[]).await.unwrap();
    assert_eq!(status, 404);
    let (status, js) = http_get(daemon.port, "/cti-client.js", &[]).await.unwrap();
    assert_eq!(status, 200);
    assert!(js.contains("CtiClient"));
}

/// Ring 1001 from Ada, answer; returns the call id.
async fn answered_call(agent: &mut Client) -> String {
    agent
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let pop = agent.event("call.offered", |_| true).await;
    let call = pop["data"]["call"].as_str().unwrap().to_string();
    agent.ok("call.answer", json!({"call": call})).await;
    agent
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    call
}

#[tokio::test]
async fn a_blind_transfer_keeps_the_call_id_and_pops_the_caller_at_the_target() {
    let daemon = standard("blind").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    let call = answered_call(&mut a1).await;
    a1.ok(
        "call.transfer",
        json!({"call": call, "to": "1002", "mode": "blind"}),
    )
    .await;
    let transferred = a1
        .event("call.transferred", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(transferred["data"]["to"], "1002");
    // Agent 1001 does its after-call work while the call goes on at 1002.
    a1.ok("agent.set_state", json!({"state": "acw"})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    a1.ok("agent.set_state", json!({"state": "ready"})).await;
    let pop = a2.event("call.offered", |_| true).await;
    assert_eq!(
        pop["data"]["call"],
        call.as_str(),
        "the same interaction, one stable id"
    );
    assert_eq!(
        pop["data"]["ani"], "+14155550123",
        "the target sees the original caller"
    );
    assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");
    a2.ok("call.answer", json!({"call": call})).await;
    a2.ok("call.hangup", json!({"call": call})).await;
    let ended = a2.event("call.ended", |d| d["call"] == call.as_str()).await;
    assert_eq!(ended["data"]["agent"], "1001");
    assert_eq!(ended["data"]["transferred_to"], "1002");
    let mut conn = sqlite(&daemon.db_url());
    use ctibridge::crm::schema::call_log::dsl as log;
    let acw: Option<f64> = log::call_log
        .filter(log::call_id.eq(&call))
        .select(log::acw_s)
        .first(&mut conn)
        .unwrap();
    assert!(
        acw.unwrap_or(0.0) >= 0.2,
        "the transferring agent's ACW is on the call's row: {acw:?}"
    );
}

#[tokio::test]
async fn a_client_close_is_answered() {
    use futures_util::StreamExt;
    let daemon = standard("close").await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    agent.ws.close(None).await.unwrap();
    loop {
        match tokio::time::timeout(WAIT, agent.ws.next()).await.unwrap() {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("no clean close: {e}"),
        }
    }
}

#[tokio::test]
async fn a_consultation_transfer_merges_into_the_original_call() {
    let daemon = standard("consult").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    let call = answered_call(&mut a1).await;
    let result = a1
        .ok(
            "call.transfer",
            json!({"call": call, "to": "1002", "mode": "consult"}),
        )
        .await;
    let consult = result["consult_call"].as_str().unwrap().to_string();
    assert_ne!(consult, call);
    a1.event("call.held", |d| d["call"] == call.as_str()).await;
    let pop = a2
        .event("call.offered", |d| d["call"] == consult.as_str())
        .await;
    assert_eq!(pop["data"]["direction"], "internal");
    a2.ok("call.answer", json!({"call": consult})).await;
    a2.event("call.answered", |d| d["call"] == consult.as_str())
        .await;
    a1.ok(
        "call.transfer",
        json!({"call": call, "consult_call": consult, "mode": "complete"}),
    )
    .await;
    let done = a2
        .event("call.transferred", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(done["data"]["merged_call"], consult.as_str());
    assert_eq!(
        done["data"]["ani"], "+14155550123",
        "the merged call keeps the caller's ANI"
    );
    let parties: Vec<&str> = done["data"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["device"].as_str().unwrap())
        .collect();
    assert!(
        parties.contains(&"1002") && !parties.contains(&"1001"),
        "{parties:?}"
    );
    // Agent 1002 now talks to the caller on the original call id.
    a2.ok("call.hangup", json!({"call": call})).await;
    let ended = a2.event("call.ended", |d| d["call"] == call.as_str()).await;
    assert_eq!(ended["data"]["outcome"], "answered");
    let res = a2.req("call.hangup", json!({"call": consult})).await;
    assert_eq!(
        res["error"]["code"], "call_not_found",
        "the consultation call no longer exists"
    );
}

#[tokio::test]
async fn a_supervisor_snapshot_carries_calls_agents_links_and_queues() {
    let daemon = standard("snapshot").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    a1.ok("agent.set_state", json!({"state": "not_ready"}))
        .await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    a2.ok("agent.set_state", json!({"state": "not_ready"}))
        .await;
    a2.ok("sim.call", json!({"from": "+14155550123", "to": "8000"}))
        .await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let snapshot = supervisor.event("snapshot", |_| true).await;
    let data = &snapshot["data"];
    assert_eq!(data["links"][0]["up"], true);
    assert_eq!(data["agents"].as_array().unwrap().len(), 2);
    let queued = &data["calls"][0];
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["queue"], "8000");
    let stats = supervisor
        .event("queue.stats", |d| d["queue"] == "8000")
        .await;
    assert_eq!(stats["data"]["waiting"], 1);
    assert_eq!(stats["data"]["offered"], 1);
}

#[tokio::test]
async fn a_call_seen_ended_survives_kill_9_and_ids_are_not_reused() {
    let dir = temp_dir("restart");
    let port = free_port();
    let config = standard_config(port, &dir, "");
    let mut daemon = Daemon::start(&dir, port, &config).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let first = answered_call(&mut agent).await;
    agent.ok("call.hangup", json!({"call": first})).await;
    agent
        .event("call.ended", |d| d["call"] == first.as_str())
        .await;
    // SIGKILL: no shutdown code runs.
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();
    drop(daemon);

    let daemon = Daemon::start(&dir, port, &config).await;
    let mut conn = sqlite(&daemon.db_url());
    use ctibridge::crm::schema::call_log::dsl as log;
    let ids: Vec<String> = log::call_log.select(log::call_id).load(&mut conn).unwrap();
    assert_eq!(ids, vec![first.clone()]);
    // The states the killed run left open were closed; each agent has one open row
    // (the new run's, written soon after its start: polled for).
    use ctibridge::crm::schema::agent_states::dsl as st;
    let deadline = tokio::time::Instant::now() + WAIT;
    let open = loop {
        let mut open: Vec<String> = st::agent_states
            .filter(st::ended_at.is_null())
            .select(st::agent)
            .load(&mut conn)
            .unwrap();
        open.sort();
        if open.len() >= 2 || tokio::time::Instant::now() > deadline {
            break open;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(open, vec!["1001".to_string(), "1002".to_string()]);
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let second = answered_call(&mut agent).await;
    assert_ne!(second, first);
}

#[tokio::test]
async fn requests_beyond_the_rate_limit_are_refused() {
    let dir = temp_dir("rate");
    let port = free_port();
    let config = standard_config(port, &dir, "rate_limit_per_s = 1\nrate_limit_burst = 5");
    let daemon = Daemon::start(&dir, port, &config).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let mut codes = Vec::new();
    for _ in 0..10 {
        let res = agent.req("subscribe", json!({})).await;
        codes.push(res["error"]["code"].as_str().unwrap_or("ok").to_string());
    }
    assert_eq!(codes.iter().filter(|c| *c == "ok").count(), 5, "{codes:?}");
    assert!(codes[5..].iter().all(|c| c == "rate_limited"), "{codes:?}");
    // Refused requests change nothing and the connection stays usable.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    agent
        .ok("subscribe", json!({"topics": ["agent:1001"]}))
        .await;
}

#[tokio::test]
async fn a_resume_after_longer_than_the_lag_limit_still_replays() {
    let dir = temp_dir("lateresume");
    let port = free_port();
    let daemon = Daemon::start(&dir, port, &standard_config(port, &dir, "max_lag_s = 1")).await;
    let (mut agent, welcome) = Client::login(&daemon.url(), AGENT_1001).await;
    let snapshot = agent.event("snapshot", |_| true).await;
    let session = welcome["session"].as_str().unwrap().to_string();
    agent.ws.close(None).await.unwrap();
    drop(agent);
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    supervisor
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let pop = supervisor
        .event("call.offered", |d| d["device"] == "1001")
        .await;
    // Away for longer than the lag limit: the missed events are old, but the client is
    // not behind on its own queue.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut resumed = Client::connect(&daemon.url()).await;
    resumed
        .send(json!({"type": "hello", "token": AGENT_1001, "resume": {"session": session, "seq": snapshot["seq"]}}))
        .await;
    assert_eq!(resumed.frame().await["resumed"], true);
    let replayed = resumed.event("call.offered", |_| true).await;
    assert_eq!(replayed["seq"], pop["seq"]);
}

#[tokio::test]
async fn reports_cover_recorded_calls_for_supervisors_only() {
    let daemon = standard("reports").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    a2.ok(
        "agent.set_state",
        json!({"state": "not_ready", "reason": "meeting"}),
    )
    .await;
    a1.ok("sim.call", json!({"from": "+14155550123", "to": "8000"}))
        .await;
    let pop = a1.event("call.offered", |_| true).await;
    let call = pop["data"]["call"].as_str().unwrap().to_string();
    a1.ok("call.answer", json!({"call": call})).await;
    a1.ok("call.hangup", json!({"call": call})).await;
    a1.event("call.ended", |d| d["call"] == call.as_str()).await;

    let res = a1.req("report.queues", json!({})).await;
    assert_eq!(res["error"]["code"], "forbidden");
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let queues = supervisor.ok("report.queues", json!({})).await;
    let q = &queues["queues"][0];
    assert_eq!(q["queue"], "8000");
    assert_eq!(q["offered"], 1);
    assert_eq!(q["handled"], 1);
    assert_eq!(q["service_level"], 1.0);
    let agents = supervisor
        .ok("report.agents", json!({"from": "2020-01-01"}))
        .await;
    let a2_row = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "1002")
        .unwrap()
        .clone();
    assert!(
        a2_row["not_ready_by_reason"]["meeting"].as_f64().unwrap() >= 0.0,
        "{a2_row}"
    );
    let a1_row = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "1001")
        .unwrap()
        .clone();
    assert_eq!(a1_row["handled"], 1);
    let res = supervisor
        .req("report.agents", json!({"from": "last tuesday"}))
        .await;
    assert_eq!(res["error"]["code"], "invalid_params");

    let out = cli_ok(&[
        "report",
        "queues",
        "--database",
        &daemon.db_url(),
        "--format",
        "json",
    ]);
    let cli: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(cli["queues"][0]["handled"], 1);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_4009_and_others_go_on() {
    use tokio_tungstenite::tungstenite::Message;
    let dir = temp_dir("slow");
    let port = free_port();
    // The queue is small so that the slow client overflows soon, but not so small that a
    // burst of a few calls' events (a busy machine can hold the fast client's connection
    // task back for a moment) overflows the fast client too: each call here makes three
    // events.
    let server = "client_queue = 300\nrate_limit_per_s = 10000\nrate_limit_burst = 10000";
    let daemon = Daemon::start(&dir, port, &standard_config(port, &dir, server)).await;
    // A supervisor on a socket with a tiny receive window, which stops reading.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    let request = daemon.url().into_client_request().unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    use futures_util::{SinkExt, StreamExt};
    slow.send(Message::Text(
        json!({"type": "hello", "token": SUPERVISOR})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let welcome = slow.next().await.unwrap().unwrap();
    assert!(welcome.to_text().unwrap().contains("welcome"));

    // Agents not ready: every call waits in the queue and produces events.
    let (mut fast, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    for agent in ["1001", "1002"] {
        fast.ok(
            "agent.set_state",
            json!({"agent": agent, "state": "not_ready"}),
        )
        .await;
    }
    // Large events (long IVR digits) until the slow client's socket and queue are full;
    // how much the kernel buffers differs between machines, so watch the metric.
    let digits = "1234567890".repeat(200);
    let mut last = Value::Null;
    for n in 0..5000 {
        fast.seen.clear();
        let from = format!("+1415{:07}", n);
        let result = fast
            .req(
                "sim.call",
                json!({"from": from, "to": "8000", "digits": digits}),
            )
            .await;
        assert!(result.get("error").is_none(), "{result}");
        last = json!(from);
        if n % 100 == 99 {
            let (_, metrics) = http_get(daemon.port, "/metrics", &[]).await.unwrap();
            if !metrics.contains("ctibridge_slow_clients_closed_total 0") {
                break;
            }
        }
    }
    // The fast client is not held up: it sees the last call.
    fast.event("call.updated", |d| d["ani"] == last).await;
    // The slow one, once it reads again, finds its connection closed with 4009.
    let code = loop {
        match tokio::time::timeout(WAIT, slow.next())
            .await
            .expect("no close in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => continue,
            other => panic!("no 4009 close: {other:?}"),
        }
    };
    assert_eq!(code, 4009);
    let (_, metrics) = http_get(daemon.port, "/metrics", &[]).await.unwrap();
    assert!(
        !metrics.contains("ctibridge_slow_clients_closed_total 0"),
        "{metrics}"
    );
}
