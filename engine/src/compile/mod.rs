//! Typed compilation of a (macro-resolved) condition against the field table: operator × type
//! checks, right-hand side constants converted to the left-hand side type, transformer and
//! `val()` typing, compiler hints, and the set of event types the condition can match.
//! Every problem is reported (not only the first), each with the span of what is at fault.

mod constants;
mod evttypes;
mod hints;
mod operand;
pub(crate) mod re2;

use crate::diagnostic::{Code, Diagnostic};
use crate::eval::matcher::{Const, ConstSet, Matcher};
use crate::eval::{Check, EventCodes, EvtTypeSet, Filter, Lhs, Node, Test};
use crate::fields::{FieldFlags, FieldType};
use crate::span::Span;
use crate::syntax::ast::{CmpOp, Expr, ExprKind, Literal, Modifier, Rhs, Spanned};
use operand::Typed;

/// The result of [`compile`]: a filter when there was no error.
#[derive(Debug)]
pub struct Compiled {
    pub filter: Option<Filter>,
    pub diagnostics: Vec<Diagnostic>,
    /// The event types the condition names (libs `ppm_event_codes` semantics over names): all
    /// types when it does not restrict `evt.type`, empty when it is unsatisfiable.
    pub evt_types: EvtTypeSet,
    /// The same over libs event codes: what libs dispatches rules by and what
    /// `LOAD_NO_EVTTYPE` counts.
    pub event_codes: EventCodes,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// `evt.type = x`, `!= x`, `in (…)` as a bit test on the event's type index (the values were
/// validated as event names when the constants were converted).
fn evt_type_lhs(
    lhs: &Lhs,
    op: CmpOp,
    modifier: Option<Spanned<Modifier>>,
    rhs: &Rhs,
) -> Option<Lhs> {
    let evt_type = crate::fields::get("evt.type")?;
    if !matches!(lhs, Lhs::Field { id, arg: None } if *id == evt_type) || modifier.is_some() {
        return None;
    }
    let names: Vec<&str> = match rhs {
        Rhs::Value(l) => vec![l.text.as_str()],
        Rhs::List { items, .. } => items.iter().map(|l| l.text.as_str()).collect(),
        _ => return None,
    };
    match op {
        CmpOp::Eq | CmpOp::EqEq | CmpOp::In | CmpOp::Intersects => Some(Lhs::EvtType {
            set: EvtTypeSet::of(names),
            negate: false,
        }),
        CmpOp::Ne => Some(Lhs::EvtType {
            set: EvtTypeSet::of(names),
            negate: true,
        }),
        _ => None,
    }
}

/// Compiles a macro-resolved condition whose spans are already in file coordinates.
pub fn compile(expr: &Expr) -> Compiled {
    let mut cx = Cx::default();
    let root = cx.expr(expr);
    // Falco warns once per deprecated field and condition (its resolver collects a set), at the
    // first use here.
    let mut seen = std::collections::HashSet::new();
    cx.diags
        .retain(|d| d.code != Code::DEPRECATED_ITEM || seen.insert(d.message.clone()));
    let evt_types = evttypes::of(expr);
    let event_codes = evttypes::codes_of(expr);
    // Falco indexes a rule by event type only once its condition compiled.
    if !cx.failed
        && !cx.diags.iter().any(Diagnostic::is_error)
        && let Some((message, span)) = evttypes::unsupported(expr)
    {
        cx.error(message, span);
    }
    let failed = cx.failed || cx.diags.iter().any(Diagnostic::is_error);
    Compiled {
        filter: root.filter(|_| !failed).map(Filter::new),
        diagnostics: cx.diags,
        evt_types,
        event_codes,
    }
}

#[derive(Default)]
pub(crate) struct Cx {
    pub(crate) diags: Vec<Diagnostic>,
    /// Set when the tree has a parse-error node (already reported by the parser).
    failed: bool,
}

impl Cx {
    pub(crate) fn error(&mut self, message: impl Into<String>, span: Span) {
        self.diags.push(Diagnostic::error(
            Code::ERR_COMPILE_CONDITION,
            message,
            span,
        ));
    }

