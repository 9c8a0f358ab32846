//! Compiling the collected definitions (falco `rule_loader_compiler.cpp`): lists, then every
//! macro (parsed even when unused, resolved in place in definition order with Falco's
//! visibility rule), then every rule (exceptions, output, condition, event types).

use super::exceptions;
use super::lists::{self, CompiledList};
use super::mapped::MappedText;
use super::reader::KNOWN_SOURCES;
use super::state::{ItemKindKey, State};
use super::unsafe_na;
use crate::compile::{self, Compiled};
use crate::diagnostic::{Code, Diagnostic, ItemKind, Severity};
use crate::output::OutputFormat;
use crate::span::Span;
use crate::syntax::ast::{Expr, ExprKind};
use std::collections::HashMap;

/// Most nodes a condition may have once macros are inlined; nested macros can double the size
/// at every level, and Falco would exhaust memory on such input.
const MAX_EXPANDED_NODES: usize = 200_000;

pub(crate) struct CompiledRuleOut {
    pub expr: Expr,
    pub compiled: Compiled,
    pub output: OutputFormat,
}

pub(crate) struct Output {
    pub lists: Vec<CompiledList>,
    /// Resolved macro bodies by position in `State::macros`; `None` when broken.
    pub macros: Vec<Option<Expr>>,
    pub macro_used: Vec<bool>,
    /// By position in `State::rules`; `None` when skipped or failed.
    pub rules: Vec<Option<CompiledRuleOut>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a macro reference could not be inlined.
enum Unresolved {
    Undefined(String, Span),
    Loop(String, Span),
    /// It names a macro that already failed (reported there).
    Broken,
    TooLarge(Span),
}

/// The macros a condition can see: name → position, with their (resolved) bodies.
pub(crate) struct MacroScope<'a> {
    pub bodies: &'a [Option<Expr>],
    pub names: &'a HashMap<&'a str, usize>,
    /// Which positions are visible.
    pub visible: &'a dyn Fn(usize) -> bool,
    /// Names that failed to load at all (not reported again).
    pub broken: &'a dyn Fn(&str) -> bool,
}

/// Inlines every macro reference of `e` (falco `filter_macro_resolver`), marking what it used.
fn resolve(
    e: &mut Expr,
    scope: &MacroScope,
    path: &mut Vec<usize>,
    used: &mut Vec<usize>,
    budget: &mut usize,
    errors: &mut Vec<Unresolved>,
) {
    *budget = budget.saturating_sub(1);
    match &mut e.kind {
        ExprKind::And(children) | ExprKind::Or(children) => {
            for c in children {
                resolve(c, scope, path, used, budget, errors);
            }
        }
        ExprKind::Not(child) => resolve(child, scope, path, used, budget, errors),
        ExprKind::Macro(name) => {
            let Some(&pos) = scope
                .names
                .get(name.as_str())
                .filter(|&&p| (scope.visible)(p))
            else {
                errors.push(if (scope.broken)(name) {
                    Unresolved::Broken
                } else {
                    Unresolved::Undefined(name.clone(), e.span)
                });
                return;
            };
            if path.contains(&pos) {
                errors.push(Unresolved::Loop(name.clone(), e.span));
                return;
            }
            let Some(body) = &scope.bodies[pos] else {
                used.push(pos);
                errors.push(Unresolved::Broken);
                return;
            };
            let size = count_nodes(body);
            if size > *budget {
                errors.push(Unresolved::TooLarge(e.span));
                *budget = 0;
                return;
            }
            let mut inlined = body.clone();
            path.push(pos);
            resolve(&mut inlined, scope, path, used, budget, errors);
            path.pop();
            used.push(pos);
            *e = inlined;
        }
        _ => {}
    }
}

fn count_nodes(e: &Expr) -> usize {
    match &e.kind {
        ExprKind::And(c) | ExprKind::Or(c) => 1 + c.iter().map(count_nodes).sum::<usize>(),
        ExprKind::Not(c) => 1 + count_nodes(c),
        _ => 1,
    }
}

