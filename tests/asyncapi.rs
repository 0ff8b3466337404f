//! docs/asyncapi.yaml against the official AsyncAPI parser and against the daemon:
//! the document must validate (`@asyncapi/parser`, through `tests/asyncapi/validate.mjs`)
//! and the frames a real daemon sends in a call-centre session must match the schemas
//! the document gives them. The names in the document are checked against the code by
//! unit tests (`src/api/asyncapi.rs`).
//!
//! The TypeScript declarations of the browser client (examples/web/cti-client.d.ts)
//! must compile and name the document's events, methods and error codes.
//!
//! Needs Node and npm; without them the tests say so and pass. The first run installs
//! the parser with `npm ci` from the committed package-lock.json.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// `npm ci` must not run twice at once in the same folder.
static NPM: Mutex<()> = Mutex::new(());

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asyncapi")
}

fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Node with the parser installed, or `None` (with a note) when Node or npm is missing.
fn node_ready() -> Option<()> {
    if !found("node") || !found("npm") {
        eprintln!("skipped: `node` and `npm` are needed to validate docs/asyncapi.yaml");
        return None;
    }
    let _guard = NPM.lock().unwrap_or_else(|e| e.into_inner());
    let package: Value =
        serde_json::from_str(&std::fs::read_to_string(project().join("package.json")).unwrap())
            .unwrap();
    let installed = package["dependencies"]
        .as_object()
        .expect("package.json lists dependencies")
        .keys()
        .all(|name| project().join("node_modules").join(name).is_dir());
    if !installed {
        // --ignore-scripts: the parser needs no install script, and one of its
        // dependencies would otherwise send install analytics.
        let out = Command::new("npm")
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(project())
            .output()
            .expect("npm runs");
        assert!(
            out.status.success(),
            "npm ci failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(())
}

/// Run validate.mjs with `args`; returns success and what it printed.
fn validate(args: &[&Path]) -> (bool, String) {
    let out = Command::new("node")
        .arg(project().join("validate.mjs"))
        .args(args)
        .output()
        .expect("node runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_document_is_valid_asyncapi_3() {
    if node_ready().is_none() {
        return;
    }
    let (ok, text) = validate(&[]);
    assert!(ok, "docs/asyncapi.yaml does not validate:\n{text}");
    assert!(text.contains("valid AsyncAPI 3.0.0"), "{text}");
}

#[test]
fn the_validator_refuses_a_broken_document() {
    if node_ready().is_none() {
        return;
    }
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/asyncapi.yaml"))
            .unwrap();
    let dir = temp_dir("asyncapi-broken");

    // Not AsyncAPI: an operation whose action is neither send nor receive.
    let bad = dir.join("bad-action.yaml");
    std::fs::write(&bad, doc.replacen("action: send", "action: shout", 1)).unwrap();
    let (ok, text) = validate(&[&bad]);
    assert!(!ok, "{text}");
    assert!(text.contains("error:") && text.contains("action"), "{text}");

    // Valid AsyncAPI, but an example that its schema refuses.
    let bad = dir.join("bad-example.yaml");
    let broken = doc.replacen("state: acw", "state: lunch", 1);
    assert_ne!(
        broken, doc,
        "the agent.state example changed; update this test"
    );
    std::fs::write(&bad, broken).unwrap();
    let (ok, text) = validate(&[&bad]);
    assert!(!ok, "{text}");
    assert!(text.contains("agentStateEvent example"), "{text}");
}

#[test]
fn the_client_declarations_match_the_document() {
    if node_ready().is_none() {
        return;
    }
    let dts = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/web/cti-client.d.ts");
    let (ok, text) = validate(&[Path::new("--dts"), &dts]);
    assert!(ok, "examples/web/cti-client.d.ts:\n{text}");
    assert!(text.contains("declarations checked"), "{text}");

    // A declaration that names a method the document does not have is refused.
    let bad = temp_dir("asyncapi-dts").join("cti-client.d.ts");
    let text = std::fs::read_to_string(&dts).unwrap();
    let broken = text.replacen("\"sim.call\": {", "\"sim.dial\": {", 1);
    assert_ne!(
        broken, text,
        "the sim.call declaration changed; update this test"
    );
    std::fs::write(&bad, broken).unwrap();
    let (ok, text) = validate(&[Path::new("--dts"), &bad]);
    assert!(!ok, "{text}");
    assert!(text.contains("CtiMethods names"), "{text}");
}

/// Every frame both ends of a session exchanged, with the method a `res` answers.
#[derive(Default)]
struct Recording {
    lines: Vec<Value>,
}

impl Recording {
    fn frame(&mut self, frame: &Value) {
        self.lines.push(json!({ "frame": frame }));
    }

    /// Send a request, record it and its answer; returns the answer.
    async fn req(&mut self, client: &mut Client, method: &str, params: Value) -> Value {
        let res = client.req(method, params.clone()).await;
        self.lines.push(
            json!({"frame": {"type": "req", "id": res["id"], "method": method, "params": params}}),
        );
        self.lines.push(json!({"frame": res, "method": method}));
        // Events that arrived meanwhile stay in `seen`; `drain` records them.
        res
    }

    async fn event(&mut self, client: &mut Client, name: &str) -> Value {
        let evt = client.event(name, |_| true).await;
        self.frame(&evt);
        evt
    }

    /// Record what is left: frames kept in `seen` and any arriving within `quiet`.
    async fn drain(&mut self, client: &mut Client, quiet: Duration) {
        for frame in std::mem::take(&mut client.seen) {
            self.frame(&frame);
        }
        while let Some(frame) = client.frame_within(quiet).await {
            self.frame(&frame);
        }
    }

    fn names(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| l["frame"]["name"].as_str().map(String::from))
            .collect()
    }
}

/// A session against the real daemon: the frames it sends (and the requests it took)
/// match the document's schemas.
#[tokio::test]
async fn the_daemon_frames_match_the_document() {
    if node_ready().is_none() {
        return;
    }
    let dir = temp_dir("asyncapi-frames");
    let port = free_port();
    let config = standard_config(port, &dir, "");
    import_contacts(
        &format!("sqlite://{}", dir.join("crm.db").display()),
        &dir,
        "name,phone,company,external_id,url\n\
         Ada Lovelace,+14155550123,Analytical Engines,C-1,https://crm.example.com/c/1\n",
    );
    let daemon = Daemon::start(&dir, port, &config).await;
    let mut rec = Recording::default();

    let (mut supervisor, welcome) = Client::login(&daemon.url(), SUPERVISOR).await;
    rec.frame(&json!({"type": "hello", "token": SUPERVISOR}));
    rec.frame(&welcome);
    rec.event(&mut supervisor, "snapshot").await;
    let (mut agent, welcome) = Client::login(&daemon.url(), AGENT_1001).await;
    rec.frame(&welcome);
    rec.event(&mut agent, "snapshot").await;

    rec.req(
        &mut agent,
        "subscribe",
        json!({"topics": ["agent:*", "call:*"]}),
    )
    .await;
    rec.req(
        &mut agent,
        "crm.lookup",
        json!({"number": "(415) 555-0123"}),
    )
    .await;
    rec.req(
        &mut supervisor,
        "sim.call",
        json!({"from": "4155550123", "to": "8005550100", "digits": "4711"}),
    )
    .await;
    let pop = rec.event(&mut agent, "call.offered").await;
    let call = pop["data"]["call"].as_str().unwrap().to_string();
    for method in ["call.answer", "call.hold", "call.retrieve"] {
        let res = rec.req(&mut agent, method, json!({ "call": call })).await;
        assert!(res.get("result").is_some(), "{res}");
    }
    rec.event(&mut agent, "call.retrieved").await;
    rec.req(
        &mut agent,
        "call.dtmf",
        json!({"call": call, "digits": "12#"}),
    )
    .await;
    rec.req(&mut agent, "call.hangup", json!({ "call": call }))
        .await;
    rec.event(&mut agent, "call.ended").await;

    // Outbound: click-to-dial with a reference.
    let res = rec
        .req(
            &mut agent,
            "call.dial",
            json!({"to": "+14155550123", "client_ref": "crm-task-17"}),
        )
        .await;
    assert_eq!(res["result"]["client_ref"], "crm-task-17", "{res}");
    rec.event(&mut agent, "call.originated").await;
    let dialled = res["result"]["call"].as_str().unwrap().to_string();
    rec.req(&mut agent, "call.hangup", json!({ "call": dialled }))
        .await;

    rec.req(
        &mut agent,
        "agent.set_state",
        json!({"state": "not_ready", "reason": "lunch"}),
    )
    .await;
    // Answers with an error, and an error frame.
    let res = rec
        .req(&mut agent, "call.answer", json!({"call": "no-such-call"}))
        .await;
    assert_eq!(res["error"]["code"], "call_not_found", "{res}");
    rec.req(&mut agent, "report.queues", json!({})).await;
    agent.send_text("{not json").await;

    rec.req(&mut supervisor, "report.queues", json!({})).await;
    rec.req(&mut supervisor, "report.agents", json!({})).await;
    // queue.stats goes out every 2 s.
    rec.event(&mut supervisor, "queue.stats").await;
    rec.drain(&mut agent, Duration::from_millis(500)).await;
    rec.drain(&mut supervisor, Duration::from_millis(500)).await;

    let names = rec.names();
    for expected in [
        "snapshot",
        "call.offered",
        "call.answered",
        "call.held",
        "call.retrieved",
        "call.updated",
        "call.ended",
        "call.originated",
        "agent.state",
        "queue.stats",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected} in {names:?}"
        );
    }
    assert!(
        rec.lines.iter().any(|l| l["frame"]["type"] == "error"),
        "no error frame recorded"
    );

    let file = dir.join("frames.jsonl");
    let text: String = rec.lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let (ok, text) = validate(&[Path::new("--frames"), &file]);
    assert!(
        ok,
        "frames from the daemon do not match docs/asyncapi.yaml:\n{text}"
    );
    let frames = rec.lines.len();
    assert!(text.contains(&format!("{frames} frames")), "{text}");
}