    pub(crate) fn warn(&mut self, code: Code, message: impl Into<String>, span: Span) {
        self.diags.push(Diagnostic::warning(code, message, span));
    }

    fn expr(&mut self, e: &Expr) -> Option<Node> {
        match &e.kind {
            ExprKind::And(items) => self.all(items).map(|v| Node::And(v.into())),
            ExprKind::Or(items) => self.all(items).map(|v| Node::Or(v.into())),
            ExprKind::Not(inner) => self.expr(inner).map(|n| Node::Not(Box::new(n))),
            ExprKind::Macro(name) => {
                self.diags.push(Diagnostic::error(
                    Code::ERR_VALIDATE,
                    format!("Undefined macro '{name}' used in filter."),
                    e.span,
                ));
                None
            }
            ExprKind::Error => {
                self.failed = true;
                None
            }
            ExprKind::Exists(lhs) => {
                let (lhs, _) = self.operand(lhs)?;
                Some(Node::Check(Box::new(Check {
                    lhs,
                    test: Test::Exists,
                })))
            }
            ExprKind::Compare {
                lhs,
                op,
                modifier,
                rhs,
            } => self.compare(lhs, *op, *modifier, rhs),
        }
    }

    /// Compiles every child (to report all errors), `None` if any failed.
    fn all(&mut self, items: &[Expr]) -> Option<Vec<Node>> {
        let nodes: Vec<Option<Node>> = items.iter().map(|i| self.expr(i)).collect();
        nodes.into_iter().collect()
    }

    fn compare(
        &mut self,
        lhs: &crate::syntax::ast::Operand,
        op: Spanned<CmpOp>,
        modifier: Option<Spanned<Modifier>>,
        rhs: &Rhs,
    ) -> Option<Node> {
        let lhs_c = self.operand(lhs);
        let (mut lhs_node, ty) = lhs_c?;
        if !self.check_rawarg_comparable(&ty, &lhs_node, op, modifier)
            || !self.check_comparable(&ty, op, modifier)
        {
            // Like libs, the values are not looked at once the operator is wrong for the type.
            return None;
        }
        let test = match rhs {
            Rhs::Missing(_) => {
                self.failed = true;
                return None;
            }
            Rhs::Val(field, span) => {
                let rhs_c = self.field_operand(field);
                let (texpr, rty) = rhs_c?;
                self.check_rhs_field(&ty, op, &rty, *span)?;
                Test::Field {
                    op: op.node,
                    rhs: texpr,
                }
            }
            Rhs::Transformer(t) => {
                let (texpr, rty) = self.transformer(t)?;
                self.check_rhs_field(&ty, op, &rty, t.span)?;
                Test::Field {
                    op: op.node,
                    rhs: texpr,
                }
            }
            Rhs::Value(lit) => self.constants(
                &ty,
                &lhs_node,
                op,
                modifier,
                std::slice::from_ref(lit),
                lit.span,
            )?,
            Rhs::List { items, span, .. } => {
                self.constants(&ty, &lhs_node, op, modifier, items, *span)?
            }
        };
        if let Some(fast) = evt_type_lhs(&lhs_node, op.node, modifier, rhs) {
            lhs_node = fast;
            return Some(Node::Check(Box::new(Check {
                lhs: lhs_node,
                test: Test::Exists,
            })));
        }
        Some(Node::Check(Box::new(Check {
            lhs: lhs_node,
            test,
        })))
    }

