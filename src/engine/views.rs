//! What clients see of a call and of an agent (docs/protocol.md "The call object" and
//! `agent.state`), as typed structs: snapshot entries and the `data` of `call.*` and
//! `agent.state` events are these, serialised. Field order is the wire's order (the
//! crate keeps JSON objects in insertion order), so the frames read as they always
//! have.

use chrono::{DateTime, Utc};
use ctibridge_adapter::PartyState;
use serde::Serialize;

use super::states::{CallOutcome, CallState, PhoneState};
use crate::crm::models::ContactMatch;

/// A call as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallView {
    pub call: String,
    pub switch: String,
    pub direction: &'static str,
    pub ani: Option<String>,
    pub ani_e164: Option<String>,
    pub dnis: Option<String>,
    pub queue: Option<String>,
    pub digits: Option<String>,
    pub client_ref: Option<String>,
    pub state: CallState,
    pub parties: Vec<PartyView>,
    pub crm: CrmView,
    pub offered_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// One device's connection to a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyView {
    pub device: String,
    pub state: PartyState,
}

/// The CRM's word on a call's caller: `service` and `campaign` appear only when the
/// dialled number has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrmView {
    pub matches: Vec<ContactMatch>,
    pub pending: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

/// The `data` of `call.ended`: the call as it was (its `state` `ended`), then how it
/// ended and its figures, as its log row has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndedCallView {
    #[serde(flatten)]
    pub call: CallView,
    pub cause: String,
    pub outcome: CallOutcome,
    pub ended_at: DateTime<Utc>,
    pub talk_s: Option<f64>,
    pub hold_s: Option<f64>,
    pub queue_s: Option<f64>,
    pub ring_s: Option<f64>,
    pub agent: Option<String>,
    pub extension: Option<String>,
    pub transferred_to: Option<String>,
}

/// An agent as clients see it (snapshot entries and `agent.state`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentView {
    pub agent: String,
    pub extension: String,
    pub switch: String,
    pub state: &'static str,
    pub reason: Option<String>,
    pub phone: PhoneState,
    pub since: DateTime<Utc>,
}

/// A view as the `data` of an event. The views hold strings, numbers and times only,
/// which always serialise; an object is what every event's `data` is.
pub fn to_data<T: Serialize>(view: &T) -> serde_json::Value {
    serde_json::to_value(view).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a view did not serialise");
        serde_json::Value::Object(serde_json::Map::new())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::calls::Call;
    use ctibridge_adapter::{AgentState, Direction};
    use serde_json::json;

    /// The views serialise to what the engine sent before they were typed: the same
    /// keys, in the same order, with the same values.
    #[test]
    fn views_keep_the_wire_shape() {
        let at: DateTime<Utc> = "2026-11-23T11:04:15Z".parse().unwrap();
        let mut call = Call::new("c1".into(), "pbx1", "7", Direction::In, at);
        call.ani = Some("4155550123".into());
        call.queue = Some("8001".into());
        call.set_party("8001", PartyState::Queued, true);
        call.crm.pending = true;
        call.crm.info.service = Some("Sales".into());
        let expected = json!({
            "call": "c1", "switch": "pbx1", "direction": "in", "ani": "4155550123",
            "ani_e164": null, "dnis": null, "queue": "8001", "digits": null,
            "client_ref": null, "state": "queued",
            "parties": [{"device": "8001", "state": "queued"}],
            "crm": {"matches": [], "pending": true, "service": "Sales"},
            "offered_at": at, "answered_at": null,
        });
        assert_eq!(to_data(&call.view()).to_string(), expected.to_string());

        let ended = EndedCallView {
            call: CallView {
                state: CallState::Ended,
                ..call.view()
            },
            cause: "normal_clearing".into(),
            outcome: CallOutcome::ShortAbandon,
            ended_at: at,
            talk_s: None,
            hold_s: Some(0.0),
            queue_s: Some(3.0),
            ring_s: None,
            agent: None,
            extension: None,
            transferred_to: None,
        };
        let mut expected = expected;
        expected["state"] = json!("ended");
        for (key, value) in [
            ("cause", json!("normal_clearing")),
            ("outcome", json!("short_abandon")),
            ("ended_at", json!(at)),
            ("talk_s", json!(null)),
            ("hold_s", json!(0.0)),
            ("queue_s", json!(3.0)),
            ("ring_s", json!(null)),
            ("agent", json!(null)),
            ("extension", json!(null)),
            ("transferred_to", json!(null)),
        ] {
            expected[key] = value;
        }
        assert_eq!(to_data(&ended).to_string(), expected.to_string());

        let agent = AgentView {
            agent: "1001".into(),
            extension: "1001".into(),
            switch: "pbx1".into(),
            state: AgentState::NotReady {
                reason: Some("lunch".into()),
            }
            .name(),
            reason: Some("lunch".into()),
            phone: PhoneState::Idle,
            since: at,
        };
        let expected = json!({
            "agent": "1001", "extension": "1001", "switch": "pbx1", "state": "not_ready",
            "reason": "lunch", "phone": "idle", "since": at,
        });
        assert_eq!(to_data(&agent).to_string(), expected.to_string());
    }
}
