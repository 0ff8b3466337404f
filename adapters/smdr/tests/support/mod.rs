//! Shared by the adapter's integration tests: build an `smdr` adapter from a
//! `[[switch]]` table, run it, and wait for its events.

#![allow(dead_code)]

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterEvent, AdapterLink, CallRecord, EngineSide, SwitchEvent, SwitchSettings,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(10);

/// An adapter built from the keys of a `[[switch]]` table (besides name and adapter).
pub fn build(keys: &str) -> Box<dyn Adapter> {
    let table: toml::Table = toml::from_str(keys).expect("valid TOML");
    let settings = SwitchSettings {
        name: "pbx".into(),
        adapter: "smdr".into(),
        devices: vec![],
        table,
    };
    match (ctibridge_smdr::factory().build)(&settings) {
        Ok(adapter) => adapter,
        Err(e) => panic!("{keys}: {e}"),
    }
}

/// A free loopback port (bound, then let go).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A running adapter and the events it reports.
pub struct Running {
    pub events: mpsc::Receiver<(String, AdapterEvent)>,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
    /// Held so the adapter's command channel stays open, as the engine holds it.
    pub side: EngineSide,
}

pub fn start(keys: &str) -> Running {
    let adapter = build(keys);
    let (tx, events) = mpsc::channel(1024);
    let shutdown = CancellationToken::new();
    let (link, side) = AdapterLink::new("pbx", tx, shutdown.clone());
    let task = tokio::spawn(async move {
        adapter.run(link).await.expect("adapter ran");
    });
    Running {
        events,
        shutdown,
        task,
        side,
    }
}

impl Running {
    /// The next event that matches, skipping others.
    pub async fn expect(
        &mut self,
        what: &str,
        pred: impl Fn(&AdapterEvent) -> bool,
    ) -> AdapterEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((_, event))) if pred(&event) => return event,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("adapter stopped; wanted {what}"),
                Err(_) => panic!("no {what} within {WAIT:?}"),
            }
        }
    }

    pub async fn link_up(&mut self) {
        self.expect("LinkUp", |e| e.event == SwitchEvent::LinkUp)
            .await;
    }

    pub async fn link_down(&mut self) {
        self.expect("LinkDown", |e| {
            matches!(e.event, SwitchEvent::LinkDown { .. })
        })
        .await;
    }

    /// The next call record and its raw text.
    pub async fn record(&mut self) -> (CallRecord, String) {
        let event = self
            .expect("CallRecord", |e| {
                matches!(e.event, SwitchEvent::CallRecord(_))
            })
            .await;
        match event.event {
            SwitchEvent::CallRecord(record) => (record, event.raw.unwrap_or_default()),
            _ => unreachable!(),
        }
    }

    /// No call record arrives within `quiet`.
    pub async fn no_record(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        while let Ok(Some((_, event))) = tokio::time::timeout_at(deadline, self.events.recv()).await
        {
            if let SwitchEvent::CallRecord(record) = event.event {
                panic!("unexpected record {record:?} (raw {:?})", event.raw);
            }
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("adapter stopped in time")
            .expect("adapter task");
    }
}

/// Realistic Avaya IP Office records (call ids 1000100…).
pub fn ipo(n: u32) -> String {
    format!(
        "2026/03/10 09:{:02}:02,00:01:{:02},5,41555501{:02},I,2001,2001,,0,10001{:02},0,E2001,Anna Berg,T9001,Line 1.1,0,0,,,,0.00,,0.00,0,0,0.00,0.00,,,",
        n % 60,
        n % 60,
        n % 100,
        n % 100
    )
}
