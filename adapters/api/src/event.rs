//! The normalised switch event model.
//!
//! It is shaped after CSTA (ECMA-269) because that is the model the industry uses:
//! a call is a set of connections between devices, and events report what happened
//! to one connection. Every event keeps the switch's own call id (`call_id`) so the
//! engine can map it to its stable id; numbers are kept as the switch gave them.

use crate::switch_time::SwitchTime;
use serde::{Deserialize, Serialize};

/// One event from an adapter, with the raw frame it came from (for diagnostics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterEvent {
    pub event: SwitchEvent,
    /// The switch's frame or record line, when the adapter keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl From<SwitchEvent> for AdapterEvent {
    fn from(event: SwitchEvent) -> Self {
        AdapterEvent { event, raw: None }
    }
}

/// What a switch reported, normalised. Serialised with `kind` in snake_case, the form
/// `ctibridge decode` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SwitchEvent {
    /// A call is ringing (alerting) at `device`. `calling` is the ANI, `called` the DNIS.
    Delivered {
        call_id: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calling: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        called: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        original_called: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trunk: Option<String>,
        /// The ACD group the call came through, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// Digits the caller entered in an IVR, or user data attached by the switch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        digits: Option<String>,
    },
    /// `device` went off-hook / started a call to `called`.
    Originated {
        call_id: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        called: Option<String>,
    },
    /// `device` answered (or the far end `device` answered our outbound call).
    Established {
        call_id: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calling: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        called: Option<String>,
    },
    Held {
        call_id: String,
        device: String,
    },
    Retrieved {
        call_id: String,
        device: String,
    },
    /// `device` transferred the call to `transferred_to` and left it. For a consultation
    /// transfer, `secondary_call_id` is the consultation call that was merged into
    /// `call_id` (the call with the customer, which keeps its identity).
    Transferred {
        call_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secondary_call_id: Option<String>,
        device: String,
        transferred_to: String,
    },
    /// `added` joined the call `call_id` by `device`'s conference. For a consultation
    /// conference, `secondary_call_id` was merged into `call_id`.
    Conferenced {
        call_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secondary_call_id: Option<String>,
        device: String,
        added: String,
    },
    /// The call left `device` (forwarded, picked up elsewhere, redirected) for `to`.
    Diverted {
        call_id: String,
        device: String,
        to: String,
    },
    /// The call waits in ACD group `queue`.
    Queued {
        call_id: String,
        queue: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calling: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        called: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        digits: Option<String>,
    },
    /// `device`'s connection to the call was released.
    ConnectionCleared {
        call_id: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// The call could not be completed at `device` (busy, invalid number, …).
    Failed {
        call_id: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    LoggedOn {
        agent: String,
        device: String,
    },
    LoggedOff {
        agent: String,
        device: String,
    },
    Ready {
        agent: String,
        device: String,
    },
    NotReady {
        agent: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// After-call work.
    WorkNotReady {
        agent: String,
        device: String,
    },
    /// The switch asks where to send a call (data-directed routing); answer with
    /// [`crate::Command::RouteSelect`].
    RouteRequest {
        route_id: String,
        call_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calling: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        called: Option<String>,
    },
    /// A completed-call record (SMDR/CDR).
    CallRecord(CallRecord),
    /// The link to the switch is up and monitoring is in place.
    LinkUp,
    /// The link to the switch is down; the adapter is reconnecting.
    LinkDown {
        reason: String,
    },
    /// The switch's current calls and agents, sent after every `LinkUp` so the engine
    /// can drop calls that ended during an outage and adopt ones that started.
    Snapshot(Snapshot),
}

impl SwitchEvent {
    /// The switch's call id this event is about, if it is about a call.
    pub fn call_id(&self) -> Option<&str> {
        use SwitchEvent::*;
        match self {
            Delivered { call_id, .. }
            | Originated { call_id, .. }
            | Established { call_id, .. }
            | Held { call_id, .. }
            | Retrieved { call_id, .. }
            | Transferred { call_id, .. }
            | Conferenced { call_id, .. }
            | Diverted { call_id, .. }
            | Queued { call_id, .. }
            | ConnectionCleared { call_id, .. }
            | Failed { call_id, .. }
            | RouteRequest { call_id, .. } => Some(call_id),
            CallRecord(record) => record.call_id.as_deref(),
            _ => None,
        }
    }

    /// The snake_case name of the event's kind, as serialised.
    pub fn kind(&self) -> &'static str {
        use SwitchEvent::*;
        match self {
            Delivered { .. } => "delivered",
            Originated { .. } => "originated",
            Established { .. } => "established",
            Held { .. } => "held",
            Retrieved { .. } => "retrieved",
            Transferred { .. } => "transferred",
            Conferenced { .. } => "conferenced",
            Diverted { .. } => "diverted",
            Queued { .. } => "queued",
            ConnectionCleared { .. } => "connection_cleared",
            Failed { .. } => "failed",
            LoggedOn { .. } => "logged_on",
            LoggedOff { .. } => "logged_off",
            Ready { .. } => "ready",
            NotReady { .. } => "not_ready",
            WorkNotReady { .. } => "work_not_ready",
            RouteRequest { .. } => "route_request",
            CallRecord(_) => "call_record",
            LinkUp => "link_up",
            LinkDown { .. } => "link_down",
            Snapshot(_) => "snapshot",
        }
    }
}

/// Direction of a call as the switch sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
    Internal,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Internal => "internal",
        }
    }
}

