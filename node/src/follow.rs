//! Following the studio's live set over REST: a long poll on `GET /api/v1/live?after=N` that
//! the studio answers as soon as a version newer than N exists (or after `wait` seconds with
//! the current one), so a promotion reaches the node within the poll's round trip. Each new
//! version is taken as [`Saved::take`] says (compiled, installed whole, saved).

use crate::live::Live;
pub use crate::saved::STATE_FILE;
use crate::saved::Saved;
use crate::state::StateError;
use rulestudio_api::calls::{self, GetLive};
use rulestudio_api::client::{CallError, answer, request};
use rulestudio_api::live::LiveSet;
use rulestudio_api::query::LiveQuery;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

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
    #[error("{url}: {source}")]
    Call { url: String, source: CallError },
}

/// Follows the live set of one studio for one node.
pub struct Follower {
    client: reqwest::Client,
    /// The studio's base URL, which the live set's URL is built on.
    server: String,
    /// The live set's URL, for messages.
    url: String,
    token: String,
    saved: Saved,
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
            server: server.to_string(),
            url: calls::url::<GetLive>(server, &(), &LiveQuery::default()),
            token: token.to_string(),
            saved: Saved::new(state_dir, live),
        })
    }

    /// Installs the saved version, if there is one and it compiles here; returns its number.
    /// Run at start, before the first poll, so a node evaluates while the studio is away.
    pub fn restore(&self) -> Result<Option<i64>, FollowError> {
        Ok(self.saved.restore()?)
    }

    /// Follows the live set until the task is dropped, retrying with backoff while the
    /// studio is away.
    pub async fn run(self) {
        let mut seen = self.saved.live().current().map_or(0, |r| r.set.version);
        let mut backoff = BACKOFF_MIN;
        loop {
            match self.poll(seen, WAIT).await {
                Ok(set) => {
                    backoff = BACKOFF_MIN;
                    if set.version > seen {
                        seen = set.version;
                        self.saved.take(set).await;
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
        let seen = self.saved.live().current().map_or(0, |r| r.set.version);
        match self.poll(seen, Duration::ZERO).await {
            Ok(set) if set.version > seen => self.saved.take(set).await,
            Ok(_) => {}
            Err(e) => tracing::info!("the studio's live set is not reachable yet: {e}"),
        }
    }

    async fn poll(&self, after: i64, wait: Duration) -> Result<LiveSet, FollowError> {
        let http = |source| FollowError::Http {
            url: self.url.clone(),
            source,
        };
        let call = |source| FollowError::Call {
            url: self.url.clone(),
            source,
        };
        let query = LiveQuery {
            after: Some(after),
            wait: Some(wait.as_secs()),
        };
        let response = request::<GetLive>(&self.client, &self.server, &(), &query, &())
            .map_err(call)?
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
        answer::<GetLive>(response).await.map_err(call)
    }
}
