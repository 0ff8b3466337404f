//! Completed-call records (SMDR/CDR) → `call.record` events and call-log rows.
//!
//! A record is stored once. Its key is a hash of the switch and the record's raw
//! lines; the engine remembers recent keys (a replay within one run stops here) and
//! the database's unique `call_log.record_key` catches the rest (a replay after a
//! restart): the key is checked before anything is published, in the same database
//! round trip as the CRM look-up of the record's outside number.
//!
//! Correlation: when the PBX also reports live calls (on the same `[[switch]]`, or on
//! the one the records' switch names in `cti_switch`), the record usually describes a
//! call the engine has just logged. A record matches a call of that switch, live or
//! ended within [`ENDED_KEPT_FOR`], when
//! - the record's extension is one of the call's devices (when it names one),
//! - the record's outside number is the call's ANI or DNIS (last 7 digits, when it
//!   has one), with at least one of the two present, and
//! - its start is within [`TOLERANCE_S`] + its duration of the call's offer time.
//!
//! The closest in time wins, and a call is completed by one record only. The record
//! then completes that call's row (its raw lines and key; `source` stays `cti`)
//! instead of adding a row, and `call.record` carries the call's stable id in `call`.
//! Without a match the record gets its own row (`source = "smdr"`).

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use ctibridge_adapter::{CallRecord, Direction};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::calls::{new_call_id, Call};
use super::completion::Completion;
use super::effects::{DbJob, Effect};
use super::names::{EventName, Topic};
use super::Engine;
use crate::crm::db::DbError;
use crate::crm::lookup::CallerInfo;
use crate::crm::models::{CallLogRow, ContactMatch};
use crate::crm::outcome::CallOutcome;
use crate::crm::phone;
use crate::crm::writes::DbWrite;
use crate::hub::Audience;

/// Seconds a record's start may differ from the call's offer time, besides the
/// record's duration (switch clocks and CTI clocks are not the same clock).
pub const TOLERANCE_S: f64 = 60.0;
/// How long an ended call can still be completed by a record.
pub const ENDED_KEPT_FOR: Duration = Duration::minutes(30);
/// At most this many ended calls are kept for correlation.
const ENDED_KEPT: usize = 5_000;
/// Record keys remembered in memory.
const KEYS_KEPT: usize = 20_000;
/// Numbers agree when their last this many digits do.
const SUFFIX_DIGITS: usize = 7;

/// What the engine keeps of an ended call for correlation.
#[derive(Debug, Clone)]
struct EndedCall {
    id: String,
    switch: String,
    devices: Vec<String>,
    ani: Option<String>,
    dnis: Option<String>,
    offered_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    matches: Vec<ContactMatch>,
    completed: bool,
}

/// The engine's memory for call records.
#[derive(Debug)]
pub struct RecordMemory {
    ended: VecDeque<EndedCall>,
    keys: VecDeque<String>,
    key_set: HashSet<String>,
}

impl Default for RecordMemory {
    fn default() -> Self {
        RecordMemory {
            ended: VecDeque::new(),
            keys: VecDeque::new(),
            // Twice what it keeps, so it never doubles mid-run (see `CallTable`).
            key_set: HashSet::with_capacity(2 * KEYS_KEPT),
        }
    }
}

impl RecordMemory {
    /// Remember an ended call so a record arriving later can complete it.
    pub fn call_ended(&mut self, call: &Call, now: DateTime<Utc>) {
        if call.record.is_some() {
            return; // already completed while it went on
        }
        let mut devices = call.involved.clone();
        devices.extend(call.extension.clone());
        self.ended.push_back(EndedCall {
            id: call.id.clone(),
            switch: call.switch.clone(),
            devices,
            ani: call.ani.clone(),
            dnis: call.dnis.clone(),
            offered_at: call.offered_at,
            ended_at: now,
            matches: call.crm.info.matches.clone(),
            completed: false,
        });
        while self.ended.len() > ENDED_KEPT
            || self
                .ended
                .front()
                .is_some_and(|c| now - c.ended_at > ENDED_KEPT_FOR)
        {
            self.ended.pop_front();
        }
    }

