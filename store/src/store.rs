//! The store: opening (replay, repair, report), appending, sealing, retention, compaction.
//! Scans are in [`crate::scan`].
//!
//! Locks: `writer` (the open segment and its log) is taken before `manifest_lock` (the manifest's
//! writers: sealing, retention, compaction); readers only clone the `snapshot` `Arc`. Retention
//! and compaction do their work without `writer`, so ingest never waits for them.

use crate::columns::{self, Builders, ColumnRef};
use crate::config::{Config, Fsync};
use crate::id::{self, EventId, IdError};
use crate::manifest::{self, ManifestError, ManifestFile, Segment, SegmentMeta, Snapshot};
use crate::schema::{MAX_COLUMNS, SCHEMA_VERSION};
use crate::segment::{self, ReadPlan, SegmentError};
use crate::wal;
use arrow_array::RecordBatch;
use rulestudio_engine::event::Event;
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime};

pub(crate) const WAL_FILE: &str = "open.wal";
/// Held locked (`flock`) by the one process that owns the store while it is open.
const LOCK_FILE: &str = "lock";
const SET_ASIDE_DIR: &str = "set-aside";
/// How often the free space is looked up while appending.
const FREE_CHECK_EVERY: Duration = Duration::from_millis(100);

/// Why the store could not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("node name: {0}")]
    Node(#[from] IdError),
    #[error("the store in {dir} belongs to node '{found}', not '{wanted}'")]
    OtherNode {
        dir: String,
        found: String,
        wanted: String,
    },
    #[error(
        "the store in {dir} has schema version {found}; this build reads version {SCHEMA_VERSION}"
    )]
    SchemaVersion { dir: String, found: u32 },
    #[error(
        "the store in {dir} is open in another process (it holds {dir}/{LOCK_FILE}); \
         a store has one writer: give this one its own directory"
    )]
    InUse { dir: String },
}

/// Why an append was refused or failed. A refused batch is counted in [`Losses`].
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("refused: {free} bytes free in the store's file system, below the floor of {floor}")]
    BelowFreeFloor { free: u64, floor: u64 },
    #[error(
        "refused: event {index} of the batch has {values} values; at most {MAX_COLUMNS} are stored"
    )]
    EventTooWide { index: usize, values: usize },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Why sealing failed (the events stay in the log and the open segment).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Segment(#[from] SegmentError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn io_err(path: &Path, source: std::io::Error) -> OpenError {
    OpenError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The log's torn tail, found and cut at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornLog {
    /// Where the valid part of the log ends.
    pub offset: u64,
    /// Bytes cut after it (a record whose write a crash interrupted: never acknowledged).
    pub bytes_dropped: u64,
    pub reason: &'static str,
}

/// A file moved to `set-aside/` at open because it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub file: String,
    pub reason: String,
    /// The events the manifest says it held (0 for a file the manifest did not list).
    pub rows: u64,
    pub seqs: Option<(u64, u64)>,
}

/// What opening found and did. Nothing found damaged is dropped without appearing here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Whether the store was created by this open.
    pub created: bool,
    /// Events of the log put back into the open segment.
    pub replayed: u64,
    /// Events of the log already in sealed segments (a crash between sealing and clearing the
    /// log), skipped.
    pub already_sealed: u64,
    pub torn_log: Option<TornLog>,
    pub set_aside: Vec<SetAside>,
    /// Unlisted files whose events are all elsewhere (left by a crash during sealing,
    /// compaction or retention), deleted.
    pub leftovers_removed: Vec<String>,
}

/// Events refused, per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Losses {
    pub below_free_floor: u64,
    pub too_wide: u64,
}

/// The open segment's summary, kept as events arrive.
#[derive(Debug, Default)]
struct OpenMeta {
    first_seq: u64,
    last_seq: u64,
    rows: u64,
    min_time: i64,
    max_time: i64,
    evt_types: BTreeSet<String>,
    untyped: bool,
}

pub(crate) struct Writer {
    wal: File,
    wal_path: PathBuf,
    buf: Vec<u8>,
    /// The log's length.
    wal_len: u64,
    builders: Builders,
    /// Finished chunks of the open segment, in sequence order.
    pub(crate) chunks: Vec<Arc<RecordBatch>>,
    open: OpenMeta,
    next_seq: u64,
    last_append: Option<Instant>,
    /// When the log was last synced, and whether it has been written since.
    last_sync: Instant,
    unsynced: bool,
    free_checked: Option<Instant>,
    free: u64,
}

