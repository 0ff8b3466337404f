//! The bench's CRM database: N generated contacts in SQLite, made once per size and
//! kept in the system's temporary folder (a million contacts take a few seconds with
//! batched inserts in one transaction), copied for each run so the call log of one run
//! never slows the next; the same contacts in a PostgreSQL or MySQL/MariaDB database
//! for `--lookup-database`; and the CRM look-up timing (`lookup_ms`, `lookup_db_ms`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::crm::db::{self, AnyConn};
use crate::crm::lookup::CallerLookup;
use crate::crm::schema::{contact_phones, contacts};
use crate::on_conn;

/// Area codes of real US numbering plan areas: the numbers must pass the same
/// validation the look-up applies to callers.
const AREAS: [u32; 10] = [212, 310, 415, 617, 312, 206, 305, 404, 512, 702];
/// Rows per INSERT statement.
const ROWS_PER_INSERT: u64 = 5_000;

/// The phone number (E.164) of generated contact `k`; distinct for every `k` below
/// 8,000,000.
pub fn phone(k: u64) -> String {
    let area = AREAS[(k % AREAS.len() as u64) as usize];
    format!("+1{area}{:07}", 2_000_000 + k / AREAS.len() as u64)
}

/// The cached database with `contacts` contacts, made if missing. Returns its path.
pub fn cached(contacts: u64) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join("ctibridge-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("contacts-{contacts}.v1.db"));
    if path.exists() {
        return Ok(path);
    }
    let partial = dir.join(format!(
        "contacts-{contacts}.v1.{}.partial",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&partial);
    generate(&partial, contacts)?;
    std::fs::rename(&partial, &path)
        .map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
    Ok(path)
}

/// Insert contacts `0..contacts` (ids from 1) with their phones on connection `$c`
/// (any backend), a batch of [`ROWS_PER_INSERT`] rows per statement, as bound
/// parameters. A macro: diesel's batch insert is typed per backend.
macro_rules! insert_contacts {
    ($c:expr, $contacts:expr) => {{
        let contacts: u64 = $contacts;
        let mut start = 0;
        let mut result: QueryResult<()> = Ok(());
        while start < contacts && result.is_ok() {
            let end = (start + ROWS_PER_INSERT).min(contacts);
            let people: Vec<ContactRow> = (start..end).map(ContactRow::generated).collect();
            let phones: Vec<PhoneRow> = (start..end).map(PhoneRow::generated).collect();
            result = diesel::insert_into(contacts::table)
                .values(&people)
                .execute($c)
                .and_then(|_| {
                    diesel::insert_into(contact_phones::table)
                        .values(&phones)
                        .execute($c)
                })
                .map(|_| ());
            start = end;
        }
        result
    }};
}

/// Create the schema at `path` and fill it with `contacts` contacts.
fn generate(path: &Path, contacts: u64) -> Result<(), String> {
    let url = format!("sqlite://{}", path.display());
    db::prepare(&url).map_err(|e| e.to_string())?;
    let text = path
        .to_str()
        .ok_or("the temporary folder's path is not UTF-8")?;
    let mut conn = diesel::SqliteConnection::establish(text).map_err(|e| e.to_string())?;
    // A scratch file made in one go: nothing to protect until it is renamed into place.
    conn.batch_execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .map_err(|e| e.to_string())?;
    conn.transaction(|c| insert_contacts!(c, contacts))
        .map_err(|e| e.to_string())?;
    conn.batch_execute("PRAGMA journal_mode = DELETE;")
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Generated contact `k` (id `k + 1`).
#[derive(Insertable)]
#[diesel(table_name = contacts)]
struct ContactRow {
    id: i32,
    external_id: String,
    name: String,
    company: String,
}

impl ContactRow {
    fn generated(k: u64) -> Self {
        let id = k as i32 + 1;
        ContactRow {
            id,
            external_id: format!("B-{id}"),
            name: format!("Contact {id}"),
            company: format!("Company {}", k % 1000),
        }
    }
}

/// The work phone of generated contact `k`.
#[derive(Insertable)]
#[diesel(table_name = contact_phones)]
struct PhoneRow {
    contact_id: i32,
    phone_e164: String,
    label: String,
}

impl PhoneRow {
    fn generated(k: u64) -> Self {
        PhoneRow {
            contact_id: k as i32 + 1,
            phone_e164: phone(k),
            label: "work".into(),
        }
    }
}

/// The database at `url` (PostgreSQL or MySQL/MariaDB) migrated and holding the
/// bench's `contacts` generated contacts: filled when it has none, used as it is when
/// it has exactly those; anything else is refused rather than mixed with real data.
pub fn fill_server(url: &str, contacts: u64) -> Result<(), String> {
    if db::sqlite_path(url).is_some() {
        return Err(
            "--lookup-database takes a PostgreSQL or MySQL/MariaDB URL; \
                    the SQLite look-up is timed anyway"
                .into(),
        );
    }
    db::prepare(url).map_err(|e| format!("{}: {e}", db::redact(url)))?;
    let mut conn = AnyConn::establish(url).map_err(|e| e.to_string())?;
    let have: i64 = on_conn!(&mut conn, c => contacts::table.count().get_result(c))
        .map_err(|e| e.to_string())?;
    if have == contacts as i64 {
        return analyze(&mut conn);
    }
    if have != 0 {
        return Err(format!(
            "{} already holds {have} contacts; give an empty database (the bench fills \
             it with {contacts} generated ones) or one it filled with --contacts {have}",
            db::redact(url)
        ));
    }
    eprintln!(
        "bench: filling {} with {contacts} contacts",
        db::redact(url)
    );
    on_conn!(&mut conn, c => c.transaction(|c| insert_contacts!(c, contacts)))
        .map_err(|e| e.to_string())?;
    analyze(&mut conn)
}

/// Fresh planner statistics: straight after a bulk load the server has none, and
/// PostgreSQL then plans the look-up's join as a scan of the whole table (300 ms a
/// look-up instead of 0.1 ms) until autovacuum gets round to it. A database the bench
/// filled earlier is analysed again for the same reason.
fn analyze(conn: &mut AnyConn) -> Result<(), String> {
    let statement = match conn {
        AnyConn::Postgres(_) => "ANALYZE contacts, contact_phones",
        _ => "ANALYZE TABLE contacts, contact_phones",
    };
    on_conn!(conn, c => c.batch_execute(statement)).map_err(|e| e.to_string())
}

/// Copy the cached database into `dir` for one run; returns the copy's URL.
pub fn copy_for_run(cached: &Path, dir: &Path) -> Result<String, String> {
    let target = dir.join("bench.db");
    std::fs::copy(cached, &target).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            cached.display(),
            target.display()
        )
    })?;
    Ok(format!("sqlite://{}", target.display()))
}

