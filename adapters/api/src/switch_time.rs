//! [`SwitchTime`]: a time as a switch printed it. Call-record printouts (SMDR) carry
//! the switch's wall-clock reading without any zone; ctibridge keeps that reading as
//! it is, with the switch's UTC offset only when one was configured (`utc_offset`),
//! instead of guessing one from the zone of the machine it runs on.
//!
//! In JSON a `SwitchTime` is an RFC 3339 text: with its offset when it is known
//! (`"2026-03-10T09:14:02+01:00"`), without one when it is the switch's local time
//! (`"2026-03-10T09:14:02"`). Where an instant is needed (matching a record with a
//! call, the call log), [`SwitchTime::utc`] reads a local time in this machine's zone,
//! which is what `utc_offset = "local"` means.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A switch's time: its wall-clock reading, and its UTC offset when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SwitchTime {
    /// The date and time as the switch printed them.
    pub local: NaiveDateTime,
    /// The switch's UTC offset; `None` when the time is the switch's local time.
    pub offset: Option<FixedOffset>,
}

impl SwitchTime {
    /// A wall-clock reading with no known offset.
    pub fn local(local: NaiveDateTime) -> Self {
        SwitchTime {
            local,
            offset: None,
        }
    }

    /// A reading at a known offset.
    pub fn at(local: NaiveDateTime, offset: FixedOffset) -> Self {
        SwitchTime {
            local,
            offset: Some(offset),
        }
    }

    /// An instant, shown at `offset` (UTC when `None`): for records that carry an
    /// absolute time (Unix epoch seconds).
    pub fn from_instant(instant: DateTime<Utc>, offset: Option<FixedOffset>) -> Self {
        let offset = offset.unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
        SwitchTime::at(instant.with_timezone(&offset).naive_local(), offset)
    }

    /// Whether the time carries no offset (the switch's local time).
    pub fn is_local(&self) -> bool {
        self.offset.is_none()
    }

    /// The instant: at the offset when known, otherwise in this machine's zone (in a
    /// DST fold the earlier reading; a reading in the gap is taken an hour later).
    pub fn utc(&self) -> DateTime<Utc> {
        match self.offset {
            Some(offset) => (self.local - offset).and_utc(),
            None => Local
                .from_local_datetime(&self.local)
                .earliest()
                .or_else(|| {
                    Local
                        .from_local_datetime(&(self.local + Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc))
                // A zone with a gap longer than an hour: read the clock as UTC.
                .unwrap_or_else(|| self.local.and_utc()),
        }
    }
}

impl From<DateTime<Utc>> for SwitchTime {
    fn from(instant: DateTime<Utc>) -> Self {
        SwitchTime::from_instant(instant, None)
    }
}

impl fmt::Display for SwitchTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(
                f,
                "{}",
                offset
                    .from_local_datetime(&self.local)
                    .single()
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
                    .unwrap_or_else(|| self.local.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
            ),
            None => write!(f, "{}", self.local.format("%Y-%m-%dT%H:%M:%S%.f")),
        }
    }
}

/// The text is not an RFC 3339 date and time (with or without an offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSwitchTime(pub String);

impl fmt::Display for BadSwitchTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a date and time like 2026-03-10T09:14:02[+01:00]",
            self.0
        )
    }
}

impl std::error::Error for BadSwitchTime {}

impl FromStr for SwitchTime {
    type Err = BadSwitchTime;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(SwitchTime::at(t.naive_local(), *t.offset()));
        }
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .map(SwitchTime::local)
            .map_err(|_| BadSwitchTime(text.to_string()))
    }
}

impl Serialize for SwitchTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SwitchTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_offset_forms_round_trip() {
        let local: SwitchTime = "2026-03-10T09:14:02".parse().unwrap();
        assert!(local.is_local());
        assert_eq!(local.to_string(), "2026-03-10T09:14:02");
        let at: SwitchTime = "2026-03-10T09:14:02+01:00".parse().unwrap();
        assert_eq!(at.to_string(), "2026-03-10T09:14:02+01:00");
        assert_eq!(
            at.utc(),
            "2026-03-10T08:14:02Z".parse::<DateTime<Utc>>().unwrap()
        );
        let utc: SwitchTime = "2026-03-10T09:14:02Z".parse().unwrap();
        assert_eq!(utc.to_string(), "2026-03-10T09:14:02+00:00");
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(serde_json::from_str::<SwitchTime>(&json).unwrap(), at);
        assert!("yesterday".parse::<SwitchTime>().is_err());
    }

    #[test]
    fn an_instant_is_shown_at_its_offset() {
        let instant: DateTime<Utc> = "2026-03-10T08:00:00Z".parse().unwrap();
        let t = SwitchTime::from_instant(instant, FixedOffset::east_opt(5400));
        assert_eq!(t.to_string(), "2026-03-10T09:30:00+01:30");
        assert_eq!(t.utc(), instant);
    }
}
