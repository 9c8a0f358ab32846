//! Alerts raised by the live set: `/api/v1/alerts`.

pub use crate::diagnostic::Priority;
use rulestudio_engine::eval::CompiledRule;
use rulestudio_engine::event::FieldSource;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Falco's JSON output shape (`json_output: true`), plus the ids that link to the stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Alert {
    /// The studio's number for it: what `/alerts/{id}`, triage, cursors and the UI use.
    pub id: i64,
    /// The stored event that raised it, `NODE:INCARNATION:SEQ`; empty while a node's alert
    /// waits for its event's batch (or that batch never came: see `event`).
    pub event_id: String,
    /// RFC 3339 with nanoseconds, as Falco prints it.
    pub time: String,
    pub rule: String,
    /// As Falco prints it: `Warning`, `Informational`…
    #[serde(with = "crate::diagnostic::named")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "crate::diagnostic::named::schema::<Priority>")
    )]
    pub priority: Priority,
    /// `HH:MM:SS.nnnnnnnnn: Priority rendered-output`, as Falco prints it.
    pub output: String,
    pub output_fields: serde_json::Map<String, serde_json::Value>,
    pub source: String,
    pub tags: Vec<String>,
    pub hostname: String,
    /// The live-set version that raised it.
    pub live_version: i64,
    /// Where the team is with it (`new` until someone triages it).
    #[serde(default)]
    pub triage: Triage,
    /// What enforcement did about the process (`none` from an alert-only rule or an older
    /// studio).
    #[serde(default)]
    pub action: crate::action::AlertAction,
    /// The id the node that raised it gave it (`NODE:INCARNATION:N`, decision 0020); absent
    /// for alerts the studio raised on events posted to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_alert_id: Option<String>,
    /// The whole event (interchange JSON) of a node's alert, kept with the alert, so the alert
    /// shows its event even when the event itself never reached the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Map<String, Value>>,
}

/// The alert `rule` raises on `ev` at `time`, as Falco's JSON output has it, with ids still
/// empty (the studio numbers it when it stores it). The one definition for the studio and the
/// nodes.
pub fn build(
    rule: &CompiledRule,
    ev: &dyn FieldSource,
    time: i64,
    hostname: &str,
    live_version: i64,
) -> Alert {
    let priority = rule.priority.as_str();
    let output_fields: Map<String, Value> = rule
        .output
        .fields(ev)
        .into_iter()
        .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
        .collect();
    Alert {
        id: 0,
        event_id: String::new(),
        time: crate::time::rfc3339(time),
        rule: rule.name.clone(),
        priority: rule.priority,
        output: format!(
            "{}: {priority} {}",
            crate::time::clock(time),
            rule.output.render(ev)
        ),
        output_fields,
        source: rule.source.clone(),
        tags: rule.tags.clone(),
        hostname: hostname.to_string(),
        live_version,
        triage: Triage::default(),
        action: crate::action::AlertAction::None,
        node_alert_id: None,
        event: None,
    }
}

/// One line of `POST /api/v1/alerts` (NDJSON): an alert a node raised with its own live set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodeAlert {
    /// The protocol version ([`crate::protocol`]); absent from nodes that predate it: 1.
    #[serde(default)]
    pub version: crate::protocol::Version,
    /// `NODE:INCARNATION:N`, assigned and persisted on the node before the first send; the
    /// studio stores each id once however often it is delivered.
    pub id: String,
    /// The node that raised it (the id's NODE).
    pub node: String,
    /// Where the node sent the event: its event batch and place in it, so the studio links
    /// the alert to the stored event when that batch is (or was) stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_in: Option<BatchPlace>,
    /// Alerts of this rule the node's rate limit held back since its previous alert of it.
    #[serde(default)]
    pub suppressed: u64,
    /// The alert in Falco's shape (`id` 0, `event_id` empty, `event` the whole event).
    pub alert: Alert,
}

/// An event's place in a node's event batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct BatchPlace {
    /// `X-Rulestudio-Batch` of the batch.
    pub batch: i64,
    /// 0-based line of the event in it.
    pub index: i64,
}

/// Response of `POST /api/v1/alerts`, sent after the commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodeAlertsResponse {
    /// Alerts stored now.
    pub stored: u64,
    /// Alerts stored before (same id): acknowledged, not stored or notified again.
    pub duplicate: u64,
}

/// The triage states of an alert, in the order a team usually moves through them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    #[default]
    New,
    Acknowledged,
    /// The match is benign: the alert's event is labelled benign for the alert's rule.
    FalsePositive,
    Resolved,
}

impl TriageState {
    pub const ALL: [TriageState; 4] = [
        TriageState::New,
        TriageState::Acknowledged,
        TriageState::FalsePositive,
        TriageState::Resolved,
    ];

    /// The spelling in JSON, query strings and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageState::New => "new",
            TriageState::Acknowledged => "acknowledged",
            TriageState::FalsePositive => "false_positive",
            TriageState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<TriageState> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An alert's triage: its state and who set it, when, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Triage {
    pub state: TriageState,
    /// Absent while the alert is untriaged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Nanoseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `POST /api/v1/alerts/{id}/triage`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TriageRequest {
    pub state: TriageState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `GET /api/v1/alerts/summary` groups by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    Rule,
    Priority,
    /// The node (the alert's `hostname`, the event's `evt.hostname`).
    Node,
    /// The triage state.
    State,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [
        GroupBy::Rule,
        GroupBy::Priority,
        GroupBy::Node,
        GroupBy::State,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Rule => "rule",
            GroupBy::Priority => "priority",
            GroupBy::Node => "node",
            GroupBy::State => "state",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// `GET /api/v1/alerts/summary`: alerts in `[since, until)` counted per time bucket and per
/// group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AlertSummary {
    /// Nanoseconds since the Unix epoch: the window is `[since, until)`.
    pub since: i64,
    pub until: i64,
    /// The width of each bucket, nanoseconds.
    pub bucket: i64,
    /// Every bucket of the window, oldest first, empty ones included.
    pub buckets: Vec<SummaryBucket>,
    pub group_by: GroupBy,
    /// The largest groups, largest first (ties by key).
    pub groups: Vec<GroupCount>,
    /// Alerts in groups left out of `groups` (past its bound).
    pub other: u64,
    /// Alerts in the window.
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SummaryBucket {
    /// The bucket's start, nanoseconds since the Unix epoch.
    pub start: i64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct GroupCount {
    /// The rule, priority, node or state (`""`: an alert whose event had no hostname).
    pub key: String,
    pub count: u64,
}

/// `GET /api/v1/alerts`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    /// Alerts matching the filters (all pages).
    pub total: u64,
    pub next_cursor: Option<i64>,
}

/// `GET /api/v1/alerts/counts`: alerts per rule since a time, rules without alerts left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AlertCounts {
    /// The start of the window, nanoseconds since the Unix epoch.
    pub since: i64,
    /// By rule name.
    pub rules: Vec<RuleCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RuleCount {
    pub rule: String,
    pub count: u64,
}
