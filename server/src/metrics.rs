//! Counters behind `GET /metrics`, rendered in the Prometheus text format.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Nodes listed by name in `rulestudio_collector_dropped_total` at most: `/metrics` needs no
/// credentials and must stay small whatever node names collectors send (with names of at most
/// [`crate::limits::NODE`] bytes, about 300 bytes each).
const MAX_NODES: usize = 1024;
/// Unlisted collectors counted at most (memory, not output, is what this bounds).
const MAX_UNLISTED: usize = 1 << 16;

/// Rules with a series of their own in `rulestudio_alerts_suppressed_total`.
const MAX_RULES: usize = 10_000;

/// Upper bounds of the preview latency buckets, in seconds.
const PREVIEW_BUCKETS: [f64; 10] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
pub struct Metrics {
    pub events_ingested: AtomicU64,
    pub events_rejected: AtomicU64,
    pub batches_duplicate: AtomicU64,
    pub alerts_forward_failed: AtomicU64,
    /// Alerts the SSE stream could not deliver to a slow client.
    pub alerts_stream_lagged: AtomicU64,
    /// Proposal events delivered to, or lost on the way to, `--notify-url`.
    pub notify_sent: AtomicU64,
    pub notify_failed: AtomicU64,
    /// Events the tail could not deliver to a slow client.
    pub events_stream_lagged: AtomicU64,
    /// Expensive requests whose client left before the answer (their work stops).
    pub requests_abandoned: AtomicU64,
    /// Argon2 computations: hashes made and passwords checked (unknown users included).
    pub password_hashes: AtomicU64,
    /// Events of the old `events` table not yet moved into the event store (`legacy`).
    pub legacy_events_remaining: AtomicU64,
    alerts: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Per rule (never per node × rule), alerts the nodes' rate limits held back.
    alerts_suppressed: Mutex<BTreeMap<String, u64>>,
    collector_drops: Mutex<CollectorDrops>,
    preview: Mutex<Histogram>,
}

/// Per node, the latest kernel losses, event spool drops and alert spool drops; nodes past
/// [`MAX_NODES`] are counted.
#[derive(Default)]
struct CollectorDrops {
    by_node: BTreeMap<String, NodeLosses>,
    unlisted: BTreeSet<u64>,
}

/// A node's cumulative losses as its latest heartbeat gives them.
#[derive(Clone, Copy)]
struct NodeLosses {
    /// By the `reason` label of `rulestudio_collector_dropped_total`, in [`LOSS_REASONS`] order.
    by_reason: [u64; LOSS_REASONS.len()],
    alerts_dropped: u64,
}

/// The `reason` values of `rulestudio_collector_dropped_total` (docs/guide.md lists them).
const LOSS_REASONS: [&str; 5] = [
    "kernel",
    "spool_full",
    "truncated",
    "malformed",
    "thread_evicted",
];

impl NodeLosses {
    fn of(hb: &rulestudio_api::collector::Heartbeat) -> NodeLosses {
        NodeLosses {
            by_reason: [
                hb.lost_kernel,
                hb.dropped,
                hb.records_truncated,
                hb.records_malformed,
                hb.threads_evicted,
            ],
            alerts_dropped: hb.alerts_dropped,
        }
    }
}

