//! The writes the bridge makes to its database, and applying a batch of them in one
//! transaction. Every write is idempotent (upserts keyed by the row's own id), so a
//! batch replayed from the journal after a crash may safely be applied twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::db::{AnyConn, DbError};
use super::log_sql::LogSql;
use super::models::{AgentStateRow, CallLogRow};
use super::schema::{agent_states, call_log};
use crate::on_conn;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DbWrite {
    /// Insert or replace a call's row.
    CallLog(Box<CallLogRow>),
    /// The after-call work that followed a call, known only when the agent leaves ACW.
    CallAcw { call_id: String, acw_s: f64 },
    /// An agent entered a state.
    AgentStateStart(AgentStateRow),
    /// An agent left the state begun in row `id`.
    AgentStateEnd { id: String, ended_at: NaiveDateTime },
    /// A call record (SMDR/CDR) no live call matched: its own row, unless a row with
    /// `record_key` is there already (the switch replayed it, perhaps before a restart).
    CallRecord {
        row: Box<CallLogRow>,
        record_key: String,
    },
    /// A call record that completes the live call `call_id`'s row: its raw lines and
    /// key, and the transfer target when the call did not report one. Nothing when
    /// the key is there already.
    CallRecordMerge {
        call_id: String,
        record_key: String,
        raw: String,
        transferred_to: Option<String>,
    },
}

/// Whether a call record with this key has been stored.
pub fn record_stored(conn: &mut AnyConn, record_key: &str) -> Result<bool, DbError> {
    Ok(stored(conn, record_key)?)
}

/// Close agent-state rows an earlier run left open (it stopped or died while agents
/// were logged on) at `at`, the new run's start: the switch's snapshot opens fresh
/// rows, and a row left open would count time until the end of every report.
/// Returns how many rows were closed.
pub fn close_open_states(conn: &mut AnyConn, at: NaiveDateTime) -> Result<usize, DbError> {
    Ok(on_conn!(conn, c => diesel::update(
        agent_states::table.filter(agent_states::ended_at.is_null())
    )
    .set(agent_states::ended_at.eq(at))
    .execute(c))?)
}

/// Apply `writes` in order, in one transaction.
///
/// The same statements on every backend: an upsert is an update that, finding no
/// row, becomes an insert (the gate is the only writer, and MySQL counts matched rows
/// here, as the other two do), and an insert that must not repeat checks first.
/// With `log`, every call row is also written into the CRM's table (`log_sql`).
pub fn apply(conn: &mut AnyConn, writes: &[DbWrite], log: Option<&LogSql>) -> Result<(), DbError> {
    conn.write_transaction(|conn| {
        for write in writes {
            apply_one(conn, write, log)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn apply_one(
    conn: &mut AnyConn,
    write: &DbWrite,
    log: Option<&LogSql>,
) -> Result<(), diesel::result::Error> {
    match write {
        DbWrite::CallLog(row) => {
            let row: &CallLogRow = row;
            let updated = on_conn!(&mut *conn, c => diesel::update(call_log::table.find(&row.call_id))
                .set(row)
                .execute(c))?;
            if updated == 0 {
                on_conn!(&mut *conn, c => diesel::insert_into(call_log::table).values(row).execute(c))?;
            }
            if let Some(log) = log {
                log.log(conn, row)?;
            }
        }
        DbWrite::CallAcw { call_id, acw_s } => {
            on_conn!(conn, c => diesel::update(call_log::table.find(call_id))
                .set(call_log::acw_s.eq(acw_s))
                .execute(c))?;
        }
        DbWrite::AgentStateStart(row) => {
            let there: bool = on_conn!(&mut *conn, c => diesel::select(diesel::dsl::exists(
                agent_states::table.find(&row.id),
            ))
            .get_result(c))?;
            if !there {
                on_conn!(conn, c => diesel::insert_into(agent_states::table).values(row).execute(c))?;
            }
        }
        DbWrite::CallRecord { row, record_key } => {
            let row: &CallLogRow = row;
            let there: bool = on_conn!(&mut *conn, c => diesel::select(diesel::dsl::exists(
                call_log::table.find(&row.call_id),
            ))
            .get_result(c))?;
            if !there && !stored(conn, record_key)? {
                on_conn!(&mut *conn, c => diesel::insert_into(call_log::table)
                    .values((row, call_log::record_key.eq(record_key)))
                    .execute(c))?;
                if let Some(log) = log {
                    log.log(conn, row)?;
                }
            }
        }
        DbWrite::CallRecordMerge {
            call_id,
            record_key,
            raw,
            transferred_to,
        } => {
            if !stored(conn, record_key)? {
                on_conn!(&mut *conn, c => diesel::update(call_log::table.find(call_id))
                    .set((call_log::raw.eq(raw), call_log::record_key.eq(record_key)))
                    .execute(c))?;
                if let Some(to) = transferred_to {
                    on_conn!(conn, c => diesel::update(
                        call_log::table
                            .find(call_id)
                            .filter(call_log::transferred_to.is_null()),
                    )
                    .set(call_log::transferred_to.eq(to))
                    .execute(c))?;
                }
            }
        }
        DbWrite::AgentStateEnd { id, ended_at } => {
            on_conn!(conn, c => diesel::update(agent_states::table.find(id))
                .set(agent_states::ended_at.eq(ended_at))
                .execute(c))?;
        }
    }
    Ok(())
}

fn stored(conn: &mut AnyConn, record_key: &str) -> Result<bool, diesel::result::Error> {
    on_conn!(conn, c => diesel::select(diesel::dsl::exists(
        call_log::table.filter(call_log::record_key.eq(record_key)),
    ))
    .get_result(c))
}
