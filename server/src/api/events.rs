//! Events: ingest (`POST /api/v1/events`), listing with a Falco condition, the live tail
//! (SSE), one event and the live rules it matches, labels.

use super::{Endpoint, calls, fails, typed};
use crate::alerting;
use crate::auth::{Access, Author, Ingester, Viewer};
use crate::condition;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, Result};
use crate::event_stream::{self, Frame};
use crate::ingest;
use crate::limits;
use crate::preview::deadline::CHECK_EVERY;
use crate::preview::{self, Deadline};
use crate::state::AppState;
use crate::stored;
use crate::time::{self, now_ns};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::on;
use futures::Stream;
use futures::StreamExt;
use rulestudio_api::action::Action;
use rulestudio_api::collector::IngestResponse;
use rulestudio_api::events::{
    EventMatches, EventPage, Label, LabelList, LabelRequest, RuleMatch, StoredEvent,
};
use rulestudio_api::query::{EventStreamQuery, EventsQuery, LabelsQuery};
use rulestudio_engine::eval::Filter;
use rulestudio_engine::event::Event;
use rulestudio_engine::rule::Matching;
use rulestudio_store::{EventId, Row, ScanError, ScanRequest};
use std::ops::ControlFlow;
use std::sync::atomic::Ordering::Relaxed;

const VIEW: Access = Viewer::ACCESS;
const AUTHOR: Access = Author::ACCESS;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::IngestEvents>(),
        handler: |m| on(m, ingest),
        access: Ingester::ACCESS,
        summary: "Ingest a batch (NDJSON or JSON array); headers X-Rulestudio-Node and X-Rulestudio-Batch make retries idempotent; a node that judged the events itself sends X-Rulestudio-Evaluated (they are stored, not evaluated again)",
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
        call: typed::<calls::ListEvents>(),
        handler: |m| on(m, list),
        access: VIEW,
        summary: "Search the event store, newest first, down to the oldest stored event: filter (Falco condition), since, until, limit, cursor (the `next_cursor` of the previous page, an event id)",
        ok: 200,
        errors: &[
            fails::QUERY,
            fails::FILTER,
            fails::BUDGET,
            (
                410,
                "`cursor` points into events retention removed, or into another event store (`gone`): start a new search",
            ),
        ],
    },
    Endpoint {
        call: typed::<calls::StreamEvents>(),
        handler: |m| on(m, stream),
        access: VIEW,
        summary: "Server-Sent Events: `event` events, each a newly stored event matching the optional `filter` (Falco condition), as in the listing, with `stands_for`: a burst of 100 is sent whole, beyond it at most 25 a second, each standing for itself and the matching events skipped since the previous one; a reader that falls behind gets a `lagged` event whose data is how many events it missed; ends when the user is deleted or loses the role",
        ok: 200,
        errors: &[fails::QUERY, fails::FILTER, fails::STREAMS],
    },
    Endpoint {
        call: typed::<calls::GetEvent>(),
        handler: |m| on(m, one),
        access: VIEW,
        summary: "One event (`{id}` is `NODE:INCARNATION:SEQ`) with all its fields, from the event store or, once retention removed it there, from the copy kept with its labels (a kept copy that no longer reads as an object has empty `fields` and `unreadable` saying why)",
        ok: 200,
        errors: &[
            fails::EVENT_ID,
            (404, "No such event (or retention removed it)"),
        ],
    },
    Endpoint {
        call: typed::<calls::GetEventMatches>(),
        handler: |m| on(m, matches),
        access: VIEW,
        summary: "The rules of the current live set that match the event (`{id}` as for one event), judged by the live set's compiled rules as ingest judges a new event: every matching enabled rule in load order with its priority and action, and `reported` for those ingest reports under the server's `rule_matching`",
        ok: 200,
        errors: &[
            fails::EVENT_ID,
            (404, "No such event (or retention removed it)"),
            (
                422,
                "The event's kept copy no longer reads as an event (`message` says why): it cannot be judged",
            ),
        ],
    },
    Endpoint {
        call: typed::<calls::LabelEvent>(),
        handler: |m| on(m, label),
        access: AUTHOR,
        summary: "Label an event benign, malicious or clear, for one rule or all; a labelled event is copied whole into the database, so the label and the event outlive retention",
        ok: 200,
        errors: &[
            fails::EVENT_ID,
            fails::BODY,
            (404, "No such event (or retention removed it)"),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::ListLabels>(),
        handler: |m| on(m, labels),
        access: VIEW,
        summary: "The labels of the events listed in `events` (comma-separated `NODE:INCARNATION:SEQ` ids, at most 1000): for one rule or (rule null) all",
        ok: 200,
        errors: &[fails::QUERY],
    },
];