    /// libs `flt_is_comparable`: which operators a type (and list-ness) supports. The message
    /// is the compiler's ("filter error: " + the reason), naming the operator as libs'
    /// `cmpop_to_str` does: `==` is `=`, and a modifier is never named.
    fn check_comparable(
        &mut self,
        ty: &Typed,
        op: Spanned<CmpOp>,
        modifier: Option<Spanned<Modifier>>,
    ) -> bool {
        use CmpOp::*;
        let o = op.node;
        let opname = if o == EqEq { Eq.as_str() } else { o.as_str() };
        let span = modifier.map_or(op.span, |m| op.span.cover(m.span));
        let reason = if ty.is_list {
            (!matches!(o, In | Intersects))
                .then(|| format!("'{opname}' operator not supported list filters"))
        } else {
            match ty.ty {
                FieldType::Dynamic => None,
                t if t.is_numeric() => {
                    (!matches!(o, Eq | EqEq | Ne | Lt | Le | Gt | Ge | In | Intersects))
                        .then(|| format!("'{opname}' operator not supported for numeric filters"))
                }
                FieldType::Bool => (!matches!(o, Eq | EqEq | Ne | In | Intersects))
                    .then(|| format!("'{opname}' operator not supported for numeric filters")),
                FieldType::Ipaddr | FieldType::Ipnet => (!matches!(
                    o,
                    Eq | EqEq | Ne | In | Intersects
                ))
                .then(|| match modifier {
                    Some(_) => format!(
                        "'{opname}' with modifier not supported for ip address and network filters"
                    ),
                    None => format!(
                        "'{opname}' operator not supported for ip address and network filters"
                    ),
                }),
                FieldType::Bytebuf => (!matches!(
                    o,
                    Eq | EqEq
                        | Ne
                        | Contains
                        | In
                        | StartsWith
                        | EndsWith
                        | Intersects
                        | BContains
                        | BStartsWith
                ))
                .then(|| format!("'{opname}' operator not supported for buffer filters")),
                _ => matches!(o, BContains | BStartsWith)
                    .then(|| format!("'{opname}' operator not supported for string filters")),
            }
        };
        let err = reason.map(|r| format!("filter error: {r}"));
        match err {
            Some(msg) => {
                self.error(msg, span);
                false
            }
            None => true,
        }
    }

    /// `evt.rawarg.NAME` is compared as NAME's libs type: the operator rules of that type
    /// ([`Cx::check_comparable`]), or none for a type libs compares with no operator.
    fn check_rawarg_comparable(
        &mut self,
        ty: &Typed,
        lhs: &Lhs,
        op: Spanned<CmpOp>,
        modifier: Option<Spanned<Modifier>>,
    ) -> bool {
        let (FieldType::Dynamic, Lhs::Field { arg, .. }) = (ty.ty, lhs) else {
            return true;
        };
        match constants::rawarg_comparison_type(arg.as_deref()) {
            Ok(FieldType::Dynamic) => true,
            Ok(param_ty) => self.check_comparable(
                &Typed {
                    ty: param_ty,
                    ..ty.clone()
                },
                op,
                modifier,
            ),
            Err(type_name) => {
                let o = op.node;
                let opname = if o == CmpOp::EqEq {
                    CmpOp::Eq.as_str()
                } else {
                    o.as_str()
                };
                let span = modifier.map_or(op.span, |m| op.span.cover(m.span));
                self.error(
                    format!(
                        "filter error: '{opname}' operator not supported for type '{type_name}'"
                    ),
                    span,
                );
                false
            }
        }
    }

