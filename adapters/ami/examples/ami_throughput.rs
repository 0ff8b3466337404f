//! AMI messages per CPU-second through the parse + track path (no I/O), on a
//! stream made of the capture corpus repeated with fresh Uniqueids/Linkedids.
//!
//! `cargo run --release -p ctibridge-ami --example ami_throughput [REPEATS]`
//! prints the figure; it asserts nothing about speed.

use std::time::Instant;

use ctibridge_ami::bench::Pipeline;

const CAPTURES: [&str; 4] = [
    "queue_ringall_answered_freepbx_local.ami",
    "queue_ringall_abandoned.ami",
    "blind_transfer_chan_sip_13.ami",
    "attended_transfer_bridge_20.ami",
];

/// CPU time of this process (user + system), from /proc where there is one.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let dir = format!("{}/../../tests/captures/ami", env!("CARGO_MANIFEST_DIR"));
    let texts: Vec<String> = CAPTURES
        .iter()
        .map(|c| {
            let t = std::fs::read_to_string(format!("{dir}/{c}")).expect("capture");
            t.strip_prefix("Asterisk Call Manager/5.0.1\r\n")
                .map(String::from)
                .unwrap_or(t)
        })
        .collect();
    let mut stream = Vec::new();
    for i in 0..repeats {
        for t in &texts {
            // Fresh ids per repetition: `17654321…` → a prefix of its own.
            stream.extend_from_slice(
                t.replace("17654", &format!("{:05}", 20000 + i % 70000))
                    .as_bytes(),
            );
        }
    }
    let devices = vec!["1001".to_string(), "1002".to_string()];
    let mut pipeline = Pipeline::new(false, &devices, &[], &[]);
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut events = 0usize;
    for chunk in stream.chunks(16 * 1024) {
        pipeline.feed(chunk);
        events += pipeline.events.len();
        pipeline.events.clear();
    }
    let wall = wall.elapsed().as_secs_f64();
    let cpu = match (cpu, cpu_seconds()) {
        (Some(a), Some(b)) if b - a > 0.05 => b - a,
        _ => wall,
    };
    println!(
        "{} AMI messages ({:.1} MB) -> {} events in {:.3} s CPU ({:.3} s wall): {:.0} AMI messages per CPU-second, {} framing errors",
        pipeline.messages,
        stream.len() as f64 / 1e6,
        events,
        cpu,
        wall,
        pipeline.messages as f64 / cpu,
        pipeline.errors
    );
}
