//! `[crm] lookup_sql`: callers looked up in an existing CRM schema, read-only.
//!
//! The statement may use the named parameters `:e164` (`+14155550123`), `:national`
//! (`4155550123`) and `:raw` (the ANI as the switch gave it). They become the
//! backend's placeholders (`$1…` on PostgreSQL, `?` elsewhere) and the values are
//! bound, never pasted into the text. Named parameters inside quoted strings or
//! identifiers, and PostgreSQL's `::` casts, are left alone.
//!
//! The statement must return the columns `id` (an integer) and `name`; `company`,
//! `url` and `external_id` are used when it returns them. The daemon runs it inside
//! `SELECT … FROM (statement) AS crm LIMIT 5`, which names exactly those columns
//! with fixed types whatever the CRM's own types are. [`LookupSql::prepare`] checks
//! all this against the live database at start-up, so a statement that cannot work
//! stops the daemon with a message naming it rather than failing every call.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::db::{AnyConn, Backend, DbError};
use super::models::ContactMatch;
use super::phone::Normalised;
use super::statement::{placeholders, StatementError};
use crate::on_conn;

/// The most contacts one look-up returns (as for the bridge's own tables).
const MAX_MATCHES: usize = 5;
const OPTIONAL: [&str; 3] = ["company", "url", "external_id"];

/// A named parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    E164,
    National,
    Raw,
}

/// A checked `lookup_sql`, ready to run on its backend.
#[derive(Debug, Clone)]
pub struct LookupSql {
    /// The statement with the backend's placeholders.
    inner: String,
    params: Vec<Param>,
    backend: Backend,
    /// The full query: the statement wrapped to give the fixed columns.
    query: String,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    company: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    url: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    external_id: Option<String>,
}

fn text_type(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "CHAR",
        Backend::Sqlite | Backend::Postgres => "TEXT",
    }
}

fn integer_type(backend: Backend) -> &'static str {
    match backend {
        Backend::Mysql => "SIGNED",
        Backend::Postgres => "BIGINT",
        Backend::Sqlite => "INTEGER",
    }
}

impl LookupSql {
    /// Check `sql` against the live database behind `conn` and prepare it.
    pub fn prepare(sql: &str, conn: &mut AnyConn) -> Result<LookupSql, StatementError> {
        let backend = conn.backend();
        let trimmed = sql.trim().trim_end_matches(';').trim();
        if trimmed.is_empty() {
            return Err(StatementError::Empty { key: "lookup_sql" });
        }
        let (inner, names) =
            placeholders(trimmed, backend, &["e164", "national", "raw"]).map_err(|error| {
                StatementError::Parameters {
                    error,
                    hint: "lookup_sql may use :e164, :national and :raw",
                }
            })?;
        let params = names
            .into_iter()
            .map(|name| match name {
                "e164" => Param::E164,
                "national" => Param::National,
                _ => Param::Raw,
            })
            .collect();
        let mut lookup = LookupSql {
            inner,
            params,
            backend,
            query: String::new(),
        };
        // The required columns, then each optional one on its own: a missing
        // optional column is fine, a missing required one is the error.
        lookup
            .probe(conn, "crm.id, crm.name")
            .map_err(|e| StatementError::Refused {
                check: "lookup_sql must return the columns `id` and `name`",
                error: e.to_string(),
            })?;
        let present: Vec<&str> = OPTIONAL
            .into_iter()
            .filter(|column| lookup.probe(conn, &format!("crm.{column}")).is_ok())
            .collect();
        let text = text_type(backend);
        let optional: Vec<String> = OPTIONAL
            .iter()
            .map(|column| {
                if present.contains(column) {
                    format!("CAST(crm.{column} AS {text}) AS {column}")
                } else {
                    format!("CAST(NULL AS {text}) AS {column}")
                }
            })
            .collect();
        lookup.query = format!(
            "SELECT CAST(crm.id AS {}) AS id, CAST(crm.name AS {text}) AS name, {} FROM ({}) AS crm LIMIT {MAX_MATCHES}",
            integer_type(backend),
            optional.join(", "),
            lookup.inner
        );
        // And the whole query once, with a number no one has.
        let probe = Normalised {
            e164: "+10000000000".into(),
            national: "0000000000".into(),
        };
        lookup
            .find(conn, "0000000000", &probe)
            .map_err(|e| StatementError::Refused {
                check: "lookup_sql failed on a test number",
                error: e.to_string(),
            })?;
        Ok(lookup)
    }

