//! What the model reports: connection and agent states, the snapshots
//! tests inspect, and the events (with their audiences), timers and route
//! arrivals an operation produces.

use std::time::Duration;

use super::super::shared::Conn;

/// A connection list of a transfer or conference: each connection of the
/// resulting call with the connection it replaces, if any.
pub type ConnList = Vec<(Conn, Option<Conn>)>;

/// State of one connection (a device's part in a call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyState {
    Initiated,
    Alerting,
    Connected,
    Held,
    Queued,
    Failed,
}

impl PartyState {
    /// ECMA-323 `LocalConnectionState` value.
    pub fn as_csta(self) -> &'static str {
        match self {
            PartyState::Initiated => "initiated",
            PartyState::Alerting => "alerting",
            PartyState::Connected => "connected",
            PartyState::Held => "hold",
            PartyState::Queued => "queued",
            PartyState::Failed => "fail",
        }
    }
}

/// One connection of a call, as seen by [`FakeSwitch::calls`](crate::fake::FakeSwitch::calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartySnapshot {
    pub device: String,
    pub state: PartyState,
    /// Joined by a silent single-step conference (supervisor monitoring).
    pub silent: bool,
}

/// A call, as seen by [`FakeSwitch::calls`](crate::fake::FakeSwitch::calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSnapshot {
    pub id: String,
    pub parties: Vec<PartySnapshot>,
    /// ANI.
    pub calling: String,
    /// DNIS (the number dialled).
    pub called: String,
    /// The ACD group the call came through, if any.
    pub acd_group: Option<String>,
}

impl CallSnapshot {
    /// State of `device`'s connection in this call.
    pub fn state_of(&self, device: &str) -> Option<PartyState> {
        self.parties
            .iter()
            .find(|p| p.device == device)
            .map(|p| p.state)
    }
}

/// ACD agent state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// Logged off.
    Null,
    NotReady,
    Ready,
    Busy,
    WorkingAfterCall,
}

impl AgentState {
    /// ECMA-323 `AgentState` value.
    pub fn as_csta(self) -> &'static str {
        match self {
            AgentState::Null => "agentNull",
            AgentState::NotReady => "agentNotReady",
            AgentState::Ready => "agentReady",
            AgentState::Busy => "agentBusy",
            AgentState::WorkingAfterCall => "agentWorkingAfterCall",
        }
    }
}

/// An agent, as seen by [`FakeSwitch::agent_state`](crate::fake::FakeSwitch::agent_state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub agent: String,
    /// Extension the agent is logged on at.
    pub device: Option<String>,
    pub state: AgentState,
    /// Not-ready reason code.
    pub reason: Option<String>,
}

impl AgentSnapshot {
    pub fn logged_on(&self) -> bool {
        self.device.is_some()
    }
}

/// A call event, before it is addressed to a monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    ServiceInitiated {
        conn: Conn,
        cause: &'static str,
    },
    Originated {
        conn: Conn,
        calling: String,
        called: String,
        cause: &'static str,
    },
    Delivered {
        conn: Conn,
        calling: String,
        called: String,
        redirection: Option<String>,
        acd_group: Option<String>,
        cause: &'static str,
    },
    Established {
        conn: Conn,
        calling: String,
        called: String,
        redirection: Option<String>,
        cause: &'static str,
    },
    Held {
        conn: Conn,
        cause: Option<&'static str>,
    },
    Retrieved {
        conn: Conn,
    },
    Cleared {
        conn: Conn,
        cause: &'static str,
    },
    Failed {
        conn: Conn,
        called: String,
        cause: &'static str,
    },
    Diverted {
        conn: Conn,
        to: String,
        cause: &'static str,
    },
    Queued {
        conn: Conn,
        calling: String,
        called: String,
        number_queued: usize,
        cause: &'static str,
    },
    Transfered {
        primary: Conn,
        secondary: Option<Conn>,
        transferring: String,
        to: String,
        connections: ConnList,
        cause: &'static str,
    },
    Conferenced {
        primary: Conn,
        secondary: Option<Conn>,
        conferencing: String,
        added: String,
        connections: ConnList,
        cause: &'static str,
    },
}

/// Which agent event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentEventKind {
    LoggedOn,
    LoggedOff,
    Ready,
    NotReady,
    Busy,
    WorkingAfterCall,
}

impl AgentEventKind {
    pub fn root(self) -> &'static str {
        match self {
            AgentEventKind::LoggedOn => "AgentLoggedOnEvent",
            AgentEventKind::LoggedOff => "AgentLoggedOffEvent",
            AgentEventKind::Ready => "AgentReadyEvent",
            AgentEventKind::NotReady => "AgentNotReadyEvent",
            AgentEventKind::Busy => "AgentBusyEvent",
            AgentEventKind::WorkingAfterCall => "AgentWorkingAfterCallEvent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Call(CallEvent),
    Agent {
        kind: AgentEventKind,
        device: String,
        agent: String,
        reason: Option<String>,
    },
}

/// An event and the devices whose monitors report it, each with the state
/// of that device's own connection in the call after the event (`None` =
/// no connection; always `None` for agent events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: Event,
    pub audience: Vec<(String, Option<PartyState>)>,
}

/// Something the model wants to happen later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    FarEndAnswer {
        call: String,
        device: String,
        after: Duration,
    },
}

/// What an operation produced besides its result.
#[derive(Debug, Default)]
pub struct Output {
    pub notices: Vec<Notice>,
    pub timers: Vec<Timer>,
    /// `(call id, route point)` for calls that arrived at a route point.
    pub route_arrivals: Vec<(String, String)>,
}
