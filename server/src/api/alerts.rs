//! Alerts raised by the live set (`/api/v1/alerts`): listing, counts per rule and the SSE
//! stream.

use super::{Endpoint, fails};
use crate::auth::{Access, Viewer};
use crate::error::{ApiQuery, AppError, Result};
use crate::state::AppState;
use crate::time;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use rulestudio_api::alerts::{Alert, AlertCounts, AlertPage, RuleCount};
use rulestudio_engine::rule::Priority;
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use std::sync::atomic::Ordering::Relaxed;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

const VIEW: Access = Viewer::ACCESS;
const MAX_LIMIT: i64 = 1_000;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/alerts",
        access: VIEW,
        summary: "List alerts, newest first: rule, priority, since, limit, cursor",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        method: "GET",
        path: "/alerts/counts",
        access: VIEW,
        summary: "Alerts per rule since `since` (default -24h): how often each live rule matched recently",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        method: "GET",
        path: "/alerts/stream",
        access: VIEW,
        summary: "Server-Sent Events: one `alert` event per new alert; ends when the user is deleted or loses the role",
        ok: 200,
        errors: &[fails::STREAMS],
    },
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/counts", get(counts))
        .route("/alerts/stream", get(stream))
}

#[derive(Deserialize)]
struct ListQuery {
    rule: Option<String>,
    priority: Option<String>,
    since: Option<String>,
    limit: Option<i64>,
    cursor: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<AlertPage>> {
    let priority = q
        .priority
        .as_deref()
        .map(|p| {
            Priority::parse(p).map(Priority::as_str).ok_or_else(|| {
                AppError::BadRequest(format!("priority `{p}` is not a Falco priority"))
            })
        })
        .transpose()?;
    let since = time::parse_query_opt("since", q.since.as_deref())?.unwrap_or(i64::MIN);
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    // Only constant text is formatted into the SQL; values are bound.
    // NULL parameters switch a filter off, so one prepared statement serves every combination.
    const WHERE: &str =
        "(?1 IS NULL OR rule = ?1) AND (?2 IS NULL OR priority = ?2) AND time >= ?3";
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM alerts WHERE {WHERE}"
    )))
    .bind(&q.rule)
    .bind(priority)
    .bind(since)
    .fetch_one(&state.db)
    .await?;
    let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, body FROM alerts WHERE {WHERE} AND id < ?4 ORDER BY id DESC LIMIT ?5"
    )))
    .bind(&q.rule)
    .bind(priority)
    .bind(since)
    .bind(q.cursor.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(&state.db)
    .await?;
    let more = rows.len() as i64 > limit;
    let alerts = rows
        .into_iter()
        .take(limit as usize)
        .map(|(id, body)| {
            let mut body: serde_json::Value = serde_json::from_str(&body)
                .map_err(|e| anyhow::anyhow!("stored alert {id}: {e}"))?;
            // Alerts stored before the event store name their event by its old row number,
            // which no event id resolves any more: answered as that number's text.
            if let Some(n) = body.get("event_id").and_then(|v| v.as_i64()) {
                body["event_id"] = n.to_string().into();
            }
            let mut alert: Alert = serde_json::from_value(body)
                .map_err(|e| anyhow::anyhow!("stored alert {id}: {e}"))?;
            alert.id = id;
            Ok(alert)
        })
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if more {
        alerts.last().map(|a| a.id)
    } else {
        None
    };
    Ok(Json(AlertPage {
        alerts,
        total: total as u64,
        next_cursor,
    }))
}

#[derive(Deserialize)]
struct CountsQuery {
    since: Option<String>,
}

/// The default window of `/alerts/counts`.
const COUNTS_SINCE: &str = "-24h";

async fn counts(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<CountsQuery>,
) -> Result<Json<AlertCounts>> {
    let since = time::parse_query("since", q.since.as_deref().unwrap_or(COUNTS_SINCE))?;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT rule, COUNT(*) FROM alerts WHERE time >= ? GROUP BY rule ORDER BY rule",
    )
    .bind(since)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(AlertCounts {
        since,
        rules: rows
            .into_iter()
            .map(|(rule, count)| RuleCount {
                rule,
                count: count as u64,
            })
            .collect(),
    }))
}

async fn stream(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
) -> Result<Sse<impl Stream<Item = std::result::Result<SseEvent, std::convert::Infallible>>>> {
    let metrics = state.metrics.clone();
    let events = BroadcastStream::new(state.alerts.subscribe()).map(move |item| {
        Ok(match item {
            Ok(alert) => SseEvent::default()
                .event("alert")
                .id(alert.id.to_string())
                .json_data(&*alert)
                .unwrap_or_else(|_| SseEvent::default().comment("unserialisable alert")),
            // A reader too slow for the buffer is told how many it missed; they are in the listing.
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                metrics.alerts_stream_lagged.fetch_add(n, Relaxed);
                SseEvent::default().event("lagged").data(n.to_string())
            }
        })
    });
    let events = state.streams.guard(&state.db, &caller, VIEW, events)?;
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
