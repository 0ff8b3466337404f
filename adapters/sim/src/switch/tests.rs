//! Unit tests of the switch model, driven by commands and by firing timers by hand.

use std::time::Duration;

use ctibridge_adapter::command::CommandResult;
use ctibridge_adapter::{
    AgentState, AgentStateRequest, Command, CommandError, CommandOk, MonitorMode, PartyState,
    SwitchEvent, TransferMode,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::{Effects, Switch, Timer};
use crate::config::{SimAgent, SimAgentState, SimConfig};

const CALLER: &str = "+14155550123";
const CALLER2: &str = "+14155550199";

struct Sim {
    switch: Switch,
    /// Timers armed so far and not fired, with their delays.
    timers: Vec<(Duration, Timer)>,
}

fn agent(id: &str, extension: &str, state: SimAgentState) -> SimAgent {
    SimAgent {
        agent: id.into(),
        extension: extension.into(),
        state,
        password: None,
    }
}

impl Sim {
    fn new(config: SimConfig) -> Sim {
        let devices = ["1001", "1002", "1003", "1009"].map(String::from).to_vec();
        let config = SimConfig {
            queues: vec!["8000".into(), "8001".into()],
            dnis: [("8005550100".to_string(), "8000".to_string())].into(),
            ..config
        };
        let mut switch = Switch::new(devices, config, StdRng::seed_from_u64(7));
        let mut out = Effects::default();
        switch.start(&mut out);
        Sim {
            switch,
            timers: out.timers,
        }
    }

    fn quiet() -> Sim {
        Sim::new(SimConfig::default())
    }

    fn run(&mut self, command: Command) -> (CommandResult, Vec<SwitchEvent>) {
        let mut out = Effects::default();
        let result = self.switch.command(command, &mut out);
        self.timers.extend(out.timers);
        (result, out.events)
    }

    fn ok(&mut self, command: Command) -> (CommandOk, Vec<SwitchEvent>) {
        let shown = format!("{command:?}");
        let (result, events) = self.run(command);
        match result {
            Ok(ok) => (ok, events),
            Err(e) => panic!("{shown} failed: {e}"),
        }
    }

    fn err(&mut self, command: Command) -> CommandError {
        let shown = format!("{command:?}");
        let (result, events) = self.run(command);
        assert!(events.is_empty(), "{shown} failed but reported {events:?}");
        match result {
            Err(e) => e,
            Ok(ok) => panic!("{shown} succeeded: {ok:?}"),
        }
    }

    fn inbound(&mut self, from: &str, to: &str) -> (String, Vec<SwitchEvent>) {
        let (ok, events) = self.ok(Command::SimulateInbound {
            from: from.into(),
            to: to.into(),
            digits: Some("42".into()),
        });
        (ok.call_id.expect("a call id"), events)
    }

    /// Fire the first armed timer `pick` accepts; returns its delay and the events.
    fn fire(&mut self, pick: impl Fn(&Timer) -> bool) -> (Duration, Vec<SwitchEvent>) {
        let index = self
            .timers
            .iter()
            .position(|(_, t)| pick(t))
            .unwrap_or_else(|| panic!("no such timer among {:?}", self.timers));
        let (delay, timer) = self.timers.remove(index);
        let mut out = Effects::default();
        self.switch.fire(timer, &mut out);
        self.timers.extend(out.timers);
        (delay, out.events)
    }

    fn party_states(&self, call_id: &str) -> Vec<(String, PartyState)> {
        self.switch
            .snapshot()
            .calls
            .into_iter()
            .find(|c| c.call_id == call_id)
            .map(|c| c.parties.into_iter().map(|p| (p.device, p.state)).collect())
            .unwrap_or_default()
    }

    fn agent_state(&self, agent: &str) -> AgentState {
        self.switch
            .snapshot()
            .agents
            .into_iter()
            .find(|a| a.agent == agent)
            .map(|a| a.state)
            .unwrap_or(AgentState::LoggedOut)
    }
}

fn answer(call_id: &str, device: &str) -> Command {
    Command::Answer {
        call_id: call_id.into(),
        device: device.into(),
    }
}

fn hangup(call_id: &str, device: &str) -> Command {
    Command::Hangup {
        call_id: call_id.into(),
        device: device.into(),
    }
}

fn set_state(agent: &str, device: &str, state: AgentStateRequest) -> Command {
    Command::SetAgentState {
        agent: agent.into(),
        device: device.into(),
        state,
    }
}

fn delivered(
    call_id: &str,
    device: &str,
    queue: Option<&str>,
    calling: &str,
    called: &str,
) -> SwitchEvent {
    SwitchEvent::Delivered {
        call_id: call_id.into(),
        device: device.into(),
        calling: Some(calling.into()),
        called: Some(called.into()),
        original_called: None,
        trunk: None,
        queue: queue.map(String::from),
        digits: Some("42".into()),
    }
}

fn queued(call_id: &str, queue: &str, calling: &str, called: &str) -> SwitchEvent {
    SwitchEvent::Queued {
        call_id: call_id.into(),
        queue: queue.into(),
        calling: Some(calling.into()),
        called: Some(called.into()),
        digits: Some("42".into()),
    }
}

fn cleared(call_id: &str, device: &str) -> SwitchEvent {
    SwitchEvent::ConnectionCleared {
        call_id: call_id.into(),
        device: device.into(),
        cause: Some("normal_clearing".into()),
    }
}

/// A call from outside ringing at 1001 and answered there.
fn answered_at_1001(sim: &mut Sim) -> String {
    let (call, _) = sim.inbound(CALLER, "1001");
    sim.ok(answer(&call, "1001"));
    call
}

#[test]
fn queue_call_goes_to_the_ready_agent_only() {
    let mut sim = Sim::new(SimConfig {
        agents: vec![
            agent("5001", "1001", SimAgentState::NotReady),
            agent("5002", "1002", SimAgentState::Ready),
        ],
        ..SimConfig::default()
    });
    let (call, events) = sim.inbound(CALLER, "8005550100");
    assert_eq!(call, "1");
    assert_eq!(
        events,
        vec![
            queued("1", "8000", CALLER, "8005550100"),
            delivered("1", "1002", Some("8000"), CALLER, "8005550100"),
        ]
    );
    assert_eq!(
        sim.party_states("1"),
        vec![
            (CALLER.to_string(), PartyState::Initiated),
            ("1002".to_string(), PartyState::Alerting)
        ]
    );
}

#[test]
fn queue_calls_wait_for_an_agent_and_are_served_first_in_first_out() {
    let mut sim = Sim::new(SimConfig {
        agents: vec![agent("5001", "1001", SimAgentState::NotReady)],
        ..SimConfig::default()
    });
    let (first, events) = sim.inbound(CALLER, "8000");
    assert_eq!(events, vec![queued(&first, "8000", CALLER, "8000")]);
    let (second, events) = sim.inbound(CALLER2, "8001");
    assert_eq!(events, vec![queued(&second, "8001", CALLER2, "8001")]);
    assert_eq!(
        sim.party_states(&first),
        vec![
            (CALLER.to_string(), PartyState::Initiated),
            ("8000".to_string(), PartyState::Queued)
        ]
    );

    // Ready: the oldest call rings; the agent is then busy, so the second waits.
    let (_, events) = sim.ok(set_state("5001", "1001", AgentStateRequest::Ready));
    assert_eq!(
        events,
        vec![
            SwitchEvent::Ready {
                agent: "5001".into(),
                device: "1001".into()
            },
            delivered(&first, "1001", Some("8000"), CALLER, "8000"),
        ]
    );
    sim.ok(answer(&first, "1001"));

    // The first call ends; the second goes to the now free agent.
    let (_, events) = sim.ok(hangup(&first, "1001"));
    assert_eq!(
        events,
        vec![
            cleared(&first, "1001"),
            cleared(&first, CALLER),
            delivered(&second, "1001", Some("8001"), CALLER2, "8001"),
        ]
    );
}

#[test]
fn the_agent_idle_longest_gets_the_call() {
    let mut sim = Sim::new(SimConfig {
        agents: vec![
            agent("5001", "1001", SimAgentState::Ready),
            agent("5002", "1002", SimAgentState::Ready),
        ],
        ..SimConfig::default()
    });
    let (call, events) = sim.inbound(CALLER, "8000");
    assert!(events.contains(&delivered(&call, "1001", Some("8000"), CALLER, "8000")));
    sim.ok(answer(&call, "1001"));
    sim.ok(hangup(&call, "1001"));
    // 5001 just finished a call; 5002 has waited longer.
    let (call, events) = sim.inbound(CALLER, "8000");
    assert!(events.contains(&delivered(&call, "1002", Some("8000"), CALLER, "8000")));
}

#[test]
fn a_caller_abandons_in_the_queue_and_while_ringing() {
    let mut sim = Sim::new(SimConfig {
        abandon_after: Duration::from_millis(5000),
        agents: vec![agent("5001", "1001", SimAgentState::NotReady)],
        ..SimConfig::default()
    });
    let (call, _) = sim.inbound(CALLER, "8000");
    let (delay, events) = sim.fire(|t| matches!(t, Timer::Abandon { .. }));
    assert_eq!(delay, Duration::from_millis(5000));
    assert_eq!(events, vec![cleared(&call, CALLER)]);
    assert!(sim.switch.snapshot().calls.is_empty());

    // Becoming ready afterwards delivers nothing: the call is gone.
    let (_, events) = sim.ok(set_state("5001", "1001", AgentStateRequest::Ready));
    assert_eq!(events.len(), 1, "{events:?}");

    let (call, _) = sim.inbound(CALLER, "1002");
    let (_, events) = sim.fire(|t| matches!(t, Timer::Abandon { .. }));
    assert_eq!(events, vec![cleared(&call, CALLER), cleared(&call, "1002")]);
}

#[test]
fn an_answered_call_is_not_abandoned() {
    let mut sim = Sim::new(SimConfig {
        abandon_after: Duration::from_millis(5000),
        ..SimConfig::default()
    });
    let call = answered_at_1001(&mut sim);
    let (_, events) = sim.fire(|t| matches!(t, Timer::Abandon { .. }));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(sim.party_states(&call).len(), 2);
}

#[test]
fn answer_needs_a_ringing_party() {
    let mut sim = Sim::quiet();
    let (call, events) = sim.inbound(CALLER, "1001");
    assert_eq!(events, vec![delivered(&call, "1001", None, CALLER, "1001")]);
    assert!(matches!(
        sim.err(answer(&call, "1002")),
        CommandError::CallNotFound(_)
    ));
    let (_, events) = sim.ok(answer(&call, "1001"));
    assert_eq!(
        events,
        vec![SwitchEvent::Established {
            call_id: call.clone(),
            device: "1001".into(),
            calling: Some(CALLER.into()),
            called: Some("1001".into()),
        }]
    );
    assert!(matches!(
        sim.err(answer(&call, "1001")),
        CommandError::NotSupported(_)
    ));
    assert_eq!(
        sim.party_states(&call),
        vec![
            (CALLER.to_string(), PartyState::Connected),
            ("1001".to_string(), PartyState::Connected)
        ]
    );
}

#[test]
fn hold_and_retrieve_need_the_right_state() {
    let mut sim = Sim::quiet();
    let (call, _) = sim.inbound(CALLER, "1001");
    let hold = |device: &str| Command::Hold {
        call_id: call.clone(),
        device: device.into(),
    };
    let retrieve = |device: &str| Command::Retrieve {
        call_id: call.clone(),
        device: device.into(),
    };
    // Ringing: nothing to hold yet.
    assert!(matches!(
        sim.err(hold("1001")),
        CommandError::NotSupported(_)
    ));
    sim.ok(answer(&call, "1001"));
    assert!(matches!(
        sim.err(retrieve("1001")),
        CommandError::NotSupported(_)
    ));
    assert!(matches!(
        sim.err(hold("1002")),
        CommandError::CallNotFound(_)
    ));
    let (_, events) = sim.ok(hold("1001"));
    assert_eq!(
        events,
        vec![SwitchEvent::Held {
            call_id: call.clone(),
            device: "1001".into()
        }]
    );
    assert!(matches!(
        sim.err(hold("1001")),
        CommandError::NotSupported(_)
    ));
    let (_, events) = sim.ok(retrieve("1001"));
    assert_eq!(
        events,
        vec![SwitchEvent::Retrieved {
            call_id: call.clone(),
            device: "1001".into()
        }]
    );
    assert!(matches!(
        sim.err(Command::Hold {
            call_id: "99".into(),
            device: "1001".into()
        }),
        CommandError::CallNotFound(_)
    ));
}

#[test]
fn unknown_calls_are_not_found() {
    let mut sim = Sim::quiet();
    for call_id in ["1", "no-such-call-4711", "", "-1"] {
        for command in [
            hangup(call_id, "1001"),
            answer(call_id, "1001"),
            Command::ForceRelease {
                call_id: call_id.into(),
            },
            Command::Dtmf {
                call_id: call_id.into(),
                device: "1001".into(),
                digits: "1".into(),
            },
        ] {
            assert!(
                matches!(sim.err(command), CommandError::CallNotFound(_)),
                "{call_id:?}"
            );
        }
    }
}

#[test]
fn invalid_destinations_are_refused() {
    let mut sim = Sim::quiet();
    let dial = |from: &str, to: &str| Command::MakeCall {
        from: from.into(),
        to: to.into(),
    };
    for to in ["not a number", "", "12-34", "1001"] {
        assert!(
            matches!(
                sim.err(dial("1001", to)),
                CommandError::InvalidDestination(_)
            ),
            "{to:?}"
        );
    }
    let err = sim.err(dial("7777", "1002"));
    assert!(
        matches!(&err, CommandError::InvalidDestination(m) if m.contains("unknown calling device")),
        "{err:?}"
    );
    let inbound = |from: &str, to: &str| Command::SimulateInbound {
        from: from.into(),
        to: to.into(),
        digits: None,
    };
    // The outside world can only call this switch's numbers, from outside numbers.
    for (from, to) in [
        (CALLER, "+4930123456"),
        (CALLER, "x"),
        ("1002", "1001"),
        ("abc", "1001"),
    ] {
        assert!(
            matches!(
                sim.err(inbound(from, to)),
                CommandError::InvalidDestination(_)
            ),
            "{from} -> {to}"
        );
    }
    // Call ids are not used up by refused calls.
    let (call, _) = sim.inbound(CALLER, "1001");
    assert_eq!(call, "1");
}

#[test]
fn dialling_out_internal_and_to_a_queue() {
    let mut sim = Sim::quiet();
    let (ok, events) = sim.ok(Command::MakeCall {
        from: "1001".into(),
        to: CALLER.into(),
    });
    assert_eq!(ok, CommandOk::call("1"));
    assert_eq!(
        events,
        vec![
            SwitchEvent::Originated {
                call_id: "1".into(),
                device: "1001".into(),
                called: Some(CALLER.into())
            },
            SwitchEvent::Established {
                call_id: "1".into(),
                device: CALLER.into(),
                calling: Some("1001".into()),
                called: Some(CALLER.into())
            },
        ]
    );
    // A device with a call cannot dial another.
    assert!(matches!(
        sim.err(Command::MakeCall {
            from: "1001".into(),
            to: "1002".into()
        }),
        CommandError::NotSupported(_)
    ));
    let (_, events) = sim.ok(hangup("1", "1001"));
    assert_eq!(events, vec![cleared("1", "1001"), cleared("1", CALLER)]);

    let (ok, events) = sim.ok(Command::MakeCall {
        from: "1001".into(),
        to: "1002".into(),
    });
    assert_eq!(ok, CommandOk::call("2"));
    assert_eq!(
        events[1],
        SwitchEvent::Delivered {
            call_id: "2".into(),
            device: "1002".into(),
            calling: Some("1001".into()),
            called: Some("1002".into()),
            original_called: None,
            trunk: None,
            queue: None,
            digits: None,
        }
    );
    assert_eq!(
        sim.party_states("2"),
        vec![
            ("1001".to_string(), PartyState::Initiated),
            ("1002".to_string(), PartyState::Alerting)
        ]
    );
    let (_, events) = sim.ok(answer("2", "1002"));
    assert!(matches!(&events[..], [SwitchEvent::Established { device, .. }] if device == "1002"));
    assert_eq!(
        sim.party_states("2"),
        vec![
            ("1001".to_string(), PartyState::Connected),
            ("1002".to_string(), PartyState::Connected)
        ]
    );

    let (ok, events) = sim.ok(Command::MakeCall {
        from: "1003".into(),
        to: "8000".into(),
    });
    assert_eq!(ok, CommandOk::call("3"));
    assert!(matches!(&events[1], SwitchEvent::Queued { queue, .. } if queue == "8000"));
}

#[test]
fn blind_transfer_rings_the_target_with_the_original_numbers() {
    let mut sim = Sim::quiet();
    let call = answered_at_1001(&mut sim);
    let (_, events) = sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1001".into(),
        mode: TransferMode::Blind,
        to: Some("1002".into()),
        consult_call_id: None,
    });
    assert_eq!(
        events,
        vec![
            SwitchEvent::Transferred {
                call_id: call.clone(),
                secondary_call_id: None,
                device: "1001".into(),
                transferred_to: "1002".into()
            },
            delivered(&call, "1002", None, CALLER, "1001"),
        ]
    );
    assert_eq!(
        sim.party_states(&call),
        vec![
            (CALLER.to_string(), PartyState::Connected),
            ("1002".to_string(), PartyState::Alerting)
        ]
    );

    // On to a queue, then outside.
    sim.ok(answer(&call, "1002"));
    let (_, events) = sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1002".into(),
        mode: TransferMode::Blind,
        to: Some("8005550100".into()),
        consult_call_id: None,
    });
    assert_eq!(events[1], queued(&call, "8000", CALLER, "1001"));
}

