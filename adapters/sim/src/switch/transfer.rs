//! Calls that change hands or grow: blind and consultation transfer, conference (by
//! consultation or by adding a party directly) and supervisor monitoring.

use ctibridge_adapter::{CommandError, PartyState, SwitchEvent};

use super::agents::Departure;
use super::{state_name, Effects, Switch};
use crate::call::Party;
use crate::plan::Destination;

impl Switch {
    pub(super) fn transfer_blind(
        &mut self,
        call_id: &str,
        device: &str,
        to: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        self.in_conversation(key, device, call_id)?;
        let destination = self.plan.classify(to)?;
        self.not_in_call(key, to, call_id)?;
        let Some(call) = self.calls.get_mut(&key) else {
            return Err(CommandError::CallNotFound(format!("no call {call_id}")));
        };
        if call.connection_count() < 2 {
            return Err(CommandError::NotSupported(format!(
                "nobody else is in call {call_id} to transfer"
            )));
        }
        let acd = call.queue.is_some();
        out.emit(SwitchEvent::Transferred {
            call_id: call_id.to_string(),
            secondary_call_id: None,
            device: device.to_string(),
            transferred_to: to.to_string(),
        });
        let departure = call
            .remove_connection(device)
            .map(|party| Departure::new(&party, acd));
        self.route(key, destination, out);
        self.departed(departure.into_iter().collect(), out);
        Ok(())
    }

    /// Hold the call and dial `to` from the same device; returns the consultation
    /// call's id.
    pub(super) fn transfer_consult(
        &mut self,
        call_id: &str,
        device: &str,
        to: &str,
        out: &mut Effects,
    ) -> Result<String, CommandError> {
        let key = self.call_key(call_id)?;
        let state = self.in_conversation(key, device, call_id)?;
        let destination = self.plan.classify(to)?;
        if to == device {
            return Err(CommandError::InvalidDestination(format!(
                "`{device}` cannot call itself"
            )));
        }
        self.not_in_call(key, to, call_id)?;
        if state == PartyState::Connected {
            self.set_party_state(key, device, PartyState::Held);
            out.emit(SwitchEvent::Held {
                call_id: call_id.to_string(),
                device: device.to_string(),
            });
        }
        Ok(self.originate(device, to, destination, out))
    }

    /// `device` leaves both calls; the consultation call's other party takes its place
    /// in `call_id`, which keeps its identity.
    pub(super) fn transfer_complete(
        &mut self,
        call_id: &str,
        device: &str,
        consult_call_id: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let (key, consult, others) = self.joinable(call_id, device, consult_call_id)?;
        let first = others.first().map(|p| p.device.clone()).unwrap_or_default();
        out.emit(SwitchEvent::Transferred {
            call_id: call_id.to_string(),
            secondary_call_id: Some(consult_call_id.to_string()),
            device: device.to_string(),
            transferred_to: first,
        });
        let mut departure = None;
        if let Some(consultation) = self.remove_call(consult) {
            departure = consultation
                .connection(device)
                .map(|party| Departure::new(party, consultation.queue.is_some()));
        }
        if let Some(call) = self.calls.get_mut(&key) {
            let acd = call.queue.is_some();
            if let Some(party) = call.remove_connection(device) {
                let left = Departure::new(&party, acd);
                departure = Some(match departure {
                    Some(other) => left.merge(other),
                    None => left,
                });
            }
        }
        self.adopt(key, others, out);
        self.departed(departure.into_iter().collect(), out);
        Ok(())
    }

    /// `device` joins its consultation call into `call_id` and is in the conversation
    /// again.
    pub(super) fn conference_consult(
        &mut self,
        call_id: &str,
        device: &str,
        consult_call_id: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let (key, consult, others) = self.joinable(call_id, device, consult_call_id)?;
        let first = others.first().map(|p| p.device.clone()).unwrap_or_default();
        out.emit(SwitchEvent::Conferenced {
            call_id: call_id.to_string(),
            secondary_call_id: Some(consult_call_id.to_string()),
            device: device.to_string(),
            added: first,
        });
        self.remove_call(consult);
        if self.party_state(key, device)? == PartyState::Held {
            self.set_party_state(key, device, PartyState::Connected);
        }
        self.adopt(key, others, out);
        Ok(())
    }

