//! The audit trail: one row per state change, written in the transaction of the change so that
//! a change and its record commit together. The table refuses UPDATE and DELETE (triggers in
//! `migrations/0002_review.sql`).

use crate::error::Result;
use crate::time::now_ns;
use serde_json::Value;

/// One state change, by `actor`.
pub struct Entry<'a> {
    pub actor: &'a str,
    /// `noun.verb`: `user.create`, `proposal.review`, `live.rollback`…
    pub action: &'static str,
    /// `kind:id`: `user:alice`, `proposal:3`…
    pub target: String,
    /// A JSON object.
    pub details: Value,
}

pub async fn record(db: impl sqlx::SqliteExecutor<'_>, e: Entry<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (time, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(now_ns())
    .bind(e.actor)
    .bind(e.action)
    .bind(&e.target)
    .bind(e.details.to_string())
    .execute(db)
    .await?;
    Ok(())
}
