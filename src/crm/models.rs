//! Rows the bridge writes and reads, as Rust structs.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::outcome::CallOutcome;
use super::schema::{agent_states, call_log};

/// One call's log row (DESIGN.md "Stored data").
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, Insertable, Queryable, Selectable, AsChangeset,
)]
#[diesel(table_name = call_log)]
#[diesel(treat_none_as_null = true)]
pub struct CallLogRow {
    pub call_id: String,
    pub switch: String,
    pub direction: String,
    pub ani: Option<String>,
    pub ani_e164: Option<String>,
    pub dnis: Option<String>,
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub extension: Option<String>,
    pub contact_id: Option<i32>,
    pub offered_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub queue_s: Option<f64>,
    pub ring_s: Option<f64>,
    pub talk_s: Option<f64>,
    pub hold_s: Option<f64>,
    pub acw_s: Option<f64>,
    pub outcome: CallOutcome,
    pub transferred_to: Option<String>,
    pub source: String,
    pub raw: Option<String>,
}

impl CallLogRow {
    /// A row with only what every call has: an inbound CTI call offered at
    /// `offered_at`, outcome `answered`, every figure absent. Callers fill in the
    /// rest with struct update syntax.
    pub fn inbound(call_id: &str, switch: &str, offered_at: NaiveDateTime) -> CallLogRow {
        CallLogRow {
            call_id: call_id.into(),
            switch: switch.into(),
            direction: "in".into(),
            ani: None,
            ani_e164: None,
            dnis: None,
            queue: None,
            agent: None,
            extension: None,
            contact_id: None,
            offered_at,
            answered_at: None,
            ended_at: None,
            queue_s: None,
            ring_s: None,
            talk_s: None,
            hold_s: None,
            acw_s: None,
            outcome: CallOutcome::Answered,
            transferred_to: None,
            source: "cti".into(),
            raw: None,
        }
    }
}

/// One stretch of an agent's time in one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Insertable, Queryable, Selectable)]
#[diesel(table_name = agent_states)]
pub struct AgentStateRow {
    pub id: String,
    pub agent: String,
    pub extension: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

/// A contact found for a caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactMatch {
    pub id: i32,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Where the switch should route this contact's calls when it asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}
