//! End to end, behaviour under trouble (not speed): the real daemon binary, real
//! clients on loopback.
//!
//! - A CSTA link to the fake switch dropped 1,000 times while calls go on: no call is
//!   popped twice or given two ids, every call whose events reached a live link is
//!   popped and ended exactly once, and no call is left behind.
//! - A 60 s database outage while calls go on: every call's row is written, once, after
//!   it (SQLite: the table is taken away; PostgreSQL, when `CTIBRIDGE_TEST_POSTGRES` is
//!   set: the server becomes unreachable, connections cut).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::csta::{csta_config, switch_config};
use common::*;
use ctibridge::crm::schema::call_log;
use ctibridge::on_conn;
use ctibridge_csta::fake::FakeSwitch;
use diesel::prelude::*;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

/// Read every frame `client` gets until `stop` is set; returns the events.
fn collect(mut client: Client, stop: Arc<AtomicBool>) -> JoinHandle<Vec<Value>> {
    tokio::spawn(async move {
        let mut events = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if let Some(frame) = client.frame_within(Duration::from_millis(100)).await {
                if frame["type"] == "evt" {
                    events.push(frame);
                }
            }
        }
        events
    })
}

/// Wait until `check` holds, polling; panics with `what` after `WAIT`.
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The calls a fresh supervisor's snapshot lists.
async fn live_calls(url: &str) -> Vec<Value> {
    let (mut fresh, _) = Client::login(url, SUPERVISOR).await;
    let snapshot = fresh.event("snapshot", |_| true).await;
    snapshot["data"]["calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// One caller after another at `extension`: rings 100 ms, talks 100 ms. Returns each
/// caller's number and whether its ringing was reported on a link that stayed up
/// until the answer (then the daemon must have seen it).
fn callers(
    switch: FakeSwitch,
    extension: &'static str,
    monitors: usize,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Vec<(String, bool)>> {
    tokio::spawn(async move {
        let mut calls = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let ani = format!("+1415{extension}{n:03}");
            let link_before = switch.connections_accepted().await;
            let monitored = switch.monitored().await.len() == monitors;
            switch.ring(&ani, extension).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let seen_live = monitored
                && switch.is_connected().await
                && switch.connections_accepted().await == link_before;
            switch.answer(extension).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            switch.hangup(extension).await;
            calls.push((ani, seen_live));
        }
        calls
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csta_link_flapping_1000_times_under_traffic_loses_and_duplicates_nothing() {
    const FLAPS: usize = 1000;
    let switch = FakeSwitch::start(switch_config()).await.unwrap();
    let dir = temp_dir("flapping");
    let port = free_port();
    let config = csta_config(port, &dir, &switch).replace(
        "reconnect_min_s = 0.1\nreconnect_max_s = 0.5",
        "reconnect_min_s = 0.005\nreconnect_max_s = 0.02",
    );
    let daemon = Daemon::start(&dir, port, &config).await;
    // The devices the fake knows are monitored once the link is set up (it refuses
    // the others, as a switch does).
    let monitors = switch.monitored().await.len();
    assert!(monitors >= 3, "{:?}", switch.monitored().await);
    let (watcher, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let stop_watching = Arc::new(AtomicBool::new(false));
    let watched = collect(watcher, stop_watching.clone());
    let stop_calling = Arc::new(AtomicBool::new(false));
    let traffic =
        ["1001", "1002"].map(|ext| callers(switch.clone(), ext, monitors, stop_calling.clone()));

    let started = std::time::Instant::now();
    for flap in 0..FLAPS {
        if flap % 100 == 0 {
            eprintln!("flap {flap} after {:?}", started.elapsed());
        }
        let before = switch.connections_accepted().await;
        until("the link is up and monitoring", || async {
            switch.is_connected().await && switch.monitored().await.len() == monitors
        })
        .await;
        // Drop at every point of the set-up and of a settled link: 0-19 ms after the
        // monitors are in place (the snapshot follows them); every tenth time the link
        // stays up long enough for whole rings to be reported on it.
        let settled = if flap % 10 == 9 { 250 } else { flap % 20 };
        tokio::time::sleep(Duration::from_millis(settled as u64)).await;
        assert!(switch.drop_link().await, "flap {flap}: no link to drop");
        until("the daemon reconnects", || async {
            switch.connections_accepted().await > before
        })
        .await;
    }
    until("the link is up after the last flap", || async {
        switch.is_connected().await && switch.monitored().await.len() == monitors
    })
    .await;
    assert!(switch.connections_accepted().await > FLAPS);

    stop_calling.store(true, Ordering::Relaxed);
    let mut calls = Vec::new();
    for caller in traffic {
        calls.extend(caller.await.unwrap());
    }
    until("the switch has no calls", || async {
        switch.calls().await.is_empty()
    })
    .await;
    // No stale call: the daemon's picture empties too.
    let url = daemon.url();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let live = live_calls(&url).await;
        if live.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stale calls: {live:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_watching.store(true, Ordering::Relaxed);
    let events = watched.await.unwrap();

    // Per caller: the call ids its events carried, its pops and its ends.
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut offered: BTreeMap<String, usize> = BTreeMap::new();
    let mut ended: BTreeMap<String, usize> = BTreeMap::new();
    let mut ani_of: BTreeMap<String, String> = BTreeMap::new();
    for event in &events {
        let data = &event["data"];
        let Some(call) = data["call"].as_str() else {
            continue;
        };
        if let Some(ani) = data["ani"].as_str() {
            ani_of.insert(call.to_string(), ani.to_string());
            ids.entry(ani.to_string())
                .or_default()
                .insert(call.to_string());
        }
        let Some(ani) = ani_of.get(call).cloned() else {
            continue;
        };
        match event["name"].as_str() {
            Some("call.offered") => *offered.entry(ani).or_default() += 1,
            Some("call.ended") => *ended.entry(ani).or_default() += 1,
            _ => {}
        }
    }
    let must = calls.iter().filter(|(_, live)| *live).count();
    assert!(
        must >= 50,
        "too few calls rang on a settled link to tell ({must} of {})",
        calls.len()
    );
    for (ani, seen_live) in &calls {
        let pops = offered.get(ani).copied().unwrap_or(0);
        let ends = ended.get(ani).copied().unwrap_or(0);
        let call_ids = ids.get(ani).map(BTreeSet::len).unwrap_or(0);
        assert!(call_ids <= 1, "{ani}: {call_ids} call ids: {:?}", ids[ani]);
        assert!(pops <= 1, "{ani}: popped {pops} times");
        if *seen_live {
            assert_eq!(pops, 1, "{ani} rang on a live link but was not popped");
        }
        assert_eq!(ends, pops, "{ani}: popped {pops} times, ended {ends} times");
    }
    eprintln!(
        "{FLAPS} flaps, {} calls, {must} rang on a settled link, {} popped, {} events",
        calls.len(),
        offered.len(),
        events.len()
    );
}

/// The agent makes calls as fast as the test can: no request rate limit.
const UNLIMITED: &str = "rate_limit_per_s = 100000\nrate_limit_burst = 100000";

fn logged_call_ids(url: &str) -> Vec<String> {
    with_db(url, |conn| {
        on_conn!(conn, c => call_log::table.select(call_log::call_id).load(c)).unwrap()
    })
}

/// Calls from outside to 1001, one after another, answered and hung up by the agent,
/// until `stop`; returns their ids.
fn agent_calls(
    url: String,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
) -> JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let (mut agent, _) = Client::login(&url, AGENT_1001).await;
        let mut calls = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            agent.seen.clear();
            let ani = format!("+1415555{n:04}");
            agent
                .ok("sim.call", json!({"from": ani, "to": "1001"}))
                .await;
            let pop = agent
                .event("call.offered", |d| d["ani"] == ani.as_str())
                .await;
            let call = pop["data"]["call"].as_str().unwrap().to_string();
            agent.ok("call.answer", json!({"call": call})).await;
            agent.ok("call.hangup", json!({"call": call})).await;
            agent
                .event("call.ended", |d| d["call"] == call.as_str())
                .await;
            calls.push(call);
            done.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        calls
    })
}

/// Calls go on for 5 s, then through `outage` (started by `down`, ended by `up`), then
/// 5 s more; every call's row must then be in the database exactly once.
async fn outage_loses_no_row(
    daemon: &Daemon,
    db_url: &str,
    outage: Duration,
    down: impl std::future::Future<Output = ()>,
    up: impl std::future::Future<Output = ()>,
) {
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let traffic = agent_calls(daemon.url(), stop.clone(), done.clone());
    tokio::time::sleep(Duration::from_secs(5)).await;
    down.await;
    let before = done.load(Ordering::Relaxed);
    supervisor.event("database.down", |_| true).await;
    tokio::time::sleep(outage).await;
    let during = done.load(Ordering::Relaxed) - before;
    up.await;
    supervisor.event("database.up", |_| true).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let calls = traffic.await.unwrap();

    let deadline = tokio::time::Instant::now() + WAIT;
    let rows = loop {
        let rows = logged_call_ids(db_url);
        if rows.len() >= calls.len() || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let unique: BTreeSet<&String> = rows.iter().collect();
    assert_eq!(unique.len(), rows.len(), "a row written twice");
    let expected: BTreeSet<&String> = calls.iter().collect();
    assert_eq!(unique, expected, "rows and calls differ");
    assert!(
        during >= 50,
        "calls went on during the outage: {during} of {}",
        calls.len()
    );
    eprintln!(
        "{} calls, {during} of them during a {} s outage, every row written once",
        calls.len(),
        outage.as_secs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60_s_sqlite_outage_under_traffic_loses_no_row() {
    let dir = temp_dir("outage-sqlite");
    let port = free_port();
    let config = standard_config(port, &dir, UNLIMITED);
    let daemon = Daemon::start(&dir, port, &config).await;
    let db_url = daemon.db_url();
    let sql = |statement: &'static str| {
        let db_url = db_url.clone();
        async move {
            with_db(&db_url, move |conn| {
                use diesel::connection::SimpleConnection;
                on_conn!(conn, c => c.batch_execute(statement)).unwrap()
            })
        }
    };
    outage_loses_no_row(
        &daemon,
        &db_url,
        Duration::from_secs(60),
        sql("ALTER TABLE call_log RENAME TO call_log_away"),
        sql("ALTER TABLE call_log_away RENAME TO call_log"),
    )
    .await;
}

/// A TCP relay in front of the database server that can be cut (listener closed,
/// every connection through it reset) and restored.
struct Relay {
    port: u16,
    server: String,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Relay {
    async fn start(server: String) -> Arc<Relay> {
        let relay = Arc::new(Relay {
            port: free_port(),
            server,
            task: std::sync::Mutex::new(None),
        });
        relay.restore().await;
        relay
    }

    async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let server = self.server.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let server = server.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&server).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    /// Aborting the task drops the listener and the JoinSet, which aborts every
    /// connection: the daemon's sockets see a reset, new connects are refused.
    async fn cut(&self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60_s_postgres_outage_under_traffic_loses_no_row() {
    let Some(db_url) = test_database("postgres") else {
        return;
    };
    let server = ctibridge::crm::db::server(&db_url).unwrap();
    let relay = Relay::start(server.clone()).await;
    let through_relay = db_url.replacen(&server, &format!("127.0.0.1:{}", relay.port), 1);
    cli_ok(&["migrate", "--database", &db_url]);
    let dir = temp_dir("outage-postgres");
    let port = free_port();
    let sqlite_line = format!("url = \"sqlite://{}\"", dir.join("crm.db").display());
    let config = standard_config(port, &dir, UNLIMITED).replace(
        &sqlite_line,
        &format!(
            "url = \"{through_relay}\"\njournal = \"{}\"",
            dir.join("writes.journal").display()
        ),
    );
    let daemon = Daemon::start(&dir, port, &config).await;
    outage_loses_no_row(
        &daemon,
        &db_url,
        Duration::from_secs(60),
        relay.cut(),
        relay.restore(),
    )
    .await;
}
