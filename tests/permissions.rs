//! End to end: every method × every role × own and other extension, against the real
//! daemon with the simulator. A request outside the token's scope must be refused with
//! `forbidden` and must change nothing: a supervisor watching every event sees none
//! while the refused requests are made. A request inside the scope must never be
//! refused as `forbidden` (it may fail for other reasons: a call in the wrong state,
//! an agent already logged on).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const APP: &str = "token-app";
const ADMIN: &str = "token-admin";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Agent,
    Supervisor,
    App,
    Admin,
}

impl Role {
    fn token(self) -> &'static str {
        match self {
            Role::Agent => AGENT_1001,
            Role::Supervisor => SUPERVISOR,
            Role::App => APP,
            Role::Admin => ADMIN,
        }
    }
}

/// Which extension a case acts on, seen from the agent token (agent 1001 at 1001).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Own,
    Other,
}

impl Target {
    fn extension(self) -> &'static str {
        match self {
            Target::Own => "1001",
            Target::Other => "1002",
        }
    }
}

/// What a method needs before it can be tried.
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    Nothing,
    /// A call ringing at the target extension.
    RingingCall,
    /// A call answered at the target extension.
    ConnectedCall,
}

/// The methods, each with what it needs, its parameters for a target, and who may use it.
struct Case {
    method: &'static str,
    needs: Needs,
    params: fn(target: &str, call: &str) -> Value,
    /// Scope rule from docs/protocol.md ("Scope").
    allowed: fn(Role, Target) -> bool,
}

fn extension_bound(role: Role, target: Target) -> bool {
    role != Role::Agent || target == Target::Own
}

fn supervisors_only(role: Role, _: Target) -> bool {
    matches!(role, Role::Supervisor | Role::Admin)
}

fn everyone(_: Role, _: Target) -> bool {
    true
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            method: "call.dial",
            needs: Needs::Nothing,
            params: |t, _| json!({"from": t, "to": "+14155550199"}),
            allowed: extension_bound,
        },
        Case {
            method: "call.answer",
            needs: Needs::RingingCall,
            params: |t, c| json!({"call": c, "device": t}),
            allowed: extension_bound,
        },
        Case {
            method: "call.hangup",
            needs: Needs::ConnectedCall,
            params: |t, c| json!({"call": c, "device": t}),
            allowed: extension_bound,
        },
        Case {
            method: "call.hold",
            needs: Needs::ConnectedCall,
            params: |t, c| json!({"call": c, "device": t}),
            allowed: extension_bound,
        },
        Case {
            method: "call.retrieve",
            needs: Needs::ConnectedCall,
            params: |t, c| json!({"call": c, "device": t}),
            allowed: extension_bound,
        },
        Case {
            method: "call.transfer",
            needs: Needs::ConnectedCall,
            params: |t, c| json!({"call": c, "device": t, "mode": "blind", "to": "1100"}),
            allowed: extension_bound,
        },
        Case {
            method: "call.conference",
            needs: Needs::ConnectedCall,
            params: |t, c| json!({"call": c, "device": t, "to": "1100"}),
            allowed: extension_bound,
        },
        Case {
            method: "call.dtmf",
            needs: Needs::ConnectedCall,
            params: |t, c| json!({"call": c, "device": t, "digits": "12#"}),
            allowed: extension_bound,
        },
        Case {
            method: "agent.login",
            needs: Needs::Nothing,
            params: |t, _| json!({"agent": t, "extension": t}),
            allowed: extension_bound,
        },
        Case {
            method: "agent.set_state",
            needs: Needs::Nothing,
            params: |t, _| json!({"agent": t, "state": "not_ready", "reason": "lunch"}),
            allowed: extension_bound,
        },
        Case {
            method: "agent.logout",
            needs: Needs::Nothing,
            params: |t, _| json!({"agent": t}),
            allowed: extension_bound,
        },
        Case {
            method: "supervisor.monitor",
            needs: Needs::ConnectedCall,
            params: |_, c| json!({"call": c, "device": "1100"}),
            allowed: supervisors_only,
        },
        Case {
            method: "supervisor.barge",
            needs: Needs::ConnectedCall,
            params: |_, c| json!({"call": c, "device": "1100"}),
            allowed: supervisors_only,
        },
        Case {
            method: "supervisor.force_release",
            needs: Needs::ConnectedCall,
            params: |_, c| json!({"call": c}),
            allowed: supervisors_only,
        },
        Case {
            method: "report.agents",
            needs: Needs::Nothing,
            params: |_, _| json!({}),
            allowed: supervisors_only,
        },
        Case {
            method: "report.queues",
            needs: Needs::Nothing,
            params: |_, _| json!({}),
            allowed: supervisors_only,
        },
        Case {
            method: "crm.lookup",
            needs: Needs::Nothing,
            params: |t, _| json!({"number": t}),
            allowed: everyone,
        },
        Case {
            method: "subscribe",
            needs: Needs::Nothing,
            params: |t, _| json!({"topics": [format!("agent:{t}")]}),
            allowed: everyone,
        },
        Case {
            method: "sim.call",
            needs: Needs::Nothing,
            params: |t, _| json!({"from": "+14155550188", "to": t}),
            allowed: everyone,
        },
    ]
}

