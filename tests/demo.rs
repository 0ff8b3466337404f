//! End to end: `ctibridge demo`, as a new user runs it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use serde_json::json;

#[tokio::test]
async fn the_demo_prints_where_to_look_serves_its_pages_and_pops_calls() {
    let dir = temp_dir("demo");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .take(6)
            .map(Result::unwrap)
            .collect()
    })
    .await
    .unwrap();
    assert_eq!(lines[0], format!("agent page: http://127.0.0.1:{port}/"));
    assert_eq!(
        lines[1],
        format!("wallboard: http://127.0.0.1:{port}/wallboard")
    );
    let tokens: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("demo token: "))
        .collect();
    assert!(
        tokens.iter().filter(|l| l.contains("role=agent")).count() >= 2,
        "{lines:?}"
    );
    assert!(
        tokens.iter().any(|l| l.contains("role=supervisor")),
        "{lines:?}"
    );
    let agent_token = tokens[0].rsplit("token=").next().unwrap().to_string();

    let (status, page) = http_get(port, "/", &[]).await.unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("<html") && page.contains("/v1/ws"));
    let (status, _) = http_get(port, "/wallboard", &[]).await.unwrap();
    assert_eq!(status, 200);

    // The demo's agent gets pops from the seeded CRM.
    let url = format!("ws://127.0.0.1:{port}/v1/ws");
    let (mut agent, welcome) = Client::login(&url, &agent_token).await;
    let me = welcome["devices"][0].as_str().unwrap().to_string();
    agent
        .ok("sim.call", json!({"from": "+14155550123", "to": me}))
        .await;
    let pop = agent
        .event("call.offered", |d| {
            d["device"] == me.as_str() && d["ani"] == "+14155550123"
        })
        .await;
    assert_eq!(pop["data"]["crm"]["matches"][0]["name"], "Ada Lovelace");

    // SIGTERM stops it cleanly.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    // A clean stop ends every agent's open state: downtime is not time in a state.
    let url = format!("sqlite://{}", dir.join("data").join("demo.db").display());
    let mut conn = sqlite(&url);
    use ctibridge::crm::schema::agent_states::dsl as st;
    use diesel::prelude::*;
    let open: i64 = st::agent_states
        .filter(st::ended_at.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(open, 0);
}
