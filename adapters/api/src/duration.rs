//! Durations in configuration keys, one convention for the daemon and every adapter:
//! the unit is in the key's name, and the field is a [`Duration`].
//!
//! - a key ending `_s` takes seconds, an integer or a float (`30`, `0.5`):
//!   `#[serde(with = "ctibridge_adapter::duration::seconds")]`, or
//!   [`optional_seconds`] for an `Option<Duration>`;
//! - a key ending `_ms` takes whole milliseconds (`1500`): [`millis`].
//!
//! Negative, NaN or absurdly large values are refused with the value named, so no
//! code has to convert or check a number of seconds by hand.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Seconds, an integer or a float.
pub mod seconds {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(Seconds)
    }
}

/// Seconds, an integer or a float, for a key that may be left out (with
/// `#[serde(default)]`).
pub mod optional_seconds {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        d.deserialize_any(Seconds).map(Some)
    }
}

/// Whole milliseconds.
pub mod millis {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(Millis)
    }
}

struct Seconds;

impl Visitor<'_> for Seconds {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number of seconds (0 or more, an integer or a float)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_secs)
            .map_err(|_| E::custom(format!("{v} seconds: a duration cannot be negative")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Duration::try_from_secs_f64(v).map_err(|_| {
            E::custom(format!(
                "{v} seconds: expected 0 or more (and less than 2^64)"
            ))
        })
    }
}

struct Millis;

impl Visitor<'_> for Millis {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number of milliseconds (0 or more)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration::from_millis(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration::from_millis)
            .map_err(|_| E::custom(format!("{v} ms: a duration cannot be negative")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Keys {
        #[serde(with = "seconds")]
        wait_s: Duration,
        #[serde(default, with = "optional_seconds")]
        maybe_s: Option<Duration>,
        #[serde(with = "millis")]
        tick_ms: Duration,
    }

    fn parse(text: &str) -> Result<Keys, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn seconds_take_integers_and_floats_and_millis_integers() {
        let keys = parse("wait_s = 30\ntick_ms = 1500\n").unwrap();
        assert_eq!(keys.wait_s, Duration::from_secs(30));
        assert_eq!(keys.maybe_s, None);
        assert_eq!(keys.tick_ms, Duration::from_millis(1500));
        let keys = parse("wait_s = 0.25\nmaybe_s = 2\ntick_ms = 0\n").unwrap();
        assert_eq!(keys.wait_s, Duration::from_millis(250));
        assert_eq!(keys.maybe_s, Some(Duration::from_secs(2)));
    }

    #[test]
    fn wrong_values_are_named() {
        let err = parse("wait_s = -1\ntick_ms = 1\n").unwrap_err();
        assert!(err.contains("-1 seconds"), "{err}");
        let err = parse("wait_s = -0.5\ntick_ms = 1\n").unwrap_err();
        assert!(err.contains("-0.5 seconds"), "{err}");
        let err = parse("wait_s = nan\ntick_ms = 1\n").unwrap_err();
        assert!(err.contains("NaN seconds"), "{err}");
        let err = parse("wait_s = 1\ntick_ms = 1.5\n").unwrap_err();
        assert!(err.contains("milliseconds"), "{err}");
        let err = parse("wait_s = \"10\"\ntick_ms = 1\n").unwrap_err();
        assert!(err.contains("a number of seconds"), "{err}");
    }
}
