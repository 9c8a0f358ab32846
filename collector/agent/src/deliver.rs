//! Delivery: events go to stdout and/or a record file as they come, and to the server in
//! batches (bounded by size and time) through the spool, with retries and exponential backoff.
//! A heartbeat with the counters goes out every few seconds. Shutdown stops the capture, drains
//! it, and tries the server once more before leaving the rest in the spool.

use crate::kernel::{KernelConfig, KernelError};
use crate::spool::{Batch, Spool, SpoolError};
use crate::stats::Counters;
use rulestudio_api::collector::{Heartbeat, IngestResponse};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{self, Receiver};
use tokio::time::Instant;

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
    /// Where the node keeps what must outlive it: the last verified live set.
    pub state_dir: Option<PathBuf>,
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
    events_url: String,
    heartbeat_url: String,
    token: String,
    node: String,
    spool: Spool,
    counters: Arc<Counters>,
    /// The live set this node follows, reported in each heartbeat.
    live: Arc<rulestudio_node::Live>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("server answered {0}")]
    Status(reqwest::StatusCode),
}

/// A batch on its way, yielding it back with the server's answer.
type InFlight = Pin<Box<dyn Future<Output = (Batch, Result<IngestResponse, SendError>)> + Send>>;

/// Posts one batch; a 2xx is the acknowledgement (the body is informative).
async fn post(
    client: reqwest::Client,
    url: String,
    token: String,
    node: String,
    batch: Batch,
) -> (Batch, Result<IngestResponse, SendError>) {
    let sent = client
        .post(&url)
        .bearer_auth(&token)
        .header("Content-Type", "application/x-ndjson")
        .header("X-Rulestudio-Node", &node)
        .header("X-Rulestudio-Batch", batch.seq.to_string())
        .body(batch.body.clone())
        .send()
        .await;
    let result = match sent {
        Ok(resp) if resp.status().is_success() => {
            Ok(resp.json::<IngestResponse>().await.unwrap_or_default())
        }
        Ok(resp) => Err(SendError::Status(resp.status())),
        Err(e) => Err(e.into()),
    };
    (batch, result)
}

impl Uplink {
    fn push(&mut self, batch: Batch) -> Result<(), SpoolError> {
        let dropped = self.spool.push(batch)?;
        if dropped > 0 {
            tracing::warn!("spool full: dropped the {dropped} oldest events");
            self.counters.add_dropped(dropped);
        }
        self.counters.set_spooled(self.spool.events());
        Ok(())
    }

    fn heartbeat(&self) -> impl Future<Output = ()> + use<> {
        let mut beat = self.counters.snapshot(&self.node);
        let live = self.live.report();
        beat.live_version = live.live_version;
        beat.compile_error = live.compile_error;
        beat.engine_version = Some(rulestudio_node::live::engine_version());
        let request = self
            .client
            .post(&self.heartbeat_url)
            .bearer_auth(&self.token)
            .json(&beat)
            .timeout(Duration::from_secs(2));
        async move {
            if let Err(e) = request.send().await.and_then(|r| r.error_for_status()) {
                tracing::debug!("heartbeat not delivered: {e}");
            }
        }
    }

