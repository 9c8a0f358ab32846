//! Fleet mode (`--nats URL`, decision 0025): events stay on the node, in its own event store
//! (`--store`); the live set comes over NATS JetStream ([`rulestudio_node::nats`]) and the
//! heartbeats go back on the node's own subject; previews are answered over the node's store
//! on its own subject ([`rulestudio_node::preview`]), and so is a look-up of one event by id
//! ([`rulestudio_node::lookup`]). Nothing posts events to the studio.
//!
//! The node judges its events against the live set as it stores them (the same
//! [`rulestudio_node::Evaluator`] as a node over REST); each alert names its event by its id in
//! the node's store and goes through the alert spool (`--spool`/alerts, else
//! `--state-dir`/alerts, else memory; bounded by `--alert-spool-max`) to the alerts stream, and
//! leaves the spool only once JetStream has acknowledged it.
//!
//! A replaying node (`--replay`) stays up after its file ends, so that it goes on answering.

use crate::deliver::{Config, Error, Summary, spawn_replay};
use crate::spool::{Batch, Spool};
use crate::stats::Counters;
use rulestudio_api::alerts::BatchPlace;
use rulestudio_api::fleet::connect::{ConnectError, NatsOptions, connect};
use rulestudio_engine::event::{Event, LayeredEvent, Value as FieldValue};
use rulestudio_node::nats::{NatsFollower, publish_alerts, publish_heartbeat};
use rulestudio_node::{AlertIds, Evaluator, Live};
use rulestudio_store::Store;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a stop waits for NATS to take the last heartbeat.
const LAST_HEARTBEAT: Duration = Duration::from_secs(2);

/// How long a start waits for the live set before taking events (they are judged with it).
const LIVE_AT_START: Duration = Duration::from_secs(5);

