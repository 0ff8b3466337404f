//! The real daemon against the fake CSTA switch on loopback: a CRM client sees what
//! an agent at a CSTA switch needs (screen pop with the CRM record, answer, transfer,
//! link state), data-directed routing answers the switch from the CRM, and the call
//! log is written.

mod common;

use std::time::Duration;

use common::csta::{csta_config, csta_config_with, switch_config};
use common::*;
use ctibridge_csta::fake::{
    BerOptions, CstaPhase, Dialect, Encoding, FakeConfig, FakeSwitch, JoinedCallId,
};
use diesel::prelude::*;
use serde_json::json;

const ANI: &str = "+14155550123";
const CONTACTS: &str = "name,phone,company,external_id,url,route\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1,1002\n\
    Grace Hopper,+442079460000,,C-2,,\n";

async fn start(name: &str) -> (FakeSwitch, Daemon) {
    start_in(name, Switch::Standard).await
}

/// The switches whose CSTA forms the fake can speak.
#[derive(Debug, Clone, Copy)]
enum Switch {
    /// ECMA-323 as the standard writes it.
    Standard,
    /// Device-only connections, `N<…>` devices, new call ids on transfer.
    OpenScapeVoice,
    /// Avaya AES DMCC: phones by device ids asked for with GetDeviceId.
    AvayaDmcc,
    /// CSTA Phase III as ASN.1 BER (ECMA-285), each APDU after a 2-byte length.
    BerPhase3,
    /// CSTA Phase II as ASN.1 BER (ECMA-217/218): OmniPCX, HiPath 4000, MD110 era.
    BerPhase2,
    /// Phase III BER behind an ACSE association with a login, as HiPath 4000 wants.
    BerPhase3Acse,
}

async fn start_in(name: &str, kind: Switch) -> (FakeSwitch, Daemon) {
    let mut config = switch_config();
    let mut extra = "";
    match kind {
        Switch::Standard => {}
        Switch::OpenScapeVoice => config.dialect = Dialect::OpenScapeVoice,
        Switch::AvayaDmcc => {
            config.avaya_switch = Some("CM1".into());
            extra = "device_ids = \"avaya\"\navaya_switch_name = \"CM1\"\n";
        }
        Switch::BerPhase3 => {
            config.encoding = Encoding::Ber(BerOptions::new(CstaPhase::Three));
            extra = "encoding = \"ber\"\nphase = 3\n";
        }
        Switch::BerPhase2 => {
            config.encoding = Encoding::Ber(BerOptions::new(CstaPhase::Two));
            extra = "encoding = \"ber\"\nphase = 2\n";
        }
        Switch::BerPhase3Acse => {
            config.encoding = Encoding::Ber(BerOptions {
                require_acse: true,
                ..BerOptions::new(CstaPhase::Three)
            });
            config.credentials = Some(("cti".into(), "s3cret".into()));
            extra = "encoding = \"ber\"\nphase = 3\nacse = true\nusername = \"cti\"\npassword = \"s3cret\"\n";
        }
    }
    let switch = FakeSwitch::start(config).await.unwrap();
    let dir = temp_dir(&format!("{name}-{kind:?}"));
    let port = free_port();
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        CONTACTS,
    );
    let mut text = csta_config_with(port, &dir, &switch, extra);
    if matches!(kind, Switch::BerPhase2) {
        // Routing over BER is carried in Phase III only (the adapter refuses
        // route_points with phase = 2).
        text = text.replace("route_points = [\"7000\"]\nroute_timeout_ms = 800\n", "");
    }
    let daemon = Daemon::start(&dir, port, &text).await;
    (switch, daemon)
}

/// Agent `agent` logs on at its own extension and becomes ready.
async fn ready_agent(daemon: &Daemon, token: &str, agent: &str) -> Client {
    let (mut client, _) = Client::login(&daemon.url(), token).await;
    client
        .ok(
            "agent.login",
            json!({"agent": agent, "extension": agent, "password": "1234"}),
        )
        .await;
    client
        .ok("agent.set_state", json!({"state": "ready"}))
        .await;
    client.event("agent.state", |d| d["state"] == "ready").await;
    client
}

