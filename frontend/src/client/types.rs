//! Request and response shapes of the REST API as documented in issues #4 and #5.
//! NOTE: `rulestudio-api` does not define these yet (the server work owns them); this module is
//! the single place to switch to `pub use rulestudio_api::…` once it does. Fields the UI does
//! not need are omitted; unknown fields are ignored, absent optional ones default.

use rulestudio_api::diagnostic::DiagnosticJson;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub diagnostics: Option<Vec<DiagnosticJson>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SessionInfo {
    pub username: String,
    #[serde(default)]
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesFile {
    pub name: String,
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LiveSet {
    pub version: i64,
    pub files: Vec<RulesFile>,
    #[serde(default)]
    pub promoted_at: Option<Value>,
    #[serde(default)]
    pub promoted_by: Option<String>,
    #[serde(default)]
    pub proposal: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LiveVersion {
    pub version: i64,
    #[serde(default)]
    pub promoted_at: Option<Value>,
    #[serde(default)]
    pub promoted_by: Option<String>,
    #[serde(default)]
    pub proposal: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackRequest {
    pub version: i64,
}

/// `{"last_events": N}` or `{"since", "until"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Window {
    LastEvents { last_events: u64 },
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewRequest {
    pub rules: String,
    pub base: String,
    pub window: Window,
    pub samples: u32,
    pub group_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PreviewResponse {
    pub scanned: u64,
    pub took_ms: f64,
    #[serde(default)]
    pub diagnostics: Vec<DiagnosticJson>,
    pub rules: Vec<RulePreview>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RulePreview {
    pub name: String,
    pub matched: u64,
    pub false_positives: u64,
    pub true_positives: u64,
    pub unlabeled: u64,
    #[serde(default)]
    pub live_matched: Option<u64>,
    #[serde(default)]
    pub added: u64,
    #[serde(default)]
    pub removed: u64,
    #[serde(default)]
    pub shadowed_by: Vec<String>,
    #[serde(default)]
    pub samples: Vec<Sample>,
    #[serde(default)]
    pub histogram: Vec<Bucket>,
    #[serde(default)]
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sample {
    pub event_id: i64,
    pub time: Value,
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Bucket {
    pub t: Value,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Group {
    pub key: Value,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestExceptionRequest {
    pub rules: String,
    pub rule: String,
    pub window: Window,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SuggestExceptionResponse {
    /// The `exceptions:` entry, as YAML text or as a structured value.
    pub exception: Value,
    #[serde(default)]
    pub matched_after: Option<u64>,
    #[serde(default)]
    pub false_positives_after: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelRequest {
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// An event: the flat map of Falco field names plus the store's id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventRecord {
    pub id: i64,
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventRecord>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    #[serde(default)]
    pub id: Option<i64>,
    pub time: Value,
    pub rule: String,
    pub priority: String,
    pub output: String,
    #[serde(default)]
    pub output_fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub event_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    #[serde(default)]
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewProposal {
    pub title: String,
    pub description: String,
    pub files: Vec<RulesFile>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Proposal {
    pub id: i64,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    pub status: String,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub base_version: i64,
    #[serde(default)]
    pub diff: Value,
    #[serde(default)]
    pub evidence: Value,
    #[serde(default)]
    pub reviews: Vec<Review>,
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProposalList {
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub verdict: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing)]
    pub reviewer: String,
    #[serde(default, skip_serializing)]
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing)]
    pub author: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PromoteResponse {
    pub live_version: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub username: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TokenInfo {
    pub name: String,
    #[serde(default)]
    pub created_at: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewToken {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreatedToken {
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CollectorStatus {
    pub node: String,
    #[serde(default)]
    pub last_seen: Option<Value>,
    #[serde(default)]
    pub events_per_sec: Option<f64>,
    #[serde(default)]
    pub dropped: u64,
    #[serde(default)]
    pub lost_kernel: u64,
}
