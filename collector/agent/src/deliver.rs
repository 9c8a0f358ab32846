//! Delivery: events go to stdout and/or a record file as they come, and to the server in
//! batches (bounded by size and time) through the spool, with retries and exponential backoff.
//! Events are judged by the node runtime as they arrive; their alerts go through an alert
//! spool of their own, bounded and sent before any event batch. A heartbeat with the counters
//! goes out every few seconds. Shutdown stops the capture, drains it, and tries the server once
//! more before leaving the rest in the spools.

use crate::kernel::{KernelConfig, KernelError};
use crate::spool::{Batch, Spool, SpoolError};
use crate::stats::Counters;
use rulestudio_api::alerts::BatchPlace;
use rulestudio_api::calls::{self, Call};
use rulestudio_api::client::{CallError, request};
use rulestudio_api::collector::Heartbeat;
use rulestudio_engine::event::{Event, LayeredEvent};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{self, Receiver};
use tokio::time::Instant;

/// The default bound of the alert spool, bytes.
pub const ALERT_SPOOL_MAX: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the Rulestudio server (`http://host:port`); `None` = no streaming.
    pub server: Option<String>,
    /// Verify an `https://` server against only the CAs in this PEM file (`--ca-cert`),
    /// instead of the system's roots.
    pub ca_cert: Option<PathBuf>,
    pub token: String,
    pub node: String,
    pub spool: Option<PathBuf>,
    pub spool_max: u64,
    pub stdout: bool,
    pub record: Option<PathBuf>,
    /// Deliver the events of a recorded file instead of capturing.
    pub replay: Option<PathBuf>,
    pub kernel: KernelConfig,
    /// The container runtime's CRI socket, for container and pod metadata.
    pub cri_socket: Option<PathBuf>,
    /// Most events in one batch.
    pub batch_events: usize,
    /// Longest an event waits before its (partial) batch is sealed and sent.
    pub batch_delay: Duration,
    pub heartbeat: Duration,
    /// How long shutdown keeps trying the server before leaving batches in the spool.
    pub shutdown_grace: Duration,
    /// Where the node keeps what must outlive it: the last verified live set, the alert id
    /// counter.
    pub state_dir: Option<PathBuf>,
    /// `--enforce`: act on enforce rules (issue #15), with every kernel stop unless
    /// `kernel.enforce` names them; `None` acts on nothing.
    pub enforce: Option<crate::enforce::EnforceConfig>,
    /// Bound of the alert spool in bytes; the oldest alerts are dropped (and counted) beyond it.
    pub alert_spool_max: u64,
    /// Alerts per rule the node sends at most.
    pub rate_limit: rulestudio_node::RateLimit,
}

