//! `ctibridge bench --idle N` when the open-file limit cannot hold N clients: it says
//! so, with the figures and how to raise the limit, and opens as many as fit instead
//! of failing halfway. Its own test binary, because it lowers this process's limit
//! (which the bench inherits, and which cannot be raised again).

use std::process::Command;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use serde_json::Value;

/// The limit the bench gets: a few hundred idle clients fit beside its own files.
const LIMIT: u64 = 700;

#[test]
fn idle_clients_beyond_the_file_limit_are_capped_with_a_message() {
    let before = getrlimit(Resource::Nofile);
    assert!(
        before.maximum.is_none_or(|hard| hard >= LIMIT),
        "this test needs a hard limit of at least {LIMIT}"
    );
    // Lowering needs no privilege. With one, the bench could raise it back; the
    // assertions below hold either way.
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(LIMIT),
            maximum: Some(LIMIT),
        },
    )
    .expect("lower the open-file limit");
    let output = Command::new(env!("CARGO_BIN_EXE_ctibridge"))
        .args([
            "bench",
            "--secs",
            "1",
            "--clients",
            "2",
            "--supervisors",
            "1",
            "--contacts",
            "1000",
            "--rate",
            "300",
            "--idle",
            "5000",
        ])
        .output()
        .expect("ctibridge runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed: {stderr}");
    let figures: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let opened = figures["idle_clients"].as_u64().expect("idle_clients");
    if stderr.contains("could not raise it") {
        // The message names the request, the limit and the way out, and the bench
        // opened exactly what it said it would.
        assert!(stderr.contains("5000 idle clients need about"), "{stderr}");
        assert!(stderr.contains(&format!("limit is {LIMIT}")), "{stderr}");
        assert!(stderr.contains("LimitNOFILE="), "{stderr}");
        assert!(
            stderr.contains(&format!("opening {opened} idle clients instead")),
            "{stderr}"
        );
        assert!(
            opened > 100 && opened < LIMIT,
            "most of what the limit holds: {figures}"
        );
        // A client process inherits the limit too, so holds at most the limit less
        // its own files (32) and the reserve (256): the rest went to another.
        let processes = opened.div_ceil(LIMIT - 32 - 256);
        assert!(
            stderr.contains(&format!(
                "bench: {opened} idle clients over {processes} client processes"
            )),
            "{stderr}"
        );
    } else {
        // A privileged run raised the hard limit and opened them all.
        assert_eq!(opened, 5000, "{figures} {stderr}");
    }
    assert_eq!(figures["dropped"], 0, "{figures}");
}
