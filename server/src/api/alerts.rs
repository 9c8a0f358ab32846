//! Alerts raised by the live set (`/api/v1/alerts`): listing, counts per rule and the SSE
//! stream. One alert, its triage and the summary over time are in `triage`.

use super::{Endpoint, calls, fails, triage, typed};
use crate::auth::{Access, Ingester, Viewer};
use crate::error::{ApiQuery, AppError, Result};
use crate::state::AppState;
use crate::time;
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::on;
use futures::Stream;
use rulestudio_api::alerts::{AlertCounts, AlertPage, NodeAlertsResponse, RuleCount, TriageState};
use rulestudio_api::query::{AlertCountsQuery, AlertsQuery};
use rulestudio_engine::rule::Priority;
use sqlx::AssertSqlSafe;
use std::sync::atomic::Ordering::Relaxed;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

const VIEW: Access = Viewer::ACCESS;
const MAX_LIMIT: i64 = 1_000;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::ListAlerts>(),
        handler: |m| on(m, list),
        access: VIEW,
        summary: "List alerts, newest first, each with its `triage`: rule, priority, since, state (a triage state), limit, cursor",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        call: typed::<calls::IngestAlerts>(),
        handler: |m| on(m, receive),
        access: Ingester::ACCESS,
        summary: "A node's alerts, NDJSON of `NodeAlert` (`id` NODE:INCARNATION:N given by the node, `node`, `sent_in` its event's batch and place, `alert`): each id stored once, answered after the commit; only alerts stored now are streamed, counted and forwarded",
        ok: 200,
        errors: &[
            (
                400,
                "A line is not a node alert (`message` names the line): not JSON of that shape, a node name past its bound, an id not `NODE:INCARNATION:N` of its node, or a `time` not RFC 3339",
            ),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::CountAlerts>(),
        handler: |m| on(m, counts),
        access: VIEW,
        summary: "Alerts per rule since `since` (default -24h): how often each live rule matched recently",
        ok: 200,
        errors: &[fails::QUERY],
    },
    Endpoint {
        call: typed::<calls::StreamAlerts>(),
        handler: |m| on(m, stream),
        access: VIEW,
        summary: "Server-Sent Events: one `alert` event per new alert; ends when the user is deleted or loses the role",
        ok: 200,
        errors: &[fails::STREAMS],
    },
];

async fn list(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<AlertsQuery>,
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
    let triaged = q.state.as_deref().map(triage::parse_state).transpose()?;
    let since = time::parse_query_opt("since", q.since.as_deref())?.unwrap_or(i64::MIN);
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    // Only constant text is formatted into the SQL; values are bound.
    // NULL parameters switch a filter off, so one prepared statement serves every combination.
    const WHERE: &str = "(?1 IS NULL OR a.rule = ?1) AND (?2 IS NULL OR a.priority = ?2) \
        AND a.time >= ?3 AND (?4 IS NULL OR COALESCE(t.state, 'new') = ?4)";
    let from = triage::FROM;
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {from} WHERE {WHERE}"
    )))
    .bind(&q.rule)
    .bind(priority)
    .bind(since)
    .bind(triaged.map(TriageState::as_str))
    .fetch_one(&state.db)
    .await?;
    let rows: Vec<triage::Row> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {} FROM {from} WHERE {WHERE} AND a.id < ?5 ORDER BY a.id DESC LIMIT ?6",
        triage::COLUMNS
    )))
    .bind(&q.rule)
    .bind(priority)
    .bind(since)
    .bind(triaged.map(TriageState::as_str))
    .bind(q.cursor.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(&state.db)
    .await?;
    let more = rows.len() as i64 > limit;
    let alerts = rows
        .into_iter()
        .take(limit as usize)
        .map(triage::alert)
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

async fn receive(
    State(state): State<AppState>,
    _: Ingester,
    body: std::result::Result<bytes::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<NodeAlertsResponse>> {
    let body = body?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| AppError::BadRequest(format!("the body is not UTF-8: {e}")))?;
    let alerts = crate::node_alerts::parse(text)?;
    // Stored and published in a task of its own, even if the node goes away meanwhile: an
    // alert committed but not published would never notify anyone (a retry is a duplicate).
    tokio::spawn(async move {
        let stored = crate::node_alerts::store(&state, alerts).await?;
        let response = NodeAlertsResponse {
            stored: stored.inserted.len() as u64,
            duplicate: stored.duplicate,
        };
        crate::alerting::publish(&state, stored.inserted);
        Ok(Json(response))
    })
    .await
    .map_err(anyhow::Error::from)?
}

/// The default window of `/alerts/counts`.
const COUNTS_SINCE: &str = "-24h";

async fn counts(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<AlertCountsQuery>,
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
