//! The store on real files in temporary directories: round trips, sealing, repair at open,
//! retention, compaction, the free-space floor and scans with cursors.

use rulestudio_engine::event::{Event, FieldSource};
use rulestudio_engine::fields;
use rulestudio_store::{Config, EventId, Retention, ScanError, ScanRequest, Store};
use std::fs;
use std::path::Path;
use std::time::Duration;

fn ev(json: &str) -> Event {
    Event::from_json_str(json).unwrap()
}

/// A store that seals and compacts only when told to.
fn config() -> Config {
    Config {
        free_floor: 0,
        retention_age: None,
        retention_bytes: None,
        compact_below_rows: 0,
        chunk_rows: 4,
        ..Config::default()
    }
}

fn open(dir: &Path, config: Config) -> Store {
    Store::open(dir, "node-1", config).unwrap().0
}

/// Event `i` of a small mix: two processes, opens under a few directories, a few with
/// arguments, lists, addresses, numbers sent for text fields and no `evt.time` at all.
fn mixed(i: u64) -> Event {
    let t = 1_000_000 + i as i64 * 10;
    match i % 5 {
        0 => ev(&format!(
            r#"{{"evt.time":{t},"evt.type":"openat","proc.name":"bash","proc.pid":42,"fd.name":"/etc/f{i}","proc.aname[2]":"sshd","evt.arg.flags":"O_RDONLY"}}"#
        )),
        1 => ev(&format!(
            r#"{{"evt.time":{t},"evt.type":"execve","proc.name":"cat","proc.cmdline":"cat /tmp/{i}","evt.failed":false,"user.uid":0}}"#
        )),
        2 => ev(&format!(
            r#"{{"evt.time":{t},"evt.type":"connect","fd.sip":"10.0.0.{}","fd.sport":443,"fd.types":["ipv4"],"proc.name":"curl"}}"#,
            i % 250
        )),
        3 => ev(&format!(
            r#"{{"evt.time":"{t}","evt.type":"openat","proc.name":{i},"fd.name":"/var/log/{i}"}}"#
        )),
        _ => ev(r#"{"proc.name":"untyped"}"#),
    }
}

fn all(store: &Store, newest_first: bool) -> Vec<(EventId, Event)> {
    let page = store
        .scan(
            &ScanRequest {
                newest_first,
                ..ScanRequest::default()
            },
            |_| true,
        )
        .unwrap();
    assert!(page.next.is_none());
    page.events.into_iter().map(|f| (f.id, f.event)).collect()
}

#[test]
fn events_read_back_equal_from_the_open_segment_and_after_sealing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    let events: Vec<Event> = (0..23).map(mixed).collect();
    let range = store.append(&events[..10], 5).unwrap();
    assert_eq!(range, 1..11);
    assert_eq!(store.append(&events[10..], 5).unwrap(), 11..24);
    let check = |store: &Store| {
        let got = all(store, false);
        assert_eq!(got.len(), events.len());
        for (i, ((id, got), want)) in got.iter().zip(&events).enumerate() {
            assert_eq!(id, &store.id(i as u64 + 1));
            assert_eq!(got, want, "event {i}");
        }
        let newest: Vec<u64> = all(store, true).iter().map(|(id, _)| id.seq).collect();
        assert_eq!(newest, (1..24).rev().collect::<Vec<_>>());
    };
    check(&store);
    store.seal().unwrap();
    assert_eq!(store.open_rows(), 0);
    assert_eq!(store.snapshot().segments.len(), 1);
    check(&store);
    store.append(&events[..3], 5).unwrap();
    let incarnation = store.incarnation();
    drop(store);
    let (store, report) = Store::open(dir.path(), "node-1", config()).unwrap();
    assert!(!report.created);
    assert_eq!(store.incarnation(), incarnation);
    assert_eq!(store.snapshot().segments.len(), 2);
    assert_eq!(all(&store, false).len(), 26);
    assert_eq!(store.append(&events[..1], 5).unwrap(), 27..28);
}

