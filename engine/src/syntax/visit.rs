//! Traversals of the condition tree: span remapping (the loader moves spans from the condition
//! text into the rules file) and a pre-order walk over sub-expressions.

use super::ast::*;
use crate::span::Span;

impl Expr {
    /// Replaces every span in the tree — expressions, operators, modifiers, fields (whole and
    /// name), transformers and their arguments, literals, lists and right-hand sides — by `f(span)`.
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        self.span = f(self.span);
        match &mut self.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                children.iter_mut().for_each(|c| c.map_spans(f));
            }
            ExprKind::Not(child) => child.map_spans(f),
            ExprKind::Macro(_) | ExprKind::Error => {}
            ExprKind::Exists(lhs) => lhs.map_spans(f),
            ExprKind::Compare {
                lhs,
                op,
                modifier,
                rhs,
            } => {
                lhs.map_spans(f);
                op.span = f(op.span);
                if let Some(m) = modifier {
                    m.span = f(m.span);
                }
                rhs.map_spans(f);
            }
        }
    }

    /// Visits this expression and every sub-expression, parents before children. `f` returns
    /// whether to descend into the children of the expression it was given.
    pub fn walk(&self, f: &mut impl FnMut(&Expr) -> bool) {
        if !f(self) {
            return;
        }
        match &self.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                children.iter().for_each(|c| c.walk(f))
            }
            ExprKind::Not(child) => child.walk(f),
            _ => {}
        }
    }

    /// Like [`Expr::walk`], with mutable access (the loader replaces macro references in place).
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Expr) -> bool) {
        if !f(self) {
            return;
        }
        match &mut self.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                children.iter_mut().for_each(|c| c.walk_mut(f))
            }
            ExprKind::Not(child) => child.walk_mut(f),
            _ => {}
        }
    }
}

impl Operand {
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        match self {
            Operand::Field(field) => field.map_spans(f),
            Operand::Transformer(t) => t.map_spans(f),
        }
    }
}

impl FieldRef {
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        self.span = f(self.span);
        self.name_span = f(self.name_span);
    }
}

impl Transformer {
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        self.span = f(self.span);
        self.args.iter_mut().for_each(|a| a.map_spans(f));
    }
}

impl TransformerArg {
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        match self {
            TransformerArg::Field(field) => field.map_spans(f),
            TransformerArg::Transformer(t) => t.map_spans(f),
            TransformerArg::Const(lit) => lit.span = f(lit.span),
            TransformerArg::List(items, span) => {
                *span = f(*span);
                items.iter_mut().for_each(|a| a.map_spans(f));
            }
        }
    }
}

impl Rhs {
    pub fn map_spans(&mut self, f: &mut impl FnMut(Span) -> Span) {
        match self {
            Rhs::Value(lit) => lit.span = f(lit.span),
            Rhs::List { items, span, .. } => {
                *span = f(*span);
                items.iter_mut().for_each(|lit| lit.span = f(lit.span));
            }
            Rhs::Transformer(t) => t.map_spans(f),
            Rhs::Val(field, span) => {
                *span = f(*span);
                field.map_spans(f);
            }
            Rhs::Missing(span) => *span = f(*span),
        }
    }
}
