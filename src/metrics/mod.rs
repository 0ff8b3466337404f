//! Counters, gauges and histograms for `/metrics` (Prometheus text format) and
//! `/healthz`.
//!
//! Plain atomics: the hot paths (an event fanned out, a frame written, a pop, a
//! look-up) bump them without locks or allocation. The few values kept per switch
//! live in a small map locked only on link changes and when `/metrics` is read.
//!
//! - [`histogram`]: fixed-bucket latency histograms.
//! - [`exposition`]: the text format (families, label escaping, rendering).

pub mod exposition;
pub mod histogram;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::auth::Role;
use histogram::Histogram;

/// The roles `ctibridge_clients` is broken down by, in the order they are rendered.
pub const ROLES: [Role; 4] = [Role::Agent, Role::Supervisor, Role::App, Role::Admin];

fn role_index(role: Role) -> usize {
    match role {
        Role::Agent => 0,
        Role::Supervisor => 1,
        Role::App => 2,
        Role::Admin => 3,
    }
}

/// One switch link as `/metrics` and `/healthz` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub adapter: String,
    pub up: bool,
    /// Has the link ever been up? Only a later up counts as a reconnect.
    pub ever_up: bool,
    pub reconnects: u64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub events_published: AtomicU64,
    pub switch_events: AtomicU64,
    pub pops: AtomicU64,
    /// Authenticated, subscribed WebSocket clients, by [`ROLES`] index.
    clients: [AtomicU64; 4],
    pub connections_total: AtomicU64,
    pub auth_failures: AtomicU64,
    pub slow_clients_closed: AtomicU64,
    /// Event frames written to client sockets (one per client per event).
    pub frames_sent: AtomicU64,
    /// Event frames meant for a client that it never got: refused by its full queue,
    /// or still queued when it was cut off for falling behind.
    pub frames_dropped: AtomicU64,
    pub requests: AtomicU64,
    pub request_errors: AtomicU64,
    pub rate_limited: AtomicU64,
    pub lookups: AtomicU64,
    pub lookup_errors: AtomicU64,
    pub calls_active: AtomicU64,
    pub calls_ended: AtomicU64,
    pub database_up: AtomicBool,
    /// Writes waiting in the on-disk journal (`ctibridge_journal_backlog`).
    pub journal_pending: AtomicU64,
    pub seq: AtomicU64,
    /// From the engine taking up the switch event that rang a phone to the hub
    /// handing that phone's `call.offered` to the client queues.
    pub pop_latency: Histogram,
    /// A CRM look-up: waiting for a database connection plus the query.
    pub lookup_duration: Histogram,
    /// switch name → its link
    links: Mutex<BTreeMap<String, Link>>,
}

/// Counts one connected client of a role for as long as it is held.
#[derive(Debug)]
pub struct ClientGuard {
    metrics: Arc<Metrics>,
    role: usize,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.metrics.clients[self.role].fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A client of `role` has subscribed; it counts until the guard is dropped, so
    /// every way a connection ends (close, error, cut-off, shutdown) uncounts it.
    pub fn client_connected(self: &Arc<Self>, role: Role) -> ClientGuard {
        let role = role_index(role);
        self.clients[role].fetch_add(1, Ordering::Relaxed);
        ClientGuard {
            metrics: self.clone(),
            role,
        }
    }

    pub fn clients_of(&self, role: Role) -> u64 {
        self.clients[role_index(role)].load(Ordering::Relaxed)
    }

    /// Connected clients of every role.
    pub fn clients(&self) -> u64 {
        self.clients.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    pub fn set_link(&self, switch: &str, adapter: &str, up: bool) {
        if let Ok(mut links) = self.links.lock() {
            let link = links.entry(switch.to_string()).or_default();
            link.adapter = adapter.to_string();
            if up && !link.up && link.ever_up {
                link.reconnects += 1;
            }
            link.ever_up |= up;
            link.up = up;
        }
    }

    /// Every switch link, by switch name.
    pub fn links(&self) -> Vec<(String, Link)> {
        self.links
            .lock()
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_count_by_role_until_their_guard_drops() {
        let m = Arc::new(Metrics::default());
        let a = m.client_connected(Role::Agent);
        let b = m.client_connected(Role::Agent);
        let s = m.client_connected(Role::Supervisor);
        assert_eq!(m.clients_of(Role::Agent), 2);
        assert_eq!(m.clients_of(Role::Supervisor), 1);
        assert_eq!(m.clients_of(Role::App), 0);
        assert_eq!(m.clients(), 3);
        drop(a);
        drop(s);
        assert_eq!(m.clients_of(Role::Agent), 1);
        assert_eq!(m.clients(), 1);
        drop(b);
        assert_eq!(m.clients(), 0);
    }

    #[test]
    fn a_reconnect_is_an_up_after_an_earlier_up() {
        let m = Metrics::default();
        m.set_link("pbx", "csta", false); // configured, never up yet
        m.set_link("pbx", "csta", true); // first connection: not a reconnect
        assert_eq!(m.links()[0].1.reconnects, 0);
        m.set_link("pbx", "csta", true); // up again without a down: no change
        m.set_link("pbx", "csta", false);
        m.set_link("pbx", "csta", false);
        m.set_link("pbx", "csta", true);
        m.set_link("pbx", "csta", false);
        m.set_link("pbx", "csta", true);
        let (name, link) = &m.links()[0];
        assert_eq!(name, "pbx");
        assert_eq!(link.reconnects, 2);
        assert!(link.up);
    }
}