    /// Sends spooled batches in order, with exponential backoff, taking new batches from `rx`
    /// until it closes; then keeps trying for `grace` before leaving the rest in the spool.
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Batch>,
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
            if inflight.is_none()
                && Instant::now() >= next_attempt
                && let Some(batch) = self.spool.front()?
            {
                let (c, u, t, n) = (
                    self.client.clone(),
                    self.events_url.clone(),
                    self.token.clone(),
                    self.node.clone(),
                );
                inflight = Some(Box::pin(post(c, u, t, n, batch)));
            }
            if deadline.is_some_and(|d| Instant::now() >= d)
                || (deadline.is_some() && inflight.is_none() && self.spool.is_empty())
            {
                break;
            }
            let wake = deadline.map_or(next_attempt, |d| d.min(next_attempt));
            tokio::select! {
                batch = rx.recv(), if deadline.is_none() => match batch {
                    Some(batch) => self.push(batch)?,
                    None => deadline = Some(Instant::now() + grace),
                },
                (batch, result) = async { inflight.as_mut().expect("guarded").await }, if inflight.is_some() => {
                    inflight = None;
                    match result {
                        Ok(resp) => {
                            tracing::debug!(seq = batch.seq, accepted = resp.accepted, duplicate = resp.duplicate, "batch acknowledged");
                            // The batch may have been dropped from a full spool meanwhile.
                            if self.spool.ack(batch.seq)? {
                                self.counters.add_sent(batch.events);
                            }
                            self.counters.set_spooled(self.spool.events());
                            backoff = BACKOFF_MIN;
                        }
                        Err(e) => {
                            tracing::warn!(seq = batch.seq, "server unavailable, retrying in {backoff:?}: {e}");
                            next_attempt = Instant::now() + backoff;
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake), if inflight.is_none() && !self.spool.is_empty() => {}
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

/// Reads a recorded JSONL file into the event channel (lines that are not JSON objects are
/// skipped with a warning).
pub(crate) fn spawn_replay(path: PathBuf) -> Result<Receiver<Vec<String>>, Error> {
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
            if !matches!(
                serde_json::from_str::<serde_json::Value>(&line),
                Ok(serde_json::Value::Object(_))
            ) {
                tracing::warn!(
                    "{}:{}: not a JSON event object, skipped",
                    path.display(),
                    i + 1
                );
                continue;
            }
            chunk.push(line);
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
    let uplink = match &config.server {
        Some(base) => {
            let base = base.trim_end_matches('/');
            let spool = Spool::open(config.spool.as_deref(), config.spool_max)?;
            next_seq = spool.next_seq();
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
            following = Some(tokio::spawn(follower.run()));
            let uplink = Uplink {
                client: rulestudio_api::client::builder(config.ca_cert.as_deref())
                    .map_err(Error::CaCert)?
                    .timeout(Duration::from_secs(10))
                    .build()?,
                events_url: format!("{base}/api/v1/events"),
                heartbeat_url: format!("{base}/api/v1/collectors/heartbeat"),
                token: config.token.clone(),
                node: config.node.clone(),
                spool,
                counters: counters.clone(),
                live,
            };
            let (tx, rx) = mpsc::channel::<Batch>(64);
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
    let (mut rx, capture_thread) = match &config.replay {
        Some(path) => (spawn_replay(path.clone())?, None),
        None => {
            let (rx, handle) = crate::capture::spawn(
                &config.kernel,
                config.cri_socket.clone(),
                counters.clone(),
                stop.clone(),
            )?;
            (rx, Some(handle))
        }
    };
    let replaying = config.replay.is_some();

    let mut pending: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(config.batch_delay);
    tokio::pin!(shutdown);
    let mut stopping = false;
    // Batch numbers increase across restarts: above the spool's and the clock's (µs).
    // Seals at most `batch_events` of the pending events into a numbered batch.
    let max = config.batch_events.max(1);
    let mut seal = |pending: &mut Vec<String>| -> Option<Batch> {
        if pending.is_empty() {
            return None;
        }
        let seq = next_seq.max(now_micros());
        next_seq = seq + 1;
        let n = pending.len().min(max);
        let batch = Batch::new(seq, &pending[..n]);
        pending.drain(..n);
        Some(batch)
    };
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(chunk) = chunk else { break };
                if replaying {
                    counters.add_captured(chunk.len() as u64);
                }
                sinks.write(&chunk)?;
                if let Some((tx, _)) = &uplink {
                    pending.extend(chunk);
                    while pending.len() >= max {
                        if let Some(b) = seal(&mut pending) {
                            let _ = tx.send(b).await;
                        }
                    }
                }
            }
            _ = tick.tick() => {
                if let Some((tx, _)) = &uplink {
                    while let Some(b) = seal(&mut pending) {
                        let _ = tx.send(b).await;
                    }
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
        while let Some(b) = seal(&mut pending) {
            let _ = tx.send(b).await;
        }
        drop(tx);
        task.await.expect("uplink task")?;
        let left = counters.snapshot(&config.node).spooled;
        if config.spool.is_none() && left > 0 {
            // Without a spool directory these cannot outlive the process.
            counters.add_dropped(left);
            tracing::warn!("{left} events undelivered at shutdown (no --spool)");
        }
    }
    if let Some(f) = following {
        f.abort();
    }
    Ok(Summary {
        counters: counters.snapshot(&config.node),
    })
}

fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
