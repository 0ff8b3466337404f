//! Panasonic SMDR: `format = "panasonic-tda"` for the KX-TDA / KX-TDE / KX-NS /
//! KX-NCP and KX-TD (printed time = the call's **end**), `"panasonic-ta"` for the
//! KX-TA / KX-TEA (printed time = the call's **start**). Printed on the RS-232 port
//! or sent over the SMDR TCP (telnet) port, with page headers.
//!
//! The switch prints one of three patterns (system programming), fields separated by
//! blanks:
//!
//! | Pattern | Fields |
//! |---|---|
//! | A (80 columns) | Date, Time, Ext, CO, Dial Number (25), Ring, Duration, Acc code, CD |
//! | B (80 columns, call charge) | Date, Time, Ext, CO, Dial Number (20), Duration, Cost, Acc code, CD |
//! | C (120 columns) | Date, Time, Ext, CO (4), Dial Number (50), Ring, Duration, Cost, Acc code, CD |
//!
//! and the KX-TA/TD the same fields with a 32-digit Dial Number. The pattern is
//! recognised by its fields, not its columns:
//!
//! - Date `mm/dd/yy` (`dd/mm/yy` when the first part cannot be a month);
//! - Time `hh:mmAM`/`hh:mmPM`, the hour with or without its leading zero, a `*`
//!   before it marking a transferred call (ignored);
//! - Ext: an extension → `extension`; `*nnn` (verified code), `Dnnn` (doorphone),
//!   `Tnnn` (TIE line), `C-nn` (CO-to-CO via DISA) are not extensions;
//! - CO → `trunk` (blank for an intercom call);
//! - Dial Number: `<I>` starts an incoming call's Caller ID (name and/or number;
//!   the number → `calling`), after an optional `<D>` DDI part (its number →
//!   `called`); `<incoming>`/`< DISA incoming >` is an incoming call without one;
//!   `EXTnnn` is an intercom call to `nnn` (`internal`, `called`); anything else is
//!   what an outgoing call dialled (`out`, `dialed`; a `-` and what follows it are
//!   digits dialled after a transfer and are dropped);
//! - Ring `m'ss` → `ring_s`; Duration `hh:mm'ss` → `duration_s`;
//! - Cost (`00560.00EU`, `$…`) not used; Acc code → `account` (`....`: none);
//! - CD condition code (`TR` transfer, `FW` forward, `RM` remote, `NA` no answer,
//!   `AN` answered, `RC` received, `D0`…) not used.
//!
//! `start` is the printed time minus ring and duration for `panasonic-tda`, the
//! printed time for `panasonic-ta`. A call is answered when it has a duration. Lines
//! with neither ring nor duration (log-in and log-out, check-in, timed reminders),
//! page headers and separators are skipped.

use std::sync::OnceLock;

use chrono::{Duration, NaiveDate};
use ctibridge_adapter::{CallRecord, Direction};
use regex::Regex;

use super::fields::{duration, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

/// What the printed time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printed {
    /// KX-TDA, TDE, NS, NCP, TD: the end of the call.
    End,
    /// KX-TA, TEA: the start of the call.
    Start,
}

/// Date, time, extension and (optional) CO at the start of a record.
fn head() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^\s*(\d{1,2}/\d{1,2}/\d{2,4})\s+(\*?\s*\d{1,2}:\d{2}\s?[AaPp][Mm]\*?)\s+([^\s':]+)(?:\s+(\d{1,4}))?(?:\s|$)",
        )
        .expect("a valid regex")
    })
}

/// Ring `m'ss`, duration `hh:mm'ss`.
fn times() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:^|\s)(?:(\d{1,2}'\d{2})\s+)?(\d{1,2}:\d{2}'\d{2})(?:\s|$)|(?:^|\s)(\d{1,2}'\d{2})(?:\s|$)")
            .expect("a valid regex")
    })
}

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    parse_as(line, clock, Printed::End)
}

pub fn parse_ta(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    parse_as(line, clock, Printed::Start)
}

