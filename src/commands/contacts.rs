//! `ctibridge contacts import --database URL [--country CC] [--strict] FILE.csv`.
//!
//! The good rows are imported and every refused row is reported on stderr with its
//! line and reason; the exit code is 1 when any row was refused. With `--strict`
//! nothing is imported unless every row is good.

use std::path::Path;

use super::{Failure, Outcome};
use crate::crm::{db, import, phone};

pub fn import(url: &str, country: &str, strict: bool, file: &Path) -> Outcome {
    phone::check_country(country).map_err(Failure::config)?;
    let input = std::fs::File::open(file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
    let (rows, mut refused) =
        import::read_csv(input).map_err(|e| Failure::new(format!("{}:\n{e}", file.display())))?;
    let checked = import::check(&rows, country);
    refused.extend(checked.refused.iter().cloned());
    refused.sort_by_key(|(line, _)| *line);
    let report = |refused: &[import::Refused]| {
        refused
            .iter()
            .map(|(line, why)| format!("line {line}: {why}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if strict && !refused.is_empty() {
        return Err(Failure::new(format!(
            "{}: {} row(s) refused, nothing was imported (--strict):\n{}",
            file.display(),
            refused.len(),
            report(&refused)
        )));
    }
    let pool = db::open(url).map_err(Failure::new)?;
    let mut conn = pool.get().map_err(Failure::new)?;
    let summary = import::write(&mut conn, &checked)
        .map_err(|e| Failure::new(format!("{} (nothing was imported): {e}", file.display())))?;
    println!(
        "imported {} contact(s) with {} new number(s) from {}",
        summary.contacts,
        summary.phones,
        file.display()
    );
    if refused.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{}: {} row(s) refused (the other rows were imported):\n{}",
        file.display(),
        refused.len(),
        report(&refused)
    )))
}
