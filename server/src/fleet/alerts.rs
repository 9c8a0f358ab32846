//! The nodes' alerts over NATS: each node publishes NDJSON of `NodeAlert`s on its own subject
//! of the alerts stream (JetStream, file storage, bounded, refusing new messages when full);
//! the studio reads them with a durable consumer, stores each alert once under its node's id
//! (as `POST /api/v1/alerts` does), and acknowledges a message only after its commit, so a
//! studio or NATS restart redelivers what was not stored and a redelivery is a duplicate.
//! The node is the subject's, never the payload's.

use crate::node_alerts;
use crate::state::AppState;
use async_nats::jetstream::{self, AckKind, consumer, stream};
use futures::StreamExt;
use rulestudio_api::fleet;
use std::time::Duration;

/// The studio's durable consumer of the alerts stream.
const CONSUMER: &str = "rulestudio-studio";

/// How long a message whose alerts could not be stored waits before its redelivery.
const RETRY: Duration = Duration::from_secs(2);

/// Takes alerts until the task is aborted, setting the stream up again after a failure.
pub async fn take(state: AppState, client: async_nats::Client) {
    let context = jetstream::new(client);
    loop {
        if let Err(e) = consume(&state, &context).await {
            tracing::warn!("taking alerts from {}: {e}", fleet::ALERTS_STREAM);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The alerts stream as the studio wants it (made if missing).
pub async fn stream(context: &jetstream::Context) -> anyhow::Result<stream::Stream> {
    Ok(context
        .get_or_create_stream(stream::Config {
            name: fleet::ALERTS_STREAM.into(),
            description: Some("Rulestudio: alerts the nodes raised".into()),
            subjects: vec![fleet::ALERTS.into()],
            storage: stream::StorageType::File,
            max_bytes: fleet::ALERTS_STREAM_MAX_BYTES,
            discard: stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await?)
}

async fn consume(state: &AppState, context: &jetstream::Context) -> anyhow::Result<()> {
    let consumer = stream(context)
        .await?
        .get_or_create_consumer(
            CONSUMER,
            consumer::pull::Config {
                durable_name: Some(CONSUMER.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let ack = match take_one(state, &message.subject, &message.payload).await {
            Taken::Stored => AckKind::Ack,
            // Never storable: redelivering it would only repeat the refusal.
            Taken::Refused => AckKind::Term,
            Taken::Retry => AckKind::Nak(Some(RETRY)),
        };
        if let Err(e) = message.ack_with(ack).await {
            tracing::warn!("acknowledging an alerts message: {e}");
        }
    }
    Ok(())
}

enum Taken {
    Stored,
    Refused,
    Retry,
}

async fn take_one(state: &AppState, subject: &str, payload: &[u8]) -> Taken {
    let Some(node) = fleet::node_of_alerts(subject) else {
        tracing::warn!(subject, "alerts on a subject that names no node: refused");
        return Taken::Refused;
    };
    let received = match std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(|text| node_alerts::parse(text).map_err(|e| e.to_string()))
    {
        Ok(received) => received,
        Err(e) => {
            tracing::warn!(node, "alerts that are not node alerts: refused: {e}");
            return Taken::Refused;
        }
    };
    if let Some(other) = received.iter().find(|r| r.alert.node != node) {
        tracing::warn!(
            node,
            claimed = other.alert.node,
            "alerts naming another node than their subject's: refused"
        );
        return Taken::Refused;
    }
    match node_alerts::store(state, received).await {
        Ok(stored) => {
            if stored.duplicate > 0 {
                tracing::debug!(
                    node,
                    stored.duplicate,
                    "alerts stored before: left as they are"
                );
            }
            crate::alerting::publish(state, stored.inserted);
            Taken::Stored
        }
        Err(e) => {
            tracing::warn!(node, "alerts not stored, asked again in {RETRY:?}: {e}");
            Taken::Retry
        }
    }
}
