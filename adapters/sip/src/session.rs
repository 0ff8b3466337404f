//! One run of the link: open the transport, subscribe every extension, answer the
//! PBX's NOTIFYs, keep the subscriptions refreshed, and report what the monitors
//! make of the documents. It ends when the daemon stops or the PBX stops
//! answering (a SUBSCRIBE unanswered for 64·T1, a closed TCP connection).
//!
//! The link is up once every extension's SUBSCRIBE has a final answer and each
//! granted one has had its first document (or 2 s have passed): then `LinkUp` and
//! a `Snapshot` of the monitors' calls go to the engine, which so drops calls that
//! ended while the link was down and adopts the ones that started. Events of those
//! first documents are not sent again; they are in the snapshot.

use std::time::Duration;

use ctibridge_adapter::{
    AdapterLink, Command, CommandError, CommandRequest, Snapshot, SwitchEvent,
};
use tokio::time::Instant;

use crate::config::SipConfig;
use crate::dial::{destination_uri, Dial, DialContext, OwnLegs};
use crate::dialog_info::document_of;
use crate::digest::Credentials;
use crate::message::Message;
use crate::monitor::{Applied, Monitor};
use crate::subscriptions::{Local, Outcome, State, Subscription};
use crate::transaction::{Pending, Purpose};
use crate::transport::{Received, Transport, TransportError};

/// How long the first documents are waited for before the link is declared up.
const FIRST_DOCUMENTS: Duration = Duration::from_secs(2);

/// What outlives one run of the link: the monitors' picture of the calls (so a
/// reconnection resyncs instead of popping again) and the digest state.
pub struct Carry {
    pub monitors: Vec<Monitor>,
    pub credentials: Option<Credentials>,
}

impl Carry {
    pub fn new(config: &SipConfig, devices: &[String]) -> Carry {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() * 1000)
            .unwrap_or(0);
        Carry {
            monitors: devices.iter().map(|d| Monitor::new(d, seed)).collect(),
            credentials: match (&config.username, &config.password) {
                (Some(u), Some(p)) => Some(Credentials::new(u, p)),
                _ => None,
            },
        }
    }
}

pub enum End {
    Shutdown,
    EngineGone,
    Lost(String),
}

struct Session<'a> {
    config: &'a SipConfig,
    link: &'a mut AdapterLink,
    carry: &'a mut Carry,
    transport: Transport,
    local: Local,
    subs: Vec<Subscription>,
    /// Extensions whose subscription had a document since it was (re)made.
    documented: Vec<bool>,
    pending: Vec<Pending>,
    up: bool,
    /// When every SUBSCRIBE had its final answer.
    all_answered_at: Option<Instant>,
    /// Click-to-dials under way.
    dials: Vec<Dial>,
    dial_ctx: DialContext,
    own_legs: OwnLegs,
}

/// Why a run of the link stops early (it becomes the `LinkDown` reason).
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("no answer from {pbx} to SUBSCRIBE {uri} in {ms} ms")]
    Unanswered { pbx: String, uri: String, ms: u128 },
}

/// Run the link once. Returns why it ended and whether it had been up.
pub async fn run(
    config: &SipConfig,
    devices: &[String],
    link: &mut AdapterLink,
    carry: &mut Carry,
) -> (End, bool) {
    let (transport, local) = match Local::connect(config).await {
        Ok(opened) => opened,
        Err(e) => return (End::Lost(e.to_string()), false),
    };
    let addr = local.addr;
    tracing::info!(switch = %link.switch, %addr, pbx = %format!("{}:{}", config.host, config.port()), "subscribing to dialog events");
    let subs = devices
        .iter()
        .map(|d| Subscription::new(d, config.domain(), config.expires))
        .collect();
    let dial_ctx = DialContext {
        local: local.clone(),
        t1: config.t1(),
        udp: transport.is_udp(),
        ring_limit: config.request_timeout,
        refer_fallback: config.refer_fallback,
    };
    let mut session = Session {
        dials: Vec::new(),
        dial_ctx,
        own_legs: OwnLegs::default(),
        config,
        link,
        carry,
        transport,
        local,
        subs,
        documented: vec![false; devices.len()],
        pending: Vec::new(),
        up: false,
        all_answered_at: None,
    };
    let end = session.run().await;
    for dial in &mut session.dials {
        dial.abandon();
    }
    (end, session.up)
}

