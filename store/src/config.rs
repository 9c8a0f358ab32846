//! The store's settings, with defaults that cannot fill a disk.

use std::time::Duration;

/// When the open segment's log is synced to stable storage. Every policy survives the death of
/// the process (an acknowledged event's log record is in the kernel's page cache); the policy
/// decides what a power loss or kernel crash may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Sync before `append` returns: nothing acknowledged is lost to a power loss.
    Always,
    /// Sync at most this long after an append (by a later append or by `maintain`): a power
    /// loss takes at most this much of acknowledged events.
    Interval(Duration),
    /// Leave it to the kernel (sealing still syncs segments and the manifest).
    Never,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub fsync: Fsync,
    /// Seal the open segment after this long without a new event.
    pub seal_idle: Duration,
    /// Seal the open segment at this many events…
    pub seal_rows: usize,
    /// …or at this many bytes held in memory (an estimate), whichever comes first.
    pub seal_bytes: usize,
    /// …or when its log reaches this many bytes (which bounds the log on disk).
    pub seal_log_bytes: u64,
    /// Rows of one in-memory chunk of the open segment.
    pub chunk_rows: usize,
    /// Drop sealed segments whose newest event is older than this.
    pub retention_age: Option<Duration>,
    /// Drop the oldest sealed segments while the sealed segments take more than this.
    pub retention_bytes: Option<u64>,
    /// Refuse new events (counted as lost) while the file system has less free space than this.
    pub free_floor: u64,
    /// Sealed segments with fewer rows than this are compacted with their neighbours…
    pub compact_below_rows: u64,
    /// …into segments of at most this many rows.
    pub compact_target_rows: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fsync: Fsync::Interval(Duration::from_secs(1)),
            seal_idle: Duration::from_secs(5),
            seal_rows: 1 << 20,
            seal_bytes: 256 << 20,
            seal_log_bytes: 256 << 20,
            chunk_rows: 64 * 1024,
            retention_age: Some(Duration::from_secs(7 * 24 * 3600)),
            retention_bytes: Some(8 << 30),
            free_floor: 1 << 30,
            compact_below_rows: 64 * 1024,
            compact_target_rows: 1 << 20,
        }
    }
}
