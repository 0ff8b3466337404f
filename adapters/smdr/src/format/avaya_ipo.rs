//! Avaya IP Office SMDR (`format = "avaya-ipo"`): comma-separated, one record per
//! call segment, sent over TCP (IP Office connects to the collector: use `listen`).
//!
//! Fields, in this fixed order (IP Office adds more after these; they are ignored):
//!
//! | # | Field | Read as |
//! |---|---|---|
//! | 1 | Call Start `YYYY/MM/DD HH:MM:SS` (older releases: `YYYY/MM/DD HH:MM`) | `start` (the switch's local time) |
//! | 2 | Connected Time `HH:MM:SS` | `duration_s` (talk time, without ring, hold, park) |
//! | 3 | Ring Time (seconds) | `ring_s` |
//! | 4 | Caller | `calling` |
//! | 5 | Direction `I`/`O` | `direction` (`internal` when field 9 is 1) |
//! | 6 | Called Number | `called` |
//! | 7 | Dialled Number | `dialed` |
//! | 8 | Account | `account` |
//! | 9 | Is Internal `0`/`1` (some releases print `I` for 1) | `direction` |
//! | 10 | Call ID | `call_id` |
//! | 11 | Continuation `0`/`1` | 1: more records of this call follow (joined) |
//! | 12, 13 | Party1Device, Party1Name | `E1234` extension / `T9001` trunk / `V…` voicemail |
//! | 14, 15 | Party2Device, Party2Name | as Party1 |
//! | 16, 17 | Hold Time, Park Time | not used |
//!
//! `extension` is the first party that is an extension (`E` stripped), `trunk` the
//! first that is a trunk (`T` stripped). A call is answered when its connected time
//! is above zero. A header line (starting `CallStart` or `Call Start`) is skipped.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{duration, need, non_empty, split_csv, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

