//! Team review of rule changes: `/api/v1/proposals`.

use crate::diagnostic::DiagnosticJson;
use crate::preview::{RulePreview, Window};
use crate::ruletest::{TestCase, TestResult};
use serde::{Deserialize, Serialize};

/// One file of the live set as a proposal changes it: its new full content, or its removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FileChange {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete: bool,
}

impl FileChange {
    pub fn write(name: impl Into<String>, content: impl Into<String>) -> FileChange {
        FileChange {
            name: name.into(),
            content: Some(content.into()),
            delete: false,
        }
    }
}

/// `POST /api/v1/proposals` (author or higher).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewProposal {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub files: Vec<FileChange>,
    /// Rule tests the resulting live set must pass before promotion.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
    /// The stored events the evidence is computed over: the window the author previewed the
    /// change on. Absent: the newest 100,000 events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// `PUT /api/v1/proposals/{id}` (the proposal's author): a new revision. Absent fields keep
/// their current value; `files` and `tests` replace the current revision's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ReviseProposal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub files: Vec<FileChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<TestCase>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    /// Enough approvals on the current revision and no open change request.
    Approved,
    Promoted,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Approved => "approved",
            Status::Promoted => "promoted",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "open" => Status::Open,
            "approved" => Status::Approved,
            "promoted" => Status::Promoted,
            "closed" => Status::Closed,
            _ => return None,
        })
    }

    /// Open or approved: it can still be revised, reviewed and promoted.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Approved)
    }
}

/// `GET /api/v1/proposals/{id}`; the list has the same objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Proposal {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub author: String,
    pub status: Status,
    pub revision: i64,
    /// The live version the diff and the evidence are computed against.
    pub base_version: i64,
    /// The live version the promotion created.
    pub live_version: Option<i64>,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// The current revision's changes.
    pub files: Vec<FileChange>,
    pub tests: Vec<TestCase>,
    /// One entry per changed file, against the base version.
    pub diff: Vec<FileDiff>,
    pub evidence: Evidence,
    /// Approvals of the current revision (older ones no longer count).
    pub approvals: u32,
    pub required_approvals: u32,
    /// Why `promote` would refuse now (empty when it would not).
    pub blockers: Vec<String>,
    pub reviews: Vec<Review>,
    pub comments: Vec<Comment>,
    /// What became of the version the promotion created: the first rollback to a version
    /// before it, if one came later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<RolledBack>,
}

/// A rollback that undid a promoted proposal's live version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RolledBack {
    /// The live version the rollback created.
    pub live_version: i64,
    /// The version whose files it restored.
    pub to: i64,
    pub by: String,
    /// Nanoseconds since the Unix epoch.
    pub at: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FileDiff {
    pub file: String,
    pub status: FileStatus,
    /// Unified diff (`--- a/NAME`, `+++ b/NAME`, hunks with 3 lines of context).
    pub diff: String,
    /// The same hunks, line by line with their numbers: what a line comment attaches to.
    #[serde(default)]
    pub hunks: Vec<Hunk>,
}

/// One hunk of a file's diff: a run of changed lines with their context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Hunk {
    /// The `@@ -a,b +c,d @@` header.
    pub header: String,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    Context,
    Removed,
    Added,
}

/// One line of a hunk, as it is in the files (without its line break).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
    /// 1-based line number in the base file (context and removed lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<u32>,
    /// 1-based line number in the proposed file (context and added lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<u32>,
    /// The line is its file's last and has no line break after it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_newline: bool,
}

/// What the change would do, computed when the proposal is created, revised or rebased, and on
/// `POST /api/v1/proposals/{id}/evidence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Evidence {
    /// Nanoseconds since the Unix epoch.
    pub computed_at: i64,
    /// The live version the changed rules were compared with.
    pub live_version: i64,
    /// Lint of the whole resulting live set.
    pub diagnostics: Vec<DiagnosticJson>,
    /// The highest `required_engine_version` the resulting live set declares (`x.y.z`): nodes
    /// whose engine is older cannot compile it, and block the promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_engine_version: Option<String>,
    pub errors: u32,
    pub warnings: u32,
    pub tests: Vec<TestResult>,
    /// The stored events the preview covered, and how many there were.
    pub window: Window,
    pub scanned: u64,
    /// Each rule the change adds or alters (its effective definition differs from the live
    /// one), exactly as `POST /api/v1/preview` reports it for the same rules and window.
    pub rules: Vec<RulePreview>,
    /// Live rules the change deletes or disables, with what they matched on the same window.
    pub removed_rules: Vec<RemovedRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RemovedRule {
    pub name: String,
    pub live_matched: u64,
}

/// `POST /api/v1/proposals/{id}/evidence` (author or higher): recompute on the same base.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RefreshEvidence {
    #[serde(default)]
    pub window: Option<Window>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    RequestChanges,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::RequestChanges => "request_changes",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "approve" => Some(Verdict::Approve),
            "request_changes" => Some(Verdict::RequestChanges),
            _ => None,
        }
    }
}

/// `POST /api/v1/proposals/{id}/reviews` (reviewer or higher, not the author).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewReview {
    pub verdict: Verdict,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Review {
    pub id: i64,
    pub reviewer: String,
    pub verdict: Verdict,
    pub body: String,
    /// The revision reviewed.
    pub revision: i64,
    pub created_at: i64,
}

/// `POST /api/v1/proposals/{id}/comments`: on the proposal, or on a line of a file's diff.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct NewComment {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line of the file's new content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Comment {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub revision: i64,
    pub created_at: i64,
}

/// `GET /api/v1/proposals?status=`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ProposalList {
    pub proposals: Vec<Proposal>,
}

/// `POST /api/v1/proposals/{id}/promote` body (optional): why, for the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PromoteRequest {
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/proposals/{id}/promote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Promoted {
    pub live_version: i64,
}

/// What `--notify-url` receives on every proposal event. `text` is a one-line summary, so that
/// chat webhooks that show a `text` field work as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ProposalEvent {
    /// `proposal.created`, `.revised`, `.commented`, `.reviewed`, `.promoted`, `.closed`,
    /// `.rebased`.
    pub event: String,
    pub text: String,
    pub actor: String,
    /// RFC 3339 (UTC).
    pub time: String,
    pub proposal: ProposalRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ProposalRef {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub status: Status,
    pub revision: i64,
}
