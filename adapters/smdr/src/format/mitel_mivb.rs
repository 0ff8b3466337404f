//! Mitel MiVoice Business / 3300 ICP SMDR (`format = "mitel-mivb"`): fixed-width
//! lines, streamed by the controller on TCP port 1752 (use `host` + `port`) or printed
//! on a serial port.
//!
//! Columns (1-based, inclusive) as ctibridge reads them. With *extended digit length*
//! (SMDR Options form) the calling, called and third parties are 7 characters wide
//! instead of 4 and every later field moves right:
//!
//! | Field | Standard | Extended | Read as |
//! |---|---|---|---|
//! | Long call (` `, `-`, `%`, `+`) | 1 | 1 | not used |
//! | Date `mm/dd` (no year) | 2-6 | 2-6 | `start` date |
//! | Start time `hh:mm` + `P` (12-hour clock) | 8-13 | 8-13 | `start` time |
//! | Duration `hh:mm:ss` | 15-22 | 15-22 | `duration_s` |
//! | Calling party (extension, or `Tnnn` trunk) | 24-27 | 24-30 | `extension`/`trunk` |
//! | Attendant flag `*` | 28 | 31 | not used |
//! | Time to answer (s; `***` unanswered) | 29-31 | 32-34 | `ring_s`, `answered` |
//! | Digits dialed | 33-58 | 36-61 | `dialed` (out), `called` (in) |
//! | Completion status (`B` busy, `E` error, `I` invalid) | 59 | 62 | `answered` |
//! | Speed call / forward flag | 60 | 63 | not used |
//! | Called party (extension, or `Tnnn` trunk) | 61-64 | 64-70 | `extension`/`trunk` |
//! | Transfer/conference flag (`T`, `X`, `C`) | 65 | 71 | with `T`/`X`: `transfer_to` |
//! | Third party | 66-69 | 72-78 | `transfer_to` |
//! | Account code | 71-82 | 80-91 | `account` |
//! | System identifier | 84-86 | 93-95 | not used |
//!
//! The controller pads every record to its full width, so a line longer than
//! [`EXTENDED_FROM`] characters is read with the extended layout. A trunk calling
//! party makes the call `in`, a trunk called party `out`, two stations `internal`.
//! The records carry no call id. The optional ANI/DNIS and meter-pulse columns
//! (after the system identifier) are not read: use a custom format for them.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{cols, duration, month_day, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

/// Where each field is, 1-based inclusive columns.
pub(crate) struct Layout {
    pub calling: (usize, usize),
    pub answer: (usize, usize),
    pub digits: (usize, usize),
    pub status: usize,
    pub called: (usize, usize),
    pub transfer: usize,
    pub third: (usize, usize),
    pub account: (usize, usize),
}

pub(crate) const STANDARD: Layout = Layout {
    calling: (24, 27),
    answer: (29, 31),
    digits: (33, 58),
    status: 59,
    called: (61, 64),
    transfer: 65,
    third: (66, 69),
    account: (71, 82),
};

pub(crate) const EXTENDED: Layout = Layout {
    calling: (24, 30),
    answer: (32, 34),
    digits: (36, 61),
    status: 62,
    called: (64, 70),
    transfer: 71,
    third: (72, 78),
    account: (80, 91),
};

/// Standard records are at most 90 characters wide.
pub const EXTENDED_FROM: usize = 90;

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let layout = if line.chars().count() > EXTENDED_FROM {
        &EXTENDED
    } else {
        &STANDARD
    };
    parse_with(line, clock, layout)
}

/// Read a Mitel-family line with `layout` (the SX-200 shares the standard one).
pub(crate) fn parse_with(line: &str, clock: &Clock, layout: &Layout) -> Result<Line, ParseError> {
    let col = |(a, b): (usize, usize)| cols(line, a, b);
    let date = col((2, 6));
    let (month, day) = need(
        month_day(date),
        "date",
        FieldAt::Columns(2, 6),
        date,
        "mm/dd",
    )?;
    let time = col((8, 13));
    let time = need(
        time_of_day(time),
        "start time",
        FieldAt::Columns(8, 13),
        time,
        "hh:mm",
    )?;
    let start = need(
        clock.yearless(month, day, time),
        "date",
        FieldAt::Columns(2, 6),
        date,
        "a date of this or last year",
    )?;
    let held = col((15, 22));
    let held = need(
        duration(held),
        "duration",
        FieldAt::Columns(15, 22),
        held,
        "hh:mm:ss",
    )?;
    let calling = col(layout.calling);
    let called = col(layout.called);
    if calling.is_empty() {
        return Err(ParseError::Missing {
            field: "calling party",
            at: FieldAt::Columns(layout.calling.0, layout.calling.1),
            found: "nothing there".into(),
        });
    }
    let trunk_of = |party: &str| party.strip_prefix('T').and_then(non_empty);
    let (direction, extension, trunk) = match (trunk_of(calling), trunk_of(called)) {
        (Some(trunk), _) => (Direction::In, non_empty(called), Some(trunk)),
        (None, Some(trunk)) => (Direction::Out, non_empty(calling), Some(trunk)),
        (None, None) => (Direction::Internal, non_empty(calling), None),
    };
    let answer = col(layout.answer);
    let ring = match answer {
        "" | "***" => None,
        text => Some(need(
            duration(text),
            "time to answer",
            FieldAt::Columns(layout.answer.0, layout.answer.1),
            text,
            "seconds or ***",
        )?),
    };
    let status = cols(line, layout.status, layout.status);
    let answered = answer != "***" && !matches!(status, "B" | "E" | "I") && held > 0.0;
    let digits = non_empty(col(layout.digits));
    let transfer_to = match cols(line, layout.transfer, layout.transfer) {
        "T" | "X" => non_empty(col(layout.third)),
        _ => None,
    };
    let (calling_number, called_number, dialed) = match direction {
        Direction::In => (None, digits, None),
        Direction::Out => (non_empty(calling), None, digits),
        Direction::Internal => (non_empty(calling), non_empty(called), digits),
    };
    Ok(Line::Record(Parsed::new(CallRecord {
        call_id: None,
        start: Some(start),
        duration_s: Some(held),
        ring_s: ring,
        direction: Some(direction),
        extension,
        trunk,
        calling: calling_number,
        called: called_number,
        dialed,
        answered: Some(answered),
        transfer_to,
        account: non_empty(col(layout.account)),
    })))
}

