//! The switch's call model: calls and their connections, ACD queues, and
//! agents. Operations validate like a switch does (answering with the
//! ECMA-269 error a switch would give) and record, in order, the events they
//! cause together with the devices whose monitors must see each one.
//!
//! The model knows nothing about links or monitors: the router decides who
//! is told. Timed behaviour (the far end answering) is handed back as
//! [`Timer`]s, and calls that reach a route point as route arrivals, so the
//! router can run the routing dialogue.

mod agents;
mod report;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

use super::config::{Dialect, FakeConfig, JoinedCallId};
use super::shared::Conn;
use super::shared::CstaError;

use agents::Agent;
pub use agents::AgentCmd;
pub use report::{
    AgentEventKind, AgentSnapshot, AgentState, CallEvent, CallSnapshot, ConnList, Event, Notice,
    Output, PartySnapshot, PartyState, Timer,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Extension,
    AcdGroup,
    RoutePoint,
    External,
    Invalid,
}

#[derive(Debug, Clone)]
struct Party {
    device: String,
    state: PartyState,
    silent: bool,
}

impl Party {
    fn new(device: &str, state: PartyState) -> Self {
        Self {
            device: device.to_owned(),
            state,
            silent: false,
        }
    }
}

#[derive(Debug, Clone)]
struct Call {
    id: String,
    parties: Vec<Party>,
    calling: String,
    called: String,
    acd_group: Option<String>,
    /// Last device the call was redirected from (ACD group, route point,
    /// transferring device).
    redirection: Option<String>,
    /// Cause of the last delivery, repeated on the Established event.
    cause: &'static str,
    /// Queue position key (smaller = waiting longer).
    queued_seq: u64,
}

/// `+?[0-9*#]+`
pub fn dialable(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
}

const INVALID_CALL: CstaError = CstaError::Operation("invalidCallID");
const INVALID_CONN: CstaError = CstaError::Operation("invalidConnectionID");
const INVALID_DEVICE: CstaError = CstaError::Operation("invalidDeviceID");
const INVALID_CALLED: CstaError = CstaError::Operation("invalidCalledDevice");
const INVALID_CALLING: CstaError = CstaError::Operation("invalidCallingDevice");

pub struct Model {
    extensions: Vec<String>,
    groups: Vec<String>,
    route_points: Vec<String>,
    busy_numbers: Vec<String>,
    far_end_answer_after: Option<Duration>,
    acw_after_call: bool,
    /// The id of the call a transfer or conference leaves.
    joined: JoinedCallId,
    /// In creation order, which is also the order calls are reported in.
    calls: Vec<Call>,
    next_call: u64,
    agents: Vec<Agent>,
    digits: HashMap<String, String>,
    clock: u64,
    out: Output,
}

impl Model {
    pub fn new(cfg: &FakeConfig) -> Self {
        let agents = cfg.agents.iter().map(|a| Agent::new(a, cfg)).collect();
        Self {
            extensions: cfg.extensions.clone(),
            groups: cfg.acd_groups.iter().map(|g| g.device.clone()).collect(),
            route_points: cfg.route_points.iter().map(|r| r.device.clone()).collect(),
            busy_numbers: cfg.busy_numbers.clone(),
            far_end_answer_after: cfg.far_end_answer_after,
            acw_after_call: cfg.acw_after_call,
            joined: cfg.joined_call_id.unwrap_or(match cfg.dialect {
                Dialect::Standard => JoinedCallId::Held,
                Dialect::OpenScapeVoice => JoinedCallId::New,
            }),
            calls: Vec::new(),
            next_call: 101,
            agents,
            digits: HashMap::new(),
            clock: 0,
            out: Output::default(),
        }
    }

    /// Takes everything recorded since the last call.
    pub fn take_output(&mut self) -> Output {
        std::mem::take(&mut self.out)
    }

