//! `POST /api/v1/events` bodies → validated, evaluated events → one transaction with their
//! alerts → the preview cache.
//!
//! A batch is atomic: every event is decoded and evaluated before anything is written, so one
//! bad line refuses the whole batch; the (node, batch) row is written in the same transaction
//! as the events, so a retried batch is acknowledged without being stored twice.
//!
//! Decoding and evaluation are the CPU work: a big body is cut at a line boundary into halves
//! decoded on two threads, each into one reused event (no allocation per field), with the
//! cache's columns filled on the way. The client's line is stored as it is.

use crate::alerting;
use crate::cache::chunk::{Builder, Chunk};
use crate::error::{AppError, Result};
use crate::live::Snapshot;
use crate::raw_insert::{Param, RawInsert};
use rulestudio_api::alerts::Alert;
use rulestudio_engine::event::{Event, FieldSource, Value as FieldValue};
use rulestudio_engine::fields::{self, FieldId};
use rulestudio_engine::rule::Matching;
use rustc_hash::FxBuildHasher;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Sqlite, Transaction};
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

/// One event of a batch as it is stored: its time, its hot columns and its JSON text.
pub struct EventRow {
    pub time: i64,
    hostname: Option<Arc<str>>,
    /// Only names of the event table: an unknown type is NULL, like a missing one, so that
    /// preview's SQL filter (`evt_type IN (…) OR evt_type IS NULL`) reads every event a rule
    /// without a known type may match.
    evt_type: Option<Arc<str>>,
    proc_name: Option<Arc<str>>,
    fd_name: Option<Arc<str>>,
    container_id: Option<Arc<str>>,
    /// The client's own line when it needed no change (saves re-serialising every event),
    /// otherwise the fields serialised again.
    pub json: Arc<str>,
}

impl EventRow {
    /// The event's own `evt.hostname`, if it has one.
    pub fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }
}

/// An alert raised by an event of the batch (`row`), complete but for the ids.
pub struct PendingAlert {
    pub row: usize,
    pub time: i64,
    pub alert: Alert,
}

/// A decoded and evaluated batch, ready to store.
#[derive(Default)]
pub struct Prepared {
    pub rows: Vec<EventRow>,
    pub alerts: Vec<PendingAlert>,
    /// The rows by column for the cache, in row order, built here (off the writer's lock) and
    /// given their ids once stored.
    pub chunks: Vec<Chunk>,
}

/// Columns per event row, and rows per INSERT: a statement's fixed cost spread over enough rows,
/// its preparation (per batch) still short.
const EVENT_COLUMNS: usize = 7;
const ROWS_PER_INSERT: usize = 128;
/// Columns per alert row; rows per INSERT statement keeps under SQLite's bound-parameter limit.
const ALERT_COLUMNS: usize = 6;
const ALERTS_PER_INSERT: usize = 512;
/// Bodies at least this big are decoded on two threads.
const PARALLEL_BYTES: usize = 256 << 10;

/// What the events of a batch are judged with.
#[derive(Clone, Copy)]
pub struct Judge<'a> {
    pub live: &'a Snapshot,
    pub matching: Matching,
}

/// Decodes an NDJSON body, or a JSON array when the body starts with `[`, and evaluates every
/// event. Errors name the line (NDJSON) or the element (array), 1-based.
pub fn prepare(body: &[u8], now: i64, judge: Judge<'_>) -> Result<Prepared> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        AppError::InvalidEvent(format!("line {line}: not valid UTF-8"))
    })?;
    if text.trim_start().starts_with('[') {
        return prepare_array(text, now, judge);
    }
    let halves = match text.len() >= PARALLEL_BYTES {
        true => text[text.len() / 2..]
            .find('\n')
            .map(|i| text.split_at(text.len() / 2 + i + 1)),
        false => None,
    };
    let parts = match halves {
        None => vec![prepare_lines(text, 0, now, judge)],
        Some((first, second)) => std::thread::scope(|s| {
            let other = s.spawn(|| prepare_lines(second, newlines(first), now, judge));
            let mine = prepare_lines(first, 0, now, judge);
            let theirs = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            vec![mine, theirs]
        }),
    };
    let mut out = Prepared::default();
    for part in parts {
        // The first half's error comes first: it names the earlier line.
        out.absorb(part?);
    }
    Ok(out)
}

fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

fn prepare_lines(text: &str, lines_before: usize, now: i64, judge: Judge<'_>) -> Result<Prepared> {
    let mut part = Part::new(judge);
    let mut ev = Event::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fail =
            |p: String| AppError::InvalidEvent(format!("line {}: {p}", lines_before + i + 1));
        match ev.decode_json(line).ok().and(stored_time(&ev)) {
            Some(time) => part.add(&ev, time, line.trim().into()),
            None => {
                // Not the common case (no `evt.time`, or a problem): the exact decoding, which
                // also words the error.
                let v: Value =
                    serde_json::from_str(line).map_err(|e| fail(format!("not valid JSON: {e}")))?;
                let one = decode(v, Some(line), now).map_err(fail)?;
                part.add(&one.event, one.time, one.json.into());
            }
        }
    }
    Ok(part.done())
}

fn prepare_array(text: &str, now: i64, judge: Judge<'_>) -> Result<Prepared> {
    let items: Vec<Value> = serde_json::from_str(text)
        .map_err(|e| AppError::InvalidEvent(format!("line {}: {e}", e.line())))?;
    let mut part = Part::new(judge);
    for (i, v) in items.into_iter().enumerate() {
        let one = decode(v, None, now)
            .map_err(|p| AppError::InvalidEvent(format!("element {}: {p}", i + 1)))?;
        part.add(&one.event, one.time, one.json.into());
    }
    Ok(part.done())
}

fn field(name: &str) -> FieldId {
    fields::get(name).unwrap_or_else(|| panic!("{name} in the field catalogue"))
}

/// The fields the hot columns hold, looked up once.
struct Hot {
    time: FieldId,
    hostname: FieldId,
    proc_name: FieldId,
    fd_name: FieldId,
    container_id: FieldId,
    /// Every event type name, shared by the rows that have it.
    type_names: Vec<Arc<str>>,
}

fn hot() -> &'static Hot {
    static HOT: OnceLock<Hot> = OnceLock::new();
    HOT.get_or_init(|| Hot {
        time: field("evt.time"),
        hostname: field("evt.hostname"),
        proc_name: field("proc.name"),
        fd_name: field("fd.name"),
        container_id: field("container.id"),
        type_names: fields::evt_types()
            .iter()
            .map(|(n, _)| Arc::from(*n))
            .collect(),
    })
}

/// The time of a decoded event when `evt.time` is as the store requires it (nanoseconds, a
/// non-negative integer): the fast path's condition; anything else takes the exact path.
fn stored_time(ev: &Event) -> Option<i64> {
    match ev.get(hot().time, None) {
        Some(FieldValue::Int(t)) if *t >= 0 => Some(*t),
        _ => None,
    }
}

/// The events of one part of a body, as they are added.
struct Part<'a> {
    judge: Judge<'a>,
    out: Prepared,
    hits: Vec<usize>,
    building: Builder,
    /// Hot column texts, shared by the rows that have them (most repeat).
    texts: HashSet<Arc<str>, FxBuildHasher>,
}

