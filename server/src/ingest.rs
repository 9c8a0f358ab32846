//! `POST /api/v1/events` bodies → validated, evaluated events → the event store → one
//! transaction with their alerts → the preview cache.
//!
//! A batch is atomic: every event is decoded and evaluated before anything is written, so one
//! bad line refuses the whole batch, and the store appends a batch in one log record.
//!
//! A batch with a (node, batch) pair is stored at most once. The pair is claimed in SQLite
//! (committed, with the store's next sequence number) before the events are appended, and the
//! claim is confirmed in the transaction of the batch's alerts. Appends happen one batch at a
//! time (under the cache's write lock), so a claim still pending at start (a crash cut the
//! batch) tells exactly whether the append happened: the store has events from the claimed
//! sequence number on, or it does not; [`resolve_pending`] keeps the claim (a retry is a
//! duplicate) or drops it (a retry stores the batch). What such a crash can lose is the alerts
//! of the cut batch, never its events twice.
//!
//! Decoding and evaluation are the CPU work: a big body is cut at a line boundary into halves
//! decoded on two threads, each into one reused event (no allocation per field), with the
//! cache's columns filled on the way. The client's line is stored as it is.

use crate::cache::chunk::{Builder, Chunk};
use crate::error::{AppError, Result};
use crate::event_stream;
use crate::live::Snapshot;
use bytes::Bytes;
use rulestudio_api::alerts::Alert;
use rulestudio_engine::event::{self, Event, EventError, Value as FieldValue};
use rulestudio_engine::fields::{self, FieldId};
use rulestudio_engine::rule::Matching;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Sqlite, Transaction};
use std::sync::OnceLock;

/// One event of a batch: its time and where its JSON text is (for the live tail). Its
/// `evt.hostname` is read from the batch's cache chunks, which hold each text once.
pub struct EventRow {
    pub time: i64,
    json: Json,
}

/// An event's stored text: the client's own line when it needed no change (saves copying or
/// re-serialising every event), otherwise the fields serialised again.
enum Json {
    /// A byte range of the body.
    Line(std::ops::Range<usize>),
    Rewritten(Box<str>),
}

/// One row of a prepared batch with all its stored columns.
pub struct RowView<'p> {
    pub time: i64,
    /// The event's own `evt.hostname`, if it has one.
    pub hostname: Option<&'p str>,
    pub json: &'p str,
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
    /// The request body, which rows' lines are ranges of.
    body: String,
    pub rows: Vec<EventRow>,
    pub alerts: Vec<PendingAlert>,
    /// The rows by column for the cache, in row order, built here (off the writer's lock) and
    /// given their ids once stored.
    pub chunks: Vec<Chunk>,
    /// The decoded events, in row order, for the event store.
    pub events: Vec<Event>,
}

/// Columns per alert row; rows per INSERT statement keeps under SQLite's bound-parameter limit.
const ALERT_COLUMNS: usize = 6;
const ALERTS_PER_INSERT: usize = 512;
/// Bodies at least this big are decoded on two threads.
const PARALLEL_BYTES: usize = 256 << 10;

/// What the events of a batch are judged with.
#[derive(Clone, Copy)]
pub struct Judge<'a> {
    /// `None` for events their node judged already (`X-Rulestudio-Evaluated`): stored only.
    pub live: Option<&'a Snapshot>,
    pub matching: Matching,
    /// The sending node (`X-Rulestudio-Node`): the `evt.hostname` of its events that do not
    /// name their host, as Falco's is the host it runs on. Events are stored by the store's
    /// node, so this is what still tells which node an event came from.
    pub node: Option<&'a str>,
}

