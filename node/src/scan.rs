//! Judging stored events: one pass over a node's event store, every probe (a compiled rule)
//! evaluated on the rows of the event types it can match, each row a `FieldSource` view of the
//! segment's columns (nothing materialised). The studio's preview runs it below its cache; a
//! fleet node runs it over its whole store to answer a preview ([`crate::preview`]).

use rulestudio_engine::eval::{CompiledRule, EvtTypeSet};
use rulestudio_engine::event::{Event, Value as FieldValue, interchange_key};
use rulestudio_engine::fields::FieldId;
use rulestudio_store::{ScanError, ScanRequest, Store};
use serde_json::{Map, Value};
use std::ops::ControlFlow;

/// Matches kept per rule for samples, groups, shadowing and comparisons; counts are exact.
pub const MAX_KEPT_MATCHES: usize = 100_000;
/// Items (events, matches) between two deadline checks: a check costs a clock read, an item
/// about a microsecond.
pub const CHECK_EVERY: usize = 4096;

/// The window: `id >= min_id` and `since <= time < until`; ids are the event store's
/// sequence numbers.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub min_id: i64,
    pub since: i64,
    pub until: i64,
}

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
    pub fn push(&mut self, hit: Hit) {
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

    pub fn absorb(&mut self, other: Kept) {
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

/// Why a scan stopped early: its caller's check said so (a deadline), or the store failed.
#[derive(Debug)]
pub enum Stop<E> {
    Check(E),
    Store(ScanError),
}

/// Judges the events of `range` below sequence number `lo` for `probes`: only segments and
/// rows of the probes' event types (and untyped rows). Adds the number of events in the window
/// to `in_window` (as far as it got, when stopped); `check` is asked every [`CHECK_EVERY`]
/// rows.
pub fn scan_store<E>(
    events: &Store,
    range: Range,
    lo: i64,
    probes: &mut [Probe<'_>],
    in_window: &mut u64,
    check: &impl Fn() -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let mut types = EvtTypeSet::empty();
    for p in probes.iter() {
        types = types.union(&p.rule.evt_types);
    }
    // The caller's first id not to judge, or the end of the store.
    let lo = lo.min(events.next_seq() as i64);
    let removed_through = events.snapshot().removed_through as i64;
    let from = range.min_id.max(removed_through + 1).max(1);
    if from >= lo {
        return Ok(());
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
    if whole_time {
        *in_window += (lo - from) as u64;
    } else {
        let counting = ScanRequest {
            columns: Some(Vec::new()),
            ..base.clone()
        };
        visit(events, &counting, lo, check, |_| *in_window += 1)?;
    }
    if probes.is_empty() || types.is_empty() {
        return Ok(());
    }
    let judging = ScanRequest {
        event_types: (!types.is_all())
            .then(|| types.names().iter().map(|t| t.to_string()).collect()),
        ..base
    };
    visit(events, &judging, lo, check, |row| {
        for p in probes.iter_mut() {
            if p.rule.filter.matches(row) {
                p.hit(Hit {
                    id: row.seq() as i64,
                    time: row.time(),
                });
            }
        }
    })
}

/// Visits the rows of `req` (oldest first) below sequence number `lo`, asking `check`.
fn visit<E>(
    events: &Store,
    req: &ScanRequest,
    lo: i64,
    check: &impl Fn() -> Result<(), E>,
    mut each: impl FnMut(&rulestudio_store::Row<'_>),
) -> Result<(), Stop<E>> {
    let mut late = None;
    let mut read = 0usize;
    events
        .visit(req, |row| {
            if row.seq() as i64 >= lo {
                return ControlFlow::Break(());
            }
            if read.is_multiple_of(CHECK_EVERY)
                && let Err(e) = check()
            {
                late = Some(e);
                return ControlFlow::Break(());
            }
            read += 1;
            each(row);
            ControlFlow::Continue(())
        })
        .map_err(Stop::Store)?;
    late.map_or(Ok(()), |e| Err(Stop::Check(e)))
}

/// The events of these sequence numbers still stored, in sequence order, with their times.
/// Reads only the segments and row groups that can hold them.
pub fn fetch(store: &Store, seqs: &[u64]) -> Result<Vec<(u64, i64, Event)>, ScanError> {
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
    store.visit(&req, |row| {
        let seq = row.seq();
        if seq > hi {
            return ControlFlow::Break(());
        }
        if wanted.binary_search(&seq).is_ok() {
            out.push((seq, row.time(), row.to_event()));
        }
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// An event's values as the interchange format's JSON object, `evt.time` included: keys
/// `field`, `field.arg` where that reads back to the same field and argument (`evt.arg.flags`,
/// as collectors send it), else `field[arg]`.
pub fn fields_json(event: &Event) -> Map<String, Value> {
    values_json(event.values())
}

/// Values as the interchange format's JSON object (see [`fields_json`]).
pub fn values_json<'v>(
    values: impl Iterator<Item = (FieldId, Option<&'v str>, &'v FieldValue<'static>)>,
) -> Map<String, Value> {
    values
        .map(|(field, arg, value)| (interchange_key(field, arg).into_owned(), value_json(value)))
        .collect()
}

/// A value as the interchange format writes it.
pub fn value_json(v: &FieldValue<'_>) -> Value {
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
