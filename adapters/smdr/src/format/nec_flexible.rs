//! NEC flexible SMDR (`format = "nec-flexible"`): each record wrapped in STX…ETX, as
//! NEC key systems and small PBXs (SV8100/SV9100, SL1100, Electra Elite) send it on
//! their SMDR port; the default `terminator = "auto"` (or `"stx-etx"`) cuts them out.
//! Inside the frame the record is fixed width:
//!
//! | Field | Columns | Read as |
//! |---|---|---|
//! | Call class | 1-4 | `direction`: `POT…`, `IVOT…`, `IDOT` out; `PIN`, `IVIN`, `IDIN` in; `ICM`, `SDTA` internal; `PTRS`, `ITRS` a transferred call (in) |
//! | Time `HH:MM` (24-hour) | 6-10 | `start` time |
//! | Date `MM/DD` | 12-16 | `start` date (no year) |
//! | Line (trunk) | 18-21 | `trunk` |
//! | Duration `HH:MM:SS` | 23-30 | `duration_s` |
//! | Station | 32-41 | `extension` |
//! | Number dialed / CLI | 43-62 | `dialed` (out) or `calling` (in) |
//! | Account code | 64-73 | `account` |
//!
//! Page headers (`CLASS …`, `… PAGE nnn`) and the classes that are not calls (`ALB` all
//! lines busy, `BRD` toll-restricted, `BFL` buffer full, `NEXT` the caller's name for
//! the record before) are skipped.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{cols, duration, month_day, need, non_empty, time_of_day, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let class = cols(line, 1, 5);
    let direction = match class {
        c if c.starts_with("POT") || c.starts_with("IVOT") || c == "IDOT" => Direction::Out,
        "PIN" | "IVIN" | "IDIN" | "PTRS" | "ITRS" => Direction::In,
        "ICM" | "SDTA" => Direction::Internal,
        "ALB" | "BRD" | "BFL" | "NEXT" | "SAD" | "WAD" | "CLASS" => return Ok(Line::Skip),
        _ if line.contains("PAGE") || line.trim().is_empty() => return Ok(Line::Skip),
        _ => {
            return Err(ParseError::bad(
                "class",
                FieldAt::Columns(1, 4),
                class,
                "a call class (POT, PIN, ICM, …)",
            ))
        }
    };
    let time = cols(line, 6, 10);
    let time = need(
        time_of_day(time),
        "time",
        FieldAt::Columns(6, 10),
        time,
        "HH:MM",
    )?;
    let date = cols(line, 12, 16);
    let (month, day) = need(
        month_day(date),
        "date",
        FieldAt::Columns(12, 16),
        date,
        "MM/DD",
    )?;
    let start = need(
        clock.yearless(month, day, time),
        "date",
        FieldAt::Columns(12, 16),
        date,
        "a date of this or last year",
    )?;
    let held = cols(line, 23, 30);
    let held = need(
        duration(held),
        "duration",
        FieldAt::Columns(23, 30),
        held,
        "HH:MM:SS",
    )?;
    let number = non_empty(cols(line, 43, 62));
    let (calling, dialed) = match direction {
        Direction::In => (number, None),
        _ => (None, number),
    };
    Ok(Line::Record(Parsed::new(CallRecord {
        start: Some(start),
        duration_s: Some(held),
        direction: Some(direction),
        extension: non_empty(cols(line, 32, 41)),
        trunk: non_empty(cols(line, 18, 21)),
        calling,
        dialed,
        answered: Some(held > 0.0),
        account: non_empty(cols(line, 64, 73)),
        ..CallRecord::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;
    use crate::format::mitel_mivb::line_of;

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
        let Ok(Line::Record(p)) = parse(&line, &clock()) else {
            panic!("not a record")
        };
        let r = p.record;
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
}
