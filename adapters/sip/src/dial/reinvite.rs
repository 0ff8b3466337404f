//! The click-to-dial fallback for a refused REFER: third-party call control by
//! re-INVITE (RFC 3725), the adapter placing the call to the destination itself and
//! joining the agent's phone to it.
//!
//! The phone is already in a dialog with us, holding our `inactive` offer and its
//! answer: the first half of RFC 3725 §4.4 Flow IV. So the rest of that flow:
//! INVITE the destination (through the PBX, the URI the Refer-To named) without SDP;
//! its 2xx carries its offer; a re-INVITE gives that offer to the phone (with our own
//! `o=` line, the next version of the session the phone knows); the phone's 2xx
//! carries the answer; we ACK the phone and ACK the destination with that answer.
//! Flow I (the phone's own offer carried to the destination) would need our first
//! INVITE without SDP, and would leave the phone's 2xx unacknowledged for as long as
//! the destination rings: RFC 3725 keeps it for a second party that answers at once,
//! which a person called is not. With Flow IV the destination rings for as long as
//! it likes: only its 2xx waits (for one re-INVITE to an auto-answered phone) for
//! our ACK.
//!
//! From then on we stay in both dialogs for the call's life: a BYE from either side
//! is answered and passed on to the other. A re-INVITE or UPDATE of either side
//! with a new offer (hold, codec change) would need relaying to the other; it is
//! refused with 488 and the call goes on as set up. An UPDATE without an offer (a
//! session refresh) is taken. The caller identity the destination sees is ours
//! (the bridge's account) unless the PBX sets another.
//!
//! The monitor keeps our leg to the phone from the engine (see
//! [`OwnLegs`](super::OwnLegs)), so the call is reported from here, under our
//! Call-ID: `Originated` when we call the destination, `Established` once the
//! phone is joined, `ConnectionCleared` or `Failed` at its end.

use std::time::Duration;

use ctibridge_adapter::{CommandError, CommandOk, SwitchEvent};
use tokio::time::Instant;

use super::requests::{reason_of, refer_outcome_error, route_set, uri_of};
use super::{Dial, DialContext, Stage, Tx};
use crate::digest::{take_challenge, Credentials};
use crate::message::Message;
use sdp::{looks_like_sdp, refusing_answer, reoffer};

mod leg;
mod sdp;

pub(super) use leg::Bridge;

/// How long the destination may ring before we give up on it (CANCEL). The phone's
/// own `request_timeout_s` is for an auto-answering phone; a person called rings
/// longer, and a REFER'd call has no limit of ours at all.
pub const DESTINATION_RING_LIMIT: Duration = Duration::from_secs(60);

/// Final answers to a REFER that mean "no REFER here", so placing the call
/// ourselves is worth a try: 405 and 501 (the phone or PBX has no REFER at all,
/// RFC 3261 §8.2.1, as SIP stacks without transfer support answer), 420 (it wants an
/// extension to take REFER that we do not offer), 403 and 603 (transfers are off for
/// this phone: Asterisk's `allow_transfer = no` answers 603, phones and PBXs with
/// transfer disabled answer 403 or 603), and pjsip's `500 Unhandled by dialog
/// usages` (a pjsip-based phone or softphone built without the transfer module has
/// nothing in the dialog that takes REFER). Not these: 401/407 (our credentials;
/// an INVITE would fail the same way), 404/410/484/604 (the destination is
/// unknown: our INVITE would hear the same), 481 (the phone left our dialog), other
/// 4xx/5xx (a fault in the request or a passing failure, not a missing feature).
pub(super) fn refer_unavailable(code: u16, reason: &str) -> bool {
    matches!(code, 403 | 405 | 420 | 501 | 603)
        || (code == 500 && reason.eq_ignore_ascii_case("unhandled by dialog usages"))
}