/// 1001 answers a call from ANI, consults 1002, 1002 answers and 1001 completes
/// the transfer; returns the switch's first id of the call and the bridge's call id.
async fn consult_transfer_to_1002(
    switch: &FakeSwitch,
    a1: &mut Client,
    a2: &mut Client,
) -> (String, String) {
    let first = switch.ring(ANI, "1001").await;
    let call = a1.event("call.offered", |_| true).await["data"]["call"]
        .as_str()
        .unwrap()
        .to_string();
    a1.ok("call.answer", json!({"call": call})).await;
    a1.event("call.answered", |d| d["call"] == call.as_str())
        .await;
    let consult = a1
        .ok(
            "call.transfer",
            json!({"call": call, "to": "1002", "mode": "consult"}),
        )
        .await["consult_call"]
        .as_str()
        .unwrap()
        .to_string();
    a2.event("call.offered", |d| d["call"] == consult.as_str())
        .await;
    a2.ok("call.answer", json!({"call": consult})).await;
    a2.event("call.answered", |d| d["call"] == consult.as_str())
        .await;
    a1.ok(
        "call.transfer",
        json!({"call": call, "mode": "complete", "consult_call": consult}),
    )
    .await;
    a2.event("call.transferred", |d| d["call"] == call.as_str())
        .await;
    (first, call)
}

#[tokio::test]
async fn an_acd_call_pops_the_crm_record_and_lands_in_the_call_log() {
    let (switch, daemon) = start("csta-pop").await;
    let mut agent = ready_agent(&daemon, AGENT_1001, "1001").await;
    switch.ring_with(ANI, "8000", "8005550100").await;
    let pop = agent.event("call.offered", |_| true).await;
    let data = &pop["data"];
    assert_eq!(data["ani"], ANI);
    assert_eq!(data["dnis"], "8005550100");
    assert_eq!(data["queue"], "8000");
    assert_eq!(data["device"], "1001");
    assert_eq!(data["crm"]["matches"][0]["name"], "Ada Lovelace");
    let call = data["call"].as_str().unwrap().to_string();

    agent.ok("call.answer", json!({"call": call})).await;
    agent
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    agent.ok("call.hangup", json!({"call": call})).await;
    let ended = agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(ended["data"]["outcome"], "answered");

    let mut conn = sqlite(&daemon.db_url());
    use ctibridge::crm::schema::call_log::dsl as log;
    let (ani, queue, agent_id, contact): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i32>,
    ) = log::call_log
        .filter(log::call_id.eq(&call))
        .select((log::ani, log::queue, log::agent, log::contact_id))
        .first(&mut conn)
        .expect("the call's row is there when call.ended is");
    assert_eq!(ani.as_deref(), Some(ANI));
    assert_eq!(queue.as_deref(), Some("8000"));
    assert_eq!(agent_id.as_deref(), Some("1001"));
    assert!(contact.is_some(), "linked to the CRM contact");
}

/// The user-visible call-centre basics, run against the fake in each switch's forms.
mod in_each_dialect {
    use super::*;

    /// An ACD call pops the caller's CRM record; the agent answers and hangs up.
    async fn pop(kind: Switch) {
        let (switch, daemon) = start_in("csta-d-pop", kind).await;
        let mut agent = ready_agent(&daemon, AGENT_1001, "1001").await;
        switch.ring_with(ANI, "8000", "8005550100").await;
        let pop = agent.event("call.offered", |_| true).await;
        assert_eq!(pop["data"]["ani"], ANI);
        assert_eq!(pop["data"]["device"], "1001");
        assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");
        let call = pop["data"]["call"].as_str().unwrap().to_string();
        agent.ok("call.answer", json!({"call": call})).await;
        agent
            .event("call.answered", |d| d["call"] == call.as_str())
            .await;
        agent.ok("call.hangup", json!({"call": call})).await;
        let ended = agent
            .event("call.ended", |d| d["call"] == call.as_str())
            .await;
        assert_eq!(ended["data"]["outcome"], "answered");
    }

    /// Click-to-dial: the far end answers, the agent hangs up.
    async fn dial(kind: Switch) {
        let (_switch, daemon) = start_in("csta-d-dial", kind).await;
        let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
        let call = a1.ok("call.dial", json!({"to": "+442079460000"})).await["call"]
            .as_str()
            .unwrap()
            .to_string();
        a1.event("call.answered", |d| d["call"] == call.as_str())
            .await;
        a1.ok("call.hangup", json!({"call": call})).await;
        a1.event("call.ended", |d| d["call"] == call.as_str()).await;
    }

