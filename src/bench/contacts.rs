//! The bench's CRM database: N generated contacts in SQLite, made once per size and
//! kept in the system's temporary folder (a million contacts take a few seconds with
//! batched inserts in one transaction), copied for each run so the call log of one run
//! never slows the next; and the CRM look-up timing (`lookup_ms`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::crm::db;
use crate::crm::lookup::CallerLookup;

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

/// Create the schema at `path` and fill it with `contacts` contacts.
fn generate(path: &Path, contacts: u64) -> Result<(), String> {
    let url = format!("sqlite://{}", path.display());
    db::prepare(&url).map_err(|e| e.to_string())?;
    let text = path
        .to_str()
        .ok_or("the temporary folder's path is not UTF-8")?;
    let mut conn = SqliteConnection::establish(text).map_err(|e| e.to_string())?;
    // A scratch file made in one go: nothing to protect until it is renamed into place.
    conn.batch_execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;")
        .map_err(|e| e.to_string())?;
    let mut start = 0;
    while start < contacts {
        let end = (start + ROWS_PER_INSERT).min(contacts);
        let mut people =
            String::from("INSERT INTO contacts (id, external_id, name, company) VALUES ");
        let mut phones =
            String::from("INSERT INTO contact_phones (contact_id, phone_e164, label) VALUES ");
        for k in start..end {
            let sep = if k == start { "" } else { "," };
            let id = k + 1;
            people.push_str(&format!(
                "{sep}({id},'B-{id}','Contact {id}','Company {}')",
                k % 1000
            ));
            phones.push_str(&format!("{sep}({id},'{}','work')", phone(k)));
        }
        conn.batch_execute(&people).map_err(|e| e.to_string())?;
        conn.batch_execute(&phones).map_err(|e| e.to_string())?;
        start = end;
    }
    conn.batch_execute("COMMIT; PRAGMA journal_mode = DELETE;")
        .map_err(|e| e.to_string())?;
    Ok(())
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
}
