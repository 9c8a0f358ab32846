//! Durability: a child process appends (sealing as it goes) and prints what `append`
//! acknowledged; it is killed with SIGKILL at an arbitrary point, and the reopened store must
//! hold every acknowledged event, in order, with its values.

use rulestudio_engine::event::{Event, FieldSource, Value};
use rulestudio_engine::fields;
use rulestudio_store::{Config, Fsync, ScanRequest, Store};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const CHILD_DIR: &str = "RULESTUDIO_STORE_KILL_CHILD_DIR";

fn config() -> Config {
    Config {
        // Death of the process, not power loss: the page cache is enough.
        fsync: Fsync::Never,
        seal_rows: 3000,
        chunk_rows: 512,
        free_floor: 0,
        ..Config::default()
    }
}

fn event(seq: u64) -> Event {
    Event::from_json_str(&format!(
        r#"{{"evt.time":{},"evt.type":"openat","proc.name":"bash","proc.pid":{seq},"fd.name":"/etc/f{}"}}"#,
        1_000 + seq,
        seq % 97
    ))
    .unwrap()
}

#[test]
#[ignore = "the child process of acknowledged_events_survive_kill_9; run by it"]
fn child_appends_until_killed() {
    let dir = std::env::var(CHILD_DIR).expect("run by acknowledged_events_survive_kill_9");
    let (store, _) = Store::open(dir.as_ref(), "node-k", config()).unwrap();
    let mut next = 1;
    let mut out = std::io::stdout().lock();
    loop {
        let batch: Vec<Event> = (next..next + 100).map(event).collect();
        let seqs = store.append(&batch, 0).unwrap();
        assert_eq!(seqs, next..next + 100);
        next += 100;
        writeln!(out, "acked {}", next - 1).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_events_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_appends_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = 0;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Past a few seals (every 3,000 events), then at whatever point the child is at.
    while acked < 10_000 {
        let line = lines
            .next()
            .expect("the child acknowledges until killed")
            .unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().unwrap();
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (store, report) = Store::open(dir.path(), "node-k", config()).unwrap();
    assert!(report.set_aside.is_empty(), "{report:?}");
    let page = store.scan(&ScanRequest::default(), |_| true).unwrap();
    assert!(
        page.events.len() as u64 >= acked,
        "{} < {acked}",
        page.events.len()
    );
    let pid = fields::get("proc.pid").unwrap();
    for (i, found) in page.events.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(found.id.seq, seq);
        assert_eq!(found.event.field(pid, None), Some(Value::Int(seq as i64)));
        assert_eq!(found.event, event(seq));
    }
    assert!(
        !store.snapshot().segments.is_empty(),
        "some seals happened before the kill"
    );
}
