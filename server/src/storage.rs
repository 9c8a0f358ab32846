//! Whether the database can still be written, checked where SQLite cannot tell: an open SQLite
//! file whose directory was removed keeps accepting writes that vanish at the next start, and a
//! file that was read-only at start is opened read-only without complaint.
//!
//! `/healthz` reports the first problem found (503), and every request that may write is
//! refused with `storage_unavailable` naming it, instead of being "accepted" into a deleted
//! file or failing with a 500.

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The database file as it was when the server opened it, and the free-space floor.
#[derive(Debug)]
pub struct Storage {
    path: PathBuf,
    /// Device and inode of the file the server opened: the path naming another file (or none)
    /// means the open file is no longer the one a restart would read.
    identity: (u64, u64),
    min_free_bytes: u64,
}

/// Why the database cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Unwritable {
    #[error(
        "the database file {0} is gone (deleted, or its directory removed): writes would be lost at the next start"
    )]
    Gone(PathBuf),
    #[error(
        "the database file {0} is no longer the file the server opened (replaced since): restart the server"
    )]
    Replaced(PathBuf),
    #[error("the database file {path} is read-only: {reason}")]
    ReadOnly { path: PathBuf, reason: String },
    #[error(
        "the disk of the database file {path} has {free_mb} MiB free, below the floor of {floor_mb} MiB (--min-free-disk-mb)"
    )]
    LowDisk {
        path: PathBuf,
        free_mb: u64,
        floor_mb: u64,
    },
    #[error("the database file {path} cannot be checked: {reason}")]
    Unknown { path: PathBuf, reason: String },
}

impl Storage {
    /// The file at `path`, which the server has just opened.
    pub fn opened(path: &Path, min_free_mb: u64) -> std::io::Result<Storage> {
        let meta = std::fs::metadata(path)?;
        Ok(Storage {
            path: path.to_path_buf(),
            identity: (meta.dev(), meta.ino()),
            min_free_bytes: min_free_mb.saturating_mul(1 << 20),
        })
    }

    /// The first reason the database cannot be written, if any: a few system calls, cheap
    /// enough for every write request.
    pub fn check(&self) -> Result<(), Unwritable> {
        let path = || self.path.clone();
        let unknown = |e: std::io::Error| Unwritable::Unknown {
            path: path(),
            reason: e.to_string(),
        };
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(Unwritable::Gone(path())),
            Err(e) => return Err(unknown(e)),
        };
        if (meta.dev(), meta.ino()) != self.identity {
            return Err(Unwritable::Replaced(path()));
        }
        // What SQLite needs of the file, asked the way it asks: a read-only mount, an immutable
        // file (`chattr +i`, which binds root too) or, for another user, its permissions.
        if let Err(e) = std::fs::OpenOptions::new().write(true).open(&self.path) {
            return Err(Unwritable::ReadOnly {
                path: path(),
                reason: e.to_string(),
            });
        }
        let fs = rustix::fs::statvfs(&self.path).map_err(|e| unknown(e.into()))?;
        let free = fs.f_bavail.saturating_mul(fs.f_frsize);
        if free < self.min_free_bytes {
            return Err(Unwritable::LowDisk {
                path: path(),
                free_mb: free >> 20,
                floor_mb: self.min_free_bytes >> 20,
            });
        }
        Ok(())
    }
}

/// Refuses every request that may write (any method but GET and HEAD) while the database
/// cannot be written.
pub async fn refuse_writes_when_unwritable(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD)
        && let Err(why) = state.storage.check()
    {
        return AppError::StorageUnavailable(why.to_string()).into_response();
    }
    next.run(req).await
}
