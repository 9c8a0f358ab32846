//! How the REST API takes a point in time.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch (like `evt.time`), or an RFC 3339 string
/// (`2025-01-31T12:00:00Z`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Timestamp {
    Nanos(i64),
    Text(String),
}

fn to_system(ns: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64)
}

/// `2025-01-31T12:00:00.123456789Z`, as Falco's JSON output prints `time`.
pub fn rfc3339(ns: i64) -> String {
    humantime::format_rfc3339_nanos(to_system(ns)).to_string()
}

/// `12:00:00.123456789`, the prefix of Falco's `output` (UTC).
pub fn clock(ns: i64) -> String {
    let ns = ns.max(0);
    let secs = ns / 1_000_000_000;
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        ns % 1_000_000_000
    )
}
