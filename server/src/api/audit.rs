//! `GET /api/v1/audit` (admin): the audit trail, newest first.

use super::{Endpoint, calls, fails, typed};
use crate::auth::Admin;
use crate::error::{ApiQuery, Result};
use crate::state::AppState;
use crate::time;
use axum::Json;
use axum::extract::State;
use axum::routing::on;
use rulestudio_api::audit::{AuditEntry, AuditLog};
use rulestudio_api::query::AuditQuery;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

pub const ENDPOINTS: &[Endpoint] = &[Endpoint {
    call: typed::<calls::ListAudit>(),
    handler: |m| on(m, list),
    access: Admin::ACCESS,
    summary: "Every state change of users, tokens, proposals, reviews, alert triage and the live set, newest first: actor, action (`user.delete`, or `user` for every `user.*`), since, until, limit, cursor (`next_cursor` of the previous page)",
    ok: 200,
    errors: &[fails::QUERY],
}];

async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditLog>> {
    let since = time::parse_query_opt("since", q.since.as_deref())?;
    let until = time::parse_query_opt("until", q.until.as_deref())?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    // `action` is an action, or a noun naming all of its actions (`user` for `user.*`).
    // NULL parameters switch a filter off; the id is the cursor (newest first).
    let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, time, actor, action, target, details FROM audit_log
         WHERE (?1 IS NULL OR time >= ?1) AND (?2 IS NULL OR time < ?2)
           AND (?3 IS NULL OR actor = ?3)
           AND (?4 IS NULL OR action = ?4 OR substr(action, 1, length(?4) + 1) = ?4 || '.')
           AND id < ?5
         ORDER BY id DESC LIMIT ?6",
    )
    .bind(since)
    .bind(until)
    .bind(&q.actor)
    .bind(&q.action)
    .bind(q.cursor.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(&state.db)
    .await?;
    let more = rows.len() > limit as usize;
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .take(limit as usize)
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
    let next_cursor = if more {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(AuditLog {
        entries,
        next_cursor,
    }))
}