#[test]
fn consultation_transfer_merges_the_calls() {
    let mut sim = Sim::quiet();
    let call = answered_at_1001(&mut sim);
    let (ok, events) = sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1001".into(),
        mode: TransferMode::Consult,
        to: Some("1002".into()),
        consult_call_id: None,
    });
    let consult = ok.call_id.expect("consultation call id");
    assert_eq!(consult, "2");
    assert_eq!(
        events[..2],
        [
            SwitchEvent::Held {
                call_id: call.clone(),
                device: "1001".into()
            },
            SwitchEvent::Originated {
                call_id: consult.clone(),
                device: "1001".into(),
                called: Some("1002".into())
            },
        ]
    );
    assert!(
        matches!(&events[2], SwitchEvent::Delivered { call_id, device, .. } if *call_id == consult && device == "1002")
    );
    sim.ok(answer(&consult, "1002"));

    let (_, events) = sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1001".into(),
        mode: TransferMode::Complete,
        to: None,
        consult_call_id: Some(consult.clone()),
    });
    assert_eq!(
        events,
        vec![SwitchEvent::Transferred {
            call_id: call.clone(),
            secondary_call_id: Some(consult.clone()),
            device: "1001".into(),
            transferred_to: "1002".into()
        }]
    );
    assert_eq!(
        sim.party_states(&call),
        vec![
            (CALLER.to_string(), PartyState::Connected),
            ("1002".to_string(), PartyState::Connected)
        ]
    );
    assert_eq!(sim.switch.snapshot().calls.len(), 1);
    assert!(matches!(
        sim.err(hangup(&consult, "1002")),
        CommandError::CallNotFound(_)
    ));
    // 1001 is free again.
    sim.ok(Command::MakeCall {
        from: "1001".into(),
        to: "1003".into(),
    });
}