impl Writer {
    /// Makes every appended event visible to readers as a chunk.
    pub(crate) fn flush_chunk(&mut self) {
        if let Some(b) = self.builders.finish_chunk() {
            self.chunks.push(Arc::new(b));
        }
    }
}

/// An event store in one directory. `Send + Sync`: share it in an `Arc`.
pub struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) config: Config,
    pub(crate) node: String,
    pub(crate) incarnation: u64,
    pub(crate) writer: Mutex<Writer>,
    manifest_lock: Mutex<()>,
    pub(crate) snapshot: RwLock<Arc<Snapshot>>,
    losses: Mutex<Losses>,
    /// Locked for as long as the store is open (released when the process ends, however it
    /// ends): two writers would interleave the log and the manifest.
    owner: Mutex<Option<fs::File>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave the store's data half-written on disk (every
    // file switch is a rename); the in-memory state is still the last consistent one.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

fn segment_file(first: u64, last: u64) -> String {
    format!("seg-{first:020}-{last:020}.parquet")
}

/// Takes the store's lock, before anything in `dir` is read or repaired.
fn own(dir: &Path) -> Result<fs::File, OpenError> {
    let path = dir.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_err(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(OpenError::InUse {
            dir: dir.display().to_string(),
        }),
        Err(fs::TryLockError::Error(e)) => Err(io_err(&path, e)),
    }
}

