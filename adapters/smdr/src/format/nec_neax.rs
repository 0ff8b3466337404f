//! NEC NEAX / UNIVERGE SV8500 / SV9500 SMDR records, read by `format =
//! "nec-flexible"` when a line carries one (see [`super::nec_flexible`]). Each record
//! starts with the output port's leading characters (STX and two address
//! characters), then a two-letter record kind, then the data:
//!
//! **Fixed ("normal" and "extended") formats**, 0-based character positions from
//! the start of the record (the kind at 3-4):
//!
//! | Kind | Call |
//! |---|---|
//! | `KA` / `KH` | outgoing (extended adds the calling number at 133-164) |
//! | `KE` / `KI` | incoming |
//! | `KB` / `KJ` | station to station |
//!
//! | Field | Positions | Read as |
//! |---|---|---|
//! | Physical route, trunk | 5-7, 8-10 | `trunk` as `RRR-TTT` |
//! | Calling (KA, KB) / called (KE) station | 14-19 | `extension` |
//! | Start `MMDDhhmmss`, end `MMDDhhmmss` | 20-29, 30-39 | `start`, `duration_s` = end − start |
//! | Account code | 40-49 | `account` |
//! | Called station (KB) | 64-69 | `called` |
//! | Dial code | 62-85 | `dialed` (KA), `called` (KE: the digits received) |
//! | Start year, end year (`YY`, when sent) | 116-117, 118-119 | the year; otherwise this year or last |
//! | Calling number / ANI (KH, KI) | 133-164 (after a presence digit at 132) | `calling` (KI) |
//!
//! **Flexible formats** `KK` (outgoing), `KL` (incoming), `KM` (station to
//! station): after the kind, sections of `NN` (section number, ascending), `LL`
//! (length), data: 01 trunk (fusion point 3, route 3, trunk 3, logical route 3), 02
//! calling station (kind 1, tenant 3, number 6), 03 calling telephone number, 04
//! called station (as 02), 05 called telephone number, 06 start and end
//! `YYYYMMDDhhmmssSSS` each, 07 account code, 08 condition B, 09 alternate routing,
//! 10 dial code, 11 office codes, 12 authorization code, 13 charge, 14 condition D,
//! 15 department, 16 calling number / ANI (a presence digit, then the number), 17
//! converted number, 18 MA-ID, 19 trunk received time. Switches disagree on whether
//! a section's length counts one character more than its data (07, 10, 12, 16): the
//! reader takes whichever reading puts the next section number (or the end) next,
//! so such sections never throw it off.
//!
//! Flexible: `extension` is section 02 (KK, KM) or 04 (KL); `dialed` section 10
//! (KK), `called` section 10 (KL) or 04 (KM); `calling` section 16 (KL); `start` and
//! `duration_s` from 06, with milliseconds. There is no answer flag: a call is
//! answered when it lasted.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{non_empty, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

