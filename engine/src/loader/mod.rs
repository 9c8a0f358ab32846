//! Rules files → rules, macros and lists, the way Falco's rule loader does it:
//! [`reader`] (YAML items, decoding, append/override, into the [`state`]) → [`pipeline`]
//! (lists, macros, rules: exceptions, list substitution, parsing, macro inlining, typed
//! compilation). Spans of every diagnostic and every condition node point into the rules files.
//!
//! Falco stops at the first error; this loader reports every error (an error ends only the
//! item it is in) while keeping Falco's verdict: `ok()` is false exactly when Falco would fail.
//! Files are read in order into one state; as in Falco, the state is compiled after every file,
//! so a file must compile with only itself and the files before it.

mod decode;
mod exceptions;
mod limits;
mod lists;
pub(crate) mod mapped;
mod pipeline;
mod reader;
mod state;
mod unsafe_na;
pub(crate) mod yaml;
pub use limits::{
    Expansion, MAX_CONDITION_BYTES, MAX_CONDITION_NODES, MAX_EXPANDED_DEPTH, STUDIO_LIMIT,
};
/// Every document as one canonical line, for the yaml-cpp differential harness.
pub use reader::{LIST_KEYS, MACRO_KEYS, RULE_KEYS, parse_semver};
pub use yaml::canonical::canonical as yaml_canonical;
/// YAML other than rules files (rule tests files) as JSON, through the same reader.
pub use yaml::json as yaml_json;

use crate::diagnostic::{Diagnostic, ItemKind};
use crate::eval::{CompiledRule, RuleSet};
use crate::rule::Priority;
use crate::span::{FileId, Span};
use crate::stop::{StopCheck, Stopped};
use crate::syntax::ast::Expr;
use lists::Lists;
use mapped::MappedText;
use std::collections::{HashMap, HashSet};

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
    /// Sorted and without duplicates (Falco keeps tags as a set).
    pub tags: Vec<String>,
    /// The first `key: value` line of the defining item (its last plain definition; appends
    /// and overrides do not move it).
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
    /// The items as written (appends included), before lists-in-lists are expanded.
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
    /// The YAML mappings of entries that take no part in what was loaded: definitions a later
    /// redefinition replaced (with the appends made to them) and redefinitions rejected for
    /// naming another source.
    pub inert_items: Vec<Span>,
    /// The highest `required_engine_version` the files declare, `x.y.z`: engines older than
    /// it refuse them (the studio's own is [`crate::ENGINE_VERSION`]).
    pub required_engine_version: Option<(u64, u64, u64)>,
    /// What the last compilation built, against the studio limits.
    pub expansion: Expansion,
    /// What a lone condition needs to be compiled in this context ([`compile_standalone`]).
    context: Context,
}

/// Lists ready for substitution and resolved macro bodies.
#[derive(Debug, Default)]
struct Context {
    lists: Lists,
    macros: Vec<Option<Expr>>,
    shapes: Vec<pipeline::Shape>,
    macro_names: Vec<String>,
    broken_macros: HashSet<String>,
}

impl Loaded {
    /// What Falco would say: true when there is no error.
    pub fn ok(&self) -> bool {
        !self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Whether `field` can be the left-hand side of an exception (falco `is_valid_lhs_field`):
/// a field of the catalogue, with an optional `[arg]`, or a transformer expression that
/// compiles as `<field> exists`.
fn is_valid_lhs_field(field: &str) -> bool {
    if field.contains('(') {
        return compile_standalone(&format!("{field} exists"), None)
            .filter
            .is_some();
    }
    let name = match field.find('[') {
        Some(i) if field.ends_with(']') => &field[..i],
        _ => field,
    };
    crate::fields::resolve(name).is_some()
}

pub fn load(files: &[SourceFile], opts: &LoadOptions) -> Loaded {
    match load_or_stop(files, opts, StopCheck::NEVER) {
        Ok(loaded) => loaded,
        Err(Stopped) => unreachable!("asked never to stop"),
    }
}

/// [`load`], asking `stop` between files and items (each bounded by the studio limits), so a
/// caller with a deadline or a client that may leave gets its thread back soon.
pub fn load_or_stop(
    files: &[SourceFile],
    _opts: &LoadOptions,
    stop: StopCheck,
) -> Result<Loaded, Stopped> {
    let mut state = state::State::default();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut earlier_errors: Vec<Diagnostic> = Vec::new();
    let mut input_bytes = 0;
    for (i, f) in files.iter().enumerate() {
        stop.check()?;
        input_bytes += f.text.len();
        reader::read_file(
            &f.text,
            FileId(i as u32),
            &mut state,
            &mut diagnostics,
            &is_valid_lhs_field,
        );
        if i + 1 < files.len() {
            // Falco compiles after every file: what only a later file fixes is still an error.
            let out = pipeline::compile(&state, input_bytes, stop)?;
            earlier_errors.extend(out.diagnostics.into_iter().filter(Diagnostic::is_error));
        }
    }
    let out = pipeline::compile(&state, input_bytes, stop)?;
    let mut compile_diags = out.diagnostics;
    // By key, not by a search per error: many errors in early files must not cost their square.
    let key = |d: &Diagnostic| {
        (
            d.code,
            d.span,
            d.message.clone(),
            d.item_kind,
            d.item_name.clone(),
        )
    };
    let mut seen: HashSet<_> = compile_diags.iter().chain(&diagnostics).map(key).collect();
    for e in earlier_errors {
        if seen.insert(key(&e)) {
            compile_diags.push(e);
        }
    }
    diagnostics.extend(compile_diags);
    let pipeline::Output {
        lists,
        macros,
        shapes,
        macro_used,
        rules,
        budget,
        ..
    } = out;

    let macro_infos: Vec<MacroInfo> = state
        .macros
        .items
        .iter()
        .zip(&macro_used)
        .map(|(m, &used)| MacroInfo {
            name: m.name.clone(),
            condition: m.cond.text.clone(),
            span: m.span,
            used,
        })
        .collect();
    let list_infos: Vec<ListInfo> = state
        .lists
        .items
        .iter()
        .zip(&lists.all)
        .map(|(l, c)| ListInfo {
            name: l.name.clone(),
            items: l.items.iter().map(|i| i.text.clone()).collect(),
            span: l.span,
            used: c.used,
        })
        .collect();
    for m in macro_infos.iter().filter(|m| !m.used) {
        let d = Diagnostic::warning(
            crate::diagnostic::Code::UNUSED_MACRO,
            "Macro not referred to by any other rule/macro",
            m.span,
        );
        diagnostics.push(d.in_item(ItemKind::Macro, &m.name));
    }
    for l in list_infos.iter().filter(|l| !l.used) {
        let d = Diagnostic::warning(
            crate::diagnostic::Code::UNUSED_LIST,
            "List not referred to by any other rule/macro",
            l.span,
        );
        diagnostics.push(d.in_item(ItemKind::List, &l.name));
    }
    diagnostics.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));

