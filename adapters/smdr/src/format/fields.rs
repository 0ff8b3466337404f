//! Reading fields out of a record line: fixed columns, CSV fields, durations, and
//! the switch's local dates and times, most of which leave out the year.
//!
//! Everything here takes text as the switch printed it and never panics: columns past
//! the end of a line are empty, never an index error.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc,
};
use ctibridge_adapter::SwitchTime;

use crate::error::{FieldAt, ParseError};

/// The text in 1-based, inclusive character columns `from..=to`, trimmed; empty when
/// the line is shorter.
pub fn cols(line: &str, from: usize, to: usize) -> &str {
    let start = from.saturating_sub(1);
    let mut indices = line.char_indices().map(|(i, _)| i).chain([line.len()]);
    let begin = indices.nth(start);
    let end = indices.nth(to.saturating_sub(from)).or(Some(line.len()));
    match (begin, end) {
        (Some(b), Some(e)) => line.get(b..e).unwrap_or("").trim(),
        _ => "",
    }
}

/// `None` for an empty field, the text otherwise.
pub fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Split one CSV line: `delimiter`-separated, double quotes honoured (`""` inside a
/// quoted field is one quote). A quote left open runs to the end of the line.
pub fn split_csv(line: &str, delimiter: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            c if c == delimiter && !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A duration as switches print it: `hh:mm:ss`, `mm:ss`, `hh:mm'ss`, `m'ss`, `S=123`
/// or plain seconds. `None` when it is none of those.
pub fn duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let text = text.strip_prefix("S=").unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    for part in text.split([':', '\'']) {
        if part.is_empty() || part.len() > 6 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        total = total.checked_mul(60)?.checked_add(part.parse().ok()?)?;
    }
    Some(total as f64)
}

/// A duration read by a pattern of `%H`, `%M`, `%S` (digits) and literal characters,
/// as a custom format gives it: `%H:%M:%S`, `%M'%S`, `%S`.
pub fn duration_by_pattern(text: &str, pattern: &str) -> Option<f64> {
    let text = text.trim();
    let mut rest = text;
    let mut total = 0f64;
    let mut pat = pattern.chars();
    while let Some(p) = pat.next() {
        if p == '%' {
            let unit = match pat.next()? {
                'H' => 3600.0,
                'M' => 60.0,
                'S' => 1.0,
                _ => return None,
            };
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 || digits > 6 {
                return None;
            }
            let value: f64 = rest.get(..digits)?.parse().ok()?;
            total += value * unit;
            rest = rest.get(digits..)?;
        } else {
            rest = rest.strip_prefix(p)?;
        }
    }
    rest.is_empty().then_some(total)
}

/// The switch's clock: what time it is, and how its local times map to UTC.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: DateTime<Utc>,
    /// `None`: times are the switch's local time (compared with `now` in this
    /// machine's zone); otherwise a fixed offset (`utc_offset`).
    pub offset: Option<FixedOffset>,
}

/// A record may be this far in the future (switch clocks drift) before a year-less
/// date is taken to be last year's, or a date-less time yesterday's.
const FUTURE_SLACK_HOURS: i64 = 24;
const FUTURE_SLACK_TIME_ONLY_HOURS: i64 = 1;

impl Clock {
    pub fn new(offset: Option<FixedOffset>) -> Self {
        Clock {
            now: Utc::now(),
            offset,
        }
    }

