//! The live set to the nodes: each version's `LiveSet` JSON goes into the object store (chunked,
//! so no `max_payload` applies), then the bucket's one key points to it. At start the current
//! version is published, then every promoted or rolled-back one.

use crate::state::AppState;
use async_nats::jetstream::{self, object_store};
use futures::StreamExt;
use rulestudio_api::fleet::{self, LivePointer};
use rulestudio_api::protocol::Version;
use std::time::Duration;

const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Publishes the current version, and again after each change, until the task is aborted. A
/// failure (NATS away) is retried with backoff, always with the version current by then.
pub async fn publish(state: AppState, client: async_nats::Client) {
    let context = jetstream::new(client);
    let mut versions = state.live.versions();
    let mut published = 0;
    let mut backoff = BACKOFF_MIN;
    loop {
        versions.mark_unchanged();
        let snapshot = state.live.current();
        if snapshot.version != published {
            let set = snapshot.to_api(state.config.rule_matching);
            match put(&context, &set).await {
                Ok(()) => {
                    tracing::info!(version = set.version, "live set published to the fleet");
                    published = set.version;
                    backoff = BACKOFF_MIN;
                }
                Err(e) => {
                    tracing::warn!(
                        version = set.version,
                        "publishing the live set to the fleet, retrying in {backoff:?}: {e}"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            }
        }
        if versions.changed().await.is_err() {
            return;
        }
    }
}

async fn put(
    context: &jetstream::Context,
    set: &rulestudio_api::live::LiveSet,
) -> anyhow::Result<()> {
    // The bucket's stream as `create_key_value` makes it: that call first asks for the
    // account's info, whose answer from nats-server 2.9 async-nats 0.52 cannot read.
    context
        .get_or_create_stream(jetstream::stream::Config {
            name: format!("KV_{}", fleet::LIVE_BUCKET),
            description: Some("Rulestudio: the current live set's pointer".into()),
            subjects: vec![format!("$KV.{}.>", fleet::LIVE_BUCKET)],
            max_messages_per_subject: 1,
            storage: jetstream::stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: jetstream::stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await?;
    let bucket = context.get_key_value(fleet::LIVE_BUCKET).await?;
    let objects = match context.get_object_store(fleet::LIVE_OBJECTS).await {
        Ok(objects) => objects,
        Err(_) => {
            context
                .create_object_store(object_store::Config {
                    bucket: fleet::LIVE_OBJECTS.into(),
                    description: Some("Rulestudio: live-set versions".into()),
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await?
        }
    };
    let body = serde_json::to_vec(set)?;
    let object = fleet::live_object(set.version);
    objects.put(object.as_str(), &mut body.as_slice()).await?;
    let pointer = LivePointer {
        format: Version::CURRENT,
        version: set.version,
        object,
        size: body.len() as u64,
    };
    bucket
        .put(fleet::LIVE_KEY, serde_json::to_vec(&pointer)?.into())
        .await?;
    // Older versions go; the previous one stays for a node that is reading it now.
    let mut listed = objects.list().await?;
    let mut stale = Vec::new();
    while let Some(info) = listed.next().await {
        let info = info?;
        if fleet::live_object_version(&info.name).is_some_and(|v| v < set.version - 1) {
            stale.push(info.name);
        }
    }
    for name in stale {
        objects.delete(&name).await?;
    }
    Ok(())
}
