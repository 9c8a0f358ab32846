//! The live tail of stored events behind `GET /api/v1/events/stream`.
//!
//! Ingest publishes each batch after it committed, so a tailed event is always one that
//! `GET /api/v1/events/{id}` can return. Subscribers share one bounded ring (a broadcast
//! channel): each reads at its own pace, and one that falls a whole ring behind skips ahead and
//! is told how many events it missed, so a slow browser costs neither memory nor ingest speed.
//! Filters are evaluated on the subscriber's side of the ring, not on the ingest path.
//!
//! Each subscriber is then sampled ([`Sampler`]): a burst of [`BURST`] events passes whole,
//! and beyond it at most [`PER_SECOND`] events a second are sent, each saying how many matching
//! events it stands for (itself and those skipped since the previous one), so a browser tailing
//! 10,000 events a second renders a bounded number of rows and still knows the rate. The bound
//! also ends the feedback of a collector that captures the tailing browser's (or a separate
//! server's) own system calls: those events cannot raise the frames sent above the bound.

use crate::ingest::RowView;
use futures::Stream;
use rulestudio_engine::eval::Filter;
use rulestudio_engine::event::Event;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Duration, Instant};

/// Events kept for subscribers that read slower than ingest writes; a power of two, so it is
/// exactly the capacity of the ring.
pub const BUFFER: usize = 4096;

/// One stored event as the tail carries it: the stored JSON text, not a decoded map, so that
/// publishing costs a copy and subscribers without a filter never decode it.
#[derive(Debug)]
pub struct Tailed {
    /// `NODE:INCARNATION:SEQ`.
    pub id: String,
    pub time: i64,
    pub node: Option<String>,
    /// The stored fields object, JSON.
    pub fields: Arc<str>,
}

impl Tailed {
    /// The SSE `data`: the shape of `rulestudio_api::events::TailedEvent` (a `StoredEvent` and
    /// `stands_for`), written around the stored fields text instead of re-serialising a map.
    pub fn to_json(&self, stands_for: u64) -> String {
        let node = serde_json::to_string(&self.node).unwrap_or_else(|_| "null".into());
        let id = serde_json::to_string(&self.id).unwrap_or_else(|_| "null".into());
        format!(
            "{{\"id\":{id},\"time\":{},\"node\":{node},\"fields\":{},\"stands_for\":{stands_for}}}",
            self.time, self.fields
        )
    }

    /// Whether `filter` keeps the event; an event that no longer decodes cannot match.
    pub fn passes(&self, filter: Option<&Filter>) -> bool {
        filter.is_none_or(|f| Event::from_json_str(&self.fields).is_ok_and(|ev| f.matches(&ev)))
    }
}

pub type Sender = broadcast::Sender<Arc<Tailed>>;

pub fn channel() -> Sender {
    broadcast::channel(BUFFER).0
}

/// Publishes a committed batch: its rows with their sequence numbers in `store`. Free when
/// nobody tails. `node` is the event's own `evt.hostname`, as the event page answers it.
pub fn publish<'r>(
    tx: &Sender,
    store: &rulestudio_store::Store,
    rows: impl Iterator<Item = (RowView<'r>, &'r i64)>,
) {
    if tx.receiver_count() == 0 {
        return;
    }
    for (row, &id) in rows {
        let tailed = Tailed {
            id: store.id(id as u64).to_string(),
            time: row.time,
            node: row.hostname.map(str::to_string),
            fields: row.json.into(),
        };
        // Every subscriber may have left since the check: not an error, the event is stored.
        let _ = tx.send(Arc::new(tailed));
    }
}

/// Events a second a subscriber is sent beyond a burst.
pub const PER_SECOND: u32 = 25;
/// Events sent at once before sampling starts: a small batch is tailed whole.
pub const BURST: u32 = 100;

/// One event sent, standing for `stands_for` matching events (itself included).
#[derive(Debug)]
pub struct Sample {
    pub event: Arc<Tailed>,
    pub stands_for: u64,
}

/// A token bucket over matching events: an event is sent when a token is left; otherwise it is
/// held as the newest skipped one (and counted), to be sent when the next token comes, so the
/// `stands_for` of the samples add up to every matching event.
#[derive(Debug)]
pub struct Sampler {
    tokens: f64,
    at: Instant,
    held: Option<Arc<Tailed>>,
    /// Matching events since the last sample, the held one included.
    skipped: u64,
}

