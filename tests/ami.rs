//! The real daemon against the fake Asterisk on loopback: recorded Asterisk call
//! flows (tests/captures/ami) pop the CRM record at the right agents, a transfer
//! keeps the caller and the call id, a ring-all call the caller abandons ends as
//! abandoned at every agent, a dropped AMI link is resynchronised, and the agent
//! commands reach Asterisk as the right actions.

mod common;

use std::time::Duration;

use common::*;
use ctibridge_ami::fake::{FakeAsterisk, FakeConfig};
use serde_json::json;

const CONTACTS: &str = "name,phone,company,external_id,url,route\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1,\n";

fn ami_config(port: u16, dir: &std::path::Path, fake: &FakeAsterisk) -> String {
    let standard = standard_config(port, dir, "");
    let start = standard.find("[[switch]]").unwrap();
    let end = standard.find("[[auth.tokens]]").unwrap();
    let link = format!(
        "[[switch]]\nname = \"pbx\"\nadapter = \"ami\"\nhost = \"127.0.0.1\"\nport = {}\n\
         username = \"ctibridge\"\npassword = \"amisecret\"\ndevices = [\"1001\", \"1002\", \"1100\"]\n\
         queues = [\"support\"]\nagents = [{{ agent = \"1001\", extension = \"1001\" }}, {{ agent = \"1002\", extension = \"1002\" }}]\n\
         reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n\n",
        fake.addr().port()
    );
    format!("{}{link}{}", &standard[..start], &standard[end..])
}

async fn start(name: &str) -> (FakeAsterisk, Daemon) {
    let fake = FakeAsterisk::start(FakeConfig::default()).await;
    let dir = temp_dir(name);
    let port = free_port();
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        CONTACTS,
    );
    let daemon = Daemon::start(&dir, port, &ami_config(port, &dir, &fake)).await;
    fake.connected().await;
    (fake, daemon)
}

