//! Report periods: `--from`/`--to` as RFC 3339 times or dates (a date is its UTC
//! midnight; as `--to`, a date means the end of that day).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// Read one bound. `end` says whether a bare date means the end of that day.
pub fn parse_bound(text: &str, end: bool) -> Result<NaiveDateTime, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc).naive_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        return Ok(if end {
            midnight + Duration::days(1)
        } else {
            midnight
        });
    }
    Err(format!(
        "`{text}` is not an RFC 3339 time (2026-11-23T08:00:00Z) or a date (2026-11-23)"
    ))
}

/// The period `[from, to)`; defaults: today (UTC) until now.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDateTime, NaiveDateTime), String> {
    let now = Utc::now().naive_utc();
    let from = match from {
        Some(text) => parse_bound(text, false)?,
        None => now.date().and_hms_opt(0, 0, 0).unwrap_or_default(),
    };
    let to = match to {
        Some(text) => parse_bound(text, true)?,
        None => now,
    };
    if to <= from {
        return Err("the period is empty: --to must be after --from".into());
    }
    Ok((from, to))
}

/// A bound as clients see it.
pub fn show(time: NaiveDateTime) -> String {
    time.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let from = parse_bound("2026-11-23", false).unwrap();
        let to = parse_bound("2026-11-23", true).unwrap();
        assert_eq!(to - from, Duration::days(1));
        let t = parse_bound("2026-11-23T10:00:00.500+01:00", false).unwrap();
        assert_eq!(show(t), "2026-11-23T09:00:00Z");
        assert!(parse_bound("yesterday", false).is_err());
        assert!(period(Some("2026-11-24"), Some("2026-11-23T00:00:00Z")).is_err());
    }
}
