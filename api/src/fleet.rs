//! Fleet mode's names and messages on NATS JetStream (decision 0025), shared by the studio and
//! the nodes: the live set's key-value bucket and object store, and each node's own subjects.
//!
//! A node's name is carried in its subjects, where `.`, `*`, `>` and `%` would change the
//! subject's meaning: [`subject_token`] escapes them (`%2E`…), [`node_of_heartbeat`] undoes it.
//! The studio takes a node's identity from the subject, never from the payload.

use crate::live::RulesFile;
use crate::preview::{Bucket, Sample};
use crate::protocol::Version;
use serde::{Deserialize, Serialize};

#[cfg(feature = "nats")]
pub mod connect;

/// The key-value bucket the studio puts the live set's pointer in, and nodes watch.
pub const LIVE_BUCKET: &str = "rulestudio-live";
/// The one key of [`LIVE_BUCKET`]: the current version's [`LivePointer`].
pub const LIVE_KEY: &str = "current";
/// The object store holding each version's `LiveSet` JSON: objects are chunked, so a live set
/// of any size passes a server's `max_payload` (1 MB by default).
pub const LIVE_OBJECTS: &str = "rulestudio-live-sets";
/// The largest live set a node reads from [`LIVE_OBJECTS`]; a bigger object is refused whole.
pub const MAX_LIVE_SET_BYTES: u64 = 64 << 20;

/// What [`LIVE_KEY`] holds: which object is the current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LivePointer {
    /// The protocol version ([`crate::protocol`]).
    #[serde(default)]
    pub format: Version,
    pub version: i64,
    /// The name of the object in [`LIVE_OBJECTS`].
    pub object: String,
    /// The object's size in bytes.
    pub size: u64,
}

/// The object name of live-set version `version`.
pub fn live_object(version: i64) -> String {
    format!("live-set-{version}")
}

/// The version whose object `name` is, or `None` for another object.
pub fn live_object_version(name: &str) -> Option<i64> {
    name.strip_prefix("live-set-")?.parse().ok()
}

/// Heartbeats of every node, for the studio's subscription.
pub const HEARTBEATS: &str = "rulestudio.v1.node.*.heartbeat";

/// The subject a node publishes its heartbeats on (`rulestudio.v1.node.NODE.heartbeat`).
pub fn heartbeat_subject(node: &str) -> String {
    format!("rulestudio.v1.node.{}.heartbeat", subject_token(node))
}

/// The node a heartbeat subject names, or `None` for any other subject.
pub fn node_of_heartbeat(subject: &str) -> Option<String> {
    node_of(subject, ".heartbeat")
}

/// The JetStream stream of the nodes' alerts: file storage, bounded, refusing new alerts when
/// full (a node keeps what it cannot publish spooled, and counts what its spool drops).
pub const ALERTS_STREAM: &str = "rulestudio-alerts";

/// Bytes the alerts stream holds at most.
pub const ALERTS_STREAM_MAX_BYTES: i64 = 1 << 30;

/// Alerts of every node, the subjects of [`ALERTS_STREAM`].
pub const ALERTS: &str = "rulestudio.v1.node.*.alerts";

/// The subject a node publishes its alerts on (`rulestudio.v1.node.NODE.alerts`): NDJSON of
/// `NodeAlert`s, stored by the studio once per id.
pub fn alerts_subject(node: &str) -> String {
    format!("rulestudio.v1.node.{}.alerts", subject_token(node))
}

/// The node an alerts subject names, or `None` for any other subject.
pub fn node_of_alerts(subject: &str) -> Option<String> {
    node_of(subject, ".alerts")
}

/// The node `rulestudio.v1.node.NODE<suffix>` names.
fn node_of(subject: &str, suffix: &str) -> Option<String> {
    let token = subject
        .strip_prefix("rulestudio.v1.node.")?
        .strip_suffix(suffix)?;
    if token.is_empty() || token.contains('.') {
        return None;
    }
    unescape(token)
}

/// The subject a node answers preview requests on (`rulestudio.v1.node.NODE.preview`), one
/// reply each.
pub fn preview_subject(node: &str) -> String {
    format!("rulestudio.v1.node.{}.preview", subject_token(node))
}

/// The subject a node answers event look-ups on (`rulestudio.v1.node.NODE.event`), one reply
/// each: the event page of an event that stays on its node.
pub fn event_subject(node: &str) -> String {
    format!("rulestudio.v1.node.{}.event", subject_token(node))
}

/// The studio asks a node for one of its events by id (`NODE:INCARNATION:SEQ`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodeEventRequest {
    /// The protocol version ([`crate::protocol`]).
    #[serde(default)]
    pub format: Version,
    pub id: String,
}

