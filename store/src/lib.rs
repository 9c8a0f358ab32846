//! The event store: every event appended to an open segment with a write-ahead log, sealed into
//! immutable Parquet segment files listed by an atomically switched manifest; retention drops
//! whole segments; scans push event types, time range and columns down and expose rows through
//! the engine's `FieldSource`. The layout is published in `store/SCHEMA.md`.
//!
//! ```text
//! append ─▶ open.wal (framed, checksummed) ─▶ column builders ─▶ chunks ─┐ scans see chunks
//!                                   seal (idle 5 s, size, close) ◀───────┘
//!                                     └▶ seg-FIRST-LAST.parquet ─▶ manifest.json (rename)
//! ```
#![forbid(unsafe_code)]

mod columns;
pub mod config;
pub mod files;
pub mod id;
mod manifest;
pub mod rows;
pub mod scan;
pub mod schema;
mod segment;
mod store;
mod wal;

pub use config::{Config, Fsync};
pub use files::{FilesError, ReadReport, Stored, read_events};
pub use id::{EventId, IdError};
pub use manifest::{ManifestError, Segment, SegmentMeta, Snapshot};
pub use rows::Row;
pub use scan::{Found, ScanError, ScanPage, ScanRequest};
pub use segment::SegmentError;
pub use store::{
    AppendError, Compacted, DiskUse, Losses, MaintainError, Maintained, OpenError, OpenReport,
    Retained, Retention, SealError, SetAside, Store, TornLog,
};
