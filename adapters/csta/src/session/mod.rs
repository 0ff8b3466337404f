//! One connected CSTA session, from the first byte to the link's end.
//!
//! A session moves through three phases:
//! 1. `Session`: StartApplicationSession (when configured) and its answer.
//! 2. `Setup`: MonitorStart for every device, RouteRegister for every route point,
//!    SnapshotDevice and GetAgentState for every device, all pipelined. Events that
//!    arrive meanwhile wait.
//! 3. `Up`: `LinkUp` and the merged `Snapshot` go to the engine, then the waiting
//!    events, then live traffic: events, commands, heartbeats, the session timer and
//!    route dialogues.
//!
//! Requests are matched to answers by invoke id where the framing carries one (the
//! header framing, and ROSE on a BER link), and in order where it does not (then a
//! request given up on keeps its place, so a late answer cannot be taken for the
//! next request's). The [`Wire`] turns what comes in into elements and our request
//! elements into bytes, so the rest of the session is the same for XML and BER.
//!
//! Here: the connection's loop, set-up and what the switch sends; [`answers`]: the
//! answers to our requests; [`resync`]: the snapshot; [`commands`]: the engine's
//! commands and the deadlines.

use std::collections::VecDeque;
use std::time::Duration;

use ctibridge_adapter::{AdapterLink, CommandError, CommandRequest, SwitchEvent};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::codec::FramedRead;

use crate::config::{CstaConfig, DeviceIds};
use crate::correlate::Correlator;
use crate::dedup::MonitorCopies;
use crate::devices::DeviceNames;
use crate::events::{CstaEvent, Mapped};
use crate::framing::{Decoded, Frame, EVENT_INVOKE_ID};
use crate::ids::CallIds;
use crate::message::{classify_element, Message};
use crate::requests::{Requests, Yields};
use crate::snapshot::SnapshotBuilder;
use crate::wire::{LinkCodec, Wire};

mod answers;
mod commands;
mod resync;

/// Why a session ended.
#[derive(Debug)]
pub enum End {
    /// The daemon is stopping.
    Shutdown,
    /// The link broke or the switch refused us; reconnect.
    Lost(String),
    /// The engine is gone (the daemon is stopping).
    EngineGone,
    /// Listening, the switch opened a new connection: it gave up on this one (it
    /// restarted, or saw the link die first). Carry on with the new one.
    Replaced(TcpStream),
}

/// What an outstanding request was for.
enum Purpose {
    Session,
    DeviceId(String),
    Monitor(String),
    RouteRegister(String),
    SnapshotDevice(String),
    /// SnapshotCall for a call whose caller the device snapshot did not name.
    SnapshotCall(String),
    AgentState(String),
    Heartbeat,
    SessionReset,
    Command {
        request: CommandRequest,
        yields: Yields,
    },
    /// Given up on (ordered framings keep its place in the queue).
    Abandoned,
}

struct Pending {
    invoke: Option<u16>,
    purpose: Purpose,
    what: &'static str,
    deadline: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Session,
    /// Avaya DMCC: asking for the phones' device ids.
    DeviceIds,
    Setup,
    Up,
}

/// A snapshot being gathered: the builder, how many answers are outstanding, and the
/// command that asked for it (none for the one after connecting).
struct SnapshotJob {
    builder: SnapshotBuilder,
    outstanding: usize,
    request: Option<CommandRequest>,
    /// Calls already asked about with SnapshotCall.
    asked: Vec<String>,
}

/// State that outlives one connection.
#[derive(Default)]
pub struct Carry {
    pub ids: CallIds,
    /// Calls the switch names only by device.
    pub calls: Correlator,
    /// Avaya DMCC device ids (they do not change between connections).
    pub names: DeviceNames,
}

pub struct Session<'a> {
    config: &'a CstaConfig,
    devices: &'a [String],
    link: &'a mut AdapterLink,
    carry: &'a mut Carry,
    requests: Requests<'a>,
    /// Where the switch connects, in listen mode.
    listener: Option<&'a TcpListener>,
    reader: FramedRead<OwnedReadHalf, LinkCodec>,
    writer: OwnedWriteHalf,
    wire: Wire,
    ordered: bool,
    next_invoke: u16,
    pending: VecDeque<Pending>,
    phase: Phase,
    setup_outstanding: usize,
    snapshot: Option<SnapshotJob>,
    waiting: Vec<SwitchEvent>,
    copies: MonitorCopies,
    routes: Vec<(String, Instant)>,
    session_id: Option<String>,
    session_reset_every: Option<Duration>,
    /// A BER link's ACSE association is open (released with an RLRQ on shutdown).
    associated: bool,
    frames: u64,
}