/// Lay a record out by columns, for tests of the Mitel-family formats.
#[cfg(test)]
pub(crate) fn line_of(fields: &[(usize, &str)]) -> String {
    let mut chars: Vec<char> = Vec::new();
    for (col, text) in fields {
        let start = col - 1;
        if chars.len() < start + text.chars().count() {
            chars.resize(start + text.chars().count(), ' ');
        }
        for (i, c) in text.chars().enumerate() {
            chars[start + i] = c;
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;

    /// A standard record, padded to its 86-character width.
    fn standard() -> String {
        line_of(&[
            (2, "03/09"),
            (8, "14:05"),
            (15, "00:02:17"),
            (24, "2001"),
            (29, "   "),
            (33, "916502530000"),
            (61, "T001"),
            (71, "ACC4411"),
            (84, "001"),
        ])
    }

    #[test]
    fn standard_outbound() {
        let Ok(Line::Record(p)) = parse(&standard(), &clock()) else {
            panic!("not a record")
        };
        let r = p.record;
        assert_eq!(r.start, Some("2026-03-09T14:05:00Z".parse().unwrap()));
        assert_eq!(r.duration_s, Some(137.0));
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.extension.as_deref(), Some("2001"));
        assert_eq!(r.trunk.as_deref(), Some("001"));
        assert_eq!(r.dialed.as_deref(), Some("916502530000"));
        assert_eq!(r.account.as_deref(), Some("ACC4411"));
        assert_eq!(r.answered, Some(true));
    }

    #[test]
    fn extended_inbound_transferred() {
        let line = line_of(&[
            (1, "-"),
            (2, "12/31"),
            (8, "11:58P"),
            (15, "00:07:02"),
            (24, "T0012"),
            (32, "004"),
            (36, "4155550123"),
            (64, "2001234"),
            (71, "T"),
            (72, "2001299"),
            (93, "001"),
        ]);
        assert!(line.chars().count() > EXTENDED_FROM);
        let Ok(Line::Record(p)) = parse(&line, &clock()) else {
            panic!("not a record")
        };
        let r = p.record;
        // 31 December is in the future on 10 March: last year's.
        assert_eq!(r.start, Some("2025-12-31T23:58:00Z".parse().unwrap()));
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.trunk.as_deref(), Some("0012"));
        assert_eq!(r.extension.as_deref(), Some("2001234"));
        assert_eq!(r.called.as_deref(), Some("4155550123"));
        assert_eq!(r.ring_s, Some(4.0));
        assert_eq!(r.transfer_to.as_deref(), Some("2001299"));
    }

    #[test]
    fn unanswered_and_malformed() {
        let line = line_of(&[
            (2, "03/09"),
            (8, "09:00"),
            (15, "00:00:00"),
            (24, "T001"),
            (29, "***"),
            (61, "2002"),
            (84, "001"),
        ]);
        let Ok(Line::Record(p)) = parse(&line, &clock()) else {
            panic!("not a record")
        };
        assert_eq!(p.record.answered, Some(false));
        let bad = line_of(&[(2, "03/x9"), (8, "09:00"), (15, "00:00:00"), (24, "2001")]);
        let err = parse(&bad, &clock()).unwrap_err();
        assert!(err.to_string().contains("date (columns 2-6)"), "{err}");
        let bad = line_of(&[(2, "03/09"), (8, "09:00"), (15, "00:0a:00"), (24, "2001")]);
        let err = parse(&bad, &clock()).unwrap_err();
        assert!(
            err.to_string().contains("duration (columns 15-22)"),
            "{err}"
        );
    }
}
