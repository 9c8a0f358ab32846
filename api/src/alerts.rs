//! Alerts raised by the live set: `/api/v1/alerts`.

use serde::{Deserialize, Serialize};

/// Falco's JSON output shape (`json_output: true`), plus the ids that link to the stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    /// The stored event that raised it, `NODE:INCARNATION:SEQ`.
    pub event_id: String,
    /// RFC 3339 with nanoseconds, as Falco prints it.
    pub time: String,
    pub rule: String,
    pub priority: String,
    /// `HH:MM:SS.nnnnnnnnn: Priority rendered-output`, as Falco prints it.
    pub output: String,
    pub output_fields: serde_json::Map<String, serde_json::Value>,
    pub source: String,
    pub tags: Vec<String>,
    pub hostname: String,
    /// The live-set version that raised it.
    pub live_version: i64,
}

/// `GET /api/v1/alerts`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    /// Alerts matching the filters (all pages).
    pub total: u64,
    pub next_cursor: Option<i64>,
}

/// `GET /api/v1/alerts/counts`: alerts per rule since a time, rules without alerts left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertCounts {
    /// The start of the window, nanoseconds since the Unix epoch.
    pub since: i64,
    /// By rule name.
    pub rules: Vec<RuleCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    pub count: u64,
}
