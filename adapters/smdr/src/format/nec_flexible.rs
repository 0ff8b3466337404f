//! NEC SMDR (`format = "nec-flexible"`). Two families of output are told apart line
//! by line: the NEAX / SV8500 / SV9500 records (`KA`, `KE`, `KB` fixed formats and
//! `KK`, `KL`, `KM` flexible formats, see [`super::nec_neax`]), and the printout NEC
//! key systems and small PBXs (SV8100/SV9100, SL1000/SL1100/SL2100, Aspire, Electra
//! Elite) print on their SMDR port, in one of two fixed layouts (Program 35-02-14
//! selects whether the date is printed):
//!
//! | Field | With date (35-02-14 = 1) | Without date (= 0) | Read as |
//! |---|---|---|---|
//! | Call class | 1-4 | 1-4 | `direction`: `POT…`, `IVOT…`, `IDOT` out; `PIN`, `IVIN`, `IDIN` in; `ICM`, `SDTA` internal; `PTRS`, `ITRS` a transferred call (in) |
//! | Time `HH:MM` (24-hour) | 6-10 | 6-10 | `start` time |
//! | Date `MM/DD` | 12-16 | — | `start` date (no year; without it: today or yesterday) |
//! | Line (trunk) | 18-21 | 12-21 | `trunk` |
//! | Duration `HH:MM:SS` | 23-30 | 23-30 | `duration_s` |
//! | Station | 32-41 | 32-41 | `extension` |
//! | Number dialed / CLI | 43-62 | 43-62 | `dialed` (out), `calling` (in), `called` (`ICM`) |
//! | Account code, or `NO ANSWER` | 64-79 | 64-79 | `account`; `NO ANSWER`: unanswered |
//!
//! The layout is told by columns 12-16: a date there means the first. Records sent
//! through a printer interface (or framed STX…ETX; `terminator = "auto"` or
//! `"stx-etx"` cuts those out) may start with the printer's leading characters
//! (control characters, blanks, a form feed) before the class: columns are counted
//! from the class. Page headers (`… MM/DD/YYYY PAGE nnn`, `CLASS TIME …`) and the
//! classes that are not calls (`ALB` all lines busy, `BRD` toll-restricted, `BFL`
//! buffer full, `NEXT` the caller's name for the record before, `SAD`, `WAD`) are
//! skipped.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{cols, duration, month_day, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    if let Some(at) = super::nec_neax::kind_at(line) {
        return super::nec_neax::parse(line, at, clock);
    }
    // The class starts at the first letter; what comes before is printer noise.
    let lead = line
        .chars()
        .take_while(|c| !c.is_ascii_alphabetic())
        .count();
    if lead == line.chars().count() {
        return Ok(Line::Skip);
    }
    let at = |a: usize, b: usize| cols(line, a + lead, b + lead);
    let place = |a: usize, b: usize| FieldAt::Columns(a + lead, b + lead);
    let class = at(1, 5);
    let direction = match class {
        c if c.starts_with("POT") || c.starts_with("IVOT") || c == "IDOT" => Direction::Out,
        "PIN" | "IVIN" | "IDIN" | "PTRS" | "ITRS" => Direction::In,
        "ICM" | "SDTA" => Direction::Internal,
        "ALB" | "BRD" | "BFL" | "NEXT" | "SAD" | "WAD" | "CLASS" => return Ok(Line::Skip),
        _ if line.contains("PAGE") => return Ok(Line::Skip),
        _ => {
            return Err(ParseError::bad(
                "class",
                place(1, 4),
                class,
                "a call class (POT, PIN, ICM, …)",
            ))
        }
    };
    let time_text = at(6, 10);
    let time = need(
        time_of_day(time_text),
        "time",
        place(6, 10),
        time_text,
        "HH:MM",
    )?;
    let date = at(12, 16);
    let (start, trunk) = match month_day(date) {
        Some((month, day)) => (
            need(
                clock.yearless(month, day, time),
                "date",
                place(12, 16),
                date,
                "a date of this or last year",
            )?,
            at(18, 21),
        ),
        None => (
            need(
                clock.dateless(time),
                "time",
                place(6, 10),
                time_text,
                "HH:MM",
            )?,
            at(12, 21),
        ),
    };
    let held = at(23, 30);
    let held = need(duration(held), "duration", place(23, 30), held, "HH:MM:SS")?;
    let number = non_empty(at(43, 62));
    let (calling, called, dialed) = match direction {
        Direction::In => (number, None, None),
        Direction::Internal => (None, number, None),
        Direction::Out => (None, None, number),
    };
    let account = at(64, 79);
    let no_answer = account.eq_ignore_ascii_case("NO ANSWER");
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(start),
        duration_s: Some(held),
        direction: Some(direction),
        extension: non_empty(at(32, 41)),
        trunk: non_empty(trunk),
        calling,
        called,
        dialed,
        answered: Some(!no_answer && held > 0.0),
        account: if no_answer { None } else { non_empty(account) },
        ..CallRecord::default()
    })))
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
    fn records_and_headers() {
        let line = line_of(&[
            (1, "PIN"),
            (6, "08:15"),
            (12, "03/10"),
            (18, "003"),
            (23, "00:12:40"),
            (32, "105"),
            (43, "4155550123"),
        ]);
        let r = record(&line);
        assert_eq!(r.start, Some("2026-03-10T08:15:00Z".parse().unwrap()));
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.extension.as_deref(), Some("105"));
        assert_eq!(r.duration_s, Some(760.0));
        assert_eq!(parse("CLASS  TIME  DATE  LINE", &clock()), Ok(Line::Skip));
        assert_eq!(
            parse(&line_of(&[(1, "NEXT"), (6, "ACME LTD")]), &clock()),
            Ok(Line::Skip)
        );
        assert!(parse("ZZZZ 08:15", &clock()).is_err());
    }

    #[test]
    fn leading_printer_characters_and_the_layout_without_a_date() {
        let line = format!(
            "\x0c\x01 {}",
            line_of(&[
                (1, "POT"),
                (6, "09:41"),
                (12, "005"),
                (23, "00:03:07"),
                (32, "112"),
                (43, "0016175550142"),
                (64, "4410"),
            ])
        );
        let r = record(&line);
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.start, Some("2026-03-10T09:41:00Z".parse().unwrap()));
        assert_eq!(r.trunk.as_deref(), Some("005"));
        assert_eq!(r.extension.as_deref(), Some("112"));
        assert_eq!(r.dialed.as_deref(), Some("0016175550142"));
        assert_eq!(r.account.as_deref(), Some("4410"));
        let no_answer = line_of(&[
            (1, "PIN"),
            (6, "09:50"),
            (12, "03/10"),
            (18, "002"),
            (23, "00:00:00"),
            (32, "101"),
            (43, "6175550177"),
            (64, "NO ANSWER"),
        ]);
        let r = record(&no_answer);
        assert_eq!(r.answered, Some(false));
        assert_eq!(r.account, None);
        assert_eq!(
            parse(
                "                                                            03/10/2026 PAGE 001",
                &clock()
            ),
            Ok(Line::Skip)
        );
    }
}
