//! The live rule set (`/api/v1/live`): current version, Falco rules file, history, rollback.

use super::{Endpoint, calls, fails, typed};
use crate::audit::{self, Entry};
use crate::auth::{Access, Admin, NodeOrViewer, Viewer};
use crate::error::{ApiJson, ApiQuery, AppError, Result};
use crate::live::{self, NewVersion};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::on;
use rulestudio_api::live::{
    LiveHistory, LiveSet, LiveVersion, LiveVersionCreated, RollbackRequest,
};
use rulestudio_api::query::LiveQuery;
use serde_json::json;
use std::collections::HashMap;

const VIEW: Access = Viewer::ACCESS;
const ADMIN: Access = Admin::ACCESS;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::GetLive>(),
        handler: |m| on(m, current),
        access: NodeOrViewer::ACCESS,
        summary: "The current live set: version, files in load order, rule_matching. With `?after=N` a long poll: answers once the version is newer than N, or after `wait` seconds (default 20, at most 60) with the current one; nodes follow the live set this way",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        call: typed::<calls::GetLiveRulesYaml>(),
        handler: |m| on(m, rules_yaml),
        access: VIEW,
        summary: "The live set as one rules file Falco can load",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        call: typed::<calls::GetLiveHistory>(),
        handler: |m| on(m, history),
        access: VIEW,
        summary: "Every live version, newest first",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        call: typed::<calls::RollbackLive>(),
        handler: |m| on(m, rollback),
        access: ADMIN,
        summary: "Create a new version equal to an old one {version, reason?} (the reason is kept in the audit trail)",
        ok: 200,
        errors: &[
            fails::BODY,
            (404, "No such live version"),
            (
                409,
                "The version is the current one: rolling back to it would change nothing",
            ),
            fails::TOO_LARGE,
        ],
    },
];

/// The longest and the default wait of a long poll on `GET /live?after=`.
const MAX_WAIT_S: u64 = 60;
const DEFAULT_WAIT_S: u64 = 20;

async fn current(
    State(state): State<AppState>,
    _: NodeOrViewer,
    ApiQuery(q): ApiQuery<LiveQuery>,
) -> Result<Json<LiveSet>> {
    let wait = q.wait.unwrap_or(DEFAULT_WAIT_S);
    if wait > MAX_WAIT_S {
        return Err(AppError::BadRequest(format!(
            "`wait` is {wait} seconds; at most {MAX_WAIT_S}"
        )));
    }
    let snapshot = match q.after {
        Some(after) => {
            state
                .live
                .newer_than(after, std::time::Duration::from_secs(wait))
                .await
        }
        None => state.live.current(),
    };
    Ok(Json(snapshot.to_api(state.config.rule_matching)))
}

async fn rules_yaml(State(state): State<AppState>, _: Viewer) -> Result<impl IntoResponse> {
    let snap = state.live.current();
    Ok((
        [(CONTENT_TYPE, "application/yaml; charset=utf-8")],
        live::rules_yaml(snap.version, &snap.files),
    ))
}

async fn history(State(state): State<AppState>, _: Viewer) -> Result<Json<LiveHistory>> {
    let rows: Vec<(i64, i64, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT version, promoted_at, promoted_by, proposal, note FROM live_versions ORDER BY version DESC",
    )
    .fetch_all(&state.db)
    .await?;
    // Each version's reason is the one the audit trail keeps with its promotion or rollback:
    // read in one pass over those entries.
    let reasons: Vec<(i64, String)> = sqlx::query_as(
        "SELECT CASE action WHEN 'live.rollback' THEN CAST(substr(target, 6) AS INTEGER)
                            ELSE json_extract(details, '$.live_version') END,
                json_extract(details, '$.reason')
         FROM audit_log
         WHERE action IN ('live.rollback', 'proposal.promote')
           AND json_extract(details, '$.reason') IS NOT NULL",
    )
    .fetch_all(&state.db)
    .await?;
    let mut reasons: HashMap<i64, String> = reasons.into_iter().collect();
    let versions = rows
        .into_iter()
        .map(
            |(version, promoted_at, promoted_by, proposal, note)| LiveVersion {
                reason: reasons.remove(&version).unwrap_or_default(),
                version,
                promoted_at,
                promoted_by,
                proposal,
                note,
            },
        )
        .collect();
    Ok(Json(LiveHistory { versions }))
}

async fn rollback(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> Result<Json<LiveVersionCreated>> {
    live::check_reason(&req.reason)?;
    if req.version == state.live.current().version {
        return Err(AppError::Conflict(format!(
            "live version {} is the current one: rolling back to it would change nothing",
            req.version
        )));
    }
    let files = live::read_files(&state.db, req.version).await?;
    if files.is_empty() {
        return Err(AppError::NotFound(format!(
            "live version {} does not exist",
            req.version
        )));
    }
    let snap = state
        .live
        .promote_with(
            &state.db,
            NewVersion {
                files,
                by: &caller.username,
                proposal: None,
                note: format!("rollback to {}", req.version),
                expected_base: None,
            },
            async |tx, version| {
                let entry = Entry {
                    actor: &caller.username,
                    action: "live.rollback",
                    target: format!("live:{version}"),
                    details: live::with_reason(json!({"to": req.version}), &req.reason),
                };
                audit::record(tx, entry).await
            },
        )
        .await?;
    Ok(Json(LiveVersionCreated {
        version: snap.version,
    }))
}
