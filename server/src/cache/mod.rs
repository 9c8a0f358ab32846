//! The recent window of stored events, in memory and by column: the hot layer of the event
//! store, keyed by its sequence numbers, so that preview evaluates rules on the newest events
//! without reading a segment.
//!
//! **Invariant:** every stored event with a sequence number at least [`Snapshot::lo`] is in
//! the cache, with the values it decodes to. Ingest appends a batch after the store appended
//! it, in sequence order (events are written only under [`EventCache::write`]); warm-up fills
//! older events downwards from the store after a restart; the memory budget evicts the oldest
//! chunks, which raises `lo`. The store's retention may drop events the cache still holds:
//! readers bound their window by the store's `removed_through`. Preview reads events below
//! `lo` from the store.

pub mod chunk;

use chunk::{Builder, Chunk};
use rulestudio_store::{Found, ScanRequest};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// Chunks smaller than this are merged with their neighbour as batches trickle in, so that a
/// collector sending single events does not leave a chunk (and dictionaries) per event.
const SMALL_CHUNK: usize = 256;
/// Events read per store scan while warming up.
const WARM_ROWS: usize = 16_384;

pub struct EventCache {
    budget: usize,
    inner: Mutex<Inner>,
    writes: tokio::sync::Mutex<()>,
}

struct Inner {
    chunks: VecDeque<Arc<Chunk>>,
    lo: i64,
    /// The id after the newest event appended: the next chunk covers from here.
    hi: i64,
    bytes: usize,
}

/// The cache at one moment: chunks in id order, covering every stored event from `lo` on.
pub struct Snapshot {
    pub chunks: Vec<Arc<Chunk>>,
    pub lo: i64,
}

