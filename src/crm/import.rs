//! `ctibridge contacts import`: contacts from a CSV file.
//!
//! Columns (header names, any order): `name`, `phone` (required), `company`,
//! `external_id`, `url`, `label`, `route` (optional; where the switch should send
//! the contact's calls when it asks ctibridge, see data-directed routing). `phone` may hold several numbers separated
//! by `;`. Rows with the same `external_id` are one contact with several numbers; a
//! contact whose `external_id` exists already is updated, not duplicated. Every number
//! is normalised to E.164; a file with any bad row imports nothing and every bad row
//! is reported with its line.

use std::collections::BTreeMap;
use std::io::Read;

use diesel::prelude::*;
use serde::Deserialize;

use super::db::{AnyConn, DbError};
use super::phone;
use super::schema::{contact_phones, contacts};
use crate::on_conn;

/// One CSV row.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportRow {
    #[serde(skip)]
    pub line: usize,
    pub name: String,
    pub phone: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub route: Option<String>,
}

impl ImportRow {
    pub fn new(name: &str, phone: &str, company: Option<&str>) -> Self {
        ImportRow {
            line: 0,
            name: name.into(),
            phone: phone.into(),
            company: company.map(String::from),
            external_id: None,
            url: None,
            label: None,
            route: None,
        }
    }
}

