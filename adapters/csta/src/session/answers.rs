//! The switch's answers to our requests: which request each belongs to, and what
//! each purpose does with it (the session's opening, set-up, snapshot steps,
//! commands' results), up to `LinkUp`.

use std::time::Duration;

use ctibridge_adapter::{CommandOk, SwitchEvent};

use super::{End, Pending, Phase, Purpose, Session};
use crate::message::CstaError;
use crate::wire::Wire;
use crate::xml::Element;

impl Session<'_> {
    /// The pending request an answer belongs to.
    pub(super) fn take_pending(&mut self, invoke: Option<u16>) -> Option<Pending> {
        let position = if self.ordered {
            (!self.pending.is_empty()).then_some(0)
        } else {
            // An ACSE AARE carries no invoke id: it answers the session's opening.
            self.pending.iter().position(|p| match invoke {
                Some(_) => p.invoke == invoke,
                None => matches!(p.purpose, Purpose::Session),
            })
        };
        position.and_then(|i| self.pending.remove(i))
    }

    pub(super) async fn on_answer(
        &mut self,
        invoke: Option<u16>,
        answer: Result<Element, CstaError>,
    ) -> Result<(), End> {
        let Some(pending) = self.take_pending(invoke) else {
            match answer {
                Err(error) => {
                    tracing::warn!(switch = %self.link.switch, ?invoke, "the switch reported an error for no outstanding request: {error}")
                }
                Ok(body) => {
                    tracing::debug!(switch = %self.link.switch, ?invoke, "answer {} to no outstanding request", body.name)
                }
            }
            return Ok(());
        };
        let what = pending.what;
        match pending.purpose {
            Purpose::Abandoned => {}
            Purpose::DeviceId(extension) => {
                match answer.map(|body| body.find_text("device").map(String::from)) {
                    Ok(Some(id)) => self.carry.names.learn(&extension, &id),
                    Ok(None) => tracing::warn!(switch = %self.link.switch, extension, "GetDeviceId answered without a device id"),
                    Err(error) => tracing::warn!(switch = %self.link.switch, extension, "no device id for {extension}: {error}"),
                }
                self.setup_outstanding = self.setup_outstanding.saturating_sub(1);
                if self.setup_outstanding == 0 {
                    self.setup().await?;
                }
            }
            Purpose::Session => match answer {
                Ok(_) if matches!(self.wire, Wire::Ber { .. }) => {
                    // The ACSE association has no session id and no timer to reset.
                    self.associated = true;
                    self.before_setup().await?;
                }
                Ok(body) => {
                    self.session_id = body.find_text("sessionID").map(String::from);
                    let granted = body
                        .find_text("actualSessionDuration")
                        .and_then(|d| d.parse::<u64>().ok())
                        .unwrap_or(u64::from(self.config.session_duration_s));
                    // Reset at half the granted time, so one lost reset does not
                    // end the session.
                    self.session_reset_every =
                        Some(Duration::from_millis((granted.max(1) * 1000) / 2));
                    self.before_setup().await?;
                }
                Err(error) if matches!(self.wire, Wire::Ber { .. }) => {
                    return Err(End::Lost(format!(
                        "the switch refused the ACSE association ({error}); check username, password and acse_context"
                    )))
                }
                Err(error) => {
                    return Err(End::Lost(format!(
                        "the switch refused the application session ({error}); check username, password and application_id"
                    )))
                }
            },
            Purpose::Monitor(device) => {
                if let Err(error) = answer {
                    tracing::warn!(switch = %self.link.switch, device, "cannot monitor device {device}: {error}");
                }
                self.setup_step().await?;
            }
            Purpose::RouteRegister(device) => {
                if let Err(error) = answer {
                    tracing::warn!(switch = %self.link.switch, device, "cannot register as the router of {device}: {error}");
                }
                self.setup_step().await?;
            }
            Purpose::SnapshotDevice(device) => {
                match answer {
                    Ok(body) => {
                        if let Some(job) = &mut self.snapshot {
                            job.builder.add_device(&device, &body);
                        }
                        self.ask_for_callers().await?;
                    }
                    Err(error) => {
                        tracing::warn!(switch = %self.link.switch, device, "no snapshot of {device}: {error}")
                    }
                }
                self.snapshot_step().await?;
            }
            Purpose::SnapshotCall(call) => {
                match answer {
                    Ok(body) => {
                        if let Some(job) = &mut self.snapshot {
                            job.builder.add_call(&call, &body);
                        }
                    }
                    Err(error) => {
                        tracing::debug!(switch = %self.link.switch, call, "no call snapshot of {call}: {error}")
                    }
                }
                self.snapshot_step().await?;
            }
            Purpose::AgentState(device) => {
                match answer {
                    Ok(body) => {
                        if let Some(job) = &mut self.snapshot {
                            job.builder.add_agents(&device, &body);
                        }
                    }
                    // ACD groups and phones without an agent answer with an error.
                    Err(error) => {
                        tracing::debug!(switch = %self.link.switch, device, "no agent state at {device}: {error}")
                    }
                }
                self.snapshot_step().await?;
            }
            Purpose::Heartbeat => {}
            Purpose::SessionReset => {
                if let Err(error) = answer {
                    return Err(End::Lost(format!(
                        "the switch refused to extend the application session: {error}"
                    )));
                }
            }
            Purpose::Command { request, yields } => {
                let result = match answer {
                    Ok(body) => Ok(yields.answer(&body, &self.carry.ids)),
                    Err(error) => {
                        tracing::info!(switch = %self.link.switch, "{what} refused: {error}");
                        Err(error.to_command_error())
                    }
                };
                request.respond(result);
            }
        }
        Ok(())
    }

    pub(super) async fn setup_step(&mut self) -> Result<(), End> {
        self.setup_outstanding = self.setup_outstanding.saturating_sub(1);
        self.maybe_up().await
    }

    pub(super) async fn snapshot_step(&mut self) -> Result<(), End> {
        if self.phase == Phase::Setup {
            self.setup_outstanding = self.setup_outstanding.saturating_sub(1);
        }
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
                self.named_by_snapshot(&mut event);
                self.for_engine(&mut event);
                self.emit(event).await?;
                if let Some(request) = job.request {
                    request.respond(Ok(CommandOk::default()));
                }
            }
        }
        self.maybe_up().await
    }

    /// Setup is complete: tell the engine, with the snapshot, then what waited.
    pub(super) async fn maybe_up(&mut self) -> Result<(), End> {
        if self.phase != Phase::Setup || self.setup_outstanding > 0 {
            return Ok(());
        }
        self.phase = Phase::Up;
        tracing::info!(switch = %self.link.switch, devices = self.devices.len(), "CSTA link up");
        self.emit(SwitchEvent::LinkUp).await?;
        let snapshot = self
            .snapshot
            .take()
            .map(|job| job.builder.finish())
            .unwrap_or_default();
        let mut event = SwitchEvent::Snapshot(snapshot);
        self.named_by_snapshot(&mut event);
        self.for_engine(&mut event);
        self.emit(event).await?;
        for event in std::mem::take(&mut self.waiting) {
            self.emit(event).await?;
        }
        Ok(())
    }
}