    let mut rule_infos = Vec::with_capacity(rules.len());
    let mut compiled_rules = Vec::new();
    for (r, out) in state.rules.items.iter().zip(rules) {
        let mut info = RuleInfo {
            name: r.name.clone(),
            desc: r.desc.clone(),
            condition: r.cond.text.clone(),
            output: r.output.text.clone(),
            priority: r.priority,
            source: r.source.clone(),
            enabled: r.enabled,
            tags: r.tags.iter().cloned().collect(),
            span: r.span,
            compiled_condition: None,
            evt_types: None,
        };
        if let Some(out) = out {
            info.compiled_condition = Some(crate::syntax::render::canonical(&out.expr));
            info.evt_types = Some(out.compiled.evt_types.names());
            if r.enabled
                && let Some(filter) = out.compiled.filter
            {
                compiled_rules.push(CompiledRule {
                    name: r.name.clone(),
                    priority: r.priority,
                    tags: info.tags.clone(),
                    source: r.source.clone(),
                    filter,
                    output: out.output,
                    evt_types: out.compiled.event_codes.dispatch_types(),
                });
            }
        }
        rule_infos.push(info);
    }

    let context = Context {
        lists,
        macros,
        shapes,
        macro_names: state.macros.items.iter().map(|m| m.name.clone()).collect(),
        broken_macros: state
            .broken
            .iter()
            .filter(|(k, _)| *k == state::ItemKindKey::Macro)
            .map(|(_, n)| n.clone())
            .collect(),
    };
    Ok(Loaded {
        diagnostics,
        rules: rule_infos,
        macros: macro_infos,
        lists: list_infos,
        ruleset: RuleSet::new(compiled_rules),
        inert_items: std::mem::take(&mut state.inert),
        required_engine_version: state.required_engine,
        expansion: budget.used,
        context,
    })
}

/// A condition on its own (`rulestudio check`, `eval --condition`, REST event filters), compiled
/// with the macros and lists of `context` when given.
pub struct Standalone {
    pub filter: Option<crate::eval::Filter>,
    pub diagnostics: Vec<Diagnostic>,
    /// The event types the condition can match (as a rule's: every type when it does not
    /// restrict `evt.type`, or when it did not compile), for scans that skip the others.
    pub evt_types: crate::eval::EvtTypeSet,
}

/// Spans of the diagnostics are byte ranges of `condition` (file id 0).
pub fn compile_standalone(condition: &str, context: Option<&Loaded>) -> Standalone {
    let empty = Context::default();
    let cx = context.map_or(&empty, |l| &l.context);
    let text = MappedText::verbatim(condition, FileId(0));
    let mut lists = cx.lists.clone();
    let names: HashMap<&str, usize> = cx
        .macro_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let broken = |n: &str| cx.broken_macros.contains(n);
    let scope = pipeline::MacroScope {
        bodies: &cx.macros,
        shapes: &cx.shapes,
        names: &names,
        visible: &|_| true,
        broken: &broken,
    };
    let mut budget = limits::Budget::new(condition.len());
    let resolved = pipeline::parse_condition(&text, &mut lists, &mut budget).and_then(|mut e| {
        pipeline::resolve_macros(&mut e, &scope, &mut Vec::new(), &mut budget).map(|_| e)
    });
    let (filter, diagnostics, evt_types) = match resolved {
        Err(ds) => (None, ds, crate::eval::EvtTypeSet::all()),
        Ok(e) => {
            let c = crate::compile::compile(&e);
            (c.filter, c.diagnostics, c.evt_types)
        }
    };
    Standalone {
        filter,
        evt_types,
        diagnostics: diagnostics
            .into_iter()
            .map(|d| d.in_item(ItemKind::Condition, ""))
            .collect(),
    }
}
