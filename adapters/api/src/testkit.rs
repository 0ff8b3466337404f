//! The conformance kit: the behaviour every adapter must show, checked against that
//! adapter's own switch simulator (a fake CSTA switch on loopback, a pty pair, …).
//!
//! An adapter's test builds the adapter pointed at its simulator, wraps the simulator
//! in a [`SwitchDriver`] (the outside world: a caller ringing an extension, a cable
//! pulled), and calls [`run`]. Steps whose command the adapter does not declare in its
//! [`Capabilities`] are skipped and listed in the [`Report`]; an adapter must not
//! claim a capability the kit cannot see working.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{
    Adapter, AdapterEvent, AdapterLink, Capabilities, Command, CommandError, CommandKind,
    CommandOk, CommandRequest, EngineSide, SwitchEvent, TransferMode,
};

pub type DriverFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The outside world of a simulated switch.
pub trait SwitchDriver: Send {
    /// An external caller `from` dials `to` (an extension), which starts ringing.
    fn ring<'a>(&'a mut self, from: &'a str, to: &'a str) -> DriverFuture<'a>;
    /// Break the link between the adapter and the switch (close the socket, hang up
    /// the serial line). The switch accepts the adapter's reconnection afterwards.
    fn drop_link(&mut self) -> DriverFuture<'_>;
}

/// The devices and numbers the kit uses.
#[derive(Debug, Clone)]
pub struct KitConfig {
    /// A monitored extension the kit rings and acts on.
    pub device: String,
    /// A second monitored extension (transfer target).
    pub other_device: String,
    /// An external number (the caller, and the click-to-dial destination).
    pub external: String,
    /// How long to wait for each expected event.
    pub timeout: Duration,
}

impl Default for KitConfig {
    fn default() -> Self {
        KitConfig {
            device: "1001".into(),
            other_device: "1002".into(),
            external: "+14155550123".into(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// What the kit checked and what it skipped.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: Vec<&'static str>,
    pub skipped: Vec<&'static str>,
}

/// Every step of the kit, in order.
pub const STEPS: [&str; 10] = [
    "link_up",
    "ring",
    "answer",
    "hold_retrieve",
    "transfer",
    "clear",
    "dial",
    "errors",
    "reconnect",
    "shutdown",
];

impl Report {
    /// Every step passed and none was skipped: what an adapter with every call
    /// command must show.
    pub fn complete(&self) -> Result<(), String> {
        let missing: Vec<_> = STEPS.iter().filter(|s| !self.passed.contains(s)).collect();
        if missing.is_empty() && self.skipped.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "steps not passed: {missing:?}; skipped: {:?}",
                self.skipped
            ))
        }
    }
}

/// A conformance failure: which step, and what was seen instead.
#[derive(Debug, thiserror::Error)]
#[error("conformance step `{step}` failed: {detail}")]
pub struct Failure {
    pub step: &'static str,
    pub detail: String,
}

struct Harness {
    events: mpsc::Receiver<(String, AdapterEvent)>,
    side: EngineSide,
    capabilities: Capabilities,
    timeout: Duration,
    step: &'static str,
}

impl Harness {
    fn fail(&self, detail: impl Into<String>) -> Failure {
        Failure {
            step: self.step,
            detail: detail.into(),
        }
    }

    /// Wait for an event matching `pred`, skipping others (an adapter may report more
    /// than the kit asks about, e.g. a Delivered at the transfer target).
    async fn expect(
        &mut self,
        what: &str,
        pred: impl Fn(&SwitchEvent) -> bool,
    ) -> Result<SwitchEvent, Failure> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((_, event))) => {
                    if pred(&event.event) {
                        return Ok(event.event);
                    }
                    seen.push(event.event.kind());
                }
                Ok(None) => return Err(self.fail(format!("adapter stopped; wanted {what}"))),
                Err(_) => {
                    return Err(self.fail(format!(
                        "no {what} within {:?}; saw {:?}",
                        self.timeout, seen
                    )))
                }
            }
        }
    }

    async fn command(
        &mut self,
        command: Command,
    ) -> Result<Result<CommandOk, CommandError>, Failure> {
        let (request, reply) = CommandRequest::new(command);
        self.side
            .commands
            .send(request)
            .await
            .map_err(|_| self.fail("adapter no longer takes commands"))?;
        match tokio::time::timeout(self.timeout, reply).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(_)) => Err(self.fail("adapter dropped the request without answering")),
            Err(_) => Err(self.fail("adapter did not answer the request in time")),
        }
    }

    async fn command_ok(&mut self, command: Command) -> Result<CommandOk, Failure> {
        let shown = format!("{command:?}");
        self.command(command)
            .await?
            .map_err(|e| self.fail(format!("{shown} failed: {e}")))
    }

    fn supports(&self, kind: CommandKind) -> bool {
        self.capabilities.supports(kind)
    }
}