#[test]
fn transfer_on_ringing_keeps_the_target_ringing() {
    let mut sim = Sim::quiet();
    let call = answered_at_1001(&mut sim);
    let (ok, _) = sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1001".into(),
        mode: TransferMode::Consult,
        to: Some("1002".into()),
        consult_call_id: None,
    });
    let consult = ok.call_id.expect("consultation call id");
    sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1001".into(),
        mode: TransferMode::Complete,
        to: None,
        consult_call_id: Some(consult),
    });
    assert_eq!(
        sim.party_states(&call),
        vec![
            (CALLER.to_string(), PartyState::Connected),
            ("1002".to_string(), PartyState::Alerting)
        ]
    );
    sim.ok(answer(&call, "1002"));
}

#[test]
fn conference_by_consultation_and_directly() {
    let mut sim = Sim::quiet();
    let call = answered_at_1001(&mut sim);
    let (ok, _) = sim.ok(Command::Transfer {
        call_id: call.clone(),
        device: "1001".into(),
        mode: TransferMode::Consult,
        to: Some("1002".into()),
        consult_call_id: None,
    });
    let consult = ok.call_id.expect("consultation call id");
    sim.ok(answer(&consult, "1002"));
    let (_, events) = sim.ok(Command::Conference {
        call_id: call.clone(),
        device: "1001".into(),
        to: None,
        consult_call_id: Some(consult.clone()),
    });
    assert_eq!(
        events,
        vec![SwitchEvent::Conferenced {
            call_id: call.clone(),
            secondary_call_id: Some(consult.clone()),
            device: "1001".into(),
            added: "1002".into()
        }]
    );
    assert_eq!(
        sim.party_states(&call),
        vec![
            (CALLER.to_string(), PartyState::Connected),
            ("1001".to_string(), PartyState::Connected),
            ("1002".to_string(), PartyState::Connected)
        ]
    );

    let (_, events) = sim.ok(Command::Conference {
        call_id: call.clone(),
        device: "1001".into(),
        to: Some("1003".into()),
        consult_call_id: None,
    });
    assert_eq!(
        events,
        vec![SwitchEvent::Conferenced {
            call_id: call.clone(),
            secondary_call_id: None,
            device: "1001".into(),
            added: "1003".into()
        }]
    );
    assert!(matches!(
        sim.err(Command::Conference {
            call_id: call.clone(),
            device: "1001".into(),
            to: Some("1003".into()),
            consult_call_id: None,
        }),
        CommandError::NotSupported(_)
    ));
    assert!(matches!(
        sim.err(Command::Conference {
            call_id: call.clone(),
            device: "1001".into(),
            to: Some("8000".into()),
            consult_call_id: None,
        }),
        CommandError::NotSupported(_)
    ));

    // With four parties one leaving does not end the call.
    let (_, events) = sim.ok(hangup(&call, "1002"));
    assert_eq!(events, vec![cleared(&call, "1002")]);
    assert_eq!(sim.party_states(&call).len(), 3);
}

