//! How the REST API takes a point in time.

use serde::{Deserialize, Serialize};

/// Nanoseconds since the Unix epoch (like `evt.time`), or an RFC 3339 string
/// (`2025-01-31T12:00:00Z`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    Nanos(i64),
    Text(String),
}
