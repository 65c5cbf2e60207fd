//! RFC 3339 timestamps: packument `time` values are parsed, audit records are stamped. The
//! calendar arithmetic is `bulwark_types::time`, shared with every other crate.

use std::time::SystemTime;

use bulwark_types::time::{Timestamp, format_rfc3339_millis};

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` as the npm registry writes it (`None` for
/// anything else, and for times before the Unix epoch).
pub(crate) fn parse_rfc3339(value: &str) -> Option<SystemTime> {
    Timestamp::parse(value)?.to_system_time()
}

/// `time` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn format_rfc3339(time: SystemTime) -> String {
    format_rfc3339_millis(time)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn round_trips_registry_timestamps() {
        let parsed = parse_rfc3339("2019-03-02T18:43:16.347Z").unwrap();
        assert_eq!(format_rfc3339(parsed), "2019-03-02T18:43:16.347Z");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
        assert_eq!(
            parse_rfc3339("2000-02-29T02:01:01+01:00"),
            Some(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661))
        );
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "yesterday",
            "2019-13-02T18:43:16Z",
            "2019-03-02T18:43:16",
            "2019-03-02T18:43:16.Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