#[test]
fn monitor_and_force_release() {
    let mut sim = Sim::quiet();
    let call = answered_at_1001(&mut sim);
    assert!(matches!(
        sim.err(Command::Monitor {
            call_id: call.clone(),
            device: "1001".into(),
            supervisor_device: CALLER2.into(),
            mode: MonitorMode::Silent,
        }),
        CommandError::InvalidDestination(_)
    ));
    let (_, events) = sim.ok(Command::Monitor {
        call_id: call.clone(),
        device: "1001".into(),
        supervisor_device: "1009".into(),
        mode: MonitorMode::Barge,
    });
    assert_eq!(
        events,
        vec![SwitchEvent::Conferenced {
            call_id: call.clone(),
            secondary_call_id: None,
            device: "1009".into(),
            added: "1009".into()
        }]
    );
    let (_, events) = sim.ok(Command::ForceRelease {
        call_id: call.clone(),
    });
    let forced = |device: &str| SwitchEvent::ConnectionCleared {
        call_id: call.clone(),
        device: device.into(),
        cause: Some("forced_release".into()),
    };
    assert_eq!(events, vec![forced(CALLER), forced("1001"), forced("1009")]);
    assert!(sim.switch.snapshot().calls.is_empty());
}

#[test]
fn dtmf_needs_a_connected_party_and_digits() {
    let mut sim = Sim::quiet();
    let (call, _) = sim.inbound(CALLER, "1001");
    let dtmf = |digits: &str| Command::Dtmf {
        call_id: call.clone(),
        device: "1001".into(),
        digits: digits.into(),
    };
    assert!(matches!(sim.err(dtmf("1")), CommandError::NotSupported(_)));
    sim.ok(answer(&call, "1001"));
    let (_, events) = sim.ok(dtmf("12*#A"));
    assert!(events.is_empty());
    assert!(matches!(sim.err(dtmf("12x")), CommandError::Rejected(_)));
}

