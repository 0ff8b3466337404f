//! The fake switch's ASN.1 BER encoding of CSTA: ROSE (X.880) APDUs after a
//! 2-byte big-endian length, CSTA operations and types as ECMA-218 (Phase II)
//! or ECMA-285 (Phase III) define them, and ACSE (X.227) association
//! requests when the configuration asks for one.
//!
//! Written from the standards' ASN.1, with no code shared with the adapter's
//! codec. The parts: `tlv` (elements, tags, lengths, integers, object
//! identifiers), `frame` (the length prefix on the stream), `values` (what
//! both phases write alike), `phase2` and `phase3` (one table of operations,
//! errors and causes per phase, with the shapes of device and connection
//! identifiers, requests, results and events; `phase3::events` holds Phase
//! III's events, `phase3::routing` its routing dialogue), `requests` (the request arguments both phases lay out
//! alike), `decode` (an APDU from the client to something the router acts
//! on) and `encode` (ROSE and ACSE
//! envelopes around what the phase modules write).

mod decode;
mod encode;
mod frame;
mod phase2;
mod phase3;
mod requests;
mod tlv;
mod values;

#[cfg(test)]
mod tests;

pub use decode::{incoming, Incoming};
pub use encode::{AareOutcome, Encoder};
pub use frame::{frame, LengthPrefixDecoder};

/// The CSTA operations the fake serves or sends, whatever their number in a
/// phase (each phase module maps its operation codes to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AnswerCall,
    ClearCall,
    ClearConnection,
    ConferenceCall,
    ConsultationCall,
    HoldCall,
    MakeCall,
    RetrieveCall,
    TransferCall,
    SingleStepTransfer,
    EventReport,
    SystemStatus,
    MonitorStart,
    MonitorStop,
    SnapshotDevice,
    SnapshotCall,
    GenerateDigits,
    GetAgentState,
    SetAgentState,
    RouteRegister,
    /// The switch's: offers a call at a route point to the registered client.
    RouteRequest,
    RouteSelect,
    RouteEnd,
}

impl Op {
    /// The ECMA-323 name of the request, so that [`FakeSwitch::received`]
    /// lists the same names whatever the encoding.
    ///
    /// [`FakeSwitch::received`]: crate::fake::FakeSwitch::received
    pub fn name(self) -> &'static str {
        match self {
            Op::AnswerCall => "AnswerCall",
            Op::ClearCall => "ClearCall",
            Op::ClearConnection => "ClearConnection",
            Op::ConferenceCall => "ConferenceCall",
            Op::ConsultationCall => "ConsultationCall",
            Op::HoldCall => "HoldCall",
            Op::MakeCall => "MakeCall",
            Op::RetrieveCall => "RetrieveCall",
            Op::TransferCall => "TransferCall",
            Op::SingleStepTransfer => "SingleStepTransferCall",
            Op::EventReport => "CSTAEventReport",
            Op::SystemStatus => "SystemStatus",
            Op::MonitorStart => "MonitorStart",
            Op::MonitorStop => "MonitorStop",
            Op::SnapshotDevice => "SnapshotDevice",
            Op::SnapshotCall => "SnapshotCall",
            Op::GenerateDigits => "GenerateDigits",
            Op::GetAgentState => "GetAgentState",
            Op::SetAgentState => "SetAgentState",
            Op::RouteRegister => "RouteRegister",
            Op::RouteRequest => "RouteRequest",
            Op::RouteSelect => "RouteSelectRequest",
            Op::RouteEnd => "RouteEndRequest",
        }
    }

    /// Invoked by the switch only: a client invoking it is refused.
    pub fn switch_only(self) -> bool {
        matches!(self, Op::EventReport | Op::RouteRequest)
    }

    /// Whether the switch answers the client's invoke when it succeeds: the
    /// routing dialogue's messages are `ALWAYS RESPONDS FALSE` (an error may
    /// still go back).
    pub fn has_result(self) -> bool {
        !matches!(self, Op::RouteSelect | Op::RouteEnd)
    }
}

use super::config::CstaPhase;

/// The phase's operation table.
fn ops(phase: CstaPhase) -> &'static [(i64, Op)] {
    match phase {
        CstaPhase::Two => phase2::OPS,
        CstaPhase::Three => phase3::OPS,
    }
}

/// The operation with code `code` in `phase`.
fn op_of(phase: CstaPhase, code: i64) -> Option<Op> {
    ops(phase)
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, op)| *op)
}

/// The code of `op` in `phase`, when the phase has it.
fn code_of(phase: CstaPhase, op: Op) -> Option<i64> {
    ops(phase).iter().find(|(_, o)| *o == op).map(|(c, _)| *c)
}
