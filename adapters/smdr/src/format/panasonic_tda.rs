//! Panasonic KX-TDA / KX-TDE / KX-NS SMDR (`format = "panasonic-tda"`), pattern A
//! (80 columns, no call charge), printed on the RS-232 port or sent over the SMDR
//! TCP (telnet) port, with page headers.
//!
//! | Field | Columns | Read as |
//! |---|---|---|
//! | Date `mm/dd/yy` | 1-8 | `start` date |
//! | Time `hh:mmAM` (the call's **end**) | 10-16 | `start` = end − ring − duration |
//! | Ext | 18-22 | `extension` |
//! | CO (trunk) | 24-25 | `trunk` |
//! | Dial Number (25) | 27-51 | see below |
//! | Ring `m'ss` | 53-56 | `ring_s` |
//! | Duration `hh:mm'ss` | 58-65 | `duration_s` |
//! | Acc code | 67-76 | `account` |
//! | CD condition code (`TR` transfer, `FW` forward, `RM` remote) | 78-79 | not used |
//!
//! Dial Number: `<I>` starts an incoming call's Caller ID (after an optional `<D>` DDI
//! part, which becomes `called`): `in`, `calling` = the digits after `<I>`; `EXTnnn`
//! is an intercom call to `nnn`: `internal`; anything else is the number an outgoing
//! call dialled: `out`, `dialed`. Lines with neither ring nor duration (log-in and
//! log-out, check-in, timed reminders) and page headers are skipped.

use chrono::{Duration, NaiveDate};
use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{cols, duration, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let first = line.trim_start();
    if first.starts_with("Date") || first.starts_with(['-', '=']) || first.is_empty() {
        return Ok(Line::Skip);
    }
    let ring_text = cols(line, 53, 56);
    let held_text = cols(line, 58, 65);
    if ring_text.is_empty() && held_text.is_empty() {
        return Ok(Line::Skip);
    }
    let date = cols(line, 1, 8);
    let date = need(
        NaiveDate::parse_from_str(date, "%m/%d/%y").ok(),
        "Date",
        FieldAt::Columns(1, 8),
        date,
        "mm/dd/yy",
    )?;
    let time = cols(line, 10, 16);
    let time = need(
        time_of_day(time),
        "Time",
        FieldAt::Columns(10, 16),
        time,
        "hh:mmAM",
    )?;
    let ended = need(
        clock.to_utc(date.and_time(time)),
        "Time",
        FieldAt::Columns(10, 16),
        cols(line, 10, 16),
        "a local time",
    )?;
    let ring = match ring_text {
        "" => None,
        text => Some(need(
            duration(text),
            "Ring",
            FieldAt::Columns(53, 56),
            text,
            "m'ss",
        )?),
    };
    let held = match held_text {
        "" => 0.0,
        text => need(
            duration(text),
            "Duration",
            FieldAt::Columns(58, 65),
            text,
            "hh:mm'ss",
        )?,
    };
    let total = ring.unwrap_or(0.0) + held;
    let start = ended - Duration::seconds(total as i64);
    let dial = cols(line, 27, 51);
    let (direction, calling, called, dialed) = if let Some(at) = dial.find("<I>") {
        let ddi = dial
            .get(..at)
            .and_then(|d| d.strip_prefix("<D>"))
            .and_then(non_empty);
        let caller: String = dial
            .get(at + 3..)
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        (Direction::In, non_empty(&caller), ddi, None)
    } else if let Some(ext) = dial.strip_prefix("EXT") {
        (Direction::Internal, None, non_empty(ext), None)
    } else {
        (Direction::Out, None, None, non_empty(dial))
    };
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(start),
        duration_s: Some(held),
        ring_s: ring,
        direction: Some(direction),
        extension: non_empty(cols(line, 18, 22)),
        trunk: non_empty(cols(line, 24, 25)),
        calling,
        called,
        dialed,
        answered: Some(held > 0.0),
        account: non_empty(cols(line, 67, 76)),
        ..CallRecord::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;
    use crate::format::mitel_mivb::line_of;

    #[test]
    fn incoming_outgoing_and_status_lines() {
        let line = line_of(&[
            (1, "03/10/26"),
            (10, "09:20AM"),
            (18, "201"),
            (24, "02"),
            (27, "<I>4155550123"),
            (53, "0'08"),
            (58, "00:03'02"),
            (78, "TR"),
        ]);
        let Ok(Line::Record(p)) = parse(&line, &clock()) else {
            panic!("not a record")
        };
        let r = p.record;
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.ring_s, Some(8.0));
        assert_eq!(r.duration_s, Some(182.0));
        // Ended 09:20:00, rang 8 s and talked 182 s.
        assert_eq!(r.start, Some("2026-03-10T09:16:50Z".parse().unwrap()));
        let out = line_of(&[
            (1, "03/10/26"),
            (10, "01:07PM"),
            (18, "202"),
            (24, "01"),
            (27, "0442071838750"),
            (58, "00:01'05"),
            (67, "9876"),
        ]);
        let Ok(Line::Record(p)) = parse(&out, &clock()) else {
            panic!("not a record")
        };
        assert_eq!(p.record.dialed.as_deref(), Some("0442071838750"));
        assert_eq!(p.record.account.as_deref(), Some("9876"));
        assert_eq!(
            parse(
                &line_of(&[
                    (1, "03/10/26"),
                    (10, "01:07PM"),
                    (18, "202"),
                    (27, "LOG IN")
                ]),
                &clock()
            ),
            Ok(Line::Skip)
        );
        assert_eq!(
            parse("Date     Time    Ext   CO  Dial Number", &clock()),
            Ok(Line::Skip)
        );
        let bad = line_of(&[(1, "13/45/26"), (10, "01:07PM"), (58, "00:01'05")]);
        assert!(parse(&bad, &clock())
            .unwrap_err()
            .to_string()
            .contains("Date (columns 1-8)"));
    }
}