#[test]
fn an_event_without_evt_time_reads_back_without_it_and_is_stored_at_now() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    store.append(&[ev(r#"{"proc.name":"x"}"#)], 777).unwrap();
    store.seal().unwrap();
    let page = store.scan(&ScanRequest::default(), |_| true).unwrap();
    assert_eq!(page.events[0].time, 777);
    assert_eq!(page.events[0].event, ev(r#"{"proc.name":"x"}"#));
}

#[test]
fn a_torn_log_tail_is_cut_and_reported_and_the_whole_records_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    let events: Vec<Event> = (0..7).map(mixed).collect();
    store.append(&events, 1).unwrap();
    // A crash: no seal on the way out.
    store.abandon();
    let log = dir.path().join("open.wal");
    let whole = fs::metadata(&log).unwrap().len();
    let mut bytes = fs::read(&log).unwrap();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 5]);
    fs::write(&log, &bytes).unwrap();
    let (store, report) = Store::open(dir.path(), "node-1", config()).unwrap();
    let torn = report.torn_log.expect("the torn tail is reported");
    assert_eq!(torn.offset, whole);
    assert_eq!(torn.bytes_dropped, 9);
    assert_eq!(report.replayed, 7);
    assert_eq!(fs::metadata(&log).unwrap().len(), whole);
    assert_eq!(all(&store, false).len(), 7);
    assert_eq!(store.append(&events[..1], 1).unwrap(), 8..9);
}

#[test]
fn a_torn_segment_is_set_aside_and_reported_with_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    store
        .append(&(0..5).map(mixed).collect::<Vec<_>>(), 1)
        .unwrap();
    store.seal().unwrap();
    store
        .append(&(5..9).map(mixed).collect::<Vec<_>>(), 1)
        .unwrap();
    store.seal().unwrap();
    let torn = store.snapshot().segments[0].path.clone();
    drop(store);
    let len = fs::metadata(&torn).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&torn)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (store, report) = Store::open(dir.path(), "node-1", config()).unwrap();
    assert_eq!(report.set_aside.len(), 1);
    let aside = &report.set_aside[0];
    assert_eq!(aside.rows, 5);
    assert_eq!(aside.seqs, Some((1, 5)));
    assert!(aside.reason.contains("bytes"), "{}", aside.reason);
    assert!(dir.path().join("set-aside").join(&aside.file).exists());
    let seqs: Vec<u64> = all(&store, false).iter().map(|(id, _)| id.seq).collect();
    assert_eq!(seqs, (6..10).collect::<Vec<_>>());
    drop(store);
    let (_, again) = Store::open(dir.path(), "node-1", config()).unwrap();
    assert_eq!(again, Default::default(), "a repaired store opens clean");
}

#[test]
fn a_crash_between_sealing_and_clearing_the_log_neither_loses_nor_repeats_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    store
        .append(&(0..6).map(mixed).collect::<Vec<_>>(), 1)
        .unwrap();
    let log = fs::read(dir.path().join("open.wal")).unwrap();
    store.seal().unwrap();
    store.abandon();
    // The log as it was before the seal cleared it, and a leftover temporary file.
    fs::write(dir.path().join("open.wal"), log).unwrap();
    fs::write(dir.path().join("seg-x.parquet.tmp"), b"partial").unwrap();
    let (store, report) = Store::open(dir.path(), "node-1", config()).unwrap();
    assert_eq!(report.already_sealed, 6);
    assert_eq!(report.replayed, 0);
    assert_eq!(
        report.leftovers_removed,
        vec!["seg-x.parquet.tmp".to_string()]
    );
    assert_eq!(all(&store, false).len(), 6);
}

