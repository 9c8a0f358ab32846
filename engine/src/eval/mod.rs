//! Evaluation of compiled conditions and whole rule sets.
//!
//! A [`Filter`] is a tree of checks whose right-hand sides were converted at compile time
//! (typed constants, regexes, globs, prefix and hash sets); evaluation allocates nothing for
//! the common operators. A [`RuleSet`] indexes rules by the event types they can match, so an
//! event only meets the rules that could fire on its `evt.type`, in load order.

mod check;
pub(crate) mod derive;
mod evttypes;
mod exec_stop;
pub(crate) mod glob;
pub(crate) mod matcher;
pub(crate) mod pmatch;
mod program;
pub(crate) mod transform;
pub(crate) mod typed;

pub(crate) use check::{Check, Lhs, Node, Test};
use check::{EvtTypeOf, Frame};
pub use derive::{fd_directory, fd_filename, rederived_fields};
pub(crate) use evttypes::TypeAlgebra;
pub use evttypes::{EventCodes, EvtTypeSet};
pub use exec_stop::{ExecStop, NAME_MAX};
use program::{Builder, Memo, Program};

use crate::event::{FieldSource, Value};
use crate::fields::{self, FieldId};
use crate::rule::{Matching, Priority};
use rustc_hash::FxHashMap;
use std::sync::OnceLock;

/// A compiled condition.
#[derive(Debug)]
pub struct Filter {
    /// The compiled tree, kept for lowering into a rule set's shared program.
    root: Node,
    /// Its own program and entry, built on first use: a rule's filter is evaluated through its
    /// rule set's program, so loading (and linting as the user types) never builds this one.
    own: OnceLock<(Program, u32)>,
}

impl Filter {
    pub(crate) fn new(root: Node) -> Filter {
        Filter {
            root,
            own: OnceLock::new(),
        }
    }

    /// Generic so that a concrete source (an [`crate::event::Event`]) is read without dynamic
    /// dispatch; `&dyn FieldSource` works too.
    pub fn matches<S: FieldSource + ?Sized>(&self, ev: &S) -> bool {
        let (prog, entry) = self.own.get_or_init(|| {
            let mut b = Builder::default();
            let entry = b.add(&self.root, None);
            (b.finish(&[&[entry]]), entry)
        });
        let frame = Frame::new(ev, None);
        prog.run(*entry, &frame, &mut Memo::new())
    }
}

/// A compiled enabled rule.
#[derive(Debug)]
pub struct CompiledRule {
    pub name: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub source: String,
    pub filter: Filter,
    pub output: crate::output::OutputFormat,
    /// The event types the rule is evaluated on: those of its event codes
    /// ([`crate::compile::Compiled::event_codes`]), as libs dispatches by code.
    pub evt_types: EvtTypeSet,
}

/// Enabled rules in load order, indexed by event type.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    /// Every rule's condition lowered into one program, so that the checks rules share are
    /// evaluated once per event. Rule `r` starts at `dispatched[r]` for an event of one of its
    /// types (its `evt.type` checks folded accordingly), at `generic[r]` otherwise.
    prog: Program,
    dispatched: Vec<u32>,
    generic: Vec<u32>,
    /// Per `evt.type` index: the rules that can match it, in load order.
    by_type: Vec<Box<[u32]>>,
}

fn evt_type_ids() -> &'static (FieldId, FxHashMap<&'static str, u16>) {
    static T: OnceLock<(FieldId, FxHashMap<&'static str, u16>)> = OnceLock::new();
    T.get_or_init(|| {
        let id = fields::get("evt.type").expect("evt.type in the catalogue");
        (
            id,
            fields::evt_types()
                .iter()
                .enumerate()
                .map(|(i, (n, _))| (*n, i as u16))
                .collect(),
        )
    })
}

/// The index of an `evt.type` name (the catalogue's own look-up hashes with SipHash; this is
/// on the decoding path of every event).
pub(crate) fn evt_type_index(name: &str) -> Option<u16> {
    evt_type_ids().1.get(name).copied()
}

/// The dispatch key of an event: the index of its `evt.type` name.
pub(crate) fn evt_type_of<S: FieldSource + ?Sized>(ev: &S) -> EvtTypeOf {
    if let Some(i) = ev.evt_type_index() {
        return EvtTypeOf::Index(i);
    }
    let (evt_type, index) = evt_type_ids();
    match ev.field(*evt_type, None) {
        Some(Value::Str(name)) => index
            .get(&*name)
            .map_or(EvtTypeOf::Unknown, |&i| EvtTypeOf::Index(i)),
        Some(_) => EvtTypeOf::Unknown,
        None => EvtTypeOf::Missing,
    }
}

impl RuleSet {
    pub fn new(rules: Vec<CompiledRule>) -> RuleSet {
        let by_type = (0..fields::evt_types().len() as u16)
            .map(|t| {
                (0..rules.len() as u32)
                    .filter(|&r| rules[r as usize].evt_types.contains(t))
                    .collect()
            })
            .collect();
        let mut b = Builder::default();
        let dispatched: Vec<u32> = rules
            .iter()
            .map(|r| b.add(&r.filter.root, Some(&r.evt_types)))
            .collect();
        let generic: Vec<u32> = rules.iter().map(|r| b.add(&r.filter.root, None)).collect();
        let prog = b.finish(&[&dispatched, &generic]);
        RuleSet {
            rules,
            prog,
            dispatched,
            generic,
            by_type,
        }
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Pushes to `out` the indices (into [`RuleSet::rules`]) of the rules matching `ev`, in load
    /// order; with [`Matching::First`] at most one. An event without a known `evt.type` meets
    /// every rule (a negated type check can still match it).
    pub fn eval<S: FieldSource + ?Sized>(&self, ev: &S, matching: Matching, out: &mut Vec<usize>) {
        let evt_type = evt_type_of(ev);
        let bucket = match evt_type {
            EvtTypeOf::Index(i) => Some(&self.by_type[i as usize]),
            _ => None,
        };
        let frame = Frame::new(ev, Some(evt_type));
        let memo = &mut Memo::new();
        let entries = if bucket.is_some() {
            &self.dispatched
        } else {
            &self.generic
        };
        let mut run = |r: usize| {
            if self.prog.run(entries[r], &frame, memo) {
                out.push(r);
                return matching == Matching::First;
            }
            false
        };
        match bucket {
            Some(rules) => {
                for &r in rules.iter() {
                    if run(r as usize) {
                        return;
                    }
                }
            }
            None => {
                for r in 0..self.rules.len() {
                    if run(r) {
                        return;
                    }
                }
            }
        }
    }
}
