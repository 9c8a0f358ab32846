//! The bounded queue of batches not yet acknowledged by the server, in order. With a directory
//! every batch is a file `<batch number>.ndjson` until acknowledged, so a restart replays what
//! was pending under the same batch numbers (the server de-duplicates on node + batch); without
//! one it is held in memory. When the bytes held would exceed the bound, the oldest batches are
//! dropped and counted.

use std::collections::VecDeque;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Per-node increasing number, kept across re-sends and restarts.
    pub seq: u64,
    /// NDJSON: one event per line, each line terminated.
    pub body: String,
    pub events: u64,
}

impl Batch {
    pub fn new(seq: u64, lines: &[String]) -> Batch {
        let mut body = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in lines {
            body.push_str(l);
            body.push('\n');
        }
        Batch {
            seq,
            body,
            events: lines.len() as u64,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("spool {path}: {source}")]
pub struct SpoolError {
    pub path: PathBuf,
    pub source: io::Error,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    events: u64,
    bytes: u64,
    /// In-memory spools keep the body; disk spools re-read the file.
    body: Option<String>,
}

#[derive(Debug)]
pub struct Spool {
    dir: Option<PathBuf>,
    max_bytes: u64,
    queue: VecDeque<Entry>,
    bytes: u64,
    events: u64,
    next_seq: u64,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError {
        path: path.to_path_buf(),
        source,
    }
}

impl Spool {
    /// Opens (creating) a spool; batches left by a previous run are queued first, oldest first.
    pub fn open(dir: Option<&Path>, max_bytes: u64) -> Result<Spool, SpoolError> {
        let mut spool = Spool {
            dir: dir.map(Path::to_path_buf),
            max_bytes,
            queue: VecDeque::new(),
            bytes: 0,
            events: 0,
            next_seq: 0,
        };
        if let Some(dir) = dir {
            fs::create_dir_all(dir).map_err(err(dir))?;
            let mut found = Vec::new();
            for e in fs::read_dir(dir).map_err(err(dir))? {
                let path = e.map_err(err(dir))?.path();
                let seq = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".ndjson"))
                    .and_then(|n| n.parse::<u64>().ok());
                if let Some(seq) = seq {
                    let body = fs::read(&path).map_err(err(&path))?;
                    let events = body.iter().filter(|b| **b == b'\n').count() as u64;
                    found.push(Entry {
                        seq,
                        events,
                        bytes: body.len() as u64,
                        body: None,
                    });
                }
            }
            found.sort_by_key(|e| e.seq);
            for e in found {
                spool.account(&e, true);
                spool.next_seq = spool.next_seq.max(e.seq + 1);
                spool.queue.push_back(e);
            }
        }
        Ok(spool)
    }

    fn account(&mut self, e: &Entry, add: bool) {
        if add {
            self.bytes += e.bytes;
            self.events += e.events;
        } else {
            self.bytes -= e.bytes;
            self.events -= e.events;
        }
    }

    /// The lowest number a new batch may take: above anything a previous run used (the wall
    /// clock in µs, or past the highest spooled number).
    pub fn next_seq(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        self.next_seq.max(now)
    }

    fn path(&self, seq: u64) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{seq:020}.ndjson")))
    }

    /// Queues a batch; returns how many events were dropped (oldest first) to stay in bounds.
    pub fn push(&mut self, batch: Batch) -> Result<u64, SpoolError> {
        let bytes = batch.body.len() as u64;
        let mut dropped = 0;
        while self.bytes + bytes > self.max_bytes {
            match self.pop_entry()? {
                Some(e) => dropped += e.events,
                None => break,
            }
        }
        let body = match self.path(batch.seq) {
            Some(path) => {
                // Write then rename, so a crash never leaves half a batch under a real name.
                let tmp = path.with_extension("tmp");
                fs::write(&tmp, &batch.body).map_err(err(&tmp))?;
                fs::rename(&tmp, &path).map_err(err(&path))?;
                None
            }
            None => Some(batch.body),
        };
        let e = Entry {
            seq: batch.seq,
            events: batch.events,
            bytes,
            body,
        };
        self.account(&e, true);
        self.queue.push_back(e);
        Ok(dropped)
    }

    /// The oldest pending batch.
    pub fn front(&self) -> Result<Option<Batch>, SpoolError> {
        let Some(e) = self.queue.front() else {
            return Ok(None);
        };
        let body = match (&e.body, self.path(e.seq)) {
            (Some(b), _) => b.clone(),
            (None, Some(path)) => fs::read_to_string(&path).map_err(err(&path))?,
            (None, None) => unreachable!("disk entries exist only with a directory"),
        };
        Ok(Some(Batch {
            seq: e.seq,
            body,
            events: e.events,
        }))
    }

    /// Forgets batch `seq` once acknowledged; false if it is no longer the oldest (a full
    /// spool dropped it while it was being sent).
    pub fn ack(&mut self, seq: u64) -> Result<bool, SpoolError> {
        if self.queue.front().is_some_and(|e| e.seq == seq) {
            self.pop_entry()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn pop_entry(&mut self) -> Result<Option<Entry>, SpoolError> {
        let Some(e) = self.queue.pop_front() else {
            return Ok(None);
        };
        self.account(&e, false);
        if let Some(path) = self.path(e.seq) {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(x) if x.kind() == io::ErrorKind::NotFound => {}
                Err(x) => return Err(SpoolError { path, source: x }),
            }
        }
        Ok(Some(e))
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize, tag: &str) -> Vec<String> {
        (0..n)
            .map(|i| format!("{{\"evt.type\":\"{tag}{i}\"}}"))
            .collect()
    }

    #[test]
    fn disk_spool_survives_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(Some(dir.path()), 1 << 20).unwrap();
        let a = s.next_seq();
        let b = a + 1;
        s.push(Batch::new(a, &lines(2, "a"))).unwrap();
        s.push(Batch::new(b, &lines(3, "b"))).unwrap();
        drop(s);
        let mut s = Spool::open(Some(dir.path()), 1 << 20).unwrap();
        assert_eq!(s.events(), 5);
        assert_eq!(s.front().unwrap().unwrap().seq, a);
        assert!(
            !s.ack(b).unwrap(),
            "only the oldest batch can be acknowledged"
        );
        assert!(s.ack(a).unwrap());
        let front = s.front().unwrap().unwrap();
        assert_eq!((front.seq, front.events), (b, 3));
        assert!(s.next_seq() > b);
    }

    #[test]
    fn full_spool_drops_oldest_and_counts() {
        let one = Batch::new(1, &lines(4, "x"));
        let max = one.body.len() as u64 * 2;
        for dir in [None, Some(tempfile::tempdir().unwrap())] {
            let mut s = Spool::open(dir.as_ref().map(|d| d.path()), max).unwrap();
            assert_eq!(s.push(Batch::new(1, &lines(4, "x"))).unwrap(), 0);
            assert_eq!(s.push(Batch::new(2, &lines(4, "y"))).unwrap(), 0);
            assert_eq!(s.push(Batch::new(3, &lines(4, "z"))).unwrap(), 4);
            assert_eq!(s.front().unwrap().unwrap().seq, 2);
            assert_eq!(s.events(), 8);
        }
    }
}
