//! The demo's CRM data: a handful of contacts (fictional 555-01xx numbers) and the
//! services behind the demo's dialled numbers. Seeded only into an empty database.

use diesel::prelude::*;

use super::db::{AnyConn, DbError};
use super::import::{import_contacts, ImportError, ImportRow};
use super::schema::{contacts, dnis_services};
use crate::on_conn;

/// (name, phone, company, external id)
pub const DEMO_CONTACTS: [(&str, &str, &str, &str); 8] = [
    (
        "Ada Lovelace",
        "+14155550123",
        "Analytical Engines Ltd",
        "C-1001",
    ),
    ("Grace Hopper", "+14155550134", "Cobol Consulting", "C-1002"),
    (
        "Alan Turing",
        "+442079460123",
        "Bletchley Logistics",
        "C-1003",
    ),
    (
        "Katherine Johnson",
        "+17575550148",
        "Orbital Mechanics Inc",
        "C-1004",
    ),
    (
        "Edsger Dijkstra",
        "+31205550177",
        "Shortest Path BV",
        "C-1005",
    ),
    (
        "Margaret Hamilton",
        "+16175550190",
        "Apollo Software",
        "C-1006",
    ),
    (
        "Claude Shannon",
        "+12125550111",
        "Information Theory Co",
        "C-1007",
    ),
    (
        "Barbara Liskov",
        "+16175550162",
        "Substitution Systems",
        "C-1008",
    ),
];

/// Callers the demo generator uses: the contacts plus numbers the CRM does not know.
pub fn demo_callers() -> Vec<String> {
    let mut callers: Vec<String> = DEMO_CONTACTS.iter().map(|c| c.1.to_string()).collect();
    callers.extend(["+13125550100", "+14085550177", "+12065550144"].map(String::from));
    callers
}

/// (DNIS, service, queue)
pub const DEMO_SERVICES: [(&str, &str, &str); 2] = [
    ("8005550100", "Sales hotline", "8000"),
    ("8005550199", "Customer support", "8001"),
];

/// Seed the demo data when the database has no contacts yet. Returns whether it did.
pub fn seed_demo(conn: &mut AnyConn) -> Result<bool, ImportError> {
    let count: i64 =
        on_conn!(&mut *conn, c => contacts::table.count().get_result(c)).map_err(DbError::from)?;
    if count > 0 {
        return Ok(false);
    }
    let rows: Vec<ImportRow> = DEMO_CONTACTS
        .iter()
        .map(|(name, phone, company, id)| {
            let mut row = ImportRow::new(name, phone, Some(company));
            row.external_id = Some(id.to_string());
            row.url = Some(format!("https://crm.example.com/contacts/{id}"));
            row
        })
        .collect();
    import_contacts(conn, &rows, "US")?;
    for (dnis, service, _) in DEMO_SERVICES {
        let there: bool = on_conn!(&mut *conn, c => diesel::select(diesel::dsl::exists(
            dnis_services::table.find(dnis),
        ))
        .get_result(c))
        .map_err(DbError::from)?;
        if !there {
            on_conn!(&mut *conn, c => diesel::insert_into(dnis_services::table)
                .values((
                    dnis_services::dnis.eq(dnis),
                    dnis_services::service.eq(service),
                ))
                .execute(c))
            .map_err(DbError::from)?;
        }
    }
    Ok(true)
}
