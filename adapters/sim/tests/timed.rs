//! The simulator as a running adapter, with paused tokio time: the simulated humans'
//! timing comes out exact and the tests take no real time.

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterEvent, AdapterLink, AgentState, Command, CommandError, CommandOk,
    CommandRequest, EngineSide, SwitchEvent,
};
use ctibridge_sim::{SimAdapter, SimAgent, SimAgentState, SimConfig, SimControl};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const CALLER: &str = "+14155550123";

/// A running simulator seen from the engine's side.
struct Running {
    events: mpsc::Receiver<(String, AdapterEvent)>,
    side: EngineSide,
    control: SimControl,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ctibridge_adapter::AdapterError>>,
    start: Instant,
}

impl Running {
    fn start(config: SimConfig) -> Running {
        let devices = ["1001", "1002"].map(String::from).to_vec();
        let (adapter, control) = SimAdapter::with_control(devices, config);
        let (events_tx, events) = mpsc::channel(1024);
        let shutdown = CancellationToken::new();
        let (link, side) = AdapterLink::new("sim", events_tx, shutdown.clone());
        let task = tokio::spawn(Box::new(adapter).run(link));
        Running {
            events,
            side,
            control,
            shutdown,
            task,
            start: Instant::now(),
        }
    }

    /// The next event and when it came (since the start).
    async fn next(&mut self) -> (Duration, SwitchEvent) {
        let (_, event) = tokio::time::timeout(Duration::from_secs(3600), self.events.recv())
            .await
            .expect("an event within the hour")
            .expect("the adapter is running");
        (self.start.elapsed(), event.event)
    }

    async fn command(&mut self, command: Command) -> Result<CommandOk, CommandError> {
        let (request, reply) = CommandRequest::new(command);
        self.side
            .commands
            .send(request)
            .await
            .expect("adapter takes commands");
        reply.await.expect("adapter answers")
    }

    async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(1), self.task)
            .await
            .expect("the adapter stops promptly")
            .expect("the adapter task does not panic");
        assert!(result.is_ok(), "{result:?}");
    }
}

fn agent(state: SimAgentState) -> SimAgent {
    SimAgent {
        agent: "5001".into(),
        extension: "1001".into(),
        state,
        password: None,
    }
}

fn kind_and_device(event: &SwitchEvent) -> (&'static str, String) {
    let device = match event {
        SwitchEvent::Queued { queue, .. } => queue.clone(),
        SwitchEvent::Delivered { device, .. }
        | SwitchEvent::Established { device, .. }
        | SwitchEvent::Held { device, .. }
        | SwitchEvent::Retrieved { device, .. }
        | SwitchEvent::ConnectionCleared { device, .. }
        | SwitchEvent::Ready { device, .. }
        | SwitchEvent::WorkNotReady { device, .. } => device.clone(),
        _ => String::new(),
    };
    (event.kind(), device)
}