/// A node's answer to a [`NodeEventRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum NodeEventReply {
    Found(NodeEvent),
    /// Not in the node's store (retention removed it, or another incarnation's).
    Gone,
    Refused(NodeRefusal),
}

/// One event of a node's store, as the interchange format writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodeEvent {
    /// The protocol version ([`crate::protocol`]).
    #[serde(default)]
    pub format: Version,
    pub id: String,
    /// `evt.time`, nanoseconds since the Unix epoch.
    pub time: i64,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A preview request from the studio to one node: the draft live set (the live files with the
/// draft last), which of its rules to judge, a time window and how long the node may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodePreviewRequest {
    /// The protocol version ([`crate::protocol`]).
    #[serde(default)]
    pub format: Version,
    pub files: Vec<RulesFile>,
    /// Names of the rules of `files` to judge.
    pub rules: Vec<String>,
    /// `since <= evt.time < until`, nanoseconds since the Unix epoch.
    pub since: i64,
    pub until: i64,
    /// Histogram bucket width in nanoseconds; buckets start at multiples of it since the epoch
    /// (wall-clock boundaries), so the studio adds them bucket-wise across nodes.
    pub bucket_ns: i64,
    /// The newest matches to send per rule, with their fields (the node caps it).
    pub samples: usize,
    /// How long the node may take from receiving the request, in milliseconds.
    pub deadline_ms: u64,
}

/// A node's answer: what it found in its own store, or why it did not look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum NodePreviewReply {
    Found(NodePreview),
    Refused(NodeRefusal),
}

/// Partial results over one node's store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodePreview {
    /// The protocol version ([`crate::protocol`]).
    #[serde(default)]
    pub format: Version,
    /// Events of the window the node looked at.
    pub scanned: u64,
    /// False: the node stopped at its deadline, and the counts are of what it judged by then.
    pub complete: bool,
    pub rules: Vec<NodeRulePreview>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NodeRulePreview {
    pub name: String,
    pub matched: u64,
    /// Non-empty buckets only, in time order.
    pub histogram: Vec<Bucket>,
    /// Newest first.
    pub samples: Vec<Sample>,
}

/// Why a node did not run a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NodeRefusal {
    #[error("the node runs as many previews as it allows at once")]
    Busy,
    /// The request's protocol version is not one the node speaks.
    #[error("{}", crate::protocol::Unsupported(*format))]
    Format { format: u32 },
    #[error("{message}")]
    Invalid { message: String },
}

/// Which nodes a fleet result covers: `answered`, `missing` (asked, no answer by the deadline,
/// or refused), `offline` (no heartbeat within three of its periods: not asked); `incomplete`
/// lists answered nodes that stopped at the deadline, so their counts are partial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Nodes {
    pub answered: Vec<String>,
    pub missing: Vec<String>,
    pub offline: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// `node` as one subject token: `.`, `*`, `>`, `%` and whitespace escaped as `%XX`.
pub fn subject_token(node: &str) -> String {
    let mut out = String::with_capacity(node.len());
    for c in node.chars() {
        match c {
            '.' | '*' | '>' | '%' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_ascii_whitespace() => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut rest = token;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 1..i + 3)?;
        let byte = u8::from_str_radix(hex, 16).ok()?;
        // Only what `subject_token` escapes; anything else is not a name it made.
        if !(matches!(byte, b'.' | b'*' | b'>' | b'%') || byte.is_ascii_whitespace()) {
            return None;
        }
        out.push(byte as char);
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_round_trip_through_their_subject() {
        for node in ["web-1", "ip-10-0-1-2.ec2.internal", "a*b>c%d", "x y"] {
            let subject = heartbeat_subject(node);
            assert_eq!(subject.split('.').count(), 5, "{subject}");
            assert_eq!(node_of_heartbeat(&subject).as_deref(), Some(node));
            let subject = alerts_subject(node);
            assert_eq!(subject.split('.').count(), 5, "{subject}");
            assert_eq!(node_of_alerts(&subject).as_deref(), Some(node));
            assert_eq!(node_of_heartbeat(&subject), None, "{subject}");
        }
    }

    #[test]
    fn live_objects_name_their_version() {
        assert_eq!(live_object_version(&live_object(42)), Some(42));
        assert_eq!(live_object_version("live-set-x"), None);
        assert_eq!(live_object_version("other"), None);
    }

    #[test]
    fn other_subjects_name_no_node() {
        for subject in [
            "rulestudio.v1.node..heartbeat",
            "rulestudio.v1.node.a.b.heartbeat",
            "rulestudio.v1.node.a.query",
            "rulestudio.v1.node.a%41.heartbeat",
            "rulestudio.v1.node.a%4.heartbeat",
        ] {
            assert_eq!(node_of_heartbeat(subject), None, "{subject}");
        }
    }
}
