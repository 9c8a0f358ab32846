//! What a node keeps in its state directory (`--state-dir`): files replaced whole by rename,
//! so a crash leaves the old content or the new, never a mix.

use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a saved {what}: {message}")]
    Corrupt {
        path: String,
        what: &'static str,
        message: String,
    },
}

pub fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The content of `name` in `dir`, `None` when there is no such file.
pub fn read(dir: &Path, name: &str) -> Result<Option<String>, StateError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path, e)),
    }
}

/// Replaces `name` in `dir` with `bytes`, durably (file and directory synced) before it returns.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StateError> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}