/// What went wrong, by line.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", .0.iter().map(|(line, msg)| format!("line {line}: {msg}")).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<(usize, String)>),
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub contacts: usize,
    pub phones: usize,
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Read and check rows from CSV text.
pub fn read_csv(input: impl Read) -> Result<Vec<ImportRow>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| ImportError::Rows(vec![(1, format!("cannot read the header: {e}"))]))?
        .clone();
    for required in ["name", "phone"] {
        if !headers.iter().any(|h| h == required) {
            return Err(ImportError::Rows(vec![(1, format!("the header has no `{required}` column (columns: name, phone, company, external_id, url, label, route)"))]));
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let line = |e: &csv::Error| e.position().map(|p| p.line() as usize).unwrap_or(0);
        match record {
            Err(e) => errors.push((line(&e), e.to_string())),
            Ok(record) => {
                let n = record.position().map(|p| p.line() as usize).unwrap_or(0);
                match record.deserialize::<ImportRow>(Some(&headers)) {
                    Err(e) => errors.push((n, e.to_string())),
                    Ok(mut row) => {
                        row.line = n;
                        row.company = blank_to_none(row.company);
                        row.external_id = blank_to_none(row.external_id);
                        row.url = blank_to_none(row.url);
                        row.label = blank_to_none(row.label);
                        row.route = blank_to_none(row.route);
                        if row.name.is_empty() {
                            errors.push((n, "name is empty".into()));
                        } else {
                            rows.push(row);
                        }
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(ImportError::Rows(errors))
    }
}

struct Contact<'a> {
    row: &'a ImportRow,
    phones: Vec<(String, Option<String>)>,
}

/// Write `rows` to the database in one transaction.
pub fn import_contacts(
    conn: &mut AnyConn,
    rows: &[ImportRow],
    country: &str,
) -> Result<ImportSummary, ImportError> {
    // Group by external_id (rows without one are contacts of their own) and normalise.
    let mut grouped: BTreeMap<String, Contact> = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let key = match &row.external_id {
            Some(id) => format!("x:{id}"),
            None => format!("r:{index:09}"),
        };
        let contact = grouped.entry(key).or_insert(Contact {
            row,
            phones: Vec::new(),
        });
        for raw in row
            .phone
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match phone::normalise(raw, country) {
                Some(n) => {
                    if !contact.phones.iter().any(|(e, _)| *e == n.e164) {
                        contact.phones.push((n.e164, row.label.clone()));
                    }
                }
                None => errors.push((
                    row.line,
                    format!(
                        "`{raw}` is not a valid phone number (read with default country {country})"
                    ),
                )),
            }
        }
        if row.phone.trim().is_empty() {
            errors.push((row.line, "phone is empty".into()));
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut summary = ImportSummary::default();
    conn.write_transaction(|conn| {
        for contact in grouped.values() {
            let row = contact.row;
            // The same contact again: by external id, or (without one) by name and
            // one of its numbers, so importing a file twice duplicates nothing.
            let e164s: Vec<&str> = contact.phones.iter().map(|(e, _)| e.as_str()).collect();
            let existing: Option<i32> = match &row.external_id {
                Some(external) => on_conn!(&mut *conn, c => contacts::table
                    .filter(contacts::external_id.eq(external))
                    .select(contacts::id)
                    .first(c)
                    .optional())?,
                None => on_conn!(&mut *conn, c => contacts::table
                    .inner_join(contact_phones::table)
                    .filter(contacts::external_id.is_null())
                    .filter(contacts::name.eq(&row.name))
                    .filter(contact_phones::phone_e164.eq_any(&e164s))
                    .select(contacts::id)
                    .first(c)
                    .optional())?,
            };
            let values = (
                contacts::external_id.eq(&row.external_id),
                contacts::name.eq(&row.name),
                contacts::company.eq(&row.company),
                contacts::url.eq(&row.url),
                contacts::route.eq(&row.route),
            );
            let id = match existing {
                Some(id) => {
                    on_conn!(&mut *conn, c => diesel::update(contacts::table.find(id))
                        .set(values)
                        .execute(c))?;
                    id
                }
                None => insert_contact(conn, values)?,
            };
            summary.contacts += 1;
            for (e164, label) in &contact.phones {
                let there: bool = on_conn!(&mut *conn, c => diesel::select(diesel::dsl::exists(
                    contact_phones::table
                        .filter(contact_phones::contact_id.eq(id))
                        .filter(contact_phones::phone_e164.eq(e164)),
                ))
                .get_result(c))?;
                if !there {
                    summary.phones += on_conn!(&mut *conn, c => diesel::insert_into(contact_phones::table)
                        .values((
                            contact_phones::contact_id.eq(id),
                            contact_phones::phone_e164.eq(e164),
                            contact_phones::label.eq(label),
                        ))
                        .execute(c))?;
                }
            }
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(DbError::from)?;
    Ok(summary)
}

/// The columns of a new contact.
type ContactValues<'a> = (
    diesel::dsl::Eq<contacts::external_id, &'a Option<String>>,
    diesel::dsl::Eq<contacts::name, &'a String>,
    diesel::dsl::Eq<contacts::company, &'a Option<String>>,
    diesel::dsl::Eq<contacts::url, &'a Option<String>>,
    diesel::dsl::Eq<contacts::route, &'a Option<String>>,
);

/// Insert a contact and return its id: with RETURNING where the backend has it, and
/// on MySQL with the connection's LAST_INSERT_ID().
fn insert_contact(conn: &mut AnyConn, values: ContactValues) -> Result<i32, diesel::result::Error> {
    let insert = diesel::insert_into(contacts::table).values(values);
    match conn {
        AnyConn::Sqlite(c) => insert.returning(contacts::id).get_result(c),
        AnyConn::Postgres(c) => insert.returning(contacts::id).get_result(c),
        AnyConn::Mysql(c) => {
            insert.execute(c)?;
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
                "LAST_INSERT_ID()",
            ))
            .get_result(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::db;

    #[test]
    fn imports_and_merges_by_external_id() {
        let csv = "name,phone,company,external_id,url\n\
                   Ada Lovelace,+1 415 555 0123,Analytical Engines,C-1,https://crm/c/1\n\
                   Ada Lovelace,4155550124;+14155550123,Analytical Engines,C-1,https://crm/c/1\n\
                   Grace Hopper,+442079460000,,,\n";
        let rows = read_csv(csv.as_bytes()).unwrap();
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        let summary = import_contacts(&mut conn, &rows, "US").unwrap();
        assert_eq!(
            summary,
            ImportSummary {
                contacts: 2,
                phones: 3
            }
        );
        // Importing again updates, never duplicates.
        let again = import_contacts(&mut conn, &rows, "US").unwrap();
        assert_eq!(again.phones, 0);
        let count: i64 = on_conn!(&mut *conn, c => contacts::table.count().get_result(c)).unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_nothing_is_written() {
        let csv = "name,phone\nAda,+14155550123\nBob,not-a-number\n,+14155550199\n";
        let rows = read_csv(csv.as_bytes());
        let err = rows.unwrap_err().to_string();
        assert!(err.contains("line 4: name is empty"), "{err}");
        let rows = read_csv("name,phone\nAda,+14155550123\nBob,12\n".as_bytes()).unwrap();
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        let err = import_contacts(&mut conn, &rows, "US")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3: `12` is not a valid phone number"),
            "{err}"
        );
        let count: i64 = on_conn!(&mut *conn, c => contacts::table.count().get_result(c)).unwrap();
        assert_eq!(count, 0);
    }

    #[test]
    fn missing_columns_are_named() {
        let err = read_csv("name,number\nA,1\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `phone` column"), "{err}");
    }
}
