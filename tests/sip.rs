//! The real daemon with a `sip` link in dialog mode against SIPp playing the PBX
//! (adapters/sip/tests/sipp/e2e_pop.xml): the PBX challenges our SUBSCRIBE and
//! checks the digest, then a call rings at 1001; the agent's CRM client gets the
//! pop with the caller's CRM record, then answered and ended. The same over a
//! uaCSTA link (e2e_uacsta.xml: SIPp as the CSTA server). Skipped, with a notice,
//! when `sipp` is not on PATH.

mod common;

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

const CONTACTS: &str = "name,phone,company,external_id,url,route\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1,\n";

fn sipp_available() -> bool {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("NOTICE: sipp is not on PATH; the SIP end-to-end test is skipped (apt-get install sip-tester)");
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

/// SIPp playing the PBX on `port` with `scenario` (adapters/sip/tests/sipp/), until
/// `calls` dialogs have gone through it.
fn sipp_pbx(scenario: &str, port: u16, calls: u32) -> Child {
    let scenario = format!(
        "{}/adapters/sip/tests/sipp/{scenario}",
        env!("CARGO_MANIFEST_DIR")
    );
    Command::new("sipp")
        .args(["-sf", &scenario, "-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "30s"])
        .arg("-timeout_error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("sipp starts")
}

/// Whether SIPp's scenario passed (given 10 s to finish).
async fn sipp_passed(mut sipp: Child) -> bool {
    for _ in 0..100 {
        if let Some(status) = sipp.try_wait().unwrap() {
            return status.success();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sipp.kill().ok();
    false
}

/// The standard test config with its simulator replaced by a SIP dialog link.
fn sip_config(port: u16, dir: &std::path::Path, pbx: u16, local: u16) -> String {
    let standard = standard_config(port, dir, "");
    let start = standard.find("[[switch]]").unwrap();
    let end = standard.find("[[auth.tokens]]").unwrap();
    let link = format!(
        "[[switch]]\nname = \"pbx\"\nadapter = \"sip\"\nmode = \"dialog\"\nhost = \"127.0.0.1\"\n\
         port = {pbx}\nlocal = \"127.0.0.1:{local}\"\ndomain = \"sipp.test\"\ndevices = [\"1001\"]\n\
         username = \"ctibridge\"\npassword = \"s3cret\"\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n\n"
    );
    format!("{}{link}{}", &standard[..start], &standard[end..])
}

/// The same link in uaCSTA mode (ECMA TR/87): the INVITE goes to SIPp's CSTA server.
fn uacsta_config(port: u16, dir: &std::path::Path, pbx: u16, local: u16) -> String {
    sip_config(port, dir, pbx, local).replace(
        "mode = \"dialog\"",
        "mode = \"uacsta\"\nserver_uri = \"sip:csta@sipp.test\"",
    )
}

#[tokio::test]
async fn a_call_ringing_at_an_extension_pops_the_crm_record_at_its_agent() {
    pops_the_crm_record("e2e_pop.xml", sip_config).await;
}

#[tokio::test]
async fn a_call_delivered_over_a_uacsta_link_pops_the_crm_record_at_its_agent() {
    pops_the_crm_record("e2e_uacsta.xml", uacsta_config).await;
}

async fn pops_the_crm_record(
    scenario: &str,
    config: fn(u16, &std::path::Path, u16, u16) -> String,
) {
    if !sipp_available() {
        return;
    }
    let pbx = free_udp_port();
    let sipp = sipp_pbx(scenario, pbx, 1);

    let dir = temp_dir("sip-pop");
    let port = free_port();
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        CONTACTS,
    );
    let daemon = Daemon::start(&dir, port, &config(port, &dir, pbx, free_udp_port())).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;

    let pop = agent.event("call.offered", |_| true).await;
    let data = &pop["data"];
    assert_eq!(data["ani"], "+14155550123");
    assert_eq!(data["device"], "1001");
    assert_eq!(data["crm"]["matches"][0]["name"], "Ada Lovelace");
    let call = data["call"].as_str().unwrap().to_string();
    agent
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    let (status, _) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 200, "{}", daemon.log());

    assert!(
        sipp_passed(sipp).await,
        "SIPp's scenario (the PBX side) failed"
    );
}

/// Click-to-dial from the agent's CRM page: the daemon calls the agent's phone
/// (challenged, digest checked), REFERs it to the number, and answers `res` when the
/// phone took it (adapters/sip/tests/sipp/dial_flow.xml plays PBX and phone).
#[tokio::test]
async fn call_dial_invites_the_agents_phone_and_refers_it_to_the_number() {
    if !sipp_available() {
        return;
    }
    let pbx = free_udp_port();
    let sipp = sipp_pbx("dial_flow.xml", pbx, 2);
    let dir = temp_dir("sip-dial");
    let port = free_port();
    let daemon = Daemon::start(&dir, port, &sip_config(port, &dir, pbx, free_udp_port())).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    // The link is up once the subscription had its first document.
    let deadline = tokio::time::Instant::now() + WAIT;
    while http_get(daemon.port, "/healthz", &[]).await.unwrap().0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = agent
        .req("call.dial", serde_json::json!({"to": "0207 946"}))
        .await;
    assert_eq!(refused["error"]["code"], "invalid_destination", "{refused}");
    agent
        .ok("call.dial", serde_json::json!({"to": "+442079460123"}))
        .await;
    assert!(
        sipp_passed(sipp).await,
        "SIPp's scenario (PBX and phone) failed: {}",
        daemon.log()
    );
}

/// Click-to-dial where the phone refuses the REFER (405): the adapter calls the
/// number itself and joins the phone to it by re-INVITE (RFC 3725); the agent sees
/// that call originated (with the CRM's reference), answered, and ended when the
/// phone hangs up (adapters/sip/tests/sipp/dial_refer_refused.xml plays PBX, phone
/// and destination).
#[tokio::test]
async fn call_dial_where_refer_is_refused_is_joined_by_reinvite_and_reported() {
    if !sipp_available() {
        return;
    }
    let pbx = free_udp_port();
    let sipp = sipp_pbx("dial_refer_refused.xml", pbx, 3);
    let dir = temp_dir("sip-dial-3pcc");
    let port = free_port();
    let daemon = Daemon::start(&dir, port, &sip_config(port, &dir, pbx, free_udp_port())).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while http_get(daemon.port, "/healthz", &[]).await.unwrap().0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let params = serde_json::json!({"to": "+442079460123", "client_ref": "crm-3pcc"});
    let result = agent.ok("call.dial", params).await;
    let call = result["call"]
        .as_str()
        .expect("the call placed")
        .to_string();
    let originated = agent
        .event("call.originated", |d| d["call"] == call.as_str())
        .await;
    assert_eq!(originated["data"]["to"], "+442079460123", "{originated}");
    assert_eq!(originated["data"]["client_ref"], "crm-3pcc", "{originated}");
    agent
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    assert!(
        sipp_passed(sipp).await,
        "SIPp's scenario (PBX, phone, destination) failed: {}",
        daemon.log()
    );
}

#[tokio::test]
async fn a_pbx_that_does_not_answer_makes_healthz_503_naming_it() {
    let dir = temp_dir("sip-away");
    let port = free_port();
    let pbx = free_udp_port();
    let config = sip_config(port, &dir, pbx, free_udp_port()).replace(
        "reconnect_min_s = 0.1",
        "timer_t1_ms = 10\nreconnect_min_s = 0.1",
    );
    let daemon = Daemon::spawn(&dir, port, &config);
    daemon.answering().await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
        if status == 503 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "healthz stayed {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = daemon.log();
    assert!(log.contains(&format!("127.0.0.1:{pbx}")), "{log}");
}

#[test]
fn decode_prints_what_a_capture_of_sip_messages_makes() {
    let input = captures(&[
        "asterisk-401-subscribe.sip",
        "kamailio-notify-early.sip",
        "kamailio-notify-early.sip",
        "freeswitch-notify-compact.sip",
    ]);
    let (events, stdout, stderr, status) = decode_sip(&input, "sip-decode");
    assert_eq!(events.len(), 2, "{stdout}");
    assert_eq!(events[0]["kind"], "delivered");
    assert_eq!(events[0]["calling"], "+33155508214");
    assert_eq!(events[0]["calling_name"], "Jean-Luc Marchetti");
    assert_eq!(events[1]["calling_name"], "Hanna Kowalczyk");
    // The retransmitted NOTIFY is reported, not decoded twice.
    assert!(
        stderr.contains("message 3") && stderr.contains("not newer"),
        "{stderr}"
    );
    assert_eq!(status, Some(1));
}

#[test]
fn decode_prints_what_uacsta_infos_make() {
    let input = captures(&[
        "rcc-200-invite.sip",
        "rcc-200-monitorstart.sip",
        "rcc-info-delivered.sip",
        "rcc-info-established.sip",
        "uacsta-200-info-error.sip",
    ]);
    let (events, stdout, stderr, status) = decode_sip(&input, "uacsta-decode");
    assert_eq!(events.len(), 2, "{stdout}");
    assert_eq!(events[0]["kind"], "delivered");
    assert_eq!(events[0]["device"], "2210");
    assert_eq!(events[0]["calling"], "+14155550123");
    assert_eq!(events[0]["cause"], "newCall");
    assert_eq!(events[1]["call_id"], "0_7a4c02e9");
    // The CSTA error in the last 200 is reported with its message number.
    assert!(
        stderr.contains("message 5") && stderr.contains("invalidConnectionIdentifier"),
        "{stderr}"
    );
    assert_eq!(status, Some(1));
}

/// The files of tests/captures/sip/ one after another.
fn captures(names: &[&str]) -> Vec<u8> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/captures/sip/");
    names
        .iter()
        .flat_map(|name| std::fs::read(format!("{folder}{name}")).unwrap())
        .collect()
}

/// `ctibridge decode --adapter sip` of `input`: its event lines, stdout, stderr and
/// exit status.
fn decode_sip(input: &[u8], dir: &str) -> (Vec<serde_json::Value>, String, String, Option<i32>) {
    let file = temp_dir(dir).join("capture.txt");
    std::fs::write(&file, input).unwrap();
    let out = Command::new(BIN)
        .args(["decode", "--adapter", "sip"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, stdout, stderr, out.status.code())
}
