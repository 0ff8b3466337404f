//! The engine's calls: stable ids, parties, timings, and the call-log row a call
//! leaves behind.
//!
//! A switch names a call by its own id, which changes on some switches at a transfer
//! or conference (the consultation call merges into the held one). The engine gives
//! every call a stable id (UUIDv7: unique for the life of the database, sortable by
//! time) and maps every switch id the call has had to it, so the CRM sees one
//! interaction from first ring to hang-up.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use ctibridge_adapter::{Direction, PartyState};

use super::states::{CallOutcome, CallState};
use super::views::{CallView, CrmView, PartyView};
use crate::crm::lookup::CallerInfo;
use crate::crm::models::CallLogRow;
use crate::time::seconds;

/// One device's connection to a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    pub device: String,
    pub state: PartyState,
    /// A monitored device of ours (extension, ACD group), as opposed to an outside number.
    pub internal: bool,
}

/// How far the CRM look-up for a call has got.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Crm {
    pub pending: bool,
    pub info: CallerInfo,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub switch: String,
    /// The switch's ids for this call, first one first.
    pub switch_ids: Vec<String>,
    pub direction: Direction,
    pub ani: Option<String>,
    pub ani_e164: Option<String>,
    pub dnis: Option<String>,
    pub queue: Option<String>,
    pub digits: Option<String>,
    pub client_ref: Option<String>,
    pub parties: Vec<Party>,
    /// Every internal device the call has been at, for who hears about it.
    pub involved: Vec<String>,
    pub crm: Crm,
    pub offered_at: DateTime<Utc>,
    pub queued_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub hold_started: Option<DateTime<Utc>>,
    pub hold_s: f64,
    /// After-call work already done for this call while it went on (an agent that
    /// transferred it away and finished its ACW before the call ended).
    pub acw_s: f64,
    /// The agent and extension that answered first.
    pub agent: Option<String>,
    pub extension: Option<String>,
    pub transferred_to: Option<String>,
    pub failed: bool,
    /// Devices that got their `call.offered` (one pop per call per device).
    pub popped: HashSet<String>,
    /// Devices whose pop waits for the CRM look-up, with when the engine took up the
    /// event that rang each (the pop's latency counts from there).
    pub pops_waiting: Vec<(String, std::time::Instant)>,
    /// A call record (SMDR/CDR) that arrived for this call while it was still going
    /// on; it completes the call's log row when the call ends.
    pub record: Option<super::completion::Completion>,
}

impl Call {
    pub fn new(
        id: String,
        switch: &str,
        switch_id: &str,
        direction: Direction,
        now: DateTime<Utc>,
    ) -> Self {
        Call {
            id,
            switch: switch.to_string(),
            switch_ids: vec![switch_id.to_string()],
            direction,
            ani: None,
            ani_e164: None,
            dnis: None,
            queue: None,
            digits: None,
            client_ref: None,
            parties: Vec::new(),
            involved: Vec::new(),
            crm: Crm::default(),
            offered_at: now,
            queued_at: None,
            delivered_at: None,
            answered_at: None,
            hold_started: None,
            hold_s: 0.0,
            acw_s: 0.0,
            agent: None,
            extension: None,
            transferred_to: None,
            failed: false,
            popped: HashSet::new(),
            pops_waiting: Vec::new(),
            record: None,
        }
    }

