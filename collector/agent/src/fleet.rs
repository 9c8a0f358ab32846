//! Fleet mode (`--nats URL`, decision 0025): events stay on the node, in its own event store
//! (`--store`); the live set comes over NATS JetStream ([`rulestudio_node::nats`]) and the
//! heartbeats go back on the node's own subject; previews are answered over the node's store
//! on its own subject ([`rulestudio_node::preview`]). Nothing posts events to the studio.
//!
//! A replaying node (`--replay`) stays up after its file ends, so that it goes on answering.

use crate::deliver::{Config, Error, Summary, spawn_replay};
use crate::stats::Counters;
use rulestudio_api::fleet::connect::{ConnectError, NatsOptions, connect};
use rulestudio_engine::event::{Event, LayeredEvent, Value as FieldValue};
use rulestudio_node::Live;
use rulestudio_node::nats::{NatsFollower, publish_heartbeat};
use rulestudio_store::Store;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a stop waits for NATS to take the last heartbeat.
const LAST_HEARTBEAT: Duration = Duration::from_secs(2);

/// What fleet mode adds to [`Config`].
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// `--nats`
    pub url: String,
    /// `--nats-creds-file`
    pub creds_file: Option<PathBuf>,
    /// `--store`: the node's event store.
    pub store: PathBuf,
    /// `--retention-age`: sealed segments whose newest event is older go.
    pub retention_age: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(transparent)]
    Collector(#[from] Error),
    #[error(transparent)]
    Nats(#[from] ConnectError),
    #[error("opening the event store in {dir}: {source}")]
    Store {
        dir: String,
        source: rulestudio_store::OpenError,
    },
}

/// Runs a fleet node until `shutdown` resolves.
pub async fn run(
    config: Config,
    fleet: FleetConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<Summary, FleetError> {
    let client = connect(&NatsOptions {
        url: fleet.url.clone(),
        creds_file: fleet.creds_file.clone(),
        ca_cert: config.ca_cert.clone(),
        name: config.node.clone(),
    })
    .await?;
    let settings = rulestudio_store::Config {
        retention_age: Some(fleet.retention_age),
        ..rulestudio_store::Config::default()
    };
    let (store, report) =
        Store::open(&fleet.store, &config.node, settings).map_err(|source| FleetError::Store {
            dir: fleet.store.display().to_string(),
            source,
        })?;
    tracing::info!(dir = %fleet.store.display(), node = %config.node,
        incarnation = store.incarnation(), replayed = report.replayed, "event store open");
    let store = Arc::new(store);
    let maintaining = tokio::spawn(rulestudio_node::events::maintain(store.clone()));

    let live = Arc::new(Live::default());
    let follower = NatsFollower::new(client.clone(), config.state_dir.as_deref(), live.clone());
    if let Err(e) = follower.restore() {
        tracing::warn!("the saved live set is not used: {e}");
    }
    let following = tokio::spawn(follower.run());
    let answering = tokio::spawn(rulestudio_node::preview::answer(
        client.clone(),
        config.node.clone(),
        store.clone(),
    ));

    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let replaying = config.replay.is_some();
    let (mut rx, capture_thread) = match &config.replay {
        Some(path) => (spawn_replay(path.clone())?, None),
        None => {
            // A fleet node does not enforce yet: the kernel's enforcement maps go unused.
            let c = crate::capture::spawn(
                &config.kernel,
                config.cri_socket.clone(),
                counters.clone(),
                stop.clone(),
            )
            .map_err(Error::from)?;
            (c.events, Some(c.thread))
        }
    };

    let heartbeat = || {
        let mut beat = counters.snapshot(&config.node);
        let report = live.report();
        beat.live_version = report.live_version;
        beat.compile_error = report.compile_error;
        beat.engine_version = Some(rulestudio_node::live::engine_version());
        let client = client.clone();
        async move {
            if let Err(e) = publish_heartbeat(&client, &beat).await {
                tracing::debug!("heartbeat not published: {e}");
            }
        }
    };
    let mut beat = tokio::time::interval(config.heartbeat);
    let mut live_changes = live.subscribe();
    tokio::pin!(shutdown);
    let (mut source_done, mut stopping) = (false, false);
    loop {
        tokio::select! {
            chunk = rx.recv(), if !source_done => match chunk {
                Some(chunk) => {
                    if replaying {
                        counters.add_captured(chunk.len() as u64);
                    }
                    append(&store, &counters, chunk).await;
                }
                None => {
                    source_done = true;
                    if stopping || !replaying {
                        break;
                    }
                    tracing::info!("replay delivered; the node stays up until it is stopped");
                }
            },
            _ = &mut shutdown, if !stopping => {
                stopping = true;
                // The capture thread drains the ring once more, then closes the channel.
                stop.store(true, Ordering::Relaxed);
                if source_done {
                    break;
                }
            }
            _ = beat.tick() => { tokio::spawn(heartbeat()); }
            Ok(()) = live_changes.changed() => { tokio::spawn(heartbeat()); }
        }
    }
    if let Some(h) = capture_thread {
        let _ = tokio::task::spawn_blocking(move || h.join()).await;
    }
    following.abort();
    answering.abort();
    maintaining.abort();
    // The last heartbeat, if NATS is there to take it: a flush waits for the server, which may
    // be gone for good.
    let last = async {
        heartbeat().await;
        client.flush().await
    };
    match tokio::time::timeout(LAST_HEARTBEAT, last).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!("last heartbeat not flushed: {e}"),
        Err(_) => tracing::debug!("last heartbeat not flushed within {LAST_HEARTBEAT:?}"),
    }
    rulestudio_node::events::seal(store).await;
    Ok(Summary {
        counters: counters.snapshot(&config.node),
    })
}

/// Appends events to the store, off the async threads, as the capture built them (no JSON in
/// between); one without `evt.time` happened now.
async fn append(store: &Arc<Store>, counters: &Arc<Counters>, chunk: Vec<LayeredEvent>) {
    let store = store.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let now = now_ns();
        let time = rulestudio_engine::fields::get("evt.time").expect("evt.time is a field");
        let events: Vec<Event> = chunk
            .iter()
            .map(|e| {
                let mut ev = e.to_event();
                if ev.get(time, None).is_none() {
                    ev.set(time, None, FieldValue::Int(now));
                }
                ev
            })
            .collect();
        let stored = store.append(&events, now).map(|r| r.end - r.start);
        (stored, events.len() as u64)
    })
    .await;
    match stored {
        Ok((Ok(stored), _)) => counters.add_sent(stored),
        Ok((Err(e), n)) => {
            counters.add_dropped(n);
            tracing::warn!("{n} events not stored: {e}");
        }
        Err(e) => tracing::error!("storing events: {e}"),
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
