//! The manifest: the store's identity and its live sealed segments, written as
//! `manifest.json` by write-to-temporary, sync, atomic rename and directory sync, so that a crash
//! leaves the previous manifest or the next, never a torn one.
//!
//! Readers take an `Arc<Snapshot>`; a segment dropped by retention or replaced by compaction
//! is deleted from disk only when the last snapshot holding it goes (its [`Segment`]'s `Drop`),
//! so nothing is deleted under a running scan.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub const FILE: &str = "manifest.json";

/// One sealed segment as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeta {
    pub file: String,
    pub first_seq: u64,
    pub last_seq: u64,
    pub rows: u64,
    pub bytes: u64,
    pub min_time: i64,
    pub max_time: i64,
    /// The `evt.type` names of its rows, sorted.
    pub evt_types: Vec<String>,
    /// Whether some row has no `evt.type` (such rows meet every rule, so no type filter may
    /// skip the segment).
    pub untyped: bool,
}

/// The manifest as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    pub schema_version: u32,
    pub node: String,
    pub incarnation: u64,
    /// Every sequence number up to this one was dropped by retention (0: none).
    pub removed_through: u64,
    pub segments: Vec<SegmentMeta>,
}

/// A live sealed segment.
#[derive(Debug)]
pub struct Segment {
    pub meta: SegmentMeta,
    pub path: PathBuf,
    /// Set when the segment leaves the manifest; the file goes with the last reference.
    removed: AtomicBool,
}

impl Segment {
    pub fn new(dir: &Path, meta: SegmentMeta) -> Segment {
        Segment {
            path: dir.join(&meta.file),
            meta,
            removed: AtomicBool::new(false),
        }
    }

    /// Marks the segment for deletion once no snapshot holds it.
    pub fn mark_removed(&self) {
        self.removed.store(true, Ordering::Release);
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.removed.load(Ordering::Acquire) {
            // A failure leaves an unlisted file, which the next open removes (and reports).
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What readers see: the live segments in sequence order.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub removed_through: u64,
    pub segments: Vec<Arc<Segment>>,
}

impl Snapshot {
    /// The highest sequence number sealed or removed (0: none).
    pub fn sealed_through(&self) -> u64 {
        self.segments
            .last()
            .map_or(self.removed_through, |s| s.meta.last_seq)
            .max(self.removed_through)
    }

    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.meta.bytes).sum()
    }
}

/// Why the manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a store manifest: {message}")]
    Invalid { path: String, message: String },
}

fn io(path: &Path, source: std::io::Error) -> ManifestError {
    ManifestError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the manifest of `dir`, or `None` when the store is new.
pub fn load(dir: &Path) -> Result<Option<ManifestFile>, ManifestError> {
    let path = dir.join(FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path, e)),
    };
    let m: ManifestFile = serde_json::from_str(&text).map_err(|e| ManifestError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let ordered = m
        .segments
        .windows(2)
        .all(|w| w[0].last_seq < w[1].first_seq);
    if !ordered || m.segments.iter().any(|s| s.first_seq > s.last_seq) {
        return Err(ManifestError::Invalid {
            path: path.display().to_string(),
            message: "segments overlap or are out of sequence order".into(),
        });
    }
    Ok(Some(m))
}

/// Replaces the manifest of `dir` with `m`, atomically and durably.
pub fn store(dir: &Path, m: &ManifestFile) -> Result<(), ManifestError> {
    let path = dir.join(FILE);
    let tmp = dir.join(format!("{FILE}.tmp"));
    let text = serde_json::to_string_pretty(m).expect("a manifest serialises");
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(text.as_bytes()).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    sync_dir(dir).map_err(|e| io(dir, e))
}

/// Makes renames and creations in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
