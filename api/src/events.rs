//! Stored events, labels and baselines: `/api/v1/events`, `/api/v1/baselines`.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// An event as stored: the interchange-format fields plus its id in the event store,
/// `NODE:INCARNATION:SEQ` (NODE is the server's `--node`; see `store/SCHEMA.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StoredEvent {
    pub id: String,
    /// `evt.time`, nanoseconds since the Unix epoch.
    pub time: i64,
    /// The `X-Rulestudio-Node` it came from, if any.
    pub node: Option<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Present (and `fields` empty) when the stored text no longer reads as a JSON object: why.
    /// One such row does not fail the page it is listed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// One `event` message of `GET /api/v1/events/stream`: a newly stored event, sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TailedEvent {
    #[serde(flatten)]
    pub event: StoredEvent,
    /// How many matching events this message stands for: itself and those the server skipped
    /// since the previous message (1 while the rate is within the tail's bound).
    pub stands_for: u64,
}

/// `GET /api/v1/events`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    /// Pass as `cursor` to get the next (older) page (an event id); absent when the search
    /// reached the oldest stored event.
    pub next_cursor: Option<String>,
    /// Events examined for this page (the filter is evaluated on stored events).
    pub scanned: u64,
}

/// `POST /api/v1/events/{id}/label`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LabelRequest {
    /// `benign`, `malicious`, or `clear` to remove the label.
    pub label: String,
    /// The rule the label is about; absent: every rule.
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Label {
    /// `NODE:INCARNATION:SEQ`.
    pub event_id: String,
    /// `benign`, `malicious` or `clear`.
    pub label: String,
    pub rule: Option<String>,
    pub note: Option<String>,
}

/// `GET /api/v1/labels?events=ID,ID,…`: every label of those events, by event then rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LabelList {
    pub labels: Vec<Label>,
}

/// `POST /api/v1/baselines`: a known-good period.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreateBaseline {
    pub since: Timestamp,
    pub until: Timestamp,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Baseline {
    pub id: i64,
    pub since: i64,
    pub until: i64,
    pub note: String,
    pub author: String,
    pub created_at: i64,
}

/// `GET /api/v1/baselines`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BaselineList {
    pub baselines: Vec<Baseline>,
}

/// `GET /api/v1/events/{id}/matches`: the rules of the live set that match one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EventMatches {
    /// The live-set version that judged the event.
    pub live_version: i64,
    /// How this server evaluates the live set on new events: under `first`, only the first
    /// matching rule raises an alert.
    pub rule_matching: crate::live::RuleMatching,
    /// Every enabled rule whose condition matches the event, in load order.
    pub matches: Vec<RuleMatch>,
}

/// One rule an event matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RuleMatch {
    pub rule: String,
    /// Falco's spelling (`Warning`, `Critical`, …).
    pub priority: String,
    /// What its matches do, from its tags.
    pub action: crate::action::Action,
    /// Whether ingest, under `rule_matching`, reports this match (an alert, or an audit
    /// record for an audit rule): always under `all`, only for the first match under `first`.
    pub reported: bool,
}