impl<'a> Session<'a> {
    pub fn new(
        config: &'a CstaConfig,
        devices: &'a [String],
        link: &'a mut AdapterLink,
        carry: &'a mut Carry,
        stream: TcpStream,
        listener: Option<&'a TcpListener>,
    ) -> Session<'a> {
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let (codec, wire) = Wire::new(config);
        Session {
            config,
            devices,
            link,
            carry,
            requests: Requests {
                namespace: &config.namespace,
            },
            listener,
            reader: FramedRead::new(read, codec),
            writer: write,
            ordered: !wire.carries_invoke_id(config),
            wire,
            next_invoke: 0,
            pending: VecDeque::new(),
            phase: Phase::Session,
            setup_outstanding: 0,
            snapshot: None,
            waiting: Vec::new(),
            copies: MonitorCopies::default(),
            routes: Vec::new(),
            session_id: None,
            session_reset_every: None,
            associated: false,
            frames: 0,
        }
    }

    /// Run the session until the link ends; says why, and whether the link got as
    /// far as `LinkUp`. Outstanding commands are answered `switch_unavailable` on the
    /// way out.
    pub async fn run(mut self) -> (End, bool) {
        let end = self.drive().await;
        let was_up = self.phase == Phase::Up;
        if matches!(end, End::Shutdown) && (self.session_id.is_some() || self.associated) {
            self.stop_session().await;
        }
        for pending in self.pending.drain(..) {
            if let Purpose::Command { request, .. } = pending.purpose {
                request.respond(Err(CommandError::SwitchUnavailable));
            }
        }
        if let Some(SnapshotJob {
            request: Some(request),
            ..
        }) = self.snapshot.take()
        {
            request.respond(Err(CommandError::SwitchUnavailable));
        }
        (end, was_up)
    }

    async fn drive(&mut self) -> End {
        if let Err(end) = self.begin().await {
            return end;
        }
        let heartbeat = self.config.heartbeat();
        let mut next_heartbeat = heartbeat.map(|h| Instant::now() + h);
        let mut next_reset: Option<Instant> = None;
        loop {
            if next_reset.is_none() {
                next_reset = self.session_reset_every.map(|every| Instant::now() + every);
            }
            let wake = [self.next_deadline(), next_heartbeat, next_reset]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let listener = self.listener;
            let step = tokio::select! {
                _ = self.link.shutdown.cancelled() => return End::Shutdown,
                accepted = next_connection(listener) => match accepted {
                    Ok(stream) => return End::Replaced(stream),
                    Err(e) => {
                        tracing::warn!(switch = %self.link.switch, "accepting a new connection from the switch: {e}");
                        Ok(())
                    }
                },
                frame = self.reader.next() => match frame {
                    Some(Ok(Decoded::Frame(frame))) => self.on_frame(frame).await,
                    Some(Ok(Decoded::Skipped { offset, len, reason })) => {
                        tracing::warn!(switch = %self.link.switch, offset, len, "skipped bytes from the switch: {reason}");
                        Ok(())
                    }
                    Some(Err(e)) => Err(End::Lost(format!("read: {e}"))),
                    None => Err(End::Lost("the switch closed the connection".into())),
                },
                command = self.link.commands.recv() => match command {
                    Some(request) => self.on_command(request).await,
                    None => Err(End::EngineGone),
                },
                _ = tokio::time::sleep_until(wake) => {
                    self.on_timer(heartbeat, &mut next_heartbeat, &mut next_reset).await
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Heartbeat, session timer, request and route deadlines.
    async fn on_timer(
        &mut self,
        heartbeat: Option<Duration>,
        next_heartbeat: &mut Option<Instant>,
        next_reset: &mut Option<Instant>,
    ) -> Result<(), End> {
        let now = Instant::now();
        if next_heartbeat.is_some_and(|t| t <= now) {
            *next_heartbeat = heartbeat.map(|h| now + h);
            if self.phase == Phase::Up {
                let xml = self.requests.system_status();
                self.request(xml, Purpose::Heartbeat, "SystemStatus")
                    .await?;
            }
        }
        if next_reset.is_some_and(|t| t <= now) {
            *next_reset = None;
            if let Some(id) = self.session_id.clone() {
                let xml = self
                    .requests
                    .reset_session_timer(&id, self.config.session_duration_s);
                self.request(xml, Purpose::SessionReset, "ResetApplicationSessionTimer")
                    .await?;
            }
        }
        self.expire(now).await
    }

    /// Open the application session, or go straight to setup.
    async fn begin(&mut self) -> Result<(), End> {
        if self.config.application_session() {
            let xml = self.requests.start_session(
                &self.config.application_id,
                self.config.username.as_deref(),
                self.config.password.as_deref(),
                self.config.session_duration_s,
            );
            self.request(xml, Purpose::Session, "StartApplicationSession")
                .await
        } else {
            self.before_setup().await
        }
    }

    /// With Avaya device ids, ask for every phone's first; then set up.
    async fn before_setup(&mut self) -> Result<(), End> {
        if self.config.device_ids != DeviceIds::Avaya {
            return self.setup().await;
        }
        self.phase = Phase::DeviceIds;
        let devices = self.devices;
        for device in devices {
            let xml = self.requests.get_device_id(
                device,
                self.config.avaya_switch_name.as_deref(),
                self.config.avaya_switch_ip.as_deref(),
            );
            self.request(xml, Purpose::DeviceId(device.clone()), "GetDeviceId")
                .await?;
            self.setup_outstanding += 1;
        }
        Ok(())
    }

    /// The switch's name for a phone.
    fn switch_device(&self, device: &str) -> String {
        self.carry.names.switch(device)
    }

    /// Call ids and devices of an event as the engine knows them.
    fn for_engine(&self, event: &mut SwitchEvent) {
        self.carry.ids.event_to_engine(event);
        if self.config.device_ids == DeviceIds::Avaya {
            self.carry.names.event_to_engine(event);
        }
    }

    /// The snapshot names the calls the switch has: made-up ids it now names are
    /// addressed by the switch's, calls it does not list are forgotten.
    fn named_by_snapshot(&mut self, event: &mut SwitchEvent) {
        for (switch_id, made_up) in self.carry.calls.resolve(event, &[]) {
            self.carry.ids.rename(&switch_id, &made_up);
        }
    }

    /// Monitors, route registrations and the first snapshot, all at once.
    async fn setup(&mut self) -> Result<(), End> {
        self.phase = Phase::Setup;
        let devices = self.devices;
        for device in devices {
            let xml = self.requests.monitor_start(&self.switch_device(device));
            self.request(xml, Purpose::Monitor(device.clone()), "MonitorStart")
                .await?;
            self.setup_outstanding += 1;
        }
        for point in self.config.route_points.clone() {
            let xml = self.requests.route_register(&point);
            self.request(xml, Purpose::RouteRegister(point), "RouteRegister")
                .await?;
            self.setup_outstanding += 1;
        }
        self.start_snapshot(None).await?;
        self.setup_outstanding += self.snapshot_requests_per_device() * devices.len();
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        let pending = self.pending.iter().map(|p| p.deadline).min();
        let routes = self.routes.iter().map(|(_, t)| *t).min();
        pending.into_iter().chain(routes).min()
    }

    /// Send a request that expects an answer.
    async fn request(
        &mut self,
        xml: String,
        purpose: Purpose,
        what: &'static str,
    ) -> Result<(), End> {
        let invoke = if self.ordered {
            None
        } else {
            Some(self.invoke_id())
        };
        self.write(invoke, xml).await?;
        self.pending.push_back(Pending {
            invoke,
            purpose,
            what,
            deadline: Instant::now() + self.config.request_timeout,
        });
        Ok(())
    }

    fn invoke_id(&mut self) -> u16 {
        loop {
            self.next_invoke = self.next_invoke % (EVENT_INVOKE_ID - 1) + 1;
            let id = self.next_invoke;
            if !self.pending.iter().any(|p| p.invoke == Some(id)) {
                return id;
            }
        }
    }

    async fn write(&mut self, invoke: Option<u16>, xml: String) -> Result<(), End> {
        self.send(invoke.map(i64::from), xml).await
    }

    /// Write a request (or our answer to the switch's request, with its invoke id).
    async fn send(&mut self, invoke: Option<i64>, xml: String) -> Result<(), End> {
        // A request we build never exceeds the framing's limit; if it did, the
        // caller's values were absurd and the link is not at fault.
        let buf = self
            .wire
            .encode(invoke, xml)
            .map_err(|e| End::Lost(format!("encode: {e}")))?;
        self.write_bytes(&buf).await
    }

    async fn write_bytes(&mut self, buf: &[u8]) -> Result<(), End> {
        match tokio::time::timeout(self.config.request_timeout, self.writer.write_all(buf)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(End::Lost(format!("write: {e}"))),
            Err(_) => Err(End::Lost("the switch stopped reading".into())),
        }
    }

    async fn on_frame(&mut self, frame: Frame) -> Result<(), End> {
        self.frames += 1;
        let incoming = match self.wire.read(&frame) {
            Ok(incoming) => incoming,
            Err(e) => {
                tracing::warn!(switch = %self.link.switch, frame = self.frames, offset = frame.offset, "unreadable message from the switch: {e}");
                return Ok(());
            }
        };
        let (invoke_id, answer_id, root) = (incoming.invoke_id, incoming.answer_id, incoming.root);
        let wants_answer = incoming.wants_answer;
        let cross_ref = root.child_text("monitorCrossRefID").map(String::from);
        let message = match classify_element(root) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(switch = %self.link.switch, frame = self.frames, offset = frame.offset, "unusable message from the switch: {e}");
                return Ok(());
            }
        };
        match message {
            Message::Event(event) => self.on_event(*event, cross_ref).await,
            Message::Response(body) => self.on_answer(invoke_id, Ok(body)).await,
            Message::Error(error) => self.on_answer(invoke_id, Err(error)).await,
            Message::SystemStatus => {
                let xml = self.requests.system_status_response();
                self.send(answer_id, xml).await
            }
            Message::SessionEnded(reason) => {
                // An XML StopApplicationSession and a BER RLRQ want their answer; an
                // ABRT wants none. Either way the session is over: reconnect.
                if wants_answer || matches!(self.wire, Wire::Xml(_)) {
                    let xml = self.requests.stop_session_response();
                    let _ = self.send(answer_id, xml).await;
                }
                self.session_id = None;
                self.associated = false;
                Err(End::Lost(format!(
                    "the switch ended the application session: {reason}"
                )))
            }
            Message::Ignored(name) if wants_answer => {
                // An operation we do not serve: a BER switch is told so at once
                // (ROSE reject) rather than left waiting for its timer.
                tracing::warn!(switch = %self.link.switch, invoke = ?answer_id, "the switch invoked {name}, which this adapter does not serve; rejected as unrecognizedOperation");
                match answer_id.and_then(|id| self.wire.reject_unrecognized(id)) {
                    Some(Ok(buf)) => self.write_bytes(&buf).await,
                    Some(Err(e)) => {
                        tracing::warn!(switch = %self.link.switch, "cannot reject the invoke: {e}");
                        Ok(())
                    }
                    None => Ok(()),
                }
            }
            Message::Ignored(name) => {
                tracing::debug!(switch = %self.link.switch, "ignored {name}");
                Ok(())
            }
        }
    }

    async fn on_event(&mut self, mapped: Mapped, cross_ref: Option<String>) -> Result<(), End> {
        let (mut event, renames) = match mapped.event {
            CstaEvent::Switch(event) => (event, Vec::new()),
            CstaEvent::Renamed { event, renames } => (event, renames),
            CstaEvent::RouteEnd { route_id } => {
                self.routes.retain(|(id, _)| *id != route_id);
                return Ok(());
            }
        };
        // A call named by device alone gets its id; one named now for the first
        // time keeps the id the engine knows it by.
        for (switch_id, made_up) in self.carry.calls.resolve(&mut event, &renames) {
            self.carry.ids.rename(&switch_id, &made_up);
        }
        self.for_engine(&mut event);
        // After translating: the event itself still names the calls as they were.
        for (new, old) in renames {
            self.carry.ids.rename(&new, &old);
        }
        if !self.copies.is_new(&event, cross_ref.as_deref()) {
            return Ok(());
        }
        if let SwitchEvent::RouteRequest { route_id, .. } = &event {
            let deadline = Instant::now() + self.config.route_timeout;
            self.routes.push((route_id.clone(), deadline));
        }
        if self.phase == Phase::Up {
            self.emit(event).await
        } else {
            self.waiting.push(event);
            Ok(())
        }
    }

    async fn emit(&mut self, event: SwitchEvent) -> Result<(), End> {
        if self.link.send(event).await {
            Ok(())
        } else {
            Err(End::EngineGone)
        }
    }

    async fn stop_session(&mut self) {
        let id = self.session_id.clone().unwrap_or_default();
        let xml = self.requests.stop_session(&id);
        let invoke = (!self.ordered).then(|| self.invoke_id());
        let _ = tokio::time::timeout(Duration::from_millis(500), self.write(invoke, xml)).await;
    }
}

/// The switch's next connection, in listen mode; never, otherwise.
async fn next_connection(listener: Option<&TcpListener>) -> std::io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

fn command_name(command: &ctibridge_adapter::Command) -> &'static str {
    use ctibridge_adapter::Command::*;
    match command {
        MakeCall { .. } => "MakeCall",
        Answer { .. } => "AnswerCall",
        Hangup { .. } => "ClearConnection",
        ForceRelease { .. } => "ClearCall",
        Hold { .. } => "HoldCall",
        Retrieve { .. } => "RetrieveCall",
        Transfer { .. } => "a transfer",
        Conference { .. } => "a conference",
        Dtmf { .. } => "GenerateDigits",
        AgentLogin { .. } | AgentLogout { .. } | SetAgentState { .. } => "SetAgentState",
        Monitor { .. } => "SingleStepConferenceCall",
        RouteSelect { .. } => "RouteSelectRequest",
        Snapshot => "SnapshotDevice",
        SimulateInbound { .. } => "SimulateInbound",
    }
}
