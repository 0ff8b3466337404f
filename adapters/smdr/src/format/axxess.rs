//! Inter-Tel / Mitel Axxess (and Inter-Tel 5000, Mitel 5000) SMDR (`format =
//! "axxess"`): fixed-width lines on a serial port or the SMDR TCP socket, under a
//! column header per page:
//!
//! ```text
//! TYP EXT# TRUNK DIALED DIGITS                START ELAPSED  COST   ACCOUNT CODE
//! ```
//!
//! | Field | Columns | Read as |
//! |---|---|---|
//! | TYP call type | 1-3 | `direction`: `IN`, `DID`, `DSA` in; `CNF`, `NET` internal; `LOC`, `TLC`, `TLD`, `O/I`, `OP`, `INT`, `000` out |
//! | EXT# (`*****`: unanswered ring-in) | 5-9 | `extension`, `answered` |
//! | TRUNK | 11-15 | `trunk` |
//! | DIALED DIGITS (28; `>` at the end: more were dialled) | 17-44 | `dialed` (out); `calling` (in: the caller's number); `called` (`DID`: the DID/DNIS digits) |
//! | START `HH:MM` (24-hour, no date) | 46-50 | `start`: today, or yesterday if that is in the future |
//! | ELAPSED `HH:MM:SS`, `S=nnnnnn` or (very long) `HH:MM` | 52-59 | `duration_s` |
//! | COST `$XX.XX` | 61-66 | not used |
//! | ACCOUNT CODE (up to 16) | 68- | `account` |
//!
//! START and ELAPSED are found where they are (the first `HH:MM` after the dialled
//! digits followed by an elapsed time), so a field printed a column off does not
//! glue onto its neighbour. For an incoming call the dialled-digits field holds the
//! caller's number, possibly followed by a name: `calling` is the number only.
//!
//! *Ring-in diagnostic* records (option "Record All Ring-in Diagnostics") say how
//! long an incoming call rang: their dialled digits start with `Ring`, and their
//! ELAPSED is the ring time → `ring_s`, `duration_s` 0. An unanswered ring-in
//! (EXT# `*****`) is likewise ring time only. A trailing `*` (the far end hung up
//! first) is ignored. The header line, separator lines (`---`, `===`) and titles (a
//! line with no time in it) are skipped.

use std::sync::OnceLock;

use ctibridge_adapter::{CallRecord, Direction};
use regex::Regex;

use super::fields::{cols, duration, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

/// START then ELAPSED, wherever they are.
fn start_elapsed() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:^|\s)(\d{1,2}:\d{2})\s+(S=\d+|\d{1,3}:\d{2}:\d{2}|\d{1,3}:\d{2})(?:\s|$)")
            .expect("a valid regex")
    })
}

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let typ = cols(line, 1, 3);
    let direction = match typ {
        "IN" | "DID" | "DSA" => Direction::In,
        "CNF" | "NET" => Direction::Internal,
        "LOC" | "TLC" | "TLD" | "O/I" | "OP" | "INT" | "000" => Direction::Out,
        _ => {
            let trimmed = line.trim();
            let title = trimmed.is_empty()
                || trimmed.starts_with("TYP")
                || trimmed.chars().all(|c| matches!(c, '-' | '=' | '_' | ' '))
                || start_elapsed().find(line).is_none();
            if title {
                return Ok(Line::Skip);
            }
            return Err(ParseError::bad(
                "TYP",
                FieldAt::Columns(1, 3),
                typ,
                "a call type (IN, LOC, TLD, …)",
            ));
        }
    };
    // Byte offsets are character offsets here: a record is ASCII up to its times.
    let head_end = line
        .char_indices()
        .nth(16)
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    let Some(found) = line
        .get(head_end..)
        .and_then(|rest| start_elapsed().captures(rest))
    else {
        return Err(ParseError::Missing {
            field: "START",
            at: FieldAt::Columns(46, 50),
            found: "no HH:MM followed by an elapsed time".into(),
        });
    };
    let (start_m, elapsed_m) = (
        found.get(1).expect("group 1"),
        found.get(2).expect("group 2"),
    );
    let column = |byte: usize| line[..head_end + byte].chars().count() + 1;
    let start_at = FieldAt::Columns(column(start_m.start()), column(start_m.end()) - 1);
    let time = need(
        time_of_day(start_m.as_str()),
        "START",
        start_at,
        start_m.as_str(),
        "HH:MM",
    )?;
    let start = need(
        clock.dateless(time),
        "START",
        start_at,
        start_m.as_str(),
        "HH:MM",
    )?;
    let elapsed_at = FieldAt::Columns(column(elapsed_m.start()), column(elapsed_m.end()) - 1);
    let elapsed_text = elapsed_m.as_str();
    // A very long call is printed `HH:MM`: hours and minutes, not minutes and seconds.
    let elapsed = if elapsed_text.matches(':').count() == 1 {
        duration(elapsed_text).map(|minutes| minutes * 60.0)
    } else {
        duration(elapsed_text)
    };
    let elapsed = need(
        elapsed,
        "ELAPSED",
        elapsed_at,
        elapsed_text,
        "HH:MM:SS or S=seconds",
    )?;
    let digits_end = head_end + start_m.start();
    let digits = line.get(head_end..digits_end).unwrap_or("").trim();
    let ring_in = digits
        .get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("ring"));
    let digits = if ring_in {
        digits
            .get(4..)
            .unwrap_or("")
            .trim_start_matches(['.', ' ', ':'])
    } else {
        digits
    };
    let ext = cols(line, 5, 9);
    let unanswered = ext.starts_with('*');
    // DID/DNIS trunks print the number the caller dialled, others the caller's.
    let (calling, called, dialed) = match direction {
        Direction::In if typ == "DID" => (None, caller_number(digits), None),
        Direction::In => (caller_number(digits), None, None),
        _ => (None, None, non_empty(digits.trim_end_matches('>'))),
    };
    let (duration_s, ring_s) = if ring_in || unanswered {
        (0.0, Some(elapsed))
    } else {
        (elapsed, None)
    };
    let after = line
        .get(head_end + elapsed_m.end()..)
        .unwrap_or("")
        .trim()
        .trim_end_matches('*')
        .trim();
    // What follows ELAPSED: the cost (`$…`), then the account code.
    let account = after
        .split_whitespace()
        .filter(|t| !t.starts_with('$'))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(start),
        duration_s: Some(duration_s),
        ring_s,
        direction: Some(direction),
        extension: if unanswered { None } else { non_empty(ext) },
        trunk: non_empty(cols(line, 11, 15)),
        calling,
        called,
        dialed,
        answered: Some(!unanswered),
        account: non_empty(&account),
        ..CallRecord::default()
    })))
}