impl Dial {
    /// The REFER was refused (see [`refer_unavailable`]): call the destination.
    pub(super) fn start_bridge(
        &mut self,
        code: u16,
        reason: &str,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        tracing::info!(device = %self.device, "the PBX refused our REFER ({code} {reason}); calling {} ourselves and joining the phone to it", self.destination);
        self.bridge = Some(Box::new(Bridge::new(&self.destination)));
        self.stage = Stage::Bridging;
        self.report(SwitchEvent::Originated {
            call_id: self.call_id.clone(),
            device: self.device.clone(),
            called: Some(number(&self.destination)),
        });
        vec![self.bridge_invite(ctx, credentials, now)]
    }

    fn bridge_invite(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        let Some(bridge) = self.bridge.as_mut() else {
            return Vec::new();
        };
        // No SDP: the destination's 2xx makes the offer (RFC 3725 §4.4).
        let extra = vec![("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE".to_string())];
        let (branch, bytes) = bridge.build("INVITE", extra, ctx, credentials);
        bridge.invite = Some((branch.clone(), bridge.cseq));
        self.push_bridge_tx(branch, "INVITE", bytes.clone(), ctx, now);
        bytes
    }

    fn bridge_bye(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        self.stage = Stage::Leaving;
        let Some(bridge) = self.bridge.as_mut() else {
            return Vec::new();
        };
        let (branch, bytes) = bridge.build("BYE", Vec::new(), ctx, credentials);
        self.push_bridge_tx(branch, "BYE", bytes.clone(), ctx, now);
        bytes
    }

    fn push_bridge_tx(
        &mut self,
        branch: String,
        method: &'static str,
        bytes: Vec<u8>,
        ctx: &DialContext,
        now: Instant,
    ) {
        self.push_tx(branch, method, bytes, ctx, now);
        if let Some(tx) = self.txs.last_mut() {
            tx.bridge = true;
        }
    }

    /// Our re-INVITE to the phone with the destination's offer.
    fn reinvite(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        let offer = self.bridge.as_ref().and_then(|b| b.offer.as_deref());
        let Some(body) = offer.and_then(|o| reoffer(o, self.sdp_session, &ctx.local)) else {
            return Vec::new();
        };
        let uri = self.remote_target.clone();
        let extra = vec![
            (
                "Allow",
                "INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, UPDATE".to_string(),
            ),
            ("Content-Type", "application/sdp".to_string()),
        ];
        let (branch, bytes) = self.send_new("INVITE", &uri, extra, &body, (ctx, credentials, now));
        self.invite = Some((branch, self.cseq));
        bytes
    }

    /// Refuse the destination's offer in the ACK its 2xx needs (RFC 3261 §13.2.2.4:
    /// an offer we cannot take is answered, then the call left) and leave it.
    fn drop_destination(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        let Some(bridge) = self.bridge.as_mut() else {
            return Vec::new();
        };
        let offer = bridge.offer.take().unwrap_or_default();
        let ack = bridge.ack_2xx(ctx, &refusing_answer(&offer, &ctx.local));
        bridge.ack = Some(ack.clone());
        vec![ack, self.bridge_bye(ctx, credentials, now)]
    }

