//! `ctibridge contacts import`: contacts from a CSV file.
//!
//! Columns (header names, any order): `name`, `phone` (required), `company`,
//! `external_id`, `url`, `label`, `route` (optional; where the switch should send
//! the contact's calls when it asks ctibridge, see data-directed routing), `country`
//! (optional; the ISO country the row's numbers without a country code are read in,
//! instead of the command's `--country`). `phone` may hold several numbers separated
//! by `;`. Rows with the same `external_id` are one contact with several numbers; a
//! contact whose `external_id` exists already is updated, not duplicated. Every number
//! is normalised to E.164 (see [`phone`]).
//!
//! A row is good or refused as a whole (a bad number refuses its row), and every
//! refused row is reported with its CSV line and the reason. [`check`] sorts the rows,
//! [`write()`] stores the good ones in one transaction; the command writes them unless
//! `--strict` asks for all or nothing. [`import_contacts`] is all or nothing.

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
    #[serde(default)]
    pub country: Option<String>,
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
            country: None,
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

/// A row that is not imported: its CSV line and why.
pub type Refused = (usize, String);

/// Rows read from CSV text: the readable ones, and the lines that could not be read
/// (bad CSV, an empty name). A header without the required columns is an error.
pub fn read_csv(input: impl Read) -> Result<(Vec<ImportRow>, Vec<Refused>), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| ImportError::Rows(vec![(1, format!("cannot read the header: {e}"))]))?
        .clone();
    for required in ["name", "phone"] {
        if !headers.iter().any(|h| h == required) {
            return Err(ImportError::Rows(vec![(1, format!("the header has no `{required}` column (columns: name, phone, company, external_id, url, label, route, country)"))]));
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
                        row.country = blank_to_none(row.country);
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
    Ok((rows, errors))
}

struct Contact<'a> {
    row: &'a ImportRow,
    phones: Vec<(String, Option<String>)>,
}

/// Rows sorted into contacts to write and refused rows.
pub struct Checked<'a> {
    contacts: Vec<Contact<'a>>,
    pub refused: Vec<Refused>,
}

impl Checked<'_> {
    /// How many contacts would be written.
    pub fn contacts(&self) -> usize {
        self.contacts.len()
    }
}

/// Normalise every row's numbers (in the row's `country`, else `country`) and group
/// the good rows into contacts; a row with any bad number is refused whole.
pub fn check<'a>(rows: &'a [ImportRow], country: &str) -> Checked<'a> {
    // Group by external_id (rows without one are contacts of their own), in the
    // order contacts first appear.
    let mut grouped: BTreeMap<String, usize> = BTreeMap::new();
    let mut contacts: Vec<Contact> = Vec::new();
    let mut refused = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match numbers(row, country) {
            Err(reason) => refused.push((row.line, reason)),
            Ok(numbers) => {
                let key = match &row.external_id {
                    Some(id) => format!("x:{id}"),
                    None => format!("r:{index:09}"),
                };
                let at = *grouped.entry(key).or_insert_with(|| {
                    contacts.push(Contact {
                        row,
                        phones: Vec::new(),
                    });
                    contacts.len() - 1
                });
                let contact = &mut contacts[at];
                for e164 in numbers {
                    if !contact.phones.iter().any(|(e, _)| *e == e164) {
                        contact.phones.push((e164, row.label.clone()));
                    }
                }
            }
        }
    }
    Checked { contacts, refused }
}

/// A row's numbers in E.164, or why the row is refused.
fn numbers(row: &ImportRow, default_country: &str) -> Result<Vec<String>, String> {
    let country = row.country.as_deref().unwrap_or(default_country);
    if row.country.is_some() {
        phone::check_country(country)
            .map_err(|_| format!("country `{country}` is not an ISO 3166 country code"))?;
    }
    let mut numbers = Vec::new();
    let mut bad = Vec::new();
    for raw in row
        .phone
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match phone::parse(raw, country) {
            Ok(n) => numbers.push(n.e164),
            Err(why) => bad.push(format!("`{raw}` {why}")),
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "{} (numbers without a country code read in {country})",
            bad.join("; ")
        ));
    }
    if numbers.is_empty() {
        return Err("phone is empty".into());
    }
    Ok(numbers)
}

/// Write `rows` to the database in one transaction, all or nothing: any bad row
/// refuses the whole import.
pub fn import_contacts(
    conn: &mut AnyConn,
    rows: &[ImportRow],
    country: &str,
) -> Result<ImportSummary, ImportError> {
    let checked = check(rows, country);
    if !checked.refused.is_empty() {
        return Err(ImportError::Rows(checked.refused));
    }
    Ok(write(conn, &checked)?)
}

/// Write the good rows of `checked` in one transaction.
pub fn write(conn: &mut AnyConn, checked: &Checked) -> Result<ImportSummary, DbError> {
    let mut summary = ImportSummary::default();
    conn.write_transaction(|conn| {
        for contact in &checked.contacts {
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
    })?;
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
        let (rows, refused) = read_csv(csv.as_bytes()).unwrap();
        assert!(refused.is_empty());
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

    fn phones(conn: &mut AnyConn) -> Vec<String> {
        on_conn!(conn, c => contact_phones::table
            .select(contact_phones::phone_e164)
            .order(contact_phones::phone_e164)
            .load(c))
        .unwrap()
    }

    #[test]
    fn the_country_column_reads_national_numbers() {
        let csv = "name,phone,country\n\
                   Musée,01 42 68 50 10,FR\n\
                   Amt,(030) 901820,de\n\
                   Ada,(415) 555-0123,\n\
                   Nobody,0123 456,XX\n";
        let (rows, _) = read_csv(csv.as_bytes()).unwrap();
        let checked = check(&rows, "US");
        assert_eq!(
            checked.refused,
            vec![(
                5,
                "country `XX` is not an ISO 3166 country code".to_string()
            )]
        );
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        write(&mut conn, &checked).unwrap();
        assert_eq!(
            phones(&mut conn),
            ["+14155550123", "+33142685010", "+4930901820"]
        );
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_good_rows_are_kept() {
        let csv = "name,phone\nAda,+14155550123\nBob,not-a-number\n,+14155550199\nCy,+14155550125;12\nDi,+33 1 42 68 50 10\n";
        let (rows, unreadable) = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(unreadable, vec![(4, "name is empty".to_string())]);
        let checked = check(&rows, "US");
        let lines: Vec<usize> = checked.refused.iter().map(|r| r.0).collect();
        assert_eq!(lines, [3, 5]);
        assert!(
            checked.refused[1]
                .1
                .contains("`12` 2 digits without a country code"),
            "{:?}",
            checked.refused
        );
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        // All or nothing: nothing is written.
        let err = import_contacts(&mut conn, &rows, "US")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3: `not-a-number`"), "{err}");
        assert!(phones(&mut conn).is_empty());
        // The good rows.
        let summary = write(&mut conn, &checked).unwrap();
        assert_eq!(summary.contacts, 2);
        assert_eq!(phones(&mut conn), ["+14155550123", "+33142685010"]);
    }

    #[test]
    fn missing_columns_are_named() {
        let err = read_csv("name,number\nA,1\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `phone` column"), "{err}");
    }
}
