//! End to end in a real browser: the agent page and the wallboard, served by the
//! daemon in demo mode, driven in headless Chromium over the DevTools protocol the
//! way a person uses them, while WebSocket clients of the test place calls and watch
//! the events. Nothing any page reports as an error (exception, `console.error`, a
//! failed load) is allowed.
//!
//! Runs when `CTIBRIDGE_TEST_CHROMIUM` names a Chromium binary (`.ci/run` installs
//! Debian's `chromium` and sets it); without it the test says so and passes. With
//! `CTIBRIDGE_SCREENSHOTS=<dir>` it also writes `agent-page.png` and `wallboard.png`
//! there (the README's pictures).

mod common;

#[path = "browser/chromium.rs"]
mod chromium;
#[path = "browser/demo_daemon.rs"]
mod demo_daemon;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromium::{Chromium, Problem, Tab};
use common::{free_port, temp_dir, Client};
use demo_daemon::DemoDaemon;
use serde_json::{json, Value};

const AGENT_TOKEN: &str = "demo-agent-1001";
const SUPERVISOR_TOKEN: &str = "demo-supervisor";
/// Demo contacts (src/crm/seed.rs) the calls come from.
const ADA: (&str, &str) = ("+14155550123", "Ada Lovelace");
const GRACE: (&str, &str) = ("+14155550134", "Grace Hopper");
const ALAN: (&str, &str) = ("+442079460123", "Alan Turing");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_page_and_the_wallboard_work_in_a_real_browser() {
    let Some(binary) = std::env::var("CTIBRIDGE_TEST_CHROMIUM")
        .ok()
        .filter(|b| !b.is_empty())
    else {
        eprintln!("CTIBRIDGE_TEST_CHROMIUM is not set; the browser test is not run");
        return;
    };
    let shots = std::env::var_os("CTIBRIDGE_SCREENSHOTS").map(PathBuf::from);
    let dir = temp_dir("browser");
    let daemon = DemoDaemon::start(free_port(), &dir.join("data")).await;
    let chromium = Chromium::launch(&binary, &dir.join("profile")).await;

    let agent = chromium.open("agent page", &daemon.page_url("/")).await;
    sign_in_with_a_rejected_then_a_good_token(&agent).await;
    let call =
        a_call_pops_and_is_answered_held_retrieved_and_hung_up(&daemon, &agent, &shots).await;
    not_ready_with_a_reason(&agent).await;

    // The daemon stops (closing with "going away"); the page says it is
    // reconnecting, and tries at least once while nothing listens (the browser logs
    // the refused connection); then the daemon starts again on the same port with
    // the same data, and the page's next try gets in.
    let (port, data) = (daemon.port, daemon.data_dir.clone());
    let down_at = Instant::now();
    daemon.stop().await;
    agent.wait_for("#conn-status", "reconnecting").await;
    chromium
        .wait_problem("a refused reconnect", |p| is_refused_reconnect(p, port))
        .await;
    let daemon = DemoDaemon::start(port, &data).await;
    let up_at = Instant::now();
    the_page_reconnects_and_pops_again(&daemon, &agent, &call).await;

    let wallboard = chromium
        .open("wallboard", &daemon.page_url("/wallboard"))
        .await;
    the_wallboard_figures_follow_the_calls(&daemon, &wallboard, &shots).await;

    // While the daemon was down the browser may have logged a refused reconnect:
    // that is the browser's report of the restart, not a fault of the page. (The
    // slack covers the report's way through the DevTools connection.)
    let problems: Vec<Problem> = chromium.problems.lock().unwrap().clone();
    let refused = |p: &Problem| {
        is_refused_reconnect(p, port) && p.at >= down_at && p.at <= up_at + Duration::from_secs(5)
    };
    let tolerated = problems.iter().filter(|p| refused(p)).count();
    eprintln!("refused reconnects logged while the daemon was down: {tolerated}");
    let faults: Vec<String> = problems
        .iter()
        .filter(|p| !refused(p))
        .map(|p| format!("{}: {}", p.tab, p.text))
        .collect();
    assert!(faults.is_empty(), "the pages reported errors: {faults:#?}");
    chromium.close().await;
    daemon.stop().await;
}

