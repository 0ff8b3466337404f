//! The engine's vocabulary for what a call and a phone are doing and how a call
//! ended. Each serialises to the string the protocol and the call log have always
//! used (`"talking"`, `"short_abandon"`, …), so the wire and the rows do not change.
//! A leaf but for [`CallOutcome`], which lives with the call log that stores it.

use serde::Serialize;

/// A call's state as clients see it (`state` in a call's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Idle,
    Queued,
    Dialing,
    Ringing,
    Talking,
    Held,
    /// Only in `call.ended`: the call is over.
    Ended,
}

/// What an agent's phone is doing (`phone` in `agent.state`). Ordered by what the
/// agent hears when the phone is in several calls: talking beats dialling beats
/// ringing beats held beats idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneState {
    Idle,
    Held,
    Ringing,
    Dialing,
    Talking,
}

/// How a call ended: the call log's vocabulary, which the engine decides.
pub use crate::crm::outcome::CallOutcome;

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).expect("serialises")
    }

    #[test]
    fn the_wire_spellings_are_unchanged() {
        assert_eq!(json(&CallState::Talking), "\"talking\"");
        assert_eq!(json(&PhoneState::Ringing), "\"ringing\"");
        for outcome in [
            CallOutcome::Answered,
            CallOutcome::ShortAbandon,
            CallOutcome::Abandoned,
            CallOutcome::Failed,
        ] {
            assert_eq!(json(&outcome), format!("\"{}\"", outcome.as_str()));
        }
        assert_eq!(CallOutcome::ShortAbandon.as_str(), "short_abandon");
        assert!(PhoneState::Talking > PhoneState::Dialing);
        assert!(PhoneState::Dialing > PhoneState::Ringing);
        assert!(PhoneState::Ringing > PhoneState::Held);
        assert!(PhoneState::Held > PhoneState::Idle);
    }
}