#[test]
fn agent_passwords_and_sessions_are_checked() {
    let mut sim = Sim::new(SimConfig {
        agents: vec![
            SimAgent {
                password: Some("1234".into()),
                ..agent("5003", "1003", SimAgentState::LoggedOut)
            },
            agent("5001", "1001", SimAgentState::Ready),
        ],
        ..SimConfig::default()
    });
    let login = |agent: &str, device: &str, password: Option<&str>| Command::AgentLogin {
        agent: agent.into(),
        device: device.into(),
        password: password.map(String::from),
    };
    for password in [None, Some("4321")] {
        assert_eq!(
            sim.err(login("5003", "1003", password)),
            CommandError::Rejected("wrong agent password".into())
        );
    }
    // Someone else is at 1001; 5001 is logged on already.
    assert!(matches!(
        sim.err(login("5003", "1001", Some("1234"))),
        CommandError::Rejected(_)
    ));
    assert!(matches!(
        sim.err(login("5001", "1002", None)),
        CommandError::Rejected(_)
    ));
    assert!(matches!(
        sim.err(login("5003", "4444", Some("1234"))),
        CommandError::InvalidDestination(_)
    ));

    let (_, events) = sim.ok(login("5003", "1003", Some("1234")));
    assert_eq!(
        events,
        vec![SwitchEvent::LoggedOn {
            agent: "5003".into(),
            device: "1003".into()
        }]
    );
    assert_eq!(
        sim.agent_state("5003"),
        AgentState::NotReady { reason: None }
    );
    // An agent nobody configured logs on without a password.
    sim.ok(login("6000", "1002", None));

    assert!(matches!(
        sim.err(set_state("5003", "1002", AgentStateRequest::Ready)),
        CommandError::Rejected(_)
    ));
    let (_, events) = sim.ok(set_state(
        "5003",
        "1003",
        AgentStateRequest::NotReady {
            reason: Some("lunch".into()),
        },
    ));
    assert_eq!(
        events,
        vec![SwitchEvent::NotReady {
            agent: "5003".into(),
            device: "1003".into(),
            reason: Some("lunch".into())
        }]
    );
    let (_, events) = sim.ok(set_state("5003", "1003", AgentStateRequest::Acw));
    assert!(matches!(&events[..], [SwitchEvent::WorkNotReady { .. }]));
    let (_, events) = sim.ok(Command::AgentLogout {
        agent: "5003".into(),
        device: "1003".into(),
    });
    assert_eq!(
        events,
        vec![SwitchEvent::LoggedOff {
            agent: "5003".into(),
            device: "1003".into()
        }]
    );
    assert_eq!(sim.agent_state("5003"), AgentState::LoggedOut);
    assert!(matches!(
        sim.err(Command::AgentLogout {
            agent: "5003".into(),
            device: "1003".into(),
        }),
        CommandError::Rejected(_)
    ));
}

