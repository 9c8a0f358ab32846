//! `GET /api/v1/audit` (admin): the audit trail, newest first.

use super::{Endpoint, fails};
use crate::auth::Admin;
use crate::error::{ApiQuery, Result};
use crate::state::AppState;
use crate::time;
use axum::Json;
use axum::extract::State;
use axum::routing::on;
use rulestudio_api::audit::{AuditEntry, AuditLog};
use serde::Deserialize;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

pub const ENDPOINTS: &[Endpoint] = &[Endpoint {
    method: "GET",
    path: "/audit",
    handler: |m| on(m, list),
    access: Admin::ACCESS,
    summary: "Every state change of users, tokens, proposals, reviews and the live set, newest first (?since=, ?actor=, ?limit=)",
    ok: 200,
    errors: &[fails::QUERY],
}];

#[derive(Deserialize)]
struct Query {
    since: Option<String>,
    actor: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<AuditLog>> {
    let since = time::parse_query_opt("since", q.since.as_deref())?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, time, actor, action, target, details FROM audit_log
         WHERE (?1 IS NULL OR time >= ?1) AND (?2 IS NULL OR actor = ?2)
         ORDER BY id DESC LIMIT ?3",
    )
    .bind(since)
    .bind(&q.actor)
    .bind(limit)
    .fetch_all(&state.db)
    .await?;
    let entries = rows
        .into_iter()
        .map(|(id, t, actor, action, target, details)| AuditEntry {
            id,
            time: time::rfc3339(t),
            actor,
            action,
            target,
            // Written by `audit::record` from a JSON value, so it parses.
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(AuditLog { entries }))
}
