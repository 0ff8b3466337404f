//! Click-to-dial by third-party call control (RFC 3725 with a REFER, RFC 3515), the
//! way SIP PBXs that have no CTI port take it: the adapter calls the agent's phone,
//! asking it to answer on its own (`Call-Info: …;answer-after=0`, and Polycom's
//! `Alert-Info: …;info=alert-autoanswer`), and once it has answered REFERs it to the
//! destination, so the phone itself places the call the agent asked for. Our leg to
//! the phone carries no media (an `inactive` offer on the discard port); we leave it
//! with BYE once the phone reports the new call's outcome (RFC 5589 §6), or when the
//! PBX hangs it up first.
//!
//! The command's answer comes once the REFER has a verdict. A `202` alone is not one:
//! Asterisk (`res_pjsip_refer`) and 3CX accept every REFER with `202` and a `100
//! Trying` NOTIFY first, and only then find out that the number does not exist (a
//! NOTIFY `SIP/2.0 404 Not Found` a moment later) or that the call is declined. So
//! after the `202` the answer waits for the first NOTIFY that reports more than
//! trying: ringing or answered is success, a failure status is the command's error.
//! A PBX that sends nothing more within [`REFER_VERDICT_WAIT`] gets the benefit of
//! the doubt (success): from then on the phone is dialling, and the dialog-event
//! monitor reports the call like any other. A phone that never answers our INVITE is
//! CANCELled after `request_timeout_s`.
//!
//! A REFER refused outright (the PBX or phone has transfers off, or no REFER at all)
//! does not end the dial: the adapter places the call itself and joins the phone to
//! it by re-INVITE, RFC 3725's third-party call control without REFER (the
//! `reinvite` module). The command's answer then comes when the destination rings or
//! answers, as it would from the REFER's verdict.
//!
//! Sans-I/O like [`subscriptions`](crate::subscriptions): the session sends the bytes
//! this builds and feeds back what the PBX sends.

use std::time::Duration;

use ctibridge_adapter::{CommandError, CommandOk, CommandRequest};
use tokio::time::Instant;

use crate::digest::{take_challenge, Credentials};
use crate::message::Message;
use crate::subscriptions::Local;
use crate::transaction::T2;
use reinvite::{refer_unavailable, Bridge, DESTINATION_RING_LIMIT};
use requests::{invite_error, reason_of, refer_outcome_error, route_set, sipfrag_status, uri_of};

/// How long after the `202` to a REFER a failure report may still turn the command's
/// answer into an error. PBXs that refuse the number send that report at once, in the
/// same processing as the `202`; a success is often reported only when the far end
/// rings or answers, seconds later, which is not worth keeping the agent waiting for.
pub const REFER_VERDICT_WAIT: Duration = Duration::from_secs(1);

/// What every dial of one run of the link shares.
#[derive(Debug, Clone)]
pub struct DialContext {
    pub local: Local,
    pub t1: Duration,
    pub udp: bool,
    /// How long the agent's phone may ring before we give up (CANCEL).
    pub ring_limit: Duration,
    /// A refused REFER starts the re-INVITE fallback (`refer_fallback`).
    pub refer_fallback: bool,
}

/// Where one click-to-dial stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Our INVITE to the agent's phone is out.
    Inviting,
    /// We gave up on the phone: CANCEL sent, waiting for the INVITE's final answer.
    Cancelling,
    /// The phone answered; our REFER is out.
    Referring,
    /// The phone took the REFER; waiting for its report of the new call.
    Transferring,
    /// The REFER was refused: our own INVITE to the destination is out.
    Bridging,
    /// The destination answered with its offer; our re-INVITE carries it to the phone.
    Joining,
    /// Phone and destination talk; we stay in both dialogs until one side leaves.
    Connected,
    /// Our BYE is out.
    Leaving,
    Done,
}

/// One client transaction of ours.
#[derive(Debug, Clone)]
struct Tx {
    branch: String,
    method: &'static str,
    bytes: Vec<u8>,
    /// UDP retransmission: when next, and the interval after it.
    next_send: Option<Instant>,
    interval: Duration,
    /// Timer B/F, or the ring limit once the INVITE had a provisional answer.
    deadline: Instant,
    /// A provisional answer came.
    proceeding: bool,
    /// In the dialog with the destination (the REFER fallback), not the phone's.
    bridge: bool,
}

