//! Database connections over TLS, against the test servers that
//! `CTIBRIDGE_TEST_POSTGRES` / `CTIBRIDGE_TEST_MYSQL` name (skipped without them).
//!
//! Each test asks the server whether it can do TLS at all. One that can must be
//! reached encrypted when the URL asks for it (the server's own view of the session
//! says so); one that cannot must refuse the URL with an error naming the server.
//! Debian's PostgreSQL ships with `ssl = on` (a self-signed "snakeoil" certificate);
//! MariaDB ships without TLS.

mod common;

use common::*;
use ctibridge::crm::db::{self, AnyConn};
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Nullable<Bool>)]
    value: Option<bool>,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

fn text(conn: &mut AnyConn, sql: &str) -> Option<String> {
    let rows: Vec<Setting> =
        ctibridge::on_conn!(conn, c => diesel::sql_query(sql).load(c)).unwrap();
    rows.into_iter().next().and_then(|r| r.value)
}

/// Is this PostgreSQL session encrypted, in the server's own view?
fn pg_session_encrypted(conn: &mut AnyConn) -> bool {
    let rows: Vec<Flag> = ctibridge::on_conn!(conn, c => diesel::sql_query(
        "SELECT ssl AS value FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    )
    .load(c))
    .unwrap();
    rows[0].value == Some(true)
}

fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

#[test]
fn postgres_sslmode_require_is_encrypted_and_verify_full_checks_the_certificate() {
    let Some(url) = test_database("postgres") else {
        return;
    };
    let server = db::server(&url).unwrap();
    let mut plain = AnyConn::establish(&url).unwrap();
    let tls_on =
        text(&mut plain, "SELECT current_setting('ssl') AS value").as_deref() == Some("on");
    assert!(
        !pg_session_encrypted(&mut plain),
        "a plain URL was encrypted"
    );

    let require = with_param(&url, "sslmode=require");
    if !tls_on {
        let err = db::open(&require)
            .err()
            .expect("TLS required from a server without it");
        let err = err.to_string();
        assert!(err.contains(&format!("PostgreSQL at {server}")), "{err}");
        eprintln!("the PostgreSQL test server has ssl = off; only the refusal was tested");
        return;
    }
    // The daemon's own path: pool, migrations, then a pooled connection.
    let pool = db::open(&require).unwrap();
    let mut conn = pool.get().unwrap();
    assert!(
        pg_session_encrypted(&mut conn),
        "sslmode=require was not encrypted"
    );

    // verify-full against a root that did not sign the server's certificate.
    let stranger = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls/ec-cert.pem");
    let verify = with_param(&url, &format!("sslmode=verify-full&sslrootcert={stranger}"));
    let err = db::open(&verify)
        .err()
        .expect("an untrusted certificate was accepted");
    let err = err.to_string();
    assert!(err.contains(&format!("PostgreSQL at {server}")), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // A root file that is not there is named.
    let missing = with_param(&url, "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem");
    let err = db::open(&missing).err().unwrap().to_string();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}

#[test]
fn mysql_ssl_mode_required_is_encrypted_or_refused_naming_the_server() {
    let Some(url) = test_database("mysql") else {
        return;
    };
    let server = db::server(&url).unwrap();
    let mut plain = AnyConn::establish(&url).unwrap();
    let have_ssl = text(&mut plain, "SELECT CAST(@@have_ssl AS CHAR) AS value");
    let required = with_param(&url, "ssl-mode=REQUIRED");
    if have_ssl.as_deref() == Some("YES") {
        let pool = db::open(&required).unwrap();
        let mut conn = pool.get().unwrap();
        let cipher = text(
            &mut conn,
            "SELECT CAST(VARIABLE_VALUE AS CHAR) AS value FROM information_schema.SESSION_STATUS \
             WHERE VARIABLE_NAME = 'Ssl_cipher'",
        );
        assert!(
            cipher.is_some_and(|c| !c.is_empty()),
            "ssl-mode=REQUIRED was not encrypted"
        );
    } else {
        let err = db::open(&required)
            .err()
            .expect("TLS required from a server without it");
        let err = err.to_string();
        assert!(err.contains(&format!("MySQL/MariaDB at {server}")), "{err}");
        eprintln!("the MySQL test server has no TLS (have_ssl = {have_ssl:?}); only the refusal was tested: {err}");
    }
    // A mode that does not exist is a configuration error, before any connection.
    let err = db::check_url(&with_param(&url, "ssl-mode=ON")).unwrap_err();
    assert!(err.contains("ssl-mode=ON"), "{err}");
}
