//! The same call-centre day on every database backend: SQLite always, PostgreSQL and
//! MySQL/MariaDB when `CTIBRIDGE_TEST_POSTGRES` / `CTIBRIDGE_TEST_MYSQL` name a server
//! (each run gets a database of its own there). The real daemon, real clients:
//! contacts imported with the CLI pop on a call, its row is written, the database is
//! taken away and the next call's events still go out (journaled; `database.down`,
//! `/healthz` 503), and when it is back the journal lands (`database.up`), the
//! reports count both calls.

mod common;

use std::time::Duration;

use common::*;
use ctibridge::crm::schema::call_log;
use ctibridge::on_conn;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

const CONTACTS: &str = "name,phone,company,external_id,url\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1\n";

fn logged_calls(url: &str) -> Vec<(String, Option<i32>, String)> {
    with_db(url, |conn| {
        on_conn!(conn, c => call_log::table
            .select((call_log::call_id, call_log::contact_id, call_log::outcome))
            .order(call_log::offered_at)
            .load(c))
        .unwrap()
    })
}

fn execute(url: &str, sql: &'static str) {
    with_db(url, move |conn| {
        on_conn!(conn, c => c.batch_execute(sql)).unwrap()
    });
}

/// A call from Ada to 1001, answered and hung up; its id.
async fn one_call(agent: &mut Client) -> String {
    agent
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let pop = agent.event("call.offered", |_| true).await;
    assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");
    let call = pop["data"]["call"].as_str().unwrap().to_string();
    agent.ok("call.answer", json!({"call": call})).await;
    agent.ok("call.hangup", json!({"call": call})).await;
    agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    call
}