/// Fields up to Party2Name must be there.
const MIN_FIELDS: usize = 15;

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("CallStart") || trimmed.starts_with("Call Start") {
        return Ok(Line::Skip);
    }
    let f = split_csv(line, ',');
    let get = |n: usize| f.get(n - 1).map(|s| s.trim()).unwrap_or("");
    if f.len() < MIN_FIELDS {
        return Err(ParseError::Missing {
            field: "Party2Name",
            at: FieldAt::Field(MIN_FIELDS),
            found: super::fields::count(f.len()),
        });
    }
    let start = need(
        clock
            .parse(get(1), "%Y/%m/%d %H:%M:%S")
            .or_else(|| clock.parse(get(1), "%Y/%m/%d %H:%M")),
        "Call Start",
        FieldAt::Field(1),
        get(1),
        "YYYY/MM/DD HH:MM:SS",
    )?;
    let connected = need(
        duration(get(2)),
        "Connected Time",
        FieldAt::Field(2),
        get(2),
        "HH:MM:SS",
    )?;
    let ring = match get(3) {
        "" => None,
        text => Some(need(
            duration(text),
            "Ring Time",
            FieldAt::Field(3),
            text,
            "seconds",
        )?),
    };
    let direction = match (get(9), get(5)) {
        // The flag decides before the direction: an internal call is printed `O`.
        ("1" | "I", _) => Direction::Internal,
        (_, "I") => Direction::In,
        (_, "O") => Direction::Out,
        (_, text) => {
            return Err(ParseError::bad(
                "Direction",
                FieldAt::Field(5),
                text,
                "I or O",
            ))
        }
    };
    let continues = match get(11) {
        "" | "0" => false,
        "1" => true,
        text => {
            return Err(ParseError::bad(
                "Continuation",
                FieldAt::Field(11),
                text,
                "0 or 1",
            ))
        }
    };
    let parties = [get(12), get(14)];
    let device = |prefix: char| {
        parties
            .iter()
            .find_map(|p| p.strip_prefix(prefix).and_then(non_empty))
    };
    Ok(Line::Record(Parsed {
        record: CallRecord {
            call_id: non_empty(get(10)),
            start: Some(start),
            duration_s: Some(connected),
            ring_s: ring,
            direction: Some(direction),
            extension: device('E'),
            trunk: device('T'),
            calling: non_empty(get(4)),
            called: non_empty(get(6)),
            dialed: non_empty(get(7)),
            answered: Some(connected > 0.0),
            transfer_to: None,
            account: non_empty(get(8)),
        },
        continues,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;

    fn record(line: &str) -> Parsed {
        match parse(line, &clock()) {
            Ok(Line::Record(p)) => p,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn inbound_answered() {
        let p = record("2026/03/10 09:14:02,00:03:41,6,4155550123,I,2001,2001,,0,1000042,0,E2001,Anna Berg,T9001,Line 1.1,0,0,,,,0.00,,0.00,0,0,0.00,0.00,,,");
        let r = p.record;
        assert!(!p.continues);
        assert_eq!(r.start, Some("2026-03-10T09:14:02Z".parse().unwrap()));
        assert_eq!(r.duration_s, Some(221.0));
        assert_eq!(r.ring_s, Some(6.0));
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.extension.as_deref(), Some("2001"));
        assert_eq!(r.trunk.as_deref(), Some("9001"));
        assert_eq!(r.call_id.as_deref(), Some("1000042"));
        assert_eq!(r.answered, Some(true));
    }

    #[test]
    fn outbound_with_account_and_internal() {
        let r = record("2026/03/10 10:01:00,00:00:00,0,2002,O,901632960000,901632960000,ACC77,0,1000043,0,E2002,Ben Ode,T9002,Line 2.1,0,0").record;
        assert_eq!(r.direction, Some(Direction::Out));
        assert_eq!(r.dialed.as_deref(), Some("901632960000"));
        assert_eq!(r.account.as_deref(), Some("ACC77"));
        assert_eq!(r.answered, Some(false));
        let r = record("2026/03/10 10:02:00,00:00:12,2,2002,O,2001,2001,,1,1000044,0,E2002,Ben Ode,E2001,Anna Berg,0,0").record;
        assert_eq!(r.direction, Some(Direction::Internal));
        assert_eq!(r.extension.as_deref(), Some("2002"));
        assert_eq!(r.trunk, None);
    }

    #[test]
    fn the_internal_flag_wins_over_the_direction() {
        // Printed `I` instead of `1` in field 9, and a start without seconds.
        let r = record("2026/03/10 06:43,00:00:10,18,316,O,318,318,,I,41,0,E316,Extn316,V9052,VM Channel 2,0,0,,,,,,,,,,,,,").record;
        assert_eq!(r.direction, Some(Direction::Internal));
        assert_eq!(r.start, Some("2026-03-10T06:43:00Z".parse().unwrap()));
        assert_eq!(r.trunk, None);
    }

    #[test]
    fn continuation_flag_and_header() {
        let p = record("2026/03/10 09:20:00,00:01:00,3,4155550123,I,2001,2001,,0,1000045,1,E2001,Anna Berg,T9001,Line 1.1,0,0");
        assert!(p.continues);
        assert_eq!(
            parse(
                "CallStart,ConnectedTime,RingTime,Caller,Direction",
                &clock()
            ),
            Ok(Line::Skip)
        );
    }

    #[test]
    fn malformed_lines_name_the_field() {
        let err = parse(
            "2026/13/10 09:14:02,00:03:41,6,4155550123,I,2001,2001,,0,1,0,E2001,A,T9001,L",
            &clock(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Call Start (field 1)"), "{err}");
        let err = parse(
            "2026/03/10 09:14:02,00:03:41,6,4155550123,X,2001,2001,,0,1,0,E2001,A,T9001,L",
            &clock(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Direction (field 5)"), "{err}");
        let err = parse("garbage", &clock()).unwrap_err();
        assert!(matches!(err, ParseError::Missing { .. }), "{err}");
    }
}
