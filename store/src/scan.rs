//! Scans: the open segment's chunks and the sealed segments of one snapshot, in sequence order
//! (newest first or oldest first), with the request's event types, time range, projected
//! fields and cursor pushed down to segments, row groups and rows. The caller judges each
//! remaining row through [`FieldSource`] (a [`Row`]); only rows it keeps are materialised.
//!
//! Order is arrival order (the sequence number), not event time: segments may overlap in time
//! (spooled batches, REST ingest), and a sequence cursor is exact where a time cursor is not.

use crate::id::EventId;
use crate::manifest::Segment;
use crate::rows::{Batch, Row};
use crate::segment::{self, ReadPlan, SegmentError};
use crate::store::Store;
use arrow_array::RecordBatch;
use rulestudio_engine::event::{Event, Value};
use rulestudio_engine::fields::{self, FieldId};
use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanRequest {
    /// Only rows of these `evt.type`s (and rows whose type is missing or unknown to the engine,
    /// which a rule set's dispatch also meets); `None` for every type.
    pub event_types: Option<Vec<String>>,
    /// Only rows with `since <= time` (nanoseconds).
    pub since: Option<i64>,
    /// Only rows with `time < until`.
    pub until: Option<i64>,
    /// Only these fields' columns are read from sealed segments (a row then lacks the others);
    /// `None` reads all. Name every field the judge reads, sources of derived fields included.
    pub columns: Option<Vec<FieldId>>,
    pub newest_first: bool,
    /// Continue after this event (exclusive), as returned in [`ScanPage::next`].
    pub cursor: Option<EventId>,
    /// Stop after this many kept rows; `None` for no limit.
    pub limit: Option<usize>,
}

/// One kept row, materialised.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: EventId,
    pub time: i64,
    pub event: Event,
}

/// A page of a scan.
#[derive(Debug)]
pub struct ScanPage {
    pub events: Vec<Found>,
    /// Where the next page starts, when the limit stopped this one.
    pub next: Option<EventId>,
    /// Rows judged (after pushdown).
    pub examined: u64,
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cursor '{cursor}' is from node '{}', this store is node '{node}'", cursor.node)]
    ForeignCursor { cursor: EventId, node: String },
    #[error(
        "cursor '{cursor}' points into removed data: retention dropped every event up to sequence {removed_through} (incarnation {incarnation}); start a new search"
    )]
    CursorIntoRemovedData {
        cursor: EventId,
        removed_through: u64,
        incarnation: u64,
    },
    #[error(transparent)]
    Segment(#[from] SegmentError),
}

