//! The agent report: time logged on, ready, talking, holding, in after-call work and
//! not ready (by reason), calls handled and occupancy, per agent.
//!
//! Agent states are the ACD's; talking and holding happen while the agent is in the
//! `ready` state, so ready (idle) time is the `ready` state's time less talk and hold.
//!
//! Everything is clipped to the period: state rows by their times, and a call's talk
//! and hold by the share of its answered-to-ended time inside the period (a call
//! from 23:50 to 00:10 gives each day half). A call counts as handled in the period
//! it was answered in. An agent's state rows never count twice: where two overlap
//! (the agent logged on at a second phone before the first session was closed) the
//! time counts once.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::period::show;
use super::ratio;
use crate::crm::models::{AgentStateRow, CallLogRow};
use crate::crm::outcome::CallOutcome;
use crate::time::seconds;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentFigures {
    pub agent: String,
    /// When the agent was first logged on in the period (its start, if logged on
    /// then), RFC 3339.
    pub first_logon: Option<String>,
    /// When the agent last logged off in the period; `None` when still logged on at
    /// its end.
    pub last_logoff: Option<String>,
    pub logged_on_s: f64,
    pub ready_s: f64,
    pub talk_s: f64,
    pub hold_s: f64,
    pub acw_s: f64,
    pub not_ready_s: f64,
    pub not_ready_by_reason: BTreeMap<String, f64>,
    pub handled: u64,
    pub occupancy: f64,
}

#[derive(Default)]
struct Sums {
    first_on: Option<NaiveDateTime>,
    last_end: Option<NaiveDateTime>,
    open_at_end: bool,
    ready: f64,
    acw: f64,
    not_ready: f64,
    by_reason: BTreeMap<String, f64>,
    talk: f64,
    hold: f64,
    handled: u64,
}

/// Figures per agent over `[from, to)`; states still open count until `now`.
pub fn agent_report(
    states: &[AgentStateRow],
    calls: &[CallLogRow],
    from: NaiveDateTime,
    to: NaiveDateTime,
    now: NaiveDateTime,
) -> Vec<AgentFigures> {
    let mut by_agent: BTreeMap<&str, Sums> = BTreeMap::new();
    let mut ordered: Vec<&AgentStateRow> = states.iter().collect();
    ordered.sort_by(|a, b| (&a.agent, a.started_at).cmp(&(&b.agent, b.started_at)));
    // Per agent, the time already counted ends here.
    let mut covered: BTreeMap<&str, NaiveDateTime> = BTreeMap::new();
    for state in ordered {
        let state_end = state.ended_at.unwrap_or(now);
        let counted = covered.entry(&state.agent).or_insert(from);
        let start = state.started_at.max(from).max(*counted);
        *counted = (*counted).max(state_end);
        let end = state_end.min(to);
        if end <= start {
            continue;
        }
        let span = seconds(start.and_utc(), end.and_utc());
        let s = by_agent.entry(&state.agent).or_default();
        s.first_on = Some(s.first_on.map_or(start, |t| t.min(start)));
        s.last_end = Some(s.last_end.map_or(state_end, |t| t.max(state_end)));
        s.open_at_end |= state.ended_at.is_none() || state_end >= to;
        match state.state.as_str() {
            "ready" => s.ready += span,
            "acw" => s.acw += span,
            "not_ready" => {
                s.not_ready += span;
                let reason = state.reason.clone().unwrap_or_else(|| "none".into());
                *s.by_reason.entry(reason).or_default() += span;
            }
            _ => {}
        }
    }
    for call in calls {
        let (Some(agent), CallOutcome::Answered) = (call.agent.as_deref(), call.outcome) else {
            continue;
        };
        let in_period = |t: NaiveDateTime| from <= t && t < to;
        let (share, handled) = match call.answered_at {
            Some(answered) => {
                let ended = call.ended_at.unwrap_or(now);
                let whole = seconds(answered.and_utc(), ended.and_utc());
                let inside = seconds(answered.max(from).and_utc(), ended.min(to).and_utc());
                let share = if whole > 0.0 {
                    inside / whole
                } else if in_period(answered) {
                    1.0
                } else {
                    0.0
                };
                (share, in_period(answered))
            }
            // A row without an answer time (older rows): the period it was offered in.
            None if in_period(call.offered_at) => (1.0, true),
            None => (0.0, false),
        };
        if share == 0.0 && !handled {
            continue;
        }
        let s = by_agent.entry(agent).or_default();
        s.handled += u64::from(handled);
        s.talk += call.talk_s.unwrap_or(0.0) * share;
        s.hold += call.hold_s.unwrap_or(0.0) * share;
    }
    by_agent
        .into_iter()
        .map(|(agent, s)| {
            let logged_on = s.ready + s.acw + s.not_ready;
            let busy = s.talk + s.hold + s.acw;
            AgentFigures {
                agent: agent.to_string(),
                first_logon: s.first_on.map(show),
                last_logoff: s.last_end.filter(|_| !s.open_at_end).map(show),
                logged_on_s: logged_on,
                ready_s: (s.ready - s.talk - s.hold).max(0.0),
                talk_s: s.talk,
                hold_s: s.hold,
                acw_s: s.acw,
                not_ready_s: s.not_ready,
                not_ready_by_reason: s.by_reason,
                handled: s.handled,
                occupancy: ratio(busy, logged_on - s.not_ready),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn state(
        name: &str,
        reason: Option<&str>,
        start: NaiveDateTime,
        end: Option<NaiveDateTime>,
    ) -> AgentStateRow {
        AgentStateRow {
            id: uuid::Uuid::now_v7().to_string(),
            agent: "1001".into(),
            extension: Some("1001".into()),
            state: name.into(),
            reason: reason.map(String::from),
            started_at: start,
            ended_at: end,
        }
    }

    /// Worked by hand: the period [08:30, 09:50) clips the first and the open state.
    #[test]
    fn time_split_and_occupancy() {
        let states = vec![
            state("ready", None, at(8, 0), Some(at(9, 0))),
            state("not_ready", Some("lunch"), at(9, 0), Some(at(9, 30))),
            state("acw", None, at(9, 30), Some(at(9, 35))),
            state("ready", None, at(9, 35), None),
        ];
        let mut call = crate::reports::queues::tests::call(
            Some("8000"),
            "answered",
            None,
            None,
            600.0,
            60.0,
            300.0,
        );
        call.agent = Some("1001".into());
        call.answered_at = Some(at(9, 35));
        call.ended_at = Some(at(9, 46));
        let report = agent_report(&states, &[call], at(8, 30), at(9, 50), at(10, 0));
        let a = &report[0];
        assert_eq!(a.logged_on_s, 4800.0);
        assert_eq!(a.not_ready_s, 1800.0);
        assert_eq!(a.not_ready_by_reason.get("lunch"), Some(&1800.0));
        assert_eq!(a.acw_s, 300.0);
        assert_eq!(a.talk_s, 600.0);
        assert_eq!(a.hold_s, 60.0);
        assert_eq!(a.ready_s, 2700.0 - 660.0);
        assert_eq!(a.handled, 1);
        assert!((a.occupancy - 0.32).abs() < 1e-9);
    }
}
