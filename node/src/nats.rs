//! Fleet mode's node side of NATS JetStream (decision 0025): following the live set through the
//! studio's key-value bucket, and heartbeats on the node's own subject.
//!
//! The bucket's one key holds a [`LivePointer`] to the version's object (objects are chunked, so
//! no size limit of the server's applies). A watch delivers the current pointer first, then each
//! change; a node that starts or whose watch ends (the connection was lost) watches again and so
//! gets the current version. Versions are taken as [`Saved::take`] says, like the REST follower.

use crate::live::Live;
use crate::saved::Saved;
use crate::state::StateError;
use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use rulestudio_api::collector::Heartbeat;
use rulestudio_api::fleet::{self, LivePointer};
use rulestudio_api::live::LiveSet;
use rulestudio_api::protocol::Unsupported;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum NatsFollowError {
    /// A JetStream call failed (the bucket does not exist yet, the connection is down…).
    #[error("{what}: {message}")]
    JetStream { what: String, message: String },
    #[error("{key} of bucket {bucket} is not a live-set pointer: {message}", bucket = fleet::LIVE_BUCKET, key = fleet::LIVE_KEY)]
    Pointer { message: String },
    #[error("the live-set pointer: {0}")]
    Format(#[from] Unsupported),
    #[error("object {object} is {size} bytes, above the {max} a node reads", max = fleet::MAX_LIVE_SET_BYTES)]
    TooLarge { object: String, size: u64 },
    #[error("object {object} is not live set version {version}: {message}")]
    Object {
        object: String,
        version: i64,
        message: String,
    },
    #[error("the watch of bucket {bucket} ended", bucket = fleet::LIVE_BUCKET)]
    WatchEnded,
}

fn js(what: String, e: impl std::fmt::Display) -> NatsFollowError {
    NatsFollowError::JetStream {
        what,
        message: e.to_string(),
    }
}

/// Follows the studio's live set over NATS for one node.
pub struct NatsFollower {
    client: async_nats::Client,
    saved: Saved,
}

impl NatsFollower {
    pub fn new(client: async_nats::Client, state_dir: Option<&Path>, live: Arc<Live>) -> Self {
        NatsFollower {
            client,
            saved: Saved::new(state_dir, live),
        }
    }

    /// Installs the saved version, as [`Saved::restore`]; run before [`NatsFollower::run`].
    pub fn restore(&self) -> Result<Option<i64>, StateError> {
        self.saved.restore()
    }

    /// Follows the live set until the task is dropped, watching again with backoff whenever the
    /// watch fails or ends.
    pub async fn run(self) {
        let context = jetstream::new(self.client.clone());
        let mut seen = self.saved.live().current().map_or(0, |r| r.set.version);
        let mut backoff = BACKOFF_MIN;
        loop {
            let before = seen;
            let e = self.follow(&context, &mut seen).await;
            if seen > before {
                backoff = BACKOFF_MIN;
            }
            tracing::debug!("following the live set over NATS: {e}");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Watches the pointer, taking each version newer than `seen`; returns why it stopped.
    async fn follow(&self, context: &jetstream::Context, seen: &mut i64) -> NatsFollowError {
        let kv = match context.get_key_value(fleet::LIVE_BUCKET).await {
            Ok(kv) => kv,
            Err(e) => return js(format!("bucket {}", fleet::LIVE_BUCKET), e),
        };
        let objects = match context.get_object_store(fleet::LIVE_OBJECTS).await {
            Ok(o) => o,
            Err(e) => return js(format!("object store {}", fleet::LIVE_OBJECTS), e),
        };
        let mut watch = match kv.watch_with_history(fleet::LIVE_KEY).await {
            Ok(w) => w,
            Err(e) => return js(format!("watching {}", fleet::LIVE_KEY), e),
        };
        while let Some(entry) = watch.next().await {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => return js(format!("watching {}", fleet::LIVE_KEY), e),
            };
            if entry.operation != kv::Operation::Put {
                continue;
            }
            let pointer = match pointer(&entry.value) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!("{e}");
                    continue;
                }
            };
            if pointer.version <= *seen {
                continue;
            }
            match fetch(&objects, &pointer).await {
                Ok(set) => {
                    *seen = pointer.version;
                    self.saved.take(set).await;
                }
                // Not retried: the same object would be read again; the next version may do.
                Err(e @ (NatsFollowError::TooLarge { .. } | NatsFollowError::Object { .. })) => {
                    *seen = pointer.version;
                    tracing::warn!("live set version {} not taken: {e}", pointer.version);
                }
                Err(e) => return e,
            }
        }
        NatsFollowError::WatchEnded
    }
}

fn pointer(value: &[u8]) -> Result<LivePointer, NatsFollowError> {
    let pointer: LivePointer =
        serde_json::from_slice(value).map_err(|e| NatsFollowError::Pointer {
            message: e.to_string(),
        })?;
    pointer.format.check()?;
    Ok(pointer)
}

/// Reads the version's object, at most [`fleet::MAX_LIVE_SET_BYTES`] of it.
async fn fetch(
    objects: &jetstream::object_store::ObjectStore,
    pointer: &LivePointer,
) -> Result<LiveSet, NatsFollowError> {
    let too_large = || NatsFollowError::TooLarge {
        object: pointer.object.clone(),
        size: pointer.size,
    };
    if pointer.size > fleet::MAX_LIVE_SET_BYTES {
        return Err(too_large());
    }
    let object = objects
        .get(&pointer.object)
        .await
        .map_err(|e| js(format!("object {}", pointer.object), e))?;
    let mut bytes = Vec::with_capacity(pointer.size as usize);
    object
        .take(fleet::MAX_LIVE_SET_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| js(format!("reading object {}", pointer.object), e))?;
    if bytes.len() as u64 > fleet::MAX_LIVE_SET_BYTES {
        return Err(too_large());
    }
    let bad = |message: String| NatsFollowError::Object {
        object: pointer.object.clone(),
        version: pointer.version,
        message,
    };
    let set: LiveSet = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if set.version != pointer.version {
        return Err(bad(format!("it holds version {}", set.version)));
    }
    Ok(set)
}

/// Publishes `beat` on the node's own heartbeat subject (core NATS: a lost one is replaced by
/// the next).
pub async fn publish_heartbeat(
    client: &async_nats::Client,
    beat: &Heartbeat,
) -> Result<(), async_nats::PublishError> {
    let body = serde_json::to_vec(beat).expect("a heartbeat serialises");
    client
        .publish(fleet::heartbeat_subject(&beat.node), body.into())
        .await
}

/// Publishes a node's alerts (NDJSON of `NodeAlert`s) on its own subject of the alerts stream,
/// and waits for JetStream's acknowledgement: `Ok` only once the stream holds them (a full
/// stream, or no stream yet, is an error and the caller keeps them).
pub async fn publish_alerts(
    client: &async_nats::Client,
    node: &str,
    ndjson: Vec<u8>,
) -> Result<(), async_nats::Error> {
    let context = jetstream::new(client.clone());
    context
        .publish(fleet::alerts_subject(node), ndjson.into())
        .await?
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_without_a_format_is_version_1_and_a_newer_one_is_refused_naming_the_versions() {
        let p = pointer(br#"{"version": 3, "object": "live-set-3", "size": 10}"#).unwrap();
        assert_eq!((p.format.0, p.version), (1, 3));
        let e = pointer(br#"{"format": 9, "version": 3, "object": "live-set-3", "size": 10}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("protocol version 9 is not one this side speaks (versions 1 to 1)"),
            "{e}"
        );
    }
}