    /// A local date and time of the switch in UTC.
    pub fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.offset {
            Some(offset) => offset
                .from_local_datetime(&local)
                .single()
                .map(|t| t.with_timezone(&Utc)),
            // In a DST fold the earlier reading is as good as any; a time in the gap
            // does not exist, so it is read one hour later.
            None => Local
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| {
                    Local
                        .from_local_datetime(&(local + Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// A reading of the switch's clock as it goes out: at the configured offset, or
    /// the switch's local time when there is none.
    pub fn stamp(&self, local: NaiveDateTime) -> SwitchTime {
        SwitchTime {
            local,
            offset: self.offset,
        }
    }

    /// An absolute instant (a Unix time), shown at the configured offset or in UTC.
    pub fn instant(&self, instant: DateTime<Utc>) -> SwitchTime {
        SwitchTime::from_instant(instant, self.offset)
    }

    /// Today's date on the switch.
    pub fn local_today(&self) -> NaiveDate {
        match self.offset {
            Some(offset) => self.now.with_timezone(&offset).date_naive(),
            None => self.now.with_timezone(&Local).date_naive(),
        }
    }

    /// A date printed without a year: this year's, or last year's when this year's
    /// would be in the future.
    pub fn yearless(&self, month: u32, day: u32, time: NaiveTime) -> Option<SwitchTime> {
        let year = self.local_today().year();
        let this_year = NaiveDate::from_ymd_opt(year, month, day).map(|d| d.and_time(time));
        match this_year {
            Some(t)
                if self
                    .to_utc(t)
                    .is_some_and(|u| u <= self.now + Duration::hours(FUTURE_SLACK_HOURS)) =>
            {
                Some(self.stamp(t))
            }
            // In the future, or 29 February of a year that has none.
            _ => {
                NaiveDate::from_ymd_opt(year - 1, month, day).map(|d| self.stamp(d.and_time(time)))
            }
        }
    }

    /// A time printed without a date: today's, or yesterday's when today's would be
    /// in the future.
    pub fn dateless(&self, time: NaiveTime) -> Option<SwitchTime> {
        let today = self.local_today();
        let t = today.and_time(time);
        if self.to_utc(t)? <= self.now + Duration::hours(FUTURE_SLACK_TIME_ONLY_HOURS) {
            return Some(self.stamp(t));
        }
        Some(self.stamp(today.pred_opt()?.and_time(time)))
    }

    /// A date and time read with a strftime `pattern`; the year, when the pattern has
    /// none, by [`Clock::yearless`]; the date, when it has none, by [`Clock::dateless`].
    pub fn parse(&self, text: &str, pattern: &str) -> Option<SwitchTime> {
        use chrono::format::{parse, Parsed, StrftimeItems};
        let mut parsed = Parsed::new();
        parse(&mut parsed, text.trim(), StrftimeItems::new(pattern)).ok()?;
        if parsed.hour_div_12().is_none() && parsed.hour_mod_12().is_none() {
            // A date with no time: midnight.
            parsed.set_hour(0).ok()?;
            parsed.set_minute(0).ok()?;
        }
        if parsed.minute().is_none() {
            parsed.set_minute(0).ok()?;
        }
        let time = parsed.to_naive_time().ok()?;
        let has_year = parsed.year().is_some()
            || parsed.year_mod_100().is_some()
            || parsed.year_div_100().is_some();
        match (parsed.month(), parsed.day()) {
            (Some(month), Some(day)) if !has_year => self.yearless(month, day, time),
            (Some(_), Some(_)) => Some(self.stamp(parsed.to_naive_date().ok()?.and_time(time))),
            _ => self.dateless(time),
        }
    }
}

/// A time of day as `hh:mm` or `hh:mm:ss`, with an optional `A`/`P`/`AM`/`PM` (Mitel
/// prints a lone `P` after afternoon times on a 12-hour clock, Panasonic `AM`/`PM`).
/// Marks around the time that are not part of it (`*` for a transferred call, a
/// trailing `'`) are ignored.
pub fn time_of_day(text: &str) -> Option<NaiveTime> {
    let text = text
        .trim()
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_ascii_uppercase();
    let (clock, pm) = match text.strip_suffix('M').unwrap_or(&text) {
        t if t.ends_with('P') => (t.trim_end_matches('P').trim(), Some(true)),
        t if t.ends_with('A') => (t.trim_end_matches('A').trim(), Some(false)),
        t => (t, None),
    };
    let clock = clock.trim_end_matches(|c: char| !c.is_ascii_digit());
    let mut parts = clock.split(':');
    let hour: u32 = parts.next()?.trim().parse().ok()?;
    let minute: u32 = parts.next()?.trim().parse().ok()?;
    let second: u32 = match parts.next() {
        Some(s) => s.trim().parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    // A 24-hour reading with a mark (`17:16P`) is already right.
    let hour = match pm {
        Some(true) if (1..12).contains(&hour) => hour + 12,
        Some(false) if hour == 12 => 0,
        _ => hour,
    };
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// `mm/dd` or `mm-dd` (month first, as North American switches print it).
pub fn month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.trim().split_once(['/', '-'])?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((m, d))
}

/// A required field that must read as something; the error names it and where it is.
pub fn need<T>(
    value: Option<T>,
    field: &'static str,
    at: FieldAt,
    text: &str,
    expected: &'static str,
) -> Result<T, ParseError> {
    value.ok_or_else(|| {
        if text.trim().is_empty() {
            ParseError::Missing {
                field,
                at,
                found: "nothing there".into(),
            }
        } else {
            ParseError::bad(field, at, text, expected)
        }
    })
}

/// "1 field", "30 fields": how many fields a line has, for error messages.
pub fn count(n: usize) -> String {
    if n == 1 {
        "1 field".into()
    } else {
        format!("{n} fields")
    }
}

/// The clock the format tests read with: 10 March 2026, noon, on a switch at UTC.
#[cfg(test)]
pub(crate) fn test_clock() -> Clock {
    Clock {
        now: "2026-03-10T12:00:00Z".parse().expect("a time"),
        offset: FixedOffset::east_opt(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(now: &str) -> Clock {
        Clock {
            now: now.parse().unwrap(),
            offset: Some(FixedOffset::east_opt(3600).unwrap()),
        }
    }

    #[test]
    fn columns_never_panic() {
        assert_eq!(cols("abcdef", 2, 4), "bcd");
        assert_eq!(cols("abc", 2, 10), "bc");
        assert_eq!(cols("abc", 5, 10), "");
        assert_eq!(cols("äbc", 1, 1), "ä");
        assert_eq!(cols("", 0, 0), "");
    }

    #[test]
    fn csv_with_quotes() {
        assert_eq!(
            split_csv(r#"a,"b,c","say ""hi""",,e"#, ','),
            ["a", "b,c", "say \"hi\"", "", "e"]
        );
        assert_eq!(split_csv("x;y", ';'), ["x", "y"]);
    }

    #[test]
    fn durations() {
        assert_eq!(duration("00:01:05"), Some(65.0));
        assert_eq!(duration("00:01'05"), Some(65.0));
        assert_eq!(duration("0'05"), Some(5.0));
        assert_eq!(duration("S=000123"), Some(123.0));
        assert_eq!(duration("17"), Some(17.0));
        assert_eq!(duration("1x:00"), None);
        assert_eq!(duration(""), None);
        assert_eq!(duration_by_pattern("01:02:03", "%H:%M:%S"), Some(3723.0));
        assert_eq!(duration_by_pattern("2'07", "%M'%S"), Some(127.0));
        assert_eq!(duration_by_pattern("2:07", "%M'%S"), None);
    }

    #[test]
    fn a_missing_year_is_this_one_or_last() {
        let c = clock("2026-01-01T00:30:00Z");
        let t = c.yearless(12, 31, NaiveTime::from_hms_opt(23, 50, 0).unwrap());
        assert_eq!(t, Some("2025-12-31T23:50:00+01:00".parse().unwrap()));
        let c = clock("2026-06-15T12:00:00Z");
        let t = c.yearless(6, 15, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(t, Some("2026-06-15T09:00:00+01:00".parse().unwrap()));
        // 29 February in a year without one is last leap year's... or nothing.
        assert!(c.yearless(2, 30, NaiveTime::MIN).is_none());
    }

    #[test]
    fn a_missing_date_is_today_or_yesterday() {
        let c = clock("2026-06-15T00:30:00Z"); // 01:30 on the switch
        let t = c.dateless(NaiveTime::from_hms_opt(23, 55, 0).unwrap());
        assert_eq!(t, Some("2026-06-14T23:55:00+01:00".parse().unwrap()));
    }

    #[test]
    fn patterns_with_and_without_year() {
        let c = clock("2026-06-15T12:00:00Z");
        assert_eq!(
            c.parse("09:05 06/14", "%H:%M %m/%d"),
            Some("2026-06-14T09:05:00+01:00".parse().unwrap())
        );
        assert_eq!(
            c.parse("2026-06-14 09:05:07", "%Y-%m-%d %H:%M:%S"),
            Some("2026-06-14T09:05:07+01:00".parse().unwrap())
        );
        assert_eq!(c.parse("nonsense", "%H:%M"), None);
    }

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day("01:07P"), NaiveTime::from_hms_opt(13, 7, 0));
        assert_eq!(time_of_day("12:07AM"), NaiveTime::from_hms_opt(0, 7, 0));
        assert_eq!(time_of_day("14:13:09"), NaiveTime::from_hms_opt(14, 13, 9));
        assert_eq!(time_of_day("25:00"), None);
        assert_eq!(time_of_day("17:16'"), NaiveTime::from_hms_opt(17, 16, 0));
        assert_eq!(time_of_day("17:16P"), NaiveTime::from_hms_opt(17, 16, 0));
        assert_eq!(time_of_day("*1:04PM"), NaiveTime::from_hms_opt(13, 4, 0));
        assert_eq!(
            time_of_day("05:16:20P"),
            NaiveTime::from_hms_opt(17, 16, 20)
        );
        assert_eq!(month_day("06/14"), Some((6, 14)));
        assert_eq!(month_day("13-01"), None);
    }
}
