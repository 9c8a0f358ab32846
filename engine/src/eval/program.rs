//! Conditions lowered for evaluation: the compiled trees of one filter, or of every rule of a
//! rule set, interned into one arena where structurally identical subtrees are one node (the
//! macros and lists that Falco rules share, and the repeated checks inside one rule such as
//! `proc.pexe endswith java` eleven times in `Run shell untrusted`). A node reached from more
//! than one place gets a memo slot, so each event evaluates it once however many rules use it
//! (what libs' filter cache does for identical filterchecks). Checks have no side effects, so a
//! memoised verdict is the verdict.

use super::check::{Check, Frame, Lhs, Node};
use crate::event::FieldSource;
use rustc_hash::FxHashMap;
use std::cell::Cell;

const NO_MEMO: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Children are `kids[start..start + len]`.
    And { start: u32, len: u32 },
    Or { start: u32, len: u32 },
    Not(u32),
    Check(u32),
}

#[derive(Debug, Clone, Copy)]
struct PNode {
    op: Op,
    /// Index into the per-event verdict stamps, or [`NO_MEMO`].
    memo: u32,
}

/// An arena of interned nodes; roots are node ids returned by [`Builder::add`].
#[derive(Debug, Default)]
pub(crate) struct Program {
    nodes: Vec<PNode>,
    kids: Vec<u32>,
    checks: Vec<Check>,
    memo_slots: u32,
}

/// The identity of a node: a check by its full structure (the derived `Debug` rendering prints
/// everything a check's verdict depends on: field, argument, operator, constants, patterns),
/// a composite node by its already interned children.
#[derive(PartialEq, Eq, Hash)]
enum Key {
    Check(String),
    And(Box<[u32]>),
    Or(Box<[u32]>),
    Not(u32),
}

#[derive(Default)]
pub(crate) struct Builder {
    prog: Program,
    ids: FxHashMap<Key, u32>,
}

impl Builder {
    /// Interns a compiled tree; returns its node id.
    pub(crate) fn add(&mut self, node: &Node) -> u32 {
        match node {
            Node::Check(c) => self.check(c),
            Node::And(items) => {
                let ids: Box<[u32]> = items.iter().map(|n| self.add(n)).collect();
                self.composite(Key::And(ids))
            }
            Node::Or(items) => {
                let ids: Box<[u32]> = items.iter().map(|n| self.add(n)).collect();
                self.composite(Key::Or(ids))
            }
            Node::Not(inner) => {
                let id = self.add(inner);
                self.composite(Key::Not(id))
            }
        }
    }

    /// Interns node `id` of another program (a filter's) into this one.
    pub(crate) fn import(&mut self, from: &Program, id: u32) -> u32 {
        match from.nodes[id as usize].op {
            Op::Check(c) => self.check(&from.checks[c as usize]),
            Op::And { start, len } => {
                let ids: Box<[u32]> = from.children(start, len).iter().map(|&k| self.import(from, k)).collect();
                self.composite(Key::And(ids))
            }
            Op::Or { start, len } => {
                let ids: Box<[u32]> = from.children(start, len).iter().map(|&k| self.import(from, k)).collect();
                self.composite(Key::Or(ids))
            }
            Op::Not(inner) => {
                let id = self.import(from, inner);
                self.composite(Key::Not(id))
            }
        }
    }

    fn check(&mut self, c: &Check) -> u32 {
        let key = Key::Check(format!("{c:?}"));
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let p = &mut self.prog;
        p.checks.push(c.clone());
        let op = Op::Check(p.checks.len() as u32 - 1);
        self.insert(key, op)
    }

    fn composite(&mut self, key: Key) -> u32 {
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let p = &mut self.prog;
        let span = |p: &mut Program, ids: &[u32]| {
            let start = p.kids.len() as u32;
            p.kids.extend_from_slice(ids);
            (start, ids.len() as u32)
        };
        let op = match &key {
            Key::And(ids) => {
                let (start, len) = span(p, ids);
                Op::And { start, len }
            }
            Key::Or(ids) => {
                let (start, len) = span(p, ids);
                Op::Or { start, len }
            }
            Key::Not(id) => Op::Not(*id),
            Key::Check(_) => unreachable!("checks are interned by Builder::check"),
        };
        self.insert(key, op)
    }

    fn insert(&mut self, key: Key, op: Op) -> u32 {
        let p = &mut self.prog;
        p.nodes.push(PNode { op, memo: NO_MEMO });
        let id = p.nodes.len() as u32 - 1;
        self.ids.insert(key, id);
        id
    }

    /// The program, with a memo slot on every node that the `roots` reach by more than one
    /// path (counted from the top, so the inside of a shared subtree is not memoised again)
    /// and that costs more than reading its slot.
    pub(crate) fn finish(self, roots: &[u32]) -> Program {
        let mut prog = self.prog;
        let mut uses = vec![0u32; prog.nodes.len()];
        let mut stack: Vec<u32> = roots.to_vec();
        while let Some(id) = stack.pop() {
            uses[id as usize] += 1;
            if uses[id as usize] == 1 {
                match prog.nodes[id as usize].op {
                    Op::And { start, len } | Op::Or { start, len } => stack.extend_from_slice(prog.children(start, len)),
                    Op::Not(inner) => stack.push(inner),
                    Op::Check(_) => {}
                }
            }
        }
        for (id, node) in prog.nodes.iter_mut().enumerate() {
            let cheap = matches!(node.op, Op::Check(c) if matches!(prog.checks[c as usize].lhs, Lhs::EvtType { .. }));
            if uses[id] > 1 && !cheap {
                node.memo = prog.memo_slots;
                prog.memo_slots += 1;
            }
        }
        prog
    }
}

/// Per-event verdicts of the memoised nodes: a slot holds `generation << 1 | verdict`, so
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
    fn children(&self, start: u32, len: u32) -> &[u32] {
        &self.kids[start as usize..(start + len) as usize]
    }

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

    pub(crate) fn eval<S: FieldSource + ?Sized>(&self, id: u32, f: &Frame<'_, S>, memo: &mut Memo<'_>) -> bool {
        let node = self.nodes[id as usize];
        if node.memo == NO_MEMO {
            return self.eval_op(node.op, f, memo);
        }
        let slot = node.memo as usize;
        let stamp = memo.stamps[slot];
        if stamp >> 1 == memo.generation {
            return stamp & 1 == 1;
        }
        let verdict = self.eval_op(node.op, f, memo);
        memo.stamps[slot] = memo.generation << 1 | verdict as u32;
        verdict
    }

    #[inline(always)]
    fn eval_op<S: FieldSource + ?Sized>(&self, op: Op, f: &Frame<'_, S>, memo: &mut Memo<'_>) -> bool {
        match op {
            Op::And { start, len } => self.children(start, len).iter().all(|&k| self.eval(k, f, memo)),
            Op::Or { start, len } => self.children(start, len).iter().any(|&k| self.eval(k, f, memo)),
            Op::Not(inner) => !self.eval(inner, f, memo),
            Op::Check(c) => self.checks[c as usize].eval(f),
        }
    }
}
