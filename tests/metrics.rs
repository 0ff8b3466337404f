//! `/metrics` end to end: the real daemon on a CSTA link to the fake switch, real
//! WebSocket clients of every role, a call rung on the switch, the link dropped; the
//! exposition must follow (clients by role, pops and their latency, CRM look-ups,
//! link up and reconnects) and pass `promtool check metrics` when promtool is there.
//! The Grafana dashboard in `packaging/` may query only names the daemon exposes.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::csta::{csta_config, switch_config};
use common::*;
use ctibridge_csta::fake::FakeSwitch;
use serde_json::Value;

const ANI: &str = "+14155550123";
const APP: &str = "token-app";
const ADMIN: &str = "token-admin";

const CONTACTS: &str = "name,phone,company,external_id,url\n\
    Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1\n";

/// The CSTA test config with an app and an admin token too.
fn config(port: u16, dir: &Path, switch: &FakeSwitch) -> String {
    format!(
        "{}\n[[auth.tokens]]\nname = \"crm-app\"\nrole = \"app\"\nsha256 = \"{}\"\n\n\
         [[auth.tokens]]\nname = \"admin\"\nrole = \"admin\"\nsha256 = \"{}\"\n",
        csta_config(port, dir, switch),
        sha256(APP),
        sha256(ADMIN)
    )
}

async fn metrics(daemon: &Daemon) -> String {
    let (status, body) = http_get(daemon.port, "/metrics", &[]).await.unwrap();
    assert_eq!(status, 200);
    body
}

/// The value of the sample `key` (name with its labels, as rendered).
fn value(text: &str, key: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (k, v) = l.rsplit_once(' ')?;
        (k == key).then(|| v.parse().ok())?
    })
}