async fn daemon() -> Daemon {
    let dir = temp_dir("permissions");
    let port = free_port();
    let mut config = standard_config(
        port,
        &dir,
        "rate_limit_per_s = 10000\nrate_limit_burst = 10000",
    );
    config.push_str(&format!(
        r#"
[[auth.tokens]]
name = "crm-backend"
role = "app"
sha256 = "{app}"

[[auth.tokens]]
name = "admin"
role = "admin"
extensions = ["1100"]
sha256 = "{admin}"
"#,
        app = sha256(APP),
        admin = sha256(ADMIN),
    ));
    Daemon::start(&dir, port, &config).await
}

/// Drain what the watcher has seen until it has been quiet for a moment.
async fn settle(watcher: &mut Client) {
    while watcher
        .frame_within(Duration::from_millis(100))
        .await
        .is_some()
    {}
}

/// Put both agents back: logged on at their own extension and ready, no calls.
async fn reset(watcher: &mut Client) {
    for agent in ["1001", "1002"] {
        let _ = watcher
            .req("agent.login", json!({"agent": agent, "extension": agent}))
            .await;
        watcher
            .ok("agent.set_state", json!({"agent": agent, "state": "ready"}))
            .await;
    }
    settle(watcher).await;
}

/// A call at `extension`, ringing or answered; returns its id.
async fn call_at(watcher: &mut Client, extension: &str, needs: Needs) -> String {
    watcher.seen.clear();
    watcher
        .ok("sim.call", json!({"from": "+14155550123", "to": extension}))
        .await;
    let pop = watcher
        .event("call.offered", |d| d["device"] == extension)
        .await;
    let call = pop["data"]["call"].as_str().unwrap().to_string();
    if needs == Needs::ConnectedCall {
        watcher
            .ok("call.answer", json!({"call": call, "device": extension}))
            .await;
        watcher
            .event("call.answered", |d| d["call"] == call.as_str())
            .await;
    }
    settle(watcher).await;
    call
}

#[tokio::test]
async fn no_token_acts_outside_its_scope_and_none_is_refused_inside_it() {
    let daemon = daemon().await;
    let (mut watcher, _) = Client::login(&daemon.url(), ADMIN).await;
    settle(&mut watcher).await;
    let mut actors = Vec::new();
    for role in [Role::Agent, Role::Supervisor, Role::App, Role::Admin] {
        let (client, welcome) = Client::login(&daemon.url(), role.token()).await;
        assert_eq!(welcome["type"], "welcome", "{role:?}: {welcome}");
        actors.push((role, client));
    }

    let mut refused = 0;
    let mut tried = 0;
    for case in cases() {
        for (role, actor) in actors.iter_mut() {
            for target in [Target::Own, Target::Other] {
                reset(&mut watcher).await;
                let call = match case.needs {
                    Needs::Nothing => String::new(),
                    needs => call_at(&mut watcher, target.extension(), needs).await,
                };
                let params = (case.params)(target.extension(), &call);
                let res = actor.req(case.method, params.clone()).await;
                actor.seen.clear();
                tried += 1;
                let what = format!("{} by {role:?} on {target:?} {params}: {res}", case.method);
                if (case.allowed)(*role, target) {
                    assert_ne!(
                        res["error"]["code"], "forbidden",
                        "refused in scope: {what}"
                    );
                } else {
                    refused += 1;
                    assert_eq!(res["error"]["code"], "forbidden", "outside scope: {what}");
                    // Nothing happened: the watcher, who sees everything, sees nothing.
                    if let Some(frame) = watcher.frame_within(Duration::from_millis(300)).await {
                        panic!("a refused request had an effect: {what}: {frame}");
                    }
                }
                // Leave no call behind for the next case.
                if !call.is_empty() {
                    let _ = watcher
                        .req("supervisor.force_release", json!({"call": call}))
                        .await;
                }
                // A dial that went through leaves a call of its own.
                if case.method == "call.dial" || case.method == "sim.call" {
                    settle(&mut watcher).await;
                    let calls = active_calls(&daemon.url()).await;
                    for call in calls {
                        let _ = watcher
                            .req("supervisor.force_release", json!({"call": call}))
                            .await;
                    }
                }
            }
        }
    }
    // The matrix is what docs/protocol.md says: every method tried by every role on both
    // extensions, and the agent refused outside its own, the app refused supervisor work.
    assert_eq!(tried, cases().len() * 4 * 2);
    assert_eq!(
        refused,
        11 + 5 * 2 + 5 * 2,
        "refusals as the scope table says"
    );
}

/// Calls the supervisor snapshot lists as live.
async fn active_calls(url: &str) -> Vec<String> {
    let (mut fresh, _) = Client::login(url, ADMIN).await;
    let snapshot = fresh.event("snapshot", |_| true).await;
    snapshot["data"]["calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| c["call"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