impl<'a> Part<'a> {
    fn new(judge: Judge<'a>) -> Part<'a> {
        Part {
            judge,
            out: Prepared::default(),
            hits: Vec::new(),
            building: Builder::new(),
            texts: HashSet::default(),
        }
    }

    fn text_of(&mut self, ev: &Event, field: FieldId) -> Option<Arc<str>> {
        let Some(FieldValue::Str(s)) = ev.get(field, None) else {
            return None;
        };
        if let Some(t) = self.texts.get(&**s) {
            return Some(t.clone());
        }
        let t: Arc<str> = Arc::from(&**s);
        self.texts.insert(t.clone());
        Some(t)
    }

    fn add(&mut self, ev: &Event, time: i64, json: Arc<str>) {
        let hot = hot();
        let row = self.out.rows.len();
        let hostname = self.text_of(ev, hot.hostname);
        self.hits.clear();
        self.judge
            .live
            .loaded
            .ruleset
            .eval(ev, self.judge.matching, &mut self.hits);
        for &r in &self.hits {
            let rule = &self.judge.live.loaded.ruleset.rules()[r];
            let host = hostname.as_deref().unwrap_or_default();
            self.out.alerts.push(PendingAlert {
                row,
                time,
                alert: alerting::build(rule, ev, time, host, self.judge.live.version),
            });
        }
        let row = EventRow {
            time,
            hostname,
            evt_type: ev
                .evt_type_index()
                .map(|i| hot.type_names[i as usize].clone()),
            proc_name: self.text_of(ev, hot.proc_name),
            fd_name: self.text_of(ev, hot.fd_name),
            container_id: self.text_of(ev, hot.container_id),
            json,
        };
        self.out.rows.push(row);
        if self.building.is_full() {
            let full = std::mem::take(&mut self.building);
            self.out.chunks.push(full.finish_unplaced());
        }
        self.building.push_event(ev, time);
    }

    fn done(mut self) -> Prepared {
        if !self.building.is_empty() {
            self.out.chunks.push(self.building.finish_unplaced());
        }
        self.out
    }
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn absorb(&mut self, other: Prepared) {
        let offset = self.rows.len();
        self.rows.extend(other.rows);
        self.alerts.extend(other.alerts.into_iter().map(|mut a| {
            a.row += offset;
            a
        }));
        self.chunks.extend(other.chunks);
    }
}

/// One event decoded the exact way (`serde_json`), for what the fast path declines.
struct Decoded {
    time: i64,
    event: Event,
    json: String,
}

fn decode(v: Value, line: Option<&str>, now: i64) -> std::result::Result<Decoded, String> {
    let Value::Object(mut fields) = v else {
        return Err("an event must be a JSON object keyed by Falco field names".into());
    };
    let mut line = line;
    let time = match fields.get("evt.time") {
        None | Some(Value::Null) => {
            fields.insert("evt.time".into(), Value::from(now));
            line = None;
            now
        }
        Some(t) => t.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
            format!("key 'evt.time': expected nanoseconds since the epoch (a non-negative integer), found {t}")
        })?,
    };
    let event = Event::from_map(&fields).map_err(|e| e.to_string())?;
    let json = match line {
        Some(l) => l.trim().to_string(),
        None => serialise(&fields)?,
    };
    Ok(Decoded { time, event, json })
}

fn serialise(fields: &Map<String, Value>) -> std::result::Result<String, String> {
    serde_json::to_string(fields).map_err(|e| format!("cannot store the event: {e}"))
}

/// The outcome of storing a batch.
pub struct Stored {
    pub accepted: u64,
    pub duplicate: bool,
    pub alerts: Vec<Alert>,
    /// The stored rows and their ids, in batch order (both empty for a duplicate).
    pub rows: Vec<EventRow>,
    pub ids: Vec<i64>,
}

/// Stores a prepared batch with its alerts in one transaction, then adds it to the cache.
pub async fn store(
    state: &crate::state::AppState,
    node: Option<&str>,
    batch: Option<i64>,
    prepared: Prepared,
) -> Result<Stored> {
    let _writing = state.cache.write().await;
    let mut tx = state.db.begin().await?;
    if let (Some(node), Some(batch)) = (node, batch) {
        let fresh = sqlx::query(
            "INSERT INTO ingest_batches (node, batch, accepted, received_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(node)
        .bind(batch)
        .bind(prepared.len() as i64)
        .bind(crate::time::now_ns())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            let accepted: i64 = sqlx::query_scalar(
                "SELECT accepted FROM ingest_batches WHERE node = ? AND batch = ?",
            )
            .bind(node)
            .bind(batch)
            .fetch_one(&mut *tx)
            .await?;
            return Ok(Stored {
                accepted: accepted as u64,
                duplicate: true,
                alerts: Vec::new(),
                rows: Vec::new(),
                ids: Vec::new(),
            });
        }
    }
    let ids = insert_events(&mut tx, node, &prepared.rows).await?;
    let alerts = insert_alerts(&mut tx, prepared.alerts, &ids).await?;
    tx.commit().await?;
    state.cache.append(prepared.chunks, &ids);
    state.commits.notify_one();
    Ok(Stored {
        accepted: ids.len() as u64,
        duplicate: false,
        alerts,
        rows: prepared.rows,
        ids,
    })
}