#[test]
fn simulated_humans_answer_talk_hold_and_do_after_call_work() {
    let mut sim = Sim::new(SimConfig {
        answer_after: Duration::from_millis(2000),
        talk: Duration::from_millis(30_000),
        hold: Duration::from_millis(6000),
        acw: Duration::from_millis(10_000),
        agents: vec![agent("5001", "1001", SimAgentState::Ready)],
        ..SimConfig::default()
    });
    let (call, _) = sim.inbound(CALLER, "8000");
    let (delay, events) = sim.fire(|t| matches!(t, Timer::AutoAnswer { .. }));
    assert_eq!(delay, Duration::from_millis(2000));
    assert!(matches!(&events[..], [SwitchEvent::Established { device, .. }] if device == "1001"));

    let (delay, events) = sim.fire(|t| matches!(t, Timer::HoldStart { .. }));
    assert_eq!(delay, Duration::from_millis(10_000));
    assert!(matches!(&events[..], [SwitchEvent::Held { .. }]));
    let (delay, events) = sim.fire(|t| matches!(t, Timer::HoldEnd { .. }));
    assert_eq!(delay, Duration::from_millis(6000));
    assert!(matches!(&events[..], [SwitchEvent::Retrieved { .. }]));

    let (delay, events) = sim.fire(|t| matches!(t, Timer::RemoteHangup { .. }));
    assert_eq!(delay, Duration::from_millis(36_000));
    assert_eq!(
        events,
        vec![
            cleared(&call, CALLER),
            cleared(&call, "1001"),
            SwitchEvent::WorkNotReady {
                agent: "5001".into(),
                device: "1001".into()
            }
        ]
    );
    // In ACW the agent gets no queue call.
    let (second, events) = sim.inbound(CALLER2, "8000");
    assert_eq!(events, vec![queued(&second, "8000", CALLER2, "8000")]);

    let (delay, events) = sim.fire(|t| matches!(t, Timer::AcwEnd { .. }));
    assert_eq!(delay, Duration::from_millis(10_000));
    assert_eq!(
        events,
        vec![
            SwitchEvent::Ready {
                agent: "5001".into(),
                device: "1001".into()
            },
            delivered(&second, "1001", Some("8000"), CALLER2, "8000"),
        ]
    );
}

