//! The engine core's decisions, fed adapter events and looked at through the
//! effects it returns (no database, switch or WebSocket involved).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ctibridge_adapter::{
    AdapterLink, AgentSnapshot, AgentState, Capabilities, PartySnapshot, PartyState, Snapshot,
    SnapshotCall, SwitchEvent,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::effects::{DbJob, Effect, Internal};
use super::{Engine, EngineConfig, SwitchLink};
use crate::crm::db;
use crate::crm::lookup::{CallerInfo, CallerLookup};
use crate::crm::writes::DbWrite;
use crate::hub::HubInput;
use crate::metrics::Metrics;

const CUSTOMER: &str = "01632960457";

/// An engine for switch `pbx` monitoring extensions 2001–2003 and queue 700.
fn engine() -> Engine {
    let (out, _) = mpsc::channel(1);
    engine_sending_to(out)
}

/// [`engine`], sending what it publishes to `out` (for the tests that run it).
fn engine_sending_to(out: mpsc::Sender<crate::gate::Outbound>) -> Engine {
    let (events, _) = mpsc::channel(1);
    let (_link, side) = AdapterLink::new("pbx", events, CancellationToken::new());
    let link = SwitchLink {
        name: "pbx".into(),
        adapter: "csta".into(),
        side,
        capabilities: Capabilities::default(),
        up: true,
        devices: ["2001", "2002", "2003", "700"]
            .into_iter()
            .map(String::from)
            .collect(),
        request_timeout: Duration::from_secs(1),
        cti_switch: None,
    };
    Engine::new(
        EngineConfig {
            country: "GB".into(),
            lookup: Arc::new(CallerLookup::own_contacts("GB")),
            pop_deadline: Duration::from_millis(300),
            short_abandon_s: 5.0,
            service_level_s: 20.0,
            cache_size: 100,
            cache_ttl: Duration::from_secs(60),
        },
        vec![link],
        db::pool("sqlite://:memory:").expect("pool"),
        out,
        Arc::new(Metrics::default()),
    )
}

fn ev(event: Value) -> SwitchEvent {
    serde_json::from_value(event).expect("a switch event")
}

/// Feed one event; the effects it returned.
fn feed(engine: &mut Engine, event: SwitchEvent) -> Vec<Effect> {
    engine.handle_switch_event("pbx", event.into());
    std::mem::take(&mut engine.effects)
}

fn internal(engine: &mut Engine, message: Internal) -> Vec<Effect> {
    engine.handle_internal(message);
    std::mem::take(&mut engine.effects)
}