    pub fn kind(&self, device: &str) -> DeviceKind {
        let is = |list: &[String]| list.iter().any(|d| d == device);
        if is(&self.extensions) {
            DeviceKind::Extension
        } else if is(&self.groups) {
            DeviceKind::AcdGroup
        } else if is(&self.route_points) {
            DeviceKind::RoutePoint
        } else if dialable(device) {
            DeviceKind::External
        } else {
            DeviceKind::Invalid
        }
    }

    /// Devices the switch owns (and lets clients monitor and snapshot).
    pub fn is_internal(&self, device: &str) -> bool {
        matches!(
            self.kind(device),
            DeviceKind::Extension | DeviceKind::AcdGroup | DeviceKind::RoutePoint
        )
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    // ----- inspection -------------------------------------------------

    pub fn calls(&self) -> Vec<CallSnapshot> {
        self.calls
            .iter()
            .map(|c| CallSnapshot {
                id: c.id.clone(),
                parties: c
                    .parties
                    .iter()
                    .map(|p| PartySnapshot {
                        device: p.device.clone(),
                        state: p.state,
                        silent: p.silent,
                    })
                    .collect(),
                calling: c.calling.clone(),
                called: c.called.clone(),
                acd_group: c.acd_group.clone(),
            })
            .collect()
    }

    /// The call `device` has a connection to in the first of `states` it has
    /// one in: what a connection named by its device alone means.
    pub fn call_at(&self, device: &str, states: &[PartyState]) -> Option<String> {
        states.iter().find_map(|s| {
            self.calls
                .iter()
                .find(|c| {
                    c.parties
                        .iter()
                        .any(|p| p.device == device && p.state == *s)
                })
                .map(|c| c.id.clone())
        })
    }

    pub fn digits(&self, call: &str) -> String {
        self.digits.get(call).cloned().unwrap_or_default()
    }

    // ----- helpers ----------------------------------------------------

    fn idx(&self, call: &str) -> Option<usize> {
        self.calls.iter().position(|c| c.id == call)
    }

    fn locate(&self, conn: &Conn) -> Result<(usize, usize), CstaError> {
        let ci = self.idx(&conn.call).ok_or(INVALID_CALL)?;
        let pi = self.calls[ci]
            .parties
            .iter()
            .position(|p| p.device == conn.device)
            .ok_or(INVALID_CONN)?;
        Ok((ci, pi))
    }

    fn new_call(&mut self, calling: &str, called: &str) -> usize {
        let id = self.next_call.to_string();
        self.next_call += 1;
        self.calls.push(Call {
            id,
            parties: Vec::new(),
            calling: calling.to_owned(),
            called: called.to_owned(),
            acd_group: None,
            redirection: None,
            cause: "newCall",
            queued_seq: 0,
        });
        self.calls.len() - 1
    }

    /// Records a call event for every party of call `ci` plus `extra`
    /// devices that just left it.
    fn emit(&mut self, ci: usize, event: CallEvent, extra: &[&str]) {
        let mut audience: Vec<(String, Option<PartyState>)> = self.calls[ci]
            .parties
            .iter()
            .map(|p| (p.device.clone(), Some(p.state)))
            .collect();
        for d in extra {
            if !audience.iter().any(|(a, _)| a == d) {
                audience.push(((*d).to_owned(), None));
            }
        }
        self.out.notices.push(Notice {
            event: Event::Call(event),
            audience,
        });
    }

    /// Checks a destination before anything changes.
    fn check_destination(&self, dest: &str) -> Result<(), CstaError> {
        match self.kind(dest) {
            DeviceKind::Invalid => Err(INVALID_CALLED),
            _ => Ok(()),
        }
    }

    /// Offers call `ci` to `dest`: rings an extension or external number,
    /// queues at an ACD group, parks at a route point. `extra` devices
    /// (the group the call leaves) also see the Delivered event.
    fn deliver(
        &mut self,
        ci: usize,
        dest: &str,
        cause: &'static str,
        redirection: Option<&str>,
        extra: &[&str],
    ) {
        let call_id = self.calls[ci].id.clone();
        let conn = Conn::new(&call_id, dest);
        {
            let call = &mut self.calls[ci];
            call.redirection = redirection.map(str::to_owned);
            call.cause = cause;
        }
        match self.kind(dest) {
            DeviceKind::AcdGroup => {
                let seq = self.tick();
                let call = &mut self.calls[ci];
                call.acd_group = Some(dest.to_owned());
                call.queued_seq = seq;
                call.parties.push(Party::new(dest, PartyState::Queued));
                let (calling, called) = (call.calling.clone(), call.called.clone());
                let number_queued = self.queued_at(dest).len();
                self.emit(
                    ci,
                    CallEvent::Queued {
                        conn,
                        calling,
                        called,
                        number_queued,
                        cause: "enteringDistribution",
                    },
                    extra,
                );
                self.distribute(dest);
            }
            DeviceKind::RoutePoint => {
                self.calls[ci]
                    .parties
                    .push(Party::new(dest, PartyState::Queued));
                self.out.route_arrivals.push((call_id, dest.to_owned()));
            }
            kind @ (DeviceKind::External | DeviceKind::Invalid)
                if kind == DeviceKind::Invalid || self.busy_numbers.iter().any(|b| b == dest) =>
            {
                let fail_cause = if kind == DeviceKind::Invalid {
                    "invalidNumberFormat"
                } else {
                    "busy"
                };
                self.calls[ci]
                    .parties
                    .push(Party::new(dest, PartyState::Failed));
                self.emit(
                    ci,
                    CallEvent::Failed {
                        conn,
                        called: dest.to_owned(),
                        cause: fail_cause,
                    },
                    extra,
                );
            }
            kind => {
                let call = &mut self.calls[ci];
                call.parties.push(Party::new(dest, PartyState::Alerting));
                let (calling, called) = (call.calling.clone(), call.called.clone());
                let acd_group = if cause == "distributed" {
                    call.acd_group.clone()
                } else {
                    None
                };
                self.emit(
                    ci,
                    CallEvent::Delivered {
                        conn,
                        calling,
                        called,
                        redirection: redirection.map(str::to_owned),
                        acd_group,
                        cause,
                    },
                    extra,
                );
                if kind == DeviceKind::External {
                    if let Some(after) = self.far_end_answer_after {
                        self.out.timers.push(Timer::FarEndAnswer {
                            call: call_id,
                            device: dest.to_owned(),
                            after,
                        });
                    }
                }
            }
        }
    }

    /// Removes `device`'s connection from call `ci` and reports it.
    fn drop_party(&mut self, ci: usize, device: &str, cause: &'static str) {
        self.calls[ci].parties.retain(|p| p.device != device);
        let conn = Conn::new(&self.calls[ci].id, device);
        self.emit(ci, CallEvent::Cleared { conn, cause }, &[device]);
    }

    /// After `left` devices left `call`: ends the call if one party or none
    /// remains (the switch clears the last connection too), and lets
    /// agents whose ACD call this was move on.
    fn after_leave(&mut self, call: &str, left: &[String]) {
        let mut gone: Vec<String> = left.to_vec();
        if let Some(ci) = self.idx(call) {
            if self.calls[ci].parties.len() <= 1 {
                let rest: Vec<String> = self.calls[ci]
                    .parties
                    .iter()
                    .map(|p| p.device.clone())
                    .collect();
                for d in rest {
                    self.drop_party(ci, &d, "normalClearing");
                    gone.push(d);
                }
                self.calls.remove(ci);
            }
        }
        for d in gone {
            self.acd_call_done(call, &d);
        }
    }

    // ----- calls --------------------------------------------------------

    /// A call from `from` to `to`, dialling `dnis`. From an extension this
    /// is the same as `MakeCall`; otherwise `from` is an external caller
    /// whose trunk connection is already connected.
    pub fn ring(&mut self, from: &str, to: &str, dnis: &str) -> Result<String, CstaError> {
        self.check_destination(to)?;
        match self.kind(from) {
            DeviceKind::Extension => self.originate(from, to, dnis, "newCall"),
            DeviceKind::External => {
                let ci = self.new_call(from, dnis);
                self.calls[ci]
                    .parties
                    .push(Party::new(from, PartyState::Connected));
                let id = self.calls[ci].id.clone();
                self.deliver(ci, to, "newCall", None, &[]);
                Ok(id)
            }
            _ => Err(INVALID_CALLING),
        }
    }

    pub fn make_call(&mut self, calling: &str, called: &str) -> Result<String, CstaError> {
        if self.kind(calling) != DeviceKind::Extension {
            return Err(INVALID_CALLING);
        }
        self.check_destination(called)?;
        if called == calling {
            return Err(INVALID_CALLED);
        }
        self.originate(calling, called, called, "newCall")
    }

    fn originate(
        &mut self,
        calling: &str,
        to: &str,
        dnis: &str,
        cause: &'static str,
    ) -> Result<String, CstaError> {
        let ci = self.new_call(calling, dnis);
        let id = self.calls[ci].id.clone();
        let conn = Conn::new(&id, calling);
        self.calls[ci]
            .parties
            .push(Party::new(calling, PartyState::Initiated));
        self.emit(
            ci,
            CallEvent::ServiceInitiated {
                conn: conn.clone(),
                cause,
            },
            &[],
        );
        self.calls[ci].parties[0].state = PartyState::Connected;
        self.emit(
            ci,
            CallEvent::Originated {
                conn,
                calling: calling.to_owned(),
                called: dnis.to_owned(),
                cause,
            },
            &[],
        );
        let delivered_cause = "newCall";
        self.deliver(ci, to, delivered_cause, None, &[]);
        Ok(id)
    }

    pub fn answer(&mut self, conn: &Conn) -> Result<(), CstaError> {
        let (ci, pi) = self.locate(conn)?;
        if self.calls[ci].parties[pi].state != PartyState::Alerting {
            return Err(CstaError::INVALID_STATE);
        }
        self.calls[ci].parties[pi].state = PartyState::Connected;
        let call = &self.calls[ci];
        let event = CallEvent::Established {
            conn: conn.clone(),
            calling: call.calling.clone(),
            called: call.called.clone(),
            redirection: call.redirection.clone(),
            cause: call.cause,
        };
        self.emit(ci, event, &[]);
        Ok(())
    }

    /// The person at `device` picks up the oldest call ringing there.
    pub fn answer_device(&mut self, device: &str) -> Result<String, CstaError> {
        let call = self
            .calls
            .iter()
            .find(|c| {
                c.parties
                    .iter()
                    .any(|p| p.device == device && p.state == PartyState::Alerting)
            })
            .map(|c| c.id.clone())
            .ok_or(CstaError::INVALID_STATE)?;
        self.answer(&Conn::new(&call, device))?;
        Ok(call)
    }

    /// The far end of an outgoing call answers, if it is still ringing.
    pub fn far_end_answer(&mut self, call: &str, device: &str) {
        let alerting = |c: &Call| {
            c.parties
                .iter()
                .any(|p| p.device == device && p.state == PartyState::Alerting)
        };
        // A transfer or conference may have moved the ringing party into
        // another call id since the timer was set.
        let target = self
            .calls
            .iter()
            .find(|c| c.id == call && alerting(c))
            .or_else(|| self.calls.iter().find(|c| alerting(c)))
            .map(|c| c.id.clone());
        if let Some(id) = target {
            let _ = self.answer(&Conn::new(&id, device));
        }
    }

    pub fn clear_connection(&mut self, conn: &Conn) -> Result<(), CstaError> {
        let (ci, _) = self.locate(conn)?;
        self.drop_party(ci, &conn.device, "normalClearing");
        self.after_leave(&conn.call, std::slice::from_ref(&conn.device));
        Ok(())
    }

    /// The person at `device` hangs up: the connected call if there is
    /// one, else whatever connection the device has.
    pub fn hangup(&mut self, device: &str) -> Result<String, CstaError> {
        let order = [
            PartyState::Connected,
            PartyState::Initiated,
            PartyState::Alerting,
            PartyState::Failed,
            PartyState::Held,
            PartyState::Queued,
        ];
        let call = order
            .iter()
            .find_map(|s| {
                self.calls.iter().find(|c| {
                    c.parties
                        .iter()
                        .any(|p| p.device == device && p.state == *s)
                })
            })
            .map(|c| c.id.clone())
            .ok_or(INVALID_CONN)?;
        self.clear_connection(&Conn::new(&call, device))?;
        Ok(call)
    }

    pub fn clear_call(&mut self, conn: &Conn) -> Result<(), CstaError> {
        let ci = self.idx(&conn.call).ok_or(INVALID_CALL)?;
        let devices: Vec<String> = self.calls[ci]
            .parties
            .iter()
            .map(|p| p.device.clone())
            .collect();
        for d in &devices {
            self.drop_party(ci, d, "normalClearing");
        }
        self.calls.remove(ci);
        for d in &devices {
            self.acd_call_done(&conn.call, d);
        }
        Ok(())
    }

    pub fn hold(&mut self, conn: &Conn) -> Result<(), CstaError> {
        self.hold_with(conn, None)
    }

    fn hold_with(&mut self, conn: &Conn, cause: Option<&'static str>) -> Result<(), CstaError> {
        let (ci, pi) = self.locate(conn)?;
        if self.calls[ci].parties[pi].state != PartyState::Connected {
            return Err(CstaError::INVALID_STATE);
        }
        self.calls[ci].parties[pi].state = PartyState::Held;
        self.emit(
            ci,
            CallEvent::Held {
                conn: conn.clone(),
                cause,
            },
            &[],
        );
        Ok(())
    }

    pub fn retrieve(&mut self, conn: &Conn) -> Result<(), CstaError> {
        let (ci, pi) = self.locate(conn)?;
        if self.calls[ci].parties[pi].state != PartyState::Held {
            return Err(CstaError::INVALID_STATE);
        }
        self.calls[ci].parties[pi].state = PartyState::Connected;
        self.emit(ci, CallEvent::Retrieved { conn: conn.clone() }, &[]);
        Ok(())
    }

    /// Holds `existing` and calls `consulted` from the same device; returns
    /// the new call's id.
    pub fn consultation(&mut self, existing: &Conn, consulted: &str) -> Result<String, CstaError> {
        let (ci, pi) = self.locate(existing)?;
        if self.calls[ci].parties[pi].state != PartyState::Connected {
            return Err(CstaError::INVALID_STATE);
        }
        self.check_destination(consulted)?;
        if consulted == existing.device {
            return Err(INVALID_CALLED);
        }
        self.hold_with(existing, Some("consultation"))?;
        self.originate(&existing.device, consulted, consulted, "consultation")
    }

    /// Checks a held/active pair at one device; returns the device.
    fn check_pair(&self, held: &Conn, active: &Conn) -> Result<(), CstaError> {
        let (hc, hp) = self.locate(held)?;
        let (ac, ap) = self.locate(active)?;
        if held.device != active.device {
            return Err(INVALID_CONN);
        }
        if hc == ac {
            return Err(INVALID_CALL);
        }
        if self.calls[hc].parties[hp].state != PartyState::Held
            || self.calls[ac].parties[ap].state != PartyState::Connected
        {
            return Err(CstaError::INVALID_STATE);
        }
        Ok(())
    }

    /// Merges the active (secondary) call into the held (primary) one and
    /// removes the secondary. Returns the primary call's index, the first
    /// party that came over, and the connection list.
    fn merge(
        &mut self,
        held: &Conn,
        active: &Conn,
    ) -> Result<(usize, String, ConnList), CstaError> {
        let dev = held.device.clone();
        // Both calls were checked by `check_pair`; this keeps it that way.
        if self.idx(&held.call).is_none() {
            return Err(INVALID_CALL);
        }
        let moved: Vec<Party> = self
            .idx(&active.call)
            .map(|si| self.calls.remove(si).parties)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.device != dev)
            .collect();
        let added = moved.first().map(|p| p.device.clone()).unwrap_or_default();
        self.rename_acd_call(&active.call, &held.call);
        let ci = self.idx(&held.call).ok_or(INVALID_CALL)?;
        let moved_devices: Vec<String> = moved.iter().map(|p| p.device.clone()).collect();
        self.calls[ci].parties.extend(moved);
        let connections = self.calls[ci]
            .parties
            .iter()
            .map(|p| {
                let new = Conn::new(&held.call, &p.device);
                let old = if moved_devices.contains(&p.device) {
                    Conn::new(&active.call, &p.device)
                } else {
                    new.clone()
                };
                (new, Some(old))
            })
            .collect();
        Ok((ci, added, connections))
    }

