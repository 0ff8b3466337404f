//! A served request's positive answer, before it is written: the router
//! decides what the answer holds, the link's encoding (XML or BER) how it
//! looks on the wire.

use super::model::{AgentSnapshot, CallSnapshot};
use super::shared::Conn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Done, nothing to report; the ECMA-323 response's root element.
    Done(&'static str),
    /// The call the request made or left, named by one connection: the
    /// ECMA-323 response's root element and the element holding it.
    Call {
        root: &'static str,
        field: &'static str,
        conn: Conn,
    },
    MonitorStarted {
        xref: u32,
    },
    /// The calls at `device` (each with its state there).
    Snapshot {
        device: String,
        calls: Vec<CallSnapshot>,
    },
    AgentStates(Vec<AgentSnapshot>),
    /// One call: its parties with their states, its caller and number called.
    CallSnapshot(CallSnapshot),
    /// A routing registration, by its `routeRegisterReqID`.
    RouteRegistered {
        reg: u32,
    },
    /// Already written as XML: answers to the requests only XML links make
    /// (application sessions, Avaya device ids, cancelling a registration).
    Xml(String),
}