impl Config {
    pub fn new(server: Option<String>, token: String, node: String) -> Config {
        Config {
            server,
            ca_cert: None,
            token,
            node,
            spool: None,
            spool_max: 256 << 20,
            stdout: false,
            record: None,
            replay: None,
            kernel: KernelConfig::default(),
            cri_socket: None,
            batch_events: 2000,
            batch_delay: Duration::from_millis(500),
            heartbeat: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(5),
            state_dir: None,
            enforce: None,
            alert_spool_max: ALERT_SPOOL_MAX,
            rate_limit: rulestudio_node::RateLimit::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing events to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    CaCert(String),
    #[error("nothing to do: give --server, --stdout or --record")]
    NoOutput,
    #[error("following the live set: {0}")]
    Live(String),
    #[error(transparent)]
    Enforce(#[from] crate::enforce::EnforceError),
    #[error("the node's state: {0}")]
    State(#[from] rulestudio_node::state::StateError),
}

/// What a run did, for the caller's final log line.
#[derive(Debug, Clone)]
pub struct Summary {
    pub counters: Heartbeat,
}

/// The batches' way to the server: a task of its own that owns the spool, so a slow or hung
/// server delays only acknowledgements, never the reading of events (new batches are spooled
/// while a request is in flight).
struct Uplink {
    client: reqwest::Client,
    /// The studio's base URL, which the typed calls' URLs are built on.
    base: String,
    token: String,
    node: String,
    spool: Spool,
    /// The alerts the node raised, sent before any event batch.
    alerts: Spool,
    counters: Arc<Counters>,
    /// The live set this node follows, reported in each heartbeat.
    live: Arc<rulestudio_node::Live>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a start waits for the studio's current live set before capturing: a studio that
/// answers does so in milliseconds; one that hangs delays the start no more than this.
const SYNC_AT_START: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("server answered {0}")]
    Status(reqwest::StatusCode),
    #[error(transparent)]
    Call(#[from] CallError),
}

/// What goes to the server: a batch of events, or the alerts the node raised on one.
enum Outgoing {
    Events(Batch),
    /// NDJSON of `NodeAlert`s, numbered as the event batch they were raised on.
    Alerts(Batch),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Events,
    Alerts,
}

/// A batch on its way, yielding it back with the server's answer (its body, informative).
type InFlight = Pin<Box<dyn Future<Output = (Kind, Batch, Result<String, SendError>)> + Send>>;

/// Posts one batch; a 2xx is the acknowledgement (the server answers after its commit).
async fn post(
    request: Result<reqwest::RequestBuilder, CallError>,
    kind: Kind,
    batch: Batch,
) -> (Kind, Batch, Result<String, SendError>) {
    let request = match request {
        Ok(request) => request,
        Err(e) => return (kind, batch, Err(e.into())),
    };
    let sent = request.send().await;
    let result = match sent {
        Ok(resp) if resp.status().is_success() => Ok(resp.text().await.unwrap_or_default()),
        Ok(resp) => Err(SendError::Status(resp.status())),
        Err(e) => Err(e.into()),
    };
    (kind, batch, result)
}

impl Uplink {
    fn push(&mut self, outgoing: Outgoing) -> Result<(), SpoolError> {
        match outgoing {
            Outgoing::Events(batch) => {
                let dropped = self.spool.push(batch)?;
                if dropped > 0 {
                    tracing::warn!("spool full: dropped the {dropped} oldest events");
                    self.counters.add_dropped(dropped);
                }
            }
            Outgoing::Alerts(batch) => {
                let dropped = self.alerts.push(batch)?;
                if dropped > 0 {
                    tracing::warn!("alert spool full: dropped the {dropped} oldest alerts");
                    self.counters.add_alerts_dropped(dropped);
                }
            }
        }
        self.count_spooled();
        Ok(())
    }

    fn count_spooled(&self) {
        self.counters.set_spooled(self.spool.events());
        self.counters.set_alerts_spooled(self.alerts.events());
    }

    /// The next batch to send: alerts first.
    fn next_to_send(&self) -> Result<Option<InFlight>, SpoolError> {
        let (kind, batch) = match self.alerts.front()? {
            Some(b) => (Kind::Alerts, b),
            None => match self.spool.front()? {
                Some(b) => (Kind::Events, b),
                None => return Ok(None),
            },
        };
        let body = batch.body.as_bytes().to_vec();
        let request = match kind {
            Kind::Alerts => self.request::<calls::IngestAlerts>(&body),
            // Judged by this node already (or with no live set yet: by nothing, as a Falco
            // without rules would): the studio stores them without evaluating them again.
            Kind::Events => self.request::<calls::IngestEvents>(&body).map(|r| {
                r.header("X-Rulestudio-Batch", batch.seq.to_string())
                    .header("X-Rulestudio-Evaluated", "1")
            }),
        }
        .map(|r| r.header("X-Rulestudio-Node", &self.node));
        Ok(Some(Box::pin(post(request, kind, batch))))
    }

    /// Call `C` (without parameters or query) with `body`, authenticated.
    fn request<C: Call<Params = (), Query = ()>>(
        &self,
        body: &<C::Request as calls::Body>::Value,
    ) -> Result<reqwest::RequestBuilder, CallError> {
        request::<C>(&self.client, &self.base, &(), &(), body).map(|r| r.bearer_auth(&self.token))
    }

    fn is_empty(&self) -> bool {
        self.spool.is_empty() && self.alerts.is_empty()
    }

    fn heartbeat(&self) -> impl Future<Output = ()> + use<> {
        let mut beat = self.counters.snapshot(&self.node);
        let live = self.live.report();
        beat.live_version = live.live_version;
        beat.compile_error = live.compile_error;
        beat.engine_version = Some(rulestudio_node::live::engine_version());
        let request = self
            .request::<calls::PostHeartbeat>(&beat)
            .map(|r| r.timeout(Duration::from_secs(2)));
        async move {
            let sent = match request {
                Ok(request) => request.send().await.and_then(|r| r.error_for_status()),
                Err(e) => return tracing::debug!("heartbeat not delivered: {e}"),
            };
            if let Err(e) = sent {
                tracing::debug!("heartbeat not delivered: {e}");
            }
        }
    }

    /// Sends spooled batches in order, with exponential backoff, taking new batches from `rx`
    /// until it closes; then keeps trying for `grace` before leaving the rest in the spool.
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Outgoing>,
        heartbeat: Duration,
        grace: Duration,
    ) -> Result<(), SpoolError> {
        let mut backoff = BACKOFF_MIN;
        let mut next_attempt = Instant::now();
        let mut inflight: Option<InFlight> = None;
        let mut beat = tokio::time::interval(heartbeat);
        let mut live_changes = self.live.subscribe();
        let mut deadline: Option<Instant> = None;
        loop {
            if inflight.is_none() && Instant::now() >= next_attempt {
                inflight = self.next_to_send()?;
            }
            if deadline.is_some_and(|d| Instant::now() >= d)
                || (deadline.is_some() && inflight.is_none() && self.is_empty())
            {
                break;
            }
            let wake = deadline.map_or(next_attempt, |d| d.min(next_attempt));
            tokio::select! {
                batch = rx.recv(), if deadline.is_none() => match batch {
                    Some(batch) => self.push(batch)?,
                    None => deadline = Some(Instant::now() + grace),
                },
                (kind, batch, result) = async { inflight.as_mut().expect("guarded").await }, if inflight.is_some() => {
                    inflight = None;
                    match result {
                        Ok(answer) => {
                            tracing::debug!(seq = batch.seq, ?kind, %answer, "batch acknowledged");
                            // The batch may have been dropped from a full spool meanwhile.
                            match kind {
                                Kind::Events => if self.spool.ack(batch.seq)? {
                                    self.counters.add_sent(batch.events);
                                },
                                Kind::Alerts => if self.alerts.ack(batch.seq)? {
                                    self.counters.add_alerts_sent(batch.events);
                                },
                            }
                            self.count_spooled();
                            backoff = BACKOFF_MIN;
                        }
                        Err(e) => {
                            tracing::warn!(seq = batch.seq, ?kind, "server unavailable, retrying in {backoff:?}: {e}");
                            next_attempt = Instant::now() + backoff;
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake), if inflight.is_none() && !self.is_empty() => {}
                // Past the grace period an unanswered request is abandoned; its batch stays spooled.
                _ = tokio::time::sleep_until(deadline.unwrap_or(wake)), if deadline.is_some() => {}
                _ = beat.tick() => {
                    tokio::spawn(self.heartbeat());
                }
                // A new live version (or one that does not compile) is reported at once.
                Ok(()) = live_changes.changed() => {
                    tokio::spawn(self.heartbeat());
                }
            }
        }
        self.heartbeat().await;
        Ok(())
    }
}

/// Writes events to stdout and the record file as they arrive.
struct LocalSinks {
    stdout: Option<std::io::BufWriter<std::io::Stdout>>,
    record: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
}

impl LocalSinks {
    fn write(&mut self, chunk: &[String]) -> Result<(), Error> {
        if let Some(out) = &mut self.stdout {
            for l in chunk {
                writeln!(out, "{l}").map_err(Error::Stdout)?;
            }
            out.flush().map_err(Error::Stdout)?;
        }
        if let Some((path, f)) = &mut self.record {
            let io = |source| Error::Io {
                path: path.clone(),
                source,
            };
            for l in chunk {
                writeln!(f, "{l}").map_err(io)?;
            }
            f.flush().map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Reads a recorded JSONL file into the event channel, each line decoded as the studio's
/// ingest decodes it (a line that is not an event is skipped with a warning naming it).
pub(crate) fn spawn_replay(path: PathBuf) -> Result<Receiver<Vec<LayeredEvent>>, Error> {
    use std::io::BufRead;
    let file = std::fs::File::open(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    std::thread::spawn(move || {
        let mut chunk = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match Event::from_json_str(&line) {
                Ok(ev) => chunk.push(LayeredEvent::alone(ev)),
                Err(e) => {
                    tracing::warn!("{}:{}: not an event, skipped: {e}", path.display(), i + 1);
                    continue;
                }
            }
            if chunk.len() >= 1000 && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
                return;
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });
    Ok(rx)
}

/// Runs the collector until `shutdown` resolves (or a replay is fully delivered).
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<Summary, Error> {
    if config.server.is_none() && !config.stdout && config.record.is_none() {
        return Err(Error::NoOutput);
    }
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut next_seq = 0;
    let mut following = None;
    let mut node_live = None;
    let mut evaluator = None;
    let uplink = match &config.server {
        Some(base) => {
            let base = base.trim_end_matches('/');
            let spool = Spool::open(config.spool.as_deref(), config.spool_max)?;
            // Alerts outlive a restart wherever the node keeps things; alert batches are
            // numbered as the event batches they were raised on.
            let alert_dir = (config.spool.as_ref().map(|d| d.join("alerts")))
                .or_else(|| config.state_dir.as_ref().map(|d| d.join("alerts")));
            let alerts = Spool::open(alert_dir.as_deref(), config.alert_spool_max)?;
            next_seq = spool.next_seq().max(alerts.next_seq());
            let live = Arc::new(rulestudio_node::Live::default());
            let follower = rulestudio_node::Follower::new(
                base,
                &config.token,
                config.ca_cert.as_deref(),
                config.state_dir.as_deref(),
                live.clone(),
            )
            .map_err(|e| Error::Live(e.to_string()))?;
            if let Err(e) = follower.restore() {
                tracing::warn!("the saved live set is not used: {e}");
            }
            // The studio's current version before the first event, when it answers soon.
            let _ = tokio::time::timeout(SYNC_AT_START, follower.sync()).await;
            following = Some(tokio::spawn(follower.run()));
            node_live = Some(live.clone());
            let ids = rulestudio_node::AlertIds::open(&config.node, config.state_dir.as_deref())?;
            evaluator = Some(rulestudio_node::Evaluator::new(
                live.clone(),
                &config.node,
                ids,
                config.rate_limit,
            ));
            let uplink = Uplink {
                client: rulestudio_api::client::builder(config.ca_cert.as_deref())
                    .map_err(Error::CaCert)?
                    .timeout(Duration::from_secs(10))
                    .build()?,
                base: base.to_string(),
                token: config.token.clone(),
                node: config.node.clone(),
                spool,
                alerts,
                counters: counters.clone(),
                live,
            };
            let (tx, rx) = mpsc::channel::<Outgoing>(64);
            let task = tokio::spawn(uplink.run(rx, config.heartbeat, config.shutdown_grace));
            Some((tx, task))
        }
        None => None,
    };
    let record = match &config.record {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
            Some((path.clone(), std::io::BufWriter::new(f)))
        }
        None => None,
    };
    let mut sinks = LocalSinks {
        stdout: config
            .stdout
            .then(|| std::io::BufWriter::new(std::io::stdout())),
        record,
    };
    // An enforcing node loads each live-set version's exec stops into the kernel, and the
    // node's verdicts on enforce rules (judged as events arrive) go to `Enforcer::act`.
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
            )?;
            let enforcer = crate::enforce::arm(c.enforcement, config.enforce.clone(), &counters)?;
            (c.events, Some(c.thread), enforcer)
        }
    };
    let enforcer = enforcer.map(|e| Arc::new(std::sync::Mutex::new(e)));
    let exec_stops = match (&enforcer, &node_live) {
        (Some(e), Some(live)) => Some(tokio::spawn(crate::enforce::follow_live(
            e.clone(),
            live.clone(),
        ))),
        _ => None,
    };
    let replaying = config.replay.is_some();

    let mut batcher = Batcher {
        pending: Vec::new(),
        seq: 0,
        next_seq,
        max: config.batch_events.max(1),
        evaluator,
        enforcer,
        counters: counters.clone(),
    };
    let mut out = Vec::new();
    let mut tick = tokio::time::interval(config.batch_delay);
    tokio::pin!(shutdown);
    let mut stopping = false;
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(chunk) = chunk else { break };
                if replaying {
                    counters.add_captured(chunk.len() as u64);
                }
                // Writing JSON and judging are CPU work (µs per event): off the async workers,
                // which in the all-in-one also serve the studio's requests, including this
                // node's ingest.
                let judging = uplink.is_some();
                let (b, s, o, done) = tokio::task::spawn_blocking(move || {
                    let lines: Vec<String> = chunk.iter().map(LayeredEvent::to_json).collect();
                    let mut done = sinks.write(&lines);
                    if done.is_ok() && judging {
                        done = batcher.add(chunk, lines, &mut out);
                    }
                    (batcher, sinks, out, done)
                })
                .await
                .expect("the judging task");
                (batcher, sinks, out) = (b, s, o);
                done?;
                if let Some((tx, _)) = &uplink {
                    for b in out.drain(..) {
                        let _ = tx.send(b).await;
                    }
                }
            }
            _ = tick.tick() => {
                if let Some((tx, _)) = &uplink && let Some(b) = batcher.seal() {
                    let _ = tx.send(b).await;
                }
            }
            _ = &mut shutdown, if !stopping => {
                // Keep receiving: the capture thread drains the ring once more, then closes.
                stopping = true;
                stop.store(true, Ordering::Relaxed);
            }
        }
    }
    if let Some(h) = capture_thread {
        let _ = tokio::task::spawn_blocking(move || h.join()).await;
    }
    if let Some((tx, task)) = uplink {
        if let Some(b) = batcher.seal() {
            let _ = tx.send(b).await;
        }
        drop(tx);
        task.await.expect("uplink task")?;
        let left = counters.snapshot(&config.node);
        if config.spool.is_none() && left.spooled > 0 {
            // Without a spool directory these cannot outlive the process.
            counters.add_dropped(left.spooled);
            tracing::warn!(
                "{} events undelivered at shutdown (no --spool)",
                left.spooled
            );
        }
        if config.spool.is_none() && config.state_dir.is_none() && left.alerts_spooled > 0 {
            counters.add_alerts_dropped(left.alerts_spooled);
            tracing::warn!(
                "{} alerts undelivered at shutdown (no --spool or --state-dir)",
                left.alerts_spooled
            );
        }
    }
    if let Some(f) = following {
        f.abort();
    }
    if let Some(t) = exec_stops {
        t.abort();
    }
    Ok(Summary {
        counters: counters.snapshot(&config.node),
    })
}

/// The events waiting to go to the server as one numbered batch. They are judged by the node
/// as they arrive, not when their batch is sealed, so that a verdict (and an enforce rule's
/// kill) follows its event by the capture's wakeup (at most `POLL_MS`), not by the batch
/// delay. An alert names the batch and place its event is sent in, so a batch takes its number
/// when its first event arrives and never holds more than `max` events: they are judged in the
/// place they will be sent.
struct Batcher {
    pending: Vec<String>,
    /// The number of the open batch, while `pending` is not empty.
    seq: u64,
    /// Numbers increase across restarts: above the spools' and the clock's (µs). Event and
    /// alert batches draw from the same count, each spool's numbers stay unique.
    next_seq: u64,
    max: usize,
    evaluator: Option<rulestudio_node::Evaluator>,
    enforcer: Option<Arc<std::sync::Mutex<crate::enforce::Enforcer>>>,
    counters: Arc<Counters>,
}

impl Batcher {
    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq.max(now_micros());
        self.next_seq = seq + 1;
        seq
    }

    /// Adds `chunk` (and `lines`, its events as JSON); pushes to `out` the alerts it raised
    /// (first) and each batch it filled.
    fn add(
        &mut self,
        mut chunk: Vec<LayeredEvent>,
        mut lines: Vec<String>,
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Error> {
        while !chunk.is_empty() {
            if self.pending.is_empty() {
                self.seq = self.take_seq();
            }
            let start = self.pending.len();
            let k = (self.max - start).min(chunk.len());
            let at = BatchPlace {
                batch: self.seq as i64,
                index: start as i64,
            };
            if let Some(alerts) = self.judge(at, &chunk[..k])? {
                out.push(alerts);
            }
            chunk.drain(..k);
            self.pending.extend(lines.drain(..k));
            if self.pending.len() >= self.max {
                out.extend(self.seal());
            }
        }
        Ok(())
    }

    /// Judges `events`, the next ones of the batch from `at.index` on; their alerts as one
    /// batch, if any.
    fn judge(
        &mut self,
        at: BatchPlace,
        events: &[LayeredEvent],
    ) -> Result<Option<Outgoing>, Error> {
        let Some(evaluator) = &mut self.evaluator else {
            return Ok(None);
        };
        let mut judged = evaluator.judge_events(Some(at), events)?;
        if let Some(enforcer) = &self.enforcer {
            let mut e = enforcer.lock().unwrap_or_else(|p| p.into_inner());
            for alert in &mut judged.alerts {
                crate::enforce::act_on_alert(&mut e, &mut alert.alert);
            }
        }
        self.counters.add_alerts_suppressed(judged.suppressed);
        if judged.alerts.is_empty() {
            return Ok(None);
        }
        let lines: Vec<String> = judged
            .alerts
            .iter()
            .map(|a| serde_json::to_string(a).expect("an alert serialises"))
            .collect();
        Ok(Some(Outgoing::Alerts(Batch::new(self.take_seq(), &lines))))
    }

    /// The open batch, sealed, if it has events.
    fn seal(&mut self) -> Option<Outgoing> {
        if self.pending.is_empty() {
            return None;
        }
        let events = std::mem::take(&mut self.pending);
        Some(Outgoing::Events(Batch::new(self.seq, &events)))
    }
}

fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
