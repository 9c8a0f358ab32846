//! Prompt verdicts: the syscalls whose records wake the capture's reader at once. The kernel
//! otherwise wakes it once `wakeup_bytes` of records wait, and the reader polls every
//! `POLL_MS`; that batching keeps capture cheap, but an enforce rule's verdict, and so its
//! kill, would wait for it. So the event types of enforce rules wake the reader at once.

use crate::syscalls::{self, NR_MAX};
use aya::maps::{Array, MapData, MapError};
use rulestudio_api::action::Action;
use rulestudio_engine::eval::RuleSet;
use std::collections::BTreeSet;

/// More event types than this and a rule is taken to be on every type: Falco's own test for a
/// rule without an event-type restriction (`LOAD_NO_EVTTYPE`) is more than 100 event codes.
const UNRESTRICTED: usize = 100;

pub struct Wakeups {
    map: Array<MapData, u8>,
    /// The syscall numbers set in `map`.
    on: BTreeSet<u32>,
}

impl Wakeups {
    pub fn new(map: Array<MapData, u8>) -> Wakeups {
        Wakeups {
            map,
            on: BTreeSet::new(),
        }
    }

    /// Makes the syscalls of `rules`' enforce rules, and only those, wake the reader; returns
    /// their numbers. A rule that names no event type is left out: it would wake the reader for
    /// every record (Falco warns about such rules too), and its kill waits for the next poll.
    pub fn set(&mut self, rules: &RuleSet) -> Result<Vec<u32>, MapError> {
        let want: BTreeSet<u32> = rules
            .rules()
            .iter()
            .filter(|r| Action::of_rule(r) == Action::Enforce && r.evt_types.len() <= UNRESTRICTED)
            .flat_map(|r| r.evt_types.names())
            .flat_map(syscalls::numbers_of)
            .filter(|&nr| nr < NR_MAX)
            .collect();
        for &nr in self.on.difference(&want) {
            self.map.set(nr, 0, 0)?;
        }
        for &nr in want.difference(&self.on) {
            self.map.set(nr, 1, 0)?;
        }
        self.on = want;
        Ok(self.on.iter().copied().collect())
    }

    /// The syscall numbers the kernel's map says wake the reader, read back from it.
    pub fn in_kernel(&self) -> Result<Vec<u32>, MapError> {
        let mut on = Vec::new();
        for nr in 0..NR_MAX {
            if self.map.get(&nr, 0)? != 0 {
                on.push(nr);
            }
        }
        Ok(on)
    }
}