    fn values<'a>(&self, raw: &'a str, number: &'a Normalised) -> Vec<&'a str> {
        self.params
            .iter()
            .map(|p| match p {
                Param::E164 => number.e164.as_str(),
                Param::National => number.national.as_str(),
                Param::Raw => raw,
            })
            .collect()
    }

    /// Run `SELECT columns FROM (statement) AS crm WHERE 1 = 0`: the database checks
    /// the statement and the columns without reading a row.
    fn probe(&self, conn: &mut AnyConn, columns: &str) -> Result<(), diesel::result::Error> {
        let sql = format!("SELECT {columns} FROM ({}) AS crm WHERE 1 = 0", self.inner);
        let dummy = Normalised {
            e164: String::new(),
            national: String::new(),
        };
        let values = self.values("", &dummy);
        on_conn!(conn, c => {
            let mut query = diesel::sql_query(sql.as_str()).into_boxed();
            for value in &values {
                query = query.bind::<Text, _>(*value);
            }
            query.execute(c).map(drop)
        })
    }

    /// The CRM's contacts for a caller.
    pub fn find(
        &self,
        conn: &mut AnyConn,
        raw: &str,
        number: &Normalised,
    ) -> Result<Vec<ContactMatch>, DbError> {
        debug_assert_eq!(conn.backend(), self.backend);
        let values = self.values(raw, number);
        let rows: Vec<Row> = on_conn!(conn, c => {
            let mut query = diesel::sql_query(self.query.as_str()).into_boxed();
            for value in &values {
                query = query.bind::<Text, _>(*value);
            }
            query.load(c)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| ContactMatch {
                // Ids beyond 32 bits are kept as the external id's fallback.
                id: i32::try_from(row.id).unwrap_or(0),
                external_id: row
                    .external_id
                    .or_else(|| i32::try_from(row.id).is_err().then(|| row.id.to_string())),
                name: row.name,
                company: row.company,
                url: row.url,
                route: None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::db;

    fn crm() -> db::Pool {
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        on_conn!(&mut *conn, c => diesel::connection::SimpleConnection::batch_execute(c,
            "CREATE TABLE people (pid INTEGER PRIMARY KEY, full_name TEXT, mobile TEXT, firm TEXT);
             INSERT INTO people VALUES (7, 'Ada Lovelace', '4155550123', 'Analytical Engines');"))
        .unwrap();
        drop(conn);
        pool
    }

    #[test]
    fn looks_up_in_a_foreign_schema() {
        let pool = crm();
        let mut conn = pool.get().unwrap();
        let lookup = LookupSql::prepare(
            "SELECT pid AS id, full_name AS name, firm AS company FROM people WHERE mobile = :national",
            &mut conn,
        )
        .unwrap();
        let ada = Normalised {
            e164: "+14155550123".into(),
            national: "4155550123".into(),
        };
        let found = lookup.find(&mut conn, "4155550123", &ada).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, 7);
        assert_eq!(found[0].name, "Ada Lovelace");
        assert_eq!(found[0].company.as_deref(), Some("Analytical Engines"));
        assert_eq!(found[0].url, None);
        // A hostile ANI is a value, not SQL.
        let hostile = Normalised {
            e164: "+1".into(),
            national: "' OR '1'='1".into(),
        };
        assert!(lookup.find(&mut conn, "x", &hostile).unwrap().is_empty());
    }

    #[test]
    fn statements_that_cannot_work_are_named_at_start() {
        let pool = crm();
        let mut conn = pool.get().unwrap();
        let err = LookupSql::prepare("SELECT full_name FROM people", &mut conn).unwrap_err();
        assert!(err.to_string().contains("`id` and `name`"), "{err}");
        let err = LookupSql::prepare("SELECT pid AS id, full_name AS name FROM peeple", &mut conn)
            .unwrap_err();
        assert!(err.to_string().contains("peeple"), "{err}");
        let err = LookupSql::prepare("SELECT 1 AS id, 'x' AS name WHERE :phone = 1", &mut conn)
            .unwrap_err();
        assert!(err.to_string().contains(":phone"), "{err}");
    }
}
