//! The snapshot after (re)connecting, or asked for by a command: SnapshotDevice
//! (and the agent states) for every monitored device, then SnapshotCall for the
//! calls whose caller a BER device snapshot did not name.

use ctibridge_adapter::{CommandOk, CommandRequest};

use super::{End, Phase, Purpose, Session, SnapshotJob};
use crate::snapshot::SnapshotBuilder;
use crate::wire::Wire;

impl Session<'_> {
    pub(super) async fn start_snapshot(
        &mut self,
        request: Option<CommandRequest>,
    ) -> Result<(), End> {
        if self.snapshot.is_some() {
            // One at a time; a second ask is answered by the one under way.
            if let Some(request) = request {
                request.respond(Ok(CommandOk::default()));
            }
            return Ok(());
        }
        let agent_states = self.wire.can_send("GetAgentState");
        self.snapshot = Some(SnapshotJob {
            builder: SnapshotBuilder::default(),
            outstanding: self.snapshot_requests_per_device() * self.devices.len(),
            request,
            asked: Vec::new(),
        });
        let devices = self.devices;
        for device in devices {
            let xml = self.requests.snapshot_device(&self.switch_device(device));
            self.request(
                xml,
                Purpose::SnapshotDevice(device.clone()),
                "SnapshotDevice",
            )
            .await?;
            if agent_states {
                let xml = self.requests.get_agent_state(&self.switch_device(device));
                self.request(xml, Purpose::AgentState(device.clone()), "GetAgentState")
                    .await?;
            }
        }
        Ok(())
    }

    /// A BER link's SnapshotDevice names a call's connections, not its caller (the
    /// XML switches add it as private data): ask ECMA-285's SnapshotCall, whose
    /// result carries the calling and called devices, for each call still without
    /// one, so a call that began while the link was down pops with its ANI. The
    /// snapshot waits for these answers too.
    pub(super) async fn ask_for_callers(&mut self) -> Result<(), End> {
        if !matches!(self.wire, Wire::Ber { .. }) || !self.wire.can_send("SnapshotCall") {
            return Ok(());
        }
        let Some(job) = &mut self.snapshot else {
            return Ok(());
        };
        let new: Vec<String> = job
            .builder
            .calls_without_caller()
            .into_iter()
            .filter(|c| !job.asked.contains(c))
            .collect();
        job.asked.extend(new.iter().cloned());
        job.outstanding += new.len();
        if self.phase == Phase::Setup {
            self.setup_outstanding += new.len();
        }
        for call in new {
            let xml = self.requests.snapshot_call(&call);
            self.request(xml, Purpose::SnapshotCall(call), "SnapshotCall")
                .await?;
        }
        Ok(())
    }

    /// SnapshotDevice, and GetAgentState where the link has it (CSTA Phase II has
    /// no such service).
    pub(super) fn snapshot_requests_per_device(&self) -> usize {
        1 + usize::from(self.wire.can_send("GetAgentState"))
    }
}
