//! Looking callers up: ANI → contacts, DNIS → service.
//!
//! Exact E.164 first (indexed); when that finds nothing, numbers that end in the
//! caller's national significant number (contacts stored with a different country
//! code or trunk prefix). The queries run on a blocking thread and the engine never
//! waits for them (see `engine::pops`), except a look-up in the bridge's own contacts
//! on SQLite with a connection free at once, which the engine runs itself (see
//! `engine::driver`).

use std::sync::{Arc, OnceLock};

use diesel::prelude::*;
use serde::Serialize;

use super::db::{AnyConn, DbError};
use super::lookup_sql::LookupSql;
use super::models::ContactMatch;
use super::phone::{self, Normalised};
use super::schema::{contact_phones, contacts, dnis_services};
use super::statement::StatementError;
use crate::on_conn;

/// At most this many contacts are returned for one number.
pub const MAX_MATCHES: i64 = 10;
/// Shorter national numbers are too ambiguous for a suffix match.
const MIN_SUFFIX_DIGITS: usize = 7;

/// What the CRM knows about a call's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallerInfo {
    pub matches: Vec<ContactMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

type ContactColumns = (
    contacts::id,
    contacts::name,
    contacts::company,
    contacts::url,
    contacts::external_id,
    contacts::route,
);
const CONTACT_COLUMNS: ContactColumns = (
    contacts::id,
    contacts::name,
    contacts::company,
    contacts::url,
    contacts::external_id,
    contacts::route,
);

