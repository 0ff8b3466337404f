//! [`SimAdapter`]: the actor task that owns the simulated switch. It reports the
//! switch's events on the link, carries out commands, runs the timers (a heap of
//! deadlines and one `sleep_until`), and plays link outages.

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterFuture, AdapterLink, Capabilities, CommandError, CommandKind, CommandRequest,
    SwitchEvent,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::SimConfig;
use crate::control::{Control, SimControl, CONTROL_QUEUE};
use crate::schedule::Schedule;
use crate::switch::{Effects, Switch};

/// The longest simulated outage; longer ones are cut to this.
const MAX_OUTAGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// A simulated PBX/ACD switch as an adapter. See the crate documentation for what
/// it models.
#[derive(Debug)]
pub struct SimAdapter {
    devices: Vec<String>,
    config: SimConfig,
    control: mpsc::Receiver<Control>,
}

impl SimAdapter {
    /// A simulator with extensions `devices`. The config is taken as it is; the
    /// factory validates it (see [`SimConfig::validate`]).
    pub fn new(devices: Vec<String>, config: SimConfig) -> Self {
        SimAdapter::with_control(devices, config).0
    }

    /// A simulator and a handle to play the outside world with.
    pub fn with_control(devices: Vec<String>, config: SimConfig) -> (SimAdapter, SimControl) {
        let (tx, control) = mpsc::channel(CONTROL_QUEUE);
        (
            SimAdapter {
                devices,
                config,
                control,
            },
            SimControl::new(tx),
        )
    }
}

impl Adapter for SimAdapter {
    /// Everything but routing: the simulator never asks where to send a call.
    fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::all();
        capabilities.commands.remove(&CommandKind::RouteSelect);
        capabilities
    }

    fn run(self: Box<Self>, link: AdapterLink) -> AdapterFuture {
        let SimAdapter {
            devices,
            config,
            control,
        } = *self;
        Box::pin(async move {
            let actor = Actor {
                switch: Switch::new(devices, config, StdRng::from_os_rng()),
                schedule: Schedule::default(),
                down_until: None,
            };
            actor.run(link, control).await;
            // Stopping (shutdown, or the engine gone) is the only way out, never an
            // error: the simulator has nothing that can fail for good.
            Ok(())
        })
    }
}

struct Actor {
    switch: Switch,
    schedule: Schedule,
    /// While the simulated link is down: when it comes back.
    down_until: Option<Instant>,
}

/// Whether to go on: false once shutdown is asked for or the engine has gone.
type Go = bool;

impl Actor {
    async fn run(mut self, mut link: AdapterLink, mut control: mpsc::Receiver<Control>) {
        if !self.link_up(&link).await {
            return;
        }
        let mut out = Effects::default();
        self.switch.start(&mut out);
        if !self.apply(&link, out).await {
            return;
        }
        let mut commands_open = true;
        // `SimAdapter::new` drops the control sender at once: then this closes.
        let mut control_open = true;
        loop {
            let wake = match (self.schedule.next_deadline(), self.down_until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let go = tokio::select! {
                biased;
                () = link.shutdown.cancelled() => false,
                () = sleep_until(wake) => self.wake(&link).await,
                request = link.commands.recv(), if commands_open => match request {
                    Some(request) => self.command(&link, request).await,
                    None => {
                        // Nobody can send commands any more; events may still matter.
                        commands_open = false;
                        true
                    }
                },
                message = control.recv(), if control_open => match message {
                    Some(message) => self.control(&link, message).await,
                    None => {
                        control_open = false;
                        true
                    }
                },
            };
            if !go {
                return;
            }
        }
    }

    /// Fire the timers that are due, and end an outage that is over.
    async fn wake(&mut self, link: &AdapterLink) -> Go {
        let now = Instant::now();
        while let Some(timer) = self.schedule.pop_due(now) {
            let mut out = Effects::default();
            self.switch.fire(timer, &mut out);
            if !self.apply(link, out).await {
                return false;
            }
        }
        if self.down_until.is_some_and(|until| until <= now) {
            self.down_until = None;
            return self.link_up(link).await;
        }
        true
    }

    async fn command(&mut self, link: &AdapterLink, request: CommandRequest) -> Go {
        let CommandRequest { command, reply } = request;
        if self.down_until.is_some() {
            let _ = reply.send(Err(CommandError::SwitchUnavailable));
            return true;
        }
        let mut out = Effects::default();
        let result = self.switch.command(command, &mut out);
        // The switch acknowledges before it reports what the command caused, as a
        // CSTA switch does; so a dialled call's id is known before its first event.
        // The requester may have given up waiting; that is its business.
        let _ = reply.send(result);
        self.apply(link, out).await
    }

    async fn control(&mut self, link: &AdapterLink, message: Control) -> Go {
        match message {
            Control::Inbound {
                from,
                to,
                digits,
                reply,
            } => {
                let mut out = Effects::default();
                let result = self.switch.inbound(&from, &to, digits, &mut out);
                // Events first: whoever placed the call may look for them next.
                let go = self.apply(link, out).await;
                let _ = reply.send(result);
                go
            }
            Control::DropLink { down_for, done } => {
                let now = Instant::now();
                // An outage beyond the clock's range is as good as a month long.
                let until = now.checked_add(down_for.min(MAX_OUTAGE)).unwrap_or(now);
                let was_up = self.down_until.is_none();
                self.down_until = Some(self.down_until.map_or(until, |u| u.max(until)));
                let go = !was_up
                    || emit(
                        link,
                        SwitchEvent::LinkDown {
                            reason: "simulated link outage".into(),
                        },
                    )
                    .await;
                let _ = done.send(());
                go
            }
            Control::Record { record, raw, done } => {
                let go = self.down_until.is_some()
                    || link.send_raw(SwitchEvent::CallRecord(*record), raw).await;
                let _ = done.send(());
                go
            }
        }
    }

    /// Report `LinkUp` and the switch as it is now.
    async fn link_up(&mut self, link: &AdapterLink) -> Go {
        emit(link, SwitchEvent::LinkUp).await
            && emit(link, SwitchEvent::Snapshot(self.switch.snapshot())).await
    }

    /// Arm the timers an operation asked for and report its events; while the link is
    /// down the events are lost, as on a real link.
    async fn apply(&mut self, link: &AdapterLink, out: Effects) -> Go {
        let now = Instant::now();
        for (delay, timer) in out.timers {
            // Delays are capped far below the clock's range; one beyond it never comes.
            if let Some(at) = now.checked_add(delay) {
                self.schedule.arm(at, timer);
            }
        }
        for event in out.events {
            if self.down_until.is_some() {
                tracing::debug!(kind = event.kind(), "link down: event lost");
                continue;
            }
            if !emit(link, event).await {
                return false;
            }
        }
        true
    }
}

/// Send one event; false when the engine has gone or shutdown is asked for while
/// waiting for room in the queue.
async fn emit(link: &AdapterLink, event: SwitchEvent) -> Go {
    tokio::select! {
        biased;
        () = link.shutdown.cancelled() => false,
        sent = link.send(event) => sent,
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
