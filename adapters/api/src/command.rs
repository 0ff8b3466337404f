//! What the daemon asks of a switch, and how the switch's answer comes back.
//!
//! Commands name devices and the switch's own call ids; the engine translates the
//! API's stable call ids before a command reaches an adapter. An adapter answers
//! every request exactly once through the request's reply channel, and never re-sends
//! a request to the switch on its own: a command that may or may not have been carried
//! out is reported as [`CommandError::Timeout`].

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::event::AgentState;

/// How a transfer is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// Single-step: the call goes to the destination and the transferring party leaves.
    Blind,
    /// Start a consultation: hold the call and dial the destination.
    Consult,
    /// Complete a consultation transfer: join the held call to the consultation call.
    Complete,
}

/// How a supervisor joins an agent's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    /// Listen only.
    Silent,
    /// Speak to the agent only (coach).
    Whisper,
    /// Join the conversation.
    Barge,
}

/// A state an agent asks to be put in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentStateRequest {
    Ready,
    NotReady {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Acw,
}

impl AgentStateRequest {
    pub fn as_state(&self) -> AgentState {
        match self {
            AgentStateRequest::Ready => AgentState::Ready,
            AgentStateRequest::NotReady { reason } => AgentState::NotReady {
                reason: reason.clone(),
            },
            AgentStateRequest::Acw => AgentState::Acw,
        }
    }
}

/// A command for the switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Click-to-dial: call `to` from device `from`.
    MakeCall {
        from: String,
        to: String,
    },
    Answer {
        call_id: String,
        device: String,
    },
    /// Release `device`'s connection to the call.
    Hangup {
        call_id: String,
        device: String,
    },
    Hold {
        call_id: String,
        device: String,
    },
    Retrieve {
        call_id: String,
        device: String,
    },
    /// `Blind` and `Consult` use `to`; `Complete` joins `call_id` (held) with
    /// `consult_call_id`.
    Transfer {
        call_id: String,
        device: String,
        mode: TransferMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consult_call_id: Option<String>,
    },
    /// Add `to` to the call (or, with `consult_call_id`, join the consultation call).
    Conference {
        call_id: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consult_call_id: Option<String>,
    },
    Dtmf {
        call_id: String,
        device: String,
        digits: String,
    },
    AgentLogin {
        agent: String,
        device: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    AgentLogout {
        agent: String,
        device: String,
    },
    SetAgentState {
        agent: String,
        device: String,
        state: AgentStateRequest,
    },
    /// A supervisor at `supervisor_device` joins the call at `device`.
    Monitor {
        call_id: String,
        device: String,
        supervisor_device: String,
        mode: MonitorMode,
    },
    /// Tear the whole call down.
    ForceRelease {
        call_id: String,
    },
    /// Answer to a [`crate::SwitchEvent::RouteRequest`].
    RouteSelect {
        route_id: String,
        destination: String,
    },
    /// Ask for a fresh [`crate::Snapshot`] (sent as an event).
    Snapshot,
    /// Simulators only: place a call from the outside world, `from` (ANI) dialling `to`
    /// (a DNIS, ACD group or extension), with optional IVR digits.
    SimulateInbound {
        from: String,
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        digits: Option<String>,
    },
}

/// The kind of a [`Command`], for capability sets and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    MakeCall,
    Answer,
    Hangup,
    Hold,
    Retrieve,
    TransferBlind,
    TransferConsult,
    Conference,
    Dtmf,
    AgentLogin,
    AgentLogout,
    SetAgentState,
    Monitor,
    Whisper,
    Barge,
    ForceRelease,
    RouteSelect,
    Snapshot,
    SimulateInbound,
}

impl CommandKind {
    pub const ALL: [CommandKind; 19] = [
        CommandKind::MakeCall,
        CommandKind::Answer,
        CommandKind::Hangup,
        CommandKind::Hold,
        CommandKind::Retrieve,
        CommandKind::TransferBlind,
        CommandKind::TransferConsult,
        CommandKind::Conference,
        CommandKind::Dtmf,
        CommandKind::AgentLogin,
        CommandKind::AgentLogout,
        CommandKind::SetAgentState,
        CommandKind::Monitor,
        CommandKind::Whisper,
        CommandKind::Barge,
        CommandKind::ForceRelease,
        CommandKind::RouteSelect,
        CommandKind::Snapshot,
        CommandKind::SimulateInbound,
    ];
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::MakeCall { .. } => CommandKind::MakeCall,
            Command::Answer { .. } => CommandKind::Answer,
            Command::Hangup { .. } => CommandKind::Hangup,
            Command::Hold { .. } => CommandKind::Hold,
            Command::Retrieve { .. } => CommandKind::Retrieve,
            Command::Transfer { mode, .. } => match mode {
                TransferMode::Blind => CommandKind::TransferBlind,
                TransferMode::Consult | TransferMode::Complete => CommandKind::TransferConsult,
            },
            Command::Conference { .. } => CommandKind::Conference,
            Command::Dtmf { .. } => CommandKind::Dtmf,
            Command::AgentLogin { .. } => CommandKind::AgentLogin,
            Command::AgentLogout { .. } => CommandKind::AgentLogout,
            Command::SetAgentState { .. } => CommandKind::SetAgentState,
            Command::Monitor { mode, .. } => match mode {
                MonitorMode::Silent => CommandKind::Monitor,
                MonitorMode::Whisper => CommandKind::Whisper,
                MonitorMode::Barge => CommandKind::Barge,
            },
            Command::ForceRelease { .. } => CommandKind::ForceRelease,
            Command::RouteSelect { .. } => CommandKind::RouteSelect,
            Command::Snapshot => CommandKind::Snapshot,
            Command::SimulateInbound { .. } => CommandKind::SimulateInbound,
        }
    }
}

/// A successful command's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandOk {
    /// The switch's call id of a call the command created (dial, consultation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
}

impl CommandOk {
    pub fn call(call_id: impl Into<String>) -> Self {
        CommandOk {
            call_id: Some(call_id.into()),
        }
    }
}

/// Why a switch did not carry out a command. Each maps to one stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("invalid destination: {0}")]
    InvalidDestination(String),
    #[error("call or connection not found: {0}")]
    CallNotFound(String),
    #[error("not supported: {0}")]
    NotSupported(String),
    #[error("the switch did not answer in time")]
    Timeout,
    #[error("the switch link is down")]
    SwitchUnavailable,
    /// The switch rejected the request for a reason that is the caller's: a wrong
    /// agent password, a state change the switch refuses, …
    #[error("rejected by the switch: {0}")]
    Rejected(String),
}

impl CommandError {
    /// The stable snake_case code used by the WebSocket API.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::InvalidDestination(_) => "invalid_destination",
            CommandError::CallNotFound(_) => "call_not_found",
            CommandError::NotSupported(_) | CommandError::Rejected(_) => "not_supported",
            CommandError::Timeout => "timeout",
            CommandError::SwitchUnavailable => "switch_unavailable",
        }
    }
}

pub type CommandResult = Result<CommandOk, CommandError>;

/// A command with the channel its answer goes back on.
#[derive(Debug)]
pub struct CommandRequest {
    pub command: Command,
    pub reply: oneshot::Sender<CommandResult>,
}

impl CommandRequest {
    pub fn new(command: Command) -> (Self, oneshot::Receiver<CommandResult>) {
        let (reply, rx) = oneshot::channel();
        (CommandRequest { command, reply }, rx)
    }

    /// Answer the request. The requester may have gone away (timed out); that is fine.
    pub fn respond(self, result: CommandResult) {
        let _ = self.reply.send(result);
    }
}