/// One click-to-dial, from the INVITE to the agent's phone to our BYE.
#[derive(Debug)]
pub struct Dial {
    pub device: String,
    /// `sip:EXT@domain`: the agent's phone.
    agent_uri: String,
    /// The Refer-To target.
    destination: String,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
    /// Where in-dialog requests go (the 2xx's Contact) and through which proxies.
    remote_target: String,
    route: Vec<String>,
    stage: Stage,
    /// The command, until it has its answer.
    request: Option<CommandRequest>,
    txs: Vec<Tx>,
    /// The INVITE's branch and CSeq, and our ACK for its 2xx (sent again when the
    /// phone repeats the 2xx because our ACK was lost).
    invite: Option<(String, u32)>,
    ack_2xx: Option<Vec<u8>>,
    /// 401/407s answered in a row.
    challenges: u8,
    /// When a transfer that was accepted but never reported is left anyway.
    report_deadline: Option<Instant>,
    /// When an accepted REFER with no verdict yet counts as a success.
    verdict_at: Option<Instant>,
    /// The `o=` session id of our SDP to the phone (a later offer keeps it).
    sdp_session: u32,
    /// Our own call to the destination, once the REFER was refused.
    bridge: Option<Box<Bridge>>,
}

impl Dial {
    /// A dial from `device`'s phone to `destination` (see [`destination_uri`]).
    pub fn new(request: CommandRequest, device: &str, destination: String, domain: &str) -> Dial {
        let agent_uri = format!("sip:{device}@{domain}");
        Dial {
            device: device.to_string(),
            remote_target: agent_uri.clone(),
            agent_uri,
            destination,
            call_id: format!("{}@ctibridge", token()),
            from_tag: token(),
            to_tag: None,
            cseq: 0,
            route: Vec::new(),
            stage: Stage::Inviting,
            request: Some(request),
            txs: Vec::new(),
            invite: None,
            ack_2xx: None,
            challenges: 0,
            report_deadline: None,
            verdict_at: None,
            sdp_session: rand::random::<u32>() >> 1,
            bridge: None,
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The first INVITE.
    pub fn start(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        self.invite(ctx, credentials, now)
    }

    /// Is this response to one of our requests?
    pub fn owns_response(&self, response: &Message) -> bool {
        let branch = response.branch();
        branch.is_some()
            && (self.txs.iter().any(|t| Some(t.branch.as_str()) == branch)
                || self.invite.as_ref().map(|(b, _)| b.as_str()) == branch
                || self
                    .bridge
                    .as_ref()
                    .is_some_and(|b| b.invite_branch() == branch))
    }

    /// Is this request (NOTIFY of the REFER's subscription, BYE) in our dialog?
    pub fn owns_request(&self, request: &Message) -> bool {
        (request.header("call-id") == Some(self.call_id.as_str())
            && request.tag("to") == Some(self.from_tag.as_str()))
            || self.bridge.as_ref().is_some_and(|b| b.owns(request))
    }

    /// A response to one of our requests: what to send now.
    pub fn on_response(
        &mut self,
        response: &Message,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        let (Some(code), Some(branch)) = (response.code(), response.branch()) else {
            return Vec::new();
        };
        let method = response
            .cseq()
            .map(|(_, m)| m.to_ascii_uppercase())
            .unwrap_or_default();
        let Some(index) = self
            .txs
            .iter()
            .position(|t| t.branch == branch && t.method == method)
        else {
            // A repeated 2xx to an INVITE: our ACK was lost (or, from the
            // destination, not sent yet: the phone has not answered its offer).
            if method == "INVITE" && (200..300).contains(&code) {
                if let Some(bridge) = self
                    .bridge
                    .as_ref()
                    .filter(|b| b.invite_branch() == Some(branch))
                {
                    return bridge.ack.iter().cloned().collect();
                }
                return self.ack_2xx.iter().cloned().collect();
            }
            return Vec::new();
        };
        if code < 200 {
            let tx = &mut self.txs[index];
            tx.proceeding = true;
            let destination = tx.bridge && tx.method == "INVITE";
            let rings = destination && code >= 180;
            if tx.method == "INVITE" {
                // Timer A stops; the phone (or destination) rings until it answers
                // or the limit.
                tx.next_send = None;
                tx.deadline = now
                    + if tx.bridge {
                        DESTINATION_RING_LIMIT
                    } else {
                        ctx.ring_limit
                    };
            } else if tx.next_send.is_some() {
                tx.interval = T2;
                tx.next_send = Some(now + T2);
            }
            if rings {
                // As a REFER's ringing report: the call is placed.
                self.answer(Ok(CommandOk::call(self.call_id.clone())));
            }
            if destination {
                return self.on_destination_provisional(ctx, now);
            }
            return Vec::new();
        }
        let tx = self.txs.remove(index);
        let out = match tx.method {
            _ if tx.bridge => self.on_bridge_final(response, code, &tx, ctx, credentials, now),
            "INVITE" => self.on_invite_final(response, code, &tx, ctx, credentials, now),
            "REFER" => self.on_refer_final(response, code, ctx, credentials, now),
            "BYE" if self.bridge.is_none() => {
                self.stage = Stage::Done;
                Vec::new()
            }
            _ => Vec::new(), // CANCEL: the INVITE's own answer (487) decides
        };
        self.settle();
        out
    }

    /// Leaving both dialogs ends the dial once nothing of ours is outstanding.
    fn settle(&mut self) {
        if self.stage == Stage::Leaving && self.bridge.is_some() && self.txs.is_empty() {
            self.stage = Stage::Done;
        }
    }

    fn on_invite_final(
        &mut self,
        response: &Message,
        code: u16,
        tx: &Tx,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        if self.to_tag.is_some() {
            // In the dialog already: our re-INVITE carrying the destination's offer.
            return self.on_reinvite_final(response, code, tx, ctx, credentials, now);
        }
        if (200..300).contains(&code) {
            self.challenges = 0;
            self.to_tag = response.tag("to").map(str::to_string);
            if let Some(target) = response.header("contact").and_then(uri_of) {
                self.remote_target = target;
            }
            self.route = route_set(response);
            let ack = self.ack_for_2xx(ctx);
            self.ack_2xx = Some(ack.clone());
            if self.stage == Stage::Cancelling {
                // Answered as we gave up: take the call and leave it at once.
                let bye = self.bye(ctx, credentials, now);
                return vec![ack, bye];
            }
            self.stage = Stage::Referring;
            let refer = self.refer(ctx, credentials, now);
            return vec![ack, refer];
        }
        // Every final non-2xx answer is acknowledged in its transaction.
        let ack = self.ack_for_failure(response, tx, ctx);
        if (code == 401 || code == 407) && self.stage == Stage::Inviting {
            match self.challenged(response, code, credentials) {
                Ok(()) => {
                    let invite = self.invite(ctx, credentials, now);
                    return vec![ack, invite];
                }
                Err(error) => {
                    self.finish(Err(error));
                    return vec![ack];
                }
            }
        }
        let error = if self.stage == Stage::Cancelling {
            CommandError::Timeout
        } else {
            invite_error(&self.device, code, reason_of(response))
        };
        self.finish(Err(error));
        vec![ack]
    }

    fn on_refer_final(
        &mut self,
        response: &Message,
        code: u16,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        if (200..300).contains(&code) {
            // Accepted, not yet done: see REFER_VERDICT_WAIT.
            self.stage = Stage::Transferring;
            self.verdict_at = Some(now + REFER_VERDICT_WAIT);
            self.report_deadline = Some(now + ctx.t1 * 64);
            return Vec::new();
        }
        if code == 401 || code == 407 {
            if let Ok(()) = self.challenged(response, code, credentials) {
                return vec![self.refer(ctx, credentials, now)];
            }
        }
        let reason = reason_of(response);
        let unavailable = refer_unavailable(code, &reason);
        if unavailable && ctx.refer_fallback {
            return self.start_bridge(code, &reason, ctx, credentials, now);
        }
        self.answer(Err(match code {
            _ if unavailable => CommandError::NotSupported(format!(
                "the phone at {} does not take REFER ({code} {reason}), so it cannot be \
                 told to dial; enable transfers for it on the PBX, or set refer_fallback",
                self.device
            )),
            // What the PBX would answer our own INVITE to the destination too.
            404 | 410 | 484 | 604 => refer_outcome_error(&self.destination, code, &reason),
            401 | 407 => CommandError::Rejected(format!(
                "the PBX refused our REFER to the phone at {}: {code} {reason}",
                self.device
            )),
            _ => CommandError::Rejected(format!(
                "the phone at {} did not take our REFER: {code} {reason}",
                self.device
            )),
        }));
        vec![self.bye(ctx, credentials, now)]
    }

    /// A request in our dialog: the status to answer it with, and what to send after.
    pub fn on_request(
        &mut self,
        request: &Message,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> (u16, Vec<Vec<u8>>) {
        if self.bridge.is_some() {
            if let Some(answer) = self.on_bridged_request(request, ctx, credentials, now) {
                return answer;
            }
        }
        match request.method() {
            Some("BYE") => {
                if let Some(request) = self.request.take() {
                    request.respond(if self.stage == Stage::Transferring {
                        // The PBX took the REFER and let our leg go: the transfer
                        // went ahead (it did not report a failure first).
                        Ok(CommandOk::default())
                    } else {
                        // The PBX or phone left before it took the call over.
                        Err(CommandError::Rejected(format!(
                            "the phone at {} hung up before it took the call over",
                            self.device
                        )))
                    });
                }
                self.txs.clear();
                self.verdict_at = None;
                self.stage = Stage::Done;
                (200, Vec::new())
            }
            Some("NOTIFY") => {
                let outcome = sipfrag_status(&request.body);
                let terminated = request
                    .header("subscription-state")
                    .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("terminated"));
                if self.stage != Stage::Transferring {
                    return (200, Vec::new());
                }
                match &outcome {
                    Some((code, reason)) if *code >= 300 => {
                        tracing::info!(device = %self.device, "the phone's call to {} failed: {code} {reason}", self.destination);
                        let error = refer_outcome_error(&self.destination, *code, reason);
                        self.answer(Err(error));
                    }
                    Some((code, _)) if *code >= 180 => self.answer(Ok(CommandOk::default())),
                    // A subscription ended without a status: nothing more will come.
                    None if terminated => self.answer(Ok(CommandOk::default())),
                    _ => {}
                }
                if self.request.is_none() {
                    self.verdict_at = None;
                }
                let reported = outcome.is_some_and(|(code, _)| code >= 200) || terminated;
                if reported {
                    return (200, vec![self.bye(ctx, credentials, now)]);
                }
                (200, Vec::new())
            }
            Some("ACK") => (0, Vec::new()),
            _ => (405, Vec::new()),
        }
    }

    /// When something is due: a retransmission, a timeout, the ring limit.
    pub fn wake_at(&self) -> Option<Instant> {
        let retry = self.bridge.as_ref().and_then(|b| b.retry_at);
        let mut wake = [self.report_deadline, self.verdict_at, retry]
            .into_iter()
            .flatten()
            .min();
        for tx in &self.txs {
            let at = tx.next_send.map_or(tx.deadline, |n| n.min(tx.deadline));
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        wake
    }

    pub fn on_timer(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut index = 0;
        while index < self.txs.len() {
            let tx = &mut self.txs[index];
            if now < tx.deadline {
                if let Some(next) = tx.next_send.filter(|n| now >= *n) {
                    out.push(tx.bytes.clone());
                    tx.interval = if tx.method == "INVITE" {
                        tx.interval * 2
                    } else {
                        (tx.interval * 2).min(T2)
                    };
                    tx.next_send = Some(next.max(now) + tx.interval);
                }
                index += 1;
                continue;
            }
            if tx.bridge || (tx.method == "INVITE" && self.bridge.is_some()) {
                let tx = self.txs.remove(index);
                out.extend(self.on_bridge_timeout(tx, ctx, credentials, now));
                continue;
            }
            if tx.method == "INVITE" && tx.proceeding && self.stage == Stage::Inviting {
                // Rang too long: give up on the phone. The INVITE stays, for its 487
                // to be acknowledged.
                tx.deadline = now + ctx.t1 * 64;
                out.push(self.cancel(ctx, now));
                self.answer(Err(CommandError::Timeout));
                self.stage = Stage::Cancelling;
                index += 1;
                continue;
            }
            let method = self.txs.remove(index).method;
            match method {
                "REFER" => {
                    self.answer(Err(CommandError::Timeout));
                    out.push(self.bye(ctx, credentials, now));
                }
                "CANCEL" => {}
                _ => {
                    // Timer B/F: the PBX is not answering in this dialog any more.
                    self.finish(Err(CommandError::Timeout));
                    return out;
                }
            }
        }
        out.extend(self.on_retry(ctx, credentials, now));
        if self.verdict_at.is_some_and(|at| now >= at) {
            self.verdict_at = None;
            self.answer(Ok(CommandOk::default()));
        }
        if self.report_deadline.is_some_and(|at| now >= at) && self.stage == Stage::Transferring {
            self.report_deadline = None;
            out.push(self.bye(ctx, credentials, now));
        }
        out
    }

    /// The link is gone: the command cannot be carried out.
    pub fn abandon(&mut self) {
        self.finish(Err(CommandError::SwitchUnavailable));
    }

    fn answer(&mut self, result: Result<CommandOk, CommandError>) {
        if let Some(request) = self.request.take() {
            request.respond(result);
        }
    }

    fn finish(&mut self, result: Result<CommandOk, CommandError>) {
        self.answer(result);
        self.txs.clear();
        self.report_deadline = None;
        self.verdict_at = None;
        self.stage = Stage::Done;
    }

    fn challenged(
        &mut self,
        response: &Message,
        code: u16,
        credentials: &mut Option<Credentials>,
    ) -> Result<(), CommandError> {
        take_challenge(response, code, credentials, &mut self.challenges, "the PBX")
            .map_err(CommandError::Rejected)
    }

    fn push_tx(
        &mut self,
        branch: String,
        method: &'static str,
        bytes: Vec<u8>,
        ctx: &DialContext,
        now: Instant,
    ) {
        self.txs.push(Tx {
            branch,
            method,
            bytes,
            next_send: ctx.udp.then(|| now + ctx.t1),
            interval: ctx.t1,
            deadline: now + ctx.t1 * 64,
            proceeding: false,
            bridge: false,
        });
    }
}

fn token() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

mod own_legs;
mod reinvite;
pub(crate) mod requests;

pub use own_legs::OwnLegs;
pub use requests::destination_uri;
#[cfg(test)]
mod tests;