/// The largest alerts message: well under NATS's default `max_payload` (1 MB).
const ALERTS_MESSAGE_BYTES: usize = 512 << 10;

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
    #[error(transparent)]
    Spool(#[from] crate::spool::SpoolError),
    #[error("the alert counter: {0}")]
    AlertIds(#[from] rulestudio_node::state::StateError),
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
    let counters = Arc::new(Counters::default());
    let alert_dir = (config.spool.as_ref().map(|d| d.join("alerts")))
        .or_else(|| config.state_dir.as_ref().map(|d| d.join("alerts")));
    let alerts = Arc::new(Alerts {
        spool: std::sync::Mutex::new(Spool::open(alert_dir.as_deref(), config.alert_spool_max)?),
        pushed: tokio::sync::Notify::new(),
        counters: counters.clone(),
    });
    let publishing = tokio::spawn(publish(alerts.clone(), client.clone(), config.node.clone()));
    let ids = AlertIds::open(&config.node, config.state_dir.as_deref())?;
    let mut judge = Some(Evaluator::new(
        live.clone(),
        &config.node,
        ids,
        config.rate_limit,
    ));
    // Events are judged with the live set: wait (bounded) for the first version.
    let mut versions = live.subscribe();
    let _ = tokio::time::timeout(LIVE_AT_START, async {
        while live.current().is_none() && versions.changed().await.is_ok() {}
    })
    .await;
    let answering = tokio::spawn(rulestudio_node::preview::answer(
        client.clone(),
        config.node.clone(),
        store.clone(),
    ));
    let looking_up = tokio::spawn(rulestudio_node::lookup::answer(
        client.clone(),
        config.node.clone(),
        store.clone(),
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let replaying = config.replay.is_some();
    // An enforcing node loads each live-set version's exec stops into the kernel, and acts on
    // its verdicts on enforce rules as it judges its events, as a node over HTTP does.
    let (mut rx, capture_thread, enforcer) = match &config.replay {
        Some(path) => (spawn_replay(path.clone())?, None, None),
        None => {
            let mut kernel = config.kernel.clone();
            if config.enforce.is_some() {
                kernel
                    .enforce
                    .get_or_insert(crate::kernel::EnforceKernel::ALL);
            }
            let c = crate::capture::spawn(
                &kernel,
                config.cri_socket.clone(),
                counters.clone(),
                stop.clone(),
            )
            .map_err(Error::from)?;
            let enforcer = crate::enforce::arm(c.enforcement, config.enforce.clone(), &counters)
                .map_err(Error::from)?;
            (c.events, Some(c.thread), enforcer)
        }
    };
    let enforcer = enforcer.map(|e| Arc::new(std::sync::Mutex::new(e)));
    let exec_stops = enforcer
        .as_ref()
        .map(|e| tokio::spawn(crate::enforce::follow_live(e.clone(), live.clone())));

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
                    let judging = Judging {
                        evaluator: judge.take().expect("the evaluator"),
                        enforcer: enforcer.clone(),
                    };
                    judge = Some(append(&store, &alerts, judging, chunk).await);
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
    looking_up.abort();
    if let Some(t) = exec_stops {
        t.abort();
    }
    // What the stream has not acknowledged stays in the spool (on disk with a directory).
    publishing.abort();
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

/// The node's alert spool, and what wakes its publisher.
struct Alerts {
    spool: std::sync::Mutex<Spool>,
    pushed: tokio::sync::Notify,
    counters: Arc<Counters>,
}

impl Alerts {
    fn spool(&self) -> std::sync::MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spools `lines` (alerts as JSON) in messages that fit NATS's payload limit; an alert
    /// that fits no message, or that the spool cannot take, is counted as dropped.
    fn push(&self, lines: Vec<String>) {
        let mut messages: Vec<Vec<String>> = Vec::new();
        let mut bytes = 0;
        for line in lines {
            let size = line.len() + 1;
            if size > ALERTS_MESSAGE_BYTES {
                tracing::warn!(
                    "an alert of {} bytes is too large to publish: dropped",
                    line.len()
                );
                self.counters.add_alerts_dropped(1);
                continue;
            }
            if messages.is_empty() || bytes + size > ALERTS_MESSAGE_BYTES {
                messages.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            messages.last_mut().expect("pushed above").push(line);
        }
        let mut spool = self.spool();
        for message in messages {
            let seq = spool.next_seq().max(now_ns() as u64 / 1000);
            match spool.push(Batch::new(seq, &message)) {
                Ok(0) => {}
                Ok(dropped) => {
                    tracing::warn!("alert spool full: dropped the {dropped} oldest alerts");
                    self.counters.add_alerts_dropped(dropped);
                }
                Err(e) => {
                    tracing::error!("{} alerts not spooled: {e}", message.len());
                    self.counters.add_alerts_dropped(message.len() as u64);
                }
            }
        }
        self.counters.set_alerts_spooled(spool.events());
        drop(spool);
        self.pushed.notify_one();
    }
}

/// Publishes the spooled alerts in order, each message until JetStream acknowledges it.
async fn publish(alerts: Arc<Alerts>, client: async_nats::Client, node: String) {
    loop {
        let front = alerts.spool().front();
        match front {
            Ok(Some(batch)) => {
                match publish_alerts(&client, &node, batch.body.into_bytes()).await {
                    Ok(()) => {
                        let mut spool = alerts.spool();
                        match spool.ack(batch.seq) {
                            Ok(true) => alerts.counters.add_alerts_sent(batch.events),
                            Ok(false) => {}
                            Err(e) => tracing::error!("alert spool: {e}"),
                        }
                        alerts.counters.set_alerts_spooled(spool.events());
                    }
                    Err(e) => {
                        tracing::debug!("alerts not published yet: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            Ok(None) => {
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), alerts.pushed.notified()).await;
            }
            Err(e) => {
                tracing::error!("alert spool: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// What judges a node's events: the evaluator, and the enforcer of an enforcing node.
struct Judging {
    evaluator: Evaluator,
    enforcer: Option<Arc<std::sync::Mutex<crate::enforce::Enforcer>>>,
}

/// Judges a chunk of events and appends them to the store, off the async threads (no JSON in
/// between: decision 0030); an event without `evt.time` happened now. An enforcing node acts
/// on each alert of an enforce rule at once; each alert names its event by its id in the
/// store, and is spooled for the alerts stream.
async fn append(
    store: &Arc<Store>,
    alerts: &Arc<Alerts>,
    mut judge: Judging,
    chunk: Vec<LayeredEvent>,
) -> Evaluator {
    let (store, alerts) = (store.clone(), alerts.clone());
    let done = tokio::task::spawn_blocking(move || {
        let counters = &alerts.counters;
        let at = BatchPlace { batch: 0, index: 0 };
        let mut judged = judge.evaluator.judge_events(Some(at), &chunk);
        if let (Ok(judged), Some(enforcer)) = (&mut judged, &judge.enforcer) {
            let mut e = enforcer.lock().unwrap_or_else(|p| p.into_inner());
            for alert in &mut judged.alerts {
                crate::enforce::act_on_alert(&mut e, &mut alert.alert);
            }
        }
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
        let stored = match store.append(&events, now) {
            Ok(range) => {
                counters.add_sent(range.end - range.start);
                Some(range.start)
            }
            Err(e) => {
                counters.add_dropped(events.len() as u64);
                tracing::warn!("{} events not stored: {e}", events.len());
                None
            }
        };
        match judged {
            Ok(judged) => {
                counters.add_alerts_suppressed(judged.suppressed);
                let lines: Vec<String> = judged
                    .alerts
                    .into_iter()
                    .map(|mut a| {
                        // The event's place in this chunk becomes its id in the store.
                        if let (Some(first), Some(place)) = (stored, a.sent_in.take()) {
                            a.alert.event_id = store.id(first + place.index as u64).to_string();
                        }
                        serde_json::to_string(&a).expect("an alert serialises")
                    })
                    .collect();
                if !lines.is_empty() {
                    alerts.push(lines);
                }
            }
            Err(e) => tracing::error!("events not judged: {e}"),
        }
        judge.evaluator
    })
    .await;
    done.expect("the judging task")
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
