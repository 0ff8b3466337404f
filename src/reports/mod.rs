//! Call-centre reports from the recorded data (DESIGN.md "Report figures"): queue
//! statistics from the call log, agent time from the agent-state journal.
//!
//! Rows for the period are loaded with diesel and the figures computed here in Rust,
//! so every database backend gives the same numbers.
//!
//! - [`period`]: reading `--from`/`--to` (RFC 3339 or a date).
//! - [`queues`], [`agents`]: the two reports.
//! - [`render`]: JSON, CSV and table output.

pub mod agents;
pub mod period;
pub mod queues;
pub mod render;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crm::db::{AnyConn, DbError};
use crate::crm::models::{AgentStateRow, CallLogRow};
use crate::crm::schema::{agent_states, call_log};
use crate::on_conn;

/// Report thresholds, from `[reports]`.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub service_level_s: f64,
    pub short_abandon_s: f64,
}

/// Calls offered in `[from, to)`.
pub fn load_calls(
    conn: &mut AnyConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CallLogRow>, DbError> {
    Ok(on_conn!(conn, c => call_log::table
        .filter(call_log::offered_at.ge(from))
        .filter(call_log::offered_at.lt(to))
        .select(CallLogRow::as_select())
        .load(c))?)
}

/// Calls that overlap `[from, to)`: offered before its end and not ended before its
/// start (the agent report splits a call across periods).
pub fn load_calls_overlapping(
    conn: &mut AnyConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CallLogRow>, DbError> {
    Ok(on_conn!(conn, c => call_log::table
        .filter(call_log::offered_at.lt(to))
        .filter(call_log::ended_at.is_null().or(call_log::ended_at.ge(from)))
        .select(CallLogRow::as_select())
        .load(c))?)
}

/// Agent states that overlap `[from, to)`.
pub fn load_states(
    conn: &mut AnyConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<AgentStateRow>, DbError> {
    Ok(on_conn!(conn, c => agent_states::table
        .filter(agent_states::started_at.lt(to))
        .filter(
            agent_states::ended_at
                .is_null()
                .or(agent_states::ended_at.gt(from)),
        )
        .select(AgentStateRow::as_select())
        .load(c))?)
}

/// A ratio, 0 when the base is empty.
pub(crate) fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        part / whole
    } else {
        0.0
    }
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Agents,
    Queues,
}

/// A report for `[from, to)` as the JSON DESIGN.md gives.
pub fn build(
    conn: &mut AnyConn,
    kind: Kind,
    from: NaiveDateTime,
    to: NaiveDateTime,
    thresholds: Thresholds,
) -> Result<serde_json::Value, DbError> {
    Ok(match kind {
        Kind::Queues => {
            let calls = load_calls(conn, from, to)?;
            render::queues_json(from, to, &queues::queue_report(&calls, thresholds))
        }
        Kind::Agents => {
            let calls = load_calls_overlapping(conn, from, to)?;
            let states = load_states(conn, from, to)?;
            let now = chrono::Utc::now().naive_utc();
            render::agents_json(
                from,
                to,
                &agents::agent_report(&states, &calls, from, to, now),
            )
        }
    })
}
