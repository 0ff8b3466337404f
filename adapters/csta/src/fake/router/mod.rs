//! The one task that owns the switch: the call model, the client link and
//! its session (monitors, route registrations, heartbeats, session timer),
//! and the routing dialogues. Connection tasks and the test handle only
//! send it messages; timers are small tasks that send a message back when
//! they fire, and stale ones are recognised and ignored.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

mod ber;
mod requests;
mod routing;

use super::ber::{self as ber_codec, LengthPrefixDecoder};
use super::config::{Encoding, FakeConfig};
pub use super::inbox::{NetMsg, TimerMsg};
use super::message::Writer;
use super::model::{
    AgentCmd, AgentSnapshot, CallSnapshot, DeviceKind, Event, Model, Notice, Timer,
};
use super::session::{self, LinkCmd};
use super::shared::AgentRequest;
use super::shared::CstaError;
use super::wire::{self, FrameDecoder, EVENT_INVOKE_ID};

/// Work sent by the test handle: runs on the router with full access.
pub type Job = Box<dyn FnOnce(&mut Router) + Send>;

/// Outstanding heartbeats kept when the client never answers (non-strict).
const MAX_OUTSTANDING_HEARTBEATS: usize = 16;

struct Session {
    id: String,
    /// Bumped on every reset, so expiry timers armed before are ignored.
    generation: u64,
    /// Seconds; 0 = no expiry.
    duration: u64,
}

/// The current client connection and everything scoped to it.
struct Link {
    id: u64,
    tx: mpsc::UnboundedSender<LinkCmd>,
    session: Option<Session>,
    /// `(device, monitorCrossRefID)`
    monitors: Vec<(String, u32)>,
    /// `(routeRegisterReqID, route point or None for all)`
    route_regs: Vec<(u32, Option<String>)>,
    next_invoke: u16,
    /// Invoke ids of heartbeats not answered yet, oldest first.
    heartbeats: VecDeque<u16>,
    /// BER: an ACSE association is open.
    associated: bool,
}

impl Link {
    fn new(id: u64, tx: mpsc::UnboundedSender<LinkCmd>) -> Self {
        Self {
            id,
            tx,
            session: None,
            monitors: Vec::new(),
            route_regs: Vec::new(),
            next_invoke: 0,
            heartbeats: VecDeque::new(),
            associated: false,
        }
    }

    /// The switch's own invoke ids: 0001..9998, then round again.
    fn invoke_id(&mut self) -> u16 {
        self.next_invoke = self.next_invoke % (EVENT_INVOKE_ID - 1) + 1;
        self.next_invoke
    }
}

/// A call waiting at a route point for the application's choice.
struct PendingRoute {
    call: String,
    route_point: String,
    reg: u32,
    link: u64,
}

pub struct Router {
    cfg: FakeConfig,
    model: Model,
    writer: Writer,
    /// The BER encoder when the switch speaks BER, else XML.
    ber: Option<ber_codec::Encoder>,
    net_tx: mpsc::UnboundedSender<NetMsg>,
    link: Option<Link>,
    next_link: u64,
    accepting: bool,
    accepted: usize,
    received: Vec<String>,
    next_xref: u32,
    next_reg: u32,
    next_route_xref: u32,
    next_generation: u64,
    routes: HashMap<u32, PendingRoute>,
    /// `FakeSwitch::route` callers waiting for where their call went.
    route_waiters: HashMap<String, oneshot::Sender<String>>,
}

impl Router {
    pub fn new(cfg: FakeConfig, net_tx: mpsc::UnboundedSender<NetMsg>) -> Self {
        Self {
            model: Model::new(&cfg),
            writer: Writer::new(cfg.prefix.clone(), cfg.dialect),
            ber: match &cfg.encoding {
                Encoding::Xml => None,
                Encoding::Ber(options) => Some(ber_codec::Encoder::new(options)),
            },
            cfg,
            net_tx,
            link: None,
            next_link: 1,
            accepting: true,
            accepted: 0,
            received: Vec::new(),
            next_xref: 1,
            next_reg: 1,
            next_route_xref: 1,
            next_generation: 1,
            routes: HashMap::new(),
            route_waiters: HashMap::new(),
        }
    }

    /// Runs until every handle is dropped.
    pub async fn run(
        mut self,
        mut jobs: mpsc::UnboundedReceiver<Job>,
        mut net: mpsc::UnboundedReceiver<NetMsg>,
    ) {
        loop {
            tokio::select! {
                job = jobs.recv() => match job {
                    Some(job) => job(&mut self),
                    None => break,
                },
                Some(msg) = net.recv() => self.on_net(msg),
            }
        }
        self.close_link("switch stopped");
    }

