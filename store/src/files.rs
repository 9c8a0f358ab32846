//! Reading a store's files without opening the store: a sealed segment file, or a whole store
//! directory (its manifest's sealed segments in sequence order, then the events of the open
//! segment's log that no segment holds yet). Nothing is written, so this is safe beside the
//! store's owner (`rulestudio eval --events` on a running node's store): a segment that
//! retention removes while it is being read is reported, not an error, and a torn log tail is
//! reported and left alone (the owner cuts it at its next open).

use crate::id::EventId;
use crate::manifest::{self, ManifestError};
use crate::rows::{Batch, Row};
use crate::schema::{self, SCHEMA_VERSION};
use crate::segment::{self, ReadPlan, SegmentError};
use crate::store::WAL_FILE;
use crate::wal;
use rulestudio_engine::event::{Event, FieldSource, Value};
use rulestudio_engine::fields::FieldId;
use std::ops::ControlFlow;
use std::path::Path;

/// Why store files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: not an event store directory (no manifest.json) and not a segment file (.parquet)"
    )]
    NotStoreFiles { path: String },
    #[error(
        "{path}: written with store schema version {found}; this program reads version {SCHEMA_VERSION}"
    )]
    SchemaVersion { path: String, found: String },
    #[error("{path}: segment metadata lacks or garbles '{key}'")]
    Identity { path: String, key: &'static str },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Segment(#[from] SegmentError),
}

/// What a read went through, besides the events it visited.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadReport {
    /// Events visited.
    pub events: u64,
    /// Sealed segment files read.
    pub segments: usize,
    /// Segment files the manifest listed that were gone when their turn came (retention or
    /// compaction by the running owner); their events were not visited.
    pub vanished: Vec<String>,
    /// Why the open segment's log ends early, when its tail is torn (a write cut by a crash;
    /// such a tail was never acknowledged).
    pub torn_log: Option<&'static str>,
}

/// One stored event as read: a row of a sealed segment, or an event of the open segment's log.
pub enum Stored<'a> {
    Row(Row<'a>),
    Logged(&'a Event),
}

impl FieldSource for Stored<'_> {
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<Value<'_>> {
        match self {
            Stored::Row(r) => r.field(field, arg),
            Stored::Logged(e) => e.field(field, arg),
        }
    }

    fn evt_type_index(&self) -> Option<u16> {
        match self {
            Stored::Row(r) => r.evt_type_index(),
            Stored::Logged(e) => e.evt_type_index(),
        }
    }

    fn stored(&self, field: FieldId, arg: Option<&str>) -> Option<Option<&Value<'_>>> {
        match self {
            Stored::Row(r) => r.stored(field, arg),
            Stored::Logged(e) => e.stored(field, arg),
        }
    }
}

/// Visits every event stored in `path` (a store directory or one segment file) in sequence
/// order with its id, until `visit` breaks.
pub fn read_events(
    path: &Path,
    mut visit: impl FnMut(&EventId, &Stored<'_>) -> ControlFlow<()>,
) -> Result<ReadReport, FilesError> {
    let mut report = ReadReport::default();
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if meta.is_file() {
        let (node, incarnation) = segment_identity(path)?;
        // One file: a break ends the read either way.
        let _ = read_segment(path, &node, incarnation, &mut report, &mut visit)?;
        return Ok(report);
    }
    let Some(file) = manifest::load(path)? else {
        return Err(FilesError::NotStoreFiles {
            path: path.display().to_string(),
        });
    };
    if file.schema_version != SCHEMA_VERSION {
        return Err(FilesError::SchemaVersion {
            path: path.display().to_string(),
            found: file.schema_version.to_string(),
        });
    }
    let mut sealed_through = file.removed_through;
    for seg in &file.segments {
        sealed_through = sealed_through.max(seg.last_seq);
        let seg_path = path.join(&seg.file);
        if !seg_path.exists() {
            report.vanished.push(seg.file.clone());
            continue;
        }
        let flow = read_segment(
            &seg_path,
            &file.node,
            file.incarnation,
            &mut report,
            &mut visit,
        );
        match flow {
            Ok(ControlFlow::Break(())) => return Ok(report),
            Ok(ControlFlow::Continue(())) => {}
            // Removed between the check and the open: the owner's retention won the race.
            Err(FilesError::Segment(SegmentError::Io { source, .. }))
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                report.vanished.push(seg.file.clone());
            }
            Err(e) => return Err(e),
        }
    }
    let wal_path = path.join(WAL_FILE);
    let log = match std::fs::read(&wal_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(&wal_path, e)),
    };
    let read = wal::read(&log);
    report.torn_log = read.torn;
    // Between sealing a segment and emptying the log both hold the same events: the
    // segment's copy counts.
    let mut logged: Vec<_> = read
        .events
        .iter()
        .filter(|l| l.seq > sealed_through)
        .collect();
    logged.sort_by_key(|l| l.seq);
    for l in logged {
        let id = EventId {
            node: file.node.clone(),
            incarnation: file.incarnation,
            seq: l.seq,
        };
        report.events += 1;
        if visit(&id, &Stored::Logged(&l.event)).is_break() {
            break;
        }
    }
    Ok(report)
}

fn io(path: &Path, source: std::io::Error) -> FilesError {
    FilesError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The node and incarnation a segment file's metadata names.
fn segment_identity(path: &Path) -> Result<(String, u64), FilesError> {
    let meta = segment::key_values(path)?;
    let get = |key: &'static str| {
        meta.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or(FilesError::Identity {
                path: path.display().to_string(),
                key,
            })
    };
    let version = get(schema::META_SCHEMA_VERSION)?;
    if version != SCHEMA_VERSION.to_string() {
        return Err(FilesError::SchemaVersion {
            path: path.display().to_string(),
            found: version.to_string(),
        });
    }
    let node = get(schema::META_NODE)?.to_string();
    crate::id::check_node(&node).map_err(|_| FilesError::Identity {
        path: path.display().to_string(),
        key: schema::META_NODE,
    })?;
    let incarnation = get(schema::META_INCARNATION)?
        .parse()
        .map_err(|_| FilesError::Identity {
            path: path.display().to_string(),
            key: schema::META_INCARNATION,
        })?;
    Ok((node, incarnation))
}

fn read_segment(
    path: &Path,
    node: &str,
    incarnation: u64,
    report: &mut ReadReport,
    visit: &mut impl FnMut(&EventId, &Stored<'_>) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, FilesError> {
    let plan = ReadPlan {
        fields: None,
        seq: (0, u64::MAX),
        time: (i64::MIN, i64::MAX),
        newest_first: false,
    };
    let mut id = EventId {
        node: node.to_string(),
        incarnation,
        seq: 0,
    };
    let mut flow = ControlFlow::Continue(());
    segment::read(path, &plan, |rb| {
        let batch = Batch::new(&rb).map_err(|e| SegmentError::Parquet {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        for i in 0..batch.len() {
            let row = batch.row(i);
            id.seq = row.seq();
            report.events += 1;
            if visit(&id, &Stored::Row(row)).is_break() {
                flow = ControlFlow::Break(());
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    report.segments += 1;
    Ok(flow)
}