    /// Add `to` to the call directly, connected.
    pub(super) fn conference_add(
        &mut self,
        call_id: &str,
        device: &str,
        to: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        let key = self.call_key(call_id)?;
        let state = self.in_conversation(key, device, call_id)?;
        if let Destination::Queue(_) = self.plan.classify(to)? {
            return Err(CommandError::NotSupported(format!(
                "`{to}` is an ACD group; it cannot be conferenced in (transfer to it instead)"
            )));
        }
        self.not_in_call(key, to, call_id)?;
        if state == PartyState::Held {
            self.set_party_state(key, device, PartyState::Connected);
        }
        self.add_party(key, to, PartyState::Connected);
        out.emit(SwitchEvent::Conferenced {
            call_id: call_id.to_string(),
            secondary_call_id: None,
            device: device.to_string(),
            added: to.to_string(),
        });
        Ok(())
    }

    /// A supervisor joins the call (silent monitor, whisper and barge alike: the
    /// simulator carries no audio, so the mode changes nothing it can show).
    pub(super) fn monitor(
        &mut self,
        call_id: &str,
        device: &str,
        supervisor: &str,
        out: &mut Effects,
    ) -> Result<(), CommandError> {
        if !self.plan.is_device(supervisor) {
            return Err(CommandError::InvalidDestination(format!(
                "unknown supervisor device `{supervisor}`"
            )));
        }
        let key = self.call_key(call_id)?;
        self.party_state(key, device)?;
        self.not_in_call(key, supervisor, call_id)?;
        self.add_party(key, supervisor, PartyState::Connected);
        out.emit(SwitchEvent::Conferenced {
            call_id: call_id.to_string(),
            secondary_call_id: None,
            device: supervisor.to_string(),
            added: supervisor.to_string(),
        });
        Ok(())
    }

    /// `device`'s state when it is connected or holding in the call; else an error.
    fn in_conversation(
        &self,
        key: u64,
        device: &str,
        call_id: &str,
    ) -> Result<PartyState, CommandError> {
        let state = self.party_state(key, device)?;
        match state {
            PartyState::Connected | PartyState::Held => Ok(state),
            _ => Err(CommandError::NotSupported(format!(
                "{device} is {} in call {call_id}, not in the conversation",
                state_name(state)
            ))),
        }
    }

    fn not_in_call(&self, key: u64, number: &str, call_id: &str) -> Result<(), CommandError> {
        if self.in_call(key, number) {
            Err(CommandError::NotSupported(format!(
                "{number} is already in call {call_id}"
            )))
        } else {
            Ok(())
        }
    }

    /// Check that `device` can join `consult_call_id` into `call_id`; returns both
    /// keys and the consultation call's parties other than `device` (the ones that
    /// move).
    fn joinable(
        &self,
        call_id: &str,
        device: &str,
        consult_call_id: &str,
    ) -> Result<(u64, u64, Vec<Party>), CommandError> {
        let key = self.call_key(call_id)?;
        let consult = self.call_key(consult_call_id)?;
        if key == consult {
            return Err(CommandError::NotSupported(
                "a call cannot be joined with itself".into(),
            ));
        }
        self.party_state(key, device)?;
        self.party_state(consult, device)?;
        let others: Vec<Party> = self
            .calls
            .get(&consult)
            .map(|c| {
                c.connections()
                    .filter(|p| p.device != device)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if others.is_empty() {
            return Err(CommandError::NotSupported(format!(
                "consultation call {consult_call_id} has not reached anyone yet"
            )));
        }
        for party in &others {
            self.not_in_call(key, &party.device, call_id)?;
        }
        Ok((key, consult, others))
    }

    /// Parties from a merged consultation call join `key` in the state they had; one
    /// still ringing keeps its agent's pending answer.
    fn adopt(&mut self, key: u64, parties: Vec<Party>, out: &mut Effects) {
        for party in parties {
            let token = self.add_party(key, &party.device, party.state);
            if party.state == PartyState::Alerting {
                self.schedule_auto_answer(key, &party.device, token, out);
            }
        }
    }
}
