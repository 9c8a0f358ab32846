//! Sets of event types two ways: [`EvtTypeSet`] over `evt.type` names (what a condition
//! names, shown by `explain`), and [`EventCodes`] over libs' event codes (what libs indexes
//! rules by, and what `LOAD_NO_EVTTYPE` counts). They differ where names share codes: every
//! syscall without events of its own has the two generic codes, so `not evt.type = _llseek`
//! leaves out every generic syscall in libs.

use crate::fields;
use std::fmt;

const WORDS: usize = 8;

const _: () = assert!(WORDS * 64 >= 512 && fields::PPM_EVENT_MAX as usize <= WORDS * 64);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Bits([u64; WORDS]);

impl Bits {
    const EMPTY: Bits = Bits([0; WORDS]);

    fn below(n: usize) -> Bits {
        let mut b = Bits::EMPTY;
        (0..n).for_each(|i| b.insert(i));
        b
    }

    fn insert(&mut self, i: usize) {
        if i < WORDS * 64 {
            self.0[i / 64] |= 1 << (i % 64);
        }
    }

    fn contains(&self, i: usize) -> bool {
        i < WORDS * 64 && self.0[i / 64] & (1 << (i % 64)) != 0
    }

    fn zip(&self, other: &Bits, f: impl Fn(u64, u64) -> u64) -> Bits {
        let mut bits = self.0;
        bits.iter_mut()
            .zip(other.0)
            .for_each(|(a, b)| *a = f(*a, b));
        Bits(bits)
    }

    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

/// The set algebra the compiler's event-type visitor (libs `ppm_code_visitor`) runs on.
pub(crate) trait TypeAlgebra: Sized {
    fn all() -> Self;
    fn empty() -> Self;
    /// The set of the named types; unknown names are ignored (the compiler reports them).
    fn of_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self;
    fn union(&self, other: &Self) -> Self;
    fn intersection(&self, other: &Self) -> Self;
    /// Everything of the universe not in this set.
    fn complement(&self) -> Self;
}

/// A set of `evt.type` names, as a bitset over [`fields::evt_types`] indices.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvtTypeSet {
    bits: Bits,
}

impl EvtTypeSet {
    pub fn empty() -> Self {
        EvtTypeSet { bits: Bits::EMPTY }
    }

    pub fn all() -> Self {
        EvtTypeSet {
            bits: Bits::below(fields::evt_types().len()),
        }
    }

    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut s = Self::empty();
        for i in names.into_iter().filter_map(fields::evt_type_index) {
            s.insert(i);
        }
        s
    }

    pub fn insert(&mut self, index: u16) {
        self.bits.insert(index as usize);
    }

    pub fn contains(&self, index: u16) -> bool {
        self.bits.contains(index as usize)
    }

    pub fn union(&self, other: &Self) -> Self {
        EvtTypeSet {
            bits: self.bits.zip(&other.bits, |a, b| a | b),
        }
    }

    pub fn intersection(&self, other: &Self) -> Self {
        EvtTypeSet {
            bits: self.bits.zip(&other.bits, |a, b| a & b),
        }
    }

    /// Every known type not in this set.
    pub fn complement(&self) -> Self {
        EvtTypeSet {
            bits: Self::all().bits.zip(&self.bits, |a, b| a & !b),
        }
    }

    pub fn len(&self) -> usize {
        self.bits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    pub fn indices(&self) -> impl Iterator<Item = u16> + '_ {
        (0..fields::evt_types().len() as u16).filter(|&i| self.contains(i))
    }

    /// The names in the set, in table (alphabetical) order.
    pub fn names(&self) -> Vec<&'static str> {
        self.indices()
            .map(|i| fields::evt_types()[i as usize].0)
            .collect()
    }
}

impl TypeAlgebra for EvtTypeSet {
    fn all() -> Self {
        EvtTypeSet::all()
    }
    fn empty() -> Self {
        EvtTypeSet::empty()
    }
    fn of_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        EvtTypeSet::of(names)
    }
    fn union(&self, other: &Self) -> Self {
        EvtTypeSet::union(self, other)
    }
    fn intersection(&self, other: &Self) -> Self {
        EvtTypeSet::intersection(self, other)
    }
    fn complement(&self) -> Self {
        EvtTypeSet::complement(self)
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

/// A set of libs event codes (`0..PPM_EVENT_MAX`), as libs' `ppm_event_codes` computes it for a
/// condition. Names map to codes as in libs' `names_to_event_set` (see the `libs-event-codes`
/// table); the universe is every code, so a complement drops whole shared groups.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventCodes {
    bits: Bits,
}