/// Inserts the rows in multi-row statements on the transaction's own handle, binding the
/// texts in place (see [`crate::raw_insert`]), and returns their ids. Rowids of one INSERT are
/// consecutive: the table is only written inside this transaction, and AUTOINCREMENT never
/// reuses ids.
async fn insert_events(
    tx: &mut Transaction<'_, Sqlite>,
    node: Option<&str>,
    rows: &[EventRow],
) -> Result<Vec<i64>> {
    let mut handle = tx.lock_handle().await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut params = Vec::with_capacity(ROWS_PER_INSERT * EVENT_COLUMNS);
    let (full, rest) = rows.split_at(rows.len() - rows.len() % ROWS_PER_INSERT);
    // The full-size statement serves every group but the last, shorter one.
    for group in [full, rest] {
        if group.is_empty() {
            continue;
        }
        let size = group.len().min(ROWS_PER_INSERT);
        let sql = insert_sql(&EVENTS_INSERT, size);
        let mut insert = RawInsert::prepare(&mut handle, &sql).map_err(anyhow::Error::from)?;
        for chunk in group.chunks(size) {
            params.clear();
            for r in chunk {
                params.extend([
                    Param::Int(r.time),
                    Param::Text(node.or(r.hostname.as_deref())),
                    Param::Text(r.evt_type.as_deref()),
                    Param::Text(r.proc_name.as_deref()),
                    Param::Text(r.fd_name.as_deref()),
                    Param::Text(r.container_id.as_deref()),
                    Param::Text(Some(&r.json)),
                ]);
            }
            let last = insert.insert(&params).map_err(anyhow::Error::from)?;
            ids.extend(last - chunk.len() as i64 + 1..=last);
        }
    }
    Ok(ids)
}

/// Gives the alerts their event ids, stores them and returns them with their own ids (ids of
/// one INSERT are consecutive: the table is only written inside this transaction, and
/// AUTOINCREMENT never reuses ids).
async fn insert_alerts(
    tx: &mut Transaction<'_, Sqlite>,
    pending: Vec<PendingAlert>,
    event_ids: &[i64],
) -> Result<Vec<Alert>> {
    let mut out = Vec::with_capacity(pending.len());
    for chunk in pending.chunks(ALERTS_PER_INSERT) {
        let sql = insert_sql(&ALERTS_INSERT, chunk.len());
        let mut q = sqlx::query(AssertSqlSafe(sql));
        let mut alerts = Vec::with_capacity(chunk.len());
        for p in chunk {
            let mut alert = p.alert.clone();
            alert.event_id = event_ids[p.row];
            // The stored body carries id 0; listings overwrite it with the row id.
            let body = serde_json::to_string(&alert).map_err(anyhow::Error::from)?;
            q = q
                .bind(alert.event_id)
                .bind(p.time)
                .bind(alert.rule.clone())
                .bind(alert.priority.clone())
                .bind(alert.live_version)
                .bind(body);
            alerts.push(alert);
        }
        let last = q.execute(&mut **tx).await?.last_insert_rowid();
        let first = last - alerts.len() as i64 + 1;
        for (alert, id) in alerts.iter_mut().zip(first..) {
            alert.id = id;
        }
        out.extend(alerts);
    }
    Ok(out)
}

/// A multi-row INSERT: the statement head, the placeholders of one row, the full-size text.
struct Insert {
    head: &'static str,
    columns: usize,
    rows: usize,
    full: OnceLock<String>,
}

/// `OR FAIL`: a failing row ends the statement without undoing its earlier rows, so SQLite
/// keeps no statement journal; the whole transaction is rolled back on any error anyway.
static EVENTS_INSERT: Insert = Insert {
    head: "INSERT OR FAIL INTO events (time, node, evt_type, proc_name, fd_name, container_id, fields) VALUES ",
    columns: EVENT_COLUMNS,
    rows: ROWS_PER_INSERT,
    full: OnceLock::new(),
};