#[test]
fn a_state_change_during_acw_wins_over_its_end() {
    let mut sim = Sim::new(SimConfig {
        acw: Duration::from_millis(10_000),
        agents: vec![agent("5001", "1001", SimAgentState::Ready)],
        ..SimConfig::default()
    });
    let (call, _) = sim.inbound(CALLER, "8000");
    sim.ok(answer(&call, "1001"));
    let (_, events) = sim.ok(hangup(&call, "1001"));
    assert!(events.contains(&SwitchEvent::WorkNotReady {
        agent: "5001".into(),
        device: "1001".into()
    }));
    sim.ok(set_state(
        "5001",
        "1001",
        AgentStateRequest::NotReady { reason: None },
    ));
    let (_, events) = sim.fire(|t| matches!(t, Timer::AcwEnd { .. }));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        sim.agent_state("5001"),
        AgentState::NotReady { reason: None }
    );
}

#[test]
fn a_stale_answer_timer_does_nothing() {
    let mut sim = Sim::new(SimConfig {
        answer_after: Duration::from_millis(2000),
        agents: vec![agent("5001", "1001", SimAgentState::NotReady)],
        ..SimConfig::default()
    });
    let (call, _) = sim.inbound(CALLER, "1001");
    // The client answers first; then the simulated agent's timer expires.
    sim.ok(answer(&call, "1001"));
    let (_, events) = sim.fire(|t| matches!(t, Timer::AutoAnswer { .. }));
    assert!(events.is_empty(), "{events:?}");
    // Without an agent an extension never answers by itself.
    sim.ok(hangup(&call, "1001"));
    sim.inbound(CALLER, "1002");
    assert!(!sim
        .timers
        .iter()
        .any(|(_, t)| matches!(t, Timer::AutoAnswer { .. })));
}

