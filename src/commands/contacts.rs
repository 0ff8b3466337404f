//! `ctibridge contacts import --database URL FILE.csv`.

use std::path::Path;

use super::{Failure, Outcome};
use crate::crm::{db, import, phone};

pub fn import(url: &str, country: &str, file: &Path) -> Outcome {
    phone::check_country(country).map_err(Failure::config)?;
    let input = std::fs::File::open(file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
    let rows =
        import::read_csv(input).map_err(|e| Failure::new(format!("{}:\n{e}", file.display())))?;
    let pool = db::open(url).map_err(Failure::new)?;
    let mut conn = pool.get().map_err(Failure::new)?;
    let summary = import::import_contacts(&mut conn, &rows, country)
        .map_err(|e| Failure::new(format!("{} (nothing was imported):\n{e}", file.display())))?;
    println!(
        "imported {} contact(s) with {} new number(s) from {}",
        summary.contacts,
        summary.phones,
        file.display()
    );
    Ok(())
}