fn parse_as(line: &str, clock: &Clock, printed: Printed) -> Result<Line, ParseError> {
    let Some(head) = head().captures(line) else {
        let first = line.trim_start();
        let header = first.is_empty()
            || first.starts_with("Date")
            || first.chars().all(|c| matches!(c, '-' | '=' | '_' | ' '))
            || !first.starts_with(|c: char| c.is_ascii_digit());
        if header {
            return Ok(Line::Skip);
        }
        let date = first.split_whitespace().next().unwrap_or("");
        return Err(ParseError::bad(
            "Date",
            FieldAt::Columns(1, 8),
            date,
            "mm/dd/yy followed by hh:mmAM",
        ));
    };
    let group = |n: usize| head.get(n).map(|m| m.as_str()).unwrap_or("");
    let column = |n: usize| {
        head.get(n)
            .map(|m| {
                let from = line[..m.start()].chars().count() + 1;
                FieldAt::Columns(from, from + m.as_str().chars().count() - 1)
            })
            .unwrap_or(FieldAt::Columns(1, 1))
    };
    let rest_from = head.get(0).map(|m| m.end()).unwrap_or(0);
    // The CO group eats the blank after it; give it back to the rest.
    let rest = line.get(rest_from..).unwrap_or("");
    let Some(found) = times().captures(rest) else {
        // Log-in, log-out, check-in, reminders: no call.
        return Ok(Line::Skip);
    };
    let date = need(read_date(group(1)), "Date", column(1), group(1), "mm/dd/yy")?;
    let time = need(
        time_of_day(group(2)),
        "Time",
        column(2),
        group(2),
        "hh:mmAM",
    )?;
    let (ring_text, held_text) = match (found.get(1), found.get(2), found.get(3)) {
        (ring, Some(held), _) => (ring.map(|m| m.as_str()), Some(held.as_str())),
        (_, None, ring) => (ring.map(|m| m.as_str()), None),
    };
    let ring = ring_text.and_then(duration);
    let held = held_text.and_then(duration).unwrap_or(0.0);
    let printed_at = date.and_time(time);
    let start = match printed {
        Printed::End => printed_at - Duration::seconds((ring.unwrap_or(0.0) + held).round() as i64),
        Printed::Start => printed_at,
    };
    let times_at = found.get(0).expect("group 0");
    let dial = rest.get(..times_at.start()).unwrap_or("").trim();
    let tail = rest.get(times_at.end()..).unwrap_or("");
    let (direction, calling, called, dialed) = read_dial(dial);
    let ext = group(3);
    let extension = ext
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| ext.to_string());
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(clock.stamp(start)),
        duration_s: Some(held),
        ring_s: ring,
        direction: Some(direction),
        extension,
        trunk: non_empty(group(4)),
        calling,
        called,
        dialed,
        answered: Some(held > 0.0),
        account: account(tail),
        ..CallRecord::default()
    })))
}

/// `mm/dd/yy`, or `dd/mm/yy` when the first part is no month.
fn read_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split('/');
    let (a, b, y): (u32, u32, i32) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    let year = if y < 100 { 2000 + y } else { y };
    let (month, day) = if a > 12 { (b, a) } else { (a, b) };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Direction, calling, called, dialed out of the Dial Number field.
fn read_dial(dial: &str) -> (Direction, Option<String>, Option<String>, Option<String>) {
    let upper = dial.to_ascii_uppercase();
    if let Some(at) = upper.find("<I>") {
        let ddi = upper
            .get(..at)
            .filter(|d| d.trim_start().starts_with("<D>"))
            .and_then(number_in);
        let caller = number_in(dial.get(at + 3..).unwrap_or(""));
        return (Direction::In, caller, ddi, None);
    }
    if upper.contains("INCOMING") {
        return (Direction::In, None, None, None);
    }
    if let Some(ext) = upper.strip_prefix("EXT") {
        return (Direction::Internal, None, non_empty(ext), None);
    }
    let dialed: String = dial
        .split('-')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (Direction::Out, None, None, non_empty(&dialed))
}

/// The longest run of digits in a Caller ID or DDI (its name is dropped).
fn number_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 2)
        .max_by_key(|run| run.len())
        .map(str::to_string)
}

