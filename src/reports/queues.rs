//! The queue report: offered, handled, abandoned, ASA, AHT, service level per queue.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ratio, Thresholds};
use crate::crm::models::CallLogRow;
use crate::crm::outcome::CallOutcome;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueFigures {
    pub queue: String,
    pub offered: u64,
    pub handled: u64,
    pub abandoned: u64,
    pub short_abandons: u64,
    pub abandon_rate: f64,
    pub asa_s: f64,
    pub att_s: f64,
    pub aht_s: f64,
    pub avg_queue_s: f64,
    pub avg_ring_s: f64,
    pub longest_wait_s: f64,
    pub service_level: f64,
    pub service_level_s: f64,
}

#[derive(Default)]
struct Sums {
    offered: u64,
    handled: u64,
    abandoned: u64,
    short: u64,
    answer_wait: f64,
    talk: f64,
    handle: f64,
    queue: f64,
    queued: u64,
    ring: f64,
    rang: u64,
    longest: f64,
    within: u64,
}

/// Figures per queue for the calls given (calls without a queue are left out).
pub fn queue_report(calls: &[CallLogRow], t: Thresholds) -> Vec<QueueFigures> {
    let mut by_queue: BTreeMap<&str, Sums> = BTreeMap::new();
    for call in calls {
        let Some(queue) = call.queue.as_deref() else {
            continue;
        };
        let s = by_queue.entry(queue).or_default();
        let wait = call.queue_s.unwrap_or(0.0) + call.ring_s.unwrap_or(0.0);
        s.offered += 1;
        s.longest = s.longest.max(wait);
        if let Some(q) = call.queue_s {
            s.queue += q;
            s.queued += 1;
        }
        if let Some(r) = call.ring_s {
            s.ring += r;
            s.rang += 1;
        }
        match call.outcome {
            CallOutcome::Answered => {
                s.handled += 1;
                s.answer_wait += wait;
                let talk = call.talk_s.unwrap_or(0.0);
                s.talk += talk;
                s.handle += talk + call.hold_s.unwrap_or(0.0) + call.acw_s.unwrap_or(0.0);
                if wait <= t.service_level_s {
                    s.within += 1;
                }
            }
            CallOutcome::Abandoned => s.abandoned += 1,
            CallOutcome::ShortAbandon => s.short += 1,
            CallOutcome::Failed => {}
        }
    }
    by_queue
        .into_iter()
        .map(|(queue, s)| {
            let base = (s.offered - s.short) as f64;
            let handled = s.handled as f64;
            QueueFigures {
                queue: queue.to_string(),
                offered: s.offered,
                handled: s.handled,
                abandoned: s.abandoned,
                short_abandons: s.short,
                abandon_rate: ratio(s.abandoned as f64, base),
                asa_s: ratio(s.answer_wait, handled),
                att_s: ratio(s.talk, handled),
                aht_s: ratio(s.handle, handled),
                avg_queue_s: ratio(s.queue, s.queued as f64),
                avg_ring_s: ratio(s.ring, s.rang as f64),
                longest_wait_s: s.longest,
                service_level: ratio(s.within as f64, base),
                service_level_s: t.service_level_s,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn call(
        queue: Option<&str>,
        outcome: &str,
        q: Option<f64>,
        r: Option<f64>,
        talk: f64,
        hold: f64,
        acw: f64,
    ) -> CallLogRow {
        CallLogRow {
            call_id: uuid::Uuid::now_v7().to_string(),
            switch: "pbx".into(),
            direction: "in".into(),
            ani: None,
            ani_e164: None,
            dnis: None,
            queue: queue.map(String::from),
            agent: Some("1001".into()),
            extension: Some("1001".into()),
            contact_id: None,
            offered_at: chrono::NaiveDateTime::default(),
            answered_at: None,
            ended_at: None,
            queue_s: q,
            ring_s: r,
            talk_s: Some(talk),
            hold_s: Some(hold),
            acw_s: Some(acw),
            outcome: CallOutcome::parse(outcome).expect("a known outcome"),
            transferred_to: None,
            source: "cti".into(),
            raw: None,
        }
    }

    /// Figures worked out by hand (DESIGN.md definitions).
    #[test]
    fn figures_match_the_definitions() {
        let calls = vec![
            call(
                Some("8000"),
                "answered",
                Some(10.0),
                Some(5.0),
                60.0,
                10.0,
                20.0,
            ),
            call(
                Some("8000"),
                "answered",
                Some(30.0),
                Some(4.0),
                100.0,
                0.0,
                10.0,
            ),
            call(Some("8000"), "abandoned", Some(40.0), None, 0.0, 0.0, 0.0),
            call(
                Some("8000"),
                "short_abandon",
                Some(3.0),
                None,
                0.0,
                0.0,
                0.0,
            ),
            call(
                Some("8001"),
                "answered",
                Some(0.0),
                Some(2.0),
                30.0,
                0.0,
                0.0,
            ),
            call(None, "answered", None, Some(1.0), 10.0, 0.0, 0.0),
        ];
        let report = queue_report(
            &calls,
            Thresholds {
                service_level_s: 20.0,
                short_abandon_s: 5.0,
            },
        );
        assert_eq!(report.len(), 2);
        let q = &report[0];
        assert_eq!(
            (
                q.queue.as_str(),
                q.offered,
                q.handled,
                q.abandoned,
                q.short_abandons
            ),
            ("8000", 4, 2, 1, 1)
        );
        assert!((q.abandon_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(q.asa_s, 24.5);
        assert_eq!(q.att_s, 80.0);
        assert_eq!(q.aht_s, 100.0);
        assert_eq!(q.avg_queue_s, 20.75);
        assert_eq!(q.avg_ring_s, 4.5);
        assert_eq!(q.longest_wait_s, 40.0);
        assert!((q.service_level - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(report[1].service_level, 1.0);
    }
}
