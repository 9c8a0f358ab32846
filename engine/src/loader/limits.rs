//! Studio limits: budgets on what loading builds from rules text, so that no input can exhaust
//! the time, memory or stack of the CLI, the server or the browser (Falco has no such limits:
//! a chain of macros each wrapping the last overflows its stack, lists naming lists grow a
//! condition exponentially).
//!
//! Each budget is ten times what the official rulesets need (`tests/load_limits.rs`:
//! `official_rulesets_use_a_tenth_of_every_budget` measures them): within the budgets the
//! loader says what Falco says; beyond one, the item that crossed it gets an error with the
//! studio's own code ([`STUDIO_LIMIT`]), never one of Falco's.
//!
//! Per-load budgets grow with the rules text, so loading stays linear in it: what a load may
//! build is a constant plus a multiple of the bytes it was given.

use crate::diagnostic::Code;

/// The code of a studio limit diagnostic (registered as a lint, `studio-limit`, for the docs).
pub const STUDIO_LIMIT: Code = Code("RS017");

/// Deepest condition tree once macros are inlined (official rulesets: 7). Every walk over a
/// condition (compile, evaluation program, rendering, spans) recurses at most this deep, plus
/// what the parser's own depth limit allows in a condition as written.
pub const MAX_EXPANDED_DEPTH: usize = 70;
/// Most nodes in one condition once macros are inlined (official rulesets: 463).
pub const MAX_CONDITION_NODES: usize = 5_000;
/// Longest condition text once lists are substituted, and longest list once the lists it
/// names are expanded into it (official rulesets: 5,830 bytes).
pub const MAX_CONDITION_BYTES: usize = 60_000;
/// Bytes of rules text per inlined node kept, over all macros and rules of a load (official
/// rulesets: one node per 50 bytes).
const LOAD_BYTES_PER_NODE: usize = 5;
/// Bytes of substituted conditions and expanded lists per byte of rules text, over a load
/// (official rulesets: 0.44).
const LOAD_EXPANSION_FACTOR: usize = 5;

/// What a load built, measured against the budgets (largest single items and totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Bytes of rules text loaded.
    pub input_bytes: usize,
    /// Deepest condition once macros are inlined.
    pub depth: usize,
    /// Most nodes of one condition once macros are inlined.
    pub nodes: usize,
    /// Longest condition after list substitution, or longest expanded list.
    pub bytes: usize,
    /// Inlined nodes kept over all macros and rules.
    pub total_nodes: usize,
    /// Bytes of substituted conditions and expanded lists over the load.
    pub total_bytes: usize,
}

impl Expansion {
    /// Most nodes a load of `input_bytes` of rules text may keep in all.
    pub fn node_budget(input_bytes: usize) -> usize {
        MAX_CONDITION_NODES + input_bytes / LOAD_BYTES_PER_NODE
    }

    /// Most bytes of substituted conditions and expanded lists a load of `input_bytes` may build.
    pub fn byte_budget(input_bytes: usize) -> usize {
        MAX_CONDITION_BYTES + input_bytes * LOAD_EXPANSION_FACTOR
    }
}

/// Which budget an item crossed; the message names the item through the diagnostic's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// Inlining this macro would make the condition deeper than [`MAX_EXPANDED_DEPTH`].
    Depth {
        macro_name: String,
    },
    Nodes,
    /// The condition, or a list it names, is longer than [`MAX_CONDITION_BYTES`] once expanded.
    Bytes {
        list: Option<String>,
    },
    LoadNodes {
        budget: usize,
    },
    LoadBytes {
        budget: usize,
    },
}

impl Exceeded {
    pub fn message(&self) -> String {
        let what = match self {
            Exceeded::Depth { macro_name } => format!(
                "inlining macro '{macro_name}' makes the condition more than {MAX_EXPANDED_DEPTH} levels deep"
            ),
            Exceeded::Nodes => format!(
                "the condition has more than {MAX_CONDITION_NODES} nodes once macros are inlined"
            ),
            Exceeded::Bytes { list: None } => format!(
                "the condition is longer than {MAX_CONDITION_BYTES} bytes once lists are substituted"
            ),
            Exceeded::Bytes { list: Some(l) } => format!(
                "list '{l}' is longer than {MAX_CONDITION_BYTES} bytes once the lists it names are expanded"
            ),
            Exceeded::LoadNodes { budget } => format!(
                "the rules build more than {budget} condition nodes in all once macros are inlined"
            ),
            Exceeded::LoadBytes { budget } => {
                format!("the rules build more than {budget} bytes in all once lists are expanded")
            }
        };
        format!("studio limit: {what}; Falco has no such limit, but loading here stops")
    }
}

/// The budgets of one compilation of the loaded state, and what it has used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub used: Expansion,
}

impl Budget {
    pub fn new(input_bytes: usize) -> Self {
        Budget {
            used: Expansion {
                input_bytes,
                ..Expansion::default()
            },
        }
    }

    /// Accounts for one expanded text (a substituted condition or an expanded list) of `len`
    /// bytes.
    pub fn take_bytes(&mut self, len: usize, list: Option<&str>) -> Result<(), Exceeded> {
        if len > MAX_CONDITION_BYTES {
            return Err(Exceeded::Bytes {
                list: list.map(str::to_owned),
            });
        }
        let budget = Expansion::byte_budget(self.used.input_bytes);
        if self.used.total_bytes + len > budget {
            return Err(Exceeded::LoadBytes { budget });
        }
        self.used.total_bytes += len;
        self.used.bytes = self.used.bytes.max(len);
        Ok(())
    }

    /// Whether `nodes` more nodes fit in the load's budget (checked while a condition grows).
    pub fn check_nodes(&self, nodes: usize) -> Result<(), Exceeded> {
        if nodes > MAX_CONDITION_NODES {
            return Err(Exceeded::Nodes);
        }
        let budget = Expansion::node_budget(self.used.input_bytes);
        if self.used.total_nodes + nodes > budget {
            return Err(Exceeded::LoadNodes { budget });
        }
        Ok(())
    }

    /// Accounts for a condition kept with `nodes` nodes, `depth` deep.
    pub fn keep(&mut self, nodes: usize, depth: usize) {
        self.used.total_nodes += nodes;
        self.used.nodes = self.used.nodes.max(nodes);
        self.used.depth = self.used.depth.max(depth);
    }
}
