//! `POST /api/v1/events` bodies → validated events → one transaction with their alerts.
//!
//! A batch is atomic: every event is decoded (and evaluated) before anything is written, so one
//! bad line refuses the whole batch; the (node, batch) row is written in the same transaction
//! as the events, so a retried batch is acknowledged without being stored twice.

use crate::alerting::{self, NewAlert};
use crate::error::{AppError, Result};
use crate::live::Snapshot;
use rulestudio_engine::event::Event;
use rulestudio_engine::rule::Matching;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Sqlite, Transaction};
use std::sync::OnceLock;

/// One decoded event of a batch.
pub struct Incoming {
    pub time: i64,
    pub fields: Map<String, Value>,
    pub event: Event,
    /// The event as stored: the client's own line when it needed no change (saves
    /// re-serialising every event), otherwise the fields serialised again.
    pub json: String,
}

/// Columns per event row; rows per INSERT statement keeps under SQLite's bound-parameter limit.
const EVENT_COLUMNS: usize = 7;
const ROWS_PER_INSERT: usize = 512;

/// Decodes an NDJSON body, or a JSON array when the body starts with `[`. Errors name the line
/// (NDJSON) or the element (array), 1-based.
pub fn parse_batch(body: &[u8], now: i64) -> Result<Vec<Incoming>> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        AppError::InvalidEvent(format!("line {line}: not valid UTF-8"))
    })?;
    if text.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| AppError::InvalidEvent(format!("line {}: {e}", e.line())))?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                decode(v, None, now)
                    .map_err(|p| AppError::InvalidEvent(format!("element {}: {p}", i + 1)))
            })
            .collect()
    } else {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let fail = |p: String| AppError::InvalidEvent(format!("line {}: {p}", i + 1));
            let v: Value =
                serde_json::from_str(line).map_err(|e| fail(format!("not valid JSON: {e}")))?;
            out.push(decode(v, Some(line), now).map_err(fail)?);
        }
        Ok(out)
    }
}

fn decode(v: Value, line: Option<&str>, now: i64) -> std::result::Result<Incoming, String> {
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
        None => {
            serde_json::to_string(&fields).map_err(|e| format!("cannot store the event: {e}"))?
        }
    };
    Ok(Incoming {
        time,
        fields,
        event,
        json,
    })
}

/// The outcome of storing a batch.
pub struct Stored {
    pub accepted: u64,
    pub duplicate: bool,
    pub alerts: Vec<rulestudio_api::alerts::Alert>,
    /// The stored id of each event, in batch order (empty for a duplicate).
    pub ids: Vec<i64>,
}

/// Evaluates `events` against `live` and stores them with their alerts in one transaction.
pub async fn store(
    db: &sqlx::SqlitePool,
    node: Option<&str>,
    batch: Option<i64>,
    events: &[Incoming],
    live: &Snapshot,
    matching: Matching,
) -> Result<Stored> {
    let matches = evaluate(events, live, matching);
    let mut tx = db.begin().await?;
    if let (Some(node), Some(batch)) = (node, batch) {
        let fresh = sqlx::query(
            "INSERT INTO ingest_batches (node, batch, accepted, received_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(node)
        .bind(batch)
        .bind(events.len() as i64)
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
                ids: Vec::new(),
            });
        }
    }
    let ids = insert_events(&mut tx, node, events).await?;
    let new_alerts: Vec<NewAlert> = matches
        .iter()
        .map(|&(ev, rule)| NewAlert {
            event_id: ids[ev],
            event: &events[ev],
            rule: &live.loaded.ruleset.rules()[rule],
        })
        .collect();
    let alerts = alerting::insert(&mut tx, live, &new_alerts).await?;
    tx.commit().await?;
    Ok(Stored {
        accepted: events.len() as u64,
        duplicate: false,
        alerts,
        ids,
    })
}

/// `(event index, rule index)` of every match, in event order then load order.
fn evaluate(events: &[Incoming], live: &Snapshot, matching: Matching) -> Vec<(usize, usize)> {
    let mut matches = Vec::new();
    let mut hits = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        hits.clear();
        live.loaded.ruleset.eval(&ev.event, matching, &mut hits);
        matches.extend(hits.iter().map(|&r| (i, r)));
    }
    matches
}

fn str_field<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

/// Inserts in multi-row statements (one prepared statement per chunk size) and returns the
/// ids. Rowids of one INSERT are consecutive: the table is only written inside this
/// transaction, and AUTOINCREMENT never reuses ids.
async fn insert_events(
    tx: &mut Transaction<'_, Sqlite>,
    node: Option<&str>,
    events: &[Incoming],
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(events.len());
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(chunk.len());
        // The statement text is built from constants only; every value is bound.
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for ev in chunk {
            let f = &ev.fields;
            q = q
                .bind(ev.time)
                .bind(node.or_else(|| str_field(f, "evt.hostname")))
                .bind(str_field(f, "evt.type"))
                .bind(str_field(f, "proc.name"))
                .bind(str_field(f, "fd.name"))
                .bind(str_field(f, "container.id"))
                .bind(ev.json.as_str());
        }
        let last = q.execute(&mut **tx).await?.last_insert_rowid();
        let first = last - chunk.len() as i64 + 1;
        ids.extend(first..=last);
    }
    Ok(ids)
}

fn insert_sql(rows: usize) -> std::borrow::Cow<'static, str> {
    static FULL: OnceLock<String> = OnceLock::new();
    let build = |rows: usize| {
        let row = format!("({})", vec!["?"; EVENT_COLUMNS].join(","));
        format!(
            "INSERT INTO events (time, node, evt_type, proc_name, fd_name, container_id, fields) VALUES {}",
            vec![row; rows].join(",")
        )
    };
    if rows == ROWS_PER_INSERT {
        FULL.get_or_init(|| build(ROWS_PER_INSERT)).as_str().into()
    } else {
        build(rows).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        match parse_batch(body.as_bytes(), 1) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {body:?}"),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = err("{\"evt.type\":\"open\"}\n\n{\"proc.pid\": \"x\"}\n");
        assert!(e.starts_with("line 3: key 'proc.pid'"), "{e}");
        assert!(err("{}\n[1]\n").starts_with("line 2: an event must be a JSON object"));
        assert!(err("{}\n{\"evt.time\": -5}").starts_with("line 2: key 'evt.time'"));
        assert!(err("{}\n{oops\n").starts_with("line 2: not valid JSON"));
        assert!(err("[{}, 7]").starts_with("element 2: an event must be a JSON object"));
    }

    #[test]
    fn missing_time_is_set_by_the_server() {
        let evs = parse_batch(b"{\"evt.type\":\"open\"}\n{\"evt.time\": 5}", 42).unwrap();
        assert_eq!((evs[0].time, evs[1].time), (42, 5));
        assert_eq!(evs[0].fields["evt.time"], 42);
        assert_eq!(evs[0].json, r#"{"evt.time":42,"evt.type":"open"}"#);
        assert_eq!(evs[1].json, r#"{"evt.time": 5}"#);
    }
}
