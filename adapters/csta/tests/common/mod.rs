//! Shared set-up for the adapter's tests: a fake CSTA switch on loopback, the
//! adapter pointed at it, and a harness that reads the adapter's events and sends
//! it commands as the engine would.

#![allow(dead_code)]

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterEvent, AdapterLink, Command, CommandError, CommandOk, CommandRequest,
    EngineSide, SwitchEvent, SwitchSettings,
};
use ctibridge_csta::fake::{FakeConfig, FakeSwitch};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(5);

/// The `[[switch]]` table of an adapter pointed at `switch`, with extra keys.
pub fn settings(switch: &FakeSwitch, devices: &[&str], extra: &str) -> SwitchSettings {
    let text = format!(
        "name = 'pbx'\nadapter = 'csta'\nhost = '127.0.0.1'\nport = {}\nrequest_timeout_s = 3\nreconnect_min_s = 0.05\nreconnect_max_s = 0.2\n{extra}",
        switch.addr().port()
    );
    SwitchSettings {
        name: "pbx".into(),
        adapter: "csta".into(),
        devices: devices.iter().map(|d| d.to_string()).collect(),
        table: toml::from_str(&text).expect("test settings parse"),
    }
}

pub fn build(settings: &SwitchSettings) -> Box<dyn Adapter> {
    (ctibridge_csta::factory().build)(settings).unwrap_or_else(|e| panic!("build: {e}"))
}

/// A running adapter and the engine's side of its link.
pub struct Harness {
    pub events: mpsc::Receiver<(String, AdapterEvent)>,
    pub side: EngineSide,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), ctibridge_adapter::AdapterError>>,
    pub seen: Vec<SwitchEvent>,
}

impl Harness {
    pub fn start(adapter: Box<dyn Adapter>) -> Harness {
        let (tx, events) = mpsc::channel(1024);
        let shutdown = CancellationToken::new();
        let (link, side) = AdapterLink::new("pbx", tx, shutdown.clone());
        let task = tokio::spawn(adapter.run(link));
        Harness {
            events,
            side,
            shutdown,
            task,
            seen: Vec::new(),
        }
    }

    /// The first event matching `pred`, skipping (and keeping in `seen`) others.
    pub async fn expect(&mut self, what: &str, pred: impl Fn(&SwitchEvent) -> bool) -> SwitchEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((_, event))) => {
                    let matched = pred(&event.event);
                    self.seen.push(event.event.clone());
                    if matched {
                        return event.event;
                    }
                }
                Ok(None) => panic!("adapter stopped; wanted {what}; saw {:#?}", self.seen),
                Err(_) => panic!("no {what} within {WAIT:?}; saw {:#?}", self.seen),
            }
        }
    }

    /// Wait until the link is up and return the snapshot that follows.
    pub async fn up(&mut self) -> ctibridge_adapter::Snapshot {
        self.expect("LinkUp", |e| matches!(e, SwitchEvent::LinkUp))
            .await;
        match self
            .expect("Snapshot", |e| matches!(e, SwitchEvent::Snapshot(_)))
            .await
        {
            SwitchEvent::Snapshot(s) => s,
            _ => unreachable!(),
        }
    }

    pub async fn command(&mut self, command: Command) -> Result<CommandOk, CommandError> {
        let (request, answer) = CommandRequest::new(command);
        self.side
            .commands
            .send(request)
            .await
            .expect("adapter takes commands");
        tokio::time::timeout(WAIT, answer)
            .await
            .expect("answered in time")
            .expect("answered")
    }

    pub async fn ok(&mut self, command: Command) -> CommandOk {
        let shown = format!("{command:?}");
        self.command(command)
            .await
            .unwrap_or_else(|e| panic!("{shown}: {e}"))
    }

    /// No event matching `pred` arrives within `within`.
    pub async fn none(&mut self, within: Duration, pred: impl Fn(&SwitchEvent) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some((_, event))) = tokio::time::timeout_at(deadline, self.events.recv()).await
        {
            assert!(!pred(&event.event), "unexpected {:?}", event.event);
            self.seen.push(event.event);
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("adapter stops")
            .expect("no panic");
        result.expect("adapter ends cleanly");
    }
}

pub async fn fake(config: FakeConfig) -> FakeSwitch {
    FakeSwitch::start(config).await.expect("fake switch starts")
}
