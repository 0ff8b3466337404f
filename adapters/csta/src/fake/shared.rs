//! The fake switch's vocabulary shared by its parts (the model, the request parser,
//! the message writer, the router): a connection id, an agent's request, a CSTA
//! error. A leaf: it imports nothing of the fake, so those parts do not import each
//! other for it.

/// A connection identifier: a call at a device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Conn {
    pub call: String,
    pub device: String,
}

impl Conn {
    pub fn new(call: &str, device: &str) -> Self {
        Self {
            call: call.to_owned(),
            device: device.to_owned(),
        }
    }
}

/// Agent state change asked for by `SetAgentState` (or by a test, as if
/// the agent had pressed the phone's buttons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRequest {
    LoggedOn,
    LoggedOff,
    NotReady { reason: Option<String> },
    Ready,
    WorkingAfterCall,
}

/// A failed request, answered with `CSTAErrorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CstaError {
    /// `<operation>…</operation>`
    Operation(&'static str),
    /// `<stateIncompatibility>…</stateIncompatibility>`
    State(&'static str),
}

impl CstaError {
    /// Answer to a request the fake does not implement.
    pub const UNKNOWN_REQUEST: CstaError = CstaError::Operation("invalidFeature");
    /// Answer to a request sent before the session is started, when
    /// credentials are configured.
    pub const NO_SESSION: CstaError = CstaError::Operation("generic");
    /// Answer to a document that does not parse.
    pub const MALFORMED: CstaError = CstaError::Operation("generic");
    pub const INVALID_STATE: CstaError = CstaError::State("invalidObjectState");
}