    async fn blind_transfer(kind: Switch) {
        let (switch, daemon) = start_in("csta-d-blind", kind).await;
        let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
        let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
        switch.ring(ANI, "1001").await;
        let call = a1.event("call.offered", |_| true).await["data"]["call"]
            .as_str()
            .unwrap()
            .to_string();
        a1.ok("call.answer", json!({"call": call})).await;
        a1.ok(
            "call.transfer",
            json!({"call": call, "to": "1002", "mode": "blind"}),
        )
        .await;
        let pop = a2
            .event("call.offered", |d| d["call"] == call.as_str())
            .await;
        assert_eq!(
            pop["data"]["ani"], ANI,
            "the target sees the original caller"
        );
        assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");
        a2.ok("call.answer", json!({"call": call})).await;
        a2.event("call.answered", |d| d["call"] == call.as_str())
            .await;
        a2.ok("call.hangup", json!({"call": call})).await;
        a2.event("call.ended", |d| d["call"] == call.as_str()).await;
        assert!(switch.calls().await.is_empty());
    }

    /// Consult 1002, complete the transfer, then the target hangs up through the
    /// API: the hang-up must reach the call under the id the switch uses now.
    async fn consult_transfer(kind: Switch) {
        let (switch, daemon) = start_in("csta-d-consult", kind).await;
        let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
        let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
        let (_, call) = consult_transfer_to_1002(&switch, &mut a1, &mut a2).await;
        a2.ok("call.hangup", json!({"call": call})).await;
        a2.event("call.ended", |d| d["call"] == call.as_str()).await;
        assert!(
            switch.calls().await.is_empty(),
            "{:?}",
            switch.calls().await
        );
    }

    /// Bytes that are not CSTA cost nothing but themselves.
    async fn garbage(kind: Switch) {
        let (switch, daemon) = start_in("csta-d-garbage", kind).await;
        let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
        assert!(
            switch
                .inject_raw(b"\x16\x03\x01 not csta at all \xff\xfe".to_vec())
                .await
        );
        switch.ring(ANI, "1001").await;
        let pop = a1.event("call.offered", |_| true).await;
        assert_eq!(pop["data"]["ani"], ANI);
        assert_eq!(switch.connections_accepted().await, 1);
    }

    /// The link goes down and up: clients see it, and a call that started
    /// meanwhile is adopted from the snapshot and popped.
    async fn reconnect(kind: Switch) {
        let (switch, daemon) = start_in("csta-d-link", kind).await;
        let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
        switch.set_accepting(false).await;
        assert!(switch.drop_link().await);
        let down = supervisor.event("link.down", |_| true).await;
        assert_eq!(down["data"]["switch"], "pbx");
        let (status, _) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
        assert_eq!(status, 503);
        switch.ring(ANI, "1002").await;
        switch.set_accepting(true).await;
        supervisor.event("link.up", |_| true).await;
        let pop = supervisor
            .event("call.offered", |d| d["device"] == "1002")
            .await;
        if !matches!(kind, Switch::BerPhase2) {
            // ECMA-218's snapshots name a call's connections and their states, not
            // its caller; ECMA-285's SnapshotCall does (the XML switches add the
            // caller to SnapshotDevice as private data).
            assert_eq!(pop["data"]["ani"], ANI);
            assert_eq!(
                pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace",
                "{pop}"
            );
        }
        let (status, _) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
        assert_eq!(status, 200);
    }

    macro_rules! in_dialect {
        ($module:ident, $kind:expr $(, $extra:ident)*) => {
            mod $module {
                use super::*;
                // The dialect's own extras: `name(kind)` run as test `name`.
                $(
                    #[tokio::test]
                    async fn $extra() {
                        super::$extra($kind).await
                    }
                )*
                #[tokio::test]
                async fn pops_answers_and_hangs_up() {
                    pop($kind).await
                }
                #[tokio::test]
                async fn dials() {
                    dial($kind).await
                }
                #[tokio::test]
                async fn transfers_blind() {
                    blind_transfer($kind).await
                }
                #[tokio::test]
                async fn transfers_after_consulting_then_the_target_hangs_up() {
                    consult_transfer($kind).await
                }
                #[tokio::test]
                async fn survives_garbage() {
                    garbage($kind).await
                }
                #[tokio::test]
                async fn reconnects_and_resyncs() {
                    reconnect($kind).await
                }
            }
        };
    }