static ALERTS_INSERT: Insert = Insert {
    head: "INSERT INTO alerts (event_id, time, rule, priority, live_version, body) VALUES ",
    columns: ALERT_COLUMNS,
    rows: ALERTS_PER_INSERT,
    full: OnceLock::new(),
};

fn insert_sql(insert: &'static Insert, rows: usize) -> std::borrow::Cow<'static, str> {
    let build = |rows: usize| {
        let row = format!("({})", vec!["?"; insert.columns].join(","));
        format!("{}{}", insert.head, vec![row; rows].join(","))
    };
    if rows == insert.rows {
        insert.full.get_or_init(|| build(rows)).as_str().into()
    } else {
        build(rows).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `body` prepared against an empty live set, at time `now`.
    fn prepared(body: &[u8], now: i64) -> Result<Prepared> {
        let live = Snapshot {
            version: 1,
            files: Vec::new(),
            promoted_at: 0,
            promoted_by: String::new(),
            proposal: None,
            loaded: rulestudio_engine::loader::load(&[], &Default::default()),
        };
        let judge = Judge {
            live: &live,
            matching: Matching::All,
        };
        prepare(body, now, judge)
    }

    fn err(body: &[u8]) -> String {
        match prepared(body, 1) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {}", String::from_utf8_lossy(body)),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = err(b"{\"evt.type\":\"open\"}\n\n{\"proc.pid\": \"x\"}\n");
        assert!(e.starts_with("line 3: key 'proc.pid'"), "{e}");
        assert!(err(b"{}\n[1]\n").starts_with("line 2: an event must be a JSON object"));
        assert!(err(b"{}\n{\"evt.time\": -5}").starts_with("line 2: key 'evt.time'"));
        assert!(err(b"{}\n{\"evt.time\": \"5\"}").starts_with("line 2: key 'evt.time'"));
        assert!(err(b"{}\n{oops\n").starts_with("line 2: not valid JSON"));
    }

    #[test]
    fn errors_name_the_line_in_either_half_of_a_big_body() {
        let good = "{\"evt.time\": 5, \"proc.name\": \"bash\"}\n";
        let lines = PARALLEL_BYTES / good.len() + 10;
        for bad_at in [3, lines - 3] {
            let mut body = good.repeat(lines);
            let at = body.match_indices('\n').nth(bad_at - 2).unwrap().0 + 1;
            body.insert_str(at, "{\"proc.pid\": \"x\"}\n");
            let e = err(body.as_bytes());
            assert!(
                e.starts_with(&format!("line {bad_at}: key 'proc.pid'")),
                "{e}"
            );
        }
        let ok = prepared(good.repeat(lines).as_bytes(), 1).unwrap();
        assert_eq!(ok.len(), lines);
        assert_eq!(ok.chunks.iter().map(Chunk::len).sum::<usize>(), lines);
    }

    #[test]
    fn array_elements_are_named() {
        let e = err(b"[{}, 7]");
        assert!(
            e.starts_with("element 2: an event must be a JSON object"),
            "{e}"
        );
    }

    #[test]
    fn missing_time_is_set_by_the_server() {
        let p = prepared(b"{\"evt.type\":\"open\"}\n{\"evt.time\": 5}", 42).unwrap();
        assert_eq!((p.rows[0].time, p.rows[1].time), (42, 5));
        assert_eq!(&*p.rows[0].json, r#"{"evt.time":42,"evt.type":"open"}"#);
        assert_eq!(&*p.rows[1].json, r#"{"evt.time": 5}"#);
    }

    #[test]
    fn unknown_event_types_are_stored_without_a_type() {
        let p = prepared(
            b"{\"evt.time\":1,\"evt.type\":\"openat\"}\n{\"evt.time\":2,\"evt.type\":\"nonsense\"}",
            0,
        )
        .unwrap();
        assert_eq!(p.rows[0].evt_type.as_deref(), Some("openat"));
        assert_eq!(p.rows[1].evt_type, None);
    }
}
