//! The engine core's boundary with the outside world.
//!
//! The core (every handler of the engine) does no I/O: it changes its state and
//! returns [`Effect`]s — events with the writes that must be durable first, database
//! jobs, switch commands, timers — which the driver ([`super::driver`]) performs.
//! What a job, command or timer brings back comes in again as an [`Internal`]. Unit
//! tests feed events into the core and look at its effects; nothing there needs a
//! database, a switch or a clock.

use std::time::Duration;

use ctibridge_adapter::{AgentState, AgentStateRequest, CallRecord, Command, CommandOk};

use super::request::{ApiError, Reply};
use crate::crm::db::DbError;
use crate::crm::lookup::CallerInfo;
use crate::gate::Outbound;

/// One thing the core wants done.
pub enum Effect {
    /// An event (or a hub registration) with the writes that must be durable first.
    Out(Outbound),
    /// A database job; its answer comes back as an [`Internal`].
    Db(DbJob),
    /// A command for a switch whose link is up; `then` says what its answer is for.
    Command {
        switch: String,
        command: Command,
        then: AfterCommand,
    },
    /// Deliver `then` to the core after `after`.
    Timer { after: Duration, then: Internal },
}

/// The database work the core asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum DbJob {
    /// A call's customer: answered by [`Internal::LookupDone`].
    Lookup {
        call: String,
        key: String,
        number: Option<String>,
        dnis: Option<String>,
    },
    /// The contact behind a route request's caller: [`Internal::RouteLookupDone`].
    RouteLookup {
        switch: String,
        route_id: String,
        number: String,
    },
    /// Was this call record stored before, and whose number is it:
    /// [`Internal::RecordChecked`].
    RecordCheck {
        switch: String,
        record: Box<CallRecord>,
        raw: Option<String>,
        key: String,
        number: Option<String>,
    },
}

/// What a switch command's answer is for.
pub enum AfterCommand {
    /// A client's request: the answer comes back as [`Internal::CommandDone`].
    Reply {
        client_ref: Option<String>,
        /// Name of the result field for a call the command created.
        created: Option<&'static str>,
        /// The calling device of a dial (whose pending `client_ref` is settled then).
        dial_from: Option<String>,
        implied: Option<Implied>,
        reply: Reply,
    },
    /// The engine's own RouteSelect: the answer is only logged (the adapter's
    /// fallback applies when it fails).
    Route { route_id: String },
}

/// What a job, command or timer brings back to the core.
pub enum Internal {
    LookupDone {
        call: String,
        key: String,
        result: Result<CallerInfo, DbError>,
    },
    PopDeadline {
        call: String,
    },
    RouteLookupDone {
        switch: String,
        route_id: String,
        result: Result<CallerInfo, DbError>,
    },
    /// A call record's database check (stored before?) and CRM look-up are done:
    /// `None` when it was stored before.
    RecordChecked {
        switch: String,
        record: Box<CallRecord>,
        raw: Option<String>,
        key: String,
        result: Result<Option<CallerInfo>, DbError>,
    },
    CommandDone {
        switch: String,
        result: Result<CommandOk, ApiError>,
        client_ref: Option<String>,
        created: Option<&'static str>,
        dial_from: Option<String>,
        implied: Option<Implied>,
        reply: Reply,
    },
}

/// The agent state an accepted agent command means. The engine takes it on when the
/// switch's answer comes, so a client's next request sees it: the switch confirms
/// with an event too, but that may come after the answer (and the client's next
/// request). The event then changes nothing.
#[derive(Debug)]
pub struct Implied {
    pub(super) agent: String,
    pub(super) device: String,
    pub(super) state: AgentState,
    /// A log-on: taken on only by an agent not yet logged on (the switch's own
    /// events may have moved it on already).
    pub(super) login: bool,
}

impl Implied {
    pub(super) fn of(command: &Command) -> Option<Implied> {
        let (agent, device, state, login) = match command {
            Command::AgentLogin { agent, device, .. } => {
                (agent, device, AgentState::NotReady { reason: None }, true)
            }
            Command::AgentLogout { agent, device } => (agent, device, AgentState::LoggedOut, false),
            Command::SetAgentState {
                agent,
                device,
                state,
            } => {
                let state = match state {
                    AgentStateRequest::Ready => AgentState::Ready,
                    AgentStateRequest::NotReady { reason } => AgentState::NotReady {
                        reason: reason.clone(),
                    },
                    AgentStateRequest::Acw => AgentState::Acw,
                };
                (agent, device, state, false)
            }
            _ => return None,
        };
        Some(Implied {
            agent: agent.clone(),
            device: device.clone(),
            state,
            login,
        })
    }
}