/// Run the kit. The adapter is started here and stopped at the end.
pub async fn run(
    adapter: Box<dyn Adapter>,
    driver: &mut dyn SwitchDriver,
    config: KitConfig,
) -> Result<Report, Failure> {
    let capabilities = adapter.capabilities();
    let (events_tx, events) = mpsc::channel(crate::link::EVENT_QUEUE);
    let shutdown = CancellationToken::new();
    let (link, side) = AdapterLink::new("kit", events_tx, shutdown.clone());
    let task = tokio::spawn(adapter.run(link));
    let mut h = Harness {
        events,
        side,
        capabilities,
        timeout: config.timeout,
        step: "link_up",
    };
    let mut report = Report::default();
    let dev = config.device.clone();
    let other = config.other_device.clone();
    let ext = config.external.clone();

    h.expect("LinkUp", |e| matches!(e, SwitchEvent::LinkUp))
        .await?;
    h.expect("Snapshot after LinkUp", |e| {
        matches!(e, SwitchEvent::Snapshot(_))
    })
    .await?;
    report.passed.push("link_up");

    if !h.capabilities.live_calls {
        // Every call step, from `ring` to `errors`.
        report.skipped.extend(&STEPS[1..8]);
    } else {
        h.step = "ring";
        driver.ring(&ext, &dev).await;
        let delivered = h
            .expect(
                "Delivered at the rung device",
                |e| matches!(e, SwitchEvent::Delivered { device, .. } if *device == dev),
            )
            .await?;
        let SwitchEvent::Delivered {
            call_id, calling, ..
        } = delivered
        else {
            unreachable!()
        };
        if calling.as_deref() != Some(ext.as_str()) {
            return Err(h.fail(format!("calling number {calling:?}, expected {ext}")));
        }
        report.passed.push("ring");

        if h.supports(CommandKind::Answer) {
            h.step = "answer";
            h.command_ok(Command::Answer {
                call_id: call_id.clone(),
                device: dev.clone(),
            })
            .await?;
            h.expect("Established at the device", |e| {
                matches!(e, SwitchEvent::Established { call_id: c, device, .. } if *c == call_id && *device == dev)
            })
            .await?;
            report.passed.push("answer");
        } else {
            report.skipped.push("answer");
        }

        if h.supports(CommandKind::Hold) && h.supports(CommandKind::Retrieve) {
            h.step = "hold_retrieve";
            h.command_ok(Command::Hold {
                call_id: call_id.clone(),
                device: dev.clone(),
            })
            .await?;
            h.expect(
                "Held",
                |e| matches!(e, SwitchEvent::Held { call_id: c, .. } if *c == call_id),
            )
            .await?;
            h.command_ok(Command::Retrieve {
                call_id: call_id.clone(),
                device: dev.clone(),
            })
            .await?;
            h.expect(
                "Retrieved",
                |e| matches!(e, SwitchEvent::Retrieved { call_id: c, .. } if *c == call_id),
            )
            .await?;
            report.passed.push("hold_retrieve");
        } else {
            report.skipped.push("hold_retrieve");
        }

        // After a blind transfer the call lives at `other`; clear it there.
        let mut clear_at = (call_id.clone(), dev.clone());
        if h.supports(CommandKind::TransferBlind) {
            h.step = "transfer";
            h.command_ok(Command::Transfer {
                call_id: call_id.clone(),
                device: dev.clone(),
                mode: TransferMode::Blind,
                to: Some(other.clone()),
                consult_call_id: None,
            })
            .await?;
            h.expect("Transferred to the other device", |e| {
                matches!(e, SwitchEvent::Transferred { device, transferred_to, .. } if *device == dev && *transferred_to == other)
            })
            .await?;
            let delivered = h
                .expect(
                    "Delivered at the transfer target",
                    |e| matches!(e, SwitchEvent::Delivered { device, .. } if *device == other),
                )
                .await?;
            clear_at = (
                delivered.call_id().unwrap_or_default().to_string(),
                other.clone(),
            );
            report.passed.push("transfer");
        } else {
            report.skipped.push("transfer");
        }

        if h.supports(CommandKind::Hangup) {
            h.step = "clear";
            let (c, d) = clear_at;
            h.command_ok(Command::Hangup {
                call_id: c.clone(),
                device: d.clone(),
            })
            .await?;
            h.expect(
                "ConnectionCleared",
                |e| matches!(e, SwitchEvent::ConnectionCleared { call_id, .. } if *call_id == c),
            )
            .await?;
            report.passed.push("clear");
        } else {
            report.skipped.push("clear");
        }

        if h.supports(CommandKind::MakeCall) {
            h.step = "dial";
            let ok = h
                .command_ok(Command::MakeCall {
                    from: dev.clone(),
                    to: ext.clone(),
                })
                .await?;
            let originated = h
                .expect(
                    "Originated at the calling device",
                    |e| matches!(e, SwitchEvent::Originated { device, .. } if *device == dev),
                )
                .await?;
            let dialled = originated.call_id().unwrap_or_default().to_string();
            if let Some(id) = ok.call_id.as_deref() {
                if id != dialled {
                    return Err(h.fail(format!(
                        "MakeCall answered call id {id} but Originated reports {dialled}"
                    )));
                }
            }
            if h.supports(CommandKind::Hangup) {
                h.command_ok(Command::Hangup {
                    call_id: dialled.clone(),
                    device: dev.clone(),
                })
                .await?;
                h.expect("ConnectionCleared of the dialled call", |e| {
                    matches!(e, SwitchEvent::ConnectionCleared { call_id, .. } if *call_id == dialled)
                })
                .await?;
            }
            report.passed.push("dial");

            h.step = "errors";
            match h
                .command(Command::MakeCall {
                    from: dev.clone(),
                    to: "not a number".into(),
                })
                .await?
            {
                Err(CommandError::InvalidDestination(_)) => {}
                other => {
                    return Err(h.fail(format!(
                        "dialling `not a number` gave {other:?}, expected InvalidDestination"
                    )))
                }
            }
        }
        if h.supports(CommandKind::Hangup) {
            h.step = "errors";
            match h
                .command(Command::Hangup {
                    call_id: "no-such-call-4711".into(),
                    device: dev.clone(),
                })
                .await?
            {
                Err(CommandError::CallNotFound(_)) => {}
                other => {
                    return Err(h.fail(format!(
                        "hanging up an unknown call gave {other:?}, expected CallNotFound"
                    )))
                }
            }
            report.passed.push("errors");
        }
    }

    h.step = "reconnect";
    driver.drop_link().await;
    h.expect("LinkDown after the link broke", |e| {
        matches!(e, SwitchEvent::LinkDown { .. })
    })
    .await?;
    // Reconnecting may take a backoff; allow longer than one event.
    let timeout = h.timeout;
    h.timeout = timeout * 4;
    h.expect("LinkUp after reconnecting", |e| {
        matches!(e, SwitchEvent::LinkUp)
    })
    .await?;
    h.expect("Snapshot after reconnecting", |e| {
        matches!(e, SwitchEvent::Snapshot(_))
    })
    .await?;
    h.timeout = timeout;
    report.passed.push("reconnect");

    h.step = "shutdown";
    shutdown.cancel();
    match tokio::time::timeout(h.timeout, task).await {
        Ok(Ok(Ok(()))) => report.passed.push("shutdown"),
        Ok(Ok(Err(e))) => return Err(h.fail(format!("adapter returned an error: {e}"))),
        Ok(Err(e)) => return Err(h.fail(format!("adapter task panicked: {e}"))),
        Err(_) => return Err(h.fail("adapter did not stop after shutdown")),
    }
    Ok(report)
}
