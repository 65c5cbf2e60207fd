//! Calendar arithmetic and RFC 3339 timestamps without a date library.
//!
//! Registry packuments (`time`), npm's signing keys (`expires`), Sigstore trusted roots
//! (`validFor`), CycloneDX metadata and audit logs all write UTC times as RFC 3339; policy
//! files write dates as `YYYY-MM-DD`. Every bulwark crate reads and writes them through this
//! one module.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
#[must_use]
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `(year, month, day)` of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_part = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_part + 2) / 5 + 1;
    let month = if month_part < 10 {
        month_part + 3
    } else {
        month_part - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// Whether `year` is a Gregorian leap year.
#[must_use]
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days of `month` (1–12) in `year`.
#[must_use]
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01, refusing impossible dates (`2025-02-30`).
#[must_use]
pub fn parse_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (
        digits(&text[0..4])?,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// A parsed RFC 3339 timestamp: whole seconds since the Unix epoch (negative before it) and
/// the fraction in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds of the fraction (digits beyond nine are dropped).
    pub nanos: u32,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as the npm registry, npm's keys and
    /// Sigstore write them. Surrounding white space is ignored; anything else is refused.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let days = parse_date(text.get(..10)?)?;
        let rest = text.get(10..)?.strip_prefix(['T', 't', ' '])?;
        if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" {
            return None;
        }
        let (hour, minute, second) = (
            digits(rest.get(0..2)?)?,
            digits(rest.get(3..5)?)?,
            digits(rest.get(6..8)?)?,
        );
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut zone = &rest[8..];
        let mut nanos = 0;
        if let Some(fraction) = zone.strip_prefix('.') {
            let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if count == 0 {
                return None;
            }
            let kept = &fraction[..count.min(9)];
            let scale = 10u32.pow(9 - u32::try_from(kept.len()).ok()?);
            nanos = kept.parse::<u32>().ok()? * scale;
            zone = &fraction[count..];
        }
        let offset = match zone {
            "Z" | "z" => 0,
            _ => {
                let sign = match zone.get(..1)? {
                    "+" => 1,
                    "-" => -1,
                    _ => return None,
                };
                if zone.len() != 6 || zone.get(3..4)? != ":" {
                    return None;
                }
                sign * (digits(zone.get(1..3)?)? * 3600 + digits(zone.get(4..6)?)? * 60)
            }
        };
        Some(Self {
            seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset,
            nanos,
        })
    }

    /// The point in time (`None` before the Unix epoch).
    #[must_use]
    pub fn to_system_time(self) -> Option<SystemTime> {
        let seconds = u64::try_from(self.seconds).ok()?;
        Some(UNIX_EPOCH + Duration::new(seconds, self.nanos))
    }
}

/// Parses an RFC 3339 timestamp into whole seconds since the Unix epoch (see
/// [`Timestamp::parse`]).
#[must_use]
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    Timestamp::parse(text).map(|timestamp| timestamp.seconds)
}

/// Seconds since the Unix epoch (negative before it).
#[must_use]
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The point in time `seconds` after the Unix epoch.
#[must_use]
pub fn from_unix_seconds(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// `time` in UTC as `YYYY-MM-DDTHH:MM:SSZ` (CycloneDX, SARIF).
#[must_use]
pub fn format_rfc3339(time: SystemTime) -> String {
    let (date, clock) = civil_parts(time);
    format!("{date}T{clock}Z")
}

/// `time` in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the registry's own style (audit logs).
#[must_use]
pub fn format_rfc3339_millis(time: SystemTime) -> String {
    let (date, clock) = civil_parts(time);
    let millis = time
        .duration_since(UNIX_EPOCH)
        .map(|since| since.subsec_millis())
        .unwrap_or_default();
    format!("{date}T{clock}.{millis:03}Z")
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01.
#[must_use]
pub fn format_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

fn civil_parts(time: SystemTime) -> (String, String) {
    let seconds = unix_seconds(time);
    let rest = seconds.rem_euclid(86_400);
    (
        format_date(seconds.div_euclid(86_400)),
        format!(
            "{:02}:{:02}:{:02}",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        ),
    )
}

/// A run of ASCII digits as a number (no sign, no white space).
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_key_and_sigstore_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2025-01-29T00:00:00.000Z"),
            Some(1_738_108_800)
        );
        assert_eq!(
            parse_rfc3339("2022-12-31T23:59:59.999Z"),
            Some(1_672_531_199)
        );
        assert_eq!(
            parse_rfc3339("2021-01-11T16:45:42.144+01:00"),
            parse_rfc3339("2021-01-11T15:45:42Z")
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for bad in [
            "",
            "yesterday",
            "2025-01-29",
            "2025-13-29T00:00:00Z",
            "2025-02-30T00:00:00Z",
            "2025-01-29T00:00:00",
            "2025-01-29T24:00:00Z",
            "2019-03-02T18:43:16.Z",
            "2019-03-02T18:43:16+0100",
            "2019-03-02T18:43:16+01:00junk",
            "2019-3-02T18:43:16Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn keeps_fractions_and_round_trips_the_registry_style() {
        let parsed = Timestamp::parse("2019-03-02T18:43:16.347Z").unwrap();
        assert_eq!(parsed.nanos, 347_000_000);
        let time = parsed.to_system_time().unwrap();
        assert_eq!(format_rfc3339_millis(time), "2019-03-02T18:43:16.347Z");
        assert_eq!(format_rfc3339(time), "2019-03-02T18:43:16Z");
        assert_eq!(
            Timestamp::parse("1969-12-31T23:59:59Z")
                .unwrap()
                .to_system_time(),
            None
        );
    }

    #[test]
    fn formats_and_parses_dates() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(from_unix_seconds(1_795_651_200)),
            "2026-11-26T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339(from_unix_seconds(951_782_400 + 3661)),
            "2000-02-29T01:01:01Z"
        );
        assert_eq!(parse_date("2000-02-29"), Some(11_016));
        assert_eq!(format_date(11_016), "2000-02-29");
        assert_eq!(parse_date("2100-02-29"), None);
        assert_eq!(unix_seconds(from_unix_seconds(-86_400)), -86_400);
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(37) {
            let (year, month, day) = civil_from_days(days);
            assert!(day >= 1 && day <= days_in_month(year, month));
            assert_eq!(days_from_civil(year, month, day), days);
        }
    }
}
