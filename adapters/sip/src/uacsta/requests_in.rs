//! What reaches us from the server and the engine: the server's requests in the
//! dialog (INFOs with events, late answers and its own CSTA requests, BYE,
//! session refreshes) and the engine's commands, sent as CSTA requests in INFOs.

use ctibridge_adapter::{Command, CommandError, CommandRequest};
use ctibridge_csta::events::Mapped;
use ctibridge_csta::message::{CstaError, Message as Csta};
use ctibridge_csta::xml::{Element, Writer};

use super::{Job, Phase, Session, SUPPORTED};
use crate::csta_body::{csta_body, BodyError, CONTENT_TYPE};
use crate::message::Message;
use crate::session::End;

impl Session<'_> {
    pub(super) async fn on_server_request(&mut self, request: &Message) -> Result<(), End> {
        let method = request.method().unwrap_or_default().to_ascii_uppercase();
        if method == "ACK" {
            return Ok(());
        }
        if !self.dialog.owns(request) {
            let code = if method == "OPTIONS" { 200 } else { 481 };
            return self.respond(request, code, &[], None).await;
        }
        if let (Ok((cseq, _)), Some((last, branch, answer))) = (request.cseq(), &self.last_answer) {
            if cseq == *last && request.branch() == Some(branch.as_str()) {
                let answer = answer.clone();
                return self.send(&answer).await;
            }
            if cseq <= *last {
                // Out of order in the dialog (RFC 3261 §12.2.2), or a new request
                // reusing a CSeq: answered, not taken.
                let code = if cseq < *last { 500 } else { 200 };
                return self.respond(request, code, &[], None).await;
            }
        }
        match method.as_str() {
            "INFO" => self.on_info(request).await,
            "BYE" => {
                self.respond(request, 200, &[], None).await?;
                Err(End::Lost(format!(
                    "{}: the CSTA server ended the session (BYE)",
                    self.pbx()
                )))
            }
            "INVITE" | "UPDATE" => {
                // The server refreshes the session itself (refresher=uas).
                let mut extra = vec![("Contact", self.dialog.contact())];
                if let Some(interval) = request.header("session-expires") {
                    extra.push(("Session-Expires", interval.to_string()));
                    extra.push(("Require", "timer".into()));
                }
                self.respond(request, 200, &extra, None).await
            }
            "OPTIONS" => self.respond(request, 200, &[], None).await,
            _ => {
                let allow = ("Allow", "INVITE, ACK, BYE, INFO, UPDATE, OPTIONS".into());
                self.respond(request, 405, &[allow], None).await
            }
        }
    }

    /// An INFO of the server's: answered 200 (with the CSTA answer when it is a
    /// CSTA request), then its event or late answer is taken.
    async fn on_info(&mut self, request: &Message) -> Result<(), End> {
        let body = match csta_body(request) {
            Ok(Some(body)) => body,
            Ok(None) => return self.respond(request, 200, &[], None).await,
            Err(BodyError::NotCsta(_) | BodyError::NoContentType) => {
                let accept = ("Accept", CONTENT_TYPE.to_string());
                return self.respond(request, 415, &[accept], None).await;
            }
            Err(e) => {
                // Answered all the same: a body we cannot read must not make the
                // server retransmit it or end the session over it.
                tracing::warn!(switch = %self.link.switch, "ignoring an INFO from the CSTA server: {e}");
                return self.respond(request, 200, &[], None).await;
            }
        };
        match body.message {
            Csta::SystemStatus => {
                let xml = self.requests.system_status_response();
                self.respond(request, 200, &[], Some(xml)).await
            }
            Csta::Ignored(name) if name == "RequestSystemStatus" => {
                let xml = Writer::new("RequestSystemStatusResponse", self.requests.namespace)
                    .text("systemStatus", "normal")
                    .finish();
                self.respond(request, 200, &[], Some(xml)).await
            }
            Csta::SessionEnded(reason) => {
                // The CSTA session is over; the link opens a new one.
                let xml = self.requests.stop_session_response();
                self.respond(request, 200, &[], Some(xml)).await?;
                Err(End::Lost(format!(
                    "the CSTA server ended the session: {reason}"
                )))
            }
            Csta::Ignored(name) => {
                tracing::debug!(switch = %self.link.switch, "ignored {name}");
                self.respond(request, 200, &[], None).await
            }
            Csta::Event(mapped) => {
                self.respond(request, 200, &[], None).await?;
                self.on_event(*mapped, body.cross_ref.as_deref(), request)
                    .await
            }
            Csta::Response(root) => {
                self.respond(request, 200, &[], None).await?;
                self.on_late_answer(Ok(root)).await
            }
            Csta::Error(error) => {
                self.respond(request, 200, &[], None).await?;
                self.on_late_answer(Err(error)).await
            }
        }
    }

    /// An answer the server sent in an INFO of its own: the oldest request waiting
    /// for an answer of that name (an error: the oldest waiting).
    async fn on_late_answer(&mut self, answer: Result<Element, CstaError>) -> Result<(), End> {
        let position = match &answer {
            Ok(root) => self.awaiting.iter().position(|a| a.expect == root.name),
            Err(_) => (!self.awaiting.is_empty()).then_some(0),
        };
        let Some(awaiting) = position.and_then(|p| self.awaiting.remove(p)) else {
            match answer {
                Ok(root) => {
                    tracing::debug!(switch = %self.link.switch, "{} to no outstanding request", root.name)
                }
                Err(error) => {
                    tracing::warn!(switch = %self.link.switch, "the CSTA server reported an error for no outstanding request: {error}")
                }
            }
            return Ok(());
        };
        self.answered(awaiting.job, answer, false).await
    }

    async fn on_event(
        &mut self,
        mapped: Mapped,
        cross_ref: Option<&str>,
        request: &Message,
    ) -> Result<(), End> {
        let Some(event) = self.carry.for_engine(mapped, cross_ref, &mut self.copies) else {
            return Ok(());
        };
        let raw = String::from_utf8_lossy(&request.body).into_owned();
        if self.phase != Phase::Up {
            self.waiting.push((event, raw));
            return Ok(());
        }
        if self.link.send_raw(event, raw).await {
            Ok(())
        } else {
            Err(End::EngineGone)
        }
    }

    pub(super) async fn on_command(&mut self, mut request: CommandRequest) -> Result<(), End> {
        if self.phase != Phase::Up {
            request.respond(Err(CommandError::SwitchUnavailable));
            return Ok(());
        }
        if matches!(request.command, Command::Snapshot) {
            return self.start_snapshot(Some(request)).await;
        }
        let kind = request.command.kind();
        if !SUPPORTED.contains(&kind) {
            request.respond(Err(CommandError::NotSupported(format!(
                "{kind:?} is not offered over uaCSTA, which controls phones \
                 (call, answer, hang up, hold, retrieve, transfer, conference, DTMF)"
            ))));
            return Ok(());
        }
        self.carry.command_to_switch(&mut request.command);
        let built = match self.requests.command(&request.command) {
            Ok(built) => built,
            Err(error) => {
                request.respond(Err(error));
                return Ok(());
            }
        };
        let yields = built.yields;
        self.send_request("INFO", built.xml, Job::Command { request, yields })
            .await
    }
}