    /// False when the key was seen before in this run.
    fn first_time(&mut self, key: &str) -> bool {
        if !self.key_set.insert(key.to_string()) {
            return false;
        }
        self.keys.push_back(key.to_string());
        if self.keys.len() > KEYS_KEPT {
            if let Some(old) = self.keys.pop_front() {
                self.key_set.remove(&old);
            }
        }
        true
    }
}

/// The record's key: the switch and its raw lines (or, without them, its fields).
pub fn record_key(switch: &str, record: &CallRecord, raw: Option<&str>) -> String {
    let text = match raw {
        Some(raw) => raw.to_string(),
        None => serde_json::to_string(record).unwrap_or_default(),
    };
    let mut hash = Sha256::new();
    hash.update(switch.as_bytes());
    hash.update([0]);
    hash.update(text.trim_end().as_bytes());
    hex::encode(hash.finalize())
}

/// The customer's number on the record: the caller of an inbound call, the number
/// an outbound call dialled.
fn outside_number(record: &CallRecord) -> Option<String> {
    match record.direction {
        Some(Direction::In) => record.calling.clone(),
        Some(Direction::Out) => record.dialed.clone().or(record.called.clone()),
        _ => None,
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

fn same_number(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let n = a.len().min(b.len());
    if n < SUFFIX_DIGITS {
        return a == b;
    }
    a.get(a.len() - SUFFIX_DIGITS..) == b.get(b.len() - SUFFIX_DIGITS..)
}

/// How well a call fits a record: `None` when it does not, else seconds apart.
fn fit(
    record: &CallRecord,
    devices: &[String],
    numbers: [Option<&str>; 2],
    offered_at: DateTime<Utc>,
) -> Option<f64> {
    let number = outside_number(record);
    let extension_ok = match &record.extension {
        Some(ext) => devices.iter().any(|d| d == ext),
        None => true,
    };
    let number_ok = match &number {
        Some(n) => numbers.iter().flatten().any(|m| same_number(n, m)),
        None => true,
    };
    if !extension_ok || !number_ok || (record.extension.is_none() && number.is_none()) {
        return None;
    }
    let apart = match record.start.map(|s| s.utc()) {
        Some(start) => ((start - offered_at).num_milliseconds() as f64 / 1000.0).abs(),
        None => 0.0,
    };
    (apart <= TOLERANCE_S + record.duration_s.unwrap_or(0.0)).then_some(apart)
}

/// Where a record belongs.
enum Target {
    Live(String),
    Ended(usize),
    Own,
}

impl Engine {
    /// A record from a switch: drop it if seen, else look its number up and check
    /// the database for it; [`Engine::record_checked`] goes on from there.
    pub(super) fn on_call_record(&mut self, switch: &str, record: CallRecord, raw: Option<String>) {
        let key = record_key(switch, &record, raw.as_deref());
        if !self.records.first_time(&key) {
            tracing::debug!(switch, "call record seen before in this run; dropped");
            return;
        }
        let number = outside_number(&record);
        self.effects.push(Effect::Db(DbJob::RecordCheck {
            switch: switch.to_string(),
            record: Box::new(record),
            raw,
            key,
            number,
        }));
    }

    /// The database has answered for a record: publish it and store it, completing
    /// a matching call's row where there is one.
    pub(super) fn record_checked(
        &mut self,
        switch: &str,
        record: CallRecord,
        raw: Option<String>,
        key: String,
        result: Result<Option<CallerInfo>, DbError>,
    ) {
        let info = match result {
            Ok(None) => {
                tracing::debug!(switch, "call record stored before (a replay); dropped");
                return;
            }
            Ok(Some(info)) => info,
            Err(e) => {
                // Still published and stored (the write is journaled if need be); only
                // the contact is missing, as for a pop.
                tracing::warn!(switch, error = %e, "CRM look-up for a call record failed");
                CallerInfo::default()
            }
        };
        let now = Self::now();
        let completion = Completion {
            raw: raw.clone().unwrap_or_default(),
            key: key.clone(),
            transfer_to: record.transfer_to.clone(),
        };
        let (call, matches, writes) = match self.correlate(switch, &record) {
            Target::Live(id) => {
                let call = self.calls.get_mut(&id);
                let matches = call
                    .as_ref()
                    .map(|c| c.crm.info.matches.clone())
                    .unwrap_or_default();
                if let Some(call) = call {
                    call.record = Some(completion);
                }
                (Some(id), matches, Vec::new())
            }
            Target::Ended(i) => match self.records.ended.get_mut(i) {
                Some(ended) => {
                    ended.completed = true;
                    let write = completion.write(&ended.id);
                    (Some(ended.id.clone()), ended.matches.clone(), vec![write])
                }
                None => (None, info.matches.clone(), Vec::new()),
            },
            Target::Own => {
                let row = self.record_row(switch, &record, raw, &info, now);
                let write = DbWrite::CallRecord {
                    row: Box::new(row),
                    record_key: key,
                };
                (None, info.matches.clone(), vec![write])
            }
        };
        let matches = if matches.is_empty() {
            info.matches
        } else {
            matches
        };
        let mut audience = Audience::default();
        if let Some(extension) = &record.extension {
            audience.devices.push(extension.clone());
            if let Some(agent) = self.agents.agent_id_at(extension) {
                audience.agents.push(agent.to_string());
            }
        }
        let mut data = json!({ "switch": switch });
        if let Some(call) = call {
            data["call"] = json!(call);
        }
        data["record"] = json!(record);
        data["crm"] = json!({ "matches": matches });
        self.emit(
            EventName::CallRecord,
            Topic::Switch(switch.to_string()),
            audience,
            data,
            writes,
        );
    }

    /// The live or recently ended call this record of `switch` describes: a call of
    /// the same switch, or of its `cti_switch` when the PBX's CTI link is another
    /// `[[switch]]`.
    fn correlate(&self, switch: &str, record: &CallRecord) -> Target {
        let switch = self
            .switches
            .get(switch)
            .and_then(|link| link.cti_switch.as_deref())
            .unwrap_or(switch);
        let mut best: Option<(f64, Target)> = None;
        let mut consider = |apart: Option<f64>, target: Target| {
            if let Some(apart) = apart {
                if best.as_ref().is_none_or(|(b, _)| apart < *b) {
                    best = Some((apart, target));
                }
            }
        };
        for call in self
            .calls
            .iter()
            .filter(|c| c.switch == switch && c.record.is_none())
        {
            let mut devices = call.involved.clone();
            devices.extend(call.extension.clone());
            let numbers = [call.ani.as_deref(), call.dnis.as_deref()];
            consider(
                fit(record, &devices, numbers, call.offered_at),
                Target::Live(call.id.clone()),
            );
        }
        for (i, call) in self.records.ended.iter().enumerate() {
            if call.switch != switch || call.completed {
                continue;
            }
            let numbers = [call.ani.as_deref(), call.dnis.as_deref()];
            consider(
                fit(record, &call.devices, numbers, call.offered_at),
                Target::Ended(i),
            );
        }
        best.map_or(Target::Own, |(_, target)| target)
    }

    /// The row of a record no call matched.
    fn record_row(
        &self,
        switch: &str,
        record: &CallRecord,
        raw: Option<String>,
        info: &CallerInfo,
        now: DateTime<Utc>,
    ) -> CallLogRow {
        let start = record.start.map(|s| s.utc()).unwrap_or(now);
        let duration = record.duration_s.unwrap_or(0.0);
        let ring = record.ring_s.unwrap_or(0.0);
        let ended = start + Duration::milliseconds(((ring + duration) * 1000.0) as i64);
        let direction = record.direction.unwrap_or(Direction::In);
        let ani = match direction {
            Direction::In => record.calling.clone(),
            _ => record.extension.clone().or(record.calling.clone()),
        };
        let answered = record.answered.unwrap_or(duration > 0.0);
        let answered_at = start + Duration::milliseconds((ring * 1000.0) as i64);
        CallLogRow {
            call_id: new_call_id(),
            switch: switch.to_string(),
            direction: direction.as_str().to_string(),
            ani_e164: ani
                .as_deref()
                .and_then(|a| phone::normalise(a, &self.config.country))
                .map(|n| n.e164),
            ani,
            dnis: record.dialed.clone().or(record.called.clone()),
            queue: None,
            agent: record
                .extension
                .as_deref()
                .and_then(|e| self.agents.agent_id_at(e))
                .map(String::from),
            extension: record.extension.clone(),
            contact_id: info.matches.first().map(|m| m.id),
            offered_at: start.naive_utc(),
            answered_at: answered.then(|| answered_at.naive_utc()),
            ended_at: Some(ended.naive_utc()),
            queue_s: None,
            ring_s: record.ring_s,
            talk_s: answered.then_some(duration),
            hold_s: None,
            acw_s: None,
            outcome: if answered {
                CallOutcome::Answered
            } else if direction == Direction::In {
                CallOutcome::Abandoned
            } else {
                CallOutcome::Failed
            },
            transferred_to: record.transfer_to.clone(),
            source: "smdr".into(),
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ext: Option<&str>, calling: Option<&str>, start: &str, duration: f64) -> CallRecord {
        CallRecord {
            start: Some(start.parse().unwrap()),
            duration_s: Some(duration),
            direction: Some(Direction::In),
            extension: ext.map(String::from),
            calling: calling.map(String::from),
            ..CallRecord::default()
        }
    }

    #[test]
    fn numbers_match_on_their_last_digits() {
        assert!(same_number("4155550123", "+1 (415) 555-0123"));
        assert!(same_number("1001", "1001"));
        assert!(!same_number("1001", "21001"));
        assert!(!same_number("", ""));
    }

    #[test]
    fn fit_needs_extension_number_and_time() {
        let at: DateTime<Utc> = "2026-03-10T09:00:00Z".parse().unwrap();
        let devices = vec!["1001".to_string()];
        let numbers = [Some("+14155550123"), Some("8000")];
        let r = record(
            Some("1001"),
            Some("4155550123"),
            "2026-03-10T09:00:30Z",
            120.0,
        );
        assert_eq!(fit(&r, &devices, numbers, at), Some(30.0));
        let r = record(
            Some("1002"),
            Some("4155550123"),
            "2026-03-10T09:00:30Z",
            120.0,
        );
        assert_eq!(fit(&r, &devices, numbers, at), None, "another extension");
        let r = record(
            Some("1001"),
            Some("4155559999"),
            "2026-03-10T09:00:30Z",
            120.0,
        );
        assert_eq!(fit(&r, &devices, numbers, at), None, "another caller");
        let r = record(Some("1001"), None, "2026-03-10T09:10:00Z", 120.0);
        assert_eq!(fit(&r, &devices, numbers, at), None, "too far apart");
        let r = record(None, None, "2026-03-10T09:00:00Z", 1.0);
        assert_eq!(fit(&r, &devices, numbers, at), None, "nothing to go by");
    }

    #[test]
    fn keys_depend_on_switch_and_line() {
        let r = CallRecord::default();
        let a = record_key("pbx", &r, Some("line\r\n"));
        assert_eq!(a, record_key("pbx", &r, Some("line")));
        assert_ne!(a, record_key("pbx2", &r, Some("line")));
        assert_ne!(a, record_key("pbx", &r, Some("other")));
    }
}