    pub fn party(&self, device: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.device == device)
    }

    /// Add or update `device`'s connection.
    pub fn set_party(&mut self, device: &str, state: PartyState, internal: bool) {
        match self.parties.iter_mut().find(|p| p.device == device) {
            Some(party) => party.state = state,
            None => self.parties.push(Party {
                device: device.to_string(),
                state,
                internal,
            }),
        }
        if internal && !self.involved.iter().any(|d| d == device) {
            self.involved.push(device.to_string());
        }
    }

    /// Remove `device`'s connection; true if it was there.
    pub fn remove_party(&mut self, device: &str) -> bool {
        let before = self.parties.len();
        self.parties.retain(|p| p.device != device);
        before != self.parties.len()
    }

    /// The call's state as clients see it.
    pub fn state(&self) -> CallState {
        let has = |s: PartyState| self.parties.iter().any(|p| p.state == s);
        if self
            .parties
            .iter()
            .any(|p| p.internal && p.state == PartyState::Held)
        {
            CallState::Held
        } else if self
            .parties
            .iter()
            .filter(|p| p.state == PartyState::Connected)
            .count()
            >= 2
        {
            CallState::Talking
        } else if has(PartyState::Alerting) {
            CallState::Ringing
        } else if has(PartyState::Initiated) {
            CallState::Dialing
        } else if has(PartyState::Queued) {
            CallState::Queued
        } else if has(PartyState::Connected) {
            CallState::Talking
        } else {
            CallState::Idle
        }
    }

    /// Account hold time as internal parties go on and off hold.
    pub fn update_hold(&mut self, now: DateTime<Utc>) {
        let held = self
            .parties
            .iter()
            .any(|p| p.internal && p.state == PartyState::Held);
        match (held, self.hold_started) {
            (true, None) => self.hold_started = Some(now),
            (false, Some(start)) => {
                self.hold_s += seconds(start, now);
                self.hold_started = None;
            }
            _ => {}
        }
    }

    /// The call as clients see it (snapshot entries and the data of `call.*` events).
    pub fn view(&self) -> CallView {
        CallView {
            call: self.id.clone(),
            switch: self.switch.clone(),
            direction: self.direction.as_str(),
            ani: self.ani.clone(),
            ani_e164: self.ani_e164.clone(),
            dnis: self.dnis.clone(),
            queue: self.queue.clone(),
            digits: self.digits.clone(),
            client_ref: self.client_ref.clone(),
            state: self.state(),
            parties: self
                .parties
                .iter()
                .map(|p| PartyView {
                    device: p.device.clone(),
                    state: p.state,
                })
                .collect(),
            crm: CrmView {
                matches: self.crm.info.matches.clone(),
                pending: self.crm.pending,
                service: self.crm.info.service.clone(),
                campaign: self.crm.info.campaign.clone(),
            },
            offered_at: self.offered_at,
            answered_at: self.answered_at,
        }
    }

    /// The outcome, for the log row (DESIGN.md "Report figures").
    pub fn outcome(&self, ended_at: DateTime<Utc>, short_abandon_s: f64) -> CallOutcome {
        if self.answered_at.is_some() {
            CallOutcome::Answered
        } else if self.failed || self.direction != Direction::In {
            CallOutcome::Failed
        } else if seconds(self.offered_at, ended_at) < short_abandon_s {
            CallOutcome::ShortAbandon
        } else {
            CallOutcome::Abandoned
        }
    }

    /// The call-log row for the call ended at `ended_at`.
    pub fn log_row(&self, ended_at: DateTime<Utc>, short_abandon_s: f64) -> CallLogRow {
        let hold_s = self.hold_s
            + self
                .hold_started
                .map(|s| seconds(s, ended_at))
                .unwrap_or(0.0);
        let queue_s = self.queued_at.map(|q| {
            seconds(
                q,
                self.delivered_at.or(self.answered_at).unwrap_or(ended_at),
            )
        });
        let ring_s = self
            .delivered_at
            .map(|d| seconds(d, self.answered_at.unwrap_or(ended_at)));
        let talk_s = self
            .answered_at
            .map(|a| (seconds(a, ended_at) - hold_s).max(0.0));
        CallLogRow {
            call_id: self.id.clone(),
            switch: self.switch.clone(),
            direction: self.direction.as_str().to_string(),
            ani: self.ani.clone(),
            ani_e164: self.ani_e164.clone(),
            dnis: self.dnis.clone(),
            queue: self.queue.clone(),
            agent: self.agent.clone(),
            extension: self.extension.clone(),
            contact_id: self.crm.info.matches.first().map(|m| m.id),
            offered_at: self.offered_at.naive_utc(),
            answered_at: self.answered_at.map(|t| t.naive_utc()),
            ended_at: Some(ended_at.naive_utc()),
            queue_s,
            ring_s,
            talk_s,
            hold_s: Some(hold_s),
            acw_s: (self.acw_s > 0.0).then_some(self.acw_s),
            outcome: self.outcome(ended_at, short_abandon_s),
            transferred_to: self.transferred_to.clone(),
            source: "cti".into(),
            raw: None,
        }
    }
}

