//! The audit trail: `/api/v1/audit` (admin). Entries are only ever appended.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339 with nanoseconds (UTC).
    pub time: String,
    /// The user who made the change.
    pub actor: String,
    /// `user.create`, `token.revoke`, `proposal.review`, `live.rollback`…
    pub action: String,
    /// What changed: `user:alice`, `token:alice/ci`, `proposal:3`, `live:7`.
    pub target: String,
    /// The change's particulars (a verdict, a role, a version…), as a JSON object.
    pub details: serde_json::Value,
}

/// `GET /api/v1/audit?actor=&action=&since=&until=&limit=&cursor=`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(default)]
    pub next_cursor: Option<i64>,
}