/// Where the record kind is, if this line is a NEAX record: within the first
/// characters (the port's leading characters come first).
pub fn kind_at(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let digits = |from: usize, n: usize| {
        bytes
            .get(from..from + n)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    (0..=4).find(|&i| {
        match (bytes.get(i), bytes.get(i + 1)) {
            // Fixed: the start time (MMDDhhmmss) 17 characters after the kind.
            (Some(b'K'), Some(b'A' | b'B' | b'E' | b'H' | b'I' | b'J')) => digits(i + 17, 10),
            // Flexible: a section number and length right after the kind.
            (Some(b'K'), Some(b'K' | b'L' | b'M')) => digits(i + 2, 4),
            _ => false,
        }
    })
}

pub fn parse(line: &str, at: usize, clock: &Clock) -> Result<Line, ParseError> {
    // Positions below count from a record whose kind is at 3.
    let Some(record) = line.get(at.saturating_sub(3)..) else {
        return Err(ParseError::bad(
            "record kind",
            FieldAt::Columns(at + 1, at + 2),
            line,
            "ASCII",
        ));
    };
    let pad = 3usize.saturating_sub(at);
    let record = format!("{}{record}", " ".repeat(pad));
    let shift = at.saturating_sub(3);
    match record.get(3..5).unwrap_or("") {
        kind @ ("KK" | "KL" | "KM") => flexible(&record, kind, shift, clock),
        kind => fixed(&record, kind, shift, clock),
    }
}

/// Characters `from..to` (0-based, end exclusive), trimmed; empty past the end.
fn pos(record: &str, from: usize, to: usize) -> &str {
    record.get(from..to.min(record.len())).unwrap_or("").trim()
}

fn fixed(record: &str, kind: &str, shift: usize, clock: &Clock) -> Result<Line, ParseError> {
    let (direction, extended) = match kind {
        "KA" => (Direction::Out, false),
        "KH" => (Direction::Out, true),
        "KE" => (Direction::In, false),
        "KI" => (Direction::In, true),
        _ => (Direction::Internal, kind == "KJ"),
    };
    let at = |from: usize, to: usize| FieldAt::Columns(from + 1 + shift, to + shift);
    let stamp = |from: usize, year_at: usize| -> Option<NaiveDateTime> {
        let text = pos(record, from, from + 10);
        let num = |i: usize| text.get(i..i + 2)?.parse::<u32>().ok();
        let time = NaiveTime::from_hms_opt(num(4)?, num(6)?, num(8)?)?;
        let (month, day) = (num(0)?, num(2)?);
        match pos(record, year_at, year_at + 2).parse::<i32>() {
            Ok(yy) => NaiveDate::from_ymd_opt(2000 + yy, month, day).map(|d| d.and_time(time)),
            Err(_) => clock.yearless(month, day, time).map(|t| t.local),
        }
    };
    let start = stamp(20, 116).ok_or_else(|| {
        ParseError::bad("call start", at(20, 30), pos(record, 20, 30), "MMDDhhmmss")
    })?;
    let end = stamp(30, 118).ok_or_else(|| {
        ParseError::bad("call end", at(30, 40), pos(record, 30, 40), "MMDDhhmmss")
    })?;
    // An end before the start crossed a year the record does not print.
    let end = if end < start {
        end.with_year(end.year() + 1).unwrap_or(end)
    } else {
        end
    };
    let held = (end - start).num_seconds().max(0) as f64;
    let trunk = match (pos(record, 5, 8), pos(record, 8, 11)) {
        ("", "") => None,
        (route, trunk) => Some(format!("{route}-{trunk}")),
    };
    let dial = non_empty(pos(record, 62, 86));
    let ani = if extended {
        non_empty(pos(record, 133, 165))
    } else {
        None
    };
    let station = non_empty(pos(record, 14, 20));
    let (calling, called, dialed, trunk) = match direction {
        Direction::Out => (station.clone(), None, dial, trunk),
        Direction::In => (ani, dial, None, trunk),
        Direction::Internal => (station.clone(), non_empty(pos(record, 64, 70)), None, None),
    };
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(clock.stamp(start)),
        duration_s: Some(held),
        direction: Some(direction),
        extension: station,
        trunk,
        calling,
        called,
        dialed,
        answered: Some(held > 0.0),
        account: non_empty(pos(record, 40, 50)),
        ..CallRecord::default()
    })))
}

/// The sections of a flexible record: (number, data).
fn sections(body: &str) -> Vec<(u32, &str)> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut last = 0;
    while rest.len() >= 4 {
        let (Ok(number), Ok(length)) = (
            rest.get(..2).unwrap_or("").parse::<u32>(),
            rest.get(2..4).unwrap_or("").parse::<usize>(),
        ) else {
            break;
        };
        let data = rest.get(4..).unwrap_or("");
        // The length as printed, or one less (some count a character the data
        // does not have): whichever is followed by a later section or the end.
        let fits = |n: usize| {
            n <= data.len()
                && (data.len() == n
                    || data.get(n..).unwrap_or("").trim().is_empty()
                    || data
                        .get(n..n + 2)
                        .and_then(|s| s.parse::<u32>().ok())
                        .is_some_and(|next| next > number && next <= 40))
        };
        let take = [length, length.saturating_sub(1), length + 1]
            .into_iter()
            .find(|&n| fits(n))
            .unwrap_or(length.min(data.len()));
        if number <= last && !out.is_empty() {
            break;
        }
        last = number;
        out.push((number, data.get(..take).unwrap_or(data)));
        rest = data.get(take..).unwrap_or("");
    }
    out
}

