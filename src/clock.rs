//! Time as the database stores it (epoch milliseconds) and as the API shows it (RFC 3339 UTC).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::domain::FieldError;

/// Milliseconds since the Unix epoch, the portable time representation in both engines.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Formats epoch milliseconds as an RFC 3339 UTC string, e.g. `2026-01-31T17:00:00.000Z`.
pub fn to_rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time (`2026-01-31T17:00:00Z`, any offset) or a date (`2026-01-31`,
/// taken as midnight UTC) into epoch milliseconds.
pub fn parse_time(field: &str, input: &str) -> Result<i64, FieldError> {
    let s = input.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| FieldError::new(field, "must be an RFC 3339 time or a YYYY-MM-DD date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(parse_time("d", "2026-01-31").unwrap(), 1_769_817_600_000);
        assert_eq!(
            parse_time("d", "2026-01-31T17:00:00Z").unwrap(),
            1_769_878_800_000
        );
        assert_eq!(
            parse_time("d", "2026-01-31T18:00:00+01:00").unwrap(),
            1_769_878_800_000
        );
        for bad in ["", "31/01/2026", "2026-02-30", "tomorrow"] {
            assert!(parse_time("due_date", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_epoch_ms_as_utc() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(to_rfc3339(1_769_878_800_123), "2026-01-31T17:00:00.123Z");
    }
}
