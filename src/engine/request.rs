//! What the API asks of the engine: a method call on behalf of a principal, or a new
//! subscription; and the stable error the API answers with.

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::auth::Principal;
use crate::hub::{ClientQueue, Resume, Welcome};
use ctibridge_adapter::{CommandError, MonitorMode, TransferMode};

/// The stable snake_case codes of error answers (docs/protocol.md "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    InvalidMessage,
    UnknownMethod,
    InvalidParams,
    CallNotFound,
    InvalidDestination,
    NotSupported,
    SwitchUnavailable,
    Timeout,
    RateLimited,
}

impl ErrorCode {
    /// Every code, for the tests that hold them to the documentation.
    #[cfg(test)]
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownMethod,
        ErrorCode::InvalidParams,
        ErrorCode::CallNotFound,
        ErrorCode::InvalidDestination,
        ErrorCode::NotSupported,
        ErrorCode::SwitchUnavailable,
        ErrorCode::Timeout,
        ErrorCode::RateLimited,
    ];

    /// The code as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::UnknownMethod => "unknown_method",
            ErrorCode::InvalidParams => "invalid_params",
            ErrorCode::CallNotFound => "call_not_found",
            ErrorCode::InvalidDestination => "invalid_destination",
            ErrorCode::NotSupported => "not_supported",
            ErrorCode::SwitchUnavailable => "switch_unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::RateLimited => "rate_limited",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and logs compare a code with its wire spelling.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An error answer: a stable snake_case code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Forbidden, message)
    }
    pub fn invalid_params(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidParams, message)
    }
    pub fn call_not_found(call: &str) -> Self {
        ApiError::new(ErrorCode::CallNotFound, format!("no call `{call}`"))
    }
    pub fn not_supported(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::NotSupported, message)
    }
    pub fn switch_unavailable(switch: &str) -> Self {
        ApiError::new(
            ErrorCode::SwitchUnavailable,
            format!("the link to switch `{switch}` is down"),
        )
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        let code = match &e {
            CommandError::InvalidDestination(_) => ErrorCode::InvalidDestination,
            CommandError::CallNotFound(_) => ErrorCode::CallNotFound,
            CommandError::NotSupported(_) | CommandError::Rejected(_) => ErrorCode::NotSupported,
            CommandError::Timeout => ErrorCode::Timeout,
            CommandError::SwitchUnavailable => ErrorCode::SwitchUnavailable,
        };
        ApiError::new(code, e.to_string())
    }
}

pub type Reply = oneshot::Sender<Result<Value, ApiError>>;

/// A method's parameters, parsed. Call ids are the bridge's stable ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallParams {
    pub call: String,
    /// Which of the call's devices acts; default: the caller's own device in the call.
    #[serde(default)]
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialParams {
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    /// Echoed in the result and on the call's events, to tie them to the CRM's action.
    #[serde(default)]
    pub client_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferParams {
    pub call: String,
    #[serde(default)]
    pub to: Option<String>,
    pub mode: TransferMode,
    #[serde(default)]
    pub consult_call: Option<String>,
    #[serde(default)]
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceParams {
    pub call: String,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub consult_call: Option<String>,
    #[serde(default)]
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtmfParams {
    pub call: String,
    pub digits: String,
    #[serde(default)]
    pub device: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginParams {
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub extension: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentParams {
    #[serde(default)]
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateName {
    Ready,
    NotReady,
    Acw,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStateParams {
    pub state: StateName,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorParams {
    pub call: String,
    /// The supervisor's own phone; default: the token's first extension.
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub mode: Option<MonitorMode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceReleaseParams {
    pub call: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimCallParams {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub digits: Option<String>,
    #[serde(default)]
    pub switch: Option<String>,
}

/// A method the engine carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodCall {
    Dial(DialParams),
    Answer(CallParams),
    Hangup(CallParams),
    Hold(CallParams),
    Retrieve(CallParams),
    Transfer(TransferParams),
    Conference(ConferenceParams),
    Dtmf(DtmfParams),
    AgentLogin(LoginParams),
    AgentLogout(AgentParams),
    AgentSetState(SetStateParams),
    Monitor(MonitorParams),
    Barge(MonitorParams),
    ForceRelease(ForceReleaseParams),
    SimCall(SimCallParams),
}

/// A connection's request to the engine.
pub enum EngineRequest {
    Method {
        principal: Principal,
        call: MethodCall,
        reply: Reply,
    },
    /// Register a client with the hub, at the current sequence number, with a snapshot
    /// of what it may see.
    Subscribe {
        client: u64,
        principal: Principal,
        resume: Option<Resume>,
        queue: ClientQueueSender,
        reply: oneshot::Sender<Welcome>,
    },
}

/// The hub-side half of a client's queue.
pub struct ClientQueueSender {
    pub sender: tokio::sync::mpsc::Sender<crate::hub::Delivery>,
    pub overflowed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ClientQueueSender {
    pub fn pair(capacity: usize) -> (ClientQueueSender, ClientQueue) {
        let (sender, queue) = crate::hub::client_queue(capacity);
        (
            ClientQueueSender {
                sender,
                overflowed: queue.overflowed.clone(),
            },
            queue,
        )
    }
}
