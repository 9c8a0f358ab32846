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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::Receiver;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the Rulestudio server (`http://host:port`); `None` = no streaming.
    pub server: Option<String>,
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
    pub batch_events: usize,
    pub batch_delay: Duration,
    pub heartbeat: Duration,
    /// How long shutdown keeps trying the server before leaving batches in the spool.
    pub shutdown_grace: Duration,
}

impl Config {
    pub fn new(server: Option<String>, token: String, node: String) -> Config {
        Config {
            server,
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
    Io { path: PathBuf, source: std::io::Error },
    #[error("writing events to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("nothing to do: give --server, --stdout or --record")]
    NoOutput,
}

/// What a run did, for the caller's final log line.
#[derive(Debug, Clone)]
pub struct Summary {
    pub counters: Heartbeat,
}

/// The batches' way to the server.
struct Uplink {
    client: reqwest::Client,
    events_url: String,
    heartbeat_url: String,
    token: String,
    node: String,
    spool: Spool,
    backoff: Duration,
    next_attempt: Instant,
}

const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Upper bound of one batch's body, well under the server's default request limit (32 MiB), so
/// a burst of large events never makes a batch the server must refuse with 413 forever.
const MAX_BATCH_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("server answered {0}")]
    Status(reqwest::StatusCode),
}

