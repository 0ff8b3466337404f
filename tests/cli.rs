//! End to end: the command line as a sysadmin uses it.

mod common;

use std::process::Command;

use common::*;

/// Run `check-config` on `text`; returns the exit code, stdout, stderr and the file.
fn check_config(name: &str, text: &str) -> (Option<i32>, String, String, std::path::PathBuf) {
    let file = temp_dir(name).join("ctibridge.toml");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code(), stdout, stderr, file)
}

#[test]
fn check_config_names_file_line_and_key() {
    let text = "[server]\nlisten = \"127.0.0.1:8765\"\n\n[[switch]]\nname = \"pbx\"\nadapter = \"sim\"\ndevices = [\"1001\"]\nqueue = [\"8000\"]\n";
    let (code, _, stderr, file) = check_config("check", text);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&format!("{}:8:", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("queue"), "{stderr}");

    let (code, stdout, _, _) = check_config("check-ok", "[server]\nlisten = \"127.0.0.1:8765\"\n");
    assert_eq!(code, Some(0));
    assert!(stdout.contains("OK"));
}

#[test]
fn check_config_locates_a_bad_database_url() {
    let text = "[server]\nlisten = \"127.0.0.1:8765\"\n\n[database]\nurl = \"redis://localhost\"\n";
    let (code, _, stderr, file) = check_config("dburl", text);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&format!("{}:5:", file.display())),
        "{stderr}"
    );
}

#[test]
fn token_new_prints_a_token_and_its_hash_only() {
    let out = Command::new(BIN)
        .args(["token", "new", "--role", "agent", "--agent", "1001"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout
        .lines()
        .next()
        .unwrap()
        .strip_prefix("token: ")
        .unwrap();
    assert!(
        stdout.contains(&format!("sha256 = \"{}\"", sha256(token))),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches(token).count(),
        1,
        "the token appears once, never in the config entry"
    );
    let out = Command::new(BIN)
        .args(["token", "new", "--role", "agent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn contacts_import_reports_bad_rows_by_line() {
    let dir = temp_dir("import");
    let csv = dir.join("c.csv");
    std::fs::write(&csv, "name,phone\nAda,+14155550123\nBob,12\n").unwrap();
    let url = format!("sqlite://{}", dir.join("c.db").display());
    let out = Command::new(BIN)
        .args(["contacts", "import", "--database", &url])
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3: `12`"), "{stderr}");
    assert!(stderr.contains("1 row(s) refused"), "{stderr}");
    // The good row is in.
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 contact(s)"));
}

/// `migrate` and `report` still stop at once when the database cannot be reached,
/// naming the server (host and port) and hiding the password.
#[test]
fn migrate_and_report_name_an_unreachable_server() {
    let port = free_port();
    let url = format!("postgres://crm:secret@127.0.0.1:{port}/crm");
    for args in [
        vec!["migrate", "--database", &url],
        vec!["report", "agents", "--database", &url],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port}")),
            "{stderr}"
        );
        assert!(stderr.contains("crm:***@"), "{stderr}");
        assert!(!stderr.contains("secret"), "{stderr}");
    }
}

#[test]
fn demo_refuses_a_public_address() {
    let out = Command::new(BIN)
        .args(["demo", "--listen", "0.0.0.0:8765"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