fn flexible(record: &str, kind: &str, shift: usize, clock: &Clock) -> Result<Line, ParseError> {
    let body = record.get(5..).unwrap_or("");
    let sections = sections(body);
    let get = |n: u32| sections.iter().find(|(k, _)| *k == n).map(|(_, d)| *d);
    let times = get(6).ok_or_else(|| ParseError::Missing {
        field: "section 06 (call start and end)",
        at: FieldAt::Columns(6 + shift, record.len() + shift),
        found: format!(
            "sections {:?}",
            sections.iter().map(|(k, _)| *k).collect::<Vec<_>>()
        ),
    })?;
    let moment = |text: &str| -> Option<NaiveDateTime> {
        let num = |a: usize, b: usize| text.get(a..b)?.parse::<u32>().ok();
        let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(4, 6)?, num(6, 8)?)?;
        let time = NaiveTime::from_hms_milli_opt(
            num(8, 10)?,
            num(10, 12)?,
            num(12, 14)?,
            num(14, 17).unwrap_or(0),
        )?;
        Some(date.and_time(time))
    };
    let bad = || {
        ParseError::bad(
            "section 06 (call start and end)",
            FieldAt::Columns(6 + shift, record.len() + shift),
            times,
            "YYYYMMDDhhmmssSSS twice",
        )
    };
    let start = moment(times.get(..17).unwrap_or("")).ok_or_else(bad)?;
    let end = moment(times.get(17..).unwrap_or("")).ok_or_else(bad)?;
    let held = ((end - start).num_milliseconds().max(0) as f64) / 1000.0;
    let station = |n: u32| get(n).and_then(|d| non_empty(d.get(4..10).unwrap_or("")));
    let trunk = get(1).and_then(|d| match (d.get(3..6), d.get(6..9)) {
        (Some(route), Some(trunk)) => Some(format!("{}-{}", route.trim(), trunk.trim())),
        _ => None,
    });
    let dial = get(10).and_then(non_empty);
    let ani = get(16).and_then(|d| non_empty(d.get(1..).unwrap_or("")));
    let (direction, extension, calling, called, dialed, trunk) = match kind {
        "KK" => (Direction::Out, station(2), station(2), None, dial, trunk),
        "KL" => (Direction::In, station(4), ani, dial, None, trunk),
        _ => (
            Direction::Internal,
            station(2),
            station(2),
            station(4),
            None,
            None,
        ),
    };
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(clock.stamp(start)),
        duration_s: Some(held),
        direction: Some(direction),
        extension,
        trunk,
        calling,
        called,
        dialed,
        answered: Some(held > 0.0),
        account: get(7).and_then(non_empty),
        ..CallRecord::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;

    fn record(line: &str) -> CallRecord {
        let at = kind_at(line).expect("a NEAX record");
        match parse(line, at, &clock()) {
            Ok(Line::Record(p)) => p.record,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    /// A fixed record: `fields` at 0-based positions of a record with 3 leading
    /// characters.
    fn fixed_line(fields: &[(usize, &str)]) -> String {
        let mut chars = vec![' '; 120];
        for (at, text) in fields {
            for (i, c) in text.chars().enumerate() {
                if chars.len() <= at + i {
                    chars.resize(at + i + 1, ' ');
                }
                chars[at + i] = c;
            }
        }
        chars.into_iter().collect()
    }

    #[test]
    fn fixed_outgoing_with_and_without_the_year() {
        let line = fixed_line(&[
            (0, "0!!"),
            (3, "KA"),
            (5, "003"),
            (8, "012"),
            (11, "0"),
            (12, "00"),
            (14, "2101"),
            (20, "0309101500"),
            (30, "0309101742"),
            (40, "4410"),
            (53, "000"),
            (62, "90016175550142"),
            (116, "26"),
            (118, "26"),
        ]);
        let r = record(&line);
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.start, Some("2026-03-09T10:15:00Z".parse().unwrap()));
        assert_eq!(r.duration_s, Some(162.0));
        assert_eq!(r.extension.as_deref(), Some("2101"));
        assert_eq!(r.trunk.as_deref(), Some("003-012"));
        assert_eq!(r.dialed.as_deref(), Some("90016175550142"));
        assert_eq!(r.account.as_deref(), Some("4410"));
        // Two leading characters (the framer took the STX), no year printed.
        let line = fixed_line(&[
            (0, "!!"),
            (2, "KE"),
            (4, "004"),
            (7, "001"),
            (10, "2"),
            (13, "2102"),
            (19, "0309111000"),
            (29, "0309111100"),
        ]);
        let r = record(&line);
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.start, Some("2026-03-09T11:10:00Z".parse().unwrap()));
        assert_eq!(r.extension.as_deref(), Some("2102"));
        assert_eq!(r.trunk.as_deref(), Some("004-001"));
    }

    #[test]
    fn flexible_sections_even_when_lengths_do_not_add_up() {
        // 01 trunk, 02 calling station, 06 times, 07 account (length one more than
        // its data), 10 dial code (length as its data).
        let line = concat!(
            "!!!KK",
            "0112",
            "000003012000",
            "0210",
            "00002101  ",
            "0634",
            "20260309101500250",
            "20260309101742750",
            "0705",
            "4410",
            "1014",
            "90016175550142",
        );
        let r = record(line);
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.start, Some("2026-03-09T10:15:00.250Z".parse().unwrap()));
        assert_eq!(r.duration_s, Some(162.5));
        assert_eq!(r.extension.as_deref(), Some("2101"));
        assert_eq!(r.trunk.as_deref(), Some("003-012"));
        assert_eq!(r.account.as_deref(), Some("4410"));
        assert_eq!(r.dialed.as_deref(), Some("90016175550142"));
        let incoming = concat!(
            "!!!KL",
            "0112",
            "000004001000",
            "0410",
            "00002102  ",
            "0634",
            "20260309111000000",
            "20260309111100000",
            "1611",
            "16175550142",
        );
        let r = record(incoming);
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.extension.as_deref(), Some("2102"));
        assert_eq!(r.calling.as_deref(), Some("6175550142"));
        assert_eq!(r.duration_s, Some(60.0));
        let err = parse("!!!KK0112000003012000", 3, &clock()).unwrap_err();
        assert!(err.to_string().contains("section 06"), "{err}");
    }
}
