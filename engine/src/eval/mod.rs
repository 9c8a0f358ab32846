//! Evaluation of compiled conditions and whole rule sets. CONTRACT STUB: owned by the
//! compile/eval work; signatures are relied upon by the loader, the CLI and the server.

use crate::event::FieldSource;
use crate::rule::{Matching, Priority};

/// A compiled condition.
#[derive(Debug)]
pub struct Filter {}

impl Filter {
    pub fn matches(&self, _ev: &dyn FieldSource) -> bool {
        todo!("eval")
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
}

/// Enabled rules in load order, indexed by event type.
#[derive(Debug, Default)]
pub struct RuleSet {}

impl RuleSet {
    pub fn rules(&self) -> &[CompiledRule] {
        todo!("eval")
    }

    /// Pushes to `out` the indices (into [`RuleSet::rules`]) of the rules matching `ev`, in load
    /// order; with [`Matching::First`] at most one.
    pub fn eval(&self, _ev: &dyn FieldSource, _matching: Matching, _out: &mut Vec<usize>) {
        todo!("eval")
    }
}