#[test]
fn retention_drops_whole_oldest_segments_by_bytes_and_age_and_never_under_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    for s in 0..4u64 {
        let batch: Vec<Event> = (s * 10..s * 10 + 10).map(mixed).collect();
        store.append(&batch, 1).unwrap();
        store.seal().unwrap();
    }
    let snap = store.snapshot();
    let sizes: Vec<u64> = snap.segments.iter().map(|s| s.meta.bytes).collect();
    let (first, third) = (snap.segments[0].path.clone(), snap.segments[2].path.clone());
    drop(snap);
    let by_bytes = Retention {
        age: None,
        bytes: Some(sizes[2] + sizes[3]),
    };
    let dropped = store.retain(0, by_bytes).unwrap();
    assert_eq!(dropped.segments, 2);
    assert_eq!(dropped.rows, 20);
    assert_eq!(store.snapshot().removed_through, 20);
    assert!(!first.exists(), "no reader holds it");
    let seqs: Vec<u64> = all(&store, false).iter().map(|(id, _)| id.seq).collect();
    assert_eq!(seqs, (21..41).collect::<Vec<_>>());

    // A running scan's snapshot keeps its segments until it ends.
    let held = store.snapshot();
    let by_age = Retention {
        age: Some(Duration::from_secs(86_400)),
        bytes: None,
    };
    // Every event is older than a day before "now".
    let now = 86_400 * 1_000_000_000 + 2_000_000;
    let dropped = store.retain(now, by_age).unwrap();
    assert_eq!(dropped.segments, 2);
    assert!(
        third.exists(),
        "a snapshot taken before retention still holds the file"
    );
    drop(held);
    assert!(!third.exists());
    assert!(all(&store, false).is_empty());
    // A cursor into what retention removed says so.
    let err = store
        .scan(
            &ScanRequest {
                newest_first: true,
                cursor: Some(store.id(30)),
                ..ScanRequest::default()
            },
            |_| true,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            ScanError::CursorIntoRemovedData {
                removed_through: 40,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("removed data"));
}

#[test]
fn small_segments_are_compacted_without_changing_what_scans_return() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        dir.path(),
        Config {
            compact_below_rows: 100,
            compact_target_rows: 1000,
            ..config()
        },
    );
    for s in 0..5u64 {
        let batch: Vec<Event> = (s * 7..s * 7 + 7).map(mixed).collect();
        store.append(&batch, 3).unwrap();
        store.seal().unwrap();
    }
    let before = all(&store, true);
    let old: Vec<_> = store
        .snapshot()
        .segments
        .iter()
        .map(|s| s.path.clone())
        .collect();
    let done = store.compact().unwrap();
    assert_eq!(done.merged, 5);
    assert_eq!(done.rows, 35);
    assert_eq!(store.snapshot().segments.len(), 1);
    assert!(old.iter().all(|p| !p.exists()));
    assert_eq!(all(&store, true), before);
    drop(store);
    let (store, report) = Store::open(dir.path(), "node-1", config()).unwrap();
    assert_eq!(report, Default::default());
    assert_eq!(all(&store, true), before);
}

#[test]
fn below_the_free_space_floor_events_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        dir.path(),
        Config {
            free_floor: u64::MAX,
            ..config()
        },
    );
    let err = store.append(&[mixed(0), mixed(1)], 1).unwrap_err();
    assert!(err.to_string().contains("below the floor"), "{err}");
    assert_eq!(store.losses().below_free_floor, 2);
    assert!(all(&store, false).is_empty());
}

