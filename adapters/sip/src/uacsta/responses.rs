//! The server's answers to our requests and what follows from them: the session
//! opened (then monitors and the first snapshot), challenges answered, a CSTA
//! answer handed to whatever asked, and the link declared up once every device
//! has been answered.

use ctibridge_adapter::{CommandError, CommandOk, SwitchEvent};
use ctibridge_csta::message::{CstaError, Message as Csta};
use ctibridge_csta::snapshot::SnapshotBuilder;
use ctibridge_csta::xml::Element;
use tokio::time::Instant;

use super::dialog::KeepAlive;
use super::{Awaiting, Job, Phase, Session, SnapshotJob, Tx};
use crate::csta_body::{csta_body, CstaBody};
use crate::dial::requests::reason_of;
use crate::message::Message;
use crate::session::End;

/// System statuses (ECMA-269 §12.2.25) under which the server cannot serve us.
const UNUSABLE_STATUS: [&str; 2] = ["disabled", "initializing"];

impl Session<'_> {
    pub(super) async fn on_response(&mut self, response: &Message) -> Result<(), End> {
        let (Some(code), Some(branch)) = (response.code(), response.branch()) else {
            return Ok(());
        };
        let Some(index) = self.txs.iter().position(|t| t.pending.branch == branch) else {
            // A repeated 2xx to an INVITE: our ACK was lost.
            let invite = response
                .cseq()
                .is_ok_and(|(_, m)| m.eq_ignore_ascii_case("INVITE"));
            if invite && (200..300).contains(&code) {
                if let Some(ack) = self.ack_2xx.clone() {
                    self.send(&ack).await?;
                }
            }
            return Ok(());
        };
        if code < 200 {
            self.txs[index].pending.provisional(Instant::now());
            return Ok(());
        }
        let tx = self.txs.remove(index);
        if tx.method == "INVITE" {
            self.on_invite_final(response, code, tx).await
        } else {
            self.on_info_final(response, code, tx).await
        }
    }

    async fn on_invite_final(&mut self, response: &Message, code: u16, tx: Tx) -> Result<(), End> {
        if (200..300).contains(&code) {
            let (ack, keep) = self.dialog.on_invite_2xx(response, tx.cseq);
            self.send(&ack).await?;
            self.ack_2xx = Some(ack);
            self.schedule_keep(keep);
            if matches!(tx.job, Job::Open) {
                self.check_status(response)?;
                return self.setup().await;
            }
            return Ok(());
        }
        let ack = self
            .dialog
            .ack_failure(response, &tx.pending.branch, tx.cseq);
        self.send(&ack).await?;
        match code {
            401 | 407 => {
                return match self
                    .dialog
                    .challenged(response, code, &mut self.carry.credentials)
                {
                    Ok(()) => self.send_request("INVITE", tx.xml, tx.job).await,
                    Err(e) => Err(End::Lost(format!("{}: {e}", self.pbx()))),
                };
            }
            422 => {
                // Session Interval Too Small (RFC 4028 §6): ask again with its Min-SE.
                let min = response
                    .header("min-se")
                    .and_then(|v| v.split(';').next()?.trim().parse::<u32>().ok());
                if let Some(min) = min.filter(|m| self.dialog.raise_session_expires(*m)) {
                    tracing::info!(switch = %self.link.switch, min, "the CSTA server wants a longer session interval");
                    return self.send_request("INVITE", tx.xml, tx.job).await;
                }
            }
            491 if matches!(tx.job, Job::Refresh) => {
                // Glare with a request of the server's (RFC 3261 §14.1): try again soon.
                self.keep = Some((
                    KeepAlive::Refresh { seconds: 4 },
                    Instant::now() + std::time::Duration::from_secs(2),
                ));
                return Ok(());
            }
            _ => {}
        }
        let what = if matches!(tx.job, Job::Open) {
            "refused the uaCSTA session"
        } else {
            "refused to refresh the uaCSTA session"
        };
        let hint = match code {
            415 | 488 | 606 => " (does it take CSTA in SIP, application/csta+xml?)",
            404 | 604 => " (check server_uri)",
            _ => "",
        };
        Err(End::Lost(format!(
            "{} {what}: {code} {}{hint}",
            self.pbx(),
            reason_of(response)
        )))
    }

    /// The 2xx that opened the session carries `RequestSystemStatusResponse`.
    fn check_status(&self, response: &Message) -> Result<(), End> {
        match csta_body(response) {
            Ok(Some(CstaBody {
                message: Csta::Error(error),
                ..
            })) => Err(End::Lost(format!(
                "{}: the CSTA server refused the session: {error}",
                self.pbx()
            ))),
            Ok(Some(CstaBody {
                message: Csta::Response(root),
                ..
            })) => {
                let status = root.find_text("systemStatus").unwrap_or("normal");
                if UNUSABLE_STATUS.contains(&status) {
                    return Err(End::Lost(format!(
                        "{}: the CSTA server reports its system status as {status}",
                        self.pbx()
                    )));
                }
                tracing::info!(switch = %self.link.switch, status, "uaCSTA session open");
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(switch = %self.link.switch, "the session's 200 carries no usable CSTA answer: {e}");
                Ok(())
            }
        }
    }

    async fn on_info_final(&mut self, response: &Message, code: u16, tx: Tx) -> Result<(), End> {
        let reason = reason_of(response);
        if matches!(tx.job, Job::Heartbeat) && !matches!(code, 401 | 407 | 408 | 481) {
            // Any answer in the dialog shows it is alive; the status itself is moot.
            self.schedule_keep(KeepAlive::Heartbeat);
            return Ok(());
        }
        if (200..300).contains(&code) {
            self.dialog.challenge_passed();
            return match csta_body(response) {
                Ok(Some(CstaBody {
                    message: Csta::Response(root),
                    ..
                })) => self.answered(tx.job, Ok(root), false).await,
                Ok(Some(CstaBody {
                    message: Csta::Error(error),
                    ..
                })) => self.answered(tx.job, Err(error), false).await,
                Ok(Some(other)) => {
                    tracing::debug!(switch = %self.link.switch, "INFO answered with {}", other.name);
                    self.answered(tx.job, Ok(Element::default()), false).await
                }
                Ok(None) => {
                    // The answer comes in an INFO of the server's own.
                    self.awaiting.push_back(Awaiting {
                        expect: tx.expect,
                        job: tx.job,
                        deadline: Instant::now() + self.config.request_timeout,
                    });
                    Ok(())
                }
                Err(e) => {
                    let error = CstaError {
                        category: "body".into(),
                        value: e.to_string(),
                    };
                    self.answered(tx.job, Err(error), false).await
                }
            };
        }
        match code {
            401 | 407 => match self
                .dialog
                .challenged(response, code, &mut self.carry.credentials)
            {
                Ok(()) => self.send_request("INFO", tx.xml, tx.job).await,
                Err(e) => {
                    let error = CstaError {
                        category: "sip".into(),
                        value: e,
                    };
                    self.answered(tx.job, Err(error), false).await
                }
            },
            408 | 481 => Err(End::Lost(format!(
                "{}: the CSTA server lost the session ({code} {reason} to an INFO)",
                self.pbx()
            ))),
            _ => {
                let error = CstaError {
                    category: "sip".into(),
                    value: format!("{code} {reason}"),
                };
                self.answered(tx.job, Err(error), false).await
            }
        }
    }

    /// A CSTA answer (or its failure) for what asked.
    pub(super) async fn answered(
        &mut self,
        job: Job,
        result: Result<Element, CstaError>,
        timed_out: bool,
    ) -> Result<(), End> {
        match job {
            Job::Open | Job::Refresh => Ok(()),
            Job::Heartbeat => {
                self.schedule_keep(KeepAlive::Heartbeat);
                Ok(())
            }
            Job::Monitor(device) => {
                match result {
                    Ok(root) => {
                        let cross_ref = root.find_text("monitorCrossRefID").unwrap_or("");
                        tracing::debug!(switch = %self.link.switch, device, cross_ref, "monitoring");
                    }
                    Err(error) => {
                        tracing::warn!(switch = %self.link.switch, device, "cannot monitor device {device}: {error}");
                    }
                }
                self.monitors_outstanding = self.monitors_outstanding.saturating_sub(1);
                self.maybe_up().await
            }
            Job::Snapshot(device) => {
                match result {
                    Ok(root) => {
                        if let Some(job) = &mut self.snapshot {
                            job.builder.add_device(&device, &root);
                        }
                    }
                    Err(error) => {
                        tracing::info!(switch = %self.link.switch, device, "no snapshot of {device}: {error}");
                    }
                }
                self.snapshot_step().await
            }
            Job::Command { request, yields } => {
                let result = match result {
                    Ok(body) => Ok(yields.answer(&body, &self.carry.ids)),
                    Err(_) if timed_out => Err(CommandError::Timeout),
                    Err(error) => {
                        tracing::info!(switch = %self.link.switch, "command refused: {error}");
                        Err(error.to_command_error())
                    }
                };
                request.respond(result);
                Ok(())
            }
        }
    }

    /// The session is open: monitor every device and take the first snapshot.
    async fn setup(&mut self) -> Result<(), End> {
        self.phase = Phase::Setup;
        let devices = self.devices;
        for device in devices {
            let xml = self.requests.monitor_start(device);
            self.send_request("INFO", xml, Job::Monitor(device.clone()))
                .await?;
            self.monitors_outstanding += 1;
        }
        self.start_snapshot(None).await
    }

    pub(super) async fn start_snapshot(
        &mut self,
        request: Option<ctibridge_adapter::CommandRequest>,
    ) -> Result<(), End> {
        if self.snapshot.is_some() {
            // One at a time; a second ask is answered by the one under way.
            if let Some(request) = request {
                request.respond(Ok(CommandOk::default()));
            }
            return Ok(());
        }
        self.snapshot = Some(SnapshotJob {
            builder: SnapshotBuilder::default(),
            outstanding: self.devices.len(),
            request,
        });
        let devices = self.devices;
        for device in devices {
            let xml = self.requests.snapshot_device(device);
            self.send_request("INFO", xml, Job::Snapshot(device.clone()))
                .await?;
        }
        Ok(())
    }

    async fn snapshot_step(&mut self) -> Result<(), End> {
        let done = match &mut self.snapshot {
            Some(job) => {
                job.outstanding = job.outstanding.saturating_sub(1);
                job.outstanding == 0
            }
            None => false,
        };
        if done && self.phase == Phase::Up {
            if let Some(job) = self.snapshot.take() {
                let mut event = SwitchEvent::Snapshot(job.builder.finish());
                self.carry.snapshot_for_engine(&mut event);
                self.emit(event).await?;
                if let Some(request) = job.request {
                    request.respond(Ok(CommandOk::default()));
                }
            }
        }
        self.maybe_up().await
    }

    /// Every device answered: tell the engine, with the snapshot, then what waited.
    async fn maybe_up(&mut self) -> Result<(), End> {
        let snapshot_done = self.snapshot.as_ref().is_none_or(|j| j.outstanding == 0);
        if self.phase != Phase::Setup || self.monitors_outstanding > 0 || !snapshot_done {
            return Ok(());
        }
        self.phase = Phase::Up;
        tracing::info!(switch = %self.link.switch, devices = self.devices.len(), "uaCSTA link up");
        self.emit(SwitchEvent::LinkUp).await?;
        let snapshot = self
            .snapshot
            .take()
            .map(|job| job.builder.finish())
            .unwrap_or_default();
        let mut event = SwitchEvent::Snapshot(snapshot);
        self.carry.snapshot_for_engine(&mut event);
        self.emit(event).await?;
        for (event, raw) in std::mem::take(&mut self.waiting) {
            if !self.link.send_raw(event, raw).await {
                return Err(End::EngineGone);
            }
        }
        Ok(())
    }

    pub(super) async fn emit(&mut self, event: SwitchEvent) -> Result<(), End> {
        if self.link.send(event).await {
            Ok(())
        } else {
            Err(End::EngineGone)
        }
    }
}
