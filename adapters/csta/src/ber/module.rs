//! The shape of one CSTA ASN.1 module as the BER codec needs it: which operation
//! code is which service, which tag or number is which event and which of its
//! fields we read, and the names of the enumerations (causes, connection states,
//! errors). Phase II and Phase III each fill one [`Module`]
//! ([`super::phase2::MODULE`], [`super::phase3::MODULE`]); nothing else in the
//! codec knows a code or a tag of either.

use rasn::types::Tag;

/// Names of an enumeration's values.
pub type Names = &'static [(i64, &'static str)];

/// The name of `value`, or the number when the table has none.
pub fn name_of(names: Names, value: i64) -> String {
    names
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| value.to_string())
}

/// The value named `name`.
pub fn value_of(names: Names, name: &str) -> Option<i64> {
    names.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
}

pub struct Module {
    pub title: &'static str,
    /// Operation code → the service's ECMA-323 name (`MakeCall`, `SystemStatus`).
    pub operations: Names,
    /// The code of `cSTAEventReport`.
    pub event_report: i64,
    pub events: Events,
    pub causes: Names,
    /// LocalConnectionState, by its ECMA-323 names (`alerting`, `connected`, `hold`).
    pub connection_states: Names,
    /// Agent states in GetAgentState answers, by ECMA-323 names.
    pub agent_states: Names,
    /// The requested agent states of SetAgentState (`loggedOn`, `ready`, …); empty
    /// where the phase has no SetAgentState service.
    pub requested_agent_states: Names,
    pub connection: ConnectionForm,
    /// UniversalFailure: the CHOICE tag of each category, its ECMA-323 element
    /// name, and its values.
    pub errors: &'static [(u32, &'static str, Names)],
    /// For each service whose result names connections, their element names in
    /// order (MakeCall's result is the calling device's connection).
    pub results: &'static [(&'static str, &'static [&'static str])],
    pub system_status: Names,
    /// ECMA-323 services this phase carries as another of its operations (Phase
    /// II sets agent states with SetFeature and asks for them with QueryDevice).
    pub carried_as: &'static [(&'static str, &'static str)],
    /// The operations the switch invokes (other than the event report and its
    /// keep-alive) whose argument is read field by field: the routing dialogue's.
    pub invoked: &'static [Invoked],
}

impl Module {
    pub fn operation(&self, code: i64) -> Option<&'static str> {
        self.operations
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, n)| *n)
    }

    /// The operation code that carries `service` (an ECMA-323 name).
    pub fn code(&self, service: &str) -> Option<i64> {
        let service = self
            .carried_as
            .iter()
            .find(|(s, _)| *s == service)
            .map_or(service, |(_, op)| op);
        value_of(self.operations, service)
    }
}

/// An operation the switch invokes: its argument's fields (the event table's form,
/// named as the operation), and whether ROSE wants an answer to it.
pub struct Invoked {
    pub argument: Event,
    /// `ALWAYS RESPONDS FALSE` (the routing dialogue's messages): the switch
    /// expects no result; the next step of the dialogue is the answer.
    pub answered: bool,
}

/// How an event report names its event.
pub enum Events {
    /// Phase III: `eventSpecificInfo` is a CHOICE of categories ([0] call control,
    /// [4] logical device features, …), each a CHOICE of events by tag.
    Tagged(&'static [(u32, u32, Event)]),
    /// Phase II: an `eventType` number beside an untagged `eventInfo`.
    Numbered(&'static [(i64, Event)]),
}

/// One event: its ECMA-323 name and the fields read, in ASN.1 order.
pub struct Event {
    pub name: &'static str,
    pub fields: &'static [Field],
}

/// A field of an event: its ECMA-323 element name, the tags it comes with, and how
/// to read it.
pub struct Field {
    pub name: &'static str,
    pub tags: &'static [Tag],
    pub kind: Kind,
}

pub const fn field(name: &'static str, tags: &'static [Tag], kind: Kind) -> Field {
    Field { name, tags, kind }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connection,
    Device,
    Cause,
    ConnectionState,
    ConnectionList,
    /// An octet or character string shown as text.
    Text,
    Integer,
    /// An octet string shown as hex: binary identifiers (RouteingCrossRefID,
    /// RouteRegisterReqID) that go back to the switch as they came.
    Octets,
    /// CSTACommonArguments / CSTAPrivateData: vendor data and the switch's
    /// timestamp, kept for diagnostics.
    Extensions,
}

/// The ConnectionID of each phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionForm {
    /// `[APPLICATION 11] IMPLICIT SEQUENCE { call [2] IMPLICIT CallID OPTIONAL,
    /// device CHOICE { staticID DeviceID, dynamicID [3] IMPLICIT OCTET STRING }
    /// OPTIONAL }`, where DeviceID is the CHOICE { dialingNumber [0], deviceNumber
    /// [1] } itself.
    Two,
    /// `[APPLICATION 11] CHOICE { callID [0] IMPLICIT CallID, deviceID [1]
    /// LocalDeviceID, both SEQUENCE { callID [0], deviceID [1] } }`, where DeviceID
    /// is a SEQUENCE around that CHOICE.
    Three,
}