    /// Transfers: the held call's far end and the active call's far end are
    /// joined in the held (primary) call; the transferring device leaves.
    /// Returns the resulting call id and the transferred-to device.
    pub fn transfer(&mut self, held: &Conn, active: &Conn) -> Result<(String, String), CstaError> {
        self.check_pair(held, active)?;
        let dev = held.device.clone();
        // The transferring device leaves before the list is built, so it
        // is not listed among the transferred connections.
        if let Some(ci) = self.idx(&held.call) {
            self.calls[ci].parties.retain(|p| p.device != dev);
        }
        let (ci, to, mut connections) = self.merge(held, active)?;
        let id = self.join_id(ci, &active.call, &mut connections);
        self.emit(
            ci,
            CallEvent::Transfered {
                primary: held.clone(),
                secondary: Some(active.clone()),
                transferring: dev.clone(),
                to: to.clone(),
                connections,
                cause: "transfer",
            },
            &[&dev],
        );
        self.after_leave(&id, std::slice::from_ref(&dev));
        Ok((id, to))
    }

    /// The id of the call a transfer or conference leaves at `ci` (see
    /// [`JoinedCallId`]), written into the connection list.
    fn join_id(&mut self, ci: usize, consultation: &str, connections: &mut ConnList) -> String {
        let old = self.calls[ci].id.clone();
        let id = match self.joined {
            JoinedCallId::Held => return old,
            JoinedCallId::Consultation => consultation.to_string(),
            JoinedCallId::New => {
                self.next_call += 1;
                (self.next_call - 1).to_string()
            }
        };
        self.calls[ci].id = id.clone();
        self.rename_acd_call(&old, &id);
        if let Some(digits) = self.digits.remove(&old) {
            self.digits.insert(id.clone(), digits);
        }
        for (new, _) in connections.iter_mut() {
            new.call = id.clone();
        }
        id
    }