/// Resolves `e`; `Err` carries the diagnostics (possibly none when a broken macro was named).
pub(crate) fn resolve_macros(
    e: &mut Expr,
    scope: &MacroScope,
    used: &mut Vec<usize>,
) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut budget = MAX_EXPANDED_NODES;
    resolve(e, scope, &mut Vec::new(), used, &mut budget, &mut errors);
    if errors.is_empty() {
        return Ok(());
    }
    let mut seen = Vec::new();
    let diags = errors
        .into_iter()
        .filter_map(|u| match u {
            Unresolved::Undefined(name, span) if !seen.contains(&name) => {
                seen.push(name.clone());
                Some(Diagnostic::error(Code::ERR_VALIDATE, format!("Undefined macro '{name}' used in filter."), span))
            }
            Unresolved::Loop(name, span) => {
                Some(Diagnostic::error(Code::ERR_VALIDATE, format!("reference loop in macro '{name}'"), span))
            }
            Unresolved::TooLarge(span) => Some(Diagnostic::error(
                Code::ERR_VALIDATE,
                format!("condition expands to more than {MAX_EXPANDED_NODES} nodes once macros are inlined"),
                span,
            )),
            _ => None,
        })
        .collect();
    Err(diags)
}

/// List substitution, then parsing; spans of the tree and of syntax errors are file spans.
pub(crate) fn parse_condition(
    text: &MappedText,
    lists: &mut [CompiledList],
) -> Result<Expr, Vec<Diagnostic>> {
    let mut text = text.clone();
    lists::substitute(&mut text, lists);
    let parsed = crate::syntax::parse(&text.text);
    if !parsed.errors.is_empty() {
        return Err(parsed
            .errors
            .iter()
            .map(|e| {
                Diagnostic::error(
                    Code::ERR_COMPILE_CONDITION,
                    e.message.clone(),
                    text.map(e.span.range().start, e.span.range().end),
                )
            })
            .collect());
    }
    let mut expr = parsed.tree;
    expr.map_spans(&mut |s| text.map(s.range().start, s.range().end));
    Ok(expr)
}

/// Errors that `skip-if-unknown-filter` turns into a warning (falco `err_is_unknown_type_or_field`).
fn is_unknown_type_or_field(message: &str) -> bool {
    crate::messages::Recognised::NonexistentField.matches(message)
        || [
            "invalid formatting token",
            "unknown event type",
            "unknown filter:",
        ]
        .iter()
        .any(|m| message.contains(m))
}

