//! The live tail of stored events behind `GET /api/v1/events/stream`.
//!
//! Ingest publishes each batch after it committed, so a tailed event is always one that
//! `GET /api/v1/events/{id}` can return. Subscribers share one bounded ring (a broadcast
//! channel): each reads at its own pace, and one that falls a whole ring behind skips ahead and
//! is told how many events it missed, so a slow browser costs neither memory nor ingest speed.
//! Filters are evaluated on the subscriber's side of the ring, not on the ingest path.

use crate::ingest::RowView;
use rulestudio_engine::eval::Filter;
use rulestudio_engine::event::Event;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events kept for subscribers that read slower than ingest writes; a power of two, so it is
/// exactly the capacity of the ring.
pub const BUFFER: usize = 4096;

/// One stored event as the tail carries it: the stored JSON text, not a decoded map, so that
/// publishing costs a copy and subscribers without a filter never decode it.
#[derive(Debug)]
pub struct Tailed {
    /// `NODE:INCARNATION:SEQ`.
    pub id: String,
    pub time: i64,
    pub node: Option<String>,
    /// The stored fields object, JSON.
    pub fields: Arc<str>,
}

impl Tailed {
    /// The SSE `data`: the shape of `rulestudio_api::events::StoredEvent`, written around the
    /// stored fields text instead of re-serialising a map.
    pub fn to_json(&self) -> String {
        let node = serde_json::to_string(&self.node).unwrap_or_else(|_| "null".into());
        let id = serde_json::to_string(&self.id).unwrap_or_else(|_| "null".into());
        format!(
            "{{\"id\":{id},\"time\":{},\"node\":{node},\"fields\":{}}}",
            self.time, self.fields
        )
    }

    /// Whether `filter` keeps the event; an event that no longer decodes cannot match.
    pub fn passes(&self, filter: Option<&Filter>) -> bool {
        filter.is_none_or(|f| Event::from_json_str(&self.fields).is_ok_and(|ev| f.matches(&ev)))
    }
}

pub type Sender = broadcast::Sender<Arc<Tailed>>;

pub fn channel() -> Sender {
    broadcast::channel(BUFFER).0
}

/// Publishes a committed batch: its rows with their sequence numbers in `store`. Free when
/// nobody tails. `node` is the event's own `evt.hostname`, as the event page answers it.
pub fn publish<'r>(
    tx: &Sender,
    store: &rulestudio_store::Store,
    rows: impl Iterator<Item = (RowView<'r>, &'r i64)>,
) {
    if tx.receiver_count() == 0 {
        return;
    }
    for (row, &id) in rows {
        let tailed = Tailed {
            id: store.id(id as u64).to_string(),
            time: row.time,
            node: row.hostname.map(str::to_string),
            fields: row.json.into(),
        };
        // Every subscriber may have left since the check: not an error, the event is stored.
        let _ = tx.send(Arc::new(tailed));
    }
}
