//! Events: ingest (`POST /api/v1/events`), listing with a Falco condition, the live tail
//! (SSE), one event, labels.

use super::{Endpoint, fails};
use crate::alerting;
use crate::auth::{Access, Author, Ingester, Viewer};
use crate::condition;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Result};
use crate::ingest;
use crate::limits;
use crate::preview::Deadline;
use crate::state::AppState;
use crate::time::{self, now_ns};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::on;
use futures::Stream;
use rulestudio_api::collector::IngestResponse;
use rulestudio_api::events::{EventPage, Label, LabelList, LabelRequest, StoredEvent};
use rulestudio_engine::eval::Filter;
use rulestudio_engine::event::Event;
use serde::Deserialize;
use std::sync::atomic::Ordering::Relaxed;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

const VIEW: Access = Viewer::ACCESS;
const AUTHOR: Access = Author::ACCESS;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "POST",
        path: "/events",
        handler: |m| on(m, ingest),
        access: Ingester::ACCESS,
        summary: "Ingest a batch (NDJSON or JSON array); headers X-Rulestudio-Node and X-Rulestudio-Batch make retries idempotent",
        ok: 200,
        errors: &[
            (
                400,
                "A line is not an event (`invalid_event`: `message` names the line, the key and the problem, such as a number outside its field's type or beyond any 64-bit number; nothing of the batch is stored), or a header is malformed",
            ),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/events",
        handler: |m| on(m, list),
        access: VIEW,
        summary: "List events, newest first: filter (Falco condition), since, until, limit, cursor",
        ok: 200,
        errors: &[fails::QUERY, fails::FILTER, fails::BUDGET],
    },
    Endpoint {
        method: "GET",
        path: "/events/stream",
        handler: |m| on(m, stream),
        access: VIEW,
        summary: "Server-Sent Events: one `event` event (a stored event, as in the listing) per newly stored event matching the optional `filter` (Falco condition); a reader that falls behind gets a `lagged` event whose data is how many events it missed; ends when the user is deleted or loses the role",
        ok: 200,
        errors: &[fails::QUERY, fails::FILTER, fails::STREAMS],
    },
    Endpoint {
        method: "GET",
        path: "/events/{id}",
        handler: |m| on(m, one),
        access: VIEW,
        summary: "One event with all its fields (a stored row that no longer reads as an object has empty `fields` and `unreadable` saying why, here and in the listing)",
        ok: 200,
        errors: &[fails::ID, (404, "No such event (or retention removed it)")],
    },
    Endpoint {
        method: "POST",
        path: "/events/{id}/label",
        handler: |m| on(m, label),
        access: AUTHOR,
        summary: "Label an event benign, malicious or clear, for one rule or all",
        ok: 200,
        errors: &[
            fails::ID,
            fails::BODY,
            (404, "No such event (or retention removed it)"),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/labels",
        handler: |m| on(m, labels),
        access: VIEW,
        summary: "The labels of the events listed in `events` (comma-separated ids, at most 1000): for one rule or (rule null) all",
        ok: 200,
        errors: &[fails::QUERY],
    },
];

/// Events examined per listing request at most; the cursor continues from there.
const SCAN_BUDGET: usize = 200_000;
const SCAN_CHUNK: i64 = 2_000;
const MAX_LIMIT: usize = 1_000;
/// Event ids per `GET /labels` request at most.
const MAX_LABEL_IDS: usize = 1_000;

/// The body limit comes from the configuration; see [`crate::app`].
pub fn body_limit(state: &AppState) -> DefaultBodyLimit {
    DefaultBodyLimit::max(state.config.max_body_bytes)
}