#[test]
fn the_far_end_of_a_dialled_call_hangs_up_after_the_talk_time() {
    let mut sim = Sim::new(SimConfig {
        talk: Duration::from_millis(1000),
        ..SimConfig::default()
    });
    sim.ok(Command::MakeCall {
        from: "1002".into(),
        to: CALLER.into(),
    });
    let (delay, events) = sim.fire(|t| matches!(t, Timer::RemoteHangup { .. }));
    assert_eq!(delay, Duration::from_millis(1000));
    assert_eq!(events, vec![cleared("1", CALLER), cleared("1", "1002")]);
}

#[test]
fn the_generator_places_calls_to_queues_and_dnis() {
    let mut sim = Sim::new(SimConfig {
        inbound_calls_per_s: 2.0,
        callers: vec![CALLER.into(), CALLER2.into()],
        jitter: 0.5,
        ..SimConfig::default()
    });
    let mut total = Duration::ZERO;
    for n in 1..=200u64 {
        let (delay, events) = sim.fire(|t| matches!(t, Timer::NextInbound));
        total += delay;
        let [SwitchEvent::Queued {
            call_id,
            queue,
            calling,
            called,
            ..
        }] = &events[..]
        else {
            panic!("expected one Queued, got {events:?}");
        };
        assert_eq!(*call_id, n.to_string());
        assert!(calling.as_deref() == Some(CALLER) || calling.as_deref() == Some(CALLER2));
        match called.as_deref() {
            Some("8005550100") => assert_eq!(queue, "8000"),
            Some("8001") => assert_eq!(queue, "8001"),
            other => panic!("unexpected DNIS {other:?}"),
        }
    }
    // 200 arrivals at 2/s take about 100 s (a loose bound: it is random).
    let mean = total.as_secs_f64() / 200.0;
    assert!((0.3..0.8).contains(&mean), "mean gap {mean}");
}

#[test]
fn snapshot_lists_calls_and_every_known_agent() {
    let mut sim = Sim::new(SimConfig {
        agents: vec![
            agent("5001", "1001", SimAgentState::Ready),
            agent("5003", "1003", SimAgentState::LoggedOut),
        ],
        ..SimConfig::default()
    });
    sim.inbound(CALLER, "8000");
    let (_, events) = sim.ok(Command::Snapshot);
    let [SwitchEvent::Snapshot(snapshot)] = &events[..] else {
        panic!("expected a snapshot, got {events:?}");
    };
    assert_eq!(snapshot.calls.len(), 1);
    assert_eq!(snapshot.calls[0].queue.as_deref(), Some("8000"));
    let agents: Vec<_> = snapshot
        .agents
        .iter()
        .map(|a| (a.agent.as_str(), a.device.as_str(), a.state.name()))
        .collect();
    assert_eq!(
        agents,
        vec![("5001", "1001", "ready"), ("5003", "1003", "logged_out")]
    );
    assert!(matches!(
        sim.err(Command::RouteSelect {
            route_id: "1".into(),
            destination: "1001".into()
        }),
        CommandError::NotSupported(_)
    ));
}
