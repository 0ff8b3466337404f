//! Why one record line could not be read: the field, where it sits in the line, and
//! what was found there. The line's own position in the stream (line number, byte
//! offset) is added by whoever logs the error (the adapter or `ctibridge decode`).

use std::fmt;

/// Where a field sits in a record line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAt {
    /// Fixed-width layouts: 1-based character columns, inclusive.
    Columns(usize, usize),
    /// Delimited layouts: the 1-based field number.
    Field(usize),
}

impl fmt::Display for FieldAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldAt::Columns(from, to) if from == to => write!(f, "column {from}"),
            FieldAt::Columns(from, to) => write!(f, "columns {from}-{to}"),
            FieldAt::Field(n) => write!(f, "field {n}"),
        }
    }
}

/// A record line the format cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A field holds something that is not what the layout says it holds.
    #[error("{field} ({at}): cannot read `{text}` as {expected}")]
    BadField {
        field: &'static str,
        at: FieldAt,
        text: String,
        expected: &'static str,
    },
    /// A field the format needs is missing (the line is too short, or has too few fields).
    #[error("{field} ({at}) is missing: the line has {found}")]
    Missing {
        field: &'static str,
        at: FieldAt,
        found: String,
    },
    /// The line is longer than any record may be; it is skipped whole.
    #[error("record longer than {0} bytes; skipped")]
    TooLong(usize),
}

impl ParseError {
    pub fn bad(field: &'static str, at: FieldAt, text: &str, expected: &'static str) -> Self {
        ParseError::BadField {
            field,
            at,
            text: text.chars().take(40).collect(),
            expected,
        }
    }
}
