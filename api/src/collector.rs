//! What a collector tells the server besides events: `POST /api/v1/collectors/heartbeat`.

use serde::{Deserialize, Serialize};

/// Cumulative counters since the collector started; the server keeps the latest per node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Heartbeat {
    /// The protocol version ([`crate::protocol`]); absent (from nodes that predate it): 1. The
    /// studio's listing gives the version of each node's last heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<crate::protocol::Version>,
    pub node: String,
    /// Events read from the kernel ring buffer.
    pub captured: u64,
    /// Events dropped by the configured filters (own pid, syscall set, write de-duplication).
    pub filtered: u64,
    /// Events the kernel could not hand over (ring-buffer reservation failures).
    pub lost_kernel: u64,
    /// Events currently waiting in the on-disk spool.
    pub spooled: u64,
    /// Events acknowledged by the server.
    pub sent: u64,
    /// Events dropped because the spool was full (oldest first).
    pub dropped: u64,
    /// The live-set version the node evaluates (absent: none yet, or an older collector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_version: Option<i64>,
    /// The Falco engine version the node compiles rules with (`0.63.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Why the newest live version the node saw does not compile there (it keeps evaluating
    /// `live_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile_error: Option<String>,
    /// On a node started with `--enforce`: whether it refuses a quarantined process's
    /// operations through the kernel's BPF LSM (`false`: it only kills, at the process's next
    /// syscall and through a pidfd). Absent on a node that does not enforce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bpf_lsm: Option<bool>,
    /// Alerts the node raised that wait in its alert spool.
    #[serde(default)]
    pub alerts_spooled: u64,
    /// Alerts acknowledged by the studio (stored, or stored before).
    #[serde(default)]
    pub alerts_sent: u64,
    /// Alerts dropped because the alert spool was full (oldest first).
    #[serde(default)]
    pub alerts_dropped: u64,
    /// Alerts the node's per-rule rate limit held back.
    #[serde(default)]
    pub alerts_suppressed: u64,
    /// Kernel records that did not decode because they ended early (lost events).
    #[serde(default)]
    pub records_truncated: u64,
    /// Kernel records that did not decode because a length or kind was wrong (lost events).
    #[serde(default)]
    pub records_malformed: u64,
    /// Threads the bounded thread table forgot (their next events read their state from
    /// `/proc` again, which may have changed since).
    #[serde(default)]
    pub threads_evicted: u64,
}

/// Response of `POST /api/v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct IngestResponse {
    pub accepted: u64,
    /// True when this (node, batch) was stored before: acknowledged, not stored twice.
    pub duplicate: bool,
}

/// A collector as the admin page shows it: `GET /api/v1/collectors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CollectorStatus {
    #[serde(flatten)]
    pub heartbeat: Heartbeat,
    /// Nanoseconds since the Unix epoch.
    pub last_seen: i64,
    /// Events acknowledged per second between the last two heartbeats.
    pub events_per_sec: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CollectorList {
    pub collectors: Vec<CollectorStatus>,
}
