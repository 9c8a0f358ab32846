//! Shared by the integration tests that load the real eBPF program. They need root (or
//! CAP_BPF + CAP_PERFMON) and FAIL when the program cannot load: capture is the product.

#![allow(dead_code)]

use rulestudio_collector::capture::Capture;
use rulestudio_collector::kernel::KernelConfig;
use rulestudio_collector::stats::Counters;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod server;

/// Event batches waiting in the spool directory `dir` (not its `alerts` directory).
pub fn spooled_batches(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "ndjson")
        })
        .count()
}

pub type Event = Map<String, Value>;

/// A shell that opens `trigger` every 200 ms for at most 60 s, then creates `after`: an
/// enforce rule on opening `trigger` must kill it before `after` exists.
pub fn open_in_a_loop(trigger: &std::path::Path, after: &std::path::Path) -> std::process::Child {
    std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "i=0; while [ $i -lt 300 ]; do : > {t}; sleep 0.2; i=$((i+1)); done; : > {a}",
            t = trigger.display(),
            a = after.display()
        ))
        .spawn()
        .unwrap()
}

pub struct Harness {
    cap: Capture,
    pub seen: Vec<Event>,
}

impl Harness {
    pub fn start() -> Harness {
        Self::with(KernelConfig::default())
    }

    pub fn with(config: KernelConfig) -> Harness {
        let cap = Capture::start(&config, Arc::new(Counters::default())).unwrap_or_else(|e| {
            panic!("the eBPF program must load for this test (run as root): {e}")
        });
        Harness {
            cap,
            seen: Vec::new(),
        }
    }

    /// Container metadata from the CRI server at `socket`.
    pub fn set_cri(&mut self, socket: std::path::PathBuf) {
        self.cap.set_cri(socket);
    }

    fn pump(&mut self) {
        let seen = &mut self.seen;
        self.cap.drain(&mut |ev| {
            let line = ev.to_json();
            assert_unique_keys(&line);
            // The node judges and stores the event as built; the studio reads its JSON. Both
            // must see the same event.
            let decoded = rulestudio_engine::event::Event::from_json_str(&line)
                .unwrap_or_else(|e| panic!("the studio cannot decode {line}: {e}"));
            assert_eq!(decoded, ev.to_event(), "JSON and event differ: {line}");
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("invalid JSON event {line}: {e}"));
            let Value::Object(m) = v else {
                panic!("event is not an object: {line}")
            };
            seen.push(m);
        });
    }

    /// The first event (seen so far or arriving within 5 s) matching `pred`.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            self.pump();
            if let Some(e) = self.seen.iter().find(|e| pred(e)) {
                return e.clone();
            }
            if Instant::now() > deadline {
                let pids: Vec<_> = self.seen.iter().rev().take(5).collect();
                panic!(
                    "no event {what} among {} captured; last: {pids:#?}",
                    self.seen.len()
                );
            }
            self.cap.wait();
        }
    }

    /// Every event captured so far from process `pid`.
    pub fn of_pid(&mut self, pid: u32) -> Vec<Event> {
        self.pump();
        self.seen
            .iter()
            .filter(|e| e.get("proc.pid") == Some(&Value::from(pid)))
            .cloned()
            .collect()
    }
}

pub fn s<'a>(e: &'a Event, k: &str) -> &'a str {
    e.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("event has no string {k}: {e:#?}"))
}

pub fn is(e: &Event, k: &str, v: impl Into<Value>) -> bool {
    e.get(k) == Some(&v.into())
}

/// Where a cgroup hierarchy is mounted, from /proc/self/mounts: the unified (v2) one, or the v1
/// one carrying `controller`. Panics with what is missing: the container tests need both.
pub fn cgroup_mount(v1_controller: Option<&str>) -> std::path::PathBuf {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let found = mounts.lines().find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let (dir, fstype, opts) = (cols.get(1)?, cols.get(2)?, cols.get(3)?);
        let hit = match v1_controller {
            None => *fstype == "cgroup2",
            Some(c) => *fstype == "cgroup" && opts.split(',').any(|o| o == c),
        };
        hit.then(|| std::path::PathBuf::from(dir))
    });
    found.unwrap_or_else(|| match v1_controller {
        None => panic!("no cgroup2 hierarchy mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)"),
        Some(c) => panic!("no cgroup v1 hierarchy with the {c} controller mounted (mount -t cgroup -o {c} none /sys/fs/cgroup/{c})"),
    })
}

/// Panics with the key and value if `key` is not a field or `value` does not fit its type.
pub fn check_field(key: &str, value: &Value) {
    let base = key.split('[').next().unwrap();
    let (id, _) = rulestudio_engine::fields::resolve(base)
        .unwrap_or_else(|| panic!("`{key}` is not a field of the engine's table"));
    let info = id.info();
    let ok = if key == "evt.time" {
        // The interchange format carries evt.time as ns since the epoch (CHARBUF in Falco).
        value.is_i64()
    } else if info.is_list {
        value.is_array()
    } else {
        match info.ty {
            rulestudio_engine::fields::FieldType::Charbuf
            | rulestudio_engine::fields::FieldType::Bytebuf
            | rulestudio_engine::fields::FieldType::Ipnet => value.is_string(),
            rulestudio_engine::fields::FieldType::Bool => value.is_boolean(),
            rulestudio_engine::fields::FieldType::Ipaddr => value
                .as_str()
                .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
            rulestudio_engine::fields::FieldType::Dynamic => true,
            t if t.is_numeric() => value.is_i64() || value.is_u64(),
            t => panic!(
                "`{key}` has type {} the collector does not emit",
                t.as_str()
            ),
        }
    };
    assert!(
        ok,
        "`{key}` = {value} does not fit its field type {}",
        info.ty.as_str()
    );
}

/// Every event names each field once: a key written twice is not what libsinsp gives, and it
/// sends every reader of the line (the node's evaluator, the studio's ingest) off the engine's
/// fast JSON path onto the slow one, which keeps the last.
fn assert_unique_keys(line: &str) {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an event object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    let Keys(mut keys) = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    keys.sort();
    let twice: Vec<&String> = keys
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[0])
        .collect();
    assert!(twice.is_empty(), "keys written twice {twice:?} in {line}");
}
