//! The Prometheus text exposition format (version 0.0.4) of [`Metrics`].
//!
//! Every family gets `# HELP` and `# TYPE` before its samples; label values and help
//! texts are escaped as the format says (`\\`, `\"` and `\n` in label values; `\\`
//! and `\n` in help), since switch names come from the configuration and may hold
//! anything. `promtool check metrics` accepts the result (tests/metrics.rs).

use std::fmt::{Display, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use super::histogram::Snapshot;
use super::{Metrics, ROLES};

/// The version label of `ctibridge_build_info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit label: set `CTIBRIDGE_BUILD_COMMIT` when building (packagers know it;
/// the build runs no commands to find it), else `unknown`.
pub const COMMIT: &str = match option_env!("CTIBRIDGE_BUILD_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// Help text for `ctibridge_screen_pop_latency_seconds`, where the clock starts and stops.
const POP_LATENCY_HELP: &str = "Screen pop latency: from the engine taking up the switch \
event that rang the phone (after the adapter parsed it) to the hub handing the call.offered \
frame to the client queues (after the durability gate); includes any wait for the CRM look-up";

/// Help text for `ctibridge_crm_lookup_duration_seconds`.
const LOOKUP_HELP: &str = "CRM look-up time (screen pop, route request and crm.lookup \
look-ups): waiting for a database connection plus the query";

pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(&self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Text being written, one family at a time.
#[derive(Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(
            self.out,
            "# HELP {name} {}\n# TYPE {name} {}",
            escape_help(help),
            kind.as_str()
        );
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (n, (label, value)) in labels.iter().enumerate() {
                if n > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{label}=\"{}\"", escape_label(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    pub fn histogram(&mut self, name: &str, help: &str, snapshot: &Snapshot) {
        self.family(name, Kind::Histogram, help);
        let bucket = format!("{name}_bucket");
        for (le, count) in &snapshot.cumulative {
            self.sample(&bucket, &[("le", &le.to_string())], count);
        }
        self.sample(&bucket, &[("le", "+Inf")], snapshot.count);
        self.sample(&format!("{name}_sum"), &[], snapshot.sum_seconds);
        self.sample(&format!("{name}_count"), &[], snapshot.count);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value as the format wants it inside double quotes.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A `# HELP` text: backslash and line feed escaped (quotes stay as they are).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut w = Writer::default();
        let load = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let counters: [(&str, &str, &AtomicU64); 15] = [
            (
                "ctibridge_events_published_total",
                "Events published to clients (each once, however many clients get it)",
                &self.events_published,
            ),
            (
                "ctibridge_switch_events_total",
                "Events received from switches",
                &self.switch_events,
            ),
            (
                "ctibridge_screen_pops_total",
                "Screen pops (call.offered events) sent, one per call per ringing device",
                &self.pops,
            ),
            (
                "ctibridge_frames_sent_total",
                "Event frames written to client WebSockets (one per client per event)",
                &self.frames_sent,
            ),
            (
                "ctibridge_frames_dropped_total",
                "Event frames a client did not get: refused by its full queue or still queued when it was cut off for falling behind (4009); a client that resumes gets them from the replay ring",
                &self.frames_dropped,
            ),
            (
                "ctibridge_connections_total",
                "WebSocket connections accepted",
                &self.connections_total,
            ),
            (
                "ctibridge_auth_failures_total",
                "Connections closed for a bad or missing token",
                &self.auth_failures,
            ),
            (
                "ctibridge_slow_clients_closed_total",
                "Clients closed for falling behind (4009)",
                &self.slow_clients_closed,
            ),
            (
                "ctibridge_requests_total",
                "API requests handled",
                &self.requests,
            ),
            (
                "ctibridge_request_errors_total",
                "API requests answered with an error",
                &self.request_errors,
            ),
            (
                "ctibridge_rate_limited_total",
                "API requests refused by the rate limit",
                &self.rate_limited,
            ),
            (
                "ctibridge_crm_lookups_total",
                "CRM look-ups for calls made against the database (cache misses)",
                &self.lookups,
            ),
            (
                "ctibridge_crm_lookup_errors_total",
                "CRM look-ups for calls that failed",
                &self.lookup_errors,
            ),
            (
                "ctibridge_calls_ended_total",
                "Calls ended and logged",
                &self.calls_ended,
            ),
            (
                "ctibridge_seq",
                "The last event sequence number (restarts with the daemon)",
                &self.seq,
            ),
        ];
        for (name, help, value) in counters {
            // `ctibridge_seq` is a number that restarts, not a count: a gauge.
            let kind = if name.ends_with("_total") {
                Kind::Counter
            } else {
                Kind::Gauge
            };
            w.family(name, kind, help);
            w.sample(name, &[], load(value));
        }

        w.family(
            "ctibridge_clients",
            Kind::Gauge,
            "Connected, authenticated WebSocket clients by token role",
        );
        for role in ROLES {
            w.sample(
                "ctibridge_clients",
                &[("role", role.as_str())],
                self.clients_of(role),
            );
        }
        let gauges: [(&str, &str, u64); 3] = [
            (
                "ctibridge_calls_active",
                "Calls in progress",
                load(&self.calls_active),
            ),
            (
                "ctibridge_database_up",
                "1 when the database takes writes, 0 while writes go to the journal",
                self.database_up.load(Ordering::Relaxed) as u64,
            ),
            (
                "ctibridge_journal_backlog",
                "Writes waiting in the on-disk journal for the database",
                load(&self.journal_pending),
            ),
        ];
        for (name, help, value) in gauges {
            w.family(name, Kind::Gauge, help);
            w.sample(name, &[], value);
        }

        let links = self.links();
        w.family(
            "ctibridge_switch_link_up",
            Kind::Gauge,
            "1 when the switch link is up",
        );
        for (switch, link) in &links {
            let labels = [("switch", switch.as_str()), ("adapter", &link.adapter)];
            w.sample("ctibridge_switch_link_up", &labels, link.up as u8);
        }
        w.family(
            "ctibridge_switch_reconnects_total",
            Kind::Counter,
            "Times the switch link came up again after it had been up before",
        );
        for (switch, link) in &links {
            let labels = [("switch", switch.as_str()), ("adapter", &link.adapter)];
            w.sample(
                "ctibridge_switch_reconnects_total",
                &labels,
                link.reconnects,
            );
        }

        w.histogram(
            "ctibridge_screen_pop_latency_seconds",
            POP_LATENCY_HELP,
            &self.pop_latency.snapshot(),
        );
        w.histogram(
            "ctibridge_crm_lookup_duration_seconds",
            LOOKUP_HELP,
            &self.lookup_duration.snapshot(),
        );

        w.family(
            "ctibridge_build_info",
            Kind::Gauge,
            "Always 1; the labels say which build is running",
        );
        w.sample(
            "ctibridge_build_info",
            &[("version", VERSION), ("commit", COMMIT)],
            1,
        );
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use std::sync::Arc;
    use std::time::Duration;

    /// The samples of a render, as `(name with labels, value)`.
    fn samples(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn value(text: &str, key: &str) -> String {
        samples(text)
            .into_iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
            .1
    }

    #[test]
    fn renders_every_family_with_help_and_type() {
        let m = Arc::new(Metrics::default());
        m.pops.fetch_add(3, Ordering::Relaxed);
        m.journal_pending.store(7, Ordering::Relaxed);
        let _agent = m.client_connected(Role::Agent);
        let text = m.render();
        assert_eq!(value(&text, "ctibridge_screen_pops_total"), "3");
        assert_eq!(value(&text, "ctibridge_journal_backlog"), "7");
        assert_eq!(value(&text, "ctibridge_clients{role=\"agent\"}"), "1");
        assert_eq!(value(&text, "ctibridge_clients{role=\"admin\"}"), "0");
        assert_eq!(
            value(
                &text,
                &format!("ctibridge_build_info{{version=\"{VERSION}\",commit=\"{COMMIT}\"}}")
            ),
            "1"
        );
        // Every sample belongs to a family announced just before it, once.
        let mut announced = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(!announced.contains(&name.to_string()), "{name} twice");
                announced.push(name.to_string());
                current = name.to_string();
                assert!(["counter", "gauge", "histogram"].contains(&kind));
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| *b == current))
                    .unwrap_or(name);
                assert_eq!(base, current, "{line}");
            }
        }
        for name in [
            "ctibridge_frames_sent_total",
            "ctibridge_frames_dropped_total",
            "ctibridge_calls_active",
            "ctibridge_database_up",
            "ctibridge_switch_reconnects_total",
            "ctibridge_screen_pop_latency_seconds",
            "ctibridge_crm_lookup_duration_seconds",
        ] {
            assert!(announced.iter().any(|a| a == name), "{name}");
        }
    }

    #[test]
    fn histograms_render_cumulative_buckets_sum_and_count() {
        let m = Metrics::default();
        m.pop_latency.observe(Duration::from_micros(80));
        m.pop_latency.observe(Duration::from_millis(20));
        m.pop_latency.observe(Duration::from_secs(5));
        let text = m.render();
        let bucket = |le: &str| {
            value(
                &text,
                &format!("ctibridge_screen_pop_latency_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.0001"), "1");
        assert_eq!(bucket("0.01"), "1");
        assert_eq!(bucket("0.025"), "2");
        assert_eq!(bucket("2.5"), "2");
        assert_eq!(bucket("+Inf"), "3");
        assert_eq!(
            value(&text, "ctibridge_screen_pop_latency_seconds_count"),
            "3"
        );
        let sum: f64 = value(&text, "ctibridge_screen_pop_latency_seconds_sum")
            .parse()
            .unwrap();
        assert!((sum - 5.02008).abs() < 1e-9, "{sum}");
        // Buckets never go down from one `le` to the next.
        let counts: Vec<u64> = samples(&text)
            .into_iter()
            .filter(|(k, _)| k.starts_with("ctibridge_screen_pop_latency_seconds_bucket"))
            .map(|(_, v)| v.parse().unwrap())
            .collect();
        assert_eq!(counts.len(), 15);
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        assert_eq!(
            value(&text, "ctibridge_crm_lookup_duration_seconds_count"),
            "0"
        );
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        assert_eq!(escape_label("plain-ÄÖ 1"), "plain-ÄÖ 1");
        assert_eq!(escape_help("a\\b\n\"q\""), "a\\\\b\\n\"q\"");
        let m = Metrics::default();
        m.set_link("pbx\"1\\\nx", "sim", true);
        let text = m.render();
        assert_eq!(
            value(
                &text,
                "ctibridge_switch_link_up{switch=\"pbx\\\"1\\\\\\nx\",adapter=\"sim\"}"
            ),
            "1"
        );
        assert_eq!(
            value(
                &text,
                "ctibridge_switch_reconnects_total{switch=\"pbx\\\"1\\\\\\nx\",adapter=\"sim\"}"
            ),
            "0"
        );
        // No raw line feed inside a sample: every line is a comment or `name value`.
        assert!(text.lines().all(|l| l.starts_with('#') || l.contains(' ')));
    }
}
