//! Taking a new live version, whatever brought it (REST long poll, NATS key-value watch): it is
//! compiled off the async threads and installed whole, and a verified version is saved
//! (`live-set.json` in the state directory, replaced by rename) and restored at the next start,
//! so a node evaluates while the studio is away.

use crate::live::{self, Live};
use crate::state::{self, StateError};
use rulestudio_api::live::LiveSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The saved last verified version, in the node's state directory.
pub const STATE_FILE: &str = "live-set.json";

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
    pub fn restore(&self) -> Result<Option<i64>, StateError> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let Some(text) = state::read(dir, STATE_FILE)? else {
            return Ok(None);
        };
        let set: LiveSet = serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
            path: dir.join(STATE_FILE).display().to_string(),
            what: "live set",
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
                // Saved before it runs: a node that reports a version (and a test or a restart
                // that follows the report) finds that version on disk.
                let version = rules.set.version;
                if let Err(e) = self.save(&saved) {
                    tracing::warn!("live set version {version} runs but is not saved: {e}");
                }
                self.live.install(rules);
            }
            Ok(Err(e)) => self.live.refuse(e),
            Err(e) => tracing::error!("compiling the live set: {e}"),
        }
    }

    /// Replaces the saved version with `bytes`: a whole old file or a whole new one.
    fn save(&self, bytes: &[u8]) -> Result<(), StateError> {
        match &self.dir {
            Some(dir) => state::write(dir, STATE_FILE, bytes),
            None => Ok(()),
        }
    }
}