    /// A final answer in the destination's dialog.
    pub(super) fn on_bridge_final(
        &mut self,
        response: &Message,
        code: u16,
        tx: &Tx,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        if tx.method != "INVITE" {
            return Vec::new(); // BYE, CANCEL: nothing more to do
        }
        let Some(bridge) = self.bridge.as_mut() else {
            return Vec::new();
        };
        if (200..300).contains(&code) {
            bridge.challenges = 0;
            bridge.to_tag = response.tag("to").map(str::to_string);
            if let Some(target) = response.header("contact").and_then(uri_of) {
                bridge.remote_target = target;
            }
            bridge.route = route_set(response);
            bridge.offer = Some(response.body.clone());
            if self.stage != Stage::Bridging {
                // Answered as we gave up on it (the agent hung up).
                return self.drop_destination(ctx, credentials, now);
            }
            if reoffer(&response.body, self.sdp_session, &ctx.local).is_none() {
                tracing::warn!(device = %self.device, "{} answered without an SDP offer", self.destination);
                self.answer(Err(CommandError::Rejected(format!(
                    "{} answered without a media offer",
                    self.destination
                ))));
                self.report_end(true, "error (no media offer)".into());
                let mut out = self.drop_destination(ctx, credentials, now);
                out.push(self.bye(ctx, credentials, now));
                return out;
            }
            self.answer(Ok(CommandOk::call(self.call_id.clone())));
            self.stage = Stage::Joining;
            return vec![self.reinvite(ctx, credentials, now)];
        }
        let ack = bridge.in_invite_transaction(ctx, "ACK", response.header("to"));
        if (code == 401 || code == 407) && !bridge.cancelled && self.stage == Stage::Bridging {
            let challenged = take_challenge(
                response,
                code,
                credentials,
                &mut bridge.challenges,
                "the PBX",
            );
            match challenged {
                Ok(()) => return vec![ack, self.bridge_invite(ctx, credentials, now)],
                Err(e) => {
                    self.answer(Err(CommandError::Rejected(e)));
                    self.report_end(true, format!("rejected ({code})"));
                    return vec![ack, self.bye(ctx, credentials, now)];
                }
            }
        }
        let reason = reason_of(response);
        tracing::info!(device = %self.device, "the call to {} failed: {code} {reason}", self.destination);
        let error = match code {
            487 if bridge.cancelled => CommandError::Timeout,
            408 => CommandError::Timeout,
            _ => refer_outcome_error(&self.destination, code, &reason),
        };
        self.answer(Err(error));
        self.report_end(true, format!("{reason} ({code})"));
        if self.stage == Stage::Bridging {
            // The phone is off-hook in a silent call of ours: end it.
            return vec![ack, self.bye(ctx, credentials, now)];
        }
        vec![ack]
    }

    /// The phone's final answer to our re-INVITE.
    pub(super) fn on_reinvite_final(
        &mut self,
        response: &Message,
        code: u16,
        tx: &Tx,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        if (200..300).contains(&code) {
            // A re-INVITE's 2xx refreshes the remote target (RFC 3261 §12.2.1.2).
            if let Some(target) = response.header("contact").and_then(uri_of) {
                self.remote_target = target;
            }
            let ack = self.ack_for_2xx(ctx);
            self.ack_2xx = Some(ack.clone());
            if self.stage != Stage::Joining {
                return vec![ack]; // someone left meanwhile; our BYE is out
            }
            let answer = &response.body;
            if !looks_like_sdp(answer) {
                tracing::warn!(device = %self.device, "the phone answered our re-INVITE without SDP");
                self.report_end(true, "error (no media answer)".into());
                let mut out = vec![ack];
                out.extend(self.drop_destination(ctx, credentials, now));
                out.push(self.bye(ctx, credentials, now));
                return out;
            }
            let Some(bridge) = self.bridge.as_mut() else {
                return vec![ack];
            };
            let ack_destination = bridge.ack_2xx(ctx, answer);
            bridge.ack = Some(ack_destination.clone());
            bridge.offer = None;
            self.stage = Stage::Connected;
            self.report(SwitchEvent::Established {
                call_id: self.call_id.clone(),
                device: self.device.clone(),
                calling: Some(self.device.clone()),
                called: Some(number(&self.destination)),
            });
            tracing::info!(device = %self.device, "click-to-dial: the phone is connected to {}", self.destination);
            return vec![ack, ack_destination];
        }
        let ack = self.ack_for_failure(response, tx, ctx);
        if self.stage != Stage::Joining {
            return vec![ack];
        }
        if code == 491 {
            // Glare with a re-INVITE of the phone's: we chose this dialog's Call-ID,
            // so we wait 2.1 to 4 s before trying again (RFC 3261 §14.1).
            let wait = Duration::from_millis(2100 + rand::random::<u64>() % 1900);
            if let Some(bridge) = self.bridge.as_mut() {
                bridge.retry_at = Some(now + wait);
            }
            return vec![ack];
        }
        if (code == 401 || code == 407) && self.challenged(response, code, credentials).is_ok() {
            return vec![ack, self.reinvite(ctx, credentials, now)];
        }
        let reason = reason_of(response);
        tracing::warn!(device = %self.device, "the phone refused the call to {}'s media: {code} {reason}", self.destination);
        self.answer(Err(CommandError::Rejected(format!(
            "the phone at {} could not take the call to {}: {code} {reason}",
            self.device, self.destination
        ))));
        self.report_end(true, format!("{reason} ({code})"));
        let mut out = vec![ack];
        out.extend(self.drop_destination(ctx, credentials, now));
        // A failed re-INVITE leaves the dialog as it was (RFC 3261 §14.1): end it.
        out.push(self.bye(ctx, credentials, now));
        out
    }