/// The browser's log entry for a WebSocket connection to the daemon that failed.
fn is_refused_reconnect(p: &Problem, port: u16) -> bool {
    p.tab == "agent page"
        && p.text.contains(&format!(
            "WebSocket connection to 'ws://127.0.0.1:{port}/v1/ws' failed"
        ))
}

async fn sign_in_with_a_rejected_then_a_good_token(page: &Tab) {
    // No token in the address bar or this tab's storage: the sign-in form.
    page.wait_for("#conn-status", "not signed in").await;
    assert_eq!(page.text("#app").await, "(hidden)");
    page.type_into("#token-input", "not-a-token").await;
    page.click("#connect-btn").await;
    page.wait_for("#conn-status", "token rejected").await;
    page.wait_for(
        "#signin-msg",
        "The token was rejected. Check it and sign in again.",
    )
    .await;

    page.type_into("#token-input", AGENT_TOKEN).await;
    page.click("#connect-btn").await;
    page.wait_for("#conn-status", "connected").await;
    page.wait_for("#me-agent", "1001").await;
    page.wait_for("#me-ext", "1001").await;
    page.wait_for("#agent-state-label", "Ready").await;
    page.wait_for("#links .link", "demo up").await;
    assert_eq!(page.text("#signin").await, "(hidden)");
}

/// A call from Ada Lovelace rings at 1001: the pop shows her CRM record; then the
/// page's own buttons answer, hold, retrieve and hang up. Returns the call id.
async fn a_call_pops_and_is_answered_held_retrieved_and_hung_up(
    daemon: &DemoDaemon,
    page: &Tab,
    shots: &Option<PathBuf>,
) -> String {
    // What a WebSocket client sees, to compare the page with.
    let (mut watcher, _) = Client::login(&daemon.ws_url(), AGENT_TOKEN).await;
    let (mut supervisor, _) = Client::login(&daemon.ws_url(), SUPERVISOR_TOKEN).await;
    // 1001 the only ready agent, so the Sales hotline's queue offers the call there.
    for other in ["1002", "1003"] {
        supervisor
            .ok(
                "agent.set_state",
                json!({"agent": other, "state": "not_ready", "reason": "training"}),
            )
            .await;
    }
    supervisor
        .ok(
            "sim.call",
            json!({"from": ADA.0, "to": "8005550100", "digits": "2"}),
        )
        .await;
    let offered = watcher
        .event("call.offered", |d| {
            d["device"] == "1001" && d["ani"] == ADA.0
        })
        .await;
    let offered_at = Instant::now();
    let call = offered["data"]["call"].as_str().unwrap().to_string();
    assert_eq!(offered["data"]["crm"]["matches"][0]["name"], ADA.1);

    page.wait_text("#pop-name", ADA.1, |t| t.starts_with(ADA.1))
        .await;
    eprintln!(
        "pop card with the CRM match on the page {:?} after the WebSocket client saw call.offered",
        offered_at.elapsed()
    );
    page.wait_for("#pop-title", "Incoming call").await;
    assert_eq!(page.text("#pop-number").await, ADA.0);
    assert_eq!(page.text("#pop-company").await, "Analytical Engines Ltd");
    assert_eq!(page.text("#pop-dnis").await, "8005550100");
    assert_eq!(page.text("#pop-queue").await, "8000");
    assert_eq!(page.text("#pop-digits").await, "2");
    assert_eq!(
        page.eval::<String>("document.title").await,
        "Incoming call · ctibridge"
    );
    let row = format!("#calls li[data-call='{call}']");
    page.wait_for(&format!("{row} .badge"), "Ringing").await;
    if let Some(dir) = shots {
        page.screenshot(&dir.join("agent-page.png")).await;
    }

    page.click("#btn-answer").await;
    watcher
        .event("call.answered", |d| d["call"] == call.as_str())
        .await;
    page.wait_for("#pop-title", "Talking").await;
    page.wait_for(&format!("{row} .badge"), "Talking").await;
    assert_eq!(page.text("#btn-answer").await, "(hidden)");

    page.click(&format!("{row} button[data-action=hold]")).await;
    watcher
        .event("call.held", |d| d["call"] == call.as_str())
        .await;
    page.wait_for("#pop-title", "On hold").await;
    page.wait_for(&format!("{row} .badge"), "On hold").await;

    page.click(&format!("{row} button[data-action=retrieve]"))
        .await;
    watcher
        .event("call.retrieved", |d| d["call"] == call.as_str())
        .await;
    page.wait_for("#pop-title", "Talking").await;
    page.wait_for(&format!("{row} .badge"), "Talking").await;

    page.click("#btn-hangup").await;
    watcher
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    page.wait_for("#pop-title", "Call ended").await;
    page.wait_for("#calls-empty", "No active calls.").await;
    let recent = format!("#recent li[data-call='{call}']");
    page.wait_text(&recent, "a recent call from Ada answered", |t| {
        t.contains(ADA.0) && t.contains(ADA.1) && t.contains("Answered")
    })
    .await;
    page.click("#pop-close").await;
    page.wait_text("#pop-empty", "the empty pop", |t| {
        t.starts_with("No call ringing")
    })
    .await;
    call
}

