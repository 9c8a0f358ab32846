//! Time as the server stores it: nanoseconds since the Unix epoch, like `evt.time`.

use crate::error::AppError;
use rulestudio_api::time::Timestamp;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Accepts nanoseconds, RFC 3339, or a relative `-1h` / `-30m` from now.
pub fn parse(what: &str, t: &Timestamp) -> Result<i64, AppError> {
    match t {
        Timestamp::Nanos(n) => Ok(*n),
        Timestamp::Text(s) => parse_text(s).ok_or_else(|| {
            AppError::BadRequest(format!(
                "`{what}`: `{s}` is not a time (nanoseconds since the epoch, RFC 3339 such as \
                 2025-01-31T12:00:00Z, or relative such as -1h)"
            ))
        }),
    }
}

/// The same for query-string values, where a number arrives as text.
pub fn parse_query(what: &str, s: &str) -> Result<i64, AppError> {
    match s.parse::<i64>() {
        Ok(n) => Ok(n),
        Err(_) => parse(what, &Timestamp::Text(s.to_string())),
    }
}

/// An optional query parameter (`since=`, `until=`).
pub fn parse_query_opt(what: &str, s: Option<&str>) -> Result<Option<i64>, AppError> {
    s.map(|s| parse_query(what, s)).transpose()
}

/// Times outside what nanoseconds in an i64 can hold (before 1970, after 2262) saturate, so
/// `until=2999-01-01T00:00:00Z` means "no upper bound" instead of wrapping into the past.
fn parse_text(s: &str) -> Option<i64> {
    if let Some(ago) = s.strip_prefix('-') {
        let d = humantime::parse_duration(ago).ok()?;
        return Some(now_ns().saturating_sub(saturating_ns(d)).max(0));
    }
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    Some(t.duration_since(UNIX_EPOCH).map_or(0, saturating_ns))
}

fn saturating_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

pub use rulestudio_api::time::{clock, rfc3339};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_spellings() {
        assert_eq!(
            parse_query("since", "1700000000000000000").unwrap(),
            1_700_000_000_000_000_000
        );
        assert_eq!(
            parse_query("since", "2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000_000_000
        );
        let ago = parse_query("since", "-1h").unwrap();
        assert!((now_ns() - ago - 3_600_000_000_000).abs() < 5_000_000_000);
        assert!(parse_query("since", "yesterday").is_err());
    }

    #[test]
    fn out_of_range_times_saturate() {
        let far = Timestamp::Text("2999-01-01T00:00:00Z".into());
        assert_eq!(parse("until", &far).unwrap(), i64::MAX);
        let ages = Timestamp::Text("-100000years".into());
        assert_eq!(parse("since", &ages).unwrap(), 0);
    }

    #[test]
    fn formats_like_falco() {
        assert_eq!(
            rfc3339(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123456789Z"
        );
        assert_eq!(clock(1_700_000_000_123_456_789), "22:13:20.123456789");
    }
}