    pub fn single_step_transfer(&mut self, active: &Conn, to: &str) -> Result<(), CstaError> {
        let (ci, pi) = self.locate(active)?;
        if !matches!(
            self.calls[ci].parties[pi].state,
            PartyState::Connected | PartyState::Held
        ) {
            return Err(CstaError::INVALID_STATE);
        }
        self.check_destination(to)?;
        if self.calls[ci].parties.iter().any(|p| p.device == to) {
            return Err(INVALID_CALLED);
        }
        let dev = active.device.clone();
        self.calls[ci].parties.remove(pi);
        let connections = self.calls[ci]
            .parties
            .iter()
            .map(|p| {
                let c = Conn::new(&active.call, &p.device);
                (c.clone(), Some(c))
            })
            .collect();
        self.emit(
            ci,
            CallEvent::Transfered {
                primary: active.clone(),
                secondary: None,
                transferring: dev.clone(),
                to: to.to_owned(),
                connections,
                cause: "singleStepTransfer",
            },
            &[&dev],
        );
        // Deliver before checking whether the call is down to one party,
        // or the caller would be cleared before the new party rings.
        self.deliver(ci, to, "singleStepTransfer", Some(&dev), &[]);
        self.after_leave(&active.call, std::slice::from_ref(&dev));
        Ok(())
    }

