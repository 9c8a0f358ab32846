//! The capture side: the loaded kernel program, the ring-buffer reader and the converter,
//! running on a dedicated thread so conversion never waits behind network I/O.

use crate::convert::Converter;
use crate::kernel::{Kernel, KernelConfig, KernelError};
use crate::process::ProcessTable;
use crate::record::Record;
use crate::stats::Counters;
use rulestudio_engine::event::LayeredEvent;
use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How long the reader sleeps in poll(2) when the kernel has not woken it: the kernel only
/// signals once a batch worth of data waits, so this bounds the latency of a quiet node.
const POLL_MS: i32 = 10;

/// Records one [`Capture::drain`] converts at most: a flood must not keep it (and the memory of
/// the chunk it fills) from returning.
pub const DRAIN_BATCH: usize = 4096;

pub struct Capture {
    kernel: Kernel,
    conv: Converter,
    counters: Arc<Counters>,
    /// Bytes of records read from the ring buffer so far (headers and strings).
    ring_bytes: u64,
    /// Records that could not be decoded, by reason (`truncated`, `malformed`).
    undecodable: BTreeMap<&'static str, u64>,
}

impl Capture {
    /// Loads and attaches the program, then reads `/proc`; processes that start in between are
    /// seen by their records.
    pub fn start(config: &KernelConfig, counters: Arc<Counters>) -> Result<Capture, KernelError> {
        let kernel = Kernel::load(config)?;
        let mut table = ProcessTable::new();
        table.set_redaction(config.redact.clone());
        table.bootstrap();
        Ok(Capture {
            kernel,
            conv: Converter::new(table),
            counters,
            ring_bytes: 0,
            undecodable: BTreeMap::new(),
        })
    }

    /// The kernel side of enforcement, once (`None` unless `KernelConfig::enforce`).
    pub fn take_enforcement(&mut self) -> Option<crate::kernel::KernelEnforcement> {
        self.kernel.take_enforcement()
    }

    /// Enriches container events with CRI metadata from the runtime socket at `socket`.
    pub fn set_cri(&mut self, socket: std::path::PathBuf) {
        self.conv.set_cri(crate::cri::Resolver::start(socket));
    }

    /// Converts the records waiting in the ring buffer, at most [`DRAIN_BATCH`], handing each
    /// event to `emit`; returns how many records it read.
    pub fn drain(&mut self, emit: &mut impl FnMut(LayeredEvent)) -> usize {
        let mut n = 0;
        while n < DRAIN_BATCH
            && let Some(item) = self.kernel.ring.next()
        {
            n += 1;
            self.ring_bytes += item.len() as u64;
            match Record::parse(&item) {
                Ok(rec) => {
                    match self.conv.convert(&rec) {
                        Some(Ok(ev)) => {
                            self.counters.add_captured(1);
                            emit(ev);
                        }
                        // A value its field cannot take: the converter's bug, not the record's.
                        Some(Err(e)) => {
                            *self.undecodable.entry("malformed").or_default() += 1;
                            self.counters.add_undecodable("malformed");
                            tracing::warn!("skipping an event the converter built wrong: {e}");
                        }
                        None => {}
                    }
                }
                Err(e) => {
                    *self.undecodable.entry(e.reason()).or_default() += 1;
                    self.counters.add_undecodable(e.reason());
                    tracing::warn!("skipping kernel record: {e}");
                }
            }
        }
        let k = self.kernel.stats();
        self.counters.set_kernel(k.lost, k.filtered);
        self.counters
            .set_threads_evicted(self.conv.threads().stats().evicted);
        n
    }

    /// Bytes of kernel records read from the ring buffer since the start.
    pub fn ring_bytes(&self) -> u64 {
        self.ring_bytes
    }

    /// The thread table's counts: contexts the kernel sent, misses, evictions.
    pub fn thread_stats(&self) -> crate::threads::ThreadStats {
        self.conv.threads().stats()
    }

    /// Kernel records that could not be decoded since the start, by reason.
    pub fn undecodable(&self) -> &BTreeMap<&'static str, u64> {
        &self.undecodable
    }

    /// Waits until the kernel signals data or `POLL_MS` passes.
    pub fn wait(&self) {
        let mut pfd = libc::pollfd {
            fd: self.kernel.ring.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
    }

    /// Runs until `stop`, sending chunks of events; the drains after `stop` flush the ring.
    pub fn run(mut self, stop: Arc<AtomicBool>, tx: tokio::sync::mpsc::Sender<Vec<LayeredEvent>>) {
        loop {
            let stopping = stop.load(Ordering::Relaxed);
            let mut chunk = Vec::new();
            let n = self.drain(&mut |e| chunk.push(e));
            // Blocking here backs up the ring buffer, whose overflow the kernel counts: memory
            // stays bounded and no loss goes unreported.
            if !chunk.is_empty() && tx.blocking_send(chunk).is_err() {
                return;
            }
            if n == DRAIN_BATCH {
                continue; // more waits
            }
            if stopping {
                return;
            }
            self.wait();
        }
    }
}

/// A started capture: its events, its thread, and the kernel side of enforcement if asked for.
pub struct Spawned {
    pub events: tokio::sync::mpsc::Receiver<Vec<LayeredEvent>>,
    pub thread: std::thread::JoinHandle<()>,
    pub enforcement: Option<crate::kernel::KernelEnforcement>,
}

/// Starts a capture thread; events arrive on the returned channel until `stop` is set.
pub fn spawn(
    config: &KernelConfig,
    cri_socket: Option<std::path::PathBuf>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) -> Result<Spawned, KernelError> {
    let mut capture = Capture::start(config, counters)?;
    let enforcement = capture.take_enforcement();
    if let Some(socket) = cri_socket {
        capture.set_cri(socket);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let handle = std::thread::Builder::new()
        .name("rs-capture".into())
        .spawn(move || capture.run(stop, tx))
        .expect("spawning the capture thread");
    Ok(Spawned {
        events: rx,
        thread: handle,
        enforcement,
    })
}
