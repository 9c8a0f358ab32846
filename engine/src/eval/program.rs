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

use super::EvtTypeSet;
use super::check::{Check, Frame, Lhs, Node};
use crate::event::FieldSource;
use rustc_hash::FxHashMap;
use std::marker::PhantomData;

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

const _: () = assert!(MAX_MEMO < NO_MEMO && MAX_MEMO.is_multiple_of(64));

#[derive(Default)]
pub(crate) struct Builder<'tree> {
    prog: Program,
    /// A check's identity is its full structure: the derived `Debug` rendering prints
    /// everything its verdict depends on (field, argument, operator, constants, patterns).
    ids: FxHashMap<String, u32>,
    /// Checks already interned, by address: a tree lowered twice (a rule set lowers each rule
    /// with and without type dispatch) is rendered once. The trees outlive the builder.
    seen: FxHashMap<*const Check, u32>,
    trees: PhantomData<&'tree Node>,
}

impl<'tree> Builder<'tree> {
    /// Lowers a condition tree; returns its entry point. With `dispatched`, the event is known
    /// to have one of these types (the rule set dispatched it by type), so the `evt.type`
    /// checks that this decides are folded away.
    pub(crate) fn add(&mut self, node: &'tree Node, dispatched: Option<&EvtTypeSet>) -> u32 {
        self.emit(node, TRUE, FALSE, dispatched)
    }

    /// Emits `node` so that it continues at `t` when it holds and at `f` when not.
    fn emit(&mut self, node: &'tree Node, t: u32, f: u32, dispatched: Option<&EvtTypeSet>) -> u32 {
        match node {
            Node::Not(inner) => self.emit(inner, f, t, dispatched),
            // Built back to front: each item continues at the next one's entry.
            Node::And(items) => items
                .iter()
                .rev()
                .fold(t, |next, item| self.emit(item, next, f, dispatched)),
            Node::Or(items) => items
                .iter()
                .rev()
                .fold(f, |next, item| self.emit(item, t, next, dispatched)),
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
                self.prog.code.push(Ins {
                    check,
                    memo: NO_MEMO,
                    on_true: t,
                    on_false: f,
                });
                self.prog.code.len() as u32 - 1
            }
        }
    }

    fn intern(&mut self, c: &'tree Check) -> u32 {
        if let Some(&id) = self.seen.get(&(c as *const Check)) {
            return id;
        }
        let key = format!("{c:?}");
        let id = match self.ids.get(&key) {
            Some(&id) => id,
            None => {
                self.prog.checks.push(c.clone());
                let id = self.prog.checks.len() as u32 - 1;
                self.ids.insert(key, id);
                id
            }
        };
        self.seen.insert(c, id);
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
            needs_memo
                .iter_mut()
                .zip(uses)
                .for_each(|(m, n)| *m |= n > 1);
        }
        let mut slots = vec![NO_MEMO; prog.checks.len()];
        for (c, check) in prog.checks.iter().enumerate() {
            if needs_memo[c]
                && !matches!(check.lhs, Lhs::EvtType { .. })
                && prog.memo_slots < MAX_MEMO
            {
                slots[c] = prog.memo_slots;
                prog.memo_slots += 1;
            }
        }
        prog.code
            .iter_mut()
            .for_each(|ins| ins.memo = slots[ins.check as usize]);
        prog
    }
}

/// At most this many checks get a memo slot (the official rules need well under a hundred);
/// the per-event memo is then two small bitsets on the stack.
const MAX_MEMO: u32 = 1024;
const MEMO_WORDS: usize = MAX_MEMO as usize / 64;

/// Per-event verdicts of the memoised checks: which are known, and their verdicts.
pub(crate) struct Memo {
    known: [u64; MEMO_WORDS],
    verdict: [u64; MEMO_WORDS],
}

impl Memo {
    pub(crate) fn new() -> Memo {
        Memo {
            known: [0; MEMO_WORDS],
            verdict: [0; MEMO_WORDS],
        }
    }
}

impl Program {
    /// The verdict of the condition entered at `entry`.
    pub(crate) fn run<S: FieldSource + ?Sized>(
        &self,
        entry: u32,
        f: &Frame<'_, S>,
        memo: &mut Memo,
    ) -> bool {
        let mut pc = entry;
        while pc < FALSE {
            let ins = self.code[pc as usize];
            let verdict = if ins.memo == NO_MEMO {
                self.checks[ins.check as usize].eval(f)
            } else {
                let (word, bit) = (ins.memo as usize / 64 % MEMO_WORDS, 1u64 << (ins.memo % 64));
                if memo.known[word] & bit != 0 {
                    memo.verdict[word] & bit != 0
                } else {
                    let v = self.checks[ins.check as usize].eval(f);
                    memo.known[word] |= bit;
                    if v {
                        memo.verdict[word] |= bit;
                    }
                    v
                }
            };
            pc = if verdict { ins.on_true } else { ins.on_false };
        }
        pc == TRUE
    }
}