    /// A field or transformer on the right-hand side (libs `add_filter_value(rhs_chk)`).
    fn check_rhs_field(
        &mut self,
        lhs: &Typed,
        op: Spanned<CmpOp>,
        rhs: &Typed,
        span: Span,
    ) -> Option<()> {
        let msg = if matches!(op.node, CmpOp::PMatch | CmpOp::Regex) {
            Some(format!(
                "operator '{}' doesn't support right-hand side fields",
                op.node.as_str()
            ))
        } else if lhs.ty == FieldType::Ipnet {
            Some("field type 'IPNET' doesn't support right-hand side fields".to_string())
        } else if lhs.flags.contains(FieldFlags::NO_RHS) {
            Some(format!(
                "field '{}' doesn't support right-hand side fields",
                lhs.name
            ))
        } else if rhs.flags.contains(FieldFlags::NO_RHS) {
            Some(format!(
                "field '{}' can't be used as a right-hand side field",
                rhs.name
            ))
        } else if lhs.ty != rhs.ty || lhs.is_list != rhs.is_list {
            let l = |t: &Typed| {
                format!(
                    "{}{}",
                    t.ty.as_str(),
                    if t.is_list { " (list)" } else { "" }
                )
            };
            Some(format!(
                "field '{}' has type '{}' while the right-hand side field '{}' has incompatible type '{}'",
                lhs.name,
                l(lhs),
                rhs.name,
                l(rhs)
            ))
        } else {
            None
        };
        match msg {
            Some(m) => {
                self.error(m, span);
                None
            }
            None => Some(()),
        }
    }

    /// Constant right-hand side values: hints, conversion to the LHS type, the matcher.
    fn constants(
        &mut self,
        ty: &Typed,
        lhs: &Lhs,
        op: Spanned<CmpOp>,
        modifier: Option<Spanned<Modifier>>,
        items: &[Literal],
        list_span: Span,
    ) -> Option<Test> {
        for lit in items {
            hints::check_value(self, op.node, lit);
        }
        let arg = match lhs {
            Lhs::Field { arg, .. } => arg.as_deref(),
            _ => None,
        };
        let consts: Vec<Option<Const>> = items
            .iter()
            .map(|lit| constants::convert(self, ty, arg, op.node, lit))
            .collect();
        let consts: Vec<Const> = consts.into_iter().collect::<Option<_>>()?;
        let _ = list_span;
        let texts: Vec<&str> = items.iter().map(|l| l.text.as_str()).collect();
        let matcher = match modifier {
            Some(m) => match (op.node, m.node) {
                (CmpOp::Eq | CmpOp::EqEq, Modifier::AnyOf) => Matcher::ModSet {
                    set: ConstSet::new(consts),
                    negate: false,
                },
                (CmpOp::Ne, Modifier::AllOf) => Matcher::ModSet {
                    set: ConstSet::new(consts),
                    negate: true,
                },
                (o, modifier) => {
                    let mut each = Vec::with_capacity(consts.len());
                    for (c, lit) in consts.into_iter().zip(items) {
                        each.push(self.single(o, c, &lit.text, lit.span)?);
                    }
                    Matcher::Mod {
                        modifier,
                        items: each.into(),
                    }
                }
            },
            None if matches!(op.node, CmpOp::In | CmpOp::Intersects) => {
                if matches!(lhs, Lhs::EitherSide(_)) && ty.ty == FieldType::Ipnet {
                    // libs compares `fd.net` with its first value only, whatever the operator.
                    Matcher::In {
                        set: ConstSet::new(consts.into_iter().take(1).collect()),
                        overlap: false,
                    }
                } else {
                    Matcher::In {
                        set: ConstSet::new(consts),
                        overlap: op.node == CmpOp::Intersects,
                    }
                }
            }
            None if op.node == CmpOp::PMatch => {
                Matcher::PMatch(crate::eval::pmatch::PrefixSet::new(texts))
            }
            None => {
                let c = consts.into_iter().next()?;
                let span = items.first().map_or(list_span, |l| l.span);
                self.single(op.node, c, texts.first().copied().unwrap_or(""), span)?
            }
        };
        Some(Test::Match(matcher))
    }

    /// The matcher of one operator with one converted constant.
    fn single(&mut self, op: CmpOp, c: Const, text: &str, span: Span) -> Option<Matcher> {
        Matcher::single(op, c, text)
            .map_err(|e| self.error(e, span))
            .ok()
    }
}
