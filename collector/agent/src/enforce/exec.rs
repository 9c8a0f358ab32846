//! The kernel's exec stops: the programs whose exec an enforce rule matches, by name, as the
//! engine's [`ExecStop`] compiles them; the kernel kills such an exec at `sched_process_exec`,
//! before the new program runs an instruction.

use super::target::PROTECTED_NAMES;
use aya::maps::{Array, HashMap, MapData, MapError};
use rulestudio_api::action::Action;
use rulestudio_engine::eval::{ExecStop, NAME_MAX};

pub struct ExecStops {
    names: HashMap<MapData, [u8; 16], u32>,
    stopped: Array<MapData, u64>,
    /// Rule names by index, as the kernel counts them.
    rules: Vec<String>,
}

/// A program name as the kernel's key: `comm`, NUL-padded to 16 bytes.
fn key(name: &str) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..name.len()].copy_from_slice(name.as_bytes());
    k
}

impl ExecStops {
    pub fn new(names: HashMap<MapData, [u8; 16], u32>, stopped: Array<MapData, u64>) -> ExecStops {
        ExecStops {
            names,
            stopped,
            rules: Vec::new(),
        }
    }

    /// Replaces the stops with those of `rules` (name, action, how its execs are stopped):
    /// enforce rules in the kernel subset, less the protected names. Returns how many names
    /// the kernel now stops. Not atomic: for a moment between two sets, neither or part holds.
    pub fn set<'a>(
        &mut self,
        rules: impl IntoIterator<Item = (&'a str, Action, &'a ExecStop)>,
    ) -> Result<usize, MapError> {
        let old: Vec<[u8; 16]> = self.names.keys().filter_map(Result::ok).collect();
        for k in old {
            self.names.remove(&k)?;
        }
        self.rules.clear();
        let max = self.stopped.len() as usize;
        let mut n = 0;
        for (rule, action, stop) in rules {
            let ExecStop::Kernel { names } = stop else {
                continue;
            };
            if action != Action::Enforce || self.rules.len() == max {
                continue;
            }
            let index = self.rules.len() as u32;
            self.stopped.set(index, 0, 0)?;
            self.rules.push(rule.to_string());
            for name in names.iter().filter(|n| n.len() <= NAME_MAX) {
                if PROTECTED_NAMES.contains(&name.as_str()) {
                    tracing::warn!(rule, name, "exec stop skipped: a protected process");
                    continue;
                }
                self.names.insert(key(name), index, 0)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Per rule, the execs the kernel stopped since its stops were set.
    pub fn stopped(&self) -> Vec<(String, u64)> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), self.stopped.get(&(i as u32), 0).unwrap_or(0)))
            .collect()
    }
}
