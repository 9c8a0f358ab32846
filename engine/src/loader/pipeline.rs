//! Compiling the collected definitions (falco `rule_loader_compiler.cpp`): lists, then every
//! macro (parsed even when unused, resolved in place in definition order with Falco's
//! visibility rule), then every rule (exceptions, output, condition, event types).

use super::exceptions;
use super::limits::{Budget, Exceeded, MAX_EXPANDED_DEPTH, STUDIO_LIMIT};
use super::lists::{self, Lists};
use super::mapped::MappedText;
use super::reader::KNOWN_SOURCES;
use super::state::{ItemKindKey, State};
use super::unsafe_na;
use crate::compile::{self, Compiled};
use crate::diagnostic::{Code, Diagnostic, ItemKind, Severity};
use crate::output::OutputFormat;
use crate::span::Span;
use crate::stop::{StopCheck, Stopped};
use crate::syntax::ast::{Expr, ExprKind};
use std::collections::HashMap;

pub(crate) struct CompiledRuleOut {
    pub expr: Expr,
    pub compiled: Compiled,
    pub output: OutputFormat,
}

pub(crate) struct Output {
    pub lists: Lists,
    /// Resolved macro bodies by position in `State::macros`; `None` when broken.
    pub macros: Vec<Option<Expr>>,
    pub shapes: Vec<Shape>,
    pub macro_used: Vec<bool>,
    /// By position in `State::rules`; `None` when skipped or failed.
    pub rules: Vec<Option<CompiledRuleOut>>,
    pub diagnostics: Vec<Diagnostic>,
    /// What the compilation built, against the studio limits.
    pub budget: Budget,
}

/// Why a macro reference could not be inlined.
enum Unresolved {
    Undefined(String, Span),
    Loop(String, Span),
    /// It names a macro that already failed (reported there).
    Broken,
    Limit(Exceeded, Span),
}

/// Size and depth of a condition tree.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Shape {
    pub nodes: usize,
    pub depth: usize,
}

impl Shape {
    /// Walks `e` without recursion: a parsed tree is as deep as the parser allows.
    pub fn of(e: &Expr) -> Shape {
        let mut shape = Shape::default();
        let mut stack = vec![(e, 1)];
        while let Some((e, depth)) = stack.pop() {
            shape.nodes += 1;
            shape.depth = shape.depth.max(depth);
            match &e.kind {
                ExprKind::And(c) | ExprKind::Or(c) => {
                    stack.extend(c.iter().map(|c| (c, depth + 1)))
                }
                ExprKind::Not(c) => stack.push((c, depth + 1)),
                _ => {}
            }
        }
        shape
    }
}

/// The macros a condition can see: name → position, with their (resolved) bodies.
pub(crate) struct MacroScope<'a> {
    pub bodies: &'a [Option<Expr>],
    /// [`Shape`] of each body.
    pub shapes: &'a [Shape],
    pub names: &'a HashMap<&'a str, usize>,
    /// Which positions are visible.
    pub visible: &'a dyn Fn(usize) -> bool,
    /// Names that failed to load at all (not reported again).
    pub broken: &'a dyn Fn(&str) -> bool,
}

/// Inlines every macro reference of `root` (falco `filter_macro_resolver`), marking what it
/// used, within the studio limits. A work list instead of recursion: only the limits bound
/// how deep the result may be. Returns the shape of the result.
fn resolve(
    root: &mut Expr,
    scope: &MacroScope,
    used: &mut Vec<usize>,
    budget: &Budget,
    errors: &mut Vec<Unresolved>,
) -> Shape {
    let mut shape = Shape::of(root);
    // The macros being inlined around a node, as links to their parents, to detect loops.
    let mut inlining: Vec<(usize, Option<usize>)> = Vec::new();
    let mut stack: Vec<(&mut Expr, usize, Option<usize>)> = vec![(root, 1, None)];
    while let Some((e, depth, within)) = stack.pop() {
        if let ExprKind::Macro(name) = &e.kind {
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
                continue;
            };
            let mut link = within;
            let mut looped = false;
            // Macros inlined around this reference: a body that is a bare macro name adds no
            // depth, so the chain itself is bounded too.
            let mut around = 0;
            while let Some(l) = link {
                looped |= inlining[l].0 == pos;
                link = inlining[l].1;
                around += 1;
            }
            if looped {
                errors.push(Unresolved::Loop(name.clone(), e.span));
                continue;
            }
            let Some(body) = &scope.bodies[pos] else {
                used.push(pos);
                errors.push(Unresolved::Broken);
                continue;
            };
            // Named, so used, even when inlining it crosses a limit.
            used.push(pos);
            let body_shape = scope.shapes[pos];
            let grown = depth - 1 + body_shape.depth;
            let checked = if grown > MAX_EXPANDED_DEPTH || around >= MAX_EXPANDED_DEPTH {
                Err(Exceeded::Depth {
                    macro_name: name.clone(),
                })
            } else {
                budget.check_nodes(shape.nodes + body_shape.nodes - 1)
            };
            if let Err(x) = checked {
                // One limit is enough: the rest of the condition is not inlined.
                errors.push(Unresolved::Limit(x, e.span));
                break;
            }
            shape.nodes += body_shape.nodes - 1;
            shape.depth = shape.depth.max(grown);
            *e = body.clone();
            inlining.push((pos, within));
            // A body not resolved yet (a macro defined later) may name macros itself.
            stack.push((e, depth, Some(inlining.len() - 1)));
            continue;
        }
        match &mut e.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                stack.extend(children.iter_mut().rev().map(|c| (c, depth + 1, within)));
            }
            ExprKind::Not(child) => stack.push((child, depth + 1, within)),
            _ => {}
        }
    }
    shape
}

