//! `ctibridge contacts import` end to end, with the real CLI, on SQLite always and on
//! PostgreSQL / MySQL-MariaDB when `CTIBRIDGE_TEST_POSTGRES` / `CTIBRIDGE_TEST_MYSQL`
//! name a server: 10,000 contacts with numbers of 40 countries written as people
//! write them all import; a file with bad rows imports its good rows and names every
//! bad line; `--strict` imports nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::*;
use ctibridge::crm::db;
use ctibridge::crm::schema::{contact_phones, contacts};
use ctibridge::on_conn;
use diesel::prelude::*;

const COUNTRIES: [&str; 40] = [
    "US", "CA", "GB", "FR", "DE", "IT", "ES", "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "PL",
    "CZ", "PT", "IE", "GR", "HU", "RO", "RU", "TR", "IL", "AE", "SA", "IN", "CN", "JP", "KR", "SG",
    "AU", "NZ", "BR", "MX", "AR", "ZA", "NG", "EG",
];

/// A region's fixed-line and mobile example numbers from the libphonenumber corpus:
/// (country code, national number, trunk prefix).
fn bases() -> BTreeMap<String, Vec<(String, String, String)>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/captures/phone/example_numbers.tsv"
    );
    let mut bases: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if COUNTRIES.contains(&f[0]) && (f[1] == "fixedLine" || f[1] == "mobile") {
            let cc = f[4][1..f[4].len() - f[2].len()].to_string();
            bases.entry(f[0].to_string()).or_default().push((
                cc,
                f[2].to_string(),
                f[3].to_string(),
            ));
        }
    }
    assert_eq!(bases.len(), 40);
    bases
}

/// `digits` in groups of two and three joined by `sep`.
fn grouped(digits: &str, sep: &str) -> String {
    let mut groups = Vec::new();
    let mut rest = digits;
    while rest.len() > 4 {
        let take = if rest.len() % 2 == 1 { 3 } else { 2 };
        groups.push(&rest[..take]);
        rest = &rest[take..];
    }
    groups.push(rest);
    groups.join(sep)
}

/// The CSV (read with `--country GB`, whose international prefix is 00) and the
/// E.164 numbers it must give.
fn ten_thousand() -> (String, BTreeSet<String>) {
    let bases = bases();
    let mut csv = String::from("name,phone,company,external_id,country\n");
    let mut expected = BTreeSet::new();
    for i in 0..10_000 {
        let region = COUNTRIES[i % 40];
        let options = &bases[region];
        let (cc, base, trunk) = &options[(i / 40) % options.len()];
        // A number of the example's range: its last three digits varied.
        let nsn = format!("{}{:03}", &base[..base.len() - 3], (i / 40) % 1000);
        expected.insert(format!("+{cc}{nsn}"));
        let (phone, country) = match i % 7 {
            0 => (format!("+{cc} {}", grouped(&nsn, " ")), ""),
            1 => (format!("00{cc} {}", grouped(&nsn, ".")), ""),
            2 => (
                format!("+{cc} ({}) {}", &nsn[..3], grouped(&nsn[3..], "-")),
                "",
            ),
            3 => (format!("{trunk}{}", grouped(&nsn, " ")), region),
            4 => (
                format!("({trunk}{}) {}", &nsn[..2], grouped(&nsn[2..], "-")),
                region,
            ),
            5 => (format!("+{cc}-{}", grouped(&nsn, "-")), ""),
            _ if trunk == "0" => (format!("+{cc} (0){}", grouped(&nsn, " ")), ""),
            _ => (format!("+{cc}.{}", grouped(&nsn, ".")), ""),
        };
        csv.push_str(&format!(
            "Contact {i},\"{phone}\",Company {region},C-{i},{country}\n"
        ));
    }
    assert_eq!(expected.len(), 10_000, "the numbers are distinct");
    (csv, expected)
}

/// (contacts, their numbers) in the database.
fn stored(url: &str) -> (i64, BTreeSet<String>) {
    with_db(url, |conn| {
        let count: i64 = on_conn!(&mut *conn, c => contacts::table.count().get_result(c)).unwrap();
        let phones: Vec<String> = on_conn!(&mut *conn, c => contact_phones::table
            .select(contact_phones::phone_e164)
            .load(c))
        .unwrap();
        (count, phones.into_iter().collect())
    })
}