    in_dialect!(standard, Switch::Standard);
    in_dialect!(openscape_voice, Switch::OpenScapeVoice);
    in_dialect!(avaya_dmcc, Switch::AvayaDmcc);
    /// Routing in a dialect that carries it (the standalone test is ECMA-323's).
    async fn route_requests_are_answered_from_the_crm(kind: Switch) {
        route_from_the_crm(kind).await
    }

    in_dialect!(
        ber_phase_3,
        Switch::BerPhase3,
        route_requests_are_answered_from_the_crm
    );
    in_dialect!(
        ber_phase_3_acse,
        Switch::BerPhase3Acse,
        route_requests_are_answered_from_the_crm
    );

    /// A call ringing at an agent's own extension pops the caller's CRM record, with
    /// no ACD log-on.
    async fn pop_direct(kind: Switch) {
        let (switch, daemon) = start_in("csta-d-direct", kind).await;
        let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
        switch.ring(ANI, "1001").await;
        let pop = a1.event("call.offered", |_| true).await;
        assert_eq!(pop["data"]["ani"], ANI);
        assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");
        let call = pop["data"]["call"].as_str().unwrap().to_string();
        a1.ok("call.answer", json!({"call": call})).await;
        a1.event("call.answered", |d| d["call"] == call.as_str())
            .await;
        a1.ok("call.hangup", json!({"call": call})).await;
        let ended = a1.event("call.ended", |d| d["call"] == call.as_str()).await;
        assert_eq!(ended["data"]["outcome"], "answered");
    }

    /// Phase II has no single-step transfer: the rest runs, agent states through
    /// SetFeature and QueryDevice.
    mod ber_phase_2 {
        use super::*;
        #[tokio::test]
        async fn pops_answers_and_hangs_up() {
            pop(Switch::BerPhase2).await
        }
        #[tokio::test]
        async fn pops_a_call_to_the_extension_itself() {
            pop_direct(Switch::BerPhase2).await
        }
        #[tokio::test]
        async fn dials() {
            dial(Switch::BerPhase2).await
        }
        #[tokio::test]
        async fn transfers_after_consulting_then_the_target_hangs_up() {
            consult_transfer(Switch::BerPhase2).await
        }
        #[tokio::test]
        async fn survives_garbage() {
            garbage(Switch::BerPhase2).await
        }
        #[tokio::test]
        async fn reconnects_and_resyncs() {
            reconnect(Switch::BerPhase2).await
        }
    }
}

