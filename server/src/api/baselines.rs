//! Baselines: known-good periods (`/api/v1/baselines`); preview counts matches inside one as
//! false positives.

use super::{Endpoint, calls, fails, typed};
use crate::auth::{Access, Author, Viewer};
use crate::error::{ApiJson, ApiPath, AppError, Result};
use crate::state::AppState;
use crate::time::{self, now_ns};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::on;
use rulestudio_api::events::{Baseline, BaselineList, CreateBaseline};

const VIEW: Access = Viewer::ACCESS;
const AUTHOR: Access = Author::ACCESS;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::AddBaseline>(),
        handler: |m| on(m, create),
        access: AUTHOR,
        summary: "Mark a known-good period {since, until, note}",
        ok: 201,
        errors: &[fails::BODY, fails::TOO_LARGE],
    },
    Endpoint {
        call: typed::<calls::ListBaselines>(),
        handler: |m| on(m, list),
        access: VIEW,
        summary: "List baselines",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        call: typed::<calls::DeleteBaseline>(),
        handler: |m| on(m, remove),
        access: AUTHOR,
        summary: "Delete a baseline",
        ok: 204,
        errors: &[fails::ID, (404, "No such baseline")],
    },
];

async fn create(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiJson(req): ApiJson<CreateBaseline>,
) -> Result<(StatusCode, Json<Baseline>)> {
    crate::limits::BASELINE_NOTE.check(&req.note)?;
    let since = time::parse("since", &req.since)?;
    let until = time::parse("until", &req.until)?;
    if since >= until {
        return Err(AppError::BadRequest(format!(
            "`since` ({since}) must be before `until` ({until})"
        )));
    }
    let created_at = now_ns();
    let id = sqlx::query(
        "INSERT INTO baselines (since, until, note, author, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(since)
    .bind(until)
    .bind(&req.note)
    .bind(&caller.username)
    .bind(created_at)
    .execute(&state.db)
    .await?
    .last_insert_rowid();
    Ok((
        StatusCode::CREATED,
        Json(Baseline {
            id,
            since,
            until,
            note: req.note,
            author: caller.username,
            created_at,
        }),
    ))
}

async fn list(State(state): State<AppState>, _: Viewer) -> Result<Json<BaselineList>> {
    let rows: Vec<(i64, i64, i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, since, until, note, author, created_at FROM baselines ORDER BY since",
    )
    .fetch_all(&state.db)
    .await?;
    let baselines = rows
        .into_iter()
        .map(|(id, since, until, note, author, created_at)| Baseline {
            id,
            since,
            until,
            note,
            author,
            created_at,
        })
        .collect();
    Ok(Json(BaselineList { baselines }))
}

async fn remove(
    State(state): State<AppState>,
    _: Author,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode> {
    let n = sqlx::query("DELETE FROM baselines WHERE id = ?")
        .bind(id)
        .execute(&state.db)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound(format!("baseline {id} does not exist")));
    }
    Ok(StatusCode::NO_CONTENT)
}
