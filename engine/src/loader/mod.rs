//! Rules files → rules, macros and lists, the way Falco's rule loader does it
//! (reader → collector → compiler). CONTRACT STUB: owned by the loader work; signatures are
//! relied upon by the CLI and the server.

mod decode;
mod exceptions;
mod lists;
mod mapped;
mod reader;
mod state;
mod yaml;

use crate::diagnostic::Diagnostic;
use crate::eval::RuleSet;
use crate::rule::Priority;
use crate::span::Span;

/// A rules file as given by the user; `FileId(i)` of every span is its index in the slice.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {}

/// A rule after append/override, in load order.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub name: String,
    pub desc: String,
    /// The condition text after appends/overrides, before list/macro expansion and exceptions.
    pub condition: String,
    pub output: String,
    pub priority: Priority,
    pub source: String,
    pub enabled: bool,
    pub tags: Vec<String>,
    /// The whole YAML item of the (first) definition.
    pub span: Span,
    /// Canonical rendering of the compiled condition (lists substituted, exceptions added,
    /// macros inlined); `None` when the condition did not compile.
    pub compiled_condition: Option<String>,
    /// The `evt.type` names the rule can match (empty when unsatisfiable; all names when the
    /// condition does not restrict `evt.type`). `None` when it did not compile.
    pub evt_types: Option<Vec<&'static str>>,
}

#[derive(Debug, Clone)]
pub struct MacroInfo {
    pub name: String,
    pub condition: String,
    pub span: Span,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct ListInfo {
    pub name: String,
    pub items: Vec<String>,
    pub span: Span,
    pub used: bool,
}

/// The result of loading files in order into one state.
#[derive(Debug)]
pub struct Loaded {
    /// Every error and warning, in file order. Unlike Falco, loading goes on after an error.
    pub diagnostics: Vec<Diagnostic>,
    pub rules: Vec<RuleInfo>,
    pub macros: Vec<MacroInfo>,
    pub lists: Vec<ListInfo>,
    /// The enabled syscall rules that compiled, in load order, ready to evaluate.
    pub ruleset: RuleSet,
}

impl Loaded {
    /// What Falco would say: true when there is no error.
    pub fn ok(&self) -> bool {
        !self.diagnostics.iter().any(|d| d.is_error())
    }
}

pub fn load(_files: &[SourceFile], _opts: &LoadOptions) -> Loaded {
    todo!("loader")
}

/// A condition on its own (`rulestudio check`, `eval --condition`, REST event filters), compiled
/// with the macros and lists of `context` when given.
pub struct Standalone {
    pub filter: Option<crate::eval::Filter>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn compile_standalone(_condition: &str, _context: Option<&Loaded>) -> Standalone {
    todo!("loader")
}