const MAX_LIMIT: usize = 1_000;
/// The header of a batch whose node evaluated its events (decision 0020).
pub const EVALUATED: &str = "x-rulestudio-evaluated";
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
    // A node that judged its events with its own live set says so; they are stored only.
    let evaluated = header(&headers, EVALUATED)?.is_some();
    let live = (!evaluated).then(|| state.live.current());
    let matching = state.config.rule_matching.into();
    let sender = node.map(str::to_string);
    // Decoding and evaluation are CPU work: keep them off the executor's threads.
    let prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare(
            body,
            now_ns(),
            ingest::Judge {
                live: live.as_deref(),
                matching,
                node: sender.as_deref(),
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

async fn list(
    State(state): State<AppState>,
    _: Viewer,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<EventPage>> {
    Deadline::run(&state, |deadline| list_within(&state, q, deadline)).await
}

/// A search: the query read, for [`search`].
pub struct Search {
    pub filter: Option<Filter>,
    pub req: ScanRequest,
}

/// Reads a search's `filter`, `since`, `until` and `cursor`: a cursor of another node or
/// incarnation, or one that retention went past, is `gone`.
pub fn search_of(
    state: &AppState,
    filter: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
    cursor: Option<&str>,
) -> Result<Search> {
    let typed = match filter.filter(|f| !f.trim().is_empty()) {
        Some(cond) => Some(condition::compile_typed(
            cond,
            Some(&state.live.current().loaded),
        )?),
        None => None,
    };
    // Segments and rows of types the filter cannot match are skipped, as a rule's are.
    let event_types = typed
        .as_ref()
        .map(|(_, types)| types)
        .filter(|types| !types.is_all())
        .map(|types| types.names().iter().map(|t| t.to_string()).collect());
    let filter = typed.map(|(filter, _)| filter);
    let cursor = match cursor {
        None => None,
        Some(text) => match stored::parse(&state.store, "cursor", text)? {
            stored::Named::Here(seq) => Some(state.store.id(seq)),
            stored::Named::Elsewhere(id) => {
                return Err(AppError::Gone(format!(
                    "cursor '{id}' is from another event store (node {}, incarnation {}); start a new search",
                    state.store.node(),
                    state.store.incarnation()
                )));
            }
        },
    };
    Ok(Search {
        filter,
        req: ScanRequest {
            since: time::parse_query_opt("since", since)?,
            until: time::parse_query_opt("until", until)?,
            newest_first: true,
            cursor,
            event_types,
            ..ScanRequest::default()
        },
    })
}

/// Visits the events `search` selects, newest first, until `visit` breaks or the scan reaches
/// the oldest stored event; checks `deadline`, if any, on the way. Returns the rows examined.
pub fn search(
    state: &AppState,
    search: &Search,
    deadline: Option<&Deadline>,
    mut visit: impl FnMut(&Row<'_>) -> ControlFlow<()>,
) -> Result<u64> {
    let mut late = None;
    let mut examined = 0u64;
    state
        .store
        .visit(&search.req, |row| {
            if examined.is_multiple_of(CHECK_EVERY as u64)
                && let Some(Err(e)) = deadline.map(Deadline::check)
            {
                late = Some(e);
                return ControlFlow::Break(());
            }
            examined += 1;
            if search.filter.as_ref().is_none_or(|f| f.matches(row)) {
                visit(row)
            } else {
                ControlFlow::Continue(())
            }
        })
        .map_err(scan_error)?;
    match late {
        Some(e) => Err(e),
        None => Ok(examined),
    }
}

/// A scan's error as answered: a cursor into removed data is `gone`.
pub fn scan_error(e: ScanError) -> AppError {
    match e {
        ScanError::CursorIntoRemovedData { .. } | ScanError::ForeignCursor { .. } => {
            AppError::Gone(e.to_string())
        }
        other => AppError::Internal(anyhow::Error::from(other).context("reading the event store")),
    }
}

async fn list_within(
    state: &AppState,
    q: EventsQuery,
    deadline: Deadline,
) -> Result<Json<EventPage>> {
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let s = search_of(
        state,
        q.filter.as_deref(),
        q.since.as_deref(),
        q.until.as_deref(),
        q.cursor.as_deref(),
    )?;
    let state2 = state.clone();
    let page = preview::scan::cpu(move || {
        let mut events = Vec::new();
        let mut last = None;
        let examined = search(&state2, &s, Some(&deadline), |row| {
            let id = state2.store.id(row.seq());
            events.push(stored::stored_event(
                id.to_string(),
                row.time(),
                &row.to_event(),
            ));
            last = Some(id);
            if events.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        // A full page may be followed by more; a short one reached the oldest event.
        let next_cursor = (events.len() >= limit)
            .then(|| last.map(|id| id.to_string()))
            .flatten();
        Ok::<_, AppError>(EventPage {
            events,
            next_cursor,
            scanned: examined,
        })
    })?;
    Ok(Json(page))
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

async fn stream(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    ApiQuery(q): ApiQuery<EventStreamQuery>,
) -> Result<Sse<impl Stream<Item = std::result::Result<SseEvent, std::convert::Infallible>>>> {
    // Compiled before the stream starts, so a bad filter is a 400 with diagnostics.
    let filter = event_filter(&state, q.filter.as_deref())?;
    let metrics = state.metrics.clone();
    let events = event_stream::frames(state.events.subscribe(), filter).map(move |frame| {
        Ok::<_, std::convert::Infallible>(match frame {
            Frame::Sample(s) => SseEvent::default()
                .event("event")
                .id(&s.event.id)
                .data(s.event.to_json(s.stands_for)),
            // Counted before filtering: the ring holds every stored event.
            Frame::Lagged(n) => {
                metrics.events_stream_lagged.fetch_add(n, Relaxed);
                SseEvent::default().event("lagged").data(n.to_string())
            }
        })
    });
    let events = state.streams.guard(&state.db, &caller, VIEW, events)?;
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The event `id` names, from the store or, once retention removed it there, from the copy
/// kept with its labels.
/// In fleet mode, an event of another node is asked of that node.
pub(super) async fn find(state: &AppState, id: &str) -> Result<StoredEvent> {
    let mut unanswered = None;
    match stored::parse(&state.store, "`{id}`", id)? {
        stored::Named::Here(seq) => {
            let store = state.store.clone();
            let found = preview::scan::cpu(|| stored::fetch(&store, &[seq]))?;
            if let Some((seq, time, event)) = found.into_iter().next() {
                return Ok(stored::stored_event(
                    state.store.id(seq).to_string(),
                    time,
                    &event,
                ));
            }
        }
        stored::Named::Elsewhere(named) => {
            if let Some(client) = state.fleet.client() {
                match crate::fleet::lookup::ask(&client, &named.node, id).await {
                    crate::fleet::lookup::Looked::Found(found) => {
                        let node = match found.fields.get("evt.hostname") {
                            Some(serde_json::Value::String(h)) => h.clone(),
                            _ => named.node.clone(),
                        };
                        return Ok(StoredEvent {
                            id: found.id,
                            time: found.time,
                            node: Some(node),
                            fields: found.fields,
                            unreadable: None,
                        });
                    }
                    crate::fleet::lookup::Looked::Gone => {}
                    crate::fleet::lookup::Looked::NoAnswer(why) => unanswered = Some(why),
                }
            }
        }
    }
    let copy: Option<(i64, String)> =
        sqlx::query_as("SELECT time, fields FROM labelled_events WHERE event_id = ?")
            .bind(id)
            .fetch_optional(&state.db)
            .await?;
    match copy {
        Some((time, fields)) => {
            let parsed: std::result::Result<serde_json::Map<String, serde_json::Value>, _> =
                serde_json::from_str(&fields);
            let (fields, unreadable) = match parsed {
                Ok(map) => (map, None),
                Err(e) => (
                    Default::default(),
                    Some(format!(
                        "the kept copy of event {id} is not a JSON object: {e}"
                    )),
                ),
            };
            let node = match fields.get("evt.hostname") {
                Some(serde_json::Value::String(h)) => Some(h.clone()),
                _ => None,
            };
            Ok(StoredEvent {
                id: id.to_string(),
                time,
                node,
                fields,
                unreadable,
            })
        }
        None => Err(match unanswered {
            Some(why) => AppError::NotFound(format!(
                "event {id} stays on its node, which could not show it: {why}"
            )),
            None => no_event(id),
        }),
    }
}

async fn one(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<StoredEvent>> {
    Ok(Json(find(&state, &id).await?))
}

/// Judges the event with the compiled live set: every rule that matches it, and which of them
/// ingest reports under `rule_matching`, as it would had the event just arrived.
async fn matches(
    State(state): State<AppState>,
    _: Viewer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EventMatches>> {
    let found = find(&state, &id).await?;
    if let Some(why) = found.unreadable {
        return Err(AppError::Unprocessable(why));
    }
    let event = Event::from_map(&found.fields)
        .map_err(|e| AppError::Unprocessable(format!("event {id} cannot be judged: {e}")))?;
    let live = state.live.current();
    let rule_matching = state.config.rule_matching;
    let (mut all, mut reported) = (Vec::new(), Vec::new());
    live.loaded.ruleset.eval(&event, Matching::All, &mut all);
    live.loaded
        .ruleset
        .eval(&event, rule_matching.into(), &mut reported);
    let rules = live.loaded.ruleset.rules();
    let matches = all
        .into_iter()
        .map(|r| RuleMatch {
            rule: rules[r].name.clone(),
            priority: rules[r].priority.as_str().to_string(),
            action: Action::of_rule(&rules[r]),
            reported: reported.contains(&r),
        })
        .collect();
    Ok(Json(EventMatches {
        live_version: live.version,
        rule_matching,
        matches,
    }))
}

fn no_event(id: &str) -> AppError {
    AppError::NotFound(format!(
        "event {id} does not exist (or retention removed it)"
    ))
}

async fn label(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<LabelRequest>,
) -> Result<Json<Label>> {
    let event = find(&state, &id).await?;
    if let Some(rule) = &req.rule {
        limits::LABEL_RULE.check(rule)?;
    }
    if let Some(note) = &req.note {
        limits::LABEL_NOTE.check(note)?;
    }
    let rule = req.rule.clone().unwrap_or_default();
    let mut tx = state.db.begin().await?;
    match req.label.as_str() {
        "benign" | "malicious" => {
            sqlx::query(
                "INSERT INTO event_labels (event_id, rule, label, note, author, created_at) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (event_id, rule) DO UPDATE SET label = excluded.label, note = excluded.note,
                 author = excluded.author, created_at = excluded.created_at",
            )
            .bind(&event.id)
            .bind(&rule)
            .bind(&req.label)
            .bind(&req.note)
            .bind(&caller.username)
            .bind(now_ns())
            .execute(&mut *tx)
            .await?;
            // The whole event, so that the label outlives its retention in the store.
            let fields = serde_json::to_string(&event.fields).map_err(anyhow::Error::from)?;
            sqlx::query(
                "INSERT INTO labelled_events (event_id, time, fields) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(&event.id)
            .bind(event.time)
            .bind(fields)
            .execute(&mut *tx)
            .await?;
        }
        "clear" => {
            sqlx::query("DELETE FROM event_labels WHERE event_id = ? AND rule = ?")
                .bind(&event.id)
                .bind(&rule)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM labelled_events WHERE event_id = ?1
                 AND NOT EXISTS (SELECT 1 FROM event_labels WHERE event_id = ?1)",
            )
            .bind(&event.id)
            .execute(&mut *tx)
            .await?;
        }
        other => {
            return Err(AppError::BadRequest(format!(
                "label `{other}` is not one of benign, malicious, clear"
            )));
        }
    }
    tx.commit().await?;
    Ok(Json(Label {
        event_id: event.id,
        label: req.label,
        rule: req.rule,
        note: req.note,
    }))
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
            s.parse::<EventId>()
                .map(|id| id.to_string())
                .map_err(|e| AppError::BadRequest(format!("`events`: {e}")))
        })
        .collect::<Result<Vec<String>>>()?;
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
        "SELECT event_id, rule, label, note FROM event_labels WHERE event_id IN ({}) ORDER BY event_id, rule",
        vec!["?"; ids.len()].join(",")
    );
    let mut query =
        sqlx::query_as::<_, (String, String, String, Option<String>)>(sqlx::AssertSqlSafe(sql));
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