    /// Joins the held and active calls with the conferencing device in the
    /// held (primary) call. Returns the conferenced call id.
    pub fn conference(&mut self, held: &Conn, active: &Conn) -> Result<String, CstaError> {
        self.check_pair(held, active)?;
        let dev = held.device.clone();
        let (ci, added, mut connections) = self.merge(held, active)?;
        let id = self.join_id(ci, &active.call, &mut connections);
        // The conferencing device's two connections become one, connected.
        if let Some(p) = self.calls[ci].parties.iter_mut().find(|p| p.device == dev) {
            p.state = PartyState::Connected;
        }
        self.emit(
            ci,
            CallEvent::Conferenced {
                primary: held.clone(),
                secondary: Some(active.clone()),
                conferencing: dev,
                added,
                connections,
                cause: "conference",
            },
            &[],
        );
        Ok(id)
    }

    pub fn single_step_conference(
        &mut self,
        active: &Conn,
        join: &str,
        silent: bool,
    ) -> Result<(), CstaError> {
        let (ci, _) = self.locate(active)?;
        if self.kind(join) != DeviceKind::Extension {
            return Err(INVALID_DEVICE);
        }
        if self.calls[ci].parties.iter().any(|p| p.device == join) {
            return Err(CstaError::INVALID_STATE);
        }
        let mut party = Party::new(join, PartyState::Connected);
        party.silent = silent;
        self.calls[ci].parties.push(party);
        let connections = self.calls[ci]
            .parties
            .iter()
            .map(|p| {
                let c = Conn::new(&active.call, &p.device);
                let old = (p.device != join).then(|| c.clone());
                (c, old)
            })
            .collect();
        self.emit(
            ci,
            CallEvent::Conferenced {
                primary: active.clone(),
                secondary: None,
                conferencing: active.device.clone(),
                added: join.to_owned(),
                connections,
                cause: "singleStepConference",
            },
            &[],
        );
        Ok(())
    }