/// The account code among what follows the duration: not the cost, not the
/// condition code, not the `....` placeholder.
fn account(tail: &str) -> Option<String> {
    let tokens: Vec<&str> = tail.split_whitespace().collect();
    let cost = |t: &str| {
        t.starts_with('$') || (t.contains('.') && t.starts_with(|c: char| c.is_ascii_digit()))
    };
    let condition = |t: &str| {
        matches!(t, "TR" | "FW" | "RM" | "NA" | "AN" | "RC")
            || t.trim_start_matches('*')
                .strip_prefix('D')
                .is_some_and(|n| n.len() == 1 && n.bytes().all(|b| b.is_ascii_digit()))
    };
    tokens
        .into_iter()
        .filter(|t| !cost(t) && !condition(t) && !t.chars().all(|c| c == '.'))
        .find(|t| !t.is_empty())
        .map(str::to_string)
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
    fn pattern_a_incoming_outgoing_and_status_lines() {
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
        let r = record(&line);
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.ring_s, Some(8.0));
        assert_eq!(r.duration_s, Some(182.0));
        assert_eq!(r.trunk.as_deref(), Some("02"));
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
        let r = record(&out);
        assert_eq!(r.dialed.as_deref(), Some("0442071838750"));
        assert_eq!(r.account.as_deref(), Some("9876"));
        let login = line_of(&[
            (1, "03/10/26"),
            (10, "01:07PM"),
            (18, "202"),
            (27, "LOG IN"),
        ]);
        assert_eq!(parse(&login, &clock()), Ok(Line::Skip));
        assert_eq!(
            parse("  Date     Time    Ext CO        Dial Number", &clock()),
            Ok(Line::Skip)
        );
        let bad = line_of(&[(1, "13/45/26"), (10, "01:07PM"), (58, "00:01'05")]);
        assert!(parse(&bad, &clock())
            .unwrap_err()
            .to_string()
            .contains("Date (columns 1-8)"));
    }

    #[test]
    fn pattern_b_and_c_and_marks() {
        // B: no ring, a cost before the account code.
        let b = line_of(&[
            (1, "03/10/26"),
            (10, "10:07AM"),
            (18, "1210"),
            (24, "03"),
            (27, "00493012345678"),
            (48, "00:02'10"),
            (57, "00012.40EU"),
            (68, "55"),
        ]);
        let r = record(&b);
        assert_eq!(r.duration_s, Some(130.0));
        assert_eq!(r.ring_s, None);
        assert_eq!(r.account.as_deref(), Some("55"));
        assert_eq!(r.start, Some("2026-03-10T10:04:50Z".parse().unwrap()));
        // C: 4-digit CO, a long number, a verified code in Ext.
        let c = line_of(&[
            (1, "03/10/26"),
            (10, "11:30AM"),
            (18, "*301"),
            (24, "0012"),
            (29, "00441632960123456789012345"),
            (80, "0'04"),
            (85, "00:00'50"),
            (94, "00000.80EUR"),
        ]);
        let r = record(&c);
        assert_eq!(r.trunk.as_deref(), Some("0012"));
        assert_eq!(r.extension, None);
        assert_eq!(r.dialed.as_deref(), Some("00441632960123456789012345"));
        assert_eq!(r.account, None);
        // KX-TA: `*` before a transferred call's time, hour without its zero.
        let ta = line_of(&[
            (1, "03/10/26"),
            (10, "*1:04PM"),
            (19, "103"),
            (24, "02"),
            (27, "< incoming >"),
            (60, "00:07'48"),
            (69, "...."),
        ]);
        let Ok(Line::Record(p)) = parse_ta(&ta, &clock()) else {
            panic!("not a record")
        };
        assert_eq!(p.record.direction, Some(Direction::In));
        assert_eq!(
            p.record.start,
            Some("2026-03-10T13:04:00Z".parse().unwrap())
        );
        assert_eq!(p.record.account, None);
    }

    #[test]
    fn intercom_ddi_and_unanswered() {
        let icm = line_of(&[
            (1, "03/10/26"),
            (10, "02:15PM"),
            (18, "204"),
            (27, "EXT215"),
            (58, "00:00'40"),
        ]);
        let r = record(&icm);
        assert_eq!(r.direction, Some(Direction::Internal));
        assert_eq!(r.called.as_deref(), Some("215"));
        assert_eq!(r.trunk, None);
        let ddi = line_of(&[
            (1, "03/10/26"),
            (10, "02:20PM"),
            (18, "204"),
            (24, "01"),
            (27, "<D>5550100<I>6175550142"),
            (53, "0'30"),
            (78, "NA"),
        ]);
        let r = record(&ddi);
        assert_eq!(r.called.as_deref(), Some("5550100"));
        assert_eq!(r.calling.as_deref(), Some("6175550142"));
        assert_eq!(r.answered, Some(false));
        assert_eq!(r.ring_s, Some(30.0));
        assert_eq!(r.duration_s, Some(0.0));
    }
}