async fn ingest(
    State(state): State<AppState>,
    _: Ingester,
    headers: HeaderMap,
    body: std::result::Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IngestResponse>> {
    let body = body?;
    let node = header(&headers, "x-rulestudio-node")?;
    if let Some(node) = node {
        limits::NODE.check(node)?;
    }
    let batch = header(&headers, "x-rulestudio-batch")?
        .map(|b| {
            b.parse::<i64>().map_err(|_| {
                AppError::BadRequest(format!("X-Rulestudio-Batch `{b}` is not an integer"))
            })
        })
        .transpose()?;
    if batch.is_some() && node.is_none() {
        return Err(AppError::BadRequest(
            "X-Rulestudio-Batch needs X-Rulestudio-Node: batch numbers are per node".into(),
        ));
    }
    let live = state.live.current();
    let matching = state.config.rule_matching.into();
    // Decoding and evaluation are CPU work: keep them off the executor's threads.
    let prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare(
            body,
            now_ns(),
            ingest::Judge {
                live: &live,
                matching,
            },
        )
    })
    .await
    .map_err(anyhow::Error::from)?;
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            state.metrics.events_rejected.fetch_add(1, Relaxed);
            return Err(e);
        }
    };
    // Storing runs to its end in a task of its own, even if the client goes away meanwhile: a
    // commit whose events then missed the cache, the tail or the alert stream would break them.
    let node = node.map(str::to_string);
    let stored = tokio::spawn(async move {
        let stored = ingest::store(&state, node.as_deref(), batch, prepared).await?;
        if stored.duplicate {
            state.metrics.batches_duplicate.fetch_add(1, Relaxed);
        } else {
            state
                .metrics
                .events_ingested
                .fetch_add(stored.accepted, Relaxed);
        }
        alerting::publish(&state, stored.alerts);
        Ok::<_, AppError>(IngestResponse {
            accepted: stored.accepted,
            duplicate: stored.duplicate,
        })
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(Json(stored))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| AppError::BadRequest(format!("header {name} is not text")))
        })
        .transpose()
}