pub(crate) fn compile(state: &State) -> Output {
    let mut diagnostics = Vec::new();
    let mut lists = lists::compile(state);

    let macro_defs = &state.macros.items;
    let mut macros: Vec<Option<Expr>> = macro_defs
        .iter()
        .map(|m| match parse_condition(&m.cond, &mut lists) {
            Ok(e) => Some(e),
            Err(ds) => {
                diagnostics.extend(ds.into_iter().map(|d| d.in_item(ItemKind::Macro, &m.name)));
                None
            }
        })
        .collect();
    let names: HashMap<&str, usize> = macro_defs
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let broken = |name: &str| state.is_broken(ItemKindKey::Macro, name);
    let mut used = Vec::new();
    for i in 0..macro_defs.len() {
        let Some(mut body) = macros[i].clone() else {
            continue;
        };
        let visibility = macro_defs[i].visibility;
        let visible = |p: usize| macro_defs[p].index < visibility;
        let scope = MacroScope {
            bodies: &macros,
            names: &names,
            visible: &visible,
            broken: &broken,
        };
        macros[i] = match resolve_macros(&mut body, &scope, &mut used) {
            Ok(()) => Some(body),
            Err(ds) => {
                diagnostics.extend(
                    ds.into_iter()
                        .map(|d| d.in_item(ItemKind::Macro, &macro_defs[i].name)),
                );
                None
            }
        };
    }

    let mut rules = Vec::with_capacity(state.rules.items.len());
    for r in &state.rules.items {
        if r.unknown_source || !KNOWN_SOURCES.contains(&r.source.as_str()) {
            rules.push(None);
            continue;
        }
        let mut rule_diags = Vec::new();
        let skip = r.skip_if_unknown_filter;
        let mut skipped = false;
        let mut failed = false;

        let output = match OutputFormat::parse(&r.output.text) {
            Ok(f) => {
                for w in f.warnings() {
                    rule_diags.push(Diagnostic::new(
                        Severity::Warning,
                        w.code,
                        w.message.clone(),
                        Some(r.output.map(w.range.start, w.range.end)),
                    ));
                }
                Some(f)
            }
            Err(e) if skip && is_unknown_type_or_field(&e.message) => {
                rule_diags.push(Diagnostic::warning(
                    Code::UNKNOWN_FILTER,
                    e.message,
                    r.output.map(e.range.start, e.range.end),
                ));
                skipped = true;
                None
            }
            Err(e) => {
                rule_diags.push(Diagnostic::error(
                    Code::ERR_COMPILE_OUTPUT,
                    e.message,
                    r.output.map(e.range.start, e.range.end),
                ));
                None
            }
        };
        if skipped {
            // Falco skips the rule before it looks at the condition: its lists and macros are
            // not used by it, and nothing in it is reported.
            diagnostics.extend(
                rule_diags
                    .into_iter()
                    .map(|d| d.in_item(ItemKind::Rule, &r.name)),
            );
            rules.push(None);
            continue;
        }

        let cond = if r.exceptions.is_empty() {
            Ok(r.cond.clone())
        } else {
            exceptions::append_to_condition(&r.cond, &r.exceptions).map_err(|d| vec![d])
        };
        let expr = cond
            .and_then(|c| parse_condition(&c, &mut lists))
            .and_then(|mut e| {
                let scope = MacroScope {
                    bodies: &macros,
                    names: &names,
                    visible: &|_| true,
                    broken: &broken,
                };
                resolve_macros(&mut e, &scope, &mut used).map(|()| e)
            });
        let compiled = match expr {
            Err(ds) => {
                failed = true;
                rule_diags.extend(ds);
                None
            }
            Ok(e) => {
                if unsafe_na::has_unsafe_na_check(&e) {
                    let at = r.cond.whole_span();
                    rule_diags.push(Diagnostic::warning(
                        Code::UNSAFE_NA_CHECK,
                        "",
                        Span::new(at.file, at.start, at.start),
                    ));
                }
                let compiled = compile::compile(&e);
                // Falco's compiler stops at the first error: with skip-if-unknown-filter, an
                // unknown field or event type there skips the rule with one warning.
                let first_error = compiled
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .min_by_key(|d| d.span.map(|s| s.start));
                match first_error {
                    Some(d) if skip && is_unknown_type_or_field(&d.message) => {
                        skipped = true;
                        let mut w = d.clone();
                        w.severity = Severity::Warning;
                        w.code = Code::UNKNOWN_FILTER;
                        rule_diags.extend(
                            compiled
                                .diagnostics
                                .iter()
                                .filter(|d| !d.is_error())
                                .cloned(),
                        );
                        rule_diags.push(w);
                    }
                    _ => {
                        failed |= first_error.is_some();
                        rule_diags.extend(compiled.diagnostics.iter().cloned());
                    }
                }
                Some((e, compiled))
            }
        };
        diagnostics.extend(
            rule_diags
                .into_iter()
                .map(|d| d.or_in_item(ItemKind::Rule, &r.name)),
        );

        let ok = !failed && !skipped;
        match (compiled, output) {
            (Some((expr, compiled)), Some(output)) if ok && compiled.filter.is_some() => {
                if r.warn_evttypes && compiled.event_codes.too_many() {
                    let d = Diagnostic::warning(
                        Code::NO_EVTTYPE,
                        "Rule matches too many evt.type values. This has a significant performance penalty.",
                        r.span,
                    );
                    diagnostics.push(d.in_item(ItemKind::Rule, &r.name));
                }
                rules.push(Some(CompiledRuleOut {
                    expr,
                    compiled,
                    output,
                }));
            }
            _ => rules.push(None),
        }
    }

    let mut macro_used = vec![false; macro_defs.len()];
    for p in used {
        macro_used[p] = true;
    }
    Output {
        lists,
        macros,
        macro_used,
        rules,
        diagnostics,
    }
}
