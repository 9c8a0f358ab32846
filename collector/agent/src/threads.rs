//! The thread table: the context (effective ids, capability sets, session, parent, login uid,
//! name) the kernel last sent for each thread. The kernel sends a thread's context only when it
//! first sees the thread or the context changed (`ctx_sent` in `collector.bpf.c`), and with
//! every fork, exec and exit record, so a record without one is joined here with its thread's.
//! Bounded; an entry leaves with its thread's exit record. A thread the table does not hold
//! (evicted, or its context record lost) is read from `/proc`, as libsinsp reads a thread it
//! missed; every eviction and miss is counted.

use rulestudio_collector_common::Context;
use rustc_hash::FxHashMap as HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Bound on tracked threads (a node's threads rarely exceed the default `pid_max` of 2^15 by
/// much; missed exits must not grow the table forever).
const MAX_THREADS: usize = 1 << 17;

/// What the table counted since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadStats {
    /// Contexts the kernel sent (first sight, a change, or a lifecycle record).
    pub received: u64,
    /// Entries dropped to keep the table within its bound.
    pub evicted: u64,
    /// Records of a thread the table did not hold, resolved from `/proc`.
    pub proc_reads: u64,
    /// Records of a thread neither the table nor `/proc` knew (gone already): their events
    /// carry a context of unknown ids.
    pub unknown: u64,
}

pub struct Threads {
    map: HashMap<u32, Context>,
    max: usize,
    proc_root: PathBuf,
    stats: ThreadStats,
}

impl Default for Threads {
    fn default() -> Self {
        Threads::new()
    }
}

impl Threads {
    pub fn new() -> Threads {
        Threads::bounded(MAX_THREADS, "/proc".into())
    }

    fn bounded(max: usize, proc_root: PathBuf) -> Threads {
        Threads {
            map: HashMap::default(),
            max,
            proc_root,
            stats: ThreadStats::default(),
        }
    }

    pub fn stats(&self) -> ThreadStats {
        self.stats
    }

    /// A context the kernel sent for `tid`.
    pub fn received(&mut self, tid: u32, ctx: Context) {
        self.stats.received += 1;
        self.insert(tid, ctx);
    }

    fn insert(&mut self, tid: u32, ctx: Context) {
        if self.map.len() >= self.max && !self.map.contains_key(&tid) {
            // Missed exits leave dead threads behind: drop those first, then, if every one
            // lives, an arbitrary sixteenth (their next records are read from /proc).
            let before = self.map.len();
            let root = self.proc_root.clone();
            self.map
                .retain(|tid, _| root.join(tid.to_string()).exists());
            if self.map.len() >= self.max {
                let drop: Vec<u32> = self
                    .map
                    .keys()
                    .take((self.max / 16).max(1))
                    .copied()
                    .collect();
                for t in drop {
                    self.map.remove(&t);
                }
            }
            self.stats.evicted += (before - self.map.len()) as u64;
        }
        self.map.insert(tid, ctx);
    }

    /// The context of thread `tid` of process `tgid`, from the table or else from `/proc`.
    pub fn get(&mut self, tgid: u32, tid: u32) -> Context {
        if let Some(c) = self.map.get(&tid) {
            return *c;
        }
        match read_context(&self.proc_root, tgid, tid) {
            Some(c) => {
                self.stats.proc_reads += 1;
                self.insert(tid, c);
                c
            }
            None => {
                self.stats.unknown += 1;
                Context {
                    loginuid: u32::MAX,
                    ..Context::default()
                }
            }
        }
    }

    /// The thread exited.
    pub fn exit(&mut self, tid: u32) {
        self.map.remove(&tid);
    }
}

/// A thread's context as `/proc/TGID/task/TID` shows it; `None` if it is gone.
fn read_context(root: &Path, tgid: u32, tid: u32) -> Option<Context> {
    let dir = root
        .join(tgid.to_string())
        .join("task")
        .join(tid.to_string());
    let status = fs::read_to_string(dir.join("status")).ok()?;
    let field = |key: &str| status.lines().find_map(|l| l.strip_prefix(key));
    // `Uid:	real	effective	saved	fs`: the context holds the effective ids.
    let effective = |key: &str| field(key)?.split_whitespace().nth(1)?.parse().ok();
    let caps = |key: &str| u64::from_str_radix(field(key)?.trim(), 16).ok();
    let stat = fs::read_to_string(dir.join("stat")).unwrap_or_default();
    // `tid (comm) state ppid pgrp session …`; comm may hold spaces and parentheses.
    let sid = stat
        .rfind(')')
        .and_then(|close| stat[close + 1..].split_whitespace().nth(3)?.parse().ok());
    let loginuid = fs::read_to_string(dir.join("loginuid"))
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let name = field("Name:").unwrap_or_default().trim().as_bytes();
    let mut comm = [0u8; 16];
    let n = name.len().min(15);
    comm[..n].copy_from_slice(&name[..n]);
    Some(Context {
        cap_permitted: caps("CapPrm:").unwrap_or(0),
        cap_effective: caps("CapEff:").unwrap_or(0),
        uid: effective("Uid:").unwrap_or(0),
        gid: effective("Gid:").unwrap_or(0),
        loginuid: loginuid.unwrap_or(u32::MAX),
        sid: sid.unwrap_or(0),
        ppid: field("PPid:")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0),
        reserved: 0,
        comm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(uid: u32) -> Context {
        Context {
            uid,
            ..Context::default()
        }
    }

    /// This thread's id.
    fn gettid() -> u32 {
        fs::read_link("/proc/thread-self")
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn a_sent_context_is_joined_until_the_thread_exits() {
        let mut t = Threads::new();
        // Not a live thread (beyond pid_max), so /proc cannot answer for it.
        let tid = u32::MAX - 7;
        t.received(tid, ctx(1000));
        assert_eq!(t.get(1, tid).uid, 1000);
        t.received(tid, ctx(0));
        assert_eq!(t.get(1, tid).uid, 0);
        t.exit(tid);
        assert_eq!(t.get(1, tid).loginuid, u32::MAX);
        assert_eq!(
            t.stats(),
            ThreadStats {
                received: 2,
                unknown: 1,
                ..ThreadStats::default()
            }
        );
    }

    #[test]
    fn a_miss_is_read_from_proc_like_libsinsp() {
        let mut t = Threads::new();
        let (pid, tid) = (std::process::id(), gettid());
        let c = t.get(pid, tid);
        let status = fs::read_to_string("/proc/thread-self/status").unwrap();
        let euid: u32 = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(c.uid, euid);
        assert_eq!(c.ppid, std::os::unix::process::parent_id());
        let name = fs::read_to_string("/proc/thread-self/comm").unwrap();
        assert_eq!(
            crate::record::comm(&c),
            name.trim_end_matches('\n'),
            "the thread's own name"
        );
        assert_eq!(t.stats().proc_reads, 1);
        // Now held: no second read.
        t.get(pid, tid);
        assert_eq!(t.stats().proc_reads, 1);
    }

    #[test]
    fn the_table_stays_within_its_bound_and_counts_evictions() {
        // An empty directory stands for /proc: every thread in it is gone.
        let dir = tempfile::tempdir().unwrap();
        let mut t = Threads::bounded(32, dir.path().to_path_buf());
        for tid in 0..100 {
            t.received(tid, ctx(tid));
        }
        assert!(t.map.len() <= 32, "{} entries", t.map.len());
        assert_eq!(t.stats().evicted as usize + t.map.len(), 100);
    }
}
