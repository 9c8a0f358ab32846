//! Following the studio's live set over REST: a long poll on `GET /api/v1/live?after=N` that
//! the studio answers as soon as a version newer than N exists (or after `wait` seconds with
//! the current one), so a promotion reaches the node within the poll's round trip. Each new
//! version is compiled off the async threads and installed whole; a verified version is saved
//! (`live-set.json` in the state directory, replaced by rename) and restored at the next start.

use crate::live::{self, Live};
use crate::state::{self, StateError};
use rulestudio_api::live::LiveSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The saved last verified version, in the node's state directory.
pub const STATE_FILE: &str = "live-set.json";
/// How long the studio may hold a poll (`wait`), and the client's margin beyond it.
const WAIT: Duration = Duration::from_secs(20);
const MARGIN: Duration = Duration::from_secs(10);
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Client(String),
    #[error("the studio answered {status} for {url}")]
    Status { status: u16, url: String },
    #[error("{url}: {source}")]
    Http { url: String, source: reqwest::Error },
}

/// Follows the live set of one studio for one node.
pub struct Follower {
    client: reqwest::Client,
    url: String,
    token: String,
    state_dir: Option<PathBuf>,
    live: Arc<Live>,
}

impl Follower {
    /// A follower of the studio at `server` (its base URL), authenticating with `token` (a
    /// collector's), saving verified versions in `state_dir` when given.
    pub fn new(
        server: &str,
        token: &str,
        ca_cert: Option<&Path>,
        state_dir: Option<&Path>,
        live: Arc<Live>,
    ) -> Result<Follower, FollowError> {
        let client = rulestudio_api::client::builder(ca_cert)
            .map_err(FollowError::Client)?
            .timeout(WAIT + MARGIN)
            .build()
            .map_err(|e| FollowError::Client(e.to_string()))?;
        Ok(Follower {
            client,
            url: format!("{}/api/v1/live", server.trim_end_matches('/')),
            token: token.to_string(),
            state_dir: state_dir.map(Path::to_path_buf),
            live,
        })
    }

    /// Installs the saved version, if there is one and it compiles here; returns its number.
    /// Run at start, before the first poll, so a node evaluates while the studio is away.
    pub fn restore(&self) -> Result<Option<i64>, FollowError> {
        let Some(dir) = &self.state_dir else {
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

    /// Follows the live set until the task is dropped, retrying with backoff while the
    /// studio is away.
    pub async fn run(self) {
        let mut seen = self.live.current().map_or(0, |r| r.set.version);
        let mut backoff = BACKOFF_MIN;
        loop {
            match self.poll(seen, WAIT).await {
                Ok(set) => {
                    backoff = BACKOFF_MIN;
                    if set.version > seen {
                        seen = set.version;
                        self.take(set).await;
                    }
                }
                Err(e) => {
                    tracing::debug!("following the live set: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Takes the studio's current version if it is newer than the one running, without
    /// waiting for a change: at start, so the first events are judged with it. The studio
    /// being away is not an error here (the node runs what it has and follows later).
    pub async fn sync(&self) {
        let seen = self.live.current().map_or(0, |r| r.set.version);
        match self.poll(seen, Duration::ZERO).await {
            Ok(set) if set.version > seen => self.take(set).await,
            Ok(_) => {}
            Err(e) => tracing::info!("the studio's live set is not reachable yet: {e}"),
        }
    }

    async fn poll(&self, after: i64, wait: Duration) -> Result<LiveSet, FollowError> {
        let http = |source| FollowError::Http {
            url: self.url.clone(),
            source,
        };
        let response = self
            .client
            .get(&self.url)
            .query(&[("after", after), ("wait", wait.as_secs() as i64)])
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(http)?;
        if !response.status().is_success() {
            return Err(FollowError::Status {
                status: response.status().as_u16(),
                url: self.url.clone(),
            });
        }
        response.json().await.map_err(http)
    }

    /// Compiles `set` and installs it, or keeps the current version and reports why not.
    async fn take(&self, set: LiveSet) {
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
    fn save(&self, bytes: &[u8]) -> Result<(), FollowError> {
        match &self.state_dir {
            Some(dir) => Ok(state::write(dir, STATE_FILE, bytes)?),
            None => Ok(()),
        }
    }
}
