//! Asterisk `Master.csv` (cdr_csv; FreePBX writes the same) (`format = "asterisk-csv"`):
//! one comma-separated, quoted line per call. Feed it with e.g.
//! `tail -F Master.csv | nc ctibridge 5100` and `listen`, or decode a copy offline.
//!
//! | # | Field | Read as |
//! |---|---|---|
//! | 1 | accountcode | `account` |
//! | 2 | src | `calling` |
//! | 3 | dst | `called` (in, internal) or `dialed` (out) |
//! | 4 | dcontext | `direction` when the channels do not tell |
//! | 5 | clid | not used |
//! | 6 | channel (`PJSIP/1001-0000001a`) | the calling endpoint |
//! | 7 | dstchannel | the called endpoint |
//! | 8, 9 | lastapp, lastdata | not used |
//! | 10 | start `YYYY-MM-DD HH:MM:SS` | `start` |
//! | 11 | answer | not used (see billsec) |
//! | 12 | end | not used |
//! | 13 | duration (s, ring + talk) | `ring_s` = duration − billsec |
//! | 14 | billsec (s, talk) | `duration_s` |
//! | 15 | disposition (`ANSWERED`, `NO ANSWER`, `BUSY`, `FAILED`, `CONGESTION`) | `answered` |
//! | 16 | amaflags | not used |
//! | 17 | uniqueid (optional) | `call_id` |
//! | 18 | userfield (optional) | not used |
//!
//! An endpoint whose name is 2 to 6 digits is an extension; anything else (a named
//! trunk, `DAHDI/g0`) is a trunk. Extension to trunk is `out`, trunk to extension
//! `in`, extension to extension `internal`. When neither side is an extension, a
//! `dcontext` that names an inbound context (`from-trunk`, `from-pstn`,
//! `from-external`, `incoming`) makes the call `in`, else `out`.

use ctibridge_adapter::{CallRecord, Direction};

use super::fields::{need, non_empty, split_csv, Clock};
use super::{Line, Parsed};
use crate::error::{FieldAt, ParseError};

const MIN_FIELDS: usize = 16;
const INBOUND_CONTEXTS: [&str; 4] = ["from-trunk", "from-pstn", "from-external", "incoming"];

/// The endpoint of a channel name: `PJSIP/1001-0000001a` → `1001`.
fn endpoint(channel: &str) -> Option<&str> {
    let (_, rest) = channel.split_once('/')?;
    let name = match rest.rfind('-') {
        Some(at) => rest.get(..at)?,
        None => rest,
    };
    (!name.is_empty()).then_some(name)
}

fn is_extension(name: &str) -> bool {
    (2..=6).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_digit())
}

fn seconds(text: &str, field: &'static str, n: usize) -> Result<f64, ParseError> {
    need(
        text.parse::<u32>().ok().map(f64::from),
        field,
        FieldAt::Field(n),
        text,
        "whole seconds",
    )
}

pub fn parse(line: &str, clock: &Clock) -> Result<Line, ParseError> {
    let f = split_csv(line, ',');
    let get = |n: usize| f.get(n - 1).map(|s| s.trim()).unwrap_or("");
    if f.len() < MIN_FIELDS {
        return Err(ParseError::Missing {
            field: "amaflags",
            at: FieldAt::Field(MIN_FIELDS),
            found: super::fields::count(f.len()),
        });
    }
    if get(10) == "start" {
        return Ok(Line::Skip); // a header line someone added
    }
    let start = need(
        clock.parse(get(10), "%Y-%m-%d %H:%M:%S"),
        "start",
        FieldAt::Field(10),
        get(10),
        "YYYY-MM-DD HH:MM:SS",
    )?;
    let total = seconds(get(13), "duration", 13)?;
    let talk = seconds(get(14), "billsec", 14)?;
    let answered = match get(15) {
        "ANSWERED" => true,
        "NO ANSWER" | "BUSY" | "FAILED" | "CONGESTION" => false,
        text => {
            return Err(ParseError::bad(
                "disposition",
                FieldAt::Field(15),
                text,
                "ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION",
            ))
        }
    };
    let from = endpoint(get(6));
    let to = endpoint(get(7));
    let local = |e: Option<&str>| e.is_some_and(is_extension);
    let direction = match (local(from), local(to)) {
        (true, true) => Direction::Internal,
        (true, false) => Direction::Out,
        (false, true) => Direction::In,
        (false, false) if INBOUND_CONTEXTS.iter().any(|c| get(4).contains(c)) => Direction::In,
        (false, false) => Direction::Out,
    };
    let (extension, trunk) = match direction {
        Direction::In => (to.filter(|e| is_extension(e)), from),
        Direction::Out => (from, to),
        Direction::Internal => (from, None),
    };
    let (called, dialed) = match direction {
        Direction::Out => (None, non_empty(get(3))),
        _ => (non_empty(get(3)), None),
    };
    Ok(Line::Record(Parsed::new(CallRecord {
        call_id: non_empty(get(17)),
        start: Some(start),
        duration_s: Some(talk),
        ring_s: Some((total - talk).max(0.0)),
        direction: Some(direction),
        extension: extension.map(str::to_string),
        trunk: trunk.map(str::to_string),
        calling: non_empty(get(2)),
        called,
        dialed,
        answered: Some(answered),
        transfer_to: None,
        account: non_empty(get(1)),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fields::test_clock as clock;

    #[test]
    fn inbound_and_outbound() {
        let line = r#""","4155550123","1001","from-trunk","""Acme"" <4155550123>","PJSIP/telco-00000012","PJSIP/1001-00000013","Dial","PJSIP/1001,30","2026-03-10 09:30:00","2026-03-10 09:30:07","2026-03-10 09:34:07",247,240,"ANSWERED","DOCUMENTATION","1773135000.18","""#;
        let Ok(Line::Record(p)) = parse(line, &clock()) else {
            panic!("not a record")
        };
        let r = p.record;
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.extension.as_deref(), Some("1001"));
        assert_eq!(r.trunk.as_deref(), Some("telco"));
        assert_eq!(r.calling.as_deref(), Some("4155550123"));
        assert_eq!(r.duration_s, Some(240.0));
        assert_eq!(r.ring_s, Some(7.0));
        assert_eq!(r.call_id.as_deref(), Some("1773135000.18"));
        let out = r#""7001","1002","02071838750","from-internal","""Ben"" <1002>","SIP/1002-0000a","SIP/provider-0000b","Dial","SIP/provider/02071838750","2026-03-10 10:00:00","","2026-03-10 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","1773138000.5","""#;
        let Ok(Line::Record(p)) = parse(out, &clock()) else {
            panic!("not a record")
        };
        assert_eq!(p.record.direction, Some(Direction::Out));
        assert_eq!(p.record.dialed.as_deref(), Some("02071838750"));
        assert_eq!(p.record.answered, Some(false));
        assert_eq!(p.record.account.as_deref(), Some("7001"));
    }

    #[test]
    fn malformed() {
        let err = parse(r#""","1","2","c","","SIP/1-1","","Dial","","2026-03-10 10:00:00","","",x,0,"ANSWERED","D""#, &clock()).unwrap_err();
        assert!(err.to_string().contains("duration (field 13)"), "{err}");
        assert!(parse("a,b,c", &clock()).is_err());
    }
}
