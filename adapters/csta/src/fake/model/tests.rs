//! Unit tests of the call model, without any wire.

use super::super::request::AgentRequest;
use super::*;

fn model() -> Model {
    Model::new(&FakeConfig {
        far_end_answer_after: None,
        ..FakeConfig::default()
    })
}

fn names(m: &mut Model) -> Vec<String> {
    m.take_output()
        .notices
        .into_iter()
        .map(|n| match n.event {
            Event::Call(c) => format!("{c:?}")
                .split([' ', '{'])
                .next()
                .unwrap_or("")
                .to_owned(),
            Event::Agent { kind, .. } => kind.root().to_owned(),
        })
        .collect()
}

fn login_ready(m: &mut Model, agent: &str, device: &str) {
    let cmd = AgentCmd {
        device,
        agent: Some(agent),
        password: Some("1234"),
        group: None,
        check_password: true,
    };
    m.set_agent(cmd, &AgentRequest::LoggedOn).expect("log on");
    m.set_agent(cmd, &AgentRequest::Ready).expect("ready");
    m.take_output();
}

#[test]
fn dialable_numbers() {
    assert!(dialable("+14155550123"));
    assert!(dialable("*72#"));
    assert!(!dialable("+"));
    assert!(!dialable("abc"));
    assert!(!dialable("12 34"));
}

#[test]
fn inbound_call_lifecycle() {
    let mut m = model();
    let id = m.ring("+14155550123", "1001", "8005550100").expect("rings");
    assert_eq!(id, "101");
    assert_eq!(names(&mut m), ["Delivered"]);
    m.answer_device("1001").expect("answers");
    assert_eq!(names(&mut m), ["Established"]);
    m.hangup("+14155550123").expect("caller hangs up");
    assert_eq!(names(&mut m), ["Cleared", "Cleared"]);
    assert!(m.calls().is_empty());
}

#[test]
fn acd_call_waits_for_longest_ready_agent() {
    let mut m = model();
    let id = m.ring("+15550001", "8000", "8005550100").expect("queues");
    assert_eq!(names(&mut m), ["Queued"]);
    login_ready(&mut m, "5002", "1002");
    // 5002 became ready and got the call at once.
    let calls = m.calls();
    assert_eq!(calls[0].state_of("1002"), Some(PartyState::Alerting));
    assert_eq!(m.agent("5002").map(|a| a.state), Some(AgentState::Busy));
    login_ready(&mut m, "5001", "1001");
    let second = m.ring("+15550002", "8000", "8005550100").expect("queues");
    assert_eq!(m.calls()[1].state_of("1001"), Some(PartyState::Alerting));
    m.answer(&Conn::new(&id, "1002")).expect("answer");
    m.take_output();
    m.hangup("1002").expect("agent hangs up");
    assert_eq!(m.agent("5002").map(|a| a.state), Some(AgentState::Ready));
    assert!(m.idx(&id).is_none());
    assert!(m.idx(&second).is_some());
}

#[test]
fn consult_then_transfer_keeps_held_call_id() {
    let mut m = model();
    let id = m.ring("+15550001", "1001", "1001").expect("rings");
    m.answer_device("1001").expect("answer");
    let consult = m
        .consultation(&Conn::new(&id, "1001"), "1002")
        .expect("consult");
    m.answer_device("1002").expect("answer");
    m.take_output();
    let (result, to) = m
        .transfer(&Conn::new(&id, "1001"), &Conn::new(&consult, "1001"))
        .expect("transfer");
    assert_eq!((result.as_str(), to.as_str()), (id.as_str(), "1002"));
    let calls = m.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, id);
    assert_eq!(calls[0].state_of("1001"), None);
    assert_eq!(calls[0].state_of("1002"), Some(PartyState::Connected));
    assert_eq!(calls[0].calling, "+15550001");
    let out = m.take_output();
    assert_eq!(out.notices.len(), 1);
    // The transferring device hears about it too, with a null state.
    assert!(out.notices[0].audience.contains(&("1001".to_owned(), None)));
}

#[test]
fn errors_follow_ecma() {
    let mut m = model();
    assert_eq!(m.make_call("1001", "x@y"), Err(INVALID_CALLED));
    assert_eq!(m.make_call("9999", "1002"), Err(INVALID_CALLING));
    let id = m.make_call("1001", "1002").expect("call");
    assert_eq!(m.answer(&Conn::new("999", "1002")), Err(INVALID_CALL));
    assert_eq!(m.answer(&Conn::new(&id, "1003")), Err(INVALID_CONN));
    assert_eq!(
        m.answer(&Conn::new(&id, "1001")),
        Err(CstaError::INVALID_STATE)
    );
    let cmd = AgentCmd {
        device: "1001",
        agent: Some("5001"),
        password: Some("nope"),
        group: None,
        check_password: true,
    };
    assert_eq!(
        m.set_agent(cmd, &AgentRequest::LoggedOn),
        Err(CstaError::Operation("invalidAgentPassword"))
    );
    let cmd = AgentCmd {
        password: Some("1234"),
        ..cmd
    };
    assert_eq!(
        m.set_agent(cmd, &AgentRequest::Ready),
        Err(CstaError::Operation("invalidAgentState"))
    );
    let cmd = AgentCmd {
        agent: Some("5999"),
        ..cmd
    };
    assert_eq!(
        m.set_agent(cmd, &AgentRequest::LoggedOn),
        Err(CstaError::Operation("invalidAgentID"))
    );
}

#[test]
fn busy_number_fails() {
    let mut m = Model::new(&FakeConfig {
        busy_numbers: vec!["5551234".into()],
        ..FakeConfig::default()
    });
    let id = m.make_call("1001", "5551234").expect("call");
    assert_eq!(names(&mut m), ["ServiceInitiated", "Originated", "Failed"]);
    m.clear_connection(&Conn::new(&id, "1001")).expect("clear");
    assert!(m.calls().is_empty());
}

#[test]
fn single_step_conference_is_silent() {
    let mut m = model();
    let id = m.ring("+15550001", "1001", "1001").expect("rings");
    m.answer_device("1001").expect("answer");
    m.single_step_conference(&Conn::new(&id, "1001"), "2001", true)
        .expect("join");
    let call = &m.calls()[0];
    assert!(call.parties.iter().any(|p| p.device == "2001" && p.silent));
    m.hangup("2001").expect("supervisor leaves");
    assert_eq!(m.calls()[0].parties.len(), 2);
}