/// Poll `/metrics` until `check` holds for it (the counters move a moment after the
/// frames a client sees); fails with the last exposition.
async fn until(daemon: &Daemon, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = metrics(daemon).await;
        if check(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not seen in\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn clients(text: &str, role: &str) -> f64 {
    value(text, &format!("ctibridge_clients{{role=\"{role}\"}}")).unwrap_or(-1.0)
}

const LINK: &str = "{switch=\"pbx\",adapter=\"csta\"}";

/// `promtool check metrics` on `text` (its lint included: a counter without
/// `_total`, a family without help), when promtool is on PATH or
/// CTIBRIDGE_TEST_PROMTOOL names it; `false` when it is not there.
fn promtool_accepts(text: &str) -> bool {
    let named = std::env::var("CTIBRIDGE_TEST_PROMTOOL").ok();
    let tool = named.clone().unwrap_or_else(|| "promtool".into());
    let child = Command::new(&tool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        // Not installed: skipped. Named in CTIBRIDGE_TEST_PROMTOOL: it must be there.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => {
            eprintln!("{tool} not found: `promtool check metrics` not run");
            return false;
        }
        Err(e) => panic!("{tool}: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\non\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[tokio::test]
async fn metrics_follow_clients_pops_lookups_and_the_link() {
    let switch = FakeSwitch::start(switch_config()).await.unwrap();
    let dir = temp_dir("metrics");
    let port = free_port();
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        CONTACTS,
    );
    let daemon = Daemon::start(&dir, port, &config(port, &dir, &switch)).await;

    let before = metrics(&daemon).await;
    for role in ["agent", "supervisor", "app", "admin"] {
        assert_eq!(clients(&before, role), 0.0, "{role}\n{before}");
    }
    let link_up = format!("ctibridge_switch_link_up{LINK}");
    let reconnects = format!("ctibridge_switch_reconnects_total{LINK}");
    assert_eq!(value(&before, &link_up), Some(1.0), "{before}");
    assert_eq!(value(&before, &reconnects), Some(0.0), "{before}");
    assert_eq!(value(&before, "ctibridge_database_up"), Some(1.0));
    assert_eq!(value(&before, "ctibridge_journal_backlog"), Some(0.0));
    assert_eq!(
        value(&before, "ctibridge_screen_pop_latency_seconds_count"),
        Some(0.0)
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        before.contains(&format!("ctibridge_build_info{{version=\"{version}\",")),
        "{before}"
    );

    // Clients of every role, two agents.
    let (mut a1, _) = Client::login(&daemon.url(), AGENT_1001).await;
    let (a2, _) = Client::login(&daemon.url(), AGENT_1002).await;
    let (mut supervisor, _) = Client::login(&daemon.url(), SUPERVISOR).await;
    let (_app, _) = Client::login(&daemon.url(), APP).await;
    let (_admin, _) = Client::login(&daemon.url(), ADMIN).await;
    let text = metrics(&daemon).await;
    assert_eq!(clients(&text, "agent"), 2.0, "{text}");
    assert_eq!(clients(&text, "supervisor"), 1.0, "{text}");
    assert_eq!(clients(&text, "app"), 1.0, "{text}");
    assert_eq!(clients(&text, "admin"), 1.0, "{text}");

    // A call rings 1001: one pop, its latency observed, its caller looked up.
    let sent_before = value(&text, "ctibridge_frames_sent_total").unwrap();
    let published_before = value(&text, "ctibridge_events_published_total").unwrap();
    switch.ring(ANI, "1001").await;
    let pop = a1.event("call.offered", |_| true).await;
    assert_eq!(
        pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace",
        "{pop}"
    );
    // The pop went to 1001, and the supervisor, app and admin see every call event:
    // four frames at least, written by four connection tasks in their own time.
    let text = until(&daemon, "the pop counted and its frames sent", |t| {
        value(t, "ctibridge_screen_pops_total") == Some(1.0)
            && value(t, "ctibridge_screen_pop_latency_seconds_count") == Some(1.0)
            && value(t, "ctibridge_frames_sent_total").unwrap() >= sent_before + 4.0
    })
    .await;
    let lookups = value(&text, "ctibridge_crm_lookup_duration_seconds_count").unwrap();
    assert!(lookups >= 1.0, "{text}");
    assert!(value(&text, "ctibridge_crm_lookup_duration_seconds_sum").unwrap() > 0.0);
    let latency = value(&text, "ctibridge_screen_pop_latency_seconds_sum").unwrap();
    assert!(latency > 0.0 && latency < WAIT.as_secs_f64(), "{text}");
    assert_eq!(
        value(
            &text,
            "ctibridge_screen_pop_latency_seconds_bucket{le=\"+Inf\"}"
        ),
        Some(1.0)
    );
    assert_eq!(value(&text, "ctibridge_calls_active"), Some(1.0), "{text}");
    assert!(value(&text, "ctibridge_events_published_total").unwrap() > published_before);
    assert_eq!(value(&text, "ctibridge_frames_dropped_total"), Some(0.0));

    // A client that leaves is uncounted.
    drop(a2);
    until(&daemon, "agent 1002 gone", |t| clients(t, "agent") == 1.0).await;

    // The link drops and comes back: a reconnect, and the link is up again.
    assert!(switch.drop_link().await);
    supervisor.event("link.down", |_| true).await;
    supervisor.event("link.up", |_| true).await;
    let text = until(&daemon, "one reconnect", |t| {
        value(t, &reconnects) == Some(1.0) && value(t, &link_up) == Some(1.0)
    })
    .await;

    if promtool_accepts(&text) {
        eprintln!("promtool check metrics: passed");
    }
}

/// Every metric name a dashboard expression uses, in order of appearance.
fn names_in(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut i = 0;
    while i < bytes.len() {
        if ident(bytes[i]) && (i == 0 || !ident(bytes[i - 1])) {
            let start = i;
            while i < bytes.len() && ident(bytes[i]) {
                i += 1;
            }
            let word = &expr[start..i];
            if word.starts_with("ctibridge_") {
                names.push(word.to_string());
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Every `expr` of every panel (rows may nest panels).
fn exprs(panels: &[Value], out: &mut Vec<String>) {
    for panel in panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                out.push(expr.to_string());
            }
        }
        if let Some(inner) = panel["panels"].as_array() {
            exprs(inner, out);
        }
    }
}

/// What a daemon on the simulator exposes: the families (`# TYPE`), and every name
/// a query may use (families and sample names, histogram series included).
async fn exposed(name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = temp_dir(name);
    let port = free_port();
    let daemon = Daemon::start(&dir, port, &standard_config(port, &dir, "")).await;
    let text = metrics(&daemon).await;
    let families: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next())
        .map(String::from)
        .collect();
    let mut names = families.clone();
    names.extend(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .map(String::from),
    );
    (families, names)
}

#[tokio::test]
async fn the_dashboard_queries_only_what_the_daemon_exposes() {
    let (_, exposed) = exposed("metrics-dashboard").await;

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    assert!(
        dashboard["__inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "DS_PROMETHEUS" && i["pluginId"] == "prometheus"),
        "the dashboard asks for its Prometheus data source on import"
    );
    let panels = dashboard["panels"].as_array().unwrap();
    let mut all = Vec::new();
    exprs(panels, &mut all);
    // The variables' queries too (`label_values(…)`).
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(query) = variable["query"]["query"].as_str() {
            all.push(query.to_string());
        }
    }
    assert!(!all.is_empty());
    let mut used = BTreeSet::new();
    for expr in &all {
        let names = names_in(expr);
        assert!(!names.is_empty(), "{expr} queries no ctibridge metric");
        for name in names {
            assert!(exposed.contains(&name), "{name} (in {expr}) is not exposed");
            used.insert(name);
        }
    }
    // Every panel with a query reads the data source the import asks for.
    for panel in panels.iter().filter(|p| p["targets"].is_array()) {
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
    }
    // And the dashboard shows every family issue 19 asks for.
    for name in [
        "ctibridge_clients",
        "ctibridge_events_published_total",
        "ctibridge_frames_sent_total",
        "ctibridge_frames_dropped_total",
        "ctibridge_calls_active",
        "ctibridge_screen_pops_total",
        "ctibridge_screen_pop_latency_seconds_bucket",
        "ctibridge_crm_lookup_duration_seconds_bucket",
        "ctibridge_switch_link_up",
        "ctibridge_switch_reconnects_total",
        "ctibridge_database_up",
        "ctibridge_journal_backlog",
        "ctibridge_build_info",
    ] {
        assert!(used.contains(name), "no panel shows {name}");
    }
}

/// docs/operations.md's Metrics section lists every family the daemon exposes, and
/// its example alert rules use only exposed names (and pass `promtool check rules`
/// when promtool is there).
#[tokio::test]
async fn the_operations_guide_lists_every_family_and_its_rules_hold() {
    let (families, exposed) = exposed("metrics-docs").await;
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"))
            .unwrap();
    let section = |from: &str, to: &str| {
        let start = guide.find(from).unwrap_or_else(|| panic!("no {from}"));
        let end = start + guide[start..].find(to).unwrap_or_else(|| panic!("no {to}"));
        guide[start..end].to_string()
    };
    let table = section("### Metrics", "### Grafana dashboard");
    for family in &families {
        assert!(
            table.contains(&format!("| `{family}` |")) || table.contains(&format!("| `{family}{{")),
            "docs/operations.md does not list {family}"
        );
    }
    let rules = section("groups:\n  - name: ctibridge", "```");
    let used = names_in(&rules);
    assert!(used.len() >= 4, "{rules}");
    for name in used {
        assert!(
            exposed.contains(&name),
            "the example rules use {name}, not exposed"
        );
    }
    let file = temp_dir("metrics-rules").join("rules.yml");
    std::fs::write(&file, &rules).unwrap();
    match Command::new("promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "promtool check rules:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("promtool: {e}: `promtool check rules` not run"),
    }
}

#[test]
fn names_are_taken_from_promql() {
    assert_eq!(
        names_in("histogram_quantile(0.99, sum by (le) (rate(ctibridge_screen_pop_latency_seconds_bucket[5m])))"),
        ["ctibridge_screen_pop_latency_seconds_bucket"]
    );
    assert_eq!(
        names_in("sum by (role) (ctibridge_clients) + xctibridge_y + ctibridge_a:b"),
        ["ctibridge_clients", "ctibridge_a:b"]
    );
}