/// Resolves `e` and accounts for it in `budget`; `Err` carries the diagnostics (possibly none
/// when a broken macro was named).
pub(crate) fn resolve_macros(
    e: &mut Expr,
    scope: &MacroScope,
    used: &mut Vec<usize>,
    budget: &mut Budget,
) -> Result<Shape, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let shape = resolve(e, scope, used, budget, &mut errors);
    if errors.is_empty() {
        budget.keep(shape.nodes, shape.depth);
        return Ok(shape);
    }
    let mut seen = Vec::new();
    let diags = errors
        .into_iter()
        .filter_map(|u| match u {
            Unresolved::Undefined(name, span) if !seen.contains(&name) => {
                seen.push(name.clone());
                Some(Diagnostic::error(
                    Code::ERR_VALIDATE,
                    format!("Undefined macro '{name}' used in filter."),
                    span,
                ))
            }
            Unresolved::Loop(name, span) => Some(Diagnostic::error(
                Code::ERR_VALIDATE,
                format!("reference loop in macro '{name}'"),
                span,
            )),
            Unresolved::Limit(x, span) => Some(Diagnostic::error(STUDIO_LIMIT, x.message(), span)),
            _ => None,
        })
        .collect();
    Err(diags)
}

/// List substitution, then parsing; spans of the tree and of syntax errors are file spans.
pub(crate) fn parse_condition(
    text: &MappedText,
    lists: &mut Lists,
    budget: &mut Budget,
) -> Result<Expr, Vec<Diagnostic>> {
    let mut substituted = text.clone();
    if let Err(x) = lists::substitute(&mut substituted, lists, budget) {
        return Err(vec![Diagnostic::error(
            STUDIO_LIMIT,
            x.message(),
            text.whole_span(),
        )]);
    }
    let text = substituted;
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

/// Compiles the state; `input_bytes` (the rules text read so far) sizes the studio limits.
/// `stop` is asked between items.
pub(crate) fn compile(
    state: &State,
    input_bytes: usize,
    stop: StopCheck,
) -> Result<Output, Stopped> {
    let mut diagnostics = Vec::new();
    let mut budget = Budget::new(input_bytes);
    let mut lists = lists::compile(state, &mut budget, stop)?;

    let macro_defs = &state.macros.items;
    let mut macros: Vec<Option<Expr>> = Vec::with_capacity(macro_defs.len());
    for m in macro_defs {
        stop.check()?;
        macros.push(match parse_condition(&m.cond, &mut lists, &mut budget) {
            Ok(e) => Some(e),
            Err(ds) => {
                diagnostics.extend(ds.into_iter().map(|d| d.in_item(ItemKind::Macro, &m.name)));
                None
            }
        });
    }
    let mut shapes: Vec<Shape> = macros
        .iter()
        .map(|m| m.as_ref().map(Shape::of).unwrap_or_default())
        .collect();
    let names: HashMap<&str, usize> = macro_defs
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let broken = |name: &str| state.is_broken(ItemKindKey::Macro, name);
    let mut used = Vec::new();
    for i in 0..macro_defs.len() {
        stop.check()?;
        let Some(mut body) = macros[i].clone() else {
            continue;
        };
        let visibility = macro_defs[i].visibility;
        let visible = |p: usize| macro_defs[p].index < visibility;
        let scope = MacroScope {
            bodies: &macros,
            shapes: &shapes,
            names: &names,
            visible: &visible,
            broken: &broken,
        };
        macros[i] = match resolve_macros(&mut body, &scope, &mut used, &mut budget) {
            Ok(shape) => {
                shapes[i] = shape;
                Some(body)
            }
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
        stop.check()?;
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
            .and_then(|c| parse_condition(&c, &mut lists, &mut budget))
            .and_then(|mut e| {
                let scope = MacroScope {
                    bodies: &macros,
                    shapes: &shapes,
                    names: &names,
                    visible: &|_| true,
                    broken: &broken,
                };
                resolve_macros(&mut e, &scope, &mut used, &mut budget).map(|_| e)
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
    Ok(Output {
        lists,
        macros,
        shapes,
        macro_used,
        rules,
        diagnostics,
        budget,
    })
}