    pub fn generate_digits(&mut self, conn: &Conn, digits: &str) -> Result<(), CstaError> {
        let (ci, pi) = self.locate(conn)?;
        if self.calls[ci].parties[pi].state != PartyState::Connected {
            return Err(CstaError::INVALID_STATE);
        }
        let valid = digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'A'..=b'D'));
        if digits.is_empty() || !valid {
            return Err(CstaError::Operation("valueOutOfRange"));
        }
        self.digits
            .entry(conn.call.clone())
            .or_default()
            .push_str(digits);
        Ok(())
    }

    /// Moves a call waiting at route point `route_point` on to `dest`.
    pub fn route_to(&mut self, call: &str, route_point: &str, dest: &str) -> Result<(), CstaError> {
        let (ci, pi) = self.locate(&Conn::new(call, route_point))?;
        if self.calls[ci].parties[pi].state != PartyState::Queued {
            return Err(CstaError::INVALID_STATE);
        }
        if self.kind(dest) == DeviceKind::Invalid || dest == route_point {
            return Err(INVALID_CALLED);
        }
        self.calls[ci].parties.remove(pi);
        self.emit(
            ci,
            CallEvent::Diverted {
                conn: Conn::new(call, route_point),
                to: dest.to_owned(),
                cause: "redirected",
            },
            &[route_point],
        );
        self.deliver(ci, dest, "redirected", Some(route_point), &[]);
        self.after_leave(call, &[]);
        Ok(())
    }
}
