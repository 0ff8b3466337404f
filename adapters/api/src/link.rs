//! The channels between an adapter task and the engine.
//!
//! The adapter side ([`AdapterLink`]) sends events and receives commands; the engine
//! side ([`EngineSide`]) does the opposite. Both are bounded: an adapter that produces
//! faster than the engine consumes waits (back-pressure on the switch socket), which is
//! what a TCP or serial link wants; nothing is dropped.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::command::{CommandError, CommandRequest};
use crate::event::{AdapterEvent, SwitchEvent};

/// How many events may wait between an adapter and the engine.
pub const EVENT_QUEUE: usize = 4096;
/// How many commands may wait for an adapter.
pub const COMMAND_QUEUE: usize = 256;

/// Given to an adapter's `run`: everything it needs to talk to the engine.
pub struct AdapterLink {
    /// The `[[switch]]` name, for logs.
    pub switch: String,
    pub events: mpsc::Sender<(String, AdapterEvent)>,
    pub commands: mpsc::Receiver<CommandRequest>,
    /// Cancelled when the daemon shuts down; the adapter closes its link and returns.
    pub shutdown: CancellationToken,
}

/// What the engine keeps of one adapter's link.
pub struct EngineSide {
    pub switch: String,
    pub commands: mpsc::Sender<CommandRequest>,
}

impl AdapterLink {
    /// A link for switch `switch` whose events go to `events` (shared by all adapters;
    /// each event is tagged with the switch name).
    pub fn new(
        switch: impl Into<String>,
        events: mpsc::Sender<(String, AdapterEvent)>,
        shutdown: CancellationToken,
    ) -> (AdapterLink, EngineSide) {
        let switch = switch.into();
        let (command_tx, command_rx) = mpsc::channel(COMMAND_QUEUE);
        (
            AdapterLink {
                switch: switch.clone(),
                events,
                commands: command_rx,
                shutdown,
            },
            EngineSide {
                switch,
                commands: command_tx,
            },
        )
    }

    /// Send an event to the engine. Returns false when the engine has gone away
    /// (the daemon is stopping).
    pub async fn send(&self, event: impl Into<AdapterEvent>) -> bool {
        self.events
            .send((self.switch.clone(), event.into()))
            .await
            .is_ok()
    }

    /// Send an event with the raw frame it was decoded from.
    pub async fn send_raw(&self, event: SwitchEvent, raw: String) -> bool {
        self.send(AdapterEvent {
            event,
            raw: Some(raw),
        })
        .await
    }

    /// Wait out a reconnect backoff while the link is down, answering every command
    /// that arrives meanwhile `switch_unavailable` at once (a request is never held
    /// for a link that may not come back in time). `false` when the daemon is
    /// stopping or the engine is gone: the adapter then returns.
    pub async fn pause(&mut self, wait: Duration) -> bool {
        let until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return false,
                _ = tokio::time::sleep_until(until) => return true,
                command = self.commands.recv() => match command {
                    Some(request) => request.respond(Err(CommandError::SwitchUnavailable)),
                    None => return false,
                },
            }
        }
    }
}
