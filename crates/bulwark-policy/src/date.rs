//! Calendar dates and durations of `bulwark.toml`: `expires = "2026-12-31"`, the RFC 3339
//! times of a packument's `time` field, and durations such as `"7d"` or `"72h"`. The calendar
//! arithmetic is `bulwark_types::time`, shared with every other crate.

use std::time::{Duration, SystemTime};

use bulwark_types::time;
pub use bulwark_types::time::{from_unix_seconds, parse_rfc3339, unix_seconds};

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        time::parse_date(text)
            .map(|days| Self { days })
            .ok_or_else(|| format!("invalid date `{text}` (expected `YYYY-MM-DD`)"))
    }

    /// The UTC day of a point in time.
    #[must_use]
    pub fn of(time: SystemTime) -> Self {
        Self {
            days: unix_seconds(time).div_euclid(86_400),
        }
    }

    /// `(year, month, day)`.
    #[must_use]
    pub fn civil(self) -> (i64, i64, i64) {
        time::civil_from_days(self.days)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&time::format_date(self.days))
    }
}

/// Parses a duration written as a number and a unit: `30m`, `72h`, `7d`, `2w`.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration `{text}` (expected a number and a unit: `30m`, `72h`, `7d`, `2w`)"
        )
    };
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit_seconds = match unit.trim() {
        "m" | "min" | "minutes" => 60,
        "h" | "hours" => 3600,
        "d" | "days" => 86_400,
        "w" | "weeks" => 7 * 86_400,
        _ => return Err(bad()),
    };
    number
        .checked_mul(unit_seconds)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// Writes a duration the way a person reads it: `7 days`, `36 hours`, `12 minutes`.
#[must_use]
pub fn describe(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 2 * 86_400 {
        format!("{} days", seconds / 86_400)
    } else if seconds >= 2 * 3600 {
        format!("{} hours", seconds / 3600)
    } else {
        format!("{} minutes", seconds / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_nonsense() {
        for text in ["1970-01-01", "2000-02-29", "2026-12-31", "1969-12-31"] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days, 1);
        for bad in [
            "2026-13-01",
            "2025-02-29",
            "2026-1-01",
            "26-01-01",
            "2026-01-0x",
            "",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("2026-01-01").unwrap() < Date::parse("2026-01-02").unwrap());
    }

    #[test]
    fn registry_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2011-10-05T14:48:00.000Z"),
            Some(1_317_826_080)
        );
        assert_eq!(
            parse_rfc3339("2011-10-05T16:48:00+02:00"),
            Some(1_317_826_080)
        );
        assert_eq!(parse_rfc3339("2011-10-05T14:48:00Z"), Some(1_317_826_080));
        assert_eq!(parse_rfc3339("2011-10-05"), None);
        assert_eq!(parse_rfc3339("2011-10-05T25:48:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(
            Date::of(from_unix_seconds(1_317_826_080)).to_string(),
            "2011-10-05"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("72h"), Ok(Duration::from_secs(72 * 3600)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(
            parse_duration("7 days"),
            Ok(Duration::from_secs(7 * 86_400))
        );
        for bad in ["7", "d", "7y", "-1d", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(describe(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(describe(Duration::from_secs(36 * 3600)), "36 hours");
    }
}
