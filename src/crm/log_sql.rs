//! `[crm] log_sql`: each call written into the CRM's own activity table as well as
//! the bridge's `call_log`, e.g.
//! `INSERT INTO activities (ref, phone, started, seconds) VALUES (:call_id, :ani_e164, :offered_at, :talk_s)`.
//!
//! The statement may use any `call_log` column as a named parameter (`:call_id`,
//! `:ani`, `:offered_at`, `:talk_s`, …); each is bound with its column's type. It
//! runs in the same transaction as the call's `call_log` row, so it is journaled
//! and replayed with it when the database is away, inside a savepoint so that a
//! failure of the CRM's statement cannot undo the bridge's own row:
//! - a duplicate key means the call was logged already (a replay): fine;
//! - a lost connection fails the batch, which goes to the journal and is retried;
//! - any other error (a constraint of the CRM's table) is logged with the call id
//!   and not retried, so one bad row cannot hold back every later write.
//!
//! [`LogSql::prepare`] runs the statement once at start-up with a sample call in a
//! transaction that is rolled back, so a statement that cannot work stops the start.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel::sql_types::{Double, Integer, Nullable, Text, Timestamp};

use super::db::{AnyConn, Backend};
use super::models::CallLogRow;
use super::statement::{placeholders, StatementError};
use crate::on_conn;

/// The named parameters: the `call_log` columns.
const COLUMNS: [&str; 21] = [
    "call_id",
    "switch",
    "direction",
    "ani",
    "ani_e164",
    "dnis",
    "queue",
    "agent",
    "extension",
    "contact_id",
    "offered_at",
    "answered_at",
    "ended_at",
    "queue_s",
    "ring_s",
    "talk_s",
    "hold_s",
    "acw_s",
    "outcome",
    "transferred_to",
    "source",
];

/// A checked `log_sql`.
#[derive(Debug, Clone)]
pub struct LogSql {
    sql: String,
    params: Vec<&'static str>,
    backend: Backend,
}

/// One bound value, with its SQL type.
enum Value<'a> {
    Text(Option<&'a str>),
    Integer(Option<i32>),
    Time(Option<NaiveDateTime>),
    Number(Option<f64>),
}

fn value<'a>(row: &'a CallLogRow, name: &str) -> Value<'a> {
    match name {
        "call_id" => Value::Text(Some(&row.call_id)),
        "switch" => Value::Text(Some(&row.switch)),
        "direction" => Value::Text(Some(&row.direction)),
        "ani" => Value::Text(row.ani.as_deref()),
        "ani_e164" => Value::Text(row.ani_e164.as_deref()),
        "dnis" => Value::Text(row.dnis.as_deref()),
        "queue" => Value::Text(row.queue.as_deref()),
        "agent" => Value::Text(row.agent.as_deref()),
        "extension" => Value::Text(row.extension.as_deref()),
        "contact_id" => Value::Integer(row.contact_id),
        "offered_at" => Value::Time(Some(row.offered_at)),
        "answered_at" => Value::Time(row.answered_at),
        "ended_at" => Value::Time(row.ended_at),
        "queue_s" => Value::Number(row.queue_s),
        "ring_s" => Value::Number(row.ring_s),
        "talk_s" => Value::Number(row.talk_s),
        "hold_s" => Value::Number(row.hold_s),
        "acw_s" => Value::Number(row.acw_s),
        "outcome" => Value::Text(Some(row.outcome.as_str())),
        "transferred_to" => Value::Text(row.transferred_to.as_deref()),
        _ => Value::Text(Some(&row.source)),
    }
}

impl LogSql {
    /// Check `sql` against the live database: run it with a sample call, then roll
    /// back.
    pub fn prepare(sql: &str, conn: &mut AnyConn) -> Result<LogSql, StatementError> {
        let backend = conn.backend();
        let trimmed = sql.trim().trim_end_matches(';').trim();
        if trimmed.is_empty() {
            return Err(StatementError::Empty { key: "log_sql" });
        }
        let (sql, params) =
            placeholders(trimmed, backend, &COLUMNS).map_err(|error| StatementError::Parameters {
                error,
                hint: "log_sql may use the call_log columns as parameters (:call_id, :ani, :offered_at, :talk_s, …)",
            })?;
        let log = LogSql {
            sql,
            params,
            backend,
        };
        let sample = CallLogRow {
            ani: Some("4155550123".into()),
            ani_e164: Some("+14155550123".into()),
            dnis: Some("8005550100".into()),
            queue: Some("8000".into()),
            agent: Some("1001".into()),
            extension: Some("1001".into()),
            queue_s: Some(1.0),
            ring_s: Some(1.0),
            talk_s: Some(1.0),
            ..CallLogRow::inbound(
                "ctibridge-log-sql-check",
                "check",
                chrono::Utc::now().naive_utc(),
            )
        };
        on_conn!(&mut *conn, c => c.batch_execute("BEGIN"))
            .map_err(|e| StatementError::Database(e.to_string()))?;
        let result = log.execute(conn, &sample);
        let _ = on_conn!(conn, c => c.batch_execute("ROLLBACK"));
        result.map_err(|e| StatementError::Refused {
            check: "log_sql failed on a sample call",
            error: e.to_string(),
        })?;
        Ok(log)
    }

