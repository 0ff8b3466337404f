//! `ctibridge migrate --database URL`: create or upgrade the schema.

use super::{Failure, Outcome};
use crate::crm::db;

pub fn migrate(url: &str) -> Outcome {
    db::check_url(url).map_err(Failure::config)?;
    db::open(url).map_err(Failure::new)?;
    println!("{}: schema is up to date", db::redact(url));
    Ok(())
}