impl EventCache {
    /// A cache of at most `budget` bytes for a store whose next sequence number is `next_id`.
    /// A zero budget disables it: everything is read from the store.
    pub fn new(budget: usize, next_id: i64) -> EventCache {
        let lo = if budget == 0 { i64::MAX } else { next_id };
        EventCache {
            budget,
            inner: Mutex::new(Inner {
                chunks: VecDeque::new(),
                lo,
                hi: next_id,
                bytes: 0,
            }),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The lock every append to the store holds from before the append until the cache has
    /// been told about it (appends are thus one batch at a time).
    pub async fn write(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self) -> Snapshot {
        let inner = self.inner();
        Snapshot {
            chunks: inner.chunks.iter().cloned().collect(),
            lo: inner.lo,
        }
    }

    /// Memory held, in bytes (approximate).
    pub fn bytes(&self) -> usize {
        self.inner().bytes
    }

    /// Adds the events of an appended batch: `chunks` in id order, `ids` one per row of them.
    /// Called under [`EventCache::write`].
    pub fn append(&self, chunks: Vec<Chunk>, ids: &[i64]) {
        if self.budget == 0 {
            return;
        }
        let mut inner = self.inner();
        let mut rest = ids;
        for mut chunk in chunks {
            let (mine, more) = rest.split_at(chunk.len());
            rest = more;
            let Some(&last) = mine.last() else { continue };
            chunk.place(mine, inner.hi, last + 1);
            inner.hi = last + 1;
            inner.bytes += chunk.bytes();
            inner.chunks.push_back(Arc::new(chunk));
            inner.merge_small_tail();
        }
        inner.evict(self.budget);
    }

    /// Fills the cache with the newest stored events it does not have yet, older and older,
    /// until it holds them all or its budget is spent. Runs beside ingest after a restart.
    pub async fn warm(
        &self,
        store: &Arc<rulestudio_store::Store>,
    ) -> Result<(), rulestudio_store::ScanError> {
        loop {
            let lo = {
                let inner = self.inner();
                if inner.lo <= 1 || inner.bytes >= self.budget {
                    return Ok(());
                }
                inner.lo
            };
            let reading = store.clone();
            let read = tokio::task::spawn_blocking(move || {
                // Nothing older is stored once retention went past it.
                if lo as u64 <= reading.snapshot().removed_through + 1 {
                    return Ok::<_, rulestudio_store::ScanError>(None);
                }
                let req = ScanRequest {
                    newest_first: true,
                    cursor: Some(reading.id(lo as u64)),
                    limit: Some(WARM_ROWS),
                    ..ScanRequest::default()
                };
                let page = reading.scan(&req, |_| true)?;
                let complete = page.next.is_none();
                let start = match page.events.last() {
                    Some(f) if !complete => f.id.seq as i64,
                    _ => 0,
                };
                Ok(Some((chunk_of(page.events, start, lo), complete)))
            })
            .await
            .unwrap_or(Ok(None))?;
            let Some((chunk, complete)) = read else {
                return Ok(());
            };
            if !self.prepend(chunk, lo) || complete {
                return Ok(());
            }
        }
    }

    /// Adds an older chunk below `lo`; false when the cache moved on (evicted) or has no room,
    /// which ends warm-up.
    fn prepend(&self, chunk: Chunk, expected_lo: i64) -> bool {
        let mut inner = self.inner();
        if inner.lo != expected_lo || inner.bytes + chunk.bytes() > self.budget {
            return false;
        }
        inner.lo = chunk.start;
        if !chunk.is_empty() {
            inner.bytes += chunk.bytes();
            inner.chunks.push_front(Arc::new(chunk));
        }
        true
    }
}

/// Events read newest first → one chunk covering `start..end`.
fn chunk_of(mut found: Vec<Found>, start: i64, end: i64) -> Chunk {
    found.reverse();
    let mut b = Builder::new();
    let ids = found.iter().map(|f| f.id.seq as i64).collect();
    for f in &found {
        b.push_event(&f.event, f.time);
    }
    b.finish(Some(ids), start, end)
}

impl Inner {
    /// Merges the two newest chunks while both are small and the newer is at least as big as
    /// the older (like a binary counter), so that each event is re-coded a logarithmic number
    /// of times however small the batches.
    fn merge_small_tail(&mut self) {
        while self.chunks.len() >= 2 {
            let n = self.chunks.len();
            let (a, b) = (&self.chunks[n - 2], &self.chunks[n - 1]);
            if a.len() >= SMALL_CHUNK || b.len() < a.len() || a.len() + b.len() > chunk::MAX_ROWS {
                return;
            }
            let merged = Chunk::merge(a, b);
            self.bytes = self.bytes + merged.bytes() - a.bytes() - b.bytes();
            self.chunks.truncate(n - 2);
            self.chunks.push_back(Arc::new(merged));
        }
    }

    fn evict(&mut self, budget: usize) {
        while self.bytes > budget {
            let Some(oldest) = self.chunks.pop_front() else {
                break;
            };
            self.bytes -= oldest.bytes();
            self.lo = oldest.end;
        }
    }
}

impl Snapshot {
    /// The chunk and row of event `id`, when the cache has it.
    pub fn find(&self, id: i64) -> Option<chunk::Row<'_>> {
        let c = self.chunks.partition_point(|c| c.end <= id);
        let chunk = self.chunks.get(c)?;
        let i = chunk.first_row_from(id);
        (i < chunk.len() && chunk.id(i) == id).then(|| chunk.row(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_engine::event::{Event, FieldSource, Value};

    fn batch(times: std::ops::Range<i64>) -> Chunk {
        let mut b = Builder::new();
        for t in times {
            let ev = Event::from_json_str(&format!(
                r#"{{"evt.time":{t},"evt.type":"openat","proc.name":"p{}"}}"#,
                t % 7
            ))
            .unwrap();
            b.push_event(&ev, t);
        }
        b.finish_unplaced()
    }

    fn ids(s: &Snapshot) -> Vec<i64> {
        s.chunks
            .iter()
            .flat_map(|c| (0..c.len()).map(|i| c.id(i)))
            .collect()
    }

    #[test]
    fn appended_batches_are_found_and_counted_from_the_newest() {
        let cache = EventCache::new(1 << 30, 1);
        cache.append(vec![batch(0..3), batch(3..5)], &[1, 2, 3, 4, 5]);
        cache.append(vec![batch(5..6)], &[9]);
        let s = cache.snapshot();
        assert_eq!(s.lo, 1);
        assert_eq!(ids(&s), [1, 2, 3, 4, 5, 9]);
        let evt_time = rulestudio_engine::fields::get("evt.time").unwrap();
        let row = s.find(4).unwrap();
        assert_eq!(row.field(evt_time, None), Some(Value::Int(3)));
        assert!(s.find(7).is_none());
        // Coverage is contiguous: the chunk of id 9 covers the empty ids 6..=8 too.
        assert_eq!(
            (
                s.chunks.first().unwrap().start,
                s.chunks.last().unwrap().end
            ),
            (1, 10)
        );
    }

    #[test]
    fn single_events_are_merged_into_few_chunks() {
        let cache = EventCache::new(1 << 30, 1);
        for id in 1..=3000 {
            cache.append(vec![batch(id..id + 1)], &[id]);
        }
        let s = cache.snapshot();
        assert_eq!(ids(&s), (1..=3000).collect::<Vec<_>>());
        // Full small chunks, and at most one of each power of two below.
        let bound = 3000 / SMALL_CHUNK + SMALL_CHUNK.ilog2() as usize + 1;
        assert!(s.chunks.len() <= bound, "{} chunks", s.chunks.len());
    }

    #[test]
    fn the_budget_evicts_the_oldest_chunks_and_raises_lo() {
        let one = batch(0..2000).bytes();
        let cache = EventCache::new(one * 5 / 2, 1);
        for k in 0..4 {
            let ids: Vec<i64> = (1 + k * 2000..1 + (k + 1) * 2000).collect();
            cache.append(vec![batch(0..2000)], &ids);
        }
        let s = cache.snapshot();
        assert_eq!(s.chunks.len(), 2);
        assert_eq!(s.lo, 4001);
        assert_eq!(ids(&s).first(), Some(&4001));
        assert!(cache.bytes() <= one * 5 / 2);
    }

    #[test]
    fn a_disabled_cache_holds_nothing() {
        let cache = EventCache::new(0, 1);
        cache.append(vec![batch(0..3)], &[1, 2, 3]);
        let s = cache.snapshot();
        assert!(s.chunks.is_empty());
        assert_eq!(s.lo, i64::MAX);
    }
}
