//! Mitel SX-200 (and SX-2000) SMDR (`format = "mitel-sx200"`), printed on the
//! switch's RS-232 SMDR port.
//!
//! The SX-200 prints the record the MiVoice Business inherited (see
//! [`super::mitel_mivb`] for the columns), dates as `mm-dd` or `mm/dd`, 3- or
//! 4-digit extensions left-aligned in 4-character party fields, trunks as `Tnnn`.
//! Its printer output carries page titles (`SMDR REPORT … PAGE 3`); lines without a
//! date in columns 2-6 are skipped. Times are the switch's local clock: they stay
//! local unless `utc_offset` is set.

use super::fields::Clock;
use super::mitel_mivb::{parse_with, Digits};
use super::Line;
use crate::error::ParseError;

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    parse_with(line, clock, Digits::Auto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;
    use crate::format::mitel_mivb::line_of;
    use ctibridge_adapter::Direction;

    fn record(line: &str) -> ctibridge_adapter::CallRecord {
        match parse(line, &clock()) {
            Ok(Line::Record(p)) => p.record,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn sx200_internal_and_header() {
        let line = line_of(&[
            (2, "03-09"),
            (8, "01:25P"),
            (15, "00:00:31"),
            (24, "1411"),
            (34, "1412"),
            (62, "1412"),
            (86, "001"),
        ]);
        let r = record(&line);
        assert_eq!(r.start, Some("2026-03-09T13:25:00Z".parse().unwrap()));
        assert_eq!(r.direction, Some(Direction::Internal));
        assert_eq!(r.called.as_deref(), Some("1412"));
        assert_eq!(parse(" SMDR REPORT   PAGE 3", &clock()), Ok(Line::Skip));
    }

    #[test]
    fn the_switch_clock_stays_local_unless_an_offset_is_set() {
        let line = line_of(&[
            (2, "03-09"),
            (8, "01:25P"),
            (15, "00:00:31"),
            (24, "216"),
            (34, "217"),
            (62, "217"),
        ]);
        let read = |offset| {
            let clock = crate::format::fields::Clock {
                now: "2026-03-10T12:00:00Z".parse().unwrap(),
                offset,
            };
            match parse(&line, &clock) {
                Ok(Line::Record(p)) => p.record.start.expect("a start"),
                other => panic!("{other:?}"),
            }
        };
        // No offset: 13:25 as printed, whatever this machine's zone is.
        let local = read(None);
        assert!(local.is_local());
        assert_eq!(local.to_string(), "2026-03-09T13:25:00");
        let at = read(chrono::FixedOffset::west_opt(5 * 3600));
        assert_eq!(at.to_string(), "2026-03-09T13:25:00-05:00");
    }

    #[test]
    fn three_digit_extensions_and_an_outgoing_call() {
        // A 3-digit station in the 4-character called party field (62-65) and a
        // trunk: the call is outgoing, the station whole.
        let out = line_of(&[
            (2, "03-09"),
            (8, "10:02"),
            (15, "00:01:10"),
            (24, "214"),
            (34, "96135550142"),
            (62, "T07"),
            (86, "001"),
        ]);
        let r = record(&out);
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.extension.as_deref(), Some("214"));
        assert_eq!(r.trunk.as_deref(), Some("07"));
        assert_eq!(r.dialed.as_deref(), Some("96135550142"));
        let inbound = line_of(&[
            (2, "03-09"),
            (8, "10:05"),
            (15, "00:03:00"),
            (24, "T03"),
            (30, "012"),
            (62, "215"),
        ]);
        let r = record(&inbound);
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.extension.as_deref(), Some("215"));
        assert_eq!(r.ring_s, Some(12.0));
    }
}
