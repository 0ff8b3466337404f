//! `mode = "uacsta"`: CSTA carried in SIP (ECMA TR/87, "uaCSTA"), the way
//! Microsoft OCS/Lync remote call control gateways and other SIP-CSTA servers
//! offer a switch's CTI. One run of the link:
//!
//! 1. An INVITE to the server whose body is a CSTA `RequestSystemStatus` opens the
//!    session (TR/87 §7.1); its 200 carries `RequestSystemStatusResponse`. A
//!    401/407 is answered with digest; the INVITE asks for an RFC 4028 session
//!    timer.
//! 2. `MonitorStart` and `SnapshotDevice` for every device go out as INFOs in the
//!    dialog. A CSTA request's answer travels in the body of the INFO's 200
//!    (TR/87 §7.2, as the RCC gateways do); a server that sends it as an INFO of
//!    its own is understood too (the answer is matched by its name). A device the
//!    server cannot snapshot has no calls in the snapshot.
//! 3. Once every device has its answers: `LinkUp`, the `Snapshot`, the events that
//!    came meanwhile, then live traffic. Events arrive as INFOs (each answered
//!    200) and are read by the csta adapter's code ([`crate::csta_body`]);
//!    commands go out as INFOs built by the csta adapter's request writer, and a
//!    refusal is mapped by its error table.
//!
//! The session is kept by re-INVITE at half the session interval when the server
//! granted us a session timer, otherwise by a CSTA `SystemStatus` INFO now and
//! then. A BYE from the server, a 481 (it lost the dialog) or a request left
//! unanswered for 64·T1 ends the run; the adapter reconnects with backoff and the
//! snapshot resyncs the calls.

mod calls;
pub mod dialog;

use std::collections::VecDeque;
use std::time::Duration;

use ctibridge_adapter::{AdapterLink, CommandError, CommandKind, CommandRequest, SwitchEvent};
use ctibridge_csta::config::ED3_NAMESPACE;
use ctibridge_csta::dedup::MonitorCopies;
use ctibridge_csta::message::CstaError;
use ctibridge_csta::requests::{Requests, Yields};
use ctibridge_csta::snapshot::SnapshotBuilder;
use ctibridge_csta::xml::{Element, Writer};
use tokio::time::Instant;

use crate::config::SipConfig;
use crate::csta_body::CONTENT_TYPE;
use crate::message::Message;
use crate::session::End;
use crate::subscriptions::Local;
use crate::transaction::{Pending, Purpose};
use crate::transport::{Received, Transport};
pub use calls::Carry;
use dialog::{Built, CstaDialog, KeepAlive};

/// The commands a uaCSTA server carries out (first-party call control, TR/87 §8).
pub const SUPPORTED: [CommandKind; 9] = [
    CommandKind::MakeCall,
    CommandKind::Answer,
    CommandKind::Hangup,
    CommandKind::Hold,
    CommandKind::Retrieve,
    CommandKind::TransferBlind,
    CommandKind::TransferConsult,
    CommandKind::Conference,
    CommandKind::Dtmf,
];

/// The longest wait between two SystemStatus keep-alives: a server that lost the
/// dialog (it restarted) is noticed within this.
const HEARTBEAT_MAX: Duration = Duration::from_secs(300);

/// What one of our requests is for.
enum Job {
    /// The INVITE that opens the session.
    Open,
    /// A re-INVITE that refreshes it.
    Refresh,
    Monitor(String),
    Snapshot(String),
    Heartbeat,
    Command {
        request: CommandRequest,
        yields: Yields,
    },
}

/// One client transaction of ours.
struct Tx {
    pending: Pending,
    cseq: u32,
    method: &'static str,
    /// The CSTA document, sent again after a challenge.
    xml: String,
    /// The answer's root name (`MonitorStartResponse`).
    expect: String,
    job: Job,
}

/// A request whose SIP transaction is done but whose CSTA answer is to come in an
/// INFO of the server's own.
struct Awaiting {
    expect: String,
    job: Job,
    deadline: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Opening,
    Setup,
    Up,
}

/// A snapshot under way: the builder, answers outstanding, the command asking.
struct SnapshotJob {
    builder: SnapshotBuilder,
    outstanding: usize,
    request: Option<CommandRequest>,
}