/// `contacts import` with `args` on `csv`: exit code, stdout, stderr.
fn import(url: &str, dir: &Path, csv: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let file = dir.join("contacts.csv");
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(BIN)
        .args(["contacts", "import", "--database", url])
        .args(args)
        .arg(&file)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn ten_thousand_contacts_of_40_countries(name: &str, url: &str) {
    let dir = temp_dir(name);
    let (csv, expected) = ten_thousand();
    let (code, stdout, stderr) = import(url, &dir, &csv, &["--country", "GB"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("imported 10000 contact(s) with 10000 new number(s)"),
        "{stdout}"
    );
    let (count, phones) = stored(url);
    assert_eq!(count, 10_000);
    let missing: Vec<_> = expected.difference(&phones).take(20).collect();
    let extra: Vec<_> = phones.difference(&expected).take(20).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, not expected {extra:?}"
    );
}

const WITH_BAD_ROWS: &str = "name,phone,country\n\
    Musée,+33 1 42 68 50 10,\n\
    Nobody,12,\n\
    Amt,(030) 901820,DE\n\
    ,+14155550123,\n\
    Someone,anonymous,\n\
    Ada,(415) 555-0123,US\n\
    Far,0123 456 789,XX\n\
    Extension,+1 415 555 0124 x45,\n";

fn bad_rows_are_named_and_good_rows_kept(name: &str, url: &str) {
    let dir = temp_dir(name);
    let (code, stdout, stderr) = import(url, &dir, WITH_BAD_ROWS, &["--country", "GB"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains("imported 3 contact(s)"), "{stdout}");
    for line in [3, 5, 6, 8, 9] {
        assert!(
            stderr.contains(&format!("line {line}: ")),
            "line {line}: {stderr}"
        );
    }
    for line in [2, 4, 7] {
        assert!(
            !stderr.contains(&format!("line {line}: ")),
            "line {line}: {stderr}"
        );
    }
    assert!(stderr.contains("5 row(s) refused"), "{stderr}");
    let (count, phones) = stored(url);
    assert_eq!(count, 3);
    assert_eq!(
        phones.into_iter().collect::<Vec<_>>(),
        ["+14155550123", "+33142685010", "+4930901820"]
    );
}

fn strict_imports_nothing(name: &str, url: &str) {
    let dir = temp_dir(name);
    let (code, stdout, stderr) = import(url, &dir, WITH_BAD_ROWS, &["--strict"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stdout.contains("imported"), "{stdout}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(stderr.contains("line 3: "), "{stderr}");
    assert_eq!(stored(url).0, 0);
}

fn sqlite(dir: &str) -> String {
    let url = format!("sqlite://{}", temp_dir(dir).join("crm.db").display());
    cli_ok(&["migrate", "--database", &url]);
    url
}

#[test]
fn sqlite_ten_thousand_contacts_of_40_countries() {
    ten_thousand_contacts_of_40_countries("import-10k", &sqlite("import-10k-db"));
}

#[test]
fn sqlite_bad_rows_are_named_and_good_rows_kept() {
    bad_rows_are_named_and_good_rows_kept("import-bad", &sqlite("import-bad-db"));
}

#[test]
fn sqlite_strict_imports_nothing() {
    strict_imports_nothing("import-strict", &sqlite("import-strict-db"));
}

/// A migrated scratch database on the server `env_var` names, or `None`.
fn server(env_var: &str) -> Option<String> {
    let Some(url) = db::scratch_database(env_var) else {
        eprintln!("{env_var} is not set; not tested on that backend");
        return None;
    };
    cli_ok(&["migrate", "--database", &url]);
    Some(url)
}

#[test]
fn postgres_contacts_import() {
    let Some(url) = server("CTIBRIDGE_TEST_POSTGRES") else {
        return;
    };
    ten_thousand_contacts_of_40_countries("import-pg", &url);
    for (test, url) in [
        (
            bad_rows_are_named_and_good_rows_kept as fn(&str, &str),
            server("CTIBRIDGE_TEST_POSTGRES").unwrap(),
        ),
        (
            strict_imports_nothing,
            server("CTIBRIDGE_TEST_POSTGRES").unwrap(),
        ),
    ] {
        test("import-pg-rows", &url);
    }
}

#[test]
fn mysql_contacts_import() {
    let Some(url) = server("CTIBRIDGE_TEST_MYSQL") else {
        return;
    };
    ten_thousand_contacts_of_40_countries("import-my", &url);
    for (test, url) in [
        (
            bad_rows_are_named_and_good_rows_kept as fn(&str, &str),
            server("CTIBRIDGE_TEST_MYSQL").unwrap(),
        ),
        (
            strict_imports_nothing,
            server("CTIBRIDGE_TEST_MYSQL").unwrap(),
        ),
    ] {
        test("import-my-rows", &url);
    }
}