#[test]
fn scans_push_down_types_time_and_columns_and_page_to_the_oldest_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    for s in 0..10u64 {
        let batch: Vec<Event> = (s * 50..s * 50 + 50).map(mixed).collect();
        store.append(&batch, 1).unwrap();
        if s < 9 {
            store.seal().unwrap();
        }
    }
    // Only connects: the type pushdown also keeps untyped rows (which meet every rule).
    let fd_sip = fields::get("fd.sip").unwrap();
    let req = ScanRequest {
        event_types: Some(vec!["connect".into()]),
        columns: Some(vec![fields::get("evt.type").unwrap(), fd_sip]),
        newest_first: true,
        limit: Some(7),
        ..ScanRequest::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .scan(
                &ScanRequest {
                    cursor: cursor.clone(),
                    ..req.clone()
                },
                |row| row.field(fd_sip, None).is_some(),
            )
            .unwrap();
        for f in &page.events {
            // Projected: the other columns of sealed rows are not read.
            let open_segment = f.id.seq > 450;
            assert_eq!(
                f.event
                    .get(fields::get("proc.name").unwrap(), None)
                    .is_some(),
                open_segment
            );
            seen.push(f.id.seq);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let want: Vec<u64> = (1..=500).rev().filter(|s| (s - 1) % 5 == 2).collect();
    assert_eq!(
        seen, want,
        "every connect, newest first, down to the oldest"
    );

    // Time range: [since, until).
    let page = store
        .scan(
            &ScanRequest {
                since: Some(1_000_000 + 100 * 10),
                until: Some(1_000_000 + 110 * 10),
                ..ScanRequest::default()
            },
            |_| true,
        )
        .unwrap();
    let seqs: Vec<u64> = page.events.iter().map(|f| f.id.seq).collect();
    // Rows without an integer `evt.time` (two of every five) are stored at the append's time, 1.
    assert_eq!(seqs, vec![101, 102, 103, 106, 107, 108]);

    let foreign: EventId = "other:1:5".parse().unwrap();
    let err = store
        .scan(
            &ScanRequest {
                cursor: Some(foreign),
                ..ScanRequest::default()
            },
            |_| true,
        )
        .unwrap_err();
    assert!(matches!(err, ScanError::ForeignCursor { .. }));
}

#[test]
fn the_open_segment_seals_when_idle_and_at_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        dir.path(),
        Config {
            seal_idle: Duration::ZERO,
            ..config()
        },
    );
    store.append(&[mixed(0)], 1).unwrap();
    assert!(store.maintain().unwrap().sealed);
    assert_eq!(store.open_rows(), 0);
    assert_eq!(fs::metadata(dir.path().join("open.wal")).unwrap().len(), 0);
    drop(store);
    let store = open(
        dir.path(),
        Config {
            seal_rows: 10,
            ..config()
        },
    );
    store
        .append(&(0..25).map(mixed).collect::<Vec<_>>(), 1)
        .unwrap();
    assert_eq!(
        store.open_rows(),
        0,
        "sealed once the batch took it past 10 rows"
    );
    assert_eq!(store.snapshot().segments.len(), 2);
    drop(store);
    // The log is bounded: a segment seals when its log reaches the limit.
    let store = open(
        dir.path(),
        Config {
            seal_log_bytes: 2000,
            ..config()
        },
    );
    for i in 0..100 {
        store.append(&[mixed(i)], 1).unwrap();
        assert!(store.disk_use().log < 2000 + 400);
    }
    // About 100 bytes of log per event: at least two more seals.
    assert!(store.snapshot().segments.len() >= 4);
}

#[test]
fn an_event_wider_than_a_segment_is_refused_and_counted_and_wide_batches_split_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), config());
    let wide = |from: usize, n: usize| {
        let keys: Vec<String> = (from..from + n)
            .map(|k| format!(r#""evt.arg.k{k}":"v""#))
            .collect();
        ev(&format!("{{{}}}", keys.join(",")))
    };
    let err = store.append(&[mixed(0), wide(0, 2049)], 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("event 1 of the batch has 2049 values"),
        "{err}"
    );
    assert_eq!(store.losses().too_wide, 2);
    // Three events of 1,000 new columns each: the segment seals before the limit.
    let batch = [wide(0, 1000), wide(1000, 1000), wide(2000, 1000)];
    assert_eq!(store.append(&batch, 1).unwrap(), 1..4);
    assert_eq!(store.snapshot().segments.len(), 1);
    store.seal().unwrap();
    let got = all(&store, false);
    assert_eq!(got.len(), 3);
    for ((_, got), want) in got.iter().zip(&batch) {
        assert_eq!(got, want);
    }
}

#[test]
fn opening_as_another_node_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), config()));
    let err = Store::open(dir.path(), "node-2", config()).err().unwrap();
    assert!(
        err.to_string().contains("belongs to node 'node-1'"),
        "{err}"
    );
    assert!(Store::open(dir.path(), "", config()).is_err());
}

#[test]
fn a_store_open_in_one_place_is_refused_in_another_until_closed() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), config());
    let err = Store::open(dir.path(), "node-1", config()).err().unwrap();
    assert!(
        err.to_string().contains("is open in another process"),
        "{err}"
    );
    drop(first);
    Store::open(dir.path(), "node-1", config()).expect("the lock goes with the store");
}
