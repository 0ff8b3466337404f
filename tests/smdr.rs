//! SMDR call records end to end.
//!
//! - The real binary with an `smdr` switch in listen mode: a "PBX" connects and sends
//!   Avaya IP Office records; a supervisor gets `call.record` with the CRM contact,
//!   the row lands in the call log, and a replayed record is neither published nor
//!   stored again.
//! - In process, with the simulator: a call ends at 1001, then the switch's record
//!   of it arrives and completes that call's row instead of adding one.

mod common;

use std::time::Duration;

use common::in_process::InProcess;
use common::*;
use ctibridge_adapter::{CallRecord, Direction};
use diesel::prelude::*;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CONTACTS: &str = "name,phone,company,external_id,url\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1\n";

const RECORD: &str = "2026/03/10 09:14:02,00:03:41,6,4155550123,I,1001,1001,ACC7,0,1000042,0,E1001,Agent One,T9001,Line 1.1,0,0,,,,0.00,,0.00,0,0,0.00,0.00,,,";
const SECOND: &str = "2026/03/10 09:30:00,00:00:45,3,2125550188,I,1002,1002,,0,1000043,0,E1002,Agent Two,T9001,Line 1.1,0,0,,,,0.00,,0.00,0,0,0.00,0.00,,,";

/// Rows with a record key: (raw, source, contact_id).
fn record_rows(db_url: &str) -> Vec<(Option<String>, String, Option<i32>)> {
    let mut conn = sqlite(db_url);
    use ctibridge::crm::schema::call_log::dsl as log;
    log::call_log
        .filter(log::record_key.is_not_null())
        .order(log::offered_at)
        .select((log::raw, log::source, log::contact_id))
        .load(&mut conn)
        .unwrap()
}

/// No `call.record` reaches `client` for `quiet` (other events may).
async fn no_record(client: &mut Client, quiet: Duration) {
    let deadline = tokio::time::Instant::now() + quiet;
    while let Some(frame) = client
        .frame_within(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        assert_ne!(
            frame["name"], "call.record",
            "a repeated record was published: {frame}"
        );
    }
}

