//! Mitel MiVoice Business / 3300 ICP SMDR (`format = "mitel-mivb"`, or
//! `"mitel-mivb-extended"` to insist on the extended digit length): fixed-width
//! lines, streamed by the controller on TCP port 1752 (use `host` + `port`) or
//! printed on a serial port. The SX-200 and SX-2000 print the same record
//! ([`super::mitel_sx200`]).
//!
//! The record (Mitel's "Summary of Fields", 1-based columns):
//!
//! | Field | Standard | Extended digit length | Read as |
//! |---|---|---|---|
//! | Long call (` `, `-`, `%`, `+`) | 1 | 1 | not used |
//! | Date `mm/dd` (no year) | 2-6 | 2-6 | `start` date |
//! | Start time `hh:mm` + `P` (12-hour clock) | 8-13 | 8-13 | `start` time |
//! | Duration `hh:mm:ss` / `hhhh:mm:ss` | 15-22 | 15-24 | `duration_s` |
//! | Calling party (extension, `Tnnn`/`Xnnn` trunk, `ATTm`) | 24-27 | 26-32 | `extension`/`trunk` |
//! | Attendant flag `*` | 29 | 34 | not used |
//! | Time to answer (s; `***` unanswered) | 30-32 | 35-37 | `ring_s`, `answered` |
//! | Digits dialed on the trunk | 34-59 | 39-64 | `dialed` (out), `called` (in) |
//! | Call completion status | 60 | 65 | `answered` |
//! | Speed call / forward flag | 61 | 66 | not used |
//! | Called party | 62-65 | 67-73 | `extension`/`trunk` |
//! | Transfer/conference flag (`T`, `X`, `C`) | 66 | 74 | with `T`/`X`: `transfer_to` |
//! | Third party | 68-71 | 76-82 | `transfer_to` |
//! | Account code | 73-84 | 84-95 | `account` |
//! | System identifier | 86-88 | 97-99 | not used |
//! | ANI (optional) | 92-101 | 103-112 | `calling` (in) |
//! | DNIS (optional) | 103-112 | 114-120 | `called` (in) |
//!
//! Options move these columns, so the columns from the calling party on are read
//! relative to where the duration ends: with *Extended Reporting level 2* the start
//! time has seconds (`hh:mm:ssP`) and every later field moves right; a time may carry
//! a trailing mark (`P` for afternoon on a 12-hour clock; any other mark, such as
//! `'`, is ignored). A 10-character duration (`hhhh:mm:ss`) means the extended
//! digit length; `mitel-mivb-extended` reads the extended widths whatever the
//! duration looks like. *Extended time to answer* (4 digits, the attendant flag
//! moved into the spacer before it) is read in the same columns.
//!
//! A trunk calling party makes the call `in`, a trunk called party `out`, two
//! stations `internal`. Unanswered: time to answer `***`, or a completion status of
//! `B` (busy), `E` (error), `I` (invalid number), `O` (occupied), `D` (do not
//! disturb), `T` (toll denied), or no duration. The records carry no call id.
//! Lines without a date (titles, blank lines) are skipped.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{cols, duration, month_day, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

/// Which widths the calling and called parties have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// By the duration's width: `hhhh:mm:ss` means extended.
    Auto,
    Extended,
}

/// Where each field after the duration is, counted from the calling party's first
/// column (offset 0).
struct Layout {
    calling: (usize, usize),
    answer: (usize, usize),
    digits: (usize, usize),
    status: usize,
    called: (usize, usize),
    transfer: usize,
    third: (usize, usize),
    account: (usize, usize),
    ani: (usize, usize),
    dnis: (usize, usize),
}

/// Standard digit length; the calling party in column 24.
const STANDARD: Layout = Layout {
    calling: (0, 3),
    // The attendant flag (offset 5) and the 3-digit time to answer; extended time
    // to answer takes offsets 5-8 and moves the flag to offset 4.
    answer: (4, 8),
    digits: (10, 35),
    status: 36,
    called: (38, 41),
    transfer: 42,
    third: (44, 47),
    account: (49, 60),
    ani: (68, 77),
    dnis: (79, 88),
};