    /// A request while our own call to the destination exists: `None` for one the
    /// REFER dialog's handling answers as before.
    pub(super) fn on_bridged_request(
        &mut self,
        request: &Message,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Option<(u16, Vec<Vec<u8>>)> {
        let from_destination = self.bridge.as_ref()?.owns(request);
        match request.method() {
            Some("BYE") if from_destination => {
                let out = match self.stage {
                    // The destination left: so does the phone.
                    Stage::Joining | Stage::Connected => {
                        if let Some(bridge) = self.bridge.as_mut() {
                            bridge.offer = None;
                        }
                        self.report_end(false, "remote-bye".into());
                        vec![self.bye(ctx, credentials, now)]
                    }
                    // Not a BYE a callee may send before its 2xx (RFC 3261 §15), but
                    // the call is over all the same.
                    Stage::Bridging => {
                        self.answer(Err(CommandError::Rejected(format!(
                            "{} hung up before answering",
                            self.destination
                        ))));
                        self.report_end(true, "remote-bye".into());
                        vec![self.bye(ctx, credentials, now)]
                    }
                    _ => Vec::new(),
                };
                self.txs.retain(|t| !t.bridge);
                self.settle();
                Some((200, out))
            }
            Some("BYE") => {
                // The agent hung up.
                self.answer(Err(CommandError::Rejected(format!(
                    "the phone at {} hung up before {} answered",
                    self.device, self.destination
                ))));
                self.report_end(false, "local-bye".into());
                let out = match self.stage {
                    Stage::Bridging => self.cancel_destination(ctx, now),
                    Stage::Joining => self.drop_destination(ctx, credentials, now),
                    Stage::Connected => vec![self.bridge_bye(ctx, credentials, now)],
                    _ => Vec::new(),
                };
                self.stage = Stage::Leaving;
                // Our requests to the phone are over with its dialog.
                self.txs.retain(|t| t.bridge);
                self.verdict_at = None;
                self.settle();
                Some((200, out))
            }
            // An UPDATE without an offer changes nothing of the media: a session-timer
            // refresh (pjsip sends those as UPDATE where the peer allows UPDATE, as we
            // do from the fallback's requests on) or Asterisk's connected-line update.
            Some("UPDATE") if request.body.is_empty() => Some((200, Vec::new())),
            // Hold, resume, a codec change: a new offer we would have to carry to the
            // other side. Glare while our re-INVITE is out (RFC 3261 §14.2).
            Some("INVITE" | "UPDATE") => {
                let ours_out =
                    !from_destination && self.txs.iter().any(|t| !t.bridge && t.method == "INVITE");
                let destination_unacked = from_destination && self.stage == Stage::Joining;
                Some((
                    if ours_out || destination_unacked {
                        491
                    } else {
                        488
                    },
                    Vec::new(),
                ))
            }
            Some("ACK") if from_destination => Some((0, Vec::new())),
            Some("OPTIONS") if from_destination => Some((200, Vec::new())),
            Some(_) if from_destination => Some((405, Vec::new())),
            _ => None,
        }
    }

    /// CANCEL our INVITE to the destination; its 487 is acknowledged when it comes.
    /// Not before a provisional answer (RFC 3261 §9.1): until one comes we only
    /// note that we gave up, and [`Dial::on_destination_provisional`] sends it.
    fn cancel_destination(&mut self, ctx: &DialContext, now: Instant) -> Vec<Vec<u8>> {
        let Some(bridge) = self.bridge.as_mut() else {
            return Vec::new();
        };
        bridge.cancelled = true;
        let proceeding = self
            .txs
            .iter()
            .any(|t| t.bridge && t.method == "INVITE" && t.proceeding);
        let sent = self.txs.iter().any(|t| t.bridge && t.method == "CANCEL");
        if !proceeding || sent {
            return Vec::new();
        }
        let cancel = bridge.in_invite_transaction(ctx, "CANCEL", None);
        let branch = bridge.invite_branch().unwrap_or_default().to_string();
        self.push_bridge_tx(branch, "CANCEL", cancel.clone(), ctx, now);
        vec![cancel]
    }

    /// A provisional answer to our INVITE to the destination: the CANCEL we held
    /// back, if we gave up before it came.
    pub(super) fn on_destination_provisional(
        &mut self,
        ctx: &DialContext,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        if self.bridge.as_ref().is_some_and(|b| b.cancelled) {
            return self.cancel_destination(ctx, now);
        }
        Vec::new()
    }

    /// A transaction of the fallback's ran out of time (`tx` is out of `txs`).
    pub(super) fn on_bridge_timeout(
        &mut self,
        mut tx: Tx,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        let cancelled = self.bridge.as_ref().is_some_and(|b| b.cancelled);
        let mut out = Vec::new();
        match (tx.bridge, tx.method) {
            (true, "INVITE") if tx.proceeding && !cancelled => {
                // Rang too long. The INVITE stays for its 487 to be acknowledged.
                tracing::info!(device = %self.device, "{} rang too long; giving up", self.destination);
                tx.deadline = now + ctx.t1 * 64;
                self.txs.push(tx);
                out.extend(self.cancel_destination(ctx, now));
                self.answer(Err(CommandError::Timeout));
            }
            (true, "INVITE") => {
                // No final answer at all: the PBX does not route our call.
                self.answer(Err(CommandError::Timeout));
                self.report_end(true, "timeout".into());
                if self.stage == Stage::Bridging {
                    out.push(self.bye(ctx, credentials, now));
                }
            }
            (false, "INVITE") if self.stage == Stage::Joining => {
                // The phone does not answer in its own dialog any more.
                self.answer(Err(CommandError::Timeout));
                self.report_end(true, "timeout".into());
                out.extend(self.drop_destination(ctx, credentials, now));
            }
            _ => {}
        }
        self.settle();
        out
    }

    /// What this dial reports of the call it placed itself, since the last time.
    pub fn take_events(&mut self) -> Vec<SwitchEvent> {
        self.bridge
            .as_mut()
            .map(|b| std::mem::take(&mut b.events))
            .unwrap_or_default()
    }

    fn report(&mut self, event: SwitchEvent) {
        if let Some(bridge) = self.bridge.as_mut() {
            bridge.events.push(event);
        }
    }

    /// The call ended (once): `Failed` when it never connected the two, else
    /// `ConnectionCleared`; `cause` as RFC 4235's dialog events name it.
    fn report_end(&mut self, failed: bool, cause: String) {
        let Some(bridge) = self.bridge.as_mut() else {
            return;
        };
        if bridge.ended {
            return;
        }
        bridge.ended = true;
        let (call_id, device, cause) = (self.call_id.clone(), self.device.clone(), Some(cause));
        let connected = self.stage == Stage::Connected;
        bridge.events.push(if failed && !connected {
            SwitchEvent::Failed {
                call_id,
                device,
                cause,
            }
        } else {
            SwitchEvent::ConnectionCleared {
                call_id,
                device,
                cause,
            }
        });
    }

    /// The re-INVITE again once the glare wait is over.
    pub(super) fn on_retry(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<Vec<u8>> {
        let Some(bridge) = self.bridge.as_mut() else {
            return Vec::new();
        };
        if bridge.retry_at.is_none_or(|at| now < at) {
            return Vec::new();
        }
        bridge.retry_at = None;
        if self.stage != Stage::Joining {
            return Vec::new();
        }
        vec![self.reinvite(ctx, credentials, now)]
    }
}

/// The number a destination URI names, as the engine shows it: its user part
/// (`sip:+442079460123@pbx` → `+442079460123`, `tel:+1415…;ext=1` → `+1415…`).
fn number(uri: &str) -> String {
    let rest = uri.split_once(':').map_or(uri, |(_, rest)| rest);
    let user = rest.split(['@', ';']).next().unwrap_or(rest);
    user.to_string()
}

#[cfg(test)]
mod tests;