/// A completed-call record from an SMDR/CDR stream.
///
/// `start` is the time the switch printed ([`SwitchTime`]): with its offset when
/// the switch's `utc_offset` is configured, otherwise the switch's local time. In
/// JSON a local `start` has no offset and is followed by `"start_zone":
/// "switch-local"`, so a reader never takes it for UTC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "CallRecordJson")]
pub struct CallRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<SwitchTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// [`CallRecord`] as it is written: its fields in order, with `start_zone` after a
/// `start` that has no offset.
#[derive(Serialize)]
struct CallRecordJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    call_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<SwitchTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_zone: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ring_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trunk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calling: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    called: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dialed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
}

impl From<CallRecord> for CallRecordJson {
    fn from(r: CallRecord) -> Self {
        CallRecordJson {
            call_id: r.call_id,
            start_zone: r.start.filter(SwitchTime::is_local).map(|_| "switch-local"),
            start: r.start,
            duration_s: r.duration_s,
            ring_s: r.ring_s,
            direction: r.direction,
            extension: r.extension,
            trunk: r.trunk,
            calling: r.calling,
            called: r.called,
            dialed: r.dialed,
            answered: r.answered,
            transfer_to: r.transfer_to,
            account: r.account,
        }
    }
}

/// An ACD agent's state, as the switch knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentState {
    LoggedOut,
    Ready,
    NotReady {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// After-call work.
    Acw,
}

impl AgentState {
    /// The state's name in the WebSocket API and the agent-state journal.
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged_out",
            AgentState::Ready => "ready",
            AgentState::NotReady { .. } => "not_ready",
            AgentState::Acw => "acw",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            AgentState::NotReady { reason } => reason.as_deref(),
            _ => None,
        }
    }
}

/// What one device's connection to a call is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyState {
    /// Ringing at the device.
    Alerting,
    /// Dialling / ringback at the calling device.
    Initiated,
    Connected,
    Held,
    /// Waiting in an ACD queue.
    Queued,
}

/// The switch's view of all current calls and agents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub calls: Vec<SnapshotCall>,
    pub agents: Vec<AgentSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotCall {
    pub call_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    pub parties: Vec<PartySnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartySnapshot {
    pub device: String,
    pub state: PartyState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    pub agent: String,
    pub device: String,
    #[serde(flatten)]
    pub state: AgentState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_snake_case_kind() {
        let event = SwitchEvent::ConnectionCleared {
            call_id: "42".into(),
            device: "1001".into(),
            cause: Some("normal_clearing".into()),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "connection_cleared");
        assert_eq!(json["call_id"], "42");
        assert_eq!(event.kind(), "connection_cleared");
        let back: SwitchEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn agent_snapshot_flattens_state() {
        let agent = AgentSnapshot {
            agent: "5001".into(),
            device: "1001".into(),
            state: AgentState::NotReady {
                reason: Some("lunch".into()),
            },
        };
        let json = serde_json::to_value(&agent).unwrap();
        assert_eq!(json["state"], "not_ready");
        assert_eq!(json["reason"], "lunch");
    }
}
