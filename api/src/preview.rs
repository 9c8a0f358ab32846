//! What a draft rule would match on stored events: `/api/v1/preview`.

use crate::diagnostic::DiagnosticJson;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The stored events a preview looks at. Read strictly: a misspelt key is an error naming it,
/// not a window over every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged, try_from = "WindowKeys")]
pub enum Window {
    /// The newest N stored events.
    LastEvents { last_events: u64 },
    /// Events with `since <= evt.time < until`; either side open when absent.
    Range {
        #[serde(default)]
        since: Option<Timestamp>,
        #[serde(default)]
        until: Option<Timestamp>,
    },
}

/// A window as written: `last_events`, or `since` and/or `until`, and nothing else.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct WindowKeys {
    last_events: Option<u64>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl TryFrom<WindowKeys> for Window {
    type Error = &'static str;

    fn try_from(k: WindowKeys) -> Result<Window, Self::Error> {
        match k {
            WindowKeys {
                last_events: Some(last_events),
                since: None,
                until: None,
            } => Ok(Window::LastEvents { last_events }),
            WindowKeys {
                last_events: Some(_),
                ..
            } => Err("`last_events` cannot be combined with `since` or `until`"),
            WindowKeys { since, until, .. } => Ok(Window::Range { since, until }),
        }
    }
}

/// `"live"` (default): the draft loads after the live set; `"none"`: on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Base {
    #[default]
    Live,
    None,
}

/// `POST /api/v1/preview`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PreviewRequest {
    pub rules: String,
    #[serde(default)]
    pub base: Base,
    #[serde(default)]
    pub window: Option<Window>,
    #[serde(default)]
    pub samples: Option<usize>,
    #[serde(default)]
    pub group_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PreviewResponse {
    /// Events of the window examined.
    pub scanned: u64,
    pub took_ms: u64,
    pub diagnostics: Vec<DiagnosticJson>,
    pub rules: Vec<RulePreview>,
    /// In fleet mode (`--nats`): which nodes the result covers. A result without some nodes is
    /// partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<crate::fleet::Nodes>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RulePreview {
    pub name: String,
    /// What the rule does when it matches, from its tags (issue #14, #15).
    #[serde(default)]
    pub action: crate::action::Action,
    pub matched: u64,
    /// Matches labelled benign or inside a baseline, and not labelled malicious.
    pub false_positives: u64,
    /// Matches labelled malicious.
    pub true_positives: u64,
    pub unlabeled: u64,
    /// Matches of the live rule of the same name on the same window (0 when there is none).
    pub live_matched: u64,
    /// Matched by the draft and not by the live rule.
    pub added: u64,
    /// Matched by the live rule and not by the draft.
    pub removed: u64,
    /// Rules earlier in load order that fire first on some of these events under `first` matching.
    pub shadowed_by: Vec<String>,
    pub samples: Vec<Sample>,
    /// Matches over the window: equal buckets from its start (or, for a count of events, the
    /// oldest match) to [`RulePreview::histogram_until`], empty ones included.
    pub histogram: Vec<Bucket>,
    /// The end of the last bucket: the window's end (the newest match, when it has none).
    #[serde(default)]
    pub histogram_until: i64,
    /// The largest `group_by` groups, at most 50.
    pub groups: Vec<Group>,
    /// Matches in the groups beyond those listed.
    #[serde(default)]
    pub groups_other: u64,
    /// The newest matches the draft adds (not matched by the live rule of the same name).
    #[serde(default)]
    pub added_samples: Vec<Sample>,
    /// The newest matches of the live rule the draft no longer matches, rendered by the live
    /// rule's output.
    #[serde(default)]
    pub removed_samples: Vec<Sample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Sample {
    /// `NODE:INCARNATION:SEQ`.
    pub event_id: String,
    pub time: i64,
    pub output: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Bucket {
    /// Start of the bucket, nanoseconds since the Unix epoch.
    pub t: i64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Group {
    /// The `group_by` fields' values, joined with ` | ` (`<NA>` when absent).
    pub key: String,
    pub count: u64,
}

/// `POST /api/v1/preview/suggest-exception`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SuggestExceptionRequest {
    pub rules: String,
    pub rule: String,
    #[serde(default)]
    pub base: Base,
    #[serde(default)]
    pub window: Option<Window>,
    /// The fields, forms and values to write the exception on, picked among an earlier
    /// answer's `candidates`; none: the server suggests (the field, or pair of fields, that
    /// best separates the benign matches from the others).
    #[serde(default)]
    pub picks: Vec<ExceptionPick>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SuggestExceptionResponse {
    /// The `exceptions:` entry, structured.
    pub exception: ExceptionEntry,
    /// The same entry as YAML, ready to paste under the rule.
    pub yaml: String,
    /// The rules text with the exception added to the rule.
    pub rules: String,
    /// Counts before and after applying the exception, on the same window.
    pub before: Counts,
    pub after: Counts,
    /// The fields of the rule's benign matches to pick from, each value with its
    /// generalisation.
    #[serde(default)]
    pub candidates: Vec<ExceptionCandidate>,
    /// What `exception` is made of, as picks: the request's, or the server's suggestion's.
    #[serde(default)]
    pub picks: Vec<ExceptionPick>,
    /// The newest matches the exception removes (at most 20), with the rule's output.
    #[serde(default)]
    pub removed_samples: Vec<Sample>,
}

/// A Falco rule exception: `fields` compared with `comps` against each row of `values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ExceptionEntry {
    pub name: String,
    pub fields: Vec<String>,
    pub comps: Vec<String>,
    pub values: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Counts {
    pub matched: u64,
    pub false_positives: u64,
    pub true_positives: u64,
    pub unlabeled: u64,
}

/// One field of a rule's benign matches an exception can be written on (suggest-exception's
/// `candidates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ExceptionCandidate {
    pub field: String,
    /// How its values generalise, when they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<Generalisation>,
    /// Its values on benign matches, the most frequent first (at most 50).
    pub values: Vec<CandidateValue>,
}

/// A field's generalisation: a directory instead of a file, an image instead of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Generalisation {
    /// The field the generalised value is of (`container.image.repository` for
    /// `container.id`); absent: the field itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How the generalised value is compared: `startswith` (a directory) or `=`.
    pub comp: String,
    /// What it is, for people: `its directory`, `the event's container.image.repository`.
    pub text: String,
}

/// One value of a candidate field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CandidateValue {
    pub value: String,
    /// Its generalised form (the directory, the image), when the field generalises and the
    /// event has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general: Option<String>,
    /// Benign matches with this value.
    pub benign: u64,
}

/// A field picked for the exception: suggest-exception's `picks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ExceptionPick {
    /// A candidate's `field`.
    pub field: String,
    /// Written as the candidate's generalisation rather than its exact values.
    #[serde(default)]
    pub general: bool,
    /// The candidate's values (exact spelling) to cover, at most 50; the exception has one
    /// row per combination of picked values some benign match has.
    pub values: Vec<String>,
}
