//! Events read back from the event store as the REST API answers them: ids taken and given as
//! `NODE:INCARNATION:SEQ`, events fetched by sequence number, and an event's fields as the
//! interchange format's JSON object.

use crate::error::{AppError, Result};
use rulestudio_api::events::StoredEvent;
use rulestudio_engine::event::{Event, Value as FieldValue, parse_key};
use rulestudio_store::{EventId, ScanRequest, Store};
use serde_json::{Map, Value};
use std::ops::ControlFlow;

/// What an event id names in this server's store.
pub enum Named {
    /// The sequence number of an event of this store's current incarnation.
    Here(u64),
    /// A well-formed id of another node or incarnation: never in this store (any more).
    Elsewhere(EventId),
}

/// Reads an event id; a malformed one is a 400 naming its faulty part.
pub fn parse(store: &Store, what: &str, text: &str) -> Result<Named> {
    let id: EventId = text
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{what}: {e}")))?;
    Ok(
        if id.node == store.node() && id.incarnation == store.incarnation() {
            Named::Here(id.seq)
        } else {
            Named::Elsewhere(id)
        },
    )
}

/// The events of these sequence numbers still stored, in sequence order, with their times.
/// Reads only the segments and row groups that can hold them.
pub fn fetch(store: &Store, seqs: &[u64]) -> Result<Vec<(u64, i64, Event)>> {
    let mut wanted: Vec<u64> = seqs.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let (Some(&lo), Some(&hi)) = (wanted.first(), wanted.last()) else {
        return Ok(Vec::new());
    };
    let removed_through = store.snapshot().removed_through;
    // Oldest first from just before the first wanted event (a cursor must not point into
    // removed data: below that, the scan starts at the oldest stored event).
    let cursor = (lo > removed_through + 1).then(|| store.id(lo - 1));
    let req = ScanRequest {
        cursor,
        ..ScanRequest::default()
    };
    let mut out = Vec::with_capacity(wanted.len());
    store
        .visit(&req, |row| {
            let seq = row.seq();
            if seq > hi {
                return ControlFlow::Break(());
            }
            if wanted.binary_search(&seq).is_ok() {
                out.push((seq, row.time(), row.to_event()));
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| {
            AppError::Internal(anyhow::Error::from(e).context("reading the event store"))
        })?;
    Ok(out)
}

/// An event as `StoredEvent`: its fields, and as `node` its own `evt.hostname`.
pub fn stored_event(id: String, time: i64, event: &Event) -> StoredEvent {
    let fields = fields_json(event);
    let node = match fields.get("evt.hostname") {
        Some(Value::String(h)) => Some(h.clone()),
        _ => None,
    };
    StoredEvent {
        id,
        time,
        node,
        fields,
        unreadable: None,
    }
}

/// An event's values as the interchange format's JSON object, `evt.time` included: keys
/// `field`, `field.arg` where that reads back to the same field and argument (`evt.arg.flags`,
/// as collectors send it), else `field[arg]`.
pub fn fields_json(event: &Event) -> Map<String, Value> {
    let mut map = Map::new();
    for (field, arg, value) in event.values() {
        let key = match arg {
            // An index as collectors and Falco's docs write it: `proc.aname[2]`.
            Some(arg) if arg.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{}[{arg}]", field.name())
            }
            Some(arg) => {
                let dotted = format!("{}.{arg}", field.name());
                match parse_key(&dotted) {
                    Some((f, Some(a))) if f == field && a == arg => dotted,
                    _ => format!("{}[{arg}]", field.name()),
                }
            }
            None => field.name().to_string(),
        };
        map.insert(key, value_json(value));
    }
    map
}

/// A value as the interchange format writes it.
fn value_json(v: &FieldValue<'_>) -> Value {
    match v {
        FieldValue::Str(s) => Value::String(s.to_string()),
        FieldValue::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        FieldValue::Int(i) => Value::from(*i),
        FieldValue::Uint(u) => Value::from(*u),
        FieldValue::Double(d) => {
            serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number)
        }
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Ip(ip) => Value::String(ip.to_string()),
        FieldValue::List(items) => Value::Array(items.iter().map(value_json).collect()),
    }
}