/// The published events among `effects`: (name, topic, data).
fn events(effects: &[Effect]) -> Vec<(String, String, Value)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Out(out) => match &out.message {
                Some(HubInput::Publish(p)) => {
                    let frame: Value = serde_json::from_str(p.frame.as_str()).expect("json frame");
                    Some((
                        frame["name"].as_str().unwrap_or_default().to_string(),
                        frame["topic"].as_str().unwrap_or_default().to_string(),
                        frame["data"].clone(),
                    ))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn names(effects: &[Effect]) -> Vec<String> {
    events(effects).into_iter().map(|(n, _, _)| n).collect()
}

fn writes(effects: &[Effect]) -> Vec<&DbWrite> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Out(out) => Some(out.writes.iter()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn ended(effects: &[Effect]) -> Value {
    let (_, _, data) = events(effects)
        .into_iter()
        .find(|(n, _, _)| n == "call.ended")
        .expect("call.ended");
    data
}

fn log_outcomes(effects: &[Effect]) -> Vec<String> {
    writes(effects)
        .into_iter()
        .filter_map(|w| match w {
            DbWrite::CallLog(row) => Some(row.outcome.to_string()),
            _ => None,
        })
        .collect()
}

fn log_on(engine: &mut Engine, agent: &str, device: &str) {
    feed(
        engine,
        SwitchEvent::LoggedOn {
            agent: agent.into(),
            device: device.into(),
        },
    );
}

fn ring(engine: &mut Engine, call: &str, device: &str) -> Vec<Effect> {
    feed(
        engine,
        ev(
            json!({"kind": "delivered", "call_id": call, "device": device, "calling": CUSTOMER, "called": device}),
        ),
    )
}

fn answer(engine: &mut Engine, call: &str, device: &str) -> Vec<Effect> {
    feed(
        engine,
        ev(
            json!({"kind": "established", "call_id": call, "device": device, "calling": CUSTOMER, "called": device}),
        ),
    )
}

fn clear(engine: &mut Engine, call: &str, device: &str) -> Vec<Effect> {
    feed(
        engine,
        ev(json!({"kind": "connection_cleared", "call_id": call, "device": device})),
    )
}

#[test]
fn a_new_call_looks_its_caller_up_and_pops_each_device_once() {
    let mut e = engine();
    log_on(&mut e, "a1", "2001");
    let effects = ring(&mut e, "17", "2001");
    // The look-up is a database job; the pop waits for it, at most pop_deadline.
    let jobs: Vec<&DbJob> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Db(job) => Some(job),
            _ => None,
        })
        .collect();
    let [DbJob::Lookup {
        call, key, number, ..
    }] = jobs.as_slice()
    else {
        panic!("one look-up job, got {jobs:?}");
    };
    assert_eq!(number.as_deref(), Some(CUSTOMER));
    assert!(effects.iter().any(
        |e| matches!(e, Effect::Timer { after, then: Internal::PopDeadline { .. } } if *after == Duration::from_millis(300))
    ));
    assert!(!names(&effects).contains(&"call.offered".to_string()));

    let (call, key) = (call.clone(), key.clone());
    let effects = internal(
        &mut e,
        Internal::LookupDone {
            call: call.clone(),
            key,
            result: Ok(CallerInfo::default()),
        },
    );
    let pops: Vec<_> = events(&effects)
        .into_iter()
        .filter(|(n, _, _)| n == "call.offered")
        .collect();
    assert_eq!(pops.len(), 1, "{:?}", names(&effects));
    assert_eq!(pops[0].1, "agent:a1");
    assert_eq!(pops[0].2["device"], "2001");
    assert_eq!(pops[0].2["crm"]["pending"], false);

    // The switch repeats the delivery, the deadline fires late: no second pop.
    let again = ring(&mut e, "17", "2001");
    let late = internal(&mut e, Internal::PopDeadline { call });
    assert!(!names(&again).contains(&"call.offered".to_string()));
    assert!(!names(&late).contains(&"call.offered".to_string()));
}

#[test]
fn every_way_a_call_ends_has_an_outcome_and_a_log_row() {
    // Answered, then the customer hangs up.
    let mut e = engine();
    ring(&mut e, "1", "2001");
    answer(&mut e, "1", "2001");
    let effects = clear(&mut e, "1", CUSTOMER);
    assert_eq!(ended(&effects)["outcome"], "answered");
    assert_eq!(log_outcomes(&effects), ["answered"]);

    // Hung up while ringing: short, then long.
    let effects = {
        ring(&mut e, "2", "2001");
        clear(&mut e, "2", CUSTOMER)
    };
    assert_eq!(ended(&effects)["outcome"], "short_abandon");
    assert_eq!(log_outcomes(&effects), ["short_abandon"]);
    e.config.short_abandon_s = 0.0;
    let effects = {
        ring(&mut e, "3", "2001");
        clear(&mut e, "3", CUSTOMER)
    };
    assert_eq!(ended(&effects)["outcome"], "abandoned");
    assert_eq!(log_outcomes(&effects), ["abandoned"]);

    // The switch reports the call failed.
    ring(&mut e, "4", "2001");
    let effects = feed(
        &mut e,
        ev(json!({"kind": "failed", "call_id": "4", "device": "2001"})),
    );
    assert_eq!(ended(&effects)["outcome"], "failed");
    assert_eq!(ended(&effects)["cause"], "failed at 2001");
    assert_eq!(log_outcomes(&effects), ["failed"]);

    // Ended during a link outage: the snapshot after it no longer lists the call.
    ring(&mut e, "5", "2001");
    answer(&mut e, "5", "2001");
    let effects = feed(&mut e, SwitchEvent::Snapshot(Snapshot::default()));
    assert_eq!(ended(&effects)["cause"], "cleared_during_link_outage");
    assert_eq!(log_outcomes(&effects), ["answered"]);
    assert_eq!(e.calls.len(), 0);

    // A late event for an ended call starts nothing.
    let effects = answer(&mut e, "5", "2001");
    assert!(events(&effects).is_empty() && e.calls.is_empty());
}

#[test]
fn reconcile_after_a_link_drop_ends_adopts_and_logs_out() {
    let mut e = engine();
    log_on(&mut e, "a1", "2001");
    log_on(&mut e, "a2", "2002");
    ring(&mut e, "1", "2001");
    answer(&mut e, "1", "2001");
    let down = feed(
        &mut e,
        SwitchEvent::LinkDown {
            reason: "peer closed".into(),
        },
    );
    let (name, topic, data) = events(&down).remove(0);
    assert_eq!((name.as_str(), topic.as_str()), ("link.down", "switch:pbx"));
    assert_eq!(data["reason"], "peer closed");
    // During the outage call 1 ended and call 9 began, ringing at 2002; agent a1
    // logged off and a2 stayed.
    assert_eq!(names(&feed(&mut e, SwitchEvent::LinkUp)), ["link.up"]);
    let snapshot = Snapshot {
        calls: vec![SnapshotCall {
            call_id: "9".into(),
            calling: Some(CUSTOMER.into()),
            called: Some("2002".into()),
            queue: None,
            parties: vec![
                PartySnapshot {
                    device: CUSTOMER.into(),
                    state: PartyState::Connected,
                },
                PartySnapshot {
                    device: "2002".into(),
                    state: PartyState::Alerting,
                },
            ],
        }],
        agents: vec![AgentSnapshot {
            agent: "a2".into(),
            device: "2002".into(),
            state: AgentState::Ready,
        }],
    };
    let effects = feed(&mut e, SwitchEvent::Snapshot(snapshot.clone()));
    let all = events(&effects);
    let ended: Vec<_> = all.iter().filter(|(n, _, _)| n == "call.ended").collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2["cause"], "cleared_during_link_outage");
    // The new call is announced by its pop, which waits for the CRM look-up (a
    // call.updated now would release it without the match).
    assert!(
        !all.iter()
            .any(|(n, _, _)| n == "call.updated" || n == "call.offered"),
        "{:?}",
        names(&effects)
    );
    let (call, key) = effects
        .iter()
        .find_map(|e| match e {
            Effect::Db(DbJob::Lookup { call, key, .. }) => Some((call.clone(), key.clone())),
            _ => None,
        })
        .expect("a look-up for the adopted call");
    let done = internal(
        &mut e,
        Internal::LookupDone {
            call,
            key,
            result: Ok(CallerInfo::default()),
        },
    );
    let pop = events(&done)
        .into_iter()
        .find(|(n, _, _)| n == "call.offered")
        .expect("the adopted call pops");
    assert_eq!(pop.2["state"], "ringing");
    assert_eq!(pop.2["device"], "2002");
    assert_eq!(pop.2["crm"]["pending"], false);
    // a1's phone goes idle as call 1 ends, then the switch no longer lists a1.
    let a1 = all
        .iter()
        .rev()
        .find(|(n, t, _)| n == "agent.state" && t == "agent:a1")
        .expect("a1's state");
    assert_eq!(a1.2["state"], "logged_out");
    assert!(all
        .iter()
        .any(|(n, t, d)| n == "agent.state" && t == "agent:a2" && d["state"] == "ready"));

    // The same snapshot again (a second reconnect) changes nothing.
    let effects = feed(&mut e, SwitchEvent::Snapshot(snapshot));
    assert!(events(&effects).is_empty(), "{:?}", names(&effects));
}