impl Sampler {
    pub fn new(now: Instant) -> Sampler {
        Sampler {
            tokens: f64::from(BURST),
            at: now,
            held: None,
            skipped: 0,
        }
    }

    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() * f64::from(PER_SECOND);
        self.tokens = (self.tokens + earned).min(f64::from(BURST));
        self.at = now;
    }

    fn take(&mut self, event: Arc<Tailed>) -> Sample {
        self.tokens -= 1.0;
        self.held = None;
        Sample {
            event,
            stands_for: std::mem::take(&mut self.skipped),
        }
    }

    /// A matching event arrived: the sample to send now, if any.
    pub fn offer(&mut self, event: Arc<Tailed>, now: Instant) -> Option<Sample> {
        self.refill(now);
        self.skipped += 1;
        if self.tokens >= 1.0 {
            Some(self.take(event))
        } else {
            self.held = Some(event);
            None
        }
    }

    /// When the held event can be sent; `None` when nothing is held.
    pub fn due(&self) -> Option<Instant> {
        self.held.as_ref()?;
        let missing = (1.0 - self.tokens).max(0.0);
        Some(self.at + Duration::from_secs_f64(missing / f64::from(PER_SECOND)))
    }

    /// The held event, if its token has come.
    pub fn flush(&mut self, now: Instant) -> Option<Sample> {
        self.refill(now);
        match self.held.take() {
            Some(event) if self.tokens >= 1.0 => Some(self.take(event)),
            held => {
                self.held = held;
                None
            }
        }
    }
}

/// What a subscriber is sent.
#[derive(Debug)]
pub enum Frame {
    Sample(Sample),
    /// The subscriber fell a whole ring behind and skipped this many events (before filtering).
    Lagged(u64),
}

/// A subscriber's frames: the events of `rx` that `filter` keeps, sampled.
pub fn frames(
    rx: broadcast::Receiver<Arc<Tailed>>,
    filter: Option<Filter>,
) -> impl Stream<Item = Frame> {
    let sampler = Sampler::new(Instant::now());
    futures::stream::unfold(
        (rx, filter, sampler),
        |(mut rx, filter, mut sampler)| async move {
            loop {
                let due = sampler.due();
                let frame = tokio::select! {
                    biased;
                    received = rx.recv() => match received {
                        Ok(ev) if ev.passes(filter.as_ref()) => {
                            sampler.offer(ev, Instant::now()).map(Frame::Sample)
                        }
                        Ok(_) => None,
                        Err(RecvError::Lagged(n)) => Some(Frame::Lagged(n)),
                        Err(RecvError::Closed) => return None,
                    },
                    () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                        sampler.flush(Instant::now()).map(Frame::Sample)
                    }
                };
                if let Some(frame) = frame {
                    return Some((frame, (rx, filter, sampler)));
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u64) -> Arc<Tailed> {
        Arc::new(Tailed {
            id: format!("n:1:{n}"),
            time: 0,
            node: None,
            fields: "{}".into(),
        })
    }

    #[test]
    fn a_burst_passes_whole_then_samples_stand_for_every_skipped_event() {
        let t0 = Instant::now();
        let mut s = Sampler::new(t0);
        let sent: Vec<Sample> = (0..u64::from(BURST) + 50)
            .filter_map(|n| s.offer(ev(n), t0))
            .collect();
        assert_eq!(sent.len(), BURST as usize);
        assert!(sent.iter().all(|x| x.stands_for == 1));
        // The newest of the 50 skipped ones is held until a token comes, standing for all 50.
        let due = s.due().expect("one event held");
        assert!(due > t0);
        assert!(s.flush(t0).is_none(), "no token yet");
        let held = s.flush(due).expect("a token at the due time");
        assert_eq!((held.event.id.as_str(), held.stands_for), ("n:1:149", 50));
        assert!(s.due().is_none());
    }

    #[test]
    fn a_steady_stream_is_sent_at_the_rate_and_counted_whole() {
        let t0 = Instant::now();
        let mut s = Sampler::new(t0);
        // 10,000 events a second for 10 seconds, one every 100 µs.
        let total = 100_000u64;
        let mut samples = Vec::new();
        for n in 0..total {
            let now = t0 + Duration::from_micros(100 * n);
            samples.extend(s.offer(ev(n), now));
        }
        samples.extend(s.flush(t0 + Duration::from_secs(11)));
        let represented: u64 = samples.iter().map(|x| x.stands_for).sum();
        assert_eq!(represented, total);
        let most = u64::from(BURST) + 10 * u64::from(PER_SECOND) + 1;
        assert!(
            (samples.len() as u64) <= most,
            "{} samples, at most {most}",
            samples.len()
        );
        assert!(samples.last().unwrap().stands_for > 100);
    }
}