impl Uplink {
    async fn post(&self, batch: &Batch) -> Result<IngestResponse, SendError> {
        let resp = self
            .client
            .post(&self.events_url)
            .bearer_auth(&self.token)
            .header("Content-Type", "application/x-ndjson")
            .header("X-Rulestudio-Node", &self.node)
            .header("X-Rulestudio-Batch", batch.seq.to_string())
            .body(batch.body.clone())
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(SendError::Status(resp.status()));
        }
        // A 2xx is the acknowledgement; the body is informative.
        Ok(resp.json::<IngestResponse>().await.unwrap_or_default())
    }

    /// Sends pending batches in order until one fails (then backs off) or none are left.
    async fn pump(&mut self, counters: &Counters) -> Result<(), SpoolError> {
        while Instant::now() >= self.next_attempt {
            let Some(batch) = self.spool.front()? else { break };
            match self.post(&batch).await {
                Ok(resp) => {
                    tracing::debug!(seq = batch.seq, accepted = resp.accepted, duplicate = resp.duplicate, "batch acknowledged");
                    self.spool.pop()?;
                    counters.add_sent(batch.events);
                    self.backoff = BACKOFF_MIN;
                }
                Err(e) => {
                    tracing::warn!(seq = batch.seq, "server unavailable, retrying in {:?}: {e}", self.backoff);
                    self.next_attempt = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        counters.set_spooled(self.spool.events());
        Ok(())
    }

    async fn heartbeat(&self, hb: &Heartbeat) {
        let sent = self.client.post(&self.heartbeat_url).bearer_auth(&self.token).json(hb).timeout(Duration::from_secs(2)).send().await;
        if let Err(e) = sent.and_then(|r| r.error_for_status()) {
            tracing::debug!("heartbeat not delivered: {e}");
        }
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
            let io = |source| Error::Io { path: path.clone(), source };
            for l in chunk {
                writeln!(f, "{l}").map_err(io)?;
            }
            f.flush().map_err(|source| Error::Io { path: path.clone(), source })?;
        }
        Ok(())
    }
}

/// Reads a recorded JSONL file into the event channel (lines that are not JSON objects are
/// skipped with a warning).
fn spawn_replay(path: PathBuf) -> Result<Receiver<Vec<String>>, Error> {
    use std::io::BufRead;
    let file = std::fs::File::open(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    std::thread::spawn(move || {
        let mut chunk = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            if !matches!(serde_json::from_str::<serde_json::Value>(&line), Ok(serde_json::Value::Object(_))) {
                tracing::warn!("{}:{}: not a JSON event object, skipped", path.display(), i + 1);
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
    let mut uplink = match &config.server {
        Some(base) => {
            let base = base.trim_end_matches('/');
            Some(Uplink {
                client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
                events_url: format!("{base}/api/v1/events"),
                heartbeat_url: format!("{base}/api/v1/collectors/heartbeat"),
                token: config.token.clone(),
                node: config.node.clone(),
                spool: Spool::open(config.spool.as_deref(), config.spool_max)?,
                backoff: BACKOFF_MIN,
                next_attempt: Instant::now(),
            })
        }
        None => None,
    };
    let record = match &config.record {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| Error::Io { path: path.clone(), source })?;
            Some((path.clone(), std::io::BufWriter::new(f)))
        }
        None => None,
    };
    let mut sinks = LocalSinks { stdout: config.stdout.then(|| std::io::BufWriter::new(std::io::stdout())), record };
    let (mut rx, capture_thread) = match &config.replay {
        Some(path) => (spawn_replay(path.clone())?, None),
        None => {
            let (rx, handle) = crate::capture::spawn(&config.kernel, config.cri_socket.clone(), counters.clone(), stop.clone())?;
            (rx, Some(handle))
        }
    };
    let replaying = config.replay.is_some();

    let mut pending: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(config.batch_delay);
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    tokio::pin!(shutdown);
    let mut stopping = false;
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(chunk) = chunk else { break };
                if replaying {
                    counters.add_captured(chunk.len() as u64);
                }
                sinks.write(&chunk)?;
                if let Some(up) = &mut uplink {
                    pending.extend(chunk);
                    if pending.len() >= config.batch_events {
                        seal(up, &mut pending, config.batch_events, &counters)?;
                        up.pump(&counters).await?;
                    }
                }
            }
            _ = tick.tick() => {
                if let Some(up) = &mut uplink {
                    seal(up, &mut pending, config.batch_events, &counters)?;
                    up.pump(&counters).await?;
                }
            }
            _ = heartbeat.tick() => {
                if let Some(up) = &uplink {
                    up.heartbeat(&counters.snapshot(&config.node)).await;
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
    if let Some(up) = &mut uplink {
        seal(up, &mut pending, config.batch_events, &counters)?;
        let deadline = Instant::now() + config.shutdown_grace;
        while !up.spool.is_empty() && Instant::now() < deadline {
            up.next_attempt = up.next_attempt.min(Instant::now());
            up.pump(&counters).await?;
            if !up.spool.is_empty() {
                tokio::time::sleep(BACKOFF_MIN).await;
            }
        }
        if config.spool.is_none() && !up.spool.is_empty() {
            // Without a spool directory these cannot outlive the process.
            counters.add_dropped(up.spool.events());
            tracing::warn!("{} events undelivered at shutdown (no --spool)", up.spool.events());
        }
        up.heartbeat(&counters.snapshot(&config.node)).await;
    }
    Ok(Summary { counters: counters.snapshot(&config.node) })
}

/// Moves `pending` into the spool as batches of at most `max_events` events and
/// [`MAX_BATCH_BYTES`] bytes (a single larger event still goes alone).
fn seal(up: &mut Uplink, pending: &mut Vec<String>, max_events: usize, counters: &Counters) -> Result<(), SpoolError> {
    let mut rest = pending.drain(..).peekable();
    while rest.peek().is_some() {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(line) = rest.next_if(|l| batch.is_empty() || (batch.len() < max_events && bytes + l.len() < MAX_BATCH_BYTES)) {
            bytes += line.len() + 1;
            batch.push(line);
        }
        let seq = up.spool.next_seq();
        let dropped = up.spool.push(Batch::new(seq, &batch))?;
        if dropped > 0 {
            tracing::warn!("spool full: dropped the {dropped} oldest events");
            counters.add_dropped(dropped);
        }
    }
    counters.set_spooled(up.spool.events());
    Ok(())
}