async fn call_centre_day(name: &str, url: &str) {
    let dir = temp_dir(name);
    let port = free_port();
    let sqlite_line = format!("url = \"sqlite://{}\"", dir.join("crm.db").display());
    let config = standard_config(port, &dir, "").replace(
        &sqlite_line,
        &format!(
            "url = \"{url}\"\njournal = \"{}\"",
            dir.join("writes.journal").display()
        ),
    );
    assert!(config.contains(url), "the config names the test database");
    cli_ok(&["migrate", "--database", url]);
    import_contacts(url, &dir, CONTACTS);
    let daemon = Daemon::start(&dir, port, &config).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;

    let first = one_call(&mut agent).await;
    let rows = logged_calls(url);
    assert_eq!(
        rows.len(),
        1,
        "the row is there when call.ended is: {rows:?}"
    );
    assert_eq!(rows[0].0, first);
    assert!(rows[0].1.is_some(), "linked to the contact");
    assert_eq!(rows[0].2, "answered");

    // The database stops taking writes: the next call's events still go out.
    execute(url, "ALTER TABLE call_log RENAME TO call_log_away");
    let second = one_call(&mut agent).await;
    supervisor.event("database.down", |_| true).await;
    let (status, _) = http_get(port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 503);

    // Back: the journal lands in order and clients hear of it.
    execute(url, "ALTER TABLE call_log_away RENAME TO call_log");
    let up = supervisor.event("database.up", |_| true).await;
    assert_eq!(up["topic"], "system");
    let deadline = tokio::time::Instant::now() + WAIT;
    let rows = loop {
        let rows = logged_calls(url);
        if rows.len() == 2 || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);

    let agents = supervisor
        .ok("report.agents", json!({"from": "2020-01-01"}))
        .await;
    let a1001 = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "1001")
        .cloned()
        .unwrap();
    assert_eq!(a1001["handled"], 2, "{a1001}");
    let out = cli_ok(&[
        "report",
        "agents",
        "--database",
        url,
        "--from",
        "2020-01-01",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        report["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["agent"] == "1001" && a["handled"] == 2),
        "{report}"
    );
}

/// `[crm] lookup_sql` on an existing CRM table: a pop carries the CRM's record; a
/// statement that cannot work stops the start with a message naming it. `log_sql`
/// writes the call into the CRM's activity table too. `log_sql`
/// writes the call into the CRM's activity table too.
async fn crm_schema_lookup(name: &str, url: &str) {
    let dir = temp_dir(name);
    cli_ok(&["migrate", "--database", url]);
    execute(url, "CREATE TABLE people (pid INTEGER PRIMARY KEY, full_name VARCHAR(100), mobile VARCHAR(20), firm VARCHAR(100))");
    execute(
        url,
        "INSERT INTO people VALUES (42, 'Ada (CRM)', '4155550123', 'Analytical Engines')",
    );
    execute(url, "CREATE TABLE activities (ref VARCHAR(64) PRIMARY KEY, phone VARCHAR(32), started TIMESTAMP NULL, seconds DOUBLE PRECISION)");
    let with_lookup = |port: u16, sql: &str| {
        standard_config(port, &dir, "")
            .replace(
                &format!("url = \"sqlite://{}\"", dir.join("crm.db").display()),
                &format!(
                    "url = \"{url}\"\njournal = \"{}\"",
                    dir.join("writes.journal").display()
                ),
            )
            .replace(
                "[crm]\n",
                &format!("[crm]\nlookup_sql = \"{sql}\"\nlog_sql = \"INSERT INTO activities (ref, phone, started, seconds) VALUES (:call_id, :ani_e164, :offered_at, :talk_s)\"\n"),
            )
    };

    let port = free_port();
    let bad = with_lookup(
        port,
        "SELECT pid AS id, full_name AS name FROM peeple WHERE mobile = :national",
    );
    let path = dir.join("bad.toml");
    std::fs::write(&path, bad).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["run", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[crm] lookup_sql"), "{stderr}");
    assert!(stderr.contains("peeple"), "{stderr}");

    let port = free_port();
    let config = with_lookup(
        port,
        "SELECT pid AS id, full_name AS name, firm AS company FROM people WHERE mobile = :national",
    );
    let daemon = Daemon::start(&dir, port, &config).await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    agent
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let pop = agent.event("call.offered", |_| true).await;
    let matched = &pop["data"]["crm"]["matches"][0];
    assert_eq!(matched["name"], "Ada (CRM)", "{pop}");
    assert_eq!(matched["id"], 42);
    assert_eq!(matched["company"], "Analytical Engines");
    let found = agent
        .ok("crm.lookup", json!({"number": "(415) 555-0123"}))
        .await;
    assert_eq!(found["matches"][0]["name"], "Ada (CRM)");

    let call = pop["data"]["call"].as_str().unwrap().to_string();
    agent.ok("call.answer", json!({"call": call})).await;
    agent.ok("call.hangup", json!({"call": call})).await;
    agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    let logged: Vec<(String, Option<String>)> = with_db(url, |conn| {
        on_conn!(conn, c => diesel::sql_query("SELECT ref, phone FROM activities")
            .load::<Activity>(c))
        .unwrap()
        .into_iter()
        .map(|a| (a.reference, a.phone))
        .collect()
    });
    assert_eq!(logged, [(call, Some("+14155550123".to_string()))]);
}

#[derive(QueryableByName)]
struct Activity {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "ref")]
    reference: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    phone: Option<String>,
}

/// One test per backend and scenario.
macro_rules! on_backends {
    ($($test:ident: $scenario:ident on $backend:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            if let Some(url) = test_database($backend) {
                $scenario(stringify!($test), &url).await;
            }
        }
    )*};
}

on_backends! {
    crm_schema_lookup_on_sqlite: crm_schema_lookup on "sqlite";
    crm_schema_lookup_on_postgres: crm_schema_lookup on "postgres";
    crm_schema_lookup_on_mysql: crm_schema_lookup on "mysql";
    a_day_on_sqlite: call_centre_day on "sqlite";
    a_day_on_postgres: call_centre_day on "postgres";
    a_day_on_mysql: call_centre_day on "mysql";
}
