//! Commands from the engine while the link is up, and the deadlines: requests the
//! switch did not answer in time, route dialogues nobody chose a route for.

use ctibridge_adapter::{CommandError, CommandOk, CommandRequest};
use tokio::time::Instant;

use super::{command_name, End, Phase, Purpose, Session};
use crate::config::DeviceIds;
use crate::xml::Element;

impl Session<'_> {
    pub(super) async fn on_command(&mut self, mut request: CommandRequest) -> Result<(), End> {
        if self.phase != Phase::Up {
            request.respond(Err(CommandError::SwitchUnavailable));
            return Ok(());
        }
        self.carry.ids.command_to_switch(&mut request.command);
        if self.config.device_ids == DeviceIds::Avaya {
            self.carry.names.command_to_switch(&mut request.command);
        }
        if matches!(request.command, ctibridge_adapter::Command::Snapshot) {
            return self.start_snapshot(Some(request)).await;
        }
        if let ctibridge_adapter::Command::RouteSelect { route_id, .. } = &request.command {
            let Some(pos) = self.routes.iter().position(|(id, _)| id == route_id) else {
                let message = format!("route dialogue {route_id} has ended");
                request.respond(Err(CommandError::CallNotFound(message)));
                return Ok(());
            };
            self.routes.remove(pos);
        }
        let built = self.requests.command(&request.command);
        let built = match built {
            Ok(built) => built,
            Err(error) => {
                request.respond(Err(error));
                return Ok(());
            }
        };
        let service = Element::parse(built.xml.as_bytes())
            .map(|e| e.name)
            .unwrap_or_default();
        if !self.wire.can_send(&service) {
            request.respond(Err(CommandError::NotSupported(format!(
                "{service} is not carried by this switch's CSTA (BER phase {})",
                if self.config.phase == Some(2) { 2 } else { 3 }
            ))));
            return Ok(());
        }
        if let Some(error) = self.wire.refusal(&built.xml) {
            request.respond(Err(error));
            return Ok(());
        }
        if built.no_response {
            // A route dialogue message: the switch answers with the next step of the
            // dialogue (or an error we can only log), not a response.
            let invoke = (!self.ordered).then(|| self.invoke_id());
            self.write(invoke, built.xml).await?;
            request.respond(Ok(CommandOk::default()));
            return Ok(());
        }
        let what = command_name(&request.command);
        self.request(
            built.xml,
            Purpose::Command {
                request,
                yields: built.yields,
            },
            what,
        )
        .await
    }

    /// Give up on requests past their deadline and answer routes nobody chose.
    pub(super) async fn expire(&mut self, now: Instant) -> Result<(), End> {
        let mut index = 0;
        while index < self.pending.len() {
            if self.pending[index].deadline > now {
                index += 1;
                continue;
            }
            let what = self.pending[index].what;
            let purpose = std::mem::replace(&mut self.pending[index].purpose, Purpose::Abandoned);
            match purpose {
                Purpose::Command { request, .. } => {
                    tracing::warn!(switch = %self.link.switch, "no answer to {what} in time");
                    request.respond(Err(CommandError::Timeout));
                }
                Purpose::Abandoned => {
                    // Even a late answer did not come: the link is not working.
                    return Err(End::Lost(format!("no answer to {what}, even late")));
                }
                _ => {
                    return Err(End::Lost(format!(
                        "no answer to {what} within {:?}",
                        self.config.request_timeout
                    )))
                }
            }
            if self.ordered {
                // Keep the place: the late answer must not be taken for the next one.
                self.pending[index].deadline = now + self.config.request_timeout;
                index += 1;
            } else {
                self.pending.remove(index);
            }
        }
        let expired: Vec<String> = self
            .routes
            .iter()
            .filter(|(_, t)| *t <= now)
            .map(|(id, _)| id.clone())
            .collect();
        self.routes.retain(|(_, t)| *t > now);
        for route_id in expired {
            let built = match &self.config.route_default {
                Some(default) => {
                    tracing::info!(switch = %self.link.switch, route_id, default, "no route chosen in time; using route_default");
                    self.requests.route_select(&route_id, default)
                }
                None => {
                    tracing::info!(switch = %self.link.switch, route_id, "no route chosen in time; leaving it to the switch");
                    self.requests.route_end(&route_id)
                }
            };
            if let Ok(built) = built {
                let invoke = (!self.ordered).then(|| self.invoke_id());
                self.write(invoke, built.xml).await?;
            }
        }
        Ok(())
    }
}
