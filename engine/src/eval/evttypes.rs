//! Sets of `evt.type` names, as a bitset over [`fields::evt_types`] indices.

use crate::fields::{self, EvtKind};
use std::fmt;

const WORDS: usize = 8;

/// The event types a condition can match. Built by the compiler the way libs computes the
/// event codes of a filter (`ppm_event_codes`), used for rule dispatch and `LOAD_NO_EVTTYPE`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvtTypeSet {
    bits: [u64; WORDS],
}

const _: () = assert!(WORDS * 64 >= 512);

impl EvtTypeSet {
    pub fn empty() -> Self {
        EvtTypeSet { bits: [0; WORDS] }
    }

    pub fn all() -> Self {
        let mut s = Self::empty();
        for i in 0..fields::evt_types().len() {
            s.insert(i as u16);
        }
        s
    }

    /// The set of the named types; unknown names are ignored (the compiler reports them).
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut s = Self::empty();
        for n in names {
            if let Some(i) = fields::evt_type_index(n) {
                s.insert(i);
            }
        }
        s
    }

    pub fn insert(&mut self, index: u16) {
        let i = index as usize;
        if i < WORDS * 64 {
            self.bits[i / 64] |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, index: u16) -> bool {
        let i = index as usize;
        i < WORDS * 64 && self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    pub fn union(&self, other: &Self) -> Self {
        let mut bits = self.bits;
        bits.iter_mut().zip(other.bits).for_each(|(a, b)| *a |= b);
        EvtTypeSet { bits }
    }

    pub fn intersection(&self, other: &Self) -> Self {
        let mut bits = self.bits;
        bits.iter_mut().zip(other.bits).for_each(|(a, b)| *a &= b);
        EvtTypeSet { bits }
    }

    /// Every known type not in this set.
    pub fn complement(&self) -> Self {
        let all = Self::all();
        let mut bits = all.bits;
        bits.iter_mut().zip(self.bits).for_each(|(a, b)| *a &= !b);
        EvtTypeSet { bits }
    }

    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    pub fn indices(&self) -> impl Iterator<Item = u16> + '_ {
        (0..fields::evt_types().len() as u16).filter(|&i| self.contains(i))
    }

    /// The names in the set, in table (alphabetical) order.
    pub fn names(&self) -> Vec<&'static str> {
        self.indices().map(|i| fields::evt_types()[i as usize].0).collect()
    }

    /// Falco's `LOAD_NO_EVTTYPE` test: more than 100 event codes. Falco counts libs event codes:
    /// an enter and an exit code per event name, while every syscall without its own event
    /// shares the two generic codes. This count follows that model (older event versions that
    /// libs also counts are not in the table, so the count can be a little lower than Falco's).
    /// An empty set (an unsatisfiable condition) does not warn.
    pub fn too_many(&self) -> bool {
        self.event_code_count() > 100
    }

    pub fn event_code_count(&self) -> usize {
        let mut generic = false;
        let mut codes = 0;
        for i in self.indices() {
            match fields::evt_types()[i as usize].1 {
                EvtKind::Syscall => generic = true,
                EvtKind::Event | EvtKind::EventAndSyscall => codes += 2,
            }
        }
        codes + if generic { 2 } else { 0 }
    }
}

impl fmt::Debug for EvtTypeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            f.write_str("EvtTypeSet(all)")
        } else {
            f.debug_set().entries(self.names()).finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let a = EvtTypeSet::of(["open", "openat"]);
        let b = EvtTypeSet::of(["openat", "execve"]);
        assert_eq!(a.intersection(&b).names(), ["openat"]);
        assert_eq!(a.union(&b).len(), 3);
        assert_eq!(a.complement().len(), fields::evt_types().len() - 2);
        assert!(EvtTypeSet::all().is_all() && EvtTypeSet::all().too_many());
        assert!(!a.too_many() && !EvtTypeSet::empty().too_many());
        assert!(a.complement().too_many());
    }
}
