//! How a call ended (DESIGN.md "Report figures"), typed, and stored through diesel
//! as the text `call_log.outcome` has always held (`answered`, `short_abandon`,
//! `abandoned`, `failed`) on SQLite, PostgreSQL and MySQL alike, so nothing converts
//! it to or from a string by hand. The engine decides it, the reports count it.
//! A leaf: it imports nothing of the crate.

use std::fmt;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

/// How a call ended, for its log row and its `call.ended` event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AsExpression, FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = Text)]
pub enum CallOutcome {
    Answered,
    /// Hung up unanswered within `short_abandon_s`.
    ShortAbandon,
    Abandoned,
    Failed,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 4] = [
        CallOutcome::Answered,
        CallOutcome::ShortAbandon,
        CallOutcome::Abandoned,
        CallOutcome::Failed,
    ];

    /// The spelling stored in `call_log.outcome` and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::ShortAbandon => "short_abandon",
            CallOutcome::Abandoned => "abandoned",
            CallOutcome::Failed => "failed",
        }
    }

    /// The outcome a stored spelling names.
    pub fn parse(text: &str) -> Option<CallOutcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored outcome no [`CallOutcome`] spells.
#[derive(Debug)]
pub struct UnknownOutcome(pub String);

impl fmt::Display for UnknownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown call outcome `{}` in call_log.outcome (expected answered, \
             short_abandon, abandoned or failed)",
            self.0
        )
    }
}

impl std::error::Error for UnknownOutcome {}

// The text the outcome spells, bound as any other text: one impl for all three
// backends (the spelling is `'static`, so it outlives every query).
impl<DB> ToSql<Text, DB> for CallOutcome
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

impl<DB> FromSql<Text, DB> for CallOutcome
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        CallOutcome::parse(&text).ok_or_else(|| UnknownOutcome(text).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for outcome in CallOutcome::ALL {
            assert_eq!(CallOutcome::parse(outcome.as_str()), Some(outcome));
            let json = serde_json::to_string(&outcome).expect("serialises");
            assert_eq!(json, format!("\"{outcome}\""));
            let back: CallOutcome = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, outcome);
        }
        assert_eq!(CallOutcome::ShortAbandon.as_str(), "short_abandon");
        assert_eq!(CallOutcome::parse("hung_up"), None);
        assert!(UnknownOutcome("x".into()).to_string().contains("`x`"));
    }
}