#[tokio::test(start_paused = true)]
async fn an_acd_call_runs_its_course_by_itself() {
    let mut sim = Running::start(SimConfig {
        queues: vec!["8000".into()],
        answer_after: Duration::from_millis(2000),
        talk: Duration::from_millis(30_000),
        acw: Duration::from_millis(10_000),
        agents: vec![agent(SimAgentState::Ready)],
        ..SimConfig::default()
    });
    assert_eq!(sim.next().await.1, SwitchEvent::LinkUp);
    let (_, SwitchEvent::Snapshot(snapshot)) = sim.next().await else {
        panic!("a snapshot after LinkUp");
    };
    assert!(snapshot.calls.is_empty());
    assert_eq!(snapshot.agents.len(), 1);
    assert_eq!(snapshot.agents[0].state, AgentState::Ready);

    let call = sim
        .control
        .inbound(CALLER, "8000", Some("12345"))
        .await
        .expect("call placed");
    assert_eq!(call, "1");

    let expected = [
        (0, ("queued", "8000")),
        (0, ("delivered", "1001")),
        (2_000, ("established", "1001")),
        (32_000, ("connection_cleared", CALLER)),
        (32_000, ("connection_cleared", "1001")),
        (32_000, ("work_not_ready", "1001")),
        (42_000, ("ready", "1001")),
    ];
    for (at_ms, (kind, device)) in expected {
        let (at, event) = sim.next().await;
        assert_eq!(
            kind_and_device(&event),
            (kind, device.to_string()),
            "{event:?}"
        );
        assert_eq!(event.call_id().unwrap_or(&call), call);
        let at_ms_seen = at.as_millis() as u64;
        assert!(
            at_ms_seen.abs_diff(at_ms) <= 5,
            "{kind} at {at_ms_seen} ms, expected {at_ms} ms"
        );
        match event {
            SwitchEvent::Delivered {
                calling,
                called,
                queue,
                digits,
                ..
            } => {
                assert_eq!(calling.as_deref(), Some(CALLER));
                assert_eq!(called.as_deref(), Some("8000"));
                assert_eq!(queue.as_deref(), Some("8000"));
                assert_eq!(digits.as_deref(), Some("12345"));
            }
            SwitchEvent::ConnectionCleared { cause, .. } => {
                assert_eq!(cause.as_deref(), Some("normal_clearing"));
            }
            _ => {}
        }
    }
    sim.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_caller_nobody_answers_abandons() {
    let mut sim = Running::start(SimConfig {
        queues: vec!["8000".into()],
        answer_after: Duration::from_millis(2000),
        abandon_after: Duration::from_millis(20_000),
        agents: vec![agent(SimAgentState::NotReady)],
        ..SimConfig::default()
    });
    sim.next().await;
    sim.next().await;
    sim.control.ring(CALLER, "8000").await;
    let (_, event) = sim.next().await;
    assert_eq!(kind_and_device(&event), ("queued", "8000".to_string()));
    let (at, event) = sim.next().await;
    assert_eq!(
        event,
        SwitchEvent::ConnectionCleared {
            call_id: "1".into(),
            device: CALLER.into(),
            cause: Some("normal_clearing".into()),
        }
    );
    assert!(at.as_millis().abs_diff(20_000) <= 5, "abandoned at {at:?}");

    // The agent becoming ready later gets nothing: the call is gone.
    sim.command(Command::SetAgentState {
        agent: "5001".into(),
        device: "1001".into(),
        state: ctibridge_adapter::AgentStateRequest::Ready,
    })
    .await
    .expect("ready");
    let (_, event) = sim.next().await;
    assert_eq!(kind_and_device(&event), ("ready", "1001".to_string()));
    sim.command(Command::Snapshot).await.expect("snapshot");
    let (_, SwitchEvent::Snapshot(snapshot)) = sim.next().await else {
        panic!("a snapshot");
    };
    assert!(snapshot.calls.is_empty(), "{snapshot:?}");
    sim.stop().await;
}

#[tokio::test(start_paused = true)]
async fn events_during_an_outage_are_lost_and_a_snapshot_follows() {
    let mut sim = Running::start(SimConfig::default());
    sim.next().await;
    sim.next().await;
    sim.control.drop_link(Duration::from_secs(10)).await;
    let (_, event) = sim.next().await;
    assert!(matches!(event, SwitchEvent::LinkDown { .. }), "{event:?}");

    // Commands are refused; the outside world goes on (its events are lost).
    assert_eq!(
        sim.command(Command::Snapshot).await,
        Err(CommandError::SwitchUnavailable)
    );
    let call = sim
        .control
        .inbound(CALLER, "1001", None)
        .await
        .expect("placed");

    let (at, event) = sim.next().await;
    assert_eq!(event, SwitchEvent::LinkUp);
    assert!(at.as_millis().abs_diff(10_000) <= 5, "up at {at:?}");
    let (_, SwitchEvent::Snapshot(snapshot)) = sim.next().await else {
        panic!("a snapshot after LinkUp");
    };
    assert_eq!(snapshot.calls.len(), 1);
    assert_eq!(snapshot.calls[0].call_id, call);
    assert_eq!(snapshot.calls[0].parties.len(), 2);

    sim.command(Command::Answer {
        call_id: call.clone(),
        device: "1001".into(),
    })
    .await
    .expect("answered after the outage");
    let (_, event) = sim.next().await;
    assert_eq!(kind_and_device(&event), ("established", "1001".to_string()));
    sim.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_demo_generator_keeps_agents_busy() {
    let mut sim = Running::start(SimConfig {
        queues: vec!["8000".into()],
        callers: vec![CALLER.into(), "+442071838750".into()],
        inbound_calls_per_s: 0.1,
        answer_after: Duration::from_millis(3000),
        talk: Duration::from_millis(40_000),
        hold: Duration::from_millis(5000),
        acw: Duration::from_millis(8000),
        abandon_after: Duration::from_millis(120_000),
        jitter: 0.3,
        agents: vec![
            agent(SimAgentState::Ready),
            SimAgent {
                agent: "5002".into(),
                extension: "1002".into(),
                state: SimAgentState::Ready,
                password: None,
            },
        ],
        ..SimConfig::default()
    });
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    while sim.start.elapsed() < Duration::from_secs(1800) {
        let (_, event) = sim.next().await;
        *kinds.entry(event.kind()).or_default() += 1;
    }
    for kind in [
        "queued",
        "delivered",
        "established",
        "held",
        "retrieved",
        "connection_cleared",
        "work_not_ready",
        "ready",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind}: {kinds:?}"
        );
    }
    // About 180 calls in half an hour.
    let queued = kinds["queued"];
    assert!((100..300).contains(&queued), "{queued} calls: {kinds:?}");
    sim.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_adapter_stops_when_the_engine_is_gone() {
    let sim = Running::start(SimConfig::default());
    let Running {
        events, task, side, ..
    } = sim;
    drop(events);
    drop(side);
    let result = tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .expect("stops")
        .expect("no panic");
    assert!(result.is_ok());
}