impl EventCodes {
    /// Falco's `LOAD_NO_EVTTYPE` test: a syscall rule that can match more than 100 event codes
    /// (an empty set is an unsatisfiable condition and does not warn).
    pub fn too_many(&self) -> bool {
        self.len() > 100
    }

    pub fn len(&self) -> usize {
        self.bits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The `evt.type` names whose events libs would evaluate a rule with these codes on: an
    /// event is dispatched by its code, so a name is in when one of its codes is.
    pub fn dispatch_types(&self) -> EvtTypeSet {
        let mut s = EvtTypeSet::empty();
        for (i, codes) in fields::EVT_TYPE_CODES.iter().enumerate() {
            if codes.iter().any(|&c| self.bits.contains(c as usize)) {
                s.insert(i as u16);
            }
        }
        s
    }
}

impl TypeAlgebra for EventCodes {
    fn all() -> Self {
        EventCodes {
            bits: Bits::below(fields::PPM_EVENT_MAX as usize),
        }
    }
    fn empty() -> Self {
        EventCodes { bits: Bits::EMPTY }
    }
    fn of_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut bits = Bits::EMPTY;
        for i in names.into_iter().filter_map(fields::evt_type_index) {
            fields::EVT_TYPE_CODES[i as usize]
                .iter()
                .for_each(|&c| bits.insert(c as usize));
        }
        EventCodes { bits }
    }
    fn union(&self, other: &Self) -> Self {
        EventCodes {
            bits: self.bits.zip(&other.bits, |a, b| a | b),
        }
    }
    fn intersection(&self, other: &Self) -> Self {
        EventCodes {
            bits: self.bits.zip(&other.bits, |a, b| a & b),
        }
    }
    fn complement(&self) -> Self {
        EventCodes {
            bits: Self::all().bits.zip(&self.bits, |a, b| a & !b),
        }
    }
}

impl fmt::Debug for EventCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventCodes({} codes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_set_algebra() {
        let a = EvtTypeSet::of(["open", "openat"]);
        let b = EvtTypeSet::of(["openat", "execve"]);
        assert_eq!(a.intersection(&b).names(), ["openat"]);
        assert_eq!(a.union(&b).len(), 3);
        assert_eq!(a.complement().len(), fields::evt_types().len() - 2);
    }

    #[test]
    fn names_map_to_libs_codes() {
        let codes = |names: &[&str]| EventCodes::of_names(names.iter().copied());
        // Enter and exit of every driver version.
        assert_eq!(codes(&["open"]).len(), 2);
        assert_eq!(codes(&["execve"]).len(), 16);
        // Syscalls without their own events share the two generic codes.
        assert_eq!(codes(&["_llseek", "_newselect"]).len(), 2);
        assert_eq!(
            codes(&["_llseek"])
                .complement()
                .intersection(&codes(&["_newselect"]))
                .len(),
            0
        );
        // The container plugin's async events share the async event code.
        assert_eq!(codes(&["container_removed"]), codes(&["asyncevent"]));
        assert_eq!(EventCodes::all().len(), fields::PPM_EVENT_MAX as usize);
        assert!(EventCodes::all().too_many() && !EventCodes::empty().too_many());
    }

    #[test]
    fn dispatch_follows_codes() {
        let not_llseek = EventCodes::of_names(["_llseek"])
            .complement()
            .dispatch_types();
        assert!(!not_llseek.contains(fields::evt_type_index("_newselect").unwrap()));
        assert!(not_llseek.contains(fields::evt_type_index("open").unwrap()));
        let llseek = EventCodes::of_names(["_llseek"]).dispatch_types();
        assert!(llseek.contains(fields::evt_type_index("_newselect").unwrap()));
        assert!(!llseek.contains(fields::evt_type_index("open").unwrap()));
    }
}
