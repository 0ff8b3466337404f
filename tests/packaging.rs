//! The files a package installs: the example configuration passes `check-config`
//! (as shipped, and with its TLS lines switched on), the systemd unit's command lines
//! work with this binary, systemd itself accepts the unit (`systemd-analyze verify`
//! and `security`, when installed), and the `cargo deb` metadata names files that
//! exist.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn check_config(file: &Path) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn the_example_configuration_passes_check_config() {
    let example = repo("packaging/ctibridge.toml");
    let (ok, stdout, stderr) = check_config(&example);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("switch pbx1 (csta): 3 device(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("database: sqlite:///var/lib/ctibridge/ctibridge.db"),
        "{stdout}"
    );

    // Its TLS lines, switched on with real files, are right too.
    let text = std::fs::read_to_string(&example).unwrap();
    let fixtures = repo("tests/tls");
    let tls = text
        .replace(
            "# tls_cert = \"/etc/ctibridge/tls/fullchain.pem\"",
            &format!("tls_cert = \"{}\"", fixtures.join("ec-cert.pem").display()),
        )
        .replace(
            "# tls_key = \"/etc/ctibridge/tls/privkey.pem\"",
            &format!(
                "tls_key = \"{}\"",
                fixtures.join("ec-sec1-key.pem").display()
            ),
        );
    assert_ne!(tls, text, "the example's TLS lines moved");
    let file = temp_dir("packaging-tls").join("ctibridge.toml");
    std::fs::write(&file, tls).unwrap();
    let (ok, _, stderr) = check_config(&file);
    assert!(ok, "{stderr}");
}

/// The value of every `KEY=` line of the unit.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_systemd_unit_runs_this_binary_with_the_example() {
    let unit = std::fs::read_to_string(repo("packaging/ctibridge.service")).unwrap();
    for (key, value) in [
        ("User", "ctibridge"),
        ("StateDirectory", "ctibridge"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("Restart", "on-failure"),
        ("Type", "simple"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
    ] {
        assert_eq!(unit_values(&unit, key), [value], "{key}=");
    }
    // ExecStartPre is check-config on the installed configuration: run it on the
    // example, with this build's binary.
    let pre = &unit_values(&unit, "ExecStartPre")[0];
    let args: Vec<&str> = pre.split_whitespace().collect();
    assert_eq!(args[0], "/usr/bin/ctibridge");
    assert_eq!(args[2], "/etc/ctibridge/ctibridge.toml");
    let out = Command::new(BIN)
        .arg(args[1])
        .arg(repo("packaging/ctibridge.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{pre}: {out:?}");
    // ExecStart's options are ones this binary takes.
    let start = &unit_values(&unit, "ExecStart")[0];
    let args: Vec<&str> = start.split_whitespace().collect();
    assert_eq!(
        args[1..],
        [
            "--log-format",
            "json",
            "run",
            "--config",
            "/etc/ctibridge/ctibridge.toml"
        ]
    );
    let out = Command::new(BIN)
        .args(["--log-format", "json", "run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && help.contains("--config"), "{help}");
}

/// systemd's own checks, where `systemd-analyze` is installed (Debian's `systemd`):
/// `verify` reads the unit as systemd would (a misspelt key is only a warning there,
/// so any output fails the test), with ExecStart's binary pointed at this build; and
/// `security --offline` rates its sandboxing (0 = locked down, 10 = exposed).
#[test]
fn systemd_accepts_the_unit_and_rates_its_sandbox_well() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTICE: systemd-analyze is not installed; systemd's checks of the unit skipped");
        return;
    }
    let unit = std::fs::read_to_string(repo("packaging/ctibridge.service")).unwrap();
    let dir = temp_dir("systemd-unit");
    let file = dir.join("ctibridge.service");
    let here = Path::new(BIN).canonicalize().unwrap();
    std::fs::write(
        &file,
        unit.replace("/usr/bin/ctibridge", here.to_str().unwrap()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&file)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.trim().is_empty(), "{said}");

    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&file)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = report
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for ctibridge.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {report}"));
    assert!(exposure <= 2.0, "exposure {exposure}:\n{report}");
}

#[test]
fn the_deb_metadata_names_files_that_exist() {
    let manifest: toml::Table = std::fs::read_to_string(repo("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    let assets = deb["assets"].as_array().unwrap();
    let mut targets = Vec::new();
    for asset in assets {
        let source = asset[0].as_str().unwrap();
        targets.push(asset[1].as_str().unwrap().to_string());
        if !source.starts_with("target/") {
            assert!(repo(source).is_file(), "asset {source} is missing");
        }
    }
    assert!(targets.contains(&"usr/bin/".to_string()), "{targets:?}");
    assert!(targets.contains(&"etc/ctibridge/ctibridge.toml".to_string()));
    assert_eq!(
        deb["conf-files"].as_array().unwrap()[0].as_str(),
        Some("/etc/ctibridge/ctibridge.toml")
    );
    let scripts = repo(deb["maintainer-scripts"].as_str().unwrap());
    let postinst = std::fs::read_to_string(scripts.join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system"), "{postinst}");
    assert!(postinst.contains("#DEBHELPER#"), "{postinst}");
    let units = repo(deb["systemd-units"]["unit-scripts"].as_str().unwrap());
    assert!(units.join("ctibridge.service").is_file());
    // The scripts must be executable to be packaged as maintainer scripts.
    #[cfg(unix)]
    for script in ["postinst", "postrm"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(scripts.join(script))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
}