/// Decodes an NDJSON body, or a JSON array when the body starts with `[`, and evaluates every
/// event. Errors name the line (NDJSON) or the element (array), 1-based.
pub fn prepare(body: Bytes, now: i64, judge: Judge<'_>) -> Result<Prepared> {
    // A body received whole is not copied here (its bytes become the string's).
    let body = String::from_utf8(Vec::from(body)).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = newlines(&e.as_bytes()[..valid]) + 1;
        AppError::InvalidEvent(format!("line {line}: not valid UTF-8"))
    })?;
    let text = body.as_str();
    if text.trim_start().starts_with('[') {
        let mut out = prepare_array(text, now, judge)?;
        out.body = body;
        return Ok(out);
    }
    let halves = match text.len() >= PARALLEL_BYTES {
        true => text[text.len() / 2..]
            .find('\n')
            .map(|i| text.split_at(text.len() / 2 + i + 1)),
        false => None,
    };
    let parts = match halves {
        None => vec![prepare_lines(text, text, 0, now, judge)],
        Some((first, second)) => std::thread::scope(|s| {
            let other =
                s.spawn(|| prepare_lines(text, second, newlines(first.as_bytes()), now, judge));
            let mine = prepare_lines(text, first, 0, now, judge);
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
    out.body = body;
    Ok(out)
}

fn newlines(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b == b'\n').count()
}

/// The lines of `text`, a part of `body`, where `lines_before` lines precede it.
fn prepare_lines(
    body: &str,
    text: &str,
    lines_before: usize,
    now: i64,
    judge: Judge<'_>,
) -> Result<Prepared> {
    let mut part = Part::new(judge);
    let mut ev = Event::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fail =
            |p: String| AppError::InvalidEvent(format!("line {}: {p}", lines_before + i + 1));
        match ev.decode_json(line).ok().and(stored_time(&ev)) {
            Some(time) => {
                let line = line.trim();
                let start = line.as_ptr() as usize - body.as_ptr() as usize;
                part.add(&ev, time, Json::Line(start..start + line.len()))
            }
            None => {
                // Not the common case (no `evt.time`, or a problem): the exact decoding, which
                // also words the error.
                let v: Value = serde_json::from_str(line).map_err(|e| {
                    fail(match event::json_error(line, &e) {
                        EventError::Json(e) => format!("not valid JSON: {e}"),
                        named => named.to_string(),
                    })
                })?;
                let one = decode(v, Some(line), now).map_err(fail)?;
                part.add(&one.event, one.time, Json::Rewritten(one.json.into()));
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
        part.add(&one.event, one.time, Json::Rewritten(one.json.into()));
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
}

fn hot() -> &'static Hot {
    static HOT: OnceLock<Hot> = OnceLock::new();
    HOT.get_or_init(|| Hot {
        time: field("evt.time"),
        hostname: field("evt.hostname"),
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
}

impl<'a> Part<'a> {
    fn new(judge: Judge<'a>) -> Part<'a> {
        Part {
            judge,
            out: Prepared::default(),
            hits: Vec::new(),
            building: Builder::new(),
        }
    }

    fn add(&mut self, ev: &Event, time: i64, json: Json) {
        // The batch keeps each event (the decoder reuses `ev`): one copy, named by its node.
        let mut owned = ev.clone();
        if let Some(node) = self.judge.node
            && owned.get(hot().hostname, None).is_none()
        {
            owned.set(
                hot().hostname,
                None,
                FieldValue::Str(node.to_string().into()),
            );
        }
        let ev = &owned;
        let row = self.out.rows.len();
        if let Some(live) = self.judge.live {
            self.hits.clear();
            live.loaded
                .ruleset
                .eval(ev, self.judge.matching, &mut self.hits);
            for &r in &self.hits {
                let rule = &live.loaded.ruleset.rules()[r];
                let host = match ev.get(hot().hostname, None) {
                    Some(FieldValue::Str(h)) => &**h,
                    _ => "",
                };
                self.out.alerts.push(PendingAlert {
                    row,
                    time,
                    alert: rulestudio_api::alerts::build(rule, ev, time, host, live.version),
                });
            }
        }
        self.out.rows.push(EventRow { time, json });
        if self.building.is_full() {
            let full = std::mem::take(&mut self.building);
            self.out.chunks.push(full.finish_unplaced());
        }
        self.building.push_event(ev, time);
        self.out.events.push(owned);
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

    /// Every row with its stored columns, in order: the hot texts are read from the chunks
    /// (row `i` of the batch is the next row of the chunks, in order).
    pub fn views(&self) -> impl Iterator<Item = RowView<'_>> {
        let hot = hot();
        let body = self.body.as_str();
        let cells = self
            .chunks
            .iter()
            .flat_map(|c| (0..c.len()).map(move |i| (c, i)));
        self.rows.iter().zip(cells).map(move |(r, (c, i))| RowView {
            time: r.time,
            hostname: c.text(i, hot.hostname),
            json: match &r.json {
                Json::Line(range) => &body[range.clone()],
                Json::Rewritten(text) => text,
            },
        })
    }

    fn absorb(&mut self, other: Prepared) {
        let offset = self.rows.len();
        self.rows.extend(other.rows);
        self.alerts.extend(other.alerts.into_iter().map(|mut a| {
            a.row += offset;
            a
        }));
        self.chunks.extend(other.chunks);
        self.events.extend(other.events);
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
}

/// Appends a prepared batch to the event store, then stores its alerts (and the legacy event
/// rows) in one transaction, then publishes it to the event tail and adds it to the cache.
pub async fn store(
    state: &crate::state::AppState,
    node: Option<&str>,
    batch: Option<i64>,
    mut prepared: Prepared,
) -> Result<Stored> {
    let _writing = state.cache.write().await;
    let claim = match (node, batch) {
        (Some(node), Some(batch)) => match claim(state, node, batch, prepared.len()).await? {
            Claimed::Fresh => Some((node, batch)),
            Claimed::Seen(accepted) => {
                return Ok(Stored {
                    accepted,
                    duplicate: true,
                    alerts: Vec::new(),
                });
            }
        },
        _ => None,
    };
    let events = std::mem::take(&mut prepared.events);
    let store = state.store.clone();
    let now = crate::time::now_ns();
    let appended = tokio::task::spawn_blocking(move || store.append(&events, now))
        .await
        .map_err(anyhow::Error::from)?;
    if appended.is_err()
        && let Some((node, batch)) = claim
    {
        // Nothing was appended: the retry may store the batch.
        sqlx::query("DELETE FROM ingest_batches WHERE node = ? AND batch = ?")
            .bind(node)
            .bind(batch)
            .execute(&state.db)
            .await?;
    }
    let seqs = appended.map_err(refused)?;
    let ids: Vec<i64> = seqs.map(|s| s as i64).collect();
    let mut tx = state.db.begin().await?;
    let alerts = std::mem::take(&mut prepared.alerts);
    let alerts = insert_alerts(&mut tx, &state.store, alerts, &ids).await?;
    if let Some((node, batch)) = claim {
        sqlx::query("UPDATE ingest_batches SET pending_seq = NULL WHERE node = ? AND batch = ?")
            .bind(node)
            .bind(batch)
            .execute(&mut *tx)
            .await?;
        crate::node_alerts::link_awaiting(&mut tx, &state.store, node, batch, &ids).await?;
    }
    tx.commit().await?;
    event_stream::publish(&state.events, &state.store, prepared.views().zip(&ids));
    state.cache.append(prepared.chunks, &ids);
    state.commits.notify_one();
    Ok(Stored {
        accepted: ids.len() as u64,
        duplicate: false,
        alerts,
    })
}

/// Whether a (node, batch) pair was new.
enum Claimed {
    Fresh,
    /// Seen before: the events it acknowledged.
    Seen(u64),
}

/// Claims (node, batch), committed before the batch is appended (see the module's note).
async fn claim(
    state: &crate::state::AppState,
    node: &str,
    batch: i64,
    events: usize,
) -> Result<Claimed> {
    let fresh = sqlx::query(
        "INSERT INTO ingest_batches (node, batch, accepted, received_at, pending_seq, first_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO NOTHING",
    )
    .bind(node)
    .bind(batch)
    .bind(events as i64)
    .bind(crate::time::now_ns())
    .bind(state.store.next_seq() as i64)
    .execute(&state.db)
    .await?
    .rows_affected()
        == 1;
    if fresh {
        return Ok(Claimed::Fresh);
    }
    let accepted: i64 =
        sqlx::query_scalar("SELECT accepted FROM ingest_batches WHERE node = ? AND batch = ?")
            .bind(node)
            .bind(batch)
            .fetch_one(&state.db)
            .await?;
    Ok(Claimed::Seen(accepted as u64))
}

/// Settles the claims a crash left pending (see the module's note): a claim whose batch is in
/// the store is kept, one whose append never happened is dropped so that a retry stores it.
pub async fn resolve_pending(
    db: &sqlx::SqlitePool,
    store: &rulestudio_store::Store,
) -> anyhow::Result<()> {
    let next = store.next_seq() as i64;
    let pending: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT node, batch, pending_seq FROM ingest_batches WHERE pending_seq IS NOT NULL",
    )
    .fetch_all(db)
    .await?;
    for (node, batch, seq) in pending {
        let appended = seq < next;
        if appended {
            sqlx::query("UPDATE ingest_batches SET pending_seq = NULL WHERE node = ? AND batch = ?")
        } else {
            sqlx::query("DELETE FROM ingest_batches WHERE node = ? AND batch = ?")
        }
        .bind(&node)
        .bind(batch)
        .execute(db)
        .await?;
        tracing::warn!(%node, batch, appended,
            "an ingest batch was cut by a crash: its events are {}",
            if appended { "stored (its alerts may be missing); a retry is a duplicate" }
            else { "not stored; a retry stores them" });
    }
    Ok(())
}

/// An append the store refused or failed, as answered.
fn refused(e: rulestudio_store::AppendError) -> AppError {
    use rulestudio_store::AppendError as E;
    match e {
        E::BelowFreeFloor { .. } => AppError::StorageUnavailable(format!(
            "the event store {e} (--min-free-disk-mb); nothing of the batch was stored"
        )),
        E::EventTooWide { index, values } => AppError::InvalidEvent(format!(
            "event {} of the batch has {values} values; the event store keeps at most {} per event; nothing of the batch was stored",
            index + 1,
            rulestudio_store::schema::MAX_COLUMNS
        )),
        other => {
            AppError::Internal(anyhow::Error::from(other).context("appending to the event store"))
        }
    }
}

/// Gives the alerts their events' ids (`event_id` holds the store's sequence number, the body
/// the whole id), stores them and returns them with their own ids (ids of one INSERT are
/// consecutive: the table is only written inside this transaction, and AUTOINCREMENT never
/// reuses ids).
async fn insert_alerts(
    tx: &mut Transaction<'_, Sqlite>,
    store: &rulestudio_store::Store,
    pending: Vec<PendingAlert>,
    seqs: &[i64],
) -> Result<Vec<Alert>> {
    let mut out = Vec::with_capacity(pending.len());
    for chunk in pending.chunks(ALERTS_PER_INSERT) {
        let sql = insert_sql(&ALERTS_INSERT, chunk.len());
        let mut q = sqlx::query(AssertSqlSafe(sql));
        let mut alerts = Vec::with_capacity(chunk.len());
        for p in chunk {
            let mut alert = p.alert.clone();
            let seq = seqs[p.row];
            alert.event_id = store.id(seq as u64).to_string();
            // The stored body carries id 0; listings overwrite it with the row id.
            let body = serde_json::to_string(&alert).map_err(anyhow::Error::from)?;
            q = q
                .bind(seq)
                .bind(p.time)
                .bind(alert.rule.clone())
                .bind(alert.priority.as_str())
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
            engine_changes: Vec::new(),
        };
        let judge = Judge {
            live: Some(&live),
            matching: Matching::All,
            node: None,
        };
        prepare(Bytes::copy_from_slice(body), now, judge)
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
        assert!(err(b"{}\n\n{\"proc.name\":\"\xff\"}").starts_with("line 3: not valid UTF-8"));
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

    /// Each row's text, host and event are its own, in both halves of a big body and whether its
    /// line is kept as sent or rewritten (no `evt.time`).
    #[test]
    fn rows_keep_their_own_text_host_and_event() {
        let line = |i: usize| match i % 7 {
            0 => format!(r#"{{"proc.name":"p{i}","fd.name":"/f/{i}"}}"#),
            _ => format!(
                r#"{{"evt.time":{i},"evt.type":"openat","proc.name":"p{}","container.id":"c{i}","evt.hostname":"h{}"}}"#,
                i % 3,
                i % 2
            ),
        };
        let n = PARALLEL_BYTES / 80 + 100;
        let body: String = (0..n).map(|i| line(i) + "\n").collect();
        let p = prepared(body.as_bytes(), 99).unwrap();
        assert!(p.chunks.len() >= 2, "the body was decoded in two halves");
        let rows: Vec<RowView> = p.views().collect();
        assert_eq!(rows.len(), n);
        for (i, r) in rows.iter().enumerate() {
            if i % 7 == 0 {
                assert_eq!(r.time, 99);
                let v: Value = serde_json::from_str(r.json).unwrap();
                assert_eq!(v["proc.name"], format!("p{i}"), "{}", r.json);
                assert_eq!(v["fd.name"], format!("/f/{i}"), "{}", r.json);
                assert_eq!(r.hostname, None);
            } else {
                assert_eq!(r.json, line(i));
                assert_eq!(r.time, i as i64);
                assert_eq!(r.hostname, Some(format!("h{}", i % 2).as_str()));
            }
            // The event the store gets is the one its text decodes to.
            assert!(
                p.events[i] == Event::from_json_str(r.json).unwrap(),
                "{}",
                r.json
            );
        }
        assert_eq!(p.events.len(), n);
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
        let rows: Vec<RowView> = p.views().collect();
        assert_eq!((rows[0].time, rows[1].time), (42, 5));
        assert_eq!(rows[0].json, r#"{"evt.time":42,"evt.type":"open"}"#);
        assert_eq!(rows[1].json, r#"{"evt.time": 5}"#);
    }
}