async fn not_ready_with_a_reason(page: &Tab) {
    page.eval::<Value>("document.getElementById('notready-reason').value = 'lunch'")
        .await;
    page.click("#btn-notready").await;
    page.wait_for("#agent-state-label", "Not ready").await;
    page.wait_for("#agent-state-reason", "Lunch").await;
    page.click("#btn-ready").await;
    page.wait_for("#agent-state-label", "Ready").await;
    page.wait_for("#agent-state-reason", "").await;
}

/// Welcome frames in the page's raw event log: one per (re)connection.
async fn welcomes(page: &Tab) -> u64 {
    page.eval(
        "[...document.querySelectorAll('#event-log li strong')]\
         .filter((s) => / welcome$/.test(s.textContent)).length",
    )
    .await
}

async fn the_page_reconnects_and_pops_again(daemon: &DemoDaemon, page: &Tab, before: &str) {
    let (mut supervisor, _) = Client::login(&daemon.ws_url(), SUPERVISOR_TOKEN).await;
    // A new connection to the restarted daemon: welcomed again, with a snapshot.
    let end = Instant::now() + chromium::DEADLINE;
    while welcomes(page).await < 2 {
        assert!(Instant::now() < end, "the page did not reconnect");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    page.wait_for("#conn-status", "connected").await;
    page.wait_for("#me-agent", "1001").await;
    page.wait_for("#agent-state-label", "Ready").await;
    // The old call stays in the history; the page took it as over.
    assert!(page
        .text(&format!("#recent li[data-call='{before}']"))
        .await
        .contains(ADA.1));

    supervisor
        .ok("sim.call", json!({"from": GRACE.0, "to": "1001"}))
        .await;
    page.wait_text("#pop-name", GRACE.1, |t| t.starts_with(GRACE.1))
        .await;
    page.wait_for("#pop-title", "Incoming call").await;
    let offered = supervisor
        .event("call.offered", |d| {
            d["device"] == "1001" && d["ani"] == GRACE.0
        })
        .await;
    let call = offered["data"]["call"].as_str().unwrap().to_string();
    page.click("#btn-hangup").await;
    supervisor
        .event("call.ended", |d| d["call"] == call.as_str())
        .await;
    page.wait_for("#pop-title", "Call ended").await;
}

/// The totals tiles of the wallboard: ready, talking, not ready, waiting.
async fn totals(page: &Tab) -> [u64; 4] {
    let mut out = [0; 4];
    for (i, id) in [
        "#total-ready",
        "#total-talking",
        "#total-notready",
        "#total-waiting",
    ]
    .iter()
    .enumerate()
    {
        out[i] = page.text(id).await.parse().unwrap();
    }
    out
}

async fn wait_totals(page: &Tab, want: [u64; 4]) {
    let end = Instant::now() + chromium::DEADLINE;
    loop {
        let now = totals(page).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < end,
            "wallboard totals {now:?}, want {want:?} (ready, talking, not ready, waiting)"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

async fn the_wallboard_figures_follow_the_calls(
    daemon: &DemoDaemon,
    page: &Tab,
    shots: &Option<PathBuf>,
) {
    page.wait_for("#conn-status", "not signed in").await;
    page.type_into("#token-input", SUPERVISOR_TOKEN).await;
    page.click("#connect-btn").await;
    page.wait_for("#conn-status", "connected").await;
    page.wait_for("#me-role", "role: supervisor").await;
    // The demo's agents: 1001-1003 ready, 1004 not ready.
    wait_totals(page, [3, 0, 1, 0]).await;
    for agent in ["1001", "1002", "1003", "1004"] {
        page.wait_until(&format!(
            "!!document.querySelector(\"#agents [data-agent='{agent}']\")"
        ))
        .await;
    }

    let (mut supervisor, _) = Client::login(&daemon.ws_url(), SUPERVISOR_TOKEN).await;
    // A caller for the Sales hotline rings at a ready agent; the supervisor's own
    // connection answers it there.
    supervisor
        .ok("sim.call", json!({"from": ALAN.0, "to": "8005550100"}))
        .await;
    let offered = supervisor
        .event("call.offered", |d| d["ani"] == ALAN.0)
        .await;
    let (call, at) = (
        offered["data"]["call"].as_str().unwrap().to_string(),
        offered["data"]["device"].as_str().unwrap().to_string(),
    );
    let card = format!("#agents [data-agent='{at}']");
    page.wait_for(&format!("{card} .pill"), "Ringing").await;
    supervisor
        .ok("call.answer", json!({"call": call, "device": at}))
        .await;
    page.wait_for(&format!("{card} .pill"), "Talking").await;
    page.wait_text(&format!("{card} .ag-call"), "Alan's call", |t| {
        t.contains(ALAN.1)
    })
    .await;
    wait_totals(page, [2, 1, 1, 0]).await;

    // Everyone else not ready: the next caller waits in queue 8000.
    for agent in ["1001", "1002", "1003"].into_iter().filter(|a| *a != at) {
        supervisor
            .ok(
                "agent.set_state",
                json!({"agent": agent, "state": "not_ready", "reason": "meeting"}),
            )
            .await;
    }
    wait_totals(page, [0, 1, 3, 0]).await;
    supervisor
        .ok("sim.call", json!({"from": GRACE.0, "to": "8000"}))
        .await;
    wait_totals(page, [0, 1, 3, 1]).await;
    page.wait_for("#queues [data-queue='8000'] [data-field=waiting]", "1")
        .await;
    page.wait_text("#agents [data-agent='1004'] .pill", "not ready", |t| {
        t.starts_with("Not ready")
    })
    .await;
    // The queue's own figures come with the daemon's queue.stats (every 2 s): two
    // calls offered, Alan's handled; `agents_ready` counts agents in the ready state,
    // busy or not (docs/protocol.md), so the one talking to Alan.
    let tile = "#queues [data-queue='8000']";
    page.wait_for(&format!("{tile} [data-field=offered]"), "2")
        .await;
    page.wait_for(&format!("{tile} [data-field=handled]"), "1")
        .await;
    page.wait_for(&format!("{tile} [data-field=agents_ready]"), "1")
        .await;
    if let Some(dir) = shots {
        page.screenshot(&dir.join("wallboard.png")).await;
    }
}
