//! Counters and gauges for `/metrics` (Prometheus text format) and `/healthz`.
//!
//! Plain atomics: the hot paths bump them without locks, and the few values that are
//! per switch live in a small map updated only on link changes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Metrics {
    pub events_published: AtomicU64,
    pub switch_events: AtomicU64,
    pub pops: AtomicU64,
    pub clients: AtomicU64,
    pub connections_total: AtomicU64,
    pub auth_failures: AtomicU64,
    pub slow_clients_closed: AtomicU64,
    pub requests: AtomicU64,
    pub request_errors: AtomicU64,
    pub rate_limited: AtomicU64,
    pub lookups: AtomicU64,
    pub lookup_errors: AtomicU64,
    pub calls_active: AtomicU64,
    pub calls_ended: AtomicU64,
    pub database_up: AtomicBool,
    pub journal_pending: AtomicU64,
    pub seq: AtomicU64,
    /// switch name → (adapter, link up)
    pub links: Mutex<BTreeMap<String, (String, bool)>>,
}

impl Metrics {
    pub fn set_link(&self, switch: &str, adapter: &str, up: bool) {
        if let Ok(mut links) = self.links.lock() {
            links.insert(switch.to_string(), (adapter.to_string(), up));
        }
    }

    pub fn links(&self) -> Vec<(String, String, bool)> {
        self.links
            .lock()
            .map(|l| {
                l.iter()
                    .map(|(k, (a, up))| (k.clone(), a.clone(), *up))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 13] = [
            (
                "ctibridge_events_published_total",
                "Events published to clients",
                &self.events_published,
            ),
            (
                "ctibridge_switch_events_total",
                "Events received from switches",
                &self.switch_events,
            ),
            (
                "ctibridge_screen_pops_total",
                "call.offered events sent",
                &self.pops,
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
                "CRM look-ups made against the database",
                &self.lookups,
            ),
            (
                "ctibridge_crm_lookup_errors_total",
                "CRM look-ups that failed",
                &self.lookup_errors,
            ),
            (
                "ctibridge_calls_ended_total",
                "Calls ended and logged",
                &self.calls_ended,
            ),
            ("ctibridge_seq", "The last event sequence number", &self.seq),
        ];
        for (name, help, value) in counters {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let gauges: [(&str, &str, u64); 4] = [
            (
                "ctibridge_clients",
                "Connected WebSocket clients",
                self.clients.load(Ordering::Relaxed),
            ),
            (
                "ctibridge_calls_active",
                "Calls in progress",
                self.calls_active.load(Ordering::Relaxed),
            ),
            (
                "ctibridge_database_up",
                "1 when the database takes writes",
                self.database_up.load(Ordering::Relaxed) as u64,
            ),
            (
                "ctibridge_journal_pending",
                "Writes waiting in the on-disk journal",
                self.journal_pending.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let _ = writeln!(out, "# HELP ctibridge_switch_link_up 1 when the switch link is up\n# TYPE ctibridge_switch_link_up gauge");
        for (switch, adapter, up) in self.links() {
            let _ = writeln!(
                out,
                "ctibridge_switch_link_up{{switch=\"{}\",adapter=\"{}\"}} {}",
                escape_label(&switch),
                escape_label(&adapter),
                up as u8
            );
        }
        out
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.pops.fetch_add(3, Ordering::Relaxed);
        m.set_link("pbx\"1", "sim", true);
        let text = m.render();
        assert!(text.contains("ctibridge_screen_pops_total 3"));
        assert!(text.contains("ctibridge_switch_link_up{switch=\"pbx\\\"1\",adapter=\"sim\"} 1"));
        assert!(text.contains("# TYPE ctibridge_clients gauge"));
    }
}