async fn dial(port: u16) -> TcpStream {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            return stream;
        }
        assert!(tokio::time::Instant::now() < deadline, "smdr port not open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn records_from_a_listening_smdr_link_reach_clients_and_the_call_log() {
    let dir = temp_dir("smdr-e2e");
    let port = free_port();
    let smdr_port = free_port();
    // The smdr switch goes in front of the first token table.
    let config = standard_config(port, &dir, "").replacen(
        "[[auth.tokens]]",
        &format!(
            "[[switch]]\nname = \"ipo\"\nadapter = \"smdr\"\nlisten = \"127.0.0.1:{smdr_port}\"\nformat = \"avaya-ipo\"\nutc_offset = \"+00:00\"\n\n[[auth.tokens]]"
        ),
        1,
    );
    let db_url = format!("sqlite://{}", dir.join("crm.db").display());
    import_contacts(&db_url, &dir, CONTACTS);
    // Not healthy until the PBX connects: wait for any answer.
    let daemon = Daemon::spawn(&dir, port, &config);
    daemon.answering().await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;

    let mut pbx = dial(smdr_port).await;
    supervisor.event("link.up", |d| d["switch"] == "ipo").await;
    pbx.write_all(format!("CallStart,ConnectedTime,RingTime\r\n{RECORD}\r\n").as_bytes())
        .await
        .unwrap();
    let event = supervisor.event("call.record", |_| true).await;
    assert_eq!(event["topic"], "switch:ipo");
    let data = &event["data"];
    assert_eq!(data["switch"], "ipo");
    assert!(
        data.get("call").is_none(),
        "no live call to correlate with: {data}"
    );
    assert_eq!(data["record"]["calling"], "4155550123");
    assert_eq!(data["record"]["extension"], "1001");
    assert_eq!(data["record"]["account"], "ACC7");
    assert_eq!(data["record"]["direction"], "in");
    // The switch's clock, at the configured offset.
    assert_eq!(data["record"]["start"], "2026-03-10T09:14:02+00:00");
    assert!(data["record"].get("start_zone").is_none(), "{data}");
    assert_eq!(data["crm"]["matches"][0]["name"], "Ada Lovelace", "{data}");
    // The agent whose extension it names gets it too.
    agent
        .event("call.record", |d| d["record"]["call_id"] == "1000042")
        .await;

    // The link drops; the PBX replays its buffer on the new connection.
    drop(pbx);
    supervisor
        .event("link.down", |d| d["switch"] == "ipo")
        .await;
    let mut pbx = dial(smdr_port).await;
    pbx.write_all(format!("{RECORD}\r\n{SECOND}\r\n").as_bytes())
        .await
        .unwrap();
    let next = supervisor.event("call.record", |_| true).await;
    assert_eq!(
        next["data"]["record"]["call_id"], "1000043",
        "the replay was dropped"
    );

    let rows = record_rows(&db_url);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0.as_deref(), Some(RECORD));
    assert_eq!(rows[0].1, "smdr");
    assert!(rows[0].2.is_some(), "linked to the contact");
    drop(daemon);

    // After a restart, the same replay still adds nothing.
    let daemon = Daemon::spawn(&dir, port, &config);
    daemon.answering().await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let mut pbx = dial(smdr_port).await;
    supervisor.event("link.up", |d| d["switch"] == "ipo").await;
    pbx.write_all(format!("{RECORD}\r\n{SECOND}\r\n").as_bytes())
        .await
        .unwrap();
    no_record(&mut supervisor, Duration::from_millis(800)).await;
    assert_eq!(record_rows(&db_url).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_completes_the_row_of_the_call_it_describes() {
    let dir = temp_dir("smdr-correlate");
    let port = free_port();
    let config = standard_config(port, &dir, "");
    let db_url = format!("sqlite://{}", dir.join("crm.db").display());
    import_contacts(&db_url, &dir, CONTACTS);
    let daemon = InProcess::start(&config, port).await;
    let url = daemon.url.clone();
    let (mut supervisor, _) = Client::login(&url, SUPERVISOR).await;
    let (mut agent, _) = Client::login(&url, AGENT_1001).await;
    let sim = daemon.sim();

    // A live call at 1001 from Ada, answered and hung up.
    supervisor
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let call = agent.event("call.offered", |_| true).await["data"]["call"].clone();
    agent.ok("call.answer", json!({"call": call})).await;
    agent.ok("call.hangup", json!({"call": call})).await;
    supervisor.event("call.ended", |d| d["call"] == call).await;

    // Then the switch prints its record of that call.
    let raw = "2026/03/10 09:14:02,00:00:01,2,4155550123,I,1001,1001,ACC7,0,77,0,E1001,Agent One,T9001,Line 1.1,0,0";
    let record = CallRecord {
        call_id: Some("77".into()),
        start: Some((chrono::Utc::now() - chrono::Duration::seconds(3)).into()),
        duration_s: Some(1.0),
        ring_s: Some(2.0),
        direction: Some(Direction::In),
        extension: Some("1001".into()),
        calling: Some("4155550123".into()),
        account: Some("ACC7".into()),
        ..CallRecord::default()
    };
    sim.record(record.clone(), raw).await;
    let event = supervisor.event("call.record", |_| true).await;
    assert_eq!(event["data"]["call"], call, "correlated with the live call");
    assert_eq!(event["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");

    // One row for the call, completed by the record; `source` stays `cti`.
    let mut conn = sqlite(&db_url);
    use ctibridge::crm::schema::call_log::dsl as log;
    let rows: Vec<(String, String, Option<String>, Option<String>)> = log::call_log
        .select((log::call_id, log::source, log::raw, log::record_key))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, call.as_str().unwrap());
    assert_eq!(rows[0].1, "cti");
    assert_eq!(rows[0].2.as_deref(), Some(raw));
    assert!(rows[0].3.is_some());

    // The same record again is dropped.
    sim.record(record, raw).await;
    no_record(&mut supervisor, Duration::from_millis(500)).await;

    daemon.stop().await;
}