/// Extended digit length; the calling party in column 26.
const EXTENDED: Layout = Layout {
    calling: (0, 6),
    answer: (7, 11),
    digits: (13, 38),
    status: 39,
    called: (41, 47),
    transfer: 48,
    third: (50, 56),
    account: (58, 69),
    ani: (77, 86),
    dnis: (88, 94),
};

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    parse_with(line, clock, Digits::Auto)
}

pub fn parse_extended(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    parse_with(line, clock, Digits::Extended)
}

/// The end (1-based, inclusive) of the run of non-blank characters from `from`.
fn token_end(chars: &[char], from: usize) -> usize {
    let mut end = from;
    while end < chars.len() && chars[end] != ' ' {
        end += 1;
    }
    end
}

/// Read a Mitel-family line (the SX-200 prints the same record).
pub(crate) fn parse_with(line: &str, clock: &Clock, digits: Digits) -> Result<Line, ParseError> {
    let date = cols(line, 2, 6);
    if line.trim().is_empty() || (month_day(date).is_none() && !date.starts_with(char::is_numeric))
    {
        // A title or page line: no date where every record has one.
        return Ok(Line::Skip);
    }
    let (month, day) = need(
        month_day(date),
        "date",
        FieldAt::Columns(2, 6),
        date,
        "mm/dd",
    )?;
    let chars: Vec<char> = line.chars().collect();
    // The start time runs from column 8 to the next blank (`hh:mm`, `hh:mmP`,
    // `hh:mm:ssP`); the duration is the next run after it.
    let mut time_from = 7;
    while time_from < chars.len() && chars[time_from] == ' ' {
        time_from += 1;
    }
    let time_end = token_end(&chars, time_from).max(8);
    let time_text = cols(line, 8, time_end);
    let time = need(
        time_of_day(time_text),
        "start time",
        FieldAt::Columns(8, time_end),
        time_text,
        "hh:mm, hh:mmP or hh:mm:ss",
    )?;
    let start = need(
        clock.yearless(month, day, time),
        "date",
        FieldAt::Columns(2, 6),
        date,
        "a date of this or last year",
    )?;
    let mut held_from = time_end;
    while held_from < chars.len() && chars[held_from] == ' ' {
        held_from += 1;
    }
    let held_end = token_end(&chars, held_from);
    let held_at = FieldAt::Columns(held_from + 1, held_end.max(held_from + 1));
    let held_text = cols(line, held_from + 1, held_end);
    let held = need(
        duration(held_text),
        "duration",
        held_at,
        held_text,
        "hh:mm:ss",
    )?;
    let layout = match digits {
        Digits::Extended => &EXTENDED,
        Digits::Auto if held_text.len() >= 10 => &EXTENDED,
        Digits::Auto => &STANDARD,
    };
    // The calling party starts after the spacer that follows the duration.
    let base = held_end + 2;
    let at = |(a, b): (usize, usize)| (base + a, base + b);
    let col = |range: (usize, usize)| {
        let (a, b) = at(range);
        cols(line, a, b)
    };
    let calling = col(layout.calling);
    let called = col(layout.called);
    if calling.is_empty() {
        let (a, b) = at(layout.calling);
        return Err(ParseError::Missing {
            field: "calling party",
            at: FieldAt::Columns(a, b),
            found: "nothing there".into(),
        });
    }
    let trunk_of = |party: &str| {
        party
            .strip_prefix('T')
            .or_else(|| party.strip_prefix('X'))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
    };
    let (direction, extension, trunk) = match (trunk_of(calling), trunk_of(called)) {
        (Some(trunk), _) => (Direction::In, non_empty(called), Some(trunk)),
        (None, Some(trunk)) => (Direction::Out, non_empty(calling), Some(trunk)),
        (None, None) => (Direction::Internal, non_empty(calling), None),
    };
    // The attendant flag shares these columns with the time to answer.
    let answer_text = col(layout.answer);
    let unanswered_mark = answer_text.ends_with("***");
    let answer_digits = answer_text.trim_start_matches('*').trim();
    let ring = match answer_digits {
        _ if unanswered_mark => None,
        "" => None,
        text => {
            let (a, b) = at(layout.answer);
            Some(need(
                duration(text),
                "time to answer",
                FieldAt::Columns(a, b),
                text,
                "seconds or ***",
            )?)
        }
    };
    let status = cols(line, base + layout.status, base + layout.status);
    let answered =
        !unanswered_mark && !matches!(status, "B" | "E" | "I" | "O" | "D" | "T") && held > 0.0;
    let digits = non_empty(col(layout.digits));
    let transfer_to = match cols(line, base + layout.transfer, base + layout.transfer) {
        "T" | "X" => non_empty(col(layout.third)),
        _ => None,
    };
    let ani = non_empty(col(layout.ani));
    let dnis = non_empty(col(layout.dnis));
    let (calling_number, called_number, dialed) = match direction {
        Direction::In => (ani, dnis.or(digits), None),
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

/// Lay a record out by columns, for tests of the fixed-width formats.
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

    fn record(line: &str) -> CallRecord {
        match parse(line, &clock()) {
            Ok(Line::Record(p)) => p.record,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    /// A standard record, padded to its 90-character width.
    fn standard() -> String {
        line_of(&[
            (2, "03/09"),
            (8, "14:05"),
            (15, "00:02:17"),
            (24, "2001"),
            (34, "916502530000"),
            (62, "T001"),
            (73, "ACC4411"),
            (86, "001"),
            (90, " "),
        ])
    }

    #[test]
    fn standard_outbound() {
        let r = record(&standard());
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
    fn a_time_with_a_mark_or_seconds_moves_nothing_it_should_not() {
        // `17:16P` is a 12-hour afternoon time.
        let line = line_of(&[
            (2, "03/09"),
            (8, "05:16P"),
            (15, "00:00:40"),
            (24, "T012"),
            (30, "007"),
            (62, "2001"),
        ]);
        let r = record(&line);
        assert_eq!(r.start, Some("2026-03-09T17:16:00Z".parse().unwrap()));
        assert_eq!(r.ring_s, Some(7.0));
        assert_eq!(r.extension.as_deref(), Some("2001"));
        // Level 2: seconds in the start time; every later field three columns on.
        let line = line_of(&[
            (2, "03/09"),
            (8, "17:16:05"),
            (18, "00:00:40"),
            (27, "T012"),
            (33, "007"),
            (65, "2001"),
        ]);
        let r = record(&line);
        assert_eq!(r.start, Some("2026-03-09T17:16:05Z".parse().unwrap()));
        assert_eq!(r.trunk.as_deref(), Some("012"));
        assert_eq!(r.extension.as_deref(), Some("2001"));
    }

    #[test]
    fn extended_inbound_transferred_with_ani() {
        let line = line_of(&[
            (1, "-"),
            (2, "12/31"),
            (8, "11:58P"),
            (15, "0000:07:02"),
            (26, "T0012"),
            (35, "004"),
            (67, "2001234"),
            (74, "T"),
            (76, "2001299"),
            (97, "001"),
            (103, "4155550123"),
            (114, "5550100"),
        ]);
        let r = record(&line);
        // 31 December is in the future on 10 March: last year's.
        assert_eq!(r.start, Some("2025-12-31T23:58:00Z".parse().unwrap()));
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.trunk.as_deref(), Some("0012"));
        assert_eq!(r.extension.as_deref(), Some("2001234"));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.called.as_deref(), Some("5550100"));
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
            (30, "***"),
            (62, "2002"),
            (86, "001"),
        ]);
        assert_eq!(record(&line).answered, Some(false));
        let bad = line_of(&[(2, "03/x9"), (8, "09:00"), (15, "00:00:00"), (24, "2001")]);
        let err = parse(&bad, &clock()).unwrap_err();
        assert!(err.to_string().contains("date (columns 2-6)"), "{err}");
        let bad = line_of(&[(2, "03/09"), (8, "09:00"), (15, "00:0a:00"), (24, "2001")]);
        let err = parse(&bad, &clock()).unwrap_err();
        assert!(
            err.to_string().contains("duration (columns 15-22)"),
            "{err}"
        );
        assert_eq!(parse("  SMDR LOG", &clock()), Ok(Line::Skip));
    }
}