/// The `evt.type` name of a decoded event, if it has one as text.
pub(crate) fn evt_type_name(event: &Event) -> Option<&str> {
    match event.get(evt_type_field(), None)? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn evt_type_field() -> FieldId {
    fields::get("evt.type").expect("evt.type in the catalogue")
}

/// The row filter the request pushes down.
struct Bounds {
    seq: (u64, u64),
    time: (i64, i64),
    types: Option<HashSet<String>>,
}

impl Bounds {
    fn type_ok(&self, name: Option<&str>) -> bool {
        match (&self.types, name) {
            (None, _) | (_, None) => true,
            (Some(set), Some(n)) => {
                set.contains(n) || !fields::evt_types().iter().any(|(t, _)| *t == n)
            }
        }
    }

    fn segment_ok(&self, s: &Segment) -> bool {
        let m = &s.meta;
        m.last_seq >= self.seq.0
            && m.first_seq <= self.seq.1
            && m.max_time >= self.time.0
            && m.min_time <= self.time.1
            && (m.untyped || m.evt_types.iter().any(|t| self.type_ok(Some(t))))
    }

    fn row_ok(&self, row: &Row<'_>) -> bool {
        let (seq, time) = (row.seq(), row.time());
        seq >= self.seq.0 && seq <= self.seq.1 && time >= self.time.0 && time <= self.time.1
    }
}

impl Store {
    /// Visits every row the request selects, in its order, until `visit` breaks; the rows are
    /// views (nothing materialised). Returns the number of rows visited.
    pub fn visit(
        &self,
        req: &ScanRequest,
        mut visit: impl FnMut(&Row<'_>) -> ControlFlow<()>,
    ) -> Result<u64, ScanError> {
        let bounds = self.bounds(req)?;
        // One consistent view: the open segment's chunks and the sealed segments as of now.
        let (chunks, snapshot) = {
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            w.flush_chunk();
            (w.chunks.clone(), self.snapshot())
        };
        let mut visited = 0u64;
        let mut each_batch = |rb: &RecordBatch| -> Result<bool, SegmentError> {
            let batch = Batch::new(rb).map_err(|e| SegmentError::Parquet {
                path: "(open segment)".into(),
                message: e.to_string(),
            })?;
            let types = bounds
                .types
                .is_some()
                .then(|| batch.type_mask(|t| bounds.type_ok(t)));
            let mut step = |r: usize| {
                let row = batch.row(r);
                if !bounds.row_ok(&row) || types.as_ref().is_some_and(|m| !m[r]) {
                    return ControlFlow::Continue(());
                }
                visited += 1;
                visit(&row)
            };
            let broke = if req.newest_first {
                (0..batch.len()).rev().try_for_each(&mut step).is_break()
            } else {
                (0..batch.len()).try_for_each(&mut step).is_break()
            };
            Ok(!broke)
        };
        let segments: Vec<&Arc<Segment>> = snapshot
            .segments
            .iter()
            .filter(|s| bounds.segment_ok(s))
            .collect();
        let plan = ReadPlan {
            fields: req.columns.as_deref(),
            seq: bounds.seq,
            time: bounds.time,
            newest_first: req.newest_first,
        };
        if req.newest_first {
            for c in chunks.iter().rev() {
                if !each_batch(c)? {
                    return Ok(visited);
                }
            }
            for s in segments.iter().rev() {
                let mut go = true;
                segment::read(&s.path, &plan, |b| {
                    go = each_batch(&b)?;
                    Ok(go)
                })?;
                if !go {
                    return Ok(visited);
                }
            }
        } else {
            for s in &segments {
                let mut go = true;
                segment::read(&s.path, &plan, |b| {
                    go = each_batch(&b)?;
                    Ok(go)
                })?;
                if !go {
                    return Ok(visited);
                }
            }
            for c in &chunks {
                if !each_batch(c)? {
                    return Ok(visited);
                }
            }
        }
        Ok(visited)
    }

    /// A page of the rows `keep` keeps, materialised, with the cursor of the next page when
    /// the limit stopped it (`None`: the scan reached the end, the oldest event when newest
    /// first).
    pub fn scan(
        &self,
        req: &ScanRequest,
        mut keep: impl FnMut(&Row<'_>) -> bool,
    ) -> Result<ScanPage, ScanError> {
        let limit = req.limit.unwrap_or(usize::MAX);
        let mut events = Vec::new();
        let mut next = None;
        if limit == 0 {
            return Ok(ScanPage {
                events,
                next: req.cursor.clone(),
                examined: 0,
            });
        }
        let examined = self.visit(req, |row| {
            if !keep(row) {
                return ControlFlow::Continue(());
            }
            events.push(Found {
                id: self.id(row.seq()),
                time: row.time(),
                event: row.to_event(),
            });
            if events.len() >= limit {
                next = Some(self.id(row.seq()));
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(ScanPage {
            events,
            next,
            examined,
        })
    }

    fn bounds(&self, req: &ScanRequest) -> Result<Bounds, ScanError> {
        let mut seq = (0, u64::MAX);
        if let Some(c) = &req.cursor {
            if c.node != self.node {
                return Err(ScanError::ForeignCursor {
                    cursor: c.clone(),
                    node: self.node.clone(),
                });
            }
            let removed_through = self.snapshot().removed_through;
            let removed = CursorIntoRemoved {
                cursor: c,
                removed_through,
                incarnation: self.incarnation,
            };
            // Another incarnation's events are all gone from this store.
            if c.incarnation != self.incarnation {
                return Err(removed.error());
            }
            if req.newest_first {
                // The next row would be `seq - 1`: removed when retention went past it.
                if c.seq >= 2 && c.seq - 1 <= removed_through {
                    return Err(removed.error());
                }
                seq.1 = c.seq.saturating_sub(1);
            } else {
                // Rows after the cursor up to `removed_through` are gone.
                if c.seq < removed_through {
                    return Err(removed.error());
                }
                seq.0 = c.seq.saturating_add(1);
            }
        }
        let time = (
            req.since.unwrap_or(i64::MIN),
            req.until.map_or(i64::MAX, |u| u.saturating_sub(1)),
        );
        Ok(Bounds {
            seq,
            time,
            types: req
                .event_types
                .as_ref()
                .map(|t| t.iter().cloned().collect()),
        })
    }
}

struct CursorIntoRemoved<'a> {
    cursor: &'a EventId,
    removed_through: u64,
    incarnation: u64,
}

impl CursorIntoRemoved<'_> {
    fn error(&self) -> ScanError {
        ScanError::CursorIntoRemovedData {
            cursor: self.cursor.clone(),
            removed_through: self.removed_through,
            incarnation: self.incarnation,
        }
    }
}