#[derive(Deserialize)]
struct ListQuery {
    filter: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
    cursor: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<EventPage>> {
    Deadline::run(&state, |deadline| list_within(&state, q, deadline)).await
}

async fn list_within(
    state: &AppState,
    q: ListQuery,
    deadline: Deadline,
) -> Result<Json<EventPage>> {
    let filter = event_filter(state, q.filter.as_deref())?;
    let since = time::parse_query_opt("since", q.since.as_deref())?.unwrap_or(i64::MIN);
    let until = time::parse_query_opt("until", q.until.as_deref())?.unwrap_or(i64::MAX);
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let mut cursor = q.cursor.unwrap_or(i64::MAX);
    let mut events = Vec::new();
    let mut scanned = 0usize;
    let mut exhausted = false;
    while events.len() < limit && scanned < SCAN_BUDGET {
        deadline.check()?;
        let rows: Vec<(i64, i64, Option<String>, String)> = sqlx::query_as(
            "SELECT id, time, node, fields FROM events WHERE id < ? AND time >= ? AND time < ?
             ORDER BY id DESC LIMIT ?",
        )
        .bind(cursor)
        .bind(since)
        .bind(until)
        .bind(SCAN_CHUNK)
        .fetch_all(&state.db)
        .await?;
        if rows.is_empty() {
            exhausted = true;
            break;
        }
        for (id, time, node, fields) in rows {
            scanned += 1;
            cursor = id;
            let keep = match &filter {
                None => true,
                Some(f) => Event::from_json_str(&fields).is_ok_and(|ev| f.matches(&ev)),
            };
            if keep {
                events.push(stored_event(id, time, node, &fields));
                if events.len() == limit {
                    break;
                }
            }
        }
    }
    let next_cursor = (!exhausted).then_some(cursor);
    Ok(Json(EventPage {
        events,
        next_cursor,
        scanned: scanned as u64,
    }))
}

/// A `filter=` query parameter, compiled with the live set's macros and lists; blank is none.
fn event_filter(state: &AppState, filter: Option<&str>) -> Result<Option<Filter>> {
    match filter.filter(|f| !f.trim().is_empty()) {
        Some(cond) => Ok(Some(condition::compile(
            cond,
            Some(&state.live.current().loaded),
        )?)),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
struct StreamQuery {
    filter: Option<String>,
}

async fn stream(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = std::result::Result<SseEvent, std::convert::Infallible>>>> {
    // Compiled before the stream starts, so a bad filter is a 400 with diagnostics.
    let filter = event_filter(&state, q.filter.as_deref())?;
    let metrics = state.metrics.clone();
    let events = BroadcastStream::new(state.events.subscribe()).filter_map(move |item| {
        match item {
            Ok(ev) => ev.passes(filter.as_ref()).then(|| {
                SseEvent::default()
                    .event("event")
                    .id(ev.id.to_string())
                    .data(ev.to_json())
            }),
            // Counted before filtering: the ring holds every stored event.
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                metrics.events_stream_lagged.fetch_add(n, Relaxed);
                Some(SseEvent::default().event("lagged").data(n.to_string()))
            }
        }
        .map(Ok)
    });
    let events = state.streams.guard(&state.db, &caller, VIEW, events)?;
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// A stored row as answered: a row whose text does not read (stored before ingest refused what
/// it holds, or altered since) is listed as unreadable, with why, instead of failing the page.
fn stored_event(id: i64, time: i64, node: Option<String>, fields: &str) -> StoredEvent {
    let (fields, unreadable) = match serde_json::from_str(fields) {
        Ok(fields) => (fields, None),
        Err(e) => (
            Default::default(),
            Some(format!("stored event {id} is not a JSON object: {e}")),
        ),
    };
    StoredEvent {
        id,
        time,
        node,
        fields,
        unreadable,
    }
}

async fn one(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<StoredEvent>> {
    let (time, node, fields): (i64, Option<String>, String) =
        sqlx::query_as("SELECT time, node, fields FROM events WHERE id = ?")
            .bind(id)
            .fetch_optional(&state.db)
            .await?
            .ok_or_else(|| no_event(id))?;
    Ok(Json(stored_event(id, time, node, &fields)))
}

fn no_event(id: i64) -> AppError {
    AppError::NotFound(format!(
        "event {id} does not exist (or retention removed it)"
    ))
}

async fn label(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<LabelRequest>,
) -> Result<Json<Label>> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM events WHERE id = ?")
        .bind(id)
        .fetch_optional(&state.db)
        .await?;
    exists.ok_or_else(|| no_event(id))?;
    if let Some(rule) = &req.rule {
        limits::LABEL_RULE.check(rule)?;
    }
    if let Some(note) = &req.note {
        limits::LABEL_NOTE.check(note)?;
    }
    let rule = req.rule.clone().unwrap_or_default();
    match req.label.as_str() {
        "benign" | "malicious" => {
            sqlx::query(
                "INSERT INTO labels (event_id, rule, label, note, author, created_at) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (event_id, rule) DO UPDATE SET label = excluded.label, note = excluded.note,
                 author = excluded.author, created_at = excluded.created_at",
            )
            .bind(id)
            .bind(&rule)
            .bind(&req.label)
            .bind(&req.note)
            .bind(&caller.username)
            .bind(now_ns())
            .execute(&state.db)
            .await?;
        }
        "clear" => {
            sqlx::query("DELETE FROM labels WHERE event_id = ? AND rule = ?")
                .bind(id)
                .bind(&rule)
                .execute(&state.db)
                .await?;
        }
        other => {
            return Err(AppError::BadRequest(format!(
                "label `{other}` is not one of benign, malicious, clear"
            )));
        }
    }
    Ok(Json(Label {
        event_id: id,
        label: req.label,
        rule: req.rule,
        note: req.note,
    }))
}

#[derive(Deserialize)]
struct LabelsQuery {
    events: String,
}

async fn labels(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<LabelsQuery>,
) -> Result<Json<LabelList>> {
    let ids = q
        .events
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("`events`: `{s}` is not an event id")))
        })
        .collect::<Result<Vec<i64>>>()?;
    if ids.len() > MAX_LABEL_IDS {
        return Err(AppError::BadRequest(format!(
            "`events` lists {} ids; at most {MAX_LABEL_IDS} per request",
            ids.len()
        )));
    }
    if ids.is_empty() {
        return Ok(Json(LabelList { labels: Vec::new() }));
    }
    // Only `?` placeholders are formatted into the statement; the ids are bound.
    let sql = format!(
        "SELECT event_id, rule, label, note FROM labels WHERE event_id IN ({}) ORDER BY event_id, rule",
        vec!["?"; ids.len()].join(",")
    );
    let mut query =
        sqlx::query_as::<_, (i64, String, String, Option<String>)>(sqlx::AssertSqlSafe(sql));
    for id in &ids {
        query = query.bind(id);
    }
    let labels = query
        .fetch_all(&state.db)
        .await?
        .into_iter()
        .map(|(event_id, rule, label, note)| Label {
            event_id,
            label,
            // Stored as "" for "every rule", answered as in the request: absent.
            rule: (!rule.is_empty()).then_some(rule),
            note,
        })
        .collect();
    Ok(Json(LabelList { labels }))
}