/// A capture from the corpus without its banner line (the link already has one).
fn capture(name: &str) -> Vec<u8> {
    let bytes = std::fs::read(format!(
        "{}/tests/captures/ami/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    match bytes.strip_prefix(b"Asterisk Call Manager/5.0.1\r\n") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    }
}

#[tokio::test]
async fn a_freepbx_queue_call_pops_the_crm_record_at_both_agents_and_clears_the_loser() {
    let (fake, daemon) = start("ami-pop").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    // Played as Asterisk sends it: the phones ring (and the CRM lookup runs) before
    // the first one answers.
    let flow = capture("queue_ringall_answered_freepbx_local.ami");
    let answer_at = flow
        .windows(16)
        .position(|w| w == b"Event: DialState")
        .unwrap();
    assert!(fake.play(&flow[..answer_at]));
    let pop = a1.event("call.offered", |_| true).await;
    let data = &pop["data"];
    assert_eq!(data["ani"], "4155550123");
    assert_eq!(data["dnis"], "3125550188");
    assert_eq!(data["queue"], "support");
    assert_eq!(data["device"], "1001");
    assert_eq!(data["crm"]["matches"][0]["name"], "Ada Lovelace", "{pop}");
    let call = data["call"].as_str().unwrap().to_string();
    let pop2 = a2.event("call.offered", |_| true).await;
    assert_eq!(pop2["data"]["call"], call.as_str(), "one call, one id");
    assert!(fake.play(&flow[answer_at..]));
    let left = a2.event("call.updated", |d| d["left"] == "1002").await;
    assert_eq!(left["data"]["cause"], "answered_elsewhere", "{left}");
    a1.event("call.answered", |d| d["call"] == call.as_str())
        .await;
    let ended = a1.event("call.ended", |d| d["call"] == call.as_str()).await;
    assert_eq!(ended["data"]["outcome"], "answered");
    // One pop per agent leg: no second offer reached either agent.
    assert!(a1
        .frame_within(Duration::from_millis(300))
        .await
        .is_none_or(|f| f["event"] != "call.offered"));
}

#[tokio::test]
async fn a_ring_all_call_the_caller_abandons_ends_abandoned_at_every_agent() {
    let (fake, daemon) = start("ami-abandon").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    assert!(fake.play(&capture("queue_ringall_abandoned.ami")));
    for agent in [&mut a1, &mut a2] {
        let pop = agent.event("call.offered", |_| true).await;
        assert_eq!(pop["data"]["ani"], "+442079460111");
        assert_eq!(pop["data"]["queue"], "sales");
        let call = pop["data"]["call"].as_str().unwrap().to_string();
        let ended = agent
            .event("call.ended", |d| d["call"] == call.as_str())
            .await;
        assert_eq!(ended["data"]["cause"], "abandoned", "{ended}");
        assert!(
            matches!(
                ended["data"]["outcome"].as_str(),
                Some("abandoned" | "short_abandon")
            ),
            "{ended}"
        );
    }
}

#[tokio::test]
async fn a_blind_transfer_keeps_the_caller_and_the_call_id() {
    let (fake, daemon) = start("ami-blind").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    assert!(fake.play(&capture("blind_transfer_chan_sip_13.ami")));
    let first = a1.event("call.offered", |_| true).await;
    let call = first["data"]["call"].as_str().unwrap().to_string();
    let second = a2.event("call.offered", |_| true).await;
    assert_eq!(second["data"]["call"], call.as_str());
    assert_eq!(second["data"]["ani"], "0301234567");
    assert_eq!(second["data"]["dnis"], "4930555000");
    a2.event("call.ended", |d| d["call"] == call.as_str()).await;
}

#[tokio::test]
async fn a_dropped_link_keeps_the_surviving_call_and_ends_the_vanished_one() {
    let (fake, daemon) = start("ami-resync").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    fake.ring("+14155550123", "1001");
    let kept = a1.event("call.offered", |_| true).await["data"]["call"]
        .as_str()
        .unwrap()
        .to_string();
    fake.ring("+442079460000", "1002");
    let gone = a2.event("call.offered", |_| true).await["data"]["call"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(fake.drop_link().await);
    fake.end_quietly("1002");
    a1.event("link.down", |_| true).await;
    a1.event("link.up", |_| true).await;
    let ended = a2.event("call.ended", |d| d["call"] == gone.as_str()).await;
    assert_eq!(ended["data"]["cause"], "cleared_during_link_outage");
    // The surviving call keeps its id and is not offered again; it still answers.
    fake.answer("1001");
    let answered = a1
        .event("call.answered", |d| d["call"] == kept.as_str())
        .await;
    assert_eq!(answered["data"]["ani"], "+14155550123");
    assert_eq!(fake.connections_accepted(), 2);
}

#[tokio::test]
async fn agent_commands_become_queue_actions_and_dial_originates() {
    let (fake, daemon) = start("ami-commands").await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    a1.ok("agent.login", json!({"agent": "1001", "extension": "1001"}))
        .await;
    a1.event("agent.state", |d| d["state"] == "ready").await;
    assert_eq!(fake.member("support", "PJSIP/1001"), Some(None));
    a1.ok(
        "agent.set_state",
        json!({"state": "not_ready", "reason": "Lunch"}),
    )
    .await;
    a1.event("agent.state", |d| {
        d["state"] == "not_ready" && d["reason"] == "Lunch"
    })
    .await;
    assert_eq!(
        fake.member("support", "PJSIP/1001"),
        Some(Some("Lunch".into()))
    );
    a1.ok("agent.set_state", json!({"state": "ready"})).await;
    a1.event("agent.state", |d| d["state"] == "ready").await;
    a1.ok("call.dial", json!({"to": "+442079460000"})).await;
    let originated = a1.event("call.originated", |_| true).await;
    let call = originated["data"]["call"].as_str().unwrap().to_string();
    a1.ok("call.hangup", json!({"call": call})).await;
    a1.event("call.ended", |d| d["call"] == call.as_str()).await;
    let bad = a1.req("call.dial", json!({"to": "not a number"})).await;
    assert_eq!(bad["error"]["code"], "invalid_destination", "{bad}");
    a1.ok("agent.logout", json!({})).await;
    a1.event("agent.state", |d| d["state"] == "logged_out")
        .await;
    assert_eq!(fake.member("support", "PJSIP/1001"), None);
    let received = fake.received();
    for action in [
        "QueueAdd",
        "QueuePause",
        "Originate",
        "Hangup",
        "QueueRemove",
    ] {
        assert!(
            received.iter().any(|r| r == action),
            "{action} in {received:?}"
        );
    }
}

#[test]
fn decode_prints_the_events_of_a_capture() {
    let path = format!(
        "{}/tests/captures/ami/queue_ringall_abandoned.ami",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = String::from_utf8(cli_ok(&["decode", "--adapter", "ami", &path])).unwrap();
    let kinds: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "queued",
            "delivered",
            "delivered",
            "connection_cleared",
            "connection_cleared"
        ],
        "{out}"
    );
    assert!(out.contains("\"cause\":\"abandoned\""), "{out}");
}
