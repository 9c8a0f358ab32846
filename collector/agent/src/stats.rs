//! Counters reported in heartbeats; shared by the capture thread and the delivery task.

use rulestudio_api::collector::Heartbeat;
use rulestudio_api::protocol::Version;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Counters {
    captured: AtomicU64,
    filtered: AtomicU64,
    lost_kernel: AtomicU64,
    spooled: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    /// Set once on a node that enforces: whether it has the BPF LSM.
    bpf_lsm: OnceLock<bool>,
    alerts_spooled: AtomicU64,
    alerts_sent: AtomicU64,
    alerts_dropped: AtomicU64,
    alerts_suppressed: AtomicU64,
    records_truncated: AtomicU64,
    records_malformed: AtomicU64,
    threads_evicted: AtomicU64,
}

impl Counters {
    pub fn add_captured(&self, n: u64) {
        self.captured.fetch_add(n, Relaxed);
    }
    /// Kernel counters are cumulative already; they replace, not add.
    pub fn set_kernel(&self, lost: u64, filtered: u64) {
        self.lost_kernel.store(lost, Relaxed);
        self.filtered.store(filtered, Relaxed);
    }
    pub fn set_spooled(&self, n: u64) {
        self.spooled.store(n, Relaxed);
    }
    pub fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, Relaxed);
    }
    pub fn add_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
    }
    pub fn set_bpf_lsm(&self, lsm: bool) {
        let _ = self.bpf_lsm.set(lsm);
    }

    pub fn set_alerts_spooled(&self, n: u64) {
        self.alerts_spooled.store(n, Relaxed);
    }
    pub fn add_alerts_sent(&self, n: u64) {
        self.alerts_sent.fetch_add(n, Relaxed);
    }
    pub fn add_alerts_dropped(&self, n: u64) {
        self.alerts_dropped.fetch_add(n, Relaxed);
    }
    pub fn add_alerts_suppressed(&self, n: u64) {
        self.alerts_suppressed.fetch_add(n, Relaxed);
    }
    /// A kernel record that did not decode, by its reason (`truncated`, `malformed`).
    pub fn add_undecodable(&self, reason: &str) {
        match reason {
            "truncated" => &self.records_truncated,
            _ => &self.records_malformed,
        }
        .fetch_add(1, Relaxed);
    }
    /// The thread table's count is cumulative already.
    pub fn set_threads_evicted(&self, n: u64) {
        self.threads_evicted.store(n, Relaxed);
    }

    pub fn snapshot(&self, node: &str) -> Heartbeat {
        Heartbeat {
            version: Some(Version::CURRENT),
            node: node.to_string(),
            captured: self.captured.load(Relaxed),
            filtered: self.filtered.load(Relaxed),
            lost_kernel: self.lost_kernel.load(Relaxed),
            spooled: self.spooled.load(Relaxed),
            sent: self.sent.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            bpf_lsm: self.bpf_lsm.get().copied(),
            alerts_spooled: self.alerts_spooled.load(Relaxed),
            alerts_sent: self.alerts_sent.load(Relaxed),
            alerts_dropped: self.alerts_dropped.load(Relaxed),
            alerts_suppressed: self.alerts_suppressed.load(Relaxed),
            records_truncated: self.records_truncated.load(Relaxed),
            records_malformed: self.records_malformed.load(Relaxed),
            threads_evicted: self.threads_evicted.load(Relaxed),
            // The live set's part is the node runtime's (`deliver::Uplink::heartbeat`).
            ..Heartbeat::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_loss_reaches_the_heartbeat_by_reason() {
        let c = Counters::default();
        c.set_kernel(4, 9);
        c.add_dropped(3);
        c.add_undecodable("truncated");
        c.add_undecodable("truncated");
        c.add_undecodable("malformed");
        c.set_threads_evicted(5);
        let hb = c.snapshot("n");
        assert_eq!(
            (
                hb.lost_kernel,
                hb.dropped,
                hb.records_truncated,
                hb.records_malformed,
                hb.threads_evicted
            ),
            (4, 3, 2, 1, 5)
        );
    }
}
