//! Conditions lowered for evaluation into a branching program: every check of a condition tree
//! becomes one instruction that names the next instruction for each verdict, so `and`, `or`
//! and `not` cost nothing at run time (they are jump targets, short-circuiting exactly like the
//! tree) and evaluation is a loop without recursion.
//!
//! A rule set lowers all its rules into one program whose checks are interned: a check used
//! in several places (the macros and lists Falco rules share, or `proc.pexe endswith java`
//! eleven times inside `Run shell untrusted`) is one check with a memo slot, so each event
//! evaluates it once however many rules use it (what libs' filter cache does for identical
//! filterchecks). Checks have no side effects, so a memoised verdict is the verdict.

use super::check::{Check, Frame, Lhs, Node};
use super::EvtTypeSet;
use crate::event::FieldSource;
use rustc_hash::FxHashMap;
use std::cell::Cell;

/// Jump targets that end the evaluation.
const TRUE: u32 = u32::MAX;
const FALSE: u32 = u32::MAX - 1;
const NO_MEMO: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Ins {
    check: u32,
    /// Index into the per-event verdict stamps, or [`NO_MEMO`].
    memo: u32,
    on_true: u32,
    on_false: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Program {
    code: Vec<Ins>,
    checks: Vec<Check>,
    memo_slots: u32,
}

#[derive(Default)]
pub(crate) struct Builder {
    prog: Program,
    /// A check's identity is its full structure: the derived `Debug` rendering prints
    /// everything its verdict depends on (field, argument, operator, constants, patterns).
    ids: FxHashMap<String, u32>,
}

impl Builder {
    /// Lowers a condition tree; returns its entry point. With `dispatched`, the event is known
    /// to have one of these types (the rule set dispatched it by type), so the `evt.type`
    /// checks that this decides are folded away.
    pub(crate) fn add(&mut self, node: &Node, dispatched: Option<&EvtTypeSet>) -> u32 {
        self.emit(node, TRUE, FALSE, dispatched)
    }

    /// Emits `node` so that it continues at `t` when it holds and at `f` when not.
    fn emit(&mut self, node: &Node, t: u32, f: u32, dispatched: Option<&EvtTypeSet>) -> u32 {
        match node {
            Node::Not(inner) => self.emit(inner, f, t, dispatched),
            // Built back to front: each item continues at the next one's entry.
            Node::And(items) => items.iter().rev().fold(t, |next, item| self.emit(item, next, f, dispatched)),
            Node::Or(items) => items.iter().rev().fold(f, |next, item| self.emit(item, t, next, dispatched)),
            Node::Check(c) => {
                if let (Lhs::EvtType { set, negate }, Some(types)) = (&c.lhs, dispatched) {
                    if types.intersection(set) == *types {
                        return if *negate { f } else { t };
                    }
                    if types.intersection(set).is_empty() {
                        return if *negate { t } else { f };
                    }
                }
                let check = self.intern(c);
                self.prog.code.push(Ins { check, memo: NO_MEMO, on_true: t, on_false: f });
                self.prog.code.len() as u32 - 1
            }
        }
    }

    fn intern(&mut self, c: &Check) -> u32 {
        let key = format!("{c:?}");
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        self.prog.checks.push(c.clone());
        let id = self.prog.checks.len() as u32 - 1;
        self.ids.insert(key, id);
        id
    }

    /// The program, with a memo slot for every check that one evaluation can reach at more
    /// than one instruction (from the entries in one of `entry_groups`) and that costs more
    /// than reading its slot. An evaluation runs entries of a single group.
    pub(crate) fn finish(self, entry_groups: &[&[u32]]) -> Program {
        let mut prog = self.prog;
        let mut needs_memo = vec![false; prog.checks.len()];
        for entries in entry_groups {
            let mut uses = vec![0u32; prog.checks.len()];
            let mut seen = vec![false; prog.code.len()];
            let mut stack: Vec<u32> = entries.to_vec();
            while let Some(pc) = stack.pop() {
                if pc >= FALSE || std::mem::replace(&mut seen[pc as usize], true) {
                    continue;
                }
                let ins = prog.code[pc as usize];
                uses[ins.check as usize] += 1;
                stack.extend([ins.on_true, ins.on_false]);
            }
            needs_memo.iter_mut().zip(uses).for_each(|(m, n)| *m |= n > 1);
        }
        let mut slots = vec![NO_MEMO; prog.checks.len()];
        for (c, check) in prog.checks.iter().enumerate() {
            if needs_memo[c] && !matches!(check.lhs, Lhs::EvtType { .. }) {
                slots[c] = prog.memo_slots;
                prog.memo_slots += 1;
            }
        }
        prog.code.iter_mut().for_each(|ins| ins.memo = slots[ins.check as usize]);
        prog
    }
}

/// Per-event verdicts of the memoised checks: a slot holds `generation << 1 | verdict`, so
/// starting a new event is bumping the generation, not clearing the slots.
pub(crate) struct Memo<'m> {
    stamps: &'m mut [u32],
    generation: u32,
}

#[derive(Default)]
struct Scratch {
    stamps: Vec<u32>,
    generation: u32,
}

thread_local! {
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
}

impl Program {
    /// Runs `f` with this thread's memo, set up for a new event.
    pub(crate) fn with_memo<R>(&self, f: impl FnOnce(&mut Memo<'_>) -> R) -> R {
        if self.memo_slots == 0 {
            return f(&mut Memo { stamps: &mut [], generation: 0 });
        }
        // Taken out of the cell (not borrowed) so that a nested evaluation on the same thread
        // gets a fresh scratch instead of a panic.
        let mut s = SCRATCH.with(Cell::take);
        if s.stamps.len() < self.memo_slots as usize {
            s.stamps.resize(self.memo_slots as usize, 0);
        }
        // Generation 0 never matches a slot; on wrap-around the slots are cleared.
        s.generation = s.generation.wrapping_add(1) & (u32::MAX >> 1);
        if s.generation == 0 {
            s.stamps.iter_mut().for_each(|x| *x = 0);
            s.generation = 1;
        }
        let r = f(&mut Memo { stamps: &mut s.stamps, generation: s.generation });
        SCRATCH.with(|c| c.set(s));
        r
    }

    /// The verdict of the condition entered at `entry`.
    pub(crate) fn run<S: FieldSource + ?Sized>(&self, entry: u32, f: &Frame<'_, S>, memo: &mut Memo<'_>) -> bool {
        let mut pc = entry;
        while pc < FALSE {
            let ins = self.code[pc as usize];
            let verdict = if ins.memo == NO_MEMO {
                self.checks[ins.check as usize].eval(f)
            } else {
                let slot = ins.memo as usize;
                let stamp = memo.stamps[slot];
                if stamp >> 1 == memo.generation {
                    stamp & 1 == 1
                } else {
                    let v = self.checks[ins.check as usize].eval(f);
                    memo.stamps[slot] = memo.generation << 1 | v as u32;
                    v
                }
            };
            pc = if verdict { ins.on_true } else { ins.on_false };
        }
        pc == TRUE
    }
}
