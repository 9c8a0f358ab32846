//! Taking a new live version, whatever brought it (REST long poll, NATS key-value watch): it is
//! compiled off the async threads and installed whole, and a verified version is saved
//! (`live-set.json` in the state directory, replaced by rename) and restored at the next start,
//! so a node evaluates while the studio is away.

use crate::live::{self, Live};
use rulestudio_api::live::LiveSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The saved last verified version, in the node's state directory.
pub const STATE_FILE: &str = "live-set.json";

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a saved live set: {message}")]
    Corrupt { path: String, message: String },
}

/// A node's live set with its saved copy.
pub struct Saved {
    dir: Option<PathBuf>,
    live: Arc<Live>,
}

impl Saved {
    /// Saves verified versions in `dir` when given (else keeps them in memory only).
    pub fn new(dir: Option<&Path>, live: Arc<Live>) -> Saved {
        Saved {
            dir: dir.map(Path::to_path_buf),
            live,
        }
    }

    pub fn live(&self) -> &Arc<Live> {
        &self.live
    }

    /// Installs the saved version, if there is one and it compiles here; returns its number.
    /// Run at start, before following, so a node evaluates while the studio is away.
    pub fn restore(&self) -> Result<Option<i64>, SavedError> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e)),
        };
        let set: LiveSet = serde_json::from_str(&text).map_err(|e| SavedError::Corrupt {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let version = set.version;
        match live::compile(set) {
            Ok(rules) => {
                self.live.install(rules);
                Ok(Some(version))
            }
            // Saved by an older engine that compiled it; this one does not: say so, run nothing.
            Err(e) => {
                self.live.refuse(e);
                Ok(None)
            }
        }
    }

    /// Compiles `set` and installs it, or keeps the current version and reports why not.
    pub async fn take(&self, set: LiveSet) {
        let saved = serde_json::to_vec(&set).expect("a live set serialises");
        let compiled = tokio::task::spawn_blocking(move || live::compile(set)).await;
        match compiled {
            Ok(Ok(rules)) => {
                let version = rules.set.version;
                self.live.install(rules);
                if let Err(e) = self.save(&saved) {
                    tracing::warn!("live set version {version} runs but is not saved: {e}");
                }
            }
            Ok(Err(e)) => self.live.refuse(e),
            Err(e) => tracing::error!("compiling the live set: {e}"),
        }
    }

    /// Replaces the saved version with `bytes`: a whole old file or a whole new one.
    fn save(&self, bytes: &[u8]) -> Result<(), SavedError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let path = dir.join(STATE_FILE);
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))
    }
}

fn io(path: &Path, source: std::io::Error) -> SavedError {
    SavedError::Io {
        path: path.display().to_string(),
        source,
    }
}
