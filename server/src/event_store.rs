//! The server's event store (crate `rulestudio-store`, the same code and files a fleet node
//! uses): where it lives, its node name, its settings from the flags, and its figures in
//! `/metrics`; its maintenance every second and sealing at shutdown are the node's
//! ([`rulestudio_node::events`]).

use crate::config::ServeArgs;
use anyhow::Context;
use rulestudio_store::{Config, Store};
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// The default of `--retention-events`, which is accepted and ignored.
pub const RETENTION_EVENTS_DEFAULT: u64 = 10_000_000;

/// `--store`, or the database's file name with `.events` added, beside it.
pub fn dir(config: &ServeArgs) -> PathBuf {
    config.store.clone().unwrap_or_else(|| {
        let mut name = config.db.as_os_str().to_owned();
        name.push(".events");
        PathBuf::from(name)
    })
}

/// `--node`; without it, the name an existing store was created with (so that a host or pod
/// renamed since still opens its store), else the host name (`localhost` when unreadable).
pub fn node_name(config: &ServeArgs) -> String {
    if let Some(node) = &config.node {
        return node.clone();
    }
    let existing = std::fs::read(dir(config).join("manifest.json"))
        .ok()
        .and_then(|m| serde_json::from_slice::<serde_json::Value>(&m).ok())
        .and_then(|m| m.get("node")?.as_str().map(str::to_string));
    existing.unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into())
    })
}

/// The store's settings from the flags: retention by `--retention-age` and
/// `--retention-bytes`, and the free-space floor of `--min-free-disk-mb` (below it, appends are
/// refused and counted as lost).
pub fn settings(config: &ServeArgs) -> Config {
    Config {
        retention_age: Some(config.retention_age),
        retention_bytes: Some(config.retention_bytes),
        free_floor: config.min_free_disk_mb.saturating_mul(1 << 20),
        ..Config::default()
    }
}

/// Opens (or creates) the store; what opening repaired is logged.
pub fn open(config: &ServeArgs) -> anyhow::Result<Arc<Store>> {
    if config.retention_events != RETENTION_EVENTS_DEFAULT {
        tracing::warn!(
            "--retention-events is ignored: the event store keeps events by --retention-age and --retention-bytes"
        );
    }
    let dir = dir(config);
    let node = node_name(config);
    let (store, report) = Store::open(&dir, &node, settings(config))
        .with_context(|| format!("opening the event store in {}", dir.display()))?;
    if let Some(torn) = &report.torn_log {
        tracing::warn!(
            offset = torn.offset,
            bytes = torn.bytes_dropped,
            reason = torn.reason,
            "event store: cut the torn tail of the log (a write a crash interrupted, never acknowledged)"
        );
    }
    for s in &report.set_aside {
        tracing::error!(file = %s.file, reason = %s.reason, rows = s.rows,
            "event store: a damaged file was moved to set-aside/");
    }
    tracing::info!(dir = %dir.display(), %node, incarnation = store.incarnation(),
        created = report.created, replayed = report.replayed, "event store open");
    Ok(Arc::new(store))
}

pub use rulestudio_node::events::{maintain, seal};

/// The store's lines of `/metrics`: events refused (lost) per reason, and its bytes on disk.
pub fn render_metrics(store: &Store, out: &mut String) {
    let losses = store.losses();
    let disk = store.disk_use();
    out.push_str("# HELP rulestudio_store_lost_total Events the event store refused, by reason (below_free_floor: the disk is below --min-free-disk-mb; too_wide: an event with more values than a segment holds).\n# TYPE rulestudio_store_lost_total counter\n");
    for (reason, n) in [
        ("below_free_floor", losses.below_free_floor),
        ("too_wide", losses.too_wide),
    ] {
        let _ = writeln!(
            out,
            "rulestudio_store_lost_total{{reason=\"{reason}\"}} {n}"
        );
    }
    let _ = write!(
        out,
        "# HELP rulestudio_store_bytes Bytes of the event store on disk: sealed segments (with the manifest) and the open segment's log.\n\
         # TYPE rulestudio_store_bytes gauge\n\
         rulestudio_store_bytes{{part=\"sealed\"}} {}\nrulestudio_store_bytes{{part=\"log\"}} {}\n\
         # HELP rulestudio_store_open_events Events in the open (not yet sealed) segment.\n\
         # TYPE rulestudio_store_open_events gauge\nrulestudio_store_open_events {}\n",
        disk.sealed,
        disk.log,
        store.open_rows()
    );
}