fn parse_segment_file(name: &str) -> Option<(u64, u64)> {
    let range = name.strip_prefix("seg-")?.strip_suffix(".parquet")?;
    let (a, b) = range.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

impl Store {
    /// Opens (or creates) the store in `dir` for `node`: reads the manifest, checks every
    /// listed segment, replays the log into the open segment, cuts a torn log tail, and reports
    /// all it found.
    pub fn open(dir: &Path, node: &str, config: Config) -> Result<(Store, OpenReport), OpenError> {
        id::check_node(node)?;
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let owner = own(dir)?;
        let mut report = OpenReport::default();
        let mut file = match manifest::load(dir)? {
            Some(m) => m,
            None => {
                report.created = true;
                let m = ManifestFile {
                    schema_version: SCHEMA_VERSION,
                    node: node.to_string(),
                    // A new store's incarnation: its creation time, so ids from an earlier
                    // store in the same place do not repeat.
                    incarnation: now_ns().max(1) as u64,
                    removed_through: 0,
                    segments: Vec::new(),
                };
                manifest::store(dir, &m)?;
                m
            }
        };
        if file.node != node {
            return Err(OpenError::OtherNode {
                dir: dir.display().to_string(),
                found: file.node,
                wanted: node.to_string(),
            });
        }
        if file.schema_version != SCHEMA_VERSION {
            return Err(OpenError::SchemaVersion {
                dir: dir.display().to_string(),
                found: file.schema_version,
            });
        }

        // Listed segments must be whole; a damaged one is set aside and reported.
        let mut live = Vec::new();
        let mut changed = false;
        for meta in std::mem::take(&mut file.segments) {
            let path = dir.join(&meta.file);
            let problem = match fs::metadata(&path) {
                Err(e) => Some(format!("cannot be read: {e}")),
                Ok(m) if m.len() != meta.bytes => Some(format!(
                    "is {} bytes, the manifest says {}",
                    m.len(),
                    meta.bytes
                )),
                Ok(_) => match segment::verify(&path) {
                    Err(e) => Some(e.to_string()),
                    Ok(rows) if rows != meta.rows => {
                        Some(format!("has {rows} rows, the manifest says {}", meta.rows))
                    }
                    Ok(_) => None,
                },
            };
            match problem {
                None => live.push(meta),
                Some(reason) => {
                    set_aside(dir, &meta.file)?;
                    changed = true;
                    report.set_aside.push(SetAside {
                        file: meta.file.clone(),
                        reason,
                        rows: meta.rows,
                        seqs: Some((meta.first_seq, meta.last_seq)),
                    });
                }
            }
        }
        file.segments = live;
        if changed {
            manifest::store(dir, &file)?;
        }
        let snapshot = Snapshot {
            removed_through: file.removed_through,
            segments: file
                .segments
                .iter()
                .map(|m| Arc::new(Segment::new(dir, m.clone())))
                .collect(),
        };
        let sealed_through = snapshot.sealed_through();

        // The log: cut a torn tail, replay what is not sealed yet.
        let wal_path = dir.join(WAL_FILE);
        let log = match fs::read(&wal_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&wal_path, e)),
        };
        let read = wal::read(&log);
        let wal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&wal_path)
            .map_err(|e| io_err(&wal_path, e))?;
        if let Some(reason) = read.torn {
            wal.set_len(read.valid_len)
                .and_then(|_| wal.sync_all())
                .map_err(|e| io_err(&wal_path, e))?;
            report.torn_log = Some(TornLog {
                offset: read.valid_len,
                bytes_dropped: log.len() as u64 - read.valid_len,
                reason,
            });
        }
        let wal_range =
            read.events
                .iter()
                .map(|e| e.seq)
                .fold(None, |acc: Option<(u64, u64)>, s| {
                    Some(acc.map_or((s, s), |(lo, hi)| (lo.min(s), hi.max(s))))
                });

        // Files no manifest lists: leftovers whose events are elsewhere, or set aside.
        let listed: BTreeSet<&str> = file.segments.iter().map(|m| m.file.as_str()).collect();
        let entries = fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            if listed.contains(name.as_str()) {
                continue;
            }
            let leftover = if name.ends_with(".parquet.tmp") || name == "manifest.json.tmp" {
                true
            } else if let Some((first, last)) = parse_segment_file(&name) {
                last <= sealed_through
                    || wal_range.is_some_and(|(lo, hi)| lo <= first && last <= hi)
            } else {
                continue;
            };
            if leftover {
                fs::remove_file(dir.join(&name)).map_err(|e| io_err(&dir.join(&name), e))?;
                report.leftovers_removed.push(name);
            } else {
                set_aside(dir, &name)?;
                report.set_aside.push(SetAside {
                    file: name,
                    reason: "not listed in the manifest, and its events are not elsewhere".into(),
                    rows: 0,
                    seqs: None,
                });
            }
        }

        let store = Store {
            dir: dir.to_path_buf(),
            node: node.to_string(),
            incarnation: file.incarnation,
            writer: Mutex::new(Writer {
                wal,
                wal_path,
                buf: Vec::new(),
                wal_len: read.valid_len,
                builders: Builders::default(),
                chunks: Vec::new(),
                open: OpenMeta::default(),
                next_seq: sealed_through.max(wal_range.map_or(0, |r| r.1)) + 1,
                last_append: None,
                last_sync: Instant::now(),
                unsynced: false,
                free_checked: None,
                free: u64::MAX,
            }),
            manifest_lock: Mutex::new(()),
            snapshot: RwLock::new(Arc::new(snapshot)),
            losses: Mutex::new(Losses::default()),
            owner: Mutex::new(Some(owner)),
            config,
        };
        {
            let mut w = lock(&store.writer);
            for logged in read.events {
                if logged.seq <= sealed_through {
                    report.already_sealed += 1;
                    continue;
                }
                let new: BTreeSet<ColumnRef<'_>> = w.builders.missing(&logged.event).collect();
                if w.builders.columns() + new.len() > MAX_COLUMNS {
                    store
                        .seal_locked(&mut w)
                        .map_err(|e| io_err(dir, std::io::Error::other(e.to_string())))?;
                    // Sealing emptied the log; what is left of it is logged again below.
                }
                store.push(&mut w, logged.seq, logged.time, &logged.event);
                report.replayed += 1;
            }
            // The log must again hold exactly the open segment's events (a seal above
            // emptied it): re-log them when it does not.
            if w.open.rows > 0 && w.wal_len == 0 {
                store
                    .relog_open(&mut w)
                    .map_err(|e| io_err(dir, std::io::Error::other(e.to_string())))?;
            }
        }
        Ok((store, report))
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The id of sequence number `seq` of this store.
    pub fn id(&self, seq: u64) -> EventId {
        EventId {
            node: self.node.clone(),
            incarnation: self.incarnation,
            seq,
        }
    }

    /// Events refused so far, per reason.
    pub fn losses(&self) -> Losses {
        *lock(&self.losses)
    }

    /// The current snapshot of the sealed segments.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Appends `events` and returns their sequence numbers. An event's time is its `evt.time`
    /// when that is a non-negative integer (nanoseconds), otherwise `now_ns`. When this returns
    /// `Ok`, the events are in the log (they survive the death of the process; power loss per
    /// [`Fsync`]) and visible to scans.
    pub fn append(&self, events: &[Event], now_ns: i64) -> Result<Range<u64>, AppendError> {
        if let Some((index, e)) = events
            .iter()
            .enumerate()
            .find(|(_, e)| e.values().count() > MAX_COLUMNS)
        {
            lock(&self.losses).too_wide += events.len() as u64;
            return Err(AppendError::EventTooWide {
                index,
                values: e.values().count(),
            });
        }
        let mut w = lock(&self.writer);
        self.check_free(&mut w).inspect_err(|_| {
            lock(&self.losses).below_free_floor += events.len() as u64;
        })?;
        let first = w.next_seq;
        let mut start = 0;
        while start < events.len() {
            // The longest run that fits the open segment's column limit.
            let mut end = start;
            let mut added: BTreeSet<ColumnRef<'_>> = BTreeSet::new();
            while end < events.len() {
                let new: BTreeSet<ColumnRef<'_>> = w
                    .builders
                    .missing(&events[end])
                    .filter(|k| !added.contains(k))
                    .collect();
                if w.builders.columns() + added.len() + new.len() > MAX_COLUMNS {
                    break;
                }
                added.extend(new);
                end += 1;
            }
            if end == start {
                self.seal_locked(&mut w)?;
                continue;
            }
            self.log(&mut w, &events[start..end], now_ns)?;
            for e in &events[start..end] {
                let seq = w.next_seq;
                let time = columns::event_time(e).unwrap_or(now_ns);
                self.push(&mut w, seq, time, e);
            }
            start = end;
        }
        w.last_append = Some(Instant::now());
        if w.open.rows >= self.config.seal_rows as u64
            || w.wal_len >= self.config.seal_log_bytes
            || w.builders.bytes
                + w.chunks
                    .iter()
                    .map(|c| c.get_array_memory_size())
                    .sum::<usize>()
                >= self.config.seal_bytes
        {
            self.seal_locked(&mut w)?;
        }
        Ok(first..w.next_seq)
    }

    fn check_free(&self, w: &mut Writer) -> Result<(), AppendError> {
        if self.config.free_floor == 0 {
            return Ok(());
        }
        let due = w
            .free_checked
            .is_none_or(|t| t.elapsed() >= FREE_CHECK_EVERY);
        if due {
            let stat = rustix::fs::statvfs(&self.dir).map_err(|e| AppendError::Io {
                path: self.dir.display().to_string(),
                source: e.into(),
            })?;
            w.free = stat.f_bavail.saturating_mul(stat.f_frsize);
            w.free_checked = Some(Instant::now());
        }
        if w.free < self.config.free_floor {
            return Err(AppendError::BelowFreeFloor {
                free: w.free,
                floor: self.config.free_floor,
            });
        }
        Ok(())
    }

    /// Writes one log record for `events`, numbered from `w.next_seq`.
    fn log(&self, w: &mut Writer, events: &[Event], now_ns: i64) -> Result<(), AppendError> {
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        let numbered: Vec<(u64, i64, &Event)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    w.next_seq + i as u64,
                    columns::event_time(e).unwrap_or(now_ns),
                    e,
                )
            })
            .collect();
        wal::encode(&mut buf, &numbered);
        let result = self.write_log(w, &buf);
        w.buf = buf;
        result
    }

    fn write_log(&self, w: &mut Writer, record: &[u8]) -> Result<(), AppendError> {
        let io = |e| AppendError::Io {
            path: w.wal_path.display().to_string(),
            source: e,
        };
        w.wal.write_all(record).map_err(io)?;
        w.wal_len += record.len() as u64;
        w.unsynced = true;
        let due = match self.config.fsync {
            Fsync::Always => true,
            Fsync::Interval(d) => w.last_sync.elapsed() >= d,
            Fsync::Never => false,
        };
        if due {
            self.sync_log(w).map_err(|e| AppendError::Io {
                path: w.wal_path.display().to_string(),
                source: e,
            })?;
        }
        Ok(())
    }

    fn sync_log(&self, w: &mut Writer) -> std::io::Result<()> {
        w.wal.sync_data()?;
        w.last_sync = Instant::now();
        w.unsynced = false;
        Ok(())
    }

    /// Adds one (logged) event to the open segment.
    fn push(&self, w: &mut Writer, seq: u64, time: i64, event: &Event) {
        w.builders.push(seq, time, event);
        let o = &mut w.open;
        if o.rows == 0 {
            o.first_seq = seq;
            o.min_time = time;
            o.max_time = time;
        }
        o.rows += 1;
        o.last_seq = seq;
        o.min_time = o.min_time.min(time);
        o.max_time = o.max_time.max(time);
        match crate::scan::evt_type_name(event) {
            Some(t) => {
                if !o.evt_types.contains(t) {
                    o.evt_types.insert(t.to_string());
                }
            }
            None => o.untyped = true,
        }
        w.next_seq = seq + 1;
        if w.builders.rows() >= self.config.chunk_rows {
            w.flush_chunk();
        }
    }

    /// Writes the open segment's events into a fresh log (after a seal emptied it at open).
    fn relog_open(&self, w: &mut Writer) -> Result<(), AppendError> {
        w.flush_chunk();
        let mut buf = Vec::new();
        for chunk in w.chunks.clone() {
            let batch = crate::rows::Batch::new(&chunk).map_err(|e| AppendError::Io {
                path: w.wal_path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let events: Vec<(u64, i64, Event)> = (0..batch.len())
                .map(|r| {
                    let row = batch.row(r);
                    (row.seq(), row.time(), row.to_event())
                })
                .collect();
            let refs: Vec<(u64, i64, &Event)> =
                events.iter().map(|(s, t, e)| (*s, *t, e)).collect();
            wal::encode(&mut buf, &refs);
        }
        self.write_log(w, &buf)?;
        self.sync_log(w).map_err(|e| AppendError::Io {
            path: w.wal_path.display().to_string(),
            source: e,
        })
    }

    /// Seals the open segment now (no-op when it is empty).
    pub fn seal(&self) -> Result<(), SealError> {
        let mut w = lock(&self.writer);
        self.seal_locked(&mut w)
    }

    fn seal_locked(&self, w: &mut Writer) -> Result<(), SealError> {
        w.flush_chunk();
        if w.chunks.is_empty() {
            return Ok(());
        }
        let o = &w.open;
        let name = segment_file(o.first_seq, o.last_seq);
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let batches: Vec<RecordBatch> = w.chunks.iter().map(|c| (**c).clone()).collect();
        let bytes = segment::write(&tmp, &batches, &self.node, self.incarnation)?;
        let io = |p: &Path, e| SealError::Io {
            path: p.display().to_string(),
            source: e,
        };
        fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        let meta = SegmentMeta {
            file: name,
            first_seq: o.first_seq,
            last_seq: o.last_seq,
            rows: o.rows,
            bytes,
            min_time: o.min_time,
            max_time: o.max_time,
            evt_types: o.evt_types.iter().cloned().collect(),
            untyped: o.untyped,
        };
        self.switch(|snap| {
            snap.segments.push(Arc::new(Segment::new(&self.dir, meta)));
            Vec::new()
        })?;
        // The events are sealed: the log starts afresh.
        w.wal.set_len(0).map_err(|e| io(&w.wal_path, e))?;
        w.wal_len = 0;
        w.wal.sync_all().map_err(|e| io(&w.wal_path, e))?;
        w.last_sync = Instant::now();
        w.unsynced = false;
        w.chunks.clear();
        // The next segment starts with no columns (the column limit is per segment).
        w.builders = Builders::default();
        w.open = OpenMeta::default();
        Ok(())
    }

    /// Applies `change` to a copy of the snapshot, writes the manifest and publishes it; the
    /// segments `change` returns are marked removed (deleted when no reader holds them).
    fn switch(
        &self,
        change: impl FnOnce(&mut Snapshot) -> Vec<Arc<Segment>>,
    ) -> Result<(), ManifestError> {
        let _guard = lock(&self.manifest_lock);
        let mut next = (*self.snapshot()).clone();
        let removed = change(&mut next);
        manifest::store(
            &self.dir,
            &ManifestFile {
                schema_version: SCHEMA_VERSION,
                node: self.node.clone(),
                incarnation: self.incarnation,
                removed_through: next.removed_through,
                segments: next.segments.iter().map(|s| s.meta.clone()).collect(),
            },
        )?;
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        for s in removed {
            s.mark_removed();
        }
        Ok(())
    }

    /// Periodic work, for the owner to call about once a second: seals an idle open segment,
    /// syncs the log when the fsync interval is due, applies retention and compacts.
    pub fn maintain(&self) -> Result<Maintained, MaintainError> {
        let mut out = Maintained::default();
        {
            let mut w = lock(&self.writer);
            if w.unsynced
                && let Fsync::Interval(d) = self.config.fsync
                && w.last_sync.elapsed() >= d
            {
                self.sync_log(&mut w)
                    .map_err(|e| MaintainError::Io(e.to_string()))?;
            }
            let idle = w
                .last_append
                .is_some_and(|t| t.elapsed() >= self.config.seal_idle);
            if idle && w.open.rows > 0 {
                self.seal_locked(&mut w)?;
                out.sealed = true;
            }
        }
        let limits = Retention {
            age: self.config.retention_age,
            bytes: self.config.retention_bytes,
        };
        out.retention = self.retain(now_ns(), limits)?;
        out.compaction = self.compact()?;
        Ok(out)
    }

    /// Drops whole sealed segments, oldest first, while the oldest is past the age limit or the
    /// sealed segments exceed the byte limit. Reads only the manifest.
    pub fn retain(&self, now_ns: i64, limits: Retention) -> Result<Retained, ManifestError> {
        let age_cut = limits
            .age
            .map(|a| now_ns.saturating_sub(a.as_nanos().min(i64::MAX as u128) as i64));
        let mut out = Retained::default();
        let snap = self.snapshot();
        let mut bytes = snap.bytes();
        let mut n = 0;
        for s in &snap.segments {
            let too_old = age_cut.is_some_and(|cut| s.meta.max_time < cut);
            let too_big = limits.bytes.is_some_and(|b| bytes > b);
            if !(too_old || too_big) {
                break;
            }
            bytes -= s.meta.bytes;
            out.segments += 1;
            out.rows += s.meta.rows;
            out.bytes += s.meta.bytes;
            n += 1;
        }
        if n == 0 {
            return Ok(out);
        }
        let dropped: Vec<Arc<Segment>> = snap.segments[..n].to_vec();
        self.switch(|next| {
            // Only what is still the oldest (a concurrent compaction may have replaced it).
            let keep = next
                .segments
                .iter()
                .position(|s| !dropped.iter().any(|d| Arc::ptr_eq(d, s)))
                .unwrap_or(next.segments.len());
            let gone: Vec<Arc<Segment>> = next.segments.drain(..keep).collect();
            if let Some(last) = gone.last() {
                next.removed_through = next.removed_through.max(last.meta.last_seq);
            }
            gone
        })?;
        Ok(out)
    }

    /// Merges runs of adjacent small sealed segments. The merged file is written without any
    /// lock; the manifest switches only if the run is still live.
    pub fn compact(&self) -> Result<Compacted, SealError> {
        let snap = self.snapshot();
        let small = |s: &Arc<Segment>| s.meta.rows < self.config.compact_below_rows;
        let mut run: Vec<Arc<Segment>> = Vec::new();
        for s in &snap.segments {
            let total: u64 = run.iter().map(|r| r.meta.rows).sum::<u64>() + s.meta.rows;
            if small(s) && total <= self.config.compact_target_rows {
                run.push(s.clone());
            } else if run.len() >= 2 {
                break;
            } else {
                run.clear();
                if small(s) {
                    run.push(s.clone());
                }
            }
        }
        if run.len() < 2 {
            return Ok(Compacted::default());
        }
        let mut batches = Vec::new();
        let all = ReadPlan {
            fields: None,
            seq: (0, u64::MAX),
            time: (i64::MIN, i64::MAX),
            newest_first: false,
        };
        for s in &run {
            segment::read(&s.path, &all, |b| {
                batches.push(b);
                Ok(true)
            })?;
        }
        let first = run[0].meta.first_seq;
        let last = run[run.len() - 1].meta.last_seq;
        let name = segment_file(first, last);
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let bytes = segment::write(&tmp, &batches, &self.node, self.incarnation)?;
        fs::rename(&tmp, &path).map_err(|e| SealError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut types = BTreeSet::new();
        for s in &run {
            types.extend(s.meta.evt_types.iter().cloned());
        }
        let meta = SegmentMeta {
            file: name,
            first_seq: first,
            last_seq: last,
            rows: run.iter().map(|s| s.meta.rows).sum(),
            bytes,
            min_time: run.iter().map(|s| s.meta.min_time).min().unwrap_or(0),
            max_time: run.iter().map(|s| s.meta.max_time).max().unwrap_or(0),
            evt_types: types.into_iter().collect(),
            untyped: run.iter().any(|s| s.meta.untyped),
        };
        let merged = Arc::new(Segment::new(&self.dir, meta));
        let mut applied = false;
        self.switch(|next| {
            let at = next.segments.iter().position(|s| Arc::ptr_eq(s, &run[0]));
            let whole = at.is_some_and(|at| {
                next.segments.len() >= at + run.len()
                    && run
                        .iter()
                        .zip(&next.segments[at..])
                        .all(|(a, b)| Arc::ptr_eq(a, b))
            });
            match (whole, at) {
                (true, Some(at)) => {
                    applied = true;
                    next.segments
                        .splice(at..at + run.len(), [merged.clone()])
                        .collect()
                }
                _ => {
                    // The run changed meanwhile (retention): the merged file is not used.
                    merged.mark_removed();
                    Vec::new()
                }
            }
        })?;
        Ok(if applied {
            Compacted {
                merged: run.len(),
                rows: merged.meta.rows,
            }
        } else {
            Compacted::default()
        })
    }

    /// Seals the open segment and syncs; the same happens, best-effort, when a store is dropped.
    pub fn close(self) -> Result<(), SealError> {
        self.seal()
    }

    /// Leaves the store as a crash of its process would (nothing sealed, nothing flushed that
    /// `append` did not write), releasing only its lock, as the kernel does for a dead
    /// process: what the repair at the next open sees, within one process.
    pub fn abandon(self) {
        lock(&self.owner).take();
        std::mem::forget(self);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // An error leaves the events in the log, replayed at the next open.
        let mut w = lock(&self.writer);
        let _ = self.seal_locked(&mut w);
    }
}

fn set_aside(dir: &Path, name: &str) -> Result<(), OpenError> {
    let to = dir.join(SET_ASIDE_DIR);
    fs::create_dir_all(&to).map_err(|e| io_err(&to, e))?;
    fs::rename(dir.join(name), to.join(name)).map_err(|e| io_err(&dir.join(name), e))
}

/// What one [`Store::maintain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintained {
    pub sealed: bool,
    pub retention: Retained,
    pub compaction: Compacted,
}

/// Retention's limits (the configured ones in [`Store::maintain`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Drop segments whose newest event is older than this.
    pub age: Option<Duration>,
    /// Drop the oldest segments while the sealed segments take more than this.
    pub bytes: Option<u64>,
}

/// What retention dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    pub segments: u64,
    pub rows: u64,
    pub bytes: u64,
}

/// What compaction merged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Segments merged into one (0: none).
    pub merged: usize,
    pub rows: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MaintainError {
    #[error("syncing the log: {0}")]
    Io(String),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Bytes of the store's files: sealed segments (and the manifest), and the open segment's log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskUse {
    pub sealed: u64,
    pub log: u64,
}

impl Store {
    pub fn disk_use(&self) -> DiskUse {
        let snap = self.snapshot();
        let manifest = fs::metadata(self.dir.join(manifest::FILE)).map_or(0, |m| m.len());
        let log = lock(&self.writer).wal_len;
        DiskUse {
            sealed: snap.bytes() + manifest,
            log,
        }
    }

    /// The sequence number the next appended event gets.
    pub fn next_seq(&self) -> u64 {
        lock(&self.writer).next_seq
    }

    /// Events in the open segment (not sealed yet).
    pub fn open_rows(&self) -> u64 {
        lock(&self.writer).open.rows
    }
}