impl Session<'_> {
    async fn run(&mut self) -> End {
        for index in 0..self.subs.len() {
            self.carry.monitors[index].resubscribed();
            if let Err(e) = self.subscribe(index).await {
                return End::Lost(e.to_string());
            }
        }
        loop {
            let wake = self.next_wake();
            tokio::select! {
                _ = self.link.shutdown.cancelled() => {
                    self.unsubscribe_all().await;
                    return End::Shutdown;
                }
                command = self.link.commands.recv() => match command {
                    Some(request) => {
                        if let Err(e) = self.on_command(request).await {
                            return End::Lost(e.to_string());
                        }
                    }
                    None => return End::EngineGone,
                },
                received = self.transport.recv() => {
                    let step = match received {
                        Ok(Received::Message(bytes)) => self.on_bytes(&bytes).await,
                        Ok(Received::Broken(e)) => return End::Lost(format!("{}: {e}", self.pbx())),
                        Err(e) => return End::Lost(format!("{}: {e}", self.pbx())),
                    };
                    if let Err(reason) = step {
                        return End::Lost(reason.to_string());
                    }
                    if let Some(end) = self.check_up().await {
                        return end;
                    }
                }
                _ = tokio::time::sleep_until(wake) => {
                    if let Err(e) = self.on_timers().await {
                        return End::Lost(e.to_string());
                    }
                    if let Some(end) = self.check_up().await {
                        return end;
                    }
                }
            }
        }
    }

    /// Best effort, without waiting for answers: the daemon is stopping.
    async fn unsubscribe_all(&mut self) {
        for index in 0..self.subs.len() {
            let request = self.subs[index].unsubscribe(&self.local, &mut self.carry.credentials);
            if let Some(bytes) = request {
                let _ = self.transport.send(&bytes).await;
            }
        }
    }

    /// Click-to-dial is what SIP lets a watcher do; the rest is the phone's or the
    /// PBX's own business, and says so.
    async fn on_command(&mut self, request: CommandRequest) -> Result<(), LinkError> {
        let Command::MakeCall { from, to } = &request.command else {
            let kind = request.command.kind();
            request.respond(Err(CommandError::NotSupported(format!(
                "{kind:?} is not possible over SIP dialog events: only click-to-dial \
                 (INVITE to the agent's phone, then REFER or re-INVITE) is; use the phone itself"
            ))));
            return Ok(());
        };
        if !self.up {
            request.respond(Err(CommandError::SwitchUnavailable));
            return Ok(());
        }
        if !self.subs.iter().any(|s| &s.device == from) {
            let reply = CommandError::InvalidDestination(format!(
                "{from} is not one of this switch's devices"
            ));
            request.respond(Err(reply));
            return Ok(());
        }
        let destination = match destination_uri(to, self.config.domain()) {
            Ok(uri) => uri,
            Err(e) => {
                request.respond(Err(e));
                return Ok(());
            }
        };
        let device = from.clone();
        let mut dial = Dial::new(request, &device, destination, self.config.domain());
        let invite = dial.start(&self.dial_ctx, &mut self.carry.credentials, Instant::now());
        tracing::info!(switch = %self.link.switch, %device, "click-to-dial: calling the agent's phone");
        self.dials.push(dial);
        self.transport.send(&invite).await?;
        Ok(())
    }

    async fn send_all(&mut self, out: Vec<Vec<u8>>) -> Result<(), LinkError> {
        for bytes in out {
            if !bytes.is_empty() {
                self.transport.send(&bytes).await?;
            }
        }
        // What the dials report of calls they placed themselves (the REFER
        // fallback), taken before a finished dial is dropped.
        let events: Vec<SwitchEvent> = self.dials.iter_mut().flat_map(Dial::take_events).collect();
        self.dials.retain(|d| !d.is_done());
        if self.up {
            for event in events {
                if !self.link.send(event).await {
                    break; // the engine is gone; the main loop sees it
                }
            }
        }
        Ok(())
    }

    fn pbx(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port())
    }

    async fn subscribe(&mut self, index: usize) -> Result<(), LinkError> {
        let (branch, bytes) = self.subs[index].request(&self.local, &mut self.carry.credentials);
        self.transport.send(&bytes).await?;
        self.pending.push(Pending::new(
            branch,
            bytes,
            Purpose::Subscribe(index),
            self.config.t1(),
            self.transport.is_udp(),
            Instant::now(),
        ));
        Ok(())
    }

    fn next_wake(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let mut wake = far;
        for p in &self.pending {
            wake = wake.min(p.wake_at());
        }
        for s in &self.subs {
            if let Some(at) = s.refresh_at {
                wake = wake.min(at);
            }
            if let State::Refused { retry_at, .. } = s.state {
                wake = wake.min(retry_at);
            }
        }
        for d in &self.dials {
            if let Some(at) = d.wake_at() {
                wake = wake.min(at);
            }
        }
        if let (false, Some(at)) = (self.up, self.all_answered_at) {
            wake = wake.min(at + FIRST_DOCUMENTS);
        }
        wake
    }

    async fn on_timers(&mut self) -> Result<(), LinkError> {
        let now = Instant::now();
        let mut out = Vec::new();
        for d in &mut self.dials {
            if d.wake_at().is_some_and(|at| now >= at) {
                out.extend(d.on_timer(&self.dial_ctx, &mut self.carry.credentials, now));
            }
        }
        self.send_all(out).await?;
        let mut resend = Vec::new();
        for p in &mut self.pending {
            if p.timed_out(now) {
                let Purpose::Subscribe(index) = p.purpose else {
                    continue; // dialog mode sends no CSTA requests
                };
                return Err(LinkError::Unanswered {
                    pbx: self.pbx(),
                    uri: self.subs[index].uri.clone(),
                    ms: (self.config.t1() * 64).as_millis(),
                });
            }
            if p.retransmit_due(now) {
                resend.push(p.bytes.clone());
            }
        }
        for bytes in resend {
            self.transport.send(&bytes).await?;
        }
        for index in 0..self.subs.len() {
            let busy = self
                .pending
                .iter()
                .any(|p| p.purpose == Purpose::Subscribe(index));
            let sub = &mut self.subs[index];
            let refresh = sub.refresh_at.is_some_and(|at| now >= at);
            let retry = matches!(sub.state, State::Refused { retry_at, .. } if now >= retry_at);
            if busy || !(refresh || retry) {
                continue;
            }
            sub.refresh_at = None;
            if retry {
                sub.restart();
                self.carry.monitors[index].resubscribed();
                self.documented[index] = false;
            }
            self.subscribe(index).await?;
        }
        Ok(())
    }

    /// Declare the link up when the first answers and documents are in.
    async fn check_up(&mut self) -> Option<End> {
        if self.up {
            return None;
        }
        let answered = self.subs.iter().all(|s| s.state != State::Pending);
        if !answered {
            return None;
        }
        let now = Instant::now();
        let since = *self.all_answered_at.get_or_insert(now);
        if self
            .subs
            .iter()
            .all(|s| matches!(s.state, State::Refused { .. }))
        {
            let reasons: Vec<String> = self
                .subs
                .iter()
                .filter_map(|s| match &s.state {
                    State::Refused { reason, .. } => Some(format!("{}: {reason}", s.uri)),
                    _ => None,
                })
                .collect();
            return Some(End::Lost(format!(
                "{} refused every subscription ({})",
                self.pbx(),
                reasons.join("; ")
            )));
        }
        let documented = self
            .subs
            .iter()
            .zip(&self.documented)
            .all(|(s, d)| *d || s.state != State::Active);
        if !documented && now < since + FIRST_DOCUMENTS {
            return None;
        }
        self.up = true;
        tracing::info!(switch = %self.link.switch, pbx = %self.pbx(), "dialog subscriptions in place");
        let snapshot = Snapshot {
            calls: self
                .carry
                .monitors
                .iter()
                .flat_map(Monitor::live_calls)
                .collect(),
            agents: Vec::new(),
        };
        if !self.link.send(SwitchEvent::LinkUp).await
            || !self.link.send(SwitchEvent::Snapshot(snapshot)).await
        {
            return Some(End::EngineGone);
        }
        None
    }

    async fn on_bytes(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let message = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                // A stray datagram (a scanner, a keep-alive) must not stop the link.
                tracing::warn!(switch = %self.link.switch, "ignoring {} bytes from the PBX side: {e}", bytes.len());
                return Ok(());
            }
        };
        if let Some(index) = self.dials.iter().position(|d| match message.method() {
            None => d.owns_response(&message),
            Some(_) => d.owns_request(&message),
        }) {
            return self.on_dial_message(index, &message).await;
        }
        match message.method() {
            None => self.on_response(&message).await,
            Some("NOTIFY") => self.on_notify(&message).await,
            Some("ACK") => Ok(()),
            Some("OPTIONS") => self.respond(&message, 200).await,
            Some("BYE") => self.respond(&message, 481).await,
            Some(_) => self.respond(&message, 501).await,
        }
    }

    async fn on_dial_message(&mut self, index: usize, message: &Message) -> Result<(), LinkError> {
        let now = Instant::now();
        let dial = &mut self.dials[index];
        let out = if message.method().is_none() {
            dial.on_response(message, &self.dial_ctx, &mut self.carry.credentials, now)
        } else {
            let (code, out) =
                dial.on_request(message, &self.dial_ctx, &mut self.carry.credentials, now);
            if code == 200 && message.method() == Some("UPDATE") {
                // UPDATE is a target refresh request (RFC 3311): its 2xx names our
                // Contact, as a 2xx to a re-INVITE would.
                let tag = hex::encode(rand::random::<[u8; 4]>());
                let contact = [("Contact", self.local.contact())];
                let response = message.response_with(code, &tag, &contact, b"");
                self.transport.send(response.as_bytes()).await?;
            } else if code != 0 {
                self.respond(message, code).await?;
            }
            out
        };
        self.send_all(out).await
    }

    async fn respond(&mut self, request: &Message, code: u16) -> Result<(), LinkError> {
        let tag = hex::encode(rand::random::<[u8; 4]>());
        self.transport
            .send(request.response(code, &tag).as_bytes())
            .await?;
        Ok(())
    }

    async fn on_response(&mut self, response: &Message) -> Result<(), LinkError> {
        let Some(branch) = response.branch() else {
            return Ok(());
        };
        let Some(position) = self.pending.iter().position(|p| p.branch == branch) else {
            return Ok(()); // a late retransmission of an answer already taken
        };
        if response.code().is_some_and(|c| c < 200) {
            self.pending[position].provisional(Instant::now());
            return Ok(());
        }
        let Purpose::Subscribe(index) = self.pending.remove(position).purpose else {
            return Ok(());
        };
        let outcome =
            self.subs[index].on_response(response, &mut self.carry.credentials, Instant::now());
        match outcome {
            Outcome::Provisional | Outcome::Granted(_) => Ok(()),
            Outcome::Resend => self.subscribe(index).await,
            Outcome::Restarted => {
                tracing::info!(switch = %self.link.switch, device = %self.subs[index].device, "the PBX lost the subscription (481); subscribing again");
                self.carry.monitors[index].resubscribed();
                self.documented[index] = false;
                self.subscribe(index).await
            }
            Outcome::Refused(reason) => {
                tracing::warn!(switch = %self.link.switch, device = %self.subs[index].device, "subscription refused: {reason}");
                Ok(())
            }
        }
    }

    async fn on_notify(&mut self, notify: &Message) -> Result<(), LinkError> {
        let Some(index) = self.subs.iter().position(|s| s.owns(notify)) else {
            return self.respond(notify, 481).await;
        };
        // Answer in the transaction first: whatever the body, the PBX must not
        // retransmit or end the subscription over it.
        self.respond(notify, 200).await?;
        let now = Instant::now();
        let ended = self.subs[index].on_notify(notify, now);
        let device = self.subs[index].device.clone();
        if !notify.body.is_empty() {
            match document_of(notify) {
                Ok(info) => {
                    self.documented[index] = true;
                    match self.carry.monitors[index].apply(&info) {
                        Applied::Stale { version, last } => {
                            tracing::debug!(switch = %self.link.switch, %device, "ignoring dialog-info version {version} (have {last})");
                        }
                        Applied::Events(events) if self.up => {
                            let raw = String::from_utf8_lossy(&notify.body).into_owned();
                            for event in events {
                                if self.own_legs.is_own(&event, &self.dials, &self.local.user) {
                                    continue;
                                }
                                if !self.link.send_raw(event, raw.clone()).await {
                                    return Ok(());
                                }
                            }
                        }
                        Applied::Events(_) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(switch = %self.link.switch, %device, "ignoring a NOTIFY body: {e}");
                }
            }
        }
        if ended {
            tracing::info!(switch = %self.link.switch, %device, "the PBX ended the subscription; subscribing again");
            self.carry.monitors[index].resubscribed();
            self.documented[index] = false;
            if self.subs[index].state == State::Pending {
                self.subscribe(index).await?;
            }
        }
        Ok(())
    }
}
