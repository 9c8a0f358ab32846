//! One pass over a window: every probe evaluated on every event it could match. Events from
//! the cache's first id on are read from memory, by column, on two threads; older ones are
//! read from the event store (only segments and rows of the probes' event types and the
//! window's time, judged as views of the segment's columns, by [`rulestudio_node::scan`]).

use super::deadline::{CHECK_EVERY, Deadline};
use super::{Range, Store};
use crate::cache::Snapshot;
use crate::cache::chunk::Chunk;
use crate::error::Result;
use rulestudio_engine::eval::CompiledRule;
use rulestudio_node::scan::{self as node_scan, Stop};
pub use rulestudio_node::scan::{Hit, Kept, Probe};
use std::sync::Arc;

/// Below this many cached rows a second thread costs more than it saves.
const PARALLEL_ROWS: usize = 50_000;
/// Cache chunks scanned between two yields to the executor (a few hundred thousand rows).
const CHUNKS_PER_SLICE: usize = 4;

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

/// The events of `range` below id `lo` (the cache's first), judged in the event store; returns
/// how many events are in the window.
fn scan_store(
    events: &rulestudio_store::Store,
    range: Range,
    lo: i64,
    probes: &mut [Probe<'_>],
    deadline: &Deadline,
) -> Result<u64> {
    let mut in_window = 0;
    node_scan::scan_store(events, range, lo, probes, &mut in_window, &|| {
        deadline.check()
    })
    .map_err(|stop| match stop {
        Stop::Check(e) => e,
        Stop::Store(e) => crate::api::events::scan_error(e),
    })?;
    Ok(in_window)
}