#[derive(Default)]
struct Histogram {
    buckets: [u64; PREVIEW_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn alert(&self, rule: &str, priority: &'static str) {
        let mut alerts = self.alerts.lock().unwrap_or_else(|p| p.into_inner());
        *alerts.entry((rule.to_string(), priority)).or_default() += 1;
    }

    /// Alerts of `rule` a node's rate limit held back. Rule names come from nodes: past
    /// [`MAX_RULES`] distinct ones, the rest are counted under the empty name.
    pub fn suppressed(&self, rule: &str, n: u64) {
        let mut map = self
            .alerts_suppressed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let key = match map.contains_key(rule) || map.len() < MAX_RULES {
            true => rule,
            false => "",
        };
        *map.entry(key.to_string()).or_default() += n;
    }

    /// The collector's own cumulative counts: kernel losses, event and alert spool overflow.
    pub fn collector(&self, hb: &rulestudio_api::collector::Heartbeat) {
        let node = hb.node.as_str();
        let losses = NodeLosses::of(hb);
        let mut c = self
            .collector_drops
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (listed, unlisted) = (c.by_node.len(), c.unlisted.len());
        match c.by_node.get_mut(node) {
            Some(counts) => *counts = losses,
            None if listed < MAX_NODES => {
                c.by_node.insert(node.to_string(), losses);
            }
            // Counted by a hash of the name: a set of 8-byte values, bounded by the
            // collectors that exist rather than by what their names hold.
            None if unlisted < MAX_UNLISTED => {
                c.unlisted.insert(rustc_hash::FxBuildHasher.hash_one(node));
            }
            None => {}
        }
    }

    pub fn preview_took(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let mut h = self.preview.lock().unwrap_or_else(|p| p.into_inner());
        for (bucket, le) in h.buckets.iter_mut().zip(PREVIEW_BUCKETS) {
            if secs <= le {
                *bucket += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
            );
        };
        counter(
            &mut out,
            "rulestudio_events_ingested_total",
            "Events stored.",
            self.events_ingested.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_events_rejected_total",
            "Events of batches refused as invalid.",
            self.events_rejected.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_batches_duplicate_total",
            "Batches acknowledged without storing because they were seen before.",
            self.batches_duplicate.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_alerts_forward_failed_total",
            "Alerts that could not be forwarded to --forward-url.",
            self.alerts_forward_failed.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_alerts_stream_lagged_total",
            "Alerts skipped for SSE clients that read too slowly.",
            self.alerts_stream_lagged.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_notify_sent_total",
            "Proposal events delivered to --notify-url.",
            self.notify_sent.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_notify_failed_total",
            "Proposal events that could not be delivered to --notify-url.",
            self.notify_failed.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_events_stream_lagged_total",
            "Events skipped for event-tail SSE clients that read too slowly.",
            self.events_stream_lagged.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_requests_abandoned_total",
            "Expensive requests (preview, evidence, search) whose client left before the answer; their work stops.",
            self.requests_abandoned.load(Relaxed),
        );
        counter(
            &mut out,
            "rulestudio_password_hashes_total",
            "Argon2 computations: passwords hashed and checked, unknown users included.",
            self.password_hashes.load(Relaxed),
        );

        let _ = write!(
            out,
            "# HELP rulestudio_legacy_events_remaining Events of the old events table still to move into the event store.\n\
             # TYPE rulestudio_legacy_events_remaining gauge\nrulestudio_legacy_events_remaining {}\n",
            self.legacy_events_remaining.load(Relaxed)
        );

        let drops = self
            .collector_drops
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let _ = write!(
            out,
            "# HELP rulestudio_collector_nodes_unlisted Collectors beyond the first {MAX_NODES}, whose drops are not listed by node.\n\
             # TYPE rulestudio_collector_nodes_unlisted gauge\nrulestudio_collector_nodes_unlisted {}\n",
            drops.unlisted.len()
        );
        out.push_str("# HELP rulestudio_collector_dropped_total What a collector lost, by node and reason: events (kernel, spool_full, truncated, malformed) and thread state re-read from /proc (thread_evicted).\n# TYPE rulestudio_collector_dropped_total counter\n");
        for (node, losses) in drops.by_node.iter() {
            let node = escape(node);
            // The rarer reasons only once they count: /metrics stays bounded (it lists up to
            // MAX_NODES nodes) and a series appearing is news.
            let shown = LOSS_REASONS.iter().zip(losses.by_reason).enumerate();
            for (_, (reason, n)) in shown.filter(|&(i, (_, n))| i < 2 || n > 0) {
                let _ = writeln!(
                    out,
                    "rulestudio_collector_dropped_total{{node=\"{node}\",reason=\"{reason}\"}} {n}"
                );
            }
        }
        // Per node in the heartbeats (`GET /api/v1/collectors`); here one series, so alerts add
        // no series per node.
        let alerts_dropped: u64 = drops.by_node.values().map(|l| l.alerts_dropped).sum();
        let _ = write!(
            out,
            "# HELP rulestudio_collector_alerts_dropped_total Alerts the listed nodes dropped from full alert spools.\n\
             # TYPE rulestudio_collector_alerts_dropped_total counter\nrulestudio_collector_alerts_dropped_total {alerts_dropped}\n"
        );
        drop(drops);

        out.push_str("# HELP rulestudio_alerts_total Alerts raised by the live set.\n# TYPE rulestudio_alerts_total counter\n");
        for ((rule, priority), n) in self.alerts.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "rulestudio_alerts_total{{rule=\"{}\",priority=\"{priority}\"}} {n}",
                escape(rule)
            );
        }

        out.push_str("# HELP rulestudio_alerts_suppressed_total Alerts the nodes' per-rule rate limits held back.\n# TYPE rulestudio_alerts_suppressed_total counter\n");
        for (rule, n) in self
            .alerts_suppressed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "rulestudio_alerts_suppressed_total{{rule=\"{}\"}} {n}",
                escape(rule)
            );
        }

        let h = self.preview.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP rulestudio_preview_seconds Preview latency.\n# TYPE rulestudio_preview_seconds histogram\n");
        for (n, le) in h.buckets.iter().zip(PREVIEW_BUCKETS) {
            let _ = writeln!(out, "rulestudio_preview_seconds_bucket{{le=\"{le}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "rulestudio_preview_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "rulestudio_preview_seconds_sum {}", h.sum);
        let _ = writeln!(out, "rulestudio_preview_seconds_count {}", h.count);
        out
    }
}

/// Label values escape backslash, quote and newline.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
