//! One pass over a window: every probe evaluated on every event it could match. Events from
//! the cache's first id on are read from memory, by column, on two threads; older ones are
//! read from the event store (only segments and rows of the probes' event types and the
//! window's time, judged as views of the segment's columns).

use super::deadline::{CHECK_EVERY, Deadline};
use super::{Range, Store};
use crate::cache::Snapshot;
use crate::cache::chunk::Chunk;
use crate::error::Result;
use rulestudio_engine::eval::{CompiledRule, EvtTypeSet};
use rulestudio_store::ScanRequest;
use std::ops::ControlFlow;
use std::sync::Arc;

/// Matches kept per rule for samples, groups, shadowing and comparisons; counts are exact.
pub const MAX_KEPT_MATCHES: usize = 100_000;
/// Below this many cached rows a second thread costs more than it saves.
const PARALLEL_ROWS: usize = 50_000;
/// Cache chunks scanned between two yields to the executor (a few hundred thousand rows).
const CHUNKS_PER_SLICE: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub id: i64,
    pub time: i64,
}

/// A rule to evaluate during the scan, with the matches found.
pub struct Probe<'a> {
    pub rule: &'a CompiledRule,
    pub count: u64,
    pub kept: Kept,
}

impl<'a> Probe<'a> {
    pub fn new(rule: &'a CompiledRule) -> Probe<'a> {
        Probe {
            rule,
            count: 0,
            kept: Kept::default(),
        }
    }

    fn hit(&mut self, hit: Hit) {
        self.count += 1;
        self.kept.push(hit);
    }
}

/// The newest [`MAX_KEPT_MATCHES`] matches by id, in id order once [`Kept::finish`]ed; memory
/// stays within twice that whatever the order matches come in.
#[derive(Default)]
pub struct Kept {
    hits: Vec<Hit>,
}

impl Kept {
    fn push(&mut self, hit: Hit) {
        self.hits.push(hit);
        if self.hits.len() >= 2 * MAX_KEPT_MATCHES {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.hits.sort_unstable_by_key(|h| h.id);
        let extra = self.hits.len().saturating_sub(MAX_KEPT_MATCHES);
        self.hits.drain(..extra);
    }

    fn absorb(&mut self, other: Kept) {
        for h in other.hits {
            self.push(h);
        }
    }

    pub fn finish(&mut self) {
        self.trim();
    }

    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }
}

/// Scans `range` for `probes`; returns the number of events in the window.
pub async fn scan(
    store: Store<'_>,
    snapshot: Option<&Snapshot>,
    range: Range,
    probes: &mut [Probe<'_>],
    deadline: &Deadline,
) -> Result<u64> {
    let lo = snapshot.map_or(i64::MAX, |s| s.lo);
    let mut in_window = 0;
    if range.min_id < lo {
        in_window += cpu(|| scan_store(store.events, range, lo, probes, deadline))?;
    }
    if let Some(s) = snapshot {
        // A slice at a time, yielding in between: the request's task is polled, so a client
        // that left drops it (and the scan) there; inside a slice the deadline is checked.
        for slice in s.chunks.chunks(CHUNKS_PER_SLICE) {
            in_window += cpu(|| scan_cache(slice, range, probes, deadline))?;
            tokio::task::yield_now().await;
        }
    }
    for p in probes.iter_mut() {
        p.kept.finish();
    }
    Ok(in_window)
}

/// Runs CPU-bound work on the current thread; on a multi-threaded runtime its other tasks move
/// to another worker meanwhile.
pub fn cpu<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// What one thread found: events in the window, and per probe its count and kept matches.
struct Found {
    in_window: u64,
    per_probe: Vec<(u64, Kept)>,
}

fn scan_cache(
    chunks: &[Arc<Chunk>],
    range: Range,
    probes: &mut [Probe<'_>],
    deadline: &Deadline,
) -> Result<u64> {
    let rules: Vec<&CompiledRule> = probes.iter().map(|p| p.rule).collect();
    let rows: usize = chunks.iter().map(|c| c.len()).sum();
    let found = if rows < PARALLEL_ROWS {
        vec![scan_chunks(chunks, range, &rules, deadline)?]
    } else {
        // Two halves of about the same number of rows.
        let mut acc = 0;
        let split = chunks
            .iter()
            .position(|c| {
                acc += c.len();
                acc >= rows / 2
            })
            .map_or(chunks.len(), |i| i + 1);
        let (older, newer) = chunks.split_at(split);
        std::thread::scope(|s| {
            let other = s.spawn(|| scan_chunks(newer, range, &rules, deadline));
            let first = scan_chunks(older, range, &rules, deadline);
            let second = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok::<_, crate::error::AppError>(vec![first?, second?])
        })?
    };
    let mut in_window = 0;
    for f in found {
        in_window += f.in_window;
        for (p, (count, kept)) in probes.iter_mut().zip(f.per_probe) {
            p.count += count;
            p.kept.absorb(kept);
        }
    }
    Ok(in_window)
}

fn scan_chunks(
    chunks: &[Arc<Chunk>],
    range: Range,
    rules: &[&CompiledRule],
    deadline: &Deadline,
) -> Result<Found> {
    let mut found = Found {
        in_window: 0,
        per_probe: rules.iter().map(|_| (0, Kept::default())).collect(),
    };
    let mut active = Vec::with_capacity(rules.len());
    for c in chunks {
        if c.end <= range.min_id || !c.overlaps(range.since, range.until) {
            continue;
        }
        active.clear();
        active.extend((0..rules.len()).filter(|&r| c.may_match(&rules[r].evt_types)));
        let from = c.first_row_from(range.min_id);
        let all_in_time = c.within(range.since, range.until);
        if active.is_empty() && all_in_time {
            found.in_window += (c.len() - from) as u64;
            continue;
        }
        for i in from..c.len() {
            if i.is_multiple_of(CHECK_EVERY) {
                deadline.check()?;
            }
            let time = c.time(i);
            if !all_in_time && (time < range.since || time >= range.until) {
                continue;
            }
            found.in_window += 1;
            for &r in &active {
                let rule = rules[r];
                if c.row_may_match(i, &rule.evt_types) && rule.filter.matches(&c.row(i)) {
                    let (count, kept) = &mut found.per_probe[r];
                    *count += 1;
                    kept.push(Hit { id: c.id(i), time });
                }
            }
        }
    }
    Ok(found)
}

/// The events of `range` below id `lo` (the cache's first), from the event store: only
/// segments and rows of the probes' event types (and untyped rows) are judged, each as a
/// `FieldSource` view without materialising it. Returns how many events are in the window.
fn scan_store(
    events: &rulestudio_store::Store,
    range: Range,
    lo: i64,
    probes: &mut [Probe<'_>],
    deadline: &Deadline,
) -> Result<u64> {
    let mut types = EvtTypeSet::empty();
    for p in probes.iter() {
        types = types.union(&p.rule.evt_types);
    }
    // The cache's first id, or the end of the store when the cache has none.
    let lo = lo.min(events.next_seq() as i64);
    let removed_through = events.snapshot().removed_through as i64;
    let from = range.min_id.max(removed_through + 1).max(1);
    if from >= lo {
        return Ok(0);
    }
    let base = ScanRequest {
        since: Some(range.since),
        until: (range.until != i64::MAX).then_some(range.until),
        // Oldest first from just before `from` (not into removed data: checked above).
        cursor: (from > removed_through + 1).then(|| events.id(from as u64 - 1)),
        ..ScanRequest::default()
    };
    let whole_time = range.since <= 0 && range.until == i64::MAX;
    // Every sequence number in [from, lo) is stored (only retention removes, oldest first):
    // without a time bound the window's size is known; with one, the times are counted on a
    // scan of no field column.
    let in_window = if whole_time {
        (lo - from) as u64
    } else {
        let mut n = 0u64;
        let counting = ScanRequest {
            columns: Some(Vec::new()),
            ..base.clone()
        };
        visit(events, &counting, lo, deadline, |_| n += 1)?;
        n
    };
    if probes.is_empty() || types.is_empty() {
        return Ok(in_window);
    }
    let judging = ScanRequest {
        event_types: (!types.is_all())
            .then(|| types.names().iter().map(|t| t.to_string()).collect()),
        ..base
    };
    visit(events, &judging, lo, deadline, |row| {
        for p in probes.iter_mut() {
            if p.rule.filter.matches(row) {
                p.hit(Hit {
                    id: row.seq() as i64,
                    time: row.time(),
                });
            }
        }
    })?;
    Ok(in_window)
}

/// Visits the rows of `req` (oldest first) below sequence number `lo`, checking `deadline`.
fn visit(
    events: &rulestudio_store::Store,
    req: &ScanRequest,
    lo: i64,
    deadline: &Deadline,
    mut each: impl FnMut(&rulestudio_store::Row<'_>),
) -> Result<()> {
    let mut late = None;
    let mut read = 0usize;
    events
        .visit(req, |row| {
            if row.seq() as i64 >= lo {
                return ControlFlow::Break(());
            }
            if read.is_multiple_of(CHECK_EVERY)
                && let Err(e) = deadline.check()
            {
                late = Some(e);
                return ControlFlow::Break(());
            }
            read += 1;
            each(row);
            ControlFlow::Continue(())
        })
        .map_err(crate::api::events::scan_error)?;
    late.map_or(Ok(()), Err)
}