#[test]
fn a_consultation_transfer_merges_into_one_call_with_one_row() {
    let mut e = engine();
    log_on(&mut e, "a1", "2001");
    log_on(&mut e, "a2", "2002");
    ring(&mut e, "1", "2001");
    answer(&mut e, "1", "2001");
    let primary = e.calls.find("pbx", "1").expect("call 1").to_string();
    feed(
        &mut e,
        ev(json!({"kind": "held", "call_id": "1", "device": "2001"})),
    );
    // The agent consults 2002 on a second call, then completes the transfer.
    feed(
        &mut e,
        ev(json!({"kind": "originated", "call_id": "2", "device": "2001", "called": "2002"})),
    );
    feed(
        &mut e,
        ev(
            json!({"kind": "delivered", "call_id": "2", "device": "2002", "calling": "2001", "called": "2002"}),
        ),
    );
    feed(
        &mut e,
        ev(
            json!({"kind": "established", "call_id": "2", "device": "2002", "calling": "2001", "called": "2002"}),
        ),
    );
    let consult = e.calls.find("pbx", "2").expect("call 2").to_string();
    assert_ne!(primary, consult);
    let effects = feed(
        &mut e,
        ev(
            json!({"kind": "transferred", "call_id": "1", "secondary_call_id": "2", "device": "2001", "transferred_to": "2002"}),
        ),
    );
    let (_, _, data) = events(&effects)
        .into_iter()
        .find(|(n, _, _)| n == "call.transferred")
        .expect("call.transferred");
    assert_eq!(data["call"], primary.as_str());
    assert_eq!(data["merged_call"], consult.as_str());
    assert_eq!(data["to"], "2002");
    let parties: HashSet<String> = data["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["device"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(parties, HashSet::from([CUSTOMER.into(), "2002".into()]));
    assert_eq!(e.calls.len(), 1, "the consultation call is merged away");
    // The consultation's switch id now names the merged call.
    assert_eq!(e.calls.find("pbx", "2"), Some(primary.as_str()));

    // The transferring agent's clearing is no news; the customer's ends the call.
    assert!(events(&clear(&mut e, "2", "2001")).is_empty());
    let effects = clear(&mut e, "1", CUSTOMER);
    assert_eq!(ended(&effects)["call"], primary.as_str());
    assert_eq!(ended(&effects)["transferred_to"], "2002");
    assert_eq!(log_outcomes(&effects), ["answered"]);
    assert_eq!(e.calls.len(), 0);
}

#[test]
fn the_phone_state_follows_the_loudest_call() {
    let mut e = engine();
    log_on(&mut e, "a1", "2001");
    let phone = |effects: &[Effect]| {
        events(effects)
            .into_iter()
            .filter(|(n, _, _)| n == "agent.state")
            .map(|(_, _, d)| d["phone"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(phone(&ring(&mut e, "1", "2001")), ["ringing"]);
    assert_eq!(phone(&answer(&mut e, "1", "2001")), ["talking"]);
    // A second call ringing at a talking phone: still talking, nothing published.
    assert!(phone(&ring(&mut e, "2", "2001")).is_empty());
    let held = feed(
        &mut e,
        ev(json!({"kind": "held", "call_id": "1", "device": "2001"})),
    );
    assert_eq!(phone(&held), ["ringing"]);
    assert_eq!(phone(&clear(&mut e, "2", CUSTOMER)), ["held"]);
    assert_eq!(phone(&clear(&mut e, "1", CUSTOMER)), ["idle"]);
}

#[test]
fn a_command_waits_for_the_link_and_its_answer_sets_the_implied_state() {
    use super::effects::AfterCommand;
    use ctibridge_adapter::{Command, CommandOk};

    let mut e = engine();
    log_on(&mut e, "a1", "2001");
    feed(
        &mut e,
        SwitchEvent::LinkDown {
            reason: "peer closed".into(),
        },
    );
    let logout = || Command::AgentLogout {
        agent: "a1".into(),
        device: "2001".into(),
    };
    // Link down: answered at once, nothing sent.
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    e.send_command("pbx", logout(), None, None, tx);
    assert!(e.effects.is_empty());
    let refused = rx.try_recv().expect("answered").expect_err("refused");
    assert_eq!(refused.code, "switch_unavailable");

    // Link up: one command effect; the state changes only with the switch's answer.
    feed(&mut e, SwitchEvent::LinkUp);
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    e.send_command("pbx", logout(), None, None, tx);
    let effects = std::mem::take(&mut e.effects);
    let Ok(
        [Effect::Command {
            switch,
            command,
            then: AfterCommand::Reply { implied, reply, .. },
        }],
    ) = <[Effect; 1]>::try_from(effects)
    else {
        panic!("one command, with a reply");
    };
    assert_eq!(switch, "pbx");
    assert_eq!(command, logout());
    let effects = internal(
        &mut e,
        Internal::CommandDone {
            switch,
            result: Ok(CommandOk::default()),
            client_ref: None,
            created: None,
            dial_from: None,
            implied,
            reply,
        },
    );
    assert_eq!(rx.try_recv().expect("answered").expect("ok"), json!({}));
    assert!(events(&effects)
        .iter()
        .any(|(n, t, d)| n == "agent.state" && t == "agent:a1" && d["state"] == "logged_out"));
}

/// Back-pressure: when the gate takes nothing, the engine fills the gate's queue and
/// stops reading the switch's; once the gate takes again, every event arrives.
#[tokio::test]
async fn a_gate_that_falls_behind_holds_up_the_switch_and_nothing_is_lost() {
    const CALLS: usize = 200;
    let (out, mut gate) = mpsc::channel(2);
    let engine = engine_sending_to(out);
    let (switch_tx, switch_rx) = mpsc::channel(4);
    let (requests_tx, requests_rx) = mpsc::channel(1);
    let running = tokio::spawn(engine.run(switch_rx, requests_rx));
    let probe = switch_tx.clone();
    let feeder = tokio::spawn(async move {
        for i in 0..CALLS {
            let event = ev(json!({"kind": "delivered", "call_id": format!("c{i}"),
                "device": "2002", "calling": "2001", "called": "2002"}));
            if switch_tx
                .send(("pbx".to_string(), event.into()))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    // The switch's queue fills: the engine has stopped reading it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while probe.capacity() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the engine kept reading"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(probe.capacity(), 0);
    assert_eq!(
        gate.len(),
        2,
        "the gate's queue holds no more than its bound"
    );
    assert!(!feeder.is_finished());
    drop(probe);

    // The gate takes again: every call is offered, once, in order.
    let mut offered = Vec::new();
    while offered.len() < CALLS {
        let outbound = tokio::time::timeout(Duration::from_secs(10), gate.recv())
            .await
            .expect("the engine resumes")
            .expect("the engine runs");
        if let Some(HubInput::Publish(p)) = outbound.message {
            let frame: Value = serde_json::from_str(p.frame.as_str()).expect("json frame");
            if frame["name"] == "call.offered" {
                offered.push(
                    frame["data"]["call"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
    }
    feeder.await.expect("the feeder ends");
    let distinct: HashSet<&String> = offered.iter().collect();
    assert_eq!(distinct.len(), CALLS);
    drop(requests_tx);
    while gate.recv().await.is_some() {}
    running
        .await
        .expect("the engine stops when its inputs close");
}