/// A BER switch that refuses our ACSE association (a wrong password): the link stays
/// down, `/healthz` says 503, the log names the switch's diagnostic, and nothing but
/// AARQs reach the switch.
#[tokio::test]
async fn a_refused_acse_association_keeps_the_link_down_and_says_why() {
    let mut config = switch_config();
    config.encoding = Encoding::Ber(BerOptions {
        require_acse: true,
        ..BerOptions::new(CstaPhase::Three)
    });
    config.credentials = Some(("cti".into(), "s3cret".into()));
    let switch = FakeSwitch::start(config).await.unwrap();
    let dir = temp_dir("csta-acse-refused");
    let port = free_port();
    let text = csta_config_with(
        port,
        &dir,
        &switch,
        "encoding = \"ber\"\nacse = true\nusername = \"cti\"\npassword = \"wrong\"\n",
    )
    .replace("route_points = [\"7000\"]\nroute_timeout_ms = 800\n", "");
    let daemon = Daemon::spawn(&dir, port, &text);
    daemon.answering().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !daemon.log().contains("authentication-failure") {
        assert!(
            std::time::Instant::now() < deadline,
            "no refusal in the log:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 503);
    // It tries again (with its back-off), and still sends nothing else.
    let mut received = switch.received().await;
    while received.len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        received = switch.received().await;
    }
    assert!(
        received.iter().all(|r| r == "AARQ"),
        "only AARQs before an association: {received:?}"
    );
    assert!(received.len() >= 2, "it retries: {received:?}");
}

/// The switch aborts the ACSE association (an ABRT): the link goes down, a new
/// association is opened, and calls pop again.
#[tokio::test]
async fn an_aborted_acse_association_is_opened_again() {
    let (switch, daemon) = start_in("csta-acse-abort", Switch::BerPhase3Acse).await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    // ABRT { abort-source [0] acse-service-user }, after its 2-byte length.
    assert!(
        switch
            .inject_raw(vec![0x00, 0x05, 0x64, 0x03, 0x80, 0x01, 0x00])
            .await
    );
    let down = supervisor.event("link.down", |_| true).await;
    assert_eq!(down["data"]["switch"], "pbx");
    supervisor.event("link.up", |_| true).await;
    assert!(
        daemon.log().contains("the switch aborted the association"),
        "{}",
        daemon.log()
    );
    let aarqs = switch
        .received()
        .await
        .iter()
        .filter(|r| *r == "AARQ")
        .count();
    assert_eq!(aarqs, 2);
    switch.ring(ANI, "1001").await;
    let pop = supervisor
        .event("call.offered", |d| d["device"] == "1001")
        .await;
    assert_eq!(pop["data"]["ani"], ANI);
}

/// Some switches keep the consultation call's id for the call a consultation
/// transfer leaves. The target's hang-up must reach the call under that id (it
/// went to the caller's old id, which the switch no longer has: `call_not_found`).
#[tokio::test]
async fn after_a_transfer_that_keeps_the_consultation_id_the_target_hangs_up() {
    let config = FakeConfig {
        joined_call_id: Some(JoinedCallId::Consultation),
        ..switch_config()
    };
    let switch = FakeSwitch::start(config).await.unwrap();
    let dir = temp_dir("csta-keeps-consult-id");
    let port = free_port();
    let daemon = Daemon::start(&dir, port, &csta_config(port, &dir, &switch)).await;
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    let (first, call) = consult_transfer_to_1002(&switch, &mut a1, &mut a2).await;
    let calls = switch.calls().await;
    assert!(calls.len() == 1 && calls[0].id != first, "{calls:?}");
    a2.ok("call.hangup", json!({"call": call})).await;
    a2.event("call.ended", |d| d["call"] == call.as_str()).await;
    assert!(switch.calls().await.is_empty());
}

/// A switch under load confirms an agent's log-on with its event well after the
/// answer. The answer alone means done: setting the state right after works, and
/// the late confirmations change nothing.
#[tokio::test]
async fn a_log_on_is_done_when_the_switch_answers_it() {
    let config = FakeConfig {
        agent_events_after: Some(Duration::from_millis(400)),
        ..switch_config()
    };
    let switch = FakeSwitch::start(config).await.unwrap();
    let dir = temp_dir("csta-login-res");
    let port = free_port();
    let daemon = Daemon::start(&dir, port, &csta_config(port, &dir, &switch)).await;
    let (mut client, _) = Client::login(&daemon.url(), AGENT_1001).await;
    client
        .ok(
            "agent.login",
            json!({"agent": "1001", "extension": "1001", "password": "1234"}),
        )
        .await;
    client
        .ok("agent.set_state", json!({"state": "ready"}))
        .await;
    client.event("agent.state", |d| d["state"] == "ready").await;
    // The switch's LoggedOn and Ready events arrive now: still ready.
    let mut later = Vec::new();
    while let Some(frame) = client.frame_within(Duration::from_millis(1200)).await {
        later.push(frame);
    }
    assert!(
        !later.iter().any(|f| f["type"] == "evt"
            && f["name"] == "agent.state"
            && f["data"]["state"] != "ready"),
        "{later:?}"
    );
    let at_switch = switch.agent_state("1001").await.expect("logged on");
    assert_eq!(at_switch.state, ctibridge_csta::fake::AgentState::Ready);
}

#[tokio::test]
async fn route_requests_are_answered_from_the_crm() {
    route_from_the_crm(Switch::Standard).await
}

/// Data-directed routing: the CRM's route for the caller, or the switch's own
/// default route once the adapter gives up.
async fn route_from_the_crm(kind: Switch) {
    let (switch, daemon) = start_in("csta-route", kind).await;
    // Ada's contact routes to 1002.
    assert_eq!(switch.route(ANI, "7000").await, "1002");
    // Grace has no route: the adapter ends the dialogue after route_timeout_ms and
    // the switch takes its default route.
    assert_eq!(switch.route("+442079460000", "7000").await, "8000");
    let log = daemon.log();
    assert!(log.contains("routing the call by its contact"), "{log}");
}

#[tokio::test]
async fn decode_prints_the_events_of_a_capture() {
    let dir = temp_dir("csta-decode");
    let delivered = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><csta:DeliveredEvent xmlns:csta=\"http://www.ecma-international.org/standards/ecma-323/csta/ed4\">\
        <csta:monitorCrossRefID>1</csta:monitorCrossRefID><csta:connection><csta:callID>7</csta:callID><csta:deviceID>1001</csta:deviceID></csta:connection>\
        <csta:alertingDevice><csta:deviceIdentifier>1001</csta:deviceIdentifier></csta:alertingDevice>\
        <csta:callingDevice><csta:deviceIdentifier>4155550123</csta:deviceIdentifier></csta:callingDevice>\
        <csta:calledDevice><csta:deviceIdentifier>8005550100</csta:deviceIdentifier></csta:calledDevice></csta:DeliveredEvent>";
    let cleared = "<ConnectionClearedEvent><droppedConnection><callID>7</callID><deviceID>1001</deviceID></droppedConnection>\
        <releasingDevice><deviceIdentifier>1001</deviceIdentifier></releasingDevice><cause>normalClearing</cause></ConnectionClearedEvent>";
    let mut capture = Vec::new();
    for (invoke, xml) in [
        ("9999", delivered),
        ("0003", "<MonitorStartResponse/>"),
        ("9999", cleared),
    ] {
        capture.extend_from_slice(&[0, 0]);
        capture.extend_from_slice(&((xml.len() + 8) as u16).to_be_bytes());
        capture.extend_from_slice(invoke.as_bytes());
        capture.extend_from_slice(xml.as_bytes());
    }
    let clean = dir.join("clean.bin");
    std::fs::write(&clean, &capture).unwrap();
    let out = cli_ok(&["decode", "--adapter", "csta", clean.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["kind"], "delivered");
    assert_eq!(lines[0]["calling"], "4155550123");
    assert_eq!(lines[0]["calling_e164"], "+14155550123");
    assert_eq!(lines[1]["kind"], "connection_cleared");
    assert_eq!(lines[1]["cause"], "normalClearing");

    // Garbage in the middle is reported with its position; the rest still decodes.
    let mut damaged = capture.clone();
    damaged.splice(0..0, b"\x16\x03junk".iter().copied());
    let bad = dir.join("damaged.bin");
    std::fs::write(&bad, &damaged).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ctibridge"))
        .args([
            "decode",
            "--adapter",
            "csta",
            "--format",
            "header",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged.bin:bytes 0..6: bad frame header"),
        "{stderr}"
    );
}

/// The real-world forms in `tests/captures/csta`, as a user runs `decode` on them:
/// OpenScape Voice's decorated devices and device-only connections, and input that
/// is not CSTA at all.
#[test]
fn decode_reads_the_forms_real_switches_send_and_refuses_what_is_not_csta() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/csta");
    let run = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ctibridge"))
            .args(["decode", "--adapter", "csta"])
            .arg(corpus.join(file))
            .output()
            .unwrap()
    };
    let out = run("osv-delivered-deviceid-only.xml");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["kind"], "delivered");
    assert!(line.get("call_id").is_none(), "{line}");
    assert_eq!(line["device"], "+496975520417");
    assert_eq!(line["calling"], "+4930812447309");
    assert_eq!(line["cause"], "newCall");
    assert_eq!(
        line["calling_raw"],
        "N<+4930812447309>;displayNumber=030812447309;noa=unknown"
    );

    for (file, says) in [
        ("not-csta/empty.xml", "no CSTA message in "),
        (
            "not-csta/login-page.html",
            "login-page.html:byte 0: not XML: starts with `<!DOCTYPE html>`",
        ),
    ] {
        let out = run(file);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(out.stdout.is_empty(), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{file}: {stderr}");
    }
}

/// `decode --format ber --phase 2|3` on the BER corpus (`tests/captures/csta-ber`,
/// annotated hex turned into the bytes of the stream): events on stdout with the
/// switch's private data and timestamp, each bad APDU on stderr with its byte range.
#[test]
fn decode_reads_ber_captures_of_either_phase() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/csta-ber");
    let dir = temp_dir("csta-ber-decode");
    let run = |file: &str, phase: &str| {
        let text = std::fs::read_to_string(corpus.join(file)).unwrap();
        let bytes: Vec<u8> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default())
            .flat_map(str::split_whitespace)
            .map(|pair| u8::from_str_radix(pair, 16).unwrap())
            .collect();
        let path = dir.join(file.replace(".hex", ".ber"));
        std::fs::write(&path, bytes).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_ctibridge"))
            .args([
                "decode",
                "--adapter",
                "csta",
                "--format",
                "ber",
                "--phase",
                phase,
            ])
            .arg(&path)
            .output()
            .unwrap()
    };
    let out = run("p2-oxe-inbound-call.hex", "2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["kind"], "delivered");
    assert_eq!(lines[0]["call_id"], "012C");
    assert_eq!(lines[0]["calling"], "0611223344");
    assert_eq!(lines[0]["private_data"], "1.3.12.2.9999.1:04030102A0");
    assert_eq!(lines[2]["cause"], "normalClearing");

    let out = run("p3-damaged.hex", "3");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for says in [
        "p3-damaged.ber:bytes 56..66: bytes that start no APDU",
        "p3-damaged.ber:APDU 2 (bytes 66..68): an empty APDU",
        "p3-damaged.ber:bytes 139..145: a truncated APDU",
    ] {
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
    // The same Phase III bytes read as Phase II are not events.
    let out = run("p3-agent-states.hex", "2");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

/// A PBX with both links: live calls on CSTA, call records on an SMDR port (two
/// `[[switch]]` tables tied by `cti_switch`). The record completes the call's row.
#[tokio::test]
async fn an_smdr_record_completes_the_csta_call_of_the_same_pbx() {
    use tokio::io::AsyncWriteExt;
    let switch = FakeSwitch::start(switch_config()).await.unwrap();
    let dir = temp_dir("csta-smdr");
    let port = free_port();
    let smdr_port = free_port();
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        CONTACTS,
    );
    let config = csta_config(port, &dir, &switch).replacen(
        "[[auth.tokens]]",
        &format!(
            "[[switch]]\nname = \"pbx-smdr\"\nadapter = \"smdr\"\nlisten = \"127.0.0.1:{smdr_port}\"\n\
             format = \"avaya-ipo\"\nutc_offset = \"+00:00\"\ncti_switch = \"pbx\"\n\n[[auth.tokens]]"
        ),
        1,
    );
    // The SMDR link is up once the PBX has connected to it.
    let daemon = Daemon::spawn(&dir, port, &config);
    daemon.answering().await;
    let mut pbx = loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", smdr_port)).await {
            Ok(stream) => break stream,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while !matches!(http_get(port, "/healthz", &[]).await, Ok((200, _))) {
        assert!(tokio::time::Instant::now() < deadline, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let started = chrono::Utc::now();
    switch.ring(ANI, "1001").await;
    let call = agent.event("call.offered", |_| true).await["data"]["call"]
        .as_str()
        .unwrap()
        .to_string();
    agent.ok("call.answer", json!({"call": call})).await;
    agent.ok("call.hangup", json!({"call": call})).await;
    agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;

    // The PBX prints its record of the call (IP Office SMDR, the switch's clock).
    let record = format!(
        "{},00:00:02,1,4155550123,I,1001,1001,,0,1000042,0,E1001,Agent One,T9001,Line 1.1,0,0,,,,0.00,,0.00,0,0,0.00,0.00,,,\r\n",
        started.format("%Y/%m/%d %H:%M:%S")
    );
    pbx.write_all(record.as_bytes()).await.unwrap();
    let published = supervisor.event("call.record", |_| true).await;
    assert_eq!(published["data"]["call"], call.as_str(), "{published}");
    assert_eq!(published["data"]["switch"], "pbx-smdr");

    let mut conn = sqlite(&daemon.db_url());
    use ctibridge::crm::schema::call_log::dsl as log;
    let rows: Vec<(String, String, Option<String>)> = log::call_log
        .select((log::call_id, log::source, log::raw))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), 1, "one row for the call: {rows:?}");
    assert_eq!(rows[0].0, call);
    assert_eq!(rows[0].1, "cti");
    assert!(rows[0].2.as_deref().unwrap_or("").contains("4155550123"));
}