    fn after(&self, delay: Duration, msg: TimerMsg) {
        let tx = self.net_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(NetMsg::Timer(msg));
        });
    }

    fn on_net(&mut self, msg: NetMsg) {
        match msg {
            NetMsg::Accepted(stream) => self.accept(stream),
            NetMsg::Frame { link, frame } => {
                if self.link.as_ref().is_some_and(|l| l.id == link) {
                    match self.ber.clone() {
                        Some(encoder) => self.on_apdu(&encoder, &frame.body),
                        None => self.on_frame(frame),
                    }
                }
            }
            NetMsg::Closed { link, why } => {
                if self.link.as_ref().is_some_and(|l| l.id == link) {
                    tracing::debug!(link, %why, "fake switch: client link closed");
                    self.link = None;
                }
            }
            NetMsg::Timer(t) => self.on_timer(t),
        }
    }

    /// A new connection replaces the current one (as a switch does when the
    /// same application reconnects before noticing the old link died).
    fn accept(&mut self, stream: TcpStream) {
        if !self.accepting {
            tracing::debug!("fake switch: refusing connection");
            drop(stream);
            return;
        }
        self.close_link("replaced by a new connection");
        let id = self.next_link;
        self.next_link += 1;
        self.accepted += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let net = self.net_tx.clone();
        if self.ber.is_some() {
            tokio::spawn(session::run(stream, id, LengthPrefixDecoder, rx, net));
        } else {
            let decoder = FrameDecoder::new(self.cfg.framing);
            tokio::spawn(session::run(stream, id, decoder, rx, net));
        }
        self.link = Some(Link::new(id, tx));
        tracing::debug!(link = id, "fake switch: client connected");
        if let Some(every) = self.cfg.heartbeat {
            self.after(every, TimerMsg::Heartbeat { link: id });
        }
    }

    fn close_link(&mut self, why: &str) {
        if let Some(link) = self.link.take() {
            tracing::debug!(link = link.id, why, "fake switch: closing client link");
            let _ = link.tx.send(LinkCmd::Close);
        }
    }

    fn send(&mut self, invoke: u16, xml: &str) {
        let Some(link) = &self.link else { return };
        if self.ber.is_some() {
            // Only XML paths write documents; on a BER link they would
            // corrupt the stream.
            tracing::warn!(%xml, "fake switch: XML document not sent on a BER link");
            return;
        }
        // DMCC: phones go out by their device ids.
        let dmcc;
        let xml = match &self.cfg.avaya_switch {
            Some(switch) => {
                let mut out = xml.to_string();
                for ext in &self.cfg.extensions {
                    for tag in ["deviceIdentifier>", "deviceID>"] {
                        out = out.replace(
                            &format!("{tag}{ext}</"),
                            &format!("{tag}{ext}:{switch}:0.0.0.0:0</"),
                        );
                    }
                }
                dmcc = out;
                dmcc.as_str()
            }
            None => xml,
        };
        tracing::debug!(link = link.id, invoke, %xml, "fake switch: send");
        match wire::encode(self.cfg.framing, invoke, xml) {
            Some(bytes) => {
                let _ = link.tx.send(LinkCmd::Send(bytes));
            }
            None => tracing::warn!(len = xml.len(), "fake switch: message too long, dropped"),
        }
    }

    // ----- model output ----------------------------------------------------

    /// Sends what the model recorded: events to monitors, then timers and
    /// routing dialogues (which may record more).
    fn flush(&mut self) {
        loop {
            let out = self.model.take_output();
            if out.notices.is_empty() && out.timers.is_empty() && out.route_arrivals.is_empty() {
                return;
            }
            for notice in &out.notices {
                match (self.cfg.agent_events_after, &notice.event) {
                    (Some(after), Event::Agent { .. }) => {
                        self.after(after, TimerMsg::Notify(notice.clone()))
                    }
                    _ => self.notify(notice),
                }
            }
            for timer in out.timers {
                match timer {
                    Timer::FarEndAnswer {
                        call,
                        device,
                        after,
                    } => self.after(after, TimerMsg::FarEndAnswer { call, device }),
                }
            }
            for (call, route_point) in out.route_arrivals {
                self.start_route(&call, &route_point);
            }
        }
    }

    /// One document per monitor that covers a device in the audience.
    fn notify(&mut self, notice: &Notice) {
        if let Some(encoder) = self.ber.clone() {
            self.notify_ber(&encoder, notice);
            return;
        }
        let Some(link) = &self.link else { return };
        let docs: Vec<String> = notice
            .audience
            .iter()
            .filter_map(|(device, local)| {
                let (_, xref) = link.monitors.iter().find(|(d, _)| d == device)?;
                let local = match notice.event {
                    Event::Call(_) => *local,
                    Event::Agent { .. } => None,
                };
                Some(self.writer.event(&notice.event, &xref.to_string(), local))
            })
            .collect();
        for doc in docs {
            self.send(EVENT_INVOKE_ID, &doc);
        }
    }

    // ----- timers ----------------------------------------------------------

    fn on_timer(&mut self, t: TimerMsg) {
        match t {
            TimerMsg::Notify(notice) => self.notify(&notice),
            TimerMsg::FarEndAnswer { call, device } => {
                self.model.far_end_answer(&call, &device);
            }
            TimerMsg::RouteTimeout { xref } => {
                if let Some(pending) = self.routes.remove(&xref) {
                    let default = self.default_route(&pending.route_point);
                    self.finish_route(&pending.call, &pending.route_point, &default);
                    self.send_route_end(
                        &pending,
                        &xref.to_string(),
                        Some(CstaError::Operation("generic")),
                    );
                }
            }
            TimerMsg::SessionExpiry { link, generation } => {
                let expired = self.link.as_ref().is_some_and(|l| {
                    l.id == link
                        && l.session
                            .as_ref()
                            .is_some_and(|s| s.generation == generation)
                });
                if expired {
                    self.close_link("application session expired");
                }
            }
            TimerMsg::Heartbeat { link } => self.heartbeat(link),
        }
        self.flush();
    }

    fn heartbeat(&mut self, link_id: u64) {
        let Some(every) = self.cfg.heartbeat else {
            return;
        };
        let strict = self.cfg.heartbeat_strict;
        let Some(link) = self.link.as_mut().filter(|l| l.id == link_id) else {
            return;
        };
        if strict && link.heartbeats.len() >= 2 {
            self.close_link("two heartbeats unanswered");
            return;
        }
        let invoke = link.invoke_id();
        link.heartbeats.push_back(invoke);
        if link.heartbeats.len() > MAX_OUTSTANDING_HEARTBEATS {
            link.heartbeats.pop_front();
        }
        match self.ber.clone() {
            Some(encoder) => self.send_apdu(&encoder.system_status(i64::from(invoke))),
            None => {
                let xml = self.writer.system_status();
                self.send(invoke, &xml);
            }
        }
        self.after(every, TimerMsg::Heartbeat { link: link_id });
    }

    // ----- test handle -----------------------------------------------------

    pub fn ring(&mut self, from: &str, to: &str, dnis: &str) -> Result<String, CstaError> {
        let r = self.model.ring(from, to, dnis);
        self.flush();
        r
    }

    pub fn route(
        &mut self,
        from: &str,
        route_point: &str,
        reply: oneshot::Sender<String>,
    ) -> Result<(), CstaError> {
        if self.model.kind(route_point) != DeviceKind::RoutePoint {
            return Err(CstaError::Operation("invalidDeviceID"));
        }
        let call = self.model.ring(from, route_point, route_point)?;
        self.route_waiters.insert(call, reply);
        self.flush();
        Ok(())
    }

    pub fn answer(&mut self, device: &str) -> Result<String, CstaError> {
        let r = self.model.answer_device(device);
        self.flush();
        r
    }

    pub fn hangup(&mut self, device: &str) -> Result<String, CstaError> {
        let r = self.model.hangup(device);
        self.flush();
        r
    }

    pub fn agent(
        &mut self,
        agent: &str,
        device: &str,
        request: &AgentRequest,
    ) -> Result<(), CstaError> {
        let cmd = AgentCmd {
            device,
            agent: Some(agent),
            password: None,
            group: None,
            check_password: false,
        };
        let r = self.model.set_agent(cmd, request);
        self.flush();
        r
    }

    pub fn drop_link(&mut self) -> bool {
        let was = self.link.is_some();
        self.close_link("dropped by test");
        was
    }

    pub fn set_accepting(&mut self, accepting: bool) {
        self.accepting = accepting;
    }

    pub fn inject_raw(&mut self, bytes: Bytes) -> bool {
        match &self.link {
            Some(link) => link.tx.send(LinkCmd::Send(bytes)).is_ok(),
            None => false,
        }
    }

    pub fn received(&self) -> Vec<String> {
        self.received.clone()
    }

    pub fn digits(&self, call: &str) -> String {
        self.model.digits(call)
    }

    pub fn calls(&self) -> Vec<CallSnapshot> {
        self.model.calls()
    }

    pub fn agent_state(&self, agent: &str) -> Option<AgentSnapshot> {
        self.model.agent(agent)
    }

    pub fn connections_accepted(&self) -> usize {
        self.accepted
    }

    pub fn monitored(&self) -> Vec<String> {
        self.link
            .as_ref()
            .map(|l| l.monitors.iter().map(|(d, _)| d.clone()).collect())
            .unwrap_or_default()
    }

    pub fn is_connected(&self) -> bool {
        self.link.is_some()
    }

    pub fn session_started(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.session.is_some())
    }
}
