//! A daemon started before its database: it serves clients and pops from switch
//! data, journals the writes, says `/healthz` 503 and `database.down`, and once the
//! database appears writes every row exactly once, in order. On PostgreSQL and
//! MySQL/MariaDB (when `CTIBRIDGE_TEST_POSTGRES` / `CTIBRIDGE_TEST_MYSQL` name a
//! server), two ways: the database does not exist yet and is created later, or
//! nothing listens on its port until a TCP relay to the real server starts there.
//! Without any server: a daemon stopped before it ever reached its database exits
//! cleanly with the writes in its journal.

mod common;

use std::time::Duration;

use common::*;
use ctibridge::crm::db::{self, AnyConn};
use ctibridge::crm::schema::call_log;
use ctibridge::on_conn;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

/// Generous: nothing here may depend on the machine's speed.
const LATER: Duration = Duration::from_secs(90);

/// Call ids in the order they were offered; `None` while the database is not there.
fn logged_calls(url: &str) -> Option<Vec<String>> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut conn = AnyConn::establish(&url).ok()?;
        on_conn!(&mut conn, c => call_log::table
            .select(call_log::call_id)
            .order(call_log::offered_at)
            .load(c))
        .ok()
    })
    .join()
    .unwrap()
}

/// `url` with its `host:port` replaced by `127.0.0.1:port`.
fn at_port(url: &str, port: u16) -> String {
    let server = db::server(url).unwrap();
    url.replacen(&server, &format!("127.0.0.1:{port}"), 1)
}

/// Relay every connection to `127.0.0.1:port` to `server` (`host:port`).
async fn relay(port: u16, server: String) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let server = server.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&server).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

/// A call from +14155550123 to 1001, answered and hung up; its id. The pop comes
/// although no contact can be looked up.
async fn one_call(agent: &mut Client) -> String {
    agent
        .ok("sim.call", json!({"from": "+14155550123", "to": "1001"}))
        .await;
    let pop = agent.event("call.offered", |_| true).await;
    assert_eq!(pop["data"]["ani"], "+14155550123", "{pop}");
    let call = pop["data"]["call"].as_str().unwrap().to_string();
    agent.ok("call.answer", json!({"call": call})).await;
    agent.ok("call.hangup", json!({"call": call})).await;
    agent
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    call
}

#[derive(Clone, Copy)]
enum Missing {
    /// The database does not exist until the test creates it.
    Database,
    /// Nothing listens on the URL's port until the test starts a relay there.
    Server,
}

async fn database_appears_later(name: &str, env_var: &str, missing: Missing) {
    let Ok(server_url) = std::env::var(env_var) else {
        eprintln!("{env_var} is not set; not tested on that backend");
        return;
    };
    let dir = temp_dir(name);
    let relay_port = free_port();
    // A name the scratch-database clean-up knows (ctibridge_test_<uuid v7>).
    let db_name = format!("ctibridge_test_{}", uuid::Uuid::now_v7().simple());
    let url = match missing {
        Missing::Database => {
            let base = &server_url[..server_url.rfind('/').unwrap()];
            format!("{base}/{db_name}")
        }
        Missing::Server => at_port(&db::scratch_database(env_var).unwrap(), relay_port),
    };
    let port = free_port();
    let sqlite_line = format!("url = \"sqlite://{}\"", dir.join("crm.db").display());
    let config = standard_config(port, &dir, "").replace(
        &sqlite_line,
        &format!(
            "url = \"{url}\"\njournal = \"{}\"",
            dir.join("writes.journal").display()
        ),
    );
    assert!(config.contains(&url));
    let daemon = Daemon::spawn(&dir, port, &config);
    daemon.answering().await;

    let (status, body) = http_get(port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 503, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["database"]["up"], false, "{health}");
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let snapshot = supervisor.event("snapshot", |_| true).await;
    assert_eq!(snapshot["data"]["database"]["up"], false, "{snapshot}");

    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(one_call(&mut agent).await);
    }
    let (status, _) = http_get(port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 503);
    let log = daemon.log();
    let server = match missing {
        Missing::Database => db::server(&url).unwrap(),
        Missing::Server => format!("127.0.0.1:{relay_port}"),
    };
    assert!(log.contains("database not reachable"), "{log}");
    assert!(log.contains(&server), "the log names {server}:\n{log}");

    // The database appears.
    let _relay = match missing {
        Missing::Database => {
            let create = format!("CREATE DATABASE {db_name}");
            with_db(&server_url, move |conn| {
                on_conn!(conn, c => c.batch_execute(&create)).unwrap()
            });
            None
        }
        Missing::Server => Some(relay(relay_port, db::server(&server_url).unwrap()).await),
    };
    let deadline = tokio::time::Instant::now() + LATER;
    let rows = loop {
        match logged_calls(&url) {
            Some(rows) if rows.len() >= calls.len() => break rows,
            _ => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the journal was not written:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(rows, calls, "every call once, in order");
    supervisor.event("database.up", |_| true).await;
    let (status, body) = http_get(port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 200, "{body}");

    // Live again: the next call's row is written by the time its call.ended is out.
    let next = one_call(&mut agent).await;
    let rows = logged_calls(&url).unwrap();
    assert_eq!(rows.last(), Some(&next));
    assert_eq!(rows.len(), 4, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_database_created_after_the_start() {
    database_appears_later("later-pg-db", "CTIBRIDGE_TEST_POSTGRES", Missing::Database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_reachable_after_the_start() {
    database_appears_later(
        "later-pg-server",
        "CTIBRIDGE_TEST_POSTGRES",
        Missing::Server,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_database_created_after_the_start() {
    database_appears_later("later-my-db", "CTIBRIDGE_TEST_MYSQL", Missing::Database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_server_reachable_after_the_start() {
    database_appears_later("later-my-server", "CTIBRIDGE_TEST_MYSQL", Missing::Server).await;
}

/// Without any server (this runs everywhere): pops go out, the writes are journaled,
/// and a daemon stopped before the database was ever reached leaves them in the
/// journal for the next run, having exited cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_before_the_database_was_reached_the_writes_stay_journaled() {
    let dir = temp_dir("later-never");
    let port = free_port();
    let db_port = free_port();
    let url = format!("postgres://crm:secret@127.0.0.1:{db_port}/crm");
    let journal = dir.join("writes.journal");
    let sqlite_line = format!("url = \"sqlite://{}\"", dir.join("crm.db").display());
    let config = standard_config(port, &dir, "").replace(
        &sqlite_line,
        &format!("url = \"{url}\"\njournal = \"{}\"", journal.display()),
    );
    let mut daemon = Daemon::spawn(&dir, port, &config);
    daemon.answering().await;
    let (mut agent, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let call = one_call(&mut agent).await;
    let (status, _) = http_get(port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 503);
    let log = daemon.log();
    assert!(
        log.contains(&format!("PostgreSQL at 127.0.0.1:{db_port}")),
        "{log}"
    );
    assert!(log.contains("crm:***@") && !log.contains("secret"), "{log}");

    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let deadline = std::time::Instant::now() + LATER;
    let status = loop {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}\n{}", daemon.log());
    let journaled = std::fs::read_to_string(&journal).unwrap();
    let rows: Vec<serde_json::Value> = journaled
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|w: &serde_json::Value| w["op"] == "call_log")
        .collect();
    assert!(
        rows.iter().any(|w| w["call_id"] == call.as_str()),
        "{journaled}"
    );
}
