//! Serving a BER link: the client's APDUs (invokes are served like XML
//! requests, through the same dispatch and model; results and errors answer
//! the switch's keep-alive; ACSE opens and closes the association) and the
//! model's events as `cSTAEventReport` invokes.

use super::super::ber::{frame, incoming, AareOutcome, Encoder, Incoming, Op};
use super::super::model::{Event, Notice};
use super::super::reply::Reply;
use super::super::request::Request;
use super::super::shared::CstaError;
use super::{LinkCmd, Router};

/// Octets as hex for the logs.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Router {
    /// Writes one APDU with its length prefix to the client.
    pub(super) fn send_apdu(&mut self, apdu: &[u8]) {
        let Some(link) = &self.link else { return };
        tracing::debug!(link = link.id, apdu = %hex(apdu), "fake switch: send");
        match frame(apdu) {
            Some(bytes) => {
                let _ = link.tx.send(LinkCmd::Send(bytes));
            }
            None => tracing::warn!(len = apdu.len(), "fake switch: APDU too long, dropped"),
        }
    }

    pub(super) fn on_apdu(&mut self, encoder: &Encoder, apdu: &[u8]) {
        tracing::debug!(apdu = %hex(apdu), "fake switch: received");
        match incoming(encoder.phase(), apdu) {
            Err(rejection) => {
                // The length prefix was sound, so the stream is still in
                // step: reject this APDU and carry on.
                tracing::warn!(%rejection, "fake switch: APDU rejected");
                self.send_apdu(&encoder.reject(&rejection));
            }
            Ok(Incoming::Invoke {
                invoke,
                op,
                request,
            }) => self.serve_invoke(encoder, invoke, op, request),
            Ok(Incoming::Result { invoke }) => self.answered(invoke),
            Ok(Incoming::Error { invoke }) => {
                tracing::debug!(invoke, "fake switch: client answered with an error");
                self.answered(invoke);
            }
            Ok(Incoming::Reject { invoke }) => {
                tracing::warn!(?invoke, "fake switch: client rejected an APDU");
                if let Some(invoke) = invoke {
                    self.answered(invoke);
                }
            }
            Ok(Incoming::Associate(aarq)) => {
                self.received.push("AARQ".to_owned());
                let outcome = if aarq.context.as_deref() != Some(encoder.application_context()) {
                    AareOutcome::ContextNotSupported
                } else if self.cfg.credentials.as_ref().is_some_and(|(u, p)| {
                    aarq.password.as_ref() != Some(p)
                        || aarq.user.as_ref().is_some_and(|given| given != u)
                }) {
                    AareOutcome::AuthenticationFailure
                } else {
                    AareOutcome::Accepted
                };
                if let Some(l) = &mut self.link {
                    l.associated = outcome == AareOutcome::Accepted;
                }
                self.send_apdu(&encoder.aare(outcome));
            }
            Ok(Incoming::Release) => {
                self.received.push("RLRQ".to_owned());
                if let Some(l) = &mut self.link {
                    l.associated = false;
                    l.monitors.clear();
                }
                self.send_apdu(&encoder.rlre());
            }
            Ok(Incoming::Abort) => {
                self.received.push("ABRT".to_owned());
                self.close_link("association aborted by the client");
            }
        }
        self.flush();
    }

    /// Any answer naming one of the switch's keep-alives shows the client
    /// is there, whatever it thought of the keep-alive.
    fn answered(&mut self, invoke: i64) {
        if let Some(l) = &mut self.link {
            l.heartbeats.retain(|h| i64::from(*h) != invoke);
        }
    }

    fn serve_invoke(
        &mut self,
        encoder: &Encoder,
        invoke: i64,
        op: Op,
        request: Result<Request, CstaError>,
    ) {
        self.received.push(op.name().to_owned());
        let unassociated =
            self.ber_requires_association() && self.link.as_ref().is_some_and(|l| !l.associated);
        let result = match request {
            _ if unassociated => Err(CstaError::NO_SESSION),
            Err(e) => Err(e),
            Ok(req) => self.dispatch(req, None),
        };
        let apdu = match result {
            // The routing dialogue's messages want no result (ALWAYS RESPONDS
            // FALSE): the next step of the dialogue is the answer.
            Ok(_) if !op.has_result() => return,
            Ok(reply) => {
                // `None` only comes with no link to answer on; noData then.
                let reply = reply.unwrap_or(Reply::Done(""));
                match encoder.result(invoke, op, &reply) {
                    Some(apdu) => apdu,
                    None => {
                        tracing::warn!(?op, ?reply, "fake switch: no BER form for this answer");
                        encoder.error(invoke, CstaError::MALFORMED)
                    }
                }
            }
            Err(e) => {
                tracing::debug!(?op, ?e, "fake switch: rejected request");
                encoder.error(invoke, e)
            }
        };
        self.send_apdu(&apdu);
    }

    fn ber_requires_association(&self) -> bool {
        matches!(&self.cfg.encoding, super::Encoding::Ber(o) if o.require_acse)
    }

    /// One `cSTAEventReport` per monitor that covers a device in the
    /// audience, each with an invoke id of its own.
    pub(super) fn notify_ber(&mut self, encoder: &Encoder, notice: &Notice) {
        let Some(link) = &mut self.link else { return };
        let mut apdus = Vec::new();
        for (device, local) in &notice.audience {
            let Some(xref) = link
                .monitors
                .iter()
                .find(|(d, _)| d == device)
                .map(|(_, x)| *x)
            else {
                continue;
            };
            let local = match notice.event {
                Event::Call(_) => *local,
                Event::Agent { .. } => None,
            };
            let invoke = i64::from(link.invoke_id());
            apdus.extend(encoder.event(invoke, xref, &notice.event, local));
        }
        for apdu in apdus {
            self.send_apdu(&apdu);
        }
    }
}
