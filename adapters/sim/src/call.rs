//! One call in the simulated switch: its parties (connections, CSTA-style) and what
//! travels with it (ANI, DNIS, queue, IVR digits).

use ctibridge_adapter::{PartySnapshot, PartyState, SnapshotCall};

/// One device's connection to a call. A call waiting in an ACD group has a pseudo-party
/// for the group in state [`PartyState::Queued`]: it shows in snapshots, but it is not a
/// connection (no `ConnectionCleared` is reported for it and it does not count when
/// deciding whether a call still has two parties).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Party {
    pub device: String,
    pub state: PartyState,
    /// Changes with every state change, so a timer scheduled for one state (ringing,
    /// connected) can tell that the state has moved on since.
    pub token: u64,
}

impl Party {
    pub(crate) fn is_connection(&self) -> bool {
        self.state != PartyState::Queued
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub id: u64,
    /// ANI.
    pub calling: Option<String>,
    /// DNIS.
    pub called: Option<String>,
    /// The ACD group the call came through (or was transferred to).
    pub queue: Option<String>,
    pub digits: Option<String>,
    pub parties: Vec<Party>,
    /// The outside party whose simulated human hangs up `talk_ms` after an answer: the
    /// caller of an inbound call, the far end of a dialled outside call.
    pub remote: Option<String>,
    /// Came in from outside (the generator, `SimulateInbound`, `SimControl::ring`):
    /// only those callers abandon and get put on simulated hold.
    pub inbound: bool,
    /// Someone answered; an answered call is never abandoned.
    pub answered: bool,
    /// Changes with every answer, so a pending "remote hangs up" from an earlier
    /// conversation (before a transfer) is recognised as stale.
    pub talk_epoch: u64,
}

impl Call {
    pub(crate) fn id_string(&self) -> String {
        self.id.to_string()
    }

    /// `device`'s connection (never the queue pseudo-party).
    pub(crate) fn connection(&self, device: &str) -> Option<&Party> {
        self.parties
            .iter()
            .find(|p| p.is_connection() && p.device == device)
    }

    pub(crate) fn connection_mut(&mut self, device: &str) -> Option<&mut Party> {
        self.parties
            .iter_mut()
            .find(|p| p.is_connection() && p.device == device)
    }

    pub(crate) fn connections(&self) -> impl Iterator<Item = &Party> {
        self.parties.iter().filter(|p| p.is_connection())
    }

    pub(crate) fn connection_count(&self) -> usize {
        self.connections().count()
    }

    /// Remove `device`'s connection and return it.
    pub(crate) fn remove_connection(&mut self, device: &str) -> Option<Party> {
        let index = self
            .parties
            .iter()
            .position(|p| p.is_connection() && p.device == device)?;
        Some(self.parties.remove(index))
    }

    /// The ACD group the call is waiting in, if it is waiting.
    pub(crate) fn waiting_in(&self) -> Option<&str> {
        self.parties
            .iter()
            .find(|p| !p.is_connection())
            .map(|p| p.device.as_str())
    }

    pub(crate) fn snapshot(&self) -> SnapshotCall {
        SnapshotCall {
            call_id: self.id_string(),
            calling: self.calling.clone(),
            called: self.called.clone(),
            queue: self.queue.clone(),
            parties: self
                .parties
                .iter()
                .map(|p| PartySnapshot {
                    device: p.device.clone(),
                    state: p.state,
                })
                .collect(),
        }
    }
}
