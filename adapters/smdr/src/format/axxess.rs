//! Inter-Tel / Mitel Axxess (and Inter-Tel 5000) SMDR (`format = "axxess"`): fixed-width
//! lines on a serial port or the SMDR TCP socket, with a column header per page.
//!
//! | Field | Columns | Read as |
//! |---|---|---|
//! | TYP call type | 1-3 | `direction`: `IN`, `DID`, `DSA` in; `CNF`, `NET` internal; `LOC`, `TLC`, `TLD`, `O/I`, `OP`, `INT`, `000` out |
//! | EXT# (`*****`: unanswered ring-in) | 5-9 | `extension`, `answered` |
//! | TRUNK | 11-15 | `trunk` |
//! | DIALED DIGITS (28) | 17-44 | `dialed` (out); the Caller ID (in) → `calling` |
//! | START `HH:MM` (no date) | 46-50 | `start`: today, or yesterday if that is in the future |
//! | ELAPSED `HH:MM:SS` or `S=nnnnnn` | 52-59 | `duration_s` |
//! | COST `$XX.XX` | 61-66 | not used |
//! | ACCOUNT CODE | 68-79 | `account` |
//!
//! A trailing `*` (the far end hung up first) is ignored. The header line
//! (`TYP EXT# TRUNK …`) and separator lines are skipped.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{cols, duration, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let typ = cols(line, 1, 3);
    let direction = match typ {
        "IN" | "DID" | "DSA" => Direction::In,
        "CNF" | "NET" => Direction::Internal,
        "LOC" | "TLC" | "TLD" | "O/I" | "OP" | "INT" | "000" => Direction::Out,
        _ if typ == "TYP" || line.trim_start().starts_with(['-', '=']) => return Ok(Line::Skip),
        _ => {
            return Err(ParseError::bad(
                "TYP",
                FieldAt::Columns(1, 3),
                typ,
                "a call type (IN, LOC, TLD, …)",
            ))
        }
    };
    let start = cols(line, 46, 50);
    let time = need(
        time_of_day(start),
        "START",
        FieldAt::Columns(46, 50),
        start,
        "HH:MM",
    )?;
    let start = need(
        clock.dateless(time),
        "START",
        FieldAt::Columns(46, 50),
        start,
        "HH:MM",
    )?;
    let elapsed = cols(line, 52, 59);
    let elapsed = need(
        duration(elapsed),
        "ELAPSED",
        FieldAt::Columns(52, 59),
        elapsed,
        "HH:MM:SS or S=seconds",
    )?;
    let ext = cols(line, 5, 9);
    let unanswered = ext.starts_with('*');
    let digits = non_empty(cols(line, 17, 44).trim_end_matches('>'));
    let (calling, dialed) = match direction {
        Direction::In => (digits, None),
        _ => (None, digits),
    };
    let account = cols(line, 68, 79).trim_end_matches('*');
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(start),
        duration_s: Some(elapsed),
        direction: Some(direction),
        extension: if unanswered { None } else { non_empty(ext) },
        trunk: non_empty(cols(line, 11, 15)),
        calling,
        dialed,
        answered: Some(!unanswered),
        account: non_empty(account),
        ..CallRecord::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;
    use crate::format::mitel_mivb::line_of;

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
        let Ok(Line::Record(p)) = parse(&out, &clock()) else {
            panic!("not a record")
        };
        let r = p.record;
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
        let Ok(Line::Record(p)) = parse(&ring_in, &clock()) else {
            panic!("not a record")
        };
        assert_eq!(p.record.answered, Some(false));
        assert_eq!(p.record.calling.as_deref(), Some("4155550123"));
        assert_eq!(p.record.duration_s, Some(12.0));
        assert_eq!(
            parse("TYP EXT# TRUNK DIALED DIGITS", &clock()),
            Ok(Line::Skip)
        );
        let err = parse("XYZ 1004", &clock()).unwrap_err();
        assert!(err.to_string().contains("TYP (columns 1-3)"), "{err}");
    }
}