struct Session<'a> {
    config: &'a SipConfig,
    devices: &'a [String],
    link: &'a mut AdapterLink,
    carry: &'a mut Carry,
    transport: Transport,
    dialog: CstaDialog,
    requests: Requests<'static>,
    txs: Vec<Tx>,
    awaiting: VecDeque<Awaiting>,
    phase: Phase,
    /// Monitors not yet answered during setup.
    monitors_outstanding: usize,
    snapshot: Option<SnapshotJob>,
    /// Events that came during setup, with their CSTA text.
    waiting: Vec<(SwitchEvent, String)>,
    copies: MonitorCopies,
    /// How the session is kept, and when next.
    keep: Option<(KeepAlive, Instant)>,
    /// Our ACK of the session's 2xx, sent again when the server repeats the 2xx.
    ack_2xx: Option<Vec<u8>>,
    /// The CSeq and branch of the server's last request in the dialog and our
    /// answer to it: a retransmission (our 200 was lost on UDP) is answered again,
    /// not taken again, so an event is never reported twice.
    last_answer: Option<(u32, String, Vec<u8>)>,
}

/// Run the session once. Returns why it ended and whether it had been up.
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
    let server = config.server_uri();
    tracing::info!(switch = %link.switch, %addr, %server, "opening a uaCSTA session");
    let mut session = Session {
        dialog: CstaDialog::new(local, &server, config.expires),
        config,
        devices,
        link,
        carry,
        transport,
        requests: Requests {
            namespace: ED3_NAMESPACE,
        },
        txs: Vec::new(),
        awaiting: VecDeque::new(),
        phase: Phase::Opening,
        monitors_outstanding: 0,
        snapshot: None,
        waiting: Vec::new(),
        copies: MonitorCopies::default(),
        keep: None,
        ack_2xx: None,
        last_answer: None,
    };
    let end = session.run().await;
    let was_up = session.phase == Phase::Up;
    session.fail_all();
    (end, was_up)
}