    fn execute(&self, conn: &mut AnyConn, row: &CallLogRow) -> Result<usize, Error> {
        debug_assert_eq!(conn.backend(), self.backend);
        on_conn!(conn, c => {
            let mut query = diesel::sql_query(self.sql.as_str()).into_boxed();
            for name in &self.params {
                query = match value(row, name) {
                    Value::Text(v) => query.bind::<Nullable<Text>, _>(v),
                    Value::Integer(v) => query.bind::<Nullable<Integer>, _>(v),
                    Value::Time(v) => query.bind::<Nullable<Timestamp>, _>(v),
                    Value::Number(v) => query.bind::<Nullable<Double>, _>(v),
                };
            }
            query.execute(c)
        })
    }

    /// Log `row` in the CRM, inside the caller's transaction (see the module doc
    /// for what each failure does).
    pub fn log(&self, conn: &mut AnyConn, row: &CallLogRow) -> Result<(), Error> {
        on_conn!(&mut *conn, c => c.batch_execute("SAVEPOINT ctibridge_log"))?;
        match self.execute(conn, row) {
            Ok(_) => {
                on_conn!(conn, c => c.batch_execute("RELEASE SAVEPOINT ctibridge_log"))?;
                Ok(())
            }
            Err(e) => {
                on_conn!(&mut *conn, c => c.batch_execute(
                    "ROLLBACK TO SAVEPOINT ctibridge_log; RELEASE SAVEPOINT ctibridge_log"
                ))?;
                match e {
                    Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                        tracing::debug!(call = %row.call_id, "log_sql: the call was logged already");
                        Ok(())
                    }
                    Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => Err(e),
                    Error::DatabaseError(_, info) => {
                        tracing::error!(call = %row.call_id, error = %info.message(),
                            "log_sql failed for this call; it is in call_log, not in the CRM's table");
                        Ok(())
                    }
                    other => Err(other),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::db;

    #[test]
    fn logs_calls_into_a_crm_table_once() {
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        on_conn!(&mut *conn, c => c.batch_execute(
            "CREATE TABLE activities (ref TEXT PRIMARY KEY, phone TEXT, started TIMESTAMP, seconds REAL)"))
        .unwrap();
        let log = LogSql::prepare(
            "INSERT INTO activities (ref, phone, started, seconds) VALUES (:call_id, :ani_e164, :offered_at, :talk_s)",
            &mut conn,
        )
        .unwrap();
        let count = |conn: &mut AnyConn| -> i64 {
            on_conn!(conn, c => diesel::sql_query("SELECT COUNT(*) AS n FROM activities")
                .get_result::<Count>(c))
            .unwrap()
            .n
        };
        assert_eq!(count(&mut conn), 0, "the start-up check was rolled back");
        let row = CallLogRow {
            call_id: "c1".into(),
            talk_s: Some(42.5),
            ..sample_row()
        };
        log.log(&mut conn, &row).unwrap();
        log.log(&mut conn, &row).unwrap();
        assert_eq!(count(&mut conn), 1, "a replay is taken as logged");
        let err = LogSql::prepare("INSERT INTO activitees (ref) VALUES (:call_id)", &mut conn)
            .unwrap_err();
        assert!(err.to_string().contains("activitees"), "{err}");
        let err = LogSql::prepare("INSERT INTO activities (ref) VALUES (:callid)", &mut conn)
            .unwrap_err();
        assert!(err.to_string().contains("`:callid`"), "{err}");
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn sample_row() -> CallLogRow {
        CallLogRow {
            ani_e164: Some("+14155550123".into()),
            ..CallLogRow::inbound("", "pbx", chrono::Utc::now().naive_utc())
        }
    }
}
