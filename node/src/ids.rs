//! Alert ids, assigned on the node before an alert is first sent: `NODE:INCARNATION:N`
//! (decision 0020). With a state directory the counter is persisted in blocks (hi-lo): the end
//! of a block is saved before any id of it is used, so after a crash the next run starts past
//! every id a previous run could have sent, and no id is ever given twice. Without one, each
//! run takes a random incarnation.

use crate::state::{self, StateError};
use std::path::{Path, PathBuf};

/// The saved counter, in the node's state directory.
pub const IDS_FILE: &str = "alert-ids.json";
/// Ids reserved per write of [`IDS_FILE`].
const BLOCK: u64 = 4096;

/// The node's alert id counter.
pub struct AlertIds {
    /// `NODE:INCARNATION:`.
    prefix: String,
    next: u64,
    /// The first id not reserved yet (saved when reserved).
    end: u64,
    incarnation: u64,
    dir: Option<PathBuf>,
}

impl AlertIds {
    /// The counter of `node`, continued from `dir` when given (created there at first use).
    pub fn open(node: &str, dir: Option<&Path>) -> Result<AlertIds, StateError> {
        let saved = match dir {
            Some(dir) => match state::read(dir, IDS_FILE)? {
                Some(text) => Some(parse(&text).ok_or_else(|| StateError::Corrupt {
                    path: dir.join(IDS_FILE).display().to_string(),
                    what: "alert id counter",
                    message: "expected {\"incarnation\": N, \"reserved\": N}".into(),
                })?),
                None => None,
            },
            None => None,
        };
        let (incarnation, next) = match saved {
            Some(s) => s,
            None => (random_incarnation()?, 0),
        };
        let mut ids = AlertIds {
            prefix: format!("{node}:{incarnation}:"),
            next,
            end: next,
            incarnation,
            dir: dir.map(Path::to_path_buf),
        };
        if dir.is_none() {
            // Nothing outlives this run: every id of its incarnation is its own.
            ids.end = u64::MAX;
        }
        Ok(ids)
    }

    /// The next id; reserves (and saves) a new block first when the current one is used up.
    pub fn next_id(&mut self) -> Result<String, StateError> {
        if self.next == self.end {
            let end = self.next + BLOCK;
            if let Some(dir) = &self.dir {
                let saved = serde_json::json!({ "incarnation": self.incarnation, "reserved": end });
                state::write(dir, IDS_FILE, saved.to_string().as_bytes())?;
            }
            self.end = end;
        }
        let id = format!("{}{}", self.prefix, self.next);
        self.next += 1;
        Ok(id)
    }
}

fn parse(text: &str) -> Option<(u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    Some((v["incarnation"].as_u64()?, v["reserved"].as_u64()?))
}

/// A random incarnation below 2^53 (exact in any JSON reader).
fn random_incarnation() -> Result<u64, StateError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StateError::Io {
        path: "getrandom".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(u64::from_le_bytes(bytes) >> 11)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_continue_past_the_saved_block_after_a_restart_and_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = AlertIds::open("n1", Some(dir.path())).unwrap();
        let a: Vec<String> = (0..3).map(|_| first.next_id().unwrap()).collect();
        let incarnation = a[0].split(':').nth(1).unwrap().to_string();
        assert_eq!(a, [0, 1, 2].map(|n| format!("n1:{incarnation}:{n}")));
        // A crash: the run used 3 ids of its block; the next one starts past the whole block.
        drop(first);
        let mut second = AlertIds::open("n1", Some(dir.path())).unwrap();
        assert_eq!(
            second.next_id().unwrap(),
            format!("n1:{incarnation}:{BLOCK}")
        );
        for _ in 0..BLOCK {
            second.next_id().unwrap();
        }
        let third_start = AlertIds::open("n1", Some(dir.path()))
            .unwrap()
            .next_id()
            .unwrap();
        assert_eq!(third_start, format!("n1:{incarnation}:{}", 3 * BLOCK));
    }

    #[test]
    fn without_a_state_dir_each_run_has_its_own_incarnation() {
        let a = AlertIds::open("n1", None).unwrap().next_id().unwrap();
        let b = AlertIds::open("n1", None).unwrap().next_id().unwrap();
        assert!(a.ends_with(":0") && b.ends_with(":0"));
        assert_ne!(a, b);
    }

    #[test]
    fn a_damaged_counter_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(IDS_FILE), "{").unwrap();
        let e = AlertIds::open("n1", Some(dir.path()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(IDS_FILE) && e.contains("alert id counter"),
            "{e}"
        );
    }
}