/// Time `samples` CRM look-ups of random known callers, as the engine makes them.
/// Returns the durations in nanoseconds, and how many found no contact (must be 0).
pub fn time_lookups(url: &str, contacts: u64, samples: usize) -> Result<(Vec<u64>, u64), String> {
    let mut conn = db::AnyConn::establish(url).map_err(|e| e.to_string())?;
    let lookup = CallerLookup::own_contacts("US");
    let mut times = Vec::with_capacity(samples);
    let mut missing = 0;
    for i in 0..samples as u64 {
        // A multiplicative stride spreads the samples over the whole table.
        let k = (i.wrapping_mul(2_654_435_761)) % contacts.max(1);
        let number = phone(k);
        let started = Instant::now();
        let found = lookup
            .contacts(&mut conn, &number)
            .map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_nanos() as u64);
        if found.is_empty() {
            missing += 1;
        }
    }
    Ok((times, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_contacts_are_found_by_their_numbers() {
        let dir = std::env::temp_dir().join(format!("ctibridge-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        generate(&path, 12_345).unwrap();
        let url = format!("sqlite://{}", path.display());
        let (times, missing) = time_lookups(&url, 12_345, 200).unwrap();
        assert_eq!(times.len(), 200);
        assert_eq!(missing, 0);
        // A number nobody has is not found.
        let mut conn = db::AnyConn::establish(&url).unwrap();
        let none = CallerLookup::own_contacts("US")
            .contacts(&mut conn, &phone(12_345))
            .unwrap();
        assert!(none.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_server_database_is_filled_once_and_found_by_number() {
        for env in ["CTIBRIDGE_TEST_POSTGRES", "CTIBRIDGE_TEST_MYSQL"] {
            let Some(url) = db::scratch_database(env) else {
                eprintln!("{env} not set: skipped");
                continue;
            };
            fill_server(&url, 12_345).unwrap();
            // Filled already: used as it is.
            fill_server(&url, 12_345).unwrap();
            let (times, missing) = time_lookups(&url, 12_345, 200).unwrap();
            assert_eq!((times.len(), missing), (200, 0), "{env}");
            // Another size is refused, naming what the database holds.
            let err = fill_server(&url, 500).unwrap_err();
            assert!(err.contains("already holds 12345 contacts"), "{err}");
        }
        let err = fill_server("sqlite://x.db", 10).unwrap_err();
        assert!(err.contains("PostgreSQL or MySQL"), "{err}");
    }
}
