//! Live ACD queue figures for wallboards: `queue.stats`, published every two seconds
//! for each queue whose figures changed. Counters cover the current UTC day; the
//! reports (from the call log) are the authoritative figures for any period.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use ctibridge_adapter::{AgentState, PartyState};
use serde_json::{json, Value};

use super::names::{EventName, Topic};
use super::states::CallOutcome;
use super::Engine;
use crate::hub::Audience;
use crate::time::seconds;

#[derive(Debug, Default, Clone)]
struct Counters {
    offered: u64,
    handled: u64,
    abandoned: u64,
    short_abandons: u64,
    /// Answered within the service-level threshold.
    within_service_level: u64,
    total_wait_s: f64,
}

#[derive(Default)]
pub struct QueueStats {
    known: HashSet<String>,
    day: Option<NaiveDate>,
    counters: BTreeMap<String, Counters>,
    last_sent: HashMap<String, Value>,
    service_level_s: f64,
}

impl QueueStats {
    pub fn new(service_level_s: f64) -> Self {
        QueueStats {
            service_level_s,
            ..QueueStats::default()
        }
    }

    /// A device that is an ACD queue (seen in a Queued event).
    pub fn knows(&self, device: &str) -> bool {
        self.known.contains(device)
    }

    pub fn learn(&mut self, queue: &str) {
        if !self.known.contains(queue) {
            self.known.insert(queue.to_string());
        }
    }

    fn today(&mut self, queue: &str) -> &mut Counters {
        let today = Utc::now().date_naive();
        if self.day != Some(today) {
            self.day = Some(today);
            self.counters.clear();
        }
        self.counters.entry(queue.to_string()).or_default()
    }

    /// The last published figures of every queue, for snapshots.
    pub fn latest(&self) -> Vec<Value> {
        let mut queues: Vec<&Value> = self.last_sent.values().collect();
        queues.sort_by(|a, b| a["queue"].as_str().cmp(&b["queue"].as_str()));
        queues.into_iter().cloned().collect()
    }

    pub fn offered(&mut self, queue: &str) {
        self.today(queue).offered += 1;
    }

    pub fn handled(&mut self, queue: &str, wait_s: f64) {
        let within = wait_s <= self.service_level_s;
        let c = self.today(queue);
        c.handled += 1;
        c.total_wait_s += wait_s;
        if within {
            c.within_service_level += 1;
        }
    }

    pub fn unanswered(&mut self, queue: &str, outcome: CallOutcome) {
        let c = self.today(queue);
        match outcome {
            CallOutcome::ShortAbandon => c.short_abandons += 1,
            CallOutcome::Abandoned => c.abandoned += 1,
            CallOutcome::Answered | CallOutcome::Failed => {}
        }
    }
}

impl Engine {
    pub(super) fn publish_queue_stats(&mut self) {
        let now = Utc::now();
        let ready = self
            .agents
            .iter()
            .filter(|a| a.state == AgentState::Ready)
            .count();
        let queues: Vec<String> = self.queue_stats.known.iter().cloned().collect();
        for queue in queues {
            let mut waiting = 0;
            let mut longest = 0.0f64;
            for call in self.calls.iter() {
                if call
                    .parties
                    .iter()
                    .any(|p| p.device == queue && p.state == PartyState::Queued)
                {
                    waiting += 1;
                    if let Some(at) = call.queued_at {
                        longest = longest.max(seconds(at, now));
                    }
                }
            }
            let c = self.queue_stats.today(&queue).clone();
            let base = c.offered.saturating_sub(c.short_abandons);
            let data = json!({
                "queue": queue,
                "waiting": waiting,
                "longest_wait_s": longest.floor(),
                "offered": c.offered,
                "handled": c.handled,
                "abandoned": c.abandoned,
                "short_abandons": c.short_abandons,
                "abandon_rate": if base > 0 { c.abandoned as f64 / base as f64 } else { 0.0 },
                "service_level": if base > 0 { c.within_service_level as f64 / base as f64 } else { 1.0 },
                "service_level_s": self.queue_stats.service_level_s,
                "asa_s": if c.handled > 0 { c.total_wait_s / c.handled as f64 } else { 0.0 },
                "agents_ready": ready,
            });
            if self.queue_stats.last_sent.get(&queue) == Some(&data) {
                continue;
            }
            self.queue_stats
                .last_sent
                .insert(queue.clone(), data.clone());
            self.emit(
                EventName::QueueStats,
                Topic::Queue(queue.clone()),
                Audience::default(),
                data,
                Vec::new(),
            );
        }
    }
}