impl Session<'_> {
    async fn run(&mut self) -> End {
        let open = self.request_system_status();
        if let Err(end) = self.send_request("INVITE", open, Job::Open).await {
            return end;
        }
        loop {
            let wake = self.next_wake();
            let step = tokio::select! {
                _ = self.link.shutdown.cancelled() => {
                    self.close().await;
                    return End::Shutdown;
                }
                command = self.link.commands.recv() => match command {
                    Some(request) => self.on_command(request).await,
                    None => return End::EngineGone,
                },
                received = self.transport.recv() => match received {
                    Ok(Received::Message(bytes)) => self.on_bytes(&bytes).await,
                    Ok(Received::Broken(e)) => Err(End::Lost(format!("{}: {e}", self.pbx()))),
                    Err(e) => Err(End::Lost(format!("{}: {e}", self.pbx()))),
                },
                _ = tokio::time::sleep_until(wake) => self.on_timers().await,
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    fn pbx(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port())
    }

    fn request_system_status(&self) -> String {
        Writer::new("RequestSystemStatus", self.requests.namespace).finish()
    }

    /// Best effort, without waiting for the answer: the daemon is stopping.
    async fn close(&mut self) {
        if self.dialog.is_established() {
            let bye = self.dialog.bye(&mut self.carry.credentials);
            let _ = self.transport.send(&bye.bytes).await;
        }
    }

    /// Commands still waiting when the run ends cannot be carried out.
    fn fail_all(&mut self) {
        let jobs = self
            .txs
            .drain(..)
            .map(|t| t.job)
            .chain(self.awaiting.drain(..).map(|a| a.job));
        for job in jobs {
            if let Job::Command { request, .. } = job {
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
    }

    /// Send an INVITE or INFO carrying `xml` and keep its transaction.
    async fn send_request(
        &mut self,
        method: &'static str,
        xml: String,
        job: Job,
    ) -> Result<(), End> {
        let built: Built = if method == "INVITE" {
            self.dialog.invite(&xml, &mut self.carry.credentials)
        } else {
            self.dialog.info(&xml, &mut self.carry.credentials)
        };
        let expect = Element::parse(xml.as_bytes())
            .map(|root| format!("{}Response", root.name))
            .unwrap_or_default();
        self.transport
            .send(&built.bytes)
            .await
            .map_err(|e| End::Lost(format!("{}: {e}", self.pbx())))?;
        let mut pending = Pending::new(
            built.branch,
            built.bytes,
            Purpose::Csta(built.cseq),
            self.config.t1(),
            self.transport.is_udp(),
            Instant::now(),
        );
        if method == "INVITE" {
            pending = pending.invite();
        }
        self.txs.push(Tx {
            pending,
            cseq: built.cseq,
            method,
            xml,
            expect,
            job,
        });
        Ok(())
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), End> {
        self.transport
            .send(bytes)
            .await
            .map_err(|e| End::Lost(format!("{}: {e}", self.pbx())))
    }

    fn next_wake(&self) -> Instant {
        let mut wake = Instant::now() + Duration::from_secs(3600);
        for tx in &self.txs {
            wake = wake.min(tx.pending.wake_at());
        }
        for a in &self.awaiting {
            wake = wake.min(a.deadline);
        }
        if let Some((_, at)) = self.keep {
            wake = wake.min(at);
        }
        wake
    }

    async fn on_timers(&mut self) -> Result<(), End> {
        let now = Instant::now();
        let mut resend = Vec::new();
        let pbx = self.pbx();
        for tx in &mut self.txs {
            if tx.pending.timed_out(now) {
                return Err(End::Lost(format!(
                    "{pbx}: no answer to {} ({}) in {} ms",
                    tx.method,
                    tx.expect.trim_end_matches("Response"),
                    (self.config.t1() * 64).as_millis()
                )));
            }
            if tx.pending.retransmit_due(now) {
                resend.push(tx.pending.bytes.clone());
            }
        }
        for bytes in resend {
            self.send(&bytes).await?;
        }
        while let Some(position) = self.awaiting.iter().position(|a| a.deadline <= now) {
            let Some(awaiting) = self.awaiting.remove(position) else {
                break;
            };
            tracing::warn!(switch = %self.link.switch, "no {} from the CSTA server in time", awaiting.expect);
            let timeout = CstaError {
                category: "timeout".into(),
                value: format!("no {} in time", awaiting.expect),
            };
            self.answered(awaiting.job, Err(timeout), true).await?;
        }
        if let Some((keep, at)) = self.keep {
            if now >= at {
                self.keep = None;
                match keep {
                    KeepAlive::Refresh { .. } => {
                        let xml = self.request_system_status();
                        self.send_request("INVITE", xml, Job::Refresh).await?;
                    }
                    KeepAlive::Heartbeat => {
                        let xml = self.requests.system_status();
                        self.send_request("INFO", xml, Job::Heartbeat).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// When the next keep-alive is due after a successful one.
    fn schedule_keep(&mut self, keep: KeepAlive) {
        let wait = match keep {
            KeepAlive::Refresh { seconds } => Duration::from_secs(u64::from(seconds.max(2)) / 2),
            KeepAlive::Heartbeat => {
                (Duration::from_secs(u64::from(self.config.expires)) / 2).min(HEARTBEAT_MAX)
            }
        };
        self.keep = Some((keep, Instant::now() + wait));
    }

    async fn on_bytes(&mut self, bytes: &[u8]) -> Result<(), End> {
        let message = match Message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(switch = %self.link.switch, "ignoring {} bytes from the CSTA server side: {e}", bytes.len());
                return Ok(());
            }
        };
        match message.method() {
            None => self.on_response(&message).await,
            Some(_) => self.on_server_request(&message).await,
        }
    }

    async fn respond(
        &mut self,
        request: &Message,
        code: u16,
        extra: &[(&str, String)],
        xml: Option<String>,
    ) -> Result<(), End> {
        let tag = hex::encode(rand::random::<[u8; 4]>());
        let mut headers: Vec<(&str, String)> = extra.to_vec();
        let body = xml.unwrap_or_default();
        if !body.is_empty() {
            headers.push(("Content-Type", CONTENT_TYPE.into()));
        }
        let text = request.response_with(code, &tag, &headers, body.as_bytes());
        if let (Ok((cseq, _)), true) = (request.cseq(), self.dialog.owns(request)) {
            let branch = request.branch().unwrap_or_default().to_string();
            self.last_answer = Some((cseq, branch, text.clone().into_bytes()));
        }
        self.send(text.as_bytes()).await
    }
}

mod requests_in;
mod responses;
#[cfg(test)]
mod tests;