type ContactTuple = (
    i32,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn to_match((id, name, company, url, external_id, route): ContactTuple) -> ContactMatch {
    ContactMatch {
        id,
        name,
        company,
        url,
        external_id,
        route,
    }
}

/// Contacts whose numbers match `number`.
pub fn find_contacts(
    conn: &mut AnyConn,
    number: &Normalised,
) -> Result<Vec<ContactMatch>, DbError> {
    let exact: Vec<ContactTuple> = on_conn!(conn, c => contacts::table
        .inner_join(contact_phones::table)
        .filter(contact_phones::phone_e164.eq(&number.e164))
        .select(CONTACT_COLUMNS)
        .distinct()
        .order(contacts::id)
        .limit(MAX_MATCHES)
        .load(c))?;
    if !exact.is_empty() || number.national.len() < MIN_SUFFIX_DIGITS {
        return Ok(exact.into_iter().map(to_match).collect());
    }
    // The pattern is a bound parameter; `national` is digits only, so it holds no
    // LIKE wildcards.
    let pattern = format!("%{}", number.national);
    let suffix: Vec<ContactTuple> = on_conn!(conn, c => contacts::table
        .inner_join(contact_phones::table)
        .filter(contact_phones::phone_e164.like(&pattern))
        .select(CONTACT_COLUMNS)
        .distinct()
        .order(contacts::id)
        .limit(MAX_MATCHES)
        .load(c))?;
    Ok(suffix.into_iter().map(to_match).collect())
}

/// A `lookup_sql` checked against the live database, or why it cannot be used.
type CheckedSql = Result<LookupSql, StatementError>;

/// How callers are found: in the bridge's own contacts, or with `[crm] lookup_sql`
/// in the CRM's schema; numbers read as in `country`.
#[derive(Debug, Clone)]
pub struct CallerLookup {
    pub country: String,
    /// `None`: the bridge's own contacts. Otherwise the statement, filled in once it
    /// has been checked against the database (which may be reached only after the
    /// daemon started).
    sql: Option<Arc<OnceLock<CheckedSql>>>,
}

impl CallerLookup {
    pub fn own_contacts(country: &str) -> CallerLookup {
        CallerLookup {
            country: country.to_string(),
            sql: None,
        }
    }

    /// Whether callers are looked up in the bridge's own contacts (no `lookup_sql`).
    pub fn own(&self) -> bool {
        self.sql.is_none()
    }

    /// Look callers up with a checked `lookup_sql`.
    pub fn with_sql(country: &str, sql: LookupSql) -> CallerLookup {
        let lookup = CallerLookup::sql_pending(country);
        lookup.set_sql(Ok(sql));
        lookup
    }

    /// Look callers up with a `lookup_sql` still to be checked ([`Self::set_sql`]);
    /// until then look-ups fail (the database is not reachable yet anyway).
    pub fn sql_pending(country: &str) -> CallerLookup {
        CallerLookup {
            country: country.to_string(),
            sql: Some(Arc::new(OnceLock::new())),
        }
    }

    /// The outcome of checking `lookup_sql`. A statement that failed its check makes
    /// every look-up fail with that reason (logged with each call) rather than
    /// quietly search the bridge's own, empty, contacts.
    pub fn set_sql(&self, checked: CheckedSql) {
        if let Some(cell) = &self.sql {
            let _ = cell.set(checked);
        }
    }

    /// The contacts a number (as the switch or a client gave it) belongs to.
    pub fn contacts(&self, conn: &mut AnyConn, raw: &str) -> Result<Vec<ContactMatch>, DbError> {
        let Some(number) = phone::normalise(raw, &self.country) else {
            return Ok(Vec::new());
        };
        match self.sql.as_deref().map(OnceLock::get) {
            None => find_contacts(conn, &number),
            Some(Some(Ok(sql))) => sql.find(conn, raw, &number),
            Some(Some(Err(e))) => Err(DbError::Statement(format!(
                "[crm] lookup_sql is not in use: {e}"
            ))),
            Some(None) => Err(DbError::NotReady(
                "[crm] lookup_sql is not checked yet".into(),
            )),
        }
    }
}

/// Look up a call's caller (by `ani`) and service (by `dnis`).
pub fn lookup_call(
    conn: &mut AnyConn,
    ani: Option<&str>,
    dnis: Option<&str>,
    lookup: &CallerLookup,
) -> Result<CallerInfo, DbError> {
    let mut info = CallerInfo::default();
    if let Some(ani) = ani {
        info.matches = lookup.contacts(conn, ani)?;
    }
    if let Some(dnis) = dnis {
        let service: Option<(String, Option<String>)> = on_conn!(conn, c => dnis_services::table
            .find(dnis)
            .select((dnis_services::service, dnis_services::campaign))
            .first(c)
            .optional())?;
        if let Some((service, campaign)) = service {
            info.service = Some(service);
            info.campaign = campaign;
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::db;
    use crate::crm::import::{import_contacts, ImportRow};

    fn seeded() -> db::Pool {
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        let rows = vec![
            ImportRow::new("Ada Lovelace", "+14155550123", Some("Analytical Engines")),
            ImportRow::new("Grace Hopper", "+442079460000", None),
        ];
        import_contacts(&mut conn, &rows, "US").unwrap();
        on_conn!(&mut *conn, c => diesel::insert_into(dnis_services::table)
            .values((
                dnis_services::dnis.eq("8005550100"),
                dnis_services::service.eq("Sales"),
            ))
            .execute(c))
        .unwrap();
        pool
    }

    #[test]
    fn exact_and_national_forms_match() {
        let pool = seeded();
        let mut conn = pool.get().unwrap();
        for ani in ["+14155550123", "4155550123", "14155550123"] {
            let info = lookup_call(
                &mut conn,
                Some(ani),
                Some("8005550100"),
                &CallerLookup::own_contacts("US"),
            )
            .unwrap();
            assert_eq!(info.matches.len(), 1, "{ani}");
            assert_eq!(info.matches[0].name, "Ada Lovelace");
            assert_eq!(
                info.matches[0].company.as_deref(),
                Some("Analytical Engines")
            );
            assert_eq!(info.service.as_deref(), Some("Sales"));
        }
    }

    #[test]
    fn suffix_match_across_countries() {
        let pool = seeded();
        let mut conn = pool.get().unwrap();
        // Stored as +44…; the switch reports the national number read as a US caller
        // would not be valid, but read in GB it is.
        let info = lookup_call(
            &mut conn,
            Some("02079460000"),
            None,
            &CallerLookup::own_contacts("GB"),
        )
        .unwrap();
        assert_eq!(info.matches[0].name, "Grace Hopper");
    }

    #[test]
    fn unknown_and_internal_callers_match_nothing() {
        let pool = seeded();
        let mut conn = pool.get().unwrap();
        assert!(lookup_call(
            &mut conn,
            Some("+12125550000"),
            None,
            &CallerLookup::own_contacts("US")
        )
        .unwrap()
        .matches
        .is_empty());
        assert!(lookup_call(
            &mut conn,
            Some("1001"),
            None,
            &CallerLookup::own_contacts("US")
        )
        .unwrap()
        .matches
        .is_empty());
        assert!(lookup_call(
            &mut conn,
            None,
            Some("123"),
            &CallerLookup::own_contacts("US")
        )
        .unwrap()
        .service
        .is_none());
    }
}
