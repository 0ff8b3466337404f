//! The protocol's event names and topics, typed (docs/protocol.md "Events" and
//! "Topics"). Each spells itself exactly as the wire always has (`call.offered`,
//! `agent:1001`), so no handler spells a name or builds a topic by hand and a typo is
//! a compile error, not a client that silently hears nothing.
//! A leaf: it imports nothing of the crate.

use std::fmt;

use serde::Serialize;

/// Every event the engine publishes (the `name` of an `evt` frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EventName {
    #[serde(rename = "snapshot")]
    Snapshot,
    #[serde(rename = "call.offered")]
    CallOffered,
    #[serde(rename = "call.originated")]
    CallOriginated,
    #[serde(rename = "call.answered")]
    CallAnswered,
    #[serde(rename = "call.held")]
    CallHeld,
    #[serde(rename = "call.retrieved")]
    CallRetrieved,
    #[serde(rename = "call.transferred")]
    CallTransferred,
    #[serde(rename = "call.conferenced")]
    CallConferenced,
    #[serde(rename = "call.updated")]
    CallUpdated,
    #[serde(rename = "call.ended")]
    CallEnded,
    #[serde(rename = "call.record")]
    CallRecord,
    #[serde(rename = "agent.state")]
    AgentState,
    #[serde(rename = "queue.stats")]
    QueueStats,
    #[serde(rename = "link.up")]
    LinkUp,
    #[serde(rename = "link.down")]
    LinkDown,
    #[serde(rename = "database.up")]
    DatabaseUp,
    #[serde(rename = "database.down")]
    DatabaseDown,
}

impl EventName {
    /// Every name, for the tests that hold them to the documentation.
    #[cfg(test)]
    pub const ALL: [EventName; 17] = [
        EventName::Snapshot,
        EventName::CallOffered,
        EventName::CallOriginated,
        EventName::CallAnswered,
        EventName::CallHeld,
        EventName::CallRetrieved,
        EventName::CallTransferred,
        EventName::CallConferenced,
        EventName::CallUpdated,
        EventName::CallEnded,
        EventName::CallRecord,
        EventName::AgentState,
        EventName::QueueStats,
        EventName::LinkUp,
        EventName::LinkDown,
        EventName::DatabaseUp,
        EventName::DatabaseDown,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Snapshot => "snapshot",
            EventName::CallOffered => "call.offered",
            EventName::CallOriginated => "call.originated",
            EventName::CallAnswered => "call.answered",
            EventName::CallHeld => "call.held",
            EventName::CallRetrieved => "call.retrieved",
            EventName::CallTransferred => "call.transferred",
            EventName::CallConferenced => "call.conferenced",
            EventName::CallUpdated => "call.updated",
            EventName::CallEnded => "call.ended",
            EventName::CallRecord => "call.record",
            EventName::AgentState => "agent.state",
            EventName::QueueStats => "queue.stats",
            EventName::LinkUp => "link.up",
            EventName::LinkDown => "link.down",
            EventName::DatabaseUp => "database.up",
            EventName::DatabaseDown => "database.down",
        }
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The topic an event is published on (the `topic` of an `evt` frame), which
/// `subscribe` filters by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// `agent:ID`: events at the device an agent is logged on at.
    Agent(String),
    /// `device:EXT`: events at an extension no agent is logged on at.
    Device(String),
    /// `queue:Q`: a queued call's updates and the queue's figures.
    Queue(String),
    /// `call:ID`: a call with no device to name.
    Call(String),
    /// `switch:NAME`: a link's state and a switch's call records.
    Switch(String),
    /// `system`: the database's state.
    System,
    /// `snapshot`: the state a session starts from.
    Snapshot,
}

impl Topic {
    /// The snapshot's topic, which every session gets whatever it subscribed to.
    pub const SNAPSHOT: &'static str = "snapshot";
    /// The database's state.
    pub const SYSTEM: &'static str = "system";
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Agent(id) => write!(f, "agent:{id}"),
            Topic::Device(id) => write!(f, "device:{id}"),
            Topic::Queue(id) => write!(f, "queue:{id}"),
            Topic::Call(id) => write!(f, "call:{id}"),
            Topic::Switch(id) => write!(f, "switch:{id}"),
            Topic::System => f.write_str(Topic::SYSTEM),
            Topic::Snapshot => f.write_str(Topic::SNAPSHOT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_serialise_as_they_display() {
        for name in EventName::ALL {
            let json = serde_json::to_string(&name).expect("serialises");
            assert_eq!(json, format!("\"{name}\""));
        }
        assert_eq!(EventName::CallOffered.as_str(), "call.offered");
        assert_eq!(EventName::DatabaseDown.as_str(), "database.down");
    }

    #[test]
    fn every_name_is_documented() {
        let doc = include_str!("../../docs/protocol.md");
        for name in EventName::ALL {
            assert!(
                doc.contains(&format!("\"name\":\"{name}\"")),
                "{name} has no example in docs/protocol.md"
            );
        }
    }

    #[test]
    fn topics_spell_as_on_the_wire() {
        assert_eq!(Topic::Agent("1001".into()).to_string(), "agent:1001");
        assert_eq!(Topic::Device("1002".into()).to_string(), "device:1002");
        assert_eq!(Topic::Queue("8000".into()).to_string(), "queue:8000");
        assert_eq!(Topic::Call("c1".into()).to_string(), "call:c1");
        assert_eq!(Topic::Switch("pbx".into()).to_string(), "switch:pbx");
        assert_eq!(Topic::System.to_string(), "system");
        assert_eq!(Topic::Snapshot.to_string(), "snapshot");
    }
}
