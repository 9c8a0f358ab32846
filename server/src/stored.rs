//! Events read back from the event store as the REST API answers them: ids taken and given as
//! `NODE:INCARNATION:SEQ`, events fetched by sequence number, and an event's fields as the
//! interchange format's JSON object.

use crate::error::{AppError, Result};
use rulestudio_api::events::StoredEvent;
use rulestudio_engine::event::Event;
use rulestudio_store::{EventId, Store};
use serde_json::Value;

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
pub fn fetch(store: &Store, seqs: &[u64]) -> Result<Vec<(u64, i64, Event)>> {
    rulestudio_node::scan::fetch(store, seqs)
        .map_err(|e| AppError::Internal(anyhow::Error::from(e).context("reading the event store")))
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

pub use rulestudio_node::scan::fields_json;