/// How many ended switch call ids to remember, so late events for an ended call are
/// recognised and not taken for a new call.
const ENDED_MEMORY: usize = 20_000;

type SwitchKey = (String, String);

pub struct CallTable {
    calls: HashMap<String, Call>,
    by_switch: HashMap<SwitchKey, String>,
    ended: HashSet<SwitchKey>,
    ended_order: VecDeque<SwitchKey>,
    /// Stable ids handed out (by a dial's answer) before the switch reported the call.
    reserved: HashMap<SwitchKey, (String, Option<String>)>,
}

impl Default for CallTable {
    fn default() -> Self {
        CallTable {
            calls: HashMap::new(),
            by_switch: HashMap::new(),
            // Sized for twice what it holds from the start. A hash set that holds a
            // steady number while keys come and go collects deleted markers, and once
            // they fill its spare room it doubles, once, long after it filled: this
            // one went from 32,768 to 65,536 slots after about 69,000 calls, a step in
            // resident memory minutes into a run. At under half full it never does.
            ended: HashSet::with_capacity(2 * ENDED_MEMORY),
            ended_order: VecDeque::with_capacity(ENDED_MEMORY + 1),
            reserved: HashMap::new(),
        }
    }
}

impl CallTable {
    pub fn get(&self, id: &str) -> Option<&Call> {
        self.calls.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Call> {
        self.calls.get_mut(id)
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Call> {
        self.calls.values()
    }

    /// The stable id of a live call.
    pub fn find(&self, switch: &str, switch_id: &str) -> Option<&str> {
        self.by_switch
            .get(&(switch.to_string(), switch_id.to_string()))
            .map(String::as_str)
    }

    pub fn is_ended(&self, switch: &str, switch_id: &str) -> bool {
        self.ended
            .contains(&(switch.to_string(), switch_id.to_string()))
    }

    /// A stable id for a call the switch has not reported yet (a dial's answer came
    /// before its Originated event), or the id it already has.
    pub fn reserve(&mut self, switch: &str, switch_id: &str, client_ref: Option<String>) -> String {
        if let Some(id) = self.find(switch, switch_id) {
            return id.to_string();
        }
        let key = (switch.to_string(), switch_id.to_string());
        self.reserved
            .entry(key)
            .or_insert_with(|| (new_call_id(), client_ref))
            .0
            .clone()
    }

    /// Create a call for a switch id, using a reserved stable id when there is one.
    pub fn create(
        &mut self,
        switch: &str,
        switch_id: &str,
        direction: Direction,
        now: DateTime<Utc>,
    ) -> &mut Call {
        let key = (switch.to_string(), switch_id.to_string());
        let (id, client_ref) = self
            .reserved
            .remove(&key)
            .unwrap_or_else(|| (new_call_id(), None));
        let mut call = Call::new(id.clone(), switch, switch_id, direction, now);
        call.client_ref = client_ref;
        self.by_switch.insert(key, id.clone());
        self.calls.entry(id).or_insert(call)
    }

    /// Map another switch id to an existing call.
    pub fn alias(&mut self, id: &str, switch: &str, switch_id: &str) {
        if let Some(call) = self.calls.get_mut(id) {
            if !call.switch_ids.iter().any(|s| s == switch_id) {
                call.switch_ids.push(switch_id.to_string());
            }
            self.by_switch
                .insert((switch.to_string(), switch_id.to_string()), id.to_string());
        }
    }

    /// Take a call out of the table (ended or merged), remembering its switch ids as ended.
    pub fn remove(&mut self, id: &str) -> Option<Call> {
        let call = self.calls.remove(id)?;
        for switch_id in &call.switch_ids {
            let key = (call.switch.clone(), switch_id.clone());
            self.by_switch.remove(&key);
            if self.ended.insert(key.clone()) {
                self.ended_order.push_back(key);
            }
        }
        while self.ended_order.len() > ENDED_MEMORY {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
        Some(call)
    }

    /// Calls of one switch (for reconciliation after a snapshot).
    pub fn ids_of_switch(&self, switch: &str) -> Vec<String> {
        self.calls
            .values()
            .filter(|c| c.switch == switch)
            .map(|c| c.id.clone())
            .collect()
    }
}

pub fn new_call_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn log_row_timings() {
        let mut call = Call::new("c".into(), "pbx", "1", Direction::In, t(0));
        call.queued_at = Some(t(0));
        call.delivered_at = Some(t(10));
        call.answered_at = Some(t(14));
        call.set_party("1001", PartyState::Held, true);
        call.update_hold(t(20));
        call.set_party("1001", PartyState::Connected, true);
        call.update_hold(t(25));
        let row = call.log_row(t(60), 5.0);
        assert_eq!(row.queue_s, Some(10.0));
        assert_eq!(row.ring_s, Some(4.0));
        assert_eq!(row.hold_s, Some(5.0));
        assert_eq!(row.talk_s, Some(41.0));
        assert_eq!(row.outcome, CallOutcome::Answered);
    }

    #[test]
    fn outcomes() {
        let call = Call::new("c".into(), "pbx", "1", Direction::In, t(0));
        assert_eq!(call.outcome(t(3), 5.0), CallOutcome::ShortAbandon);
        assert_eq!(call.outcome(t(30), 5.0), CallOutcome::Abandoned);
        let out = Call::new("c".into(), "pbx", "1", Direction::Out, t(0));
        assert_eq!(out.outcome(t(30), 5.0), CallOutcome::Failed);
    }

    #[test]
    fn reserved_ids_are_used_and_ended_ids_remembered() {
        let mut table = CallTable::default();
        let id = table.reserve("pbx", "7", Some("crm-1".into()));
        let call = table.create("pbx", "7", Direction::Out, t(0));
        assert_eq!(call.id, id);
        assert_eq!(call.client_ref.as_deref(), Some("crm-1"));
        table.alias(&id, "pbx", "8");
        assert_eq!(table.find("pbx", "8"), Some(id.as_str()));
        table.remove(&id);
        assert!(table.is_ended("pbx", "7") && table.is_ended("pbx", "8"));
        assert!(table.find("pbx", "7").is_none());
    }

    /// The ended-call memory holds its bound while calls come and go, and keeps the
    /// size it started with: 150,000 calls (the old set doubled after about 69,000).
    #[test]
    fn the_ended_call_memory_keeps_its_size() {
        fn end(table: &mut CallTable, n: usize) {
            let id = table
                .create("pbx", &n.to_string(), Direction::In, t(0))
                .id
                .clone();
            table.remove(&id);
        }
        let mut table = CallTable::default();
        (0..ENDED_MEMORY).for_each(|n| end(&mut table, n));
        let first = table.ended.capacity();
        let mut most = first;
        for n in ENDED_MEMORY..150_000 {
            end(&mut table, n);
            most = most.max(table.ended.capacity());
        }
        assert_eq!(table.ended.len(), ENDED_MEMORY);
        assert!(table.is_ended("pbx", "149999") && !table.is_ended("pbx", "0"));
        // `capacity` is what fits before the next resize; a doubling shows as twice.
        assert!(most < first + first / 2, "grew from {first} to {most}");
    }

    #[test]
    fn stable_ids_are_unique() {
        let ids: HashSet<String> = (0..1000).map(|_| new_call_id()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