/// The caller's number out of the dialled-digits field: its first run that is a
/// number (a name the switch prints after it is dropped).
fn caller_number(digits: &str) -> Option<String> {
    digits
        .split_whitespace()
        .map(|t| t.trim_end_matches('>'))
        .find(|t| {
            let t = t.strip_prefix('+').unwrap_or(t);
            t.len() >= 2 && t.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        })
        .map(|t| t.replace('-', ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;
    use crate::format::mitel_mivb::line_of;

    fn record(line: &str) -> CallRecord {
        match parse(line, &clock()) {
            Ok(Line::Record(p)) => p.record,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn outgoing_incoming_and_header() {
        let out = line_of(&[
            (1, "TLD"),
            (5, "1004"),
            (11, "92001"),
            (17, "12125550188"),
            (46, "10:41"),
            (52, "00:04:10"),
            (61, "$00.50"),
            (68, "7788"),
        ]);
        let r = record(&out);
        assert_eq!(r.start, Some("2026-03-10T10:41:00Z".parse().unwrap()));
        assert_eq!(r.duration_s, Some(250.0));
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.dialed.as_deref(), Some("12125550188"));
        assert_eq!(r.account.as_deref(), Some("7788"));
        let ring_in = line_of(&[
            (1, "IN"),
            (5, "*****"),
            (11, "92002"),
            (17, "4155550123"),
            (46, "11:02"),
            (52, "S=000012"),
        ]);
        let r = record(&ring_in);
        assert_eq!(r.answered, Some(false));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.ring_s, Some(12.0));
        assert_eq!(r.duration_s, Some(0.0));
        assert_eq!(
            parse("TYP EXT# TRUNK DIALED DIGITS", &clock()),
            Ok(Line::Skip)
        );
        let err = parse("XYZ 1004  92001 12:00 00:00:10", &clock()).unwrap_err();
        assert!(err.to_string().contains("TYP (columns 1-3)"), "{err}");
    }

    #[test]
    fn titles_separators_and_a_name_after_the_caller() {
        assert_eq!(parse("   TYP EXT# TRUNK", &clock()), Ok(Line::Skip));
        assert_eq!(parse("-------- ------", &clock()), Ok(Line::Skip));
        assert_eq!(
            parse("  SMDR REPORT FOR NODE 1   PAGE 2", &clock()),
            Ok(Line::Skip)
        );
        // The caller's name follows the number, and START is a column early.
        let line = line_of(&[
            (1, "IN"),
            (5, "1007"),
            (11, "92003"),
            (17, "6025550147 GARCIA M"),
            (45, "08:30"),
            (51, "00:02:05"),
            (67, "*"),
        ]);
        let r = record(&line);
        assert_eq!(r.calling.as_deref(), Some("6025550147"));
        assert_eq!(r.duration_s, Some(125.0));
        assert_eq!(r.account, None);
    }

    #[test]
    fn a_ring_in_diagnostic_record() {
        let line = line_of(&[
            (1, "DID"),
            (5, "1009"),
            (11, "92004"),
            (17, "Ring... 5550199"),
            (46, "14:12"),
            (52, "00:00:09"),
        ]);
        let r = record(&line);
        assert_eq!(r.ring_s, Some(9.0));
        assert_eq!(r.duration_s, Some(0.0));
        assert_eq!(r.called.as_deref(), Some("5550199"));
        assert_eq!(r.calling, None);
        assert_eq!(r.extension.as_deref(), Some("1009"));
    }
}
