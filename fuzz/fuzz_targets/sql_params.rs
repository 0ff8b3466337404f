//! The named parameters of `[crm] lookup_sql` / `log_sql`: any statement text gets
//! placeholders or an error, on every backend, and never a panic.
#![no_main]

use ctibridge::crm::db::Backend;
use ctibridge::crm::statement::placeholders;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            let _ = placeholders(text, backend, &["e164", "national", "raw", "call_id"]);
        }
    }
});
