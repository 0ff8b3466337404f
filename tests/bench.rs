//! `ctibridge bench` end to end, at tiny sizes: the real binary runs the pipeline with
//! its client process and prints the figures of DESIGN.md. Behaviour only (the keys,
//! nothing lost, something measured); the figures themselves are in
//! docs/performance.md, measured with a release build.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    bench_and_stderr(args).0
}

/// The figures and what the bench said on stderr.
fn bench_and_stderr(args: &[&str]) -> (Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ctibridge"))
        .arg("bench")
        .args(args)
        .output()
        .expect("ctibridge runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let json = lines.next().expect("one line of JSON");
    assert!(lines.next().is_none(), "only the JSON on stdout: {stdout}");
    assert!(stderr.contains("bench: 1 s:"), "a progress line: {stderr}");
    (
        serde_json::from_str(json).expect("valid JSON"),
        stderr.into_owned(),
    )
}

fn has_the_contract_keys(figures: &Value) {
    for key in [
        "events_per_s",
        "frames_per_s",
        "cpu_us_per_event",
        "clients",
        "latency_ms",
        "lookup_ms",
        "contacts",
        "idle_clients",
        "idle_bytes_per_client",
        "dropped",
        "ami_events_per_cpu_s",
        "rss_mb",
    ] {
        assert!(figures.get(key).is_some(), "`{key}` missing from {figures}");
    }
    for key in ["p50", "p99", "max"] {
        assert!(figures["latency_ms"].get(key).is_some(), "latency_ms.{key}");
    }
    for key in ["p50", "p99"] {
        assert!(
            figures["lookup_ms"][key].as_f64().is_some(),
            "lookup_ms.{key}"
        );
    }
    // Resident memory after the warm-up and at the end: the daemon is in the bench
    // process, so both are megabytes, and the growth is their ratio.
    let rss = &figures["rss_mb"];
    let warm = rss["warm"].as_f64().expect("rss_mb.warm");
    let end = rss["end"].as_f64().expect("rss_mb.end");
    assert!(warm > 1.0 && end > 1.0, "{rss}");
    let growth = rss["growth_pct"].as_f64().expect("rss_mb.growth_pct");
    assert!(
        (growth - (end - warm) / warm * 100.0).abs() < 1.0,
        "growth_pct is (end - warm) / warm, up to the rounding of both to 0.1 MB: {rss}"
    );
}

#[test]
fn csta_load_reaches_every_client_with_nothing_dropped() {
    let figures = bench(&[
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
        "5",
    ]);
    has_the_contract_keys(&figures);
    assert_eq!(figures["dropped"], 0, "{figures}");
    assert_eq!(figures["clients"], 3);
    assert_eq!(figures["contacts"], 1000);
    assert_eq!(figures["idle_clients"], 5);
    assert!(figures["events_per_s"].as_f64().unwrap() > 0.0, "{figures}");
    // The supervisor sees every event, so frames are at least the events.
    assert!(
        figures["frames_per_s"].as_f64().unwrap()
            >= figures["events_per_s"].as_f64().unwrap() * 0.5,
        "{figures}"
    );
    // The generator's time stamps come back in the pops.
    let p99 = figures["latency_ms"]["p99"]
        .as_f64()
        .expect("latency measured");
    assert!(p99 > 0.0 && p99 <= figures["latency_ms"]["max"].as_f64().unwrap());
    assert!(figures["cpu_us_per_event"].as_f64().unwrap() > 0.0);
    assert!(figures["ami_events_per_cpu_s"].is_null(), "AMI only");
}

#[test]
fn idle_clients_are_spread_over_client_processes() {
    let (figures, stderr) = bench_and_stderr(&[
        "--secs",
        "2",
        "--clients",
        "2",
        "--supervisors",
        "1",
        "--contacts",
        "1000",
        "--rate",
        "300",
        "--idle",
        "300",
        "--idle-per-process",
        "150",
    ]);
    has_the_contract_keys(&figures);
    assert!(
        stderr.contains("bench: 300 idle clients over 2 client processes"),
        "{stderr}"
    );
    assert_eq!(figures["idle_clients"], 300, "{figures}");
    assert!(
        figures["idle_bytes_per_client"].as_u64().unwrap() > 0,
        "{figures}"
    );
    // The load still reaches the active clients beside them.
    assert_eq!(figures["dropped"], 0, "{figures}");
    assert!(figures["events_per_s"].as_f64().unwrap() > 0.0, "{figures}");
}

#[test]
fn the_simulator_can_be_the_source() {
    let figures = bench(&[
        "--adapter",
        "sim",
        "--secs",
        "1",
        "--clients",
        "2",
        "--contacts",
        "1000",
        "--rate",
        "120",
    ]);
    has_the_contract_keys(&figures);
    assert_eq!(figures["dropped"], 0, "{figures}");
    assert!(
        figures["latency_ms"]["p99"].is_null(),
        "the simulator has no time stamps"
    );
}

#[test]
fn ami_load_reaches_every_client_with_nothing_dropped() {
    let figures = bench(&[
        "--adapter",
        "ami",
        "--secs",
        "1",
        "--clients",
        "2",
        "--supervisors",
        "1",
        "--contacts",
        "1000",
        "--rate",
        "3000",
    ]);
    has_the_contract_keys(&figures);
    assert_eq!(figures["dropped"], 0, "{figures}");
    assert_eq!(figures["clients"], 3);
    assert!(figures["events_per_s"].as_f64().unwrap() > 0.0, "{figures}");
    // About 56 AMI events make a call and five adapter events: the supervisor's
    // frames are fewer than the AMI events, but some arrive.
    assert!(figures["frames_per_s"].as_f64().unwrap() > 0.0, "{figures}");
    assert!(
        figures["ami_events_per_cpu_s"].as_f64().unwrap() > 0.0,
        "{figures}"
    );
    assert!(figures["cpu_us_per_event"].as_f64().unwrap() > 0.0);
    assert!(
        figures["latency_ms"]["p99"].is_null(),
        "AMI carries no time stamps"
    );
}

#[test]
fn a_bad_rate_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_ctibridge"))
        .args(["bench", "--rate", "fast"])
        .output()
        .expect("ctibridge runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--rate"));
}
