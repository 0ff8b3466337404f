//! Mitel SX-200 (and SX-2000) SMDR (`format = "mitel-sx200"`), printed on the
//! switch's RS-232 SMDR port.
//!
//! The SX-200 prints the same columns as the MiVoice Business standard layout (see
//! [`super::mitel_mivb`]), always with 4-character parties, and dates as `mm-dd` or
//! `mm/dd`:
//!
//! | Field | Columns |
//! |---|---|
//! | Long call | 1 |
//! | Date `mm-dd` | 2-6 |
//! | Start time `hh:mm` + `P` | 8-13 |
//! | Duration `hh:mm:ss` | 15-22 |
//! | Calling party | 24-27 |
//! | Attendant flag | 28 |
//! | Time to answer | 29-31 |
//! | Digits dialed | 33-58 |
//! | Completion status | 59 |
//! | Speed call / forward flag | 60 |
//! | Called party | 61-64 |
//! | Transfer/conference flag | 65 |
//! | Third party | 66-69 |
//! | Account code | 71-82 |
//! | System identifier | 84-86 |
//!
//! The printer output may carry page headers; lines with no date in columns 2-6 and
//! a letter in column 2 (titles such as `SMDR REPORT`) are skipped.

use super::fields::{cols, Clock};
use super::mitel_mivb::{parse_with, STANDARD};
use super::Line;
use crate::error::ParseError;

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    if cols(line, 1, 6).starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Ok(Line::Skip);
    }
    parse_with(line, clock, &STANDARD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;
    use crate::format::mitel_mivb::line_of;
    use ctibridge_adapter::Direction;

    #[test]
    fn sx200_internal_and_header() {
        let line = line_of(&[
            (2, "03-09"),
            (8, "01:25P"),
            (15, "00:00:31"),
            (24, "1411"),
            (33, "1412"),
            (61, "1412"),
            (84, "001"),
        ]);
        let Ok(Line::Record(p)) = parse(&line, &clock()) else {
            panic!("not a record")
        };
        assert_eq!(
            p.record.start,
            Some("2026-03-09T13:25:00Z".parse().unwrap())
        );
        assert_eq!(p.record.direction, Some(Direction::Internal));
        assert_eq!(p.record.called.as_deref(), Some("1412"));
        assert_eq!(parse(" SMDR REPORT   PAGE 3", &clock()), Ok(Line::Skip));
    }
}
