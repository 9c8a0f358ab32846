//! One pass over a window: every probe evaluated on every event it could match. Events from
//! the cache's first id on are read from memory, by column, on two threads; older ones are
//! read from the database (only rows of the probes' event types, on the `(evt_type, time)`
//! index) and decoded into one reused event.

use super::deadline::{CHECK_EVERY, Deadline};
use super::{Range, Store};
use crate::cache::Snapshot;
use crate::cache::chunk::Chunk;
use crate::error::Result;
use futures::TryStreamExt;
use rulestudio_engine::eval::{CompiledRule, EvtTypeSet};
use rulestudio_engine::event::Event;
use sqlx::{AssertSqlSafe, SqlitePool};
// Statements built with `format!` here only add `?` placeholders and constant SQL.
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
        in_window += scan_db(store.db, range, lo, probes, deadline).await?;
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

/// The SQL restriction on `evt_type` for rules that can only match `types`. Events without a
/// known type (stored with a NULL `evt_type`) meet every rule, as in `RuleSet::eval`.
fn evt_type_clause(types: &EvtTypeSet) -> (String, Vec<&'static str>) {
    if types.is_all() {
        return (String::new(), Vec::new());
    }
    let names = types.names();
    let marks = vec!["?"; names.len()].join(",");
    (
        format!(" AND (evt_type IN ({marks}) OR evt_type IS NULL)"),
        names,
    )
}

/// The events of `range` below id `lo`, from the database; returns how many are in the window.
async fn scan_db(
    db: &SqlitePool,
    range: Range,
    lo: i64,
    probes: &mut [Probe<'_>],
    deadline: &Deadline,
) -> Result<u64> {
    let in_window: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE id >= ? AND id < ? AND time >= ? AND time < ?",
    )
    .bind(range.min_id)
    .bind(lo)
    .bind(range.since)
    .bind(range.until)
    .fetch_one(db)
    .await?;
    let mut types = EvtTypeSet::empty();
    for p in probes.iter() {
        types = types.union(&p.rule.evt_types);
    }
    if probes.is_empty() || types.is_empty() {
        return Ok(in_window as u64);
    }
    let (clause, names) = evt_type_clause(&types);
    let sql = format!(
        "SELECT id, time, fields FROM events WHERE id >= ? AND id < ? AND time >= ? AND time < ?{clause}"
    );
    let mut q = sqlx::query_as::<_, (i64, i64, String)>(AssertSqlSafe(sql))
        .bind(range.min_id)
        .bind(lo)
        .bind(range.since)
        .bind(range.until);
    for n in names {
        q = q.bind(n);
    }
    let mut rows = q.fetch(db);
    let mut ev = Event::new();
    let mut read = 0usize;
    while let Some((id, time, fields)) = rows.try_next().await? {
        if read.is_multiple_of(CHECK_EVERY) {
            deadline.check()?;
        }
        read += 1;
        // Rows are valid events (validated at ingest); one that no longer decodes (a field table
        // change) cannot match and is skipped rather than failing the preview.
        if ev.decode_json(&fields).is_err() {
            continue;
        }
        for p in probes.iter_mut() {
            if p.rule.filter.matches(&ev) {
                p.hit(Hit { id, time });
            }
        }
    }
    Ok(in_window as u64)
}
