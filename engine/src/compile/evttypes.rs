//! The event types a condition can match, computed like libs `ppm_event_codes`: negation is
//! pushed down to the leaves (De Morgan), `evt.type` checks with `=`, `==`, `!=`, `in` give
//! their names (complemented under negation and for `!=`), any other check is "all types" and
//! is not complemented, and `evt.num` checks that can never hold (`evt.num = 0`) are empty.
//! The same walk runs over names ([`EvtTypeSet`]) and over libs event codes ([`EventCodes`]).

use crate::eval::{EventCodes, EvtTypeSet, TypeAlgebra};
use crate::span::Span;
use crate::syntax::ast::{
    CmpOp, Expr, ExprKind, FieldRef, Operand, Rhs, Transformer, TransformerArg,
};

pub(crate) fn of(e: &Expr) -> EvtTypeSet {
    visit(e, false)
}

pub(crate) fn codes_of(e: &Expr) -> EventCodes {
    visit(e, false)
}

fn visit<S: TypeAlgebra>(e: &Expr, negated: bool) -> S {
    let conj = |items: &[Expr]| {
        items
            .iter()
            .fold(S::all(), |acc, i| acc.intersection(&visit(i, negated)))
    };
    let disj = |items: &[Expr]| {
        items
            .iter()
            .fold(S::empty(), |acc, i| acc.union(&visit(i, negated)))
    };
    match &e.kind {
        ExprKind::And(items) => {
            if negated {
                disj(items)
            } else {
                conj(items)
            }
        }
        ExprKind::Or(items) => {
            if negated {
                conj(items)
            } else {
                disj(items)
            }
        }
        ExprKind::Not(inner) => visit(inner, !negated),
        ExprKind::Macro(_) | ExprKind::Error => S::all(),
        ExprKind::Exists(lhs) => {
            // `evt.type exists` is a check "with codes" (all of them): negated it is empty.
            if negated && is_type_field(lhs) {
                S::empty()
            } else {
                S::all()
            }
        }
        ExprKind::Compare {
            lhs,
            op,
            modifier,
            rhs,
        } => {
            if let Some(known) = evt_num_invariant::<S>(lhs, op.node, rhs) {
                return if negated { known.complement() } else { known };
            }
            let names: Vec<&str> = match rhs {
                Rhs::Value(l) => vec![l.text.as_str()],
                Rhs::List { items, .. } => items.iter().map(|l| l.text.as_str()).collect(),
                _ => return S::all(),
            };
            let is_type_op = matches!(op.node, CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In);
            if modifier.is_some() || !is_type_op || !is_type_field(lhs) {
                return S::all();
            }
            let mut set = S::of_names(names);
            if negated {
                set = set.complement();
            }
            if op.node == CmpOp::Ne {
                set = set.complement();
            }
            set
        }
    }
}

fn is_type_field(lhs: &Operand) -> bool {
    matches!(lhs, Operand::Field(f) if is_type_ref(f))
}

fn is_type_ref(f: &FieldRef) -> bool {
    (f.name == "evt.type" || f.name == "syscall.type") && f.arg.is_none()
}

const TRANSFORMED_TYPE: &str =
    "event code search does not support `evt.type` checks with transformers";
const TYPE_VS_FIELD: &str = "right-hand field comparisons on `evt.type`/`syscall.type` checks are not supported by event code search";

/// The first check libs' event code search refuses (it throws, so the rule cannot be indexed):
/// an event-type field inside a transformer, or an event-type field compared with a field.
/// Like libs, only the operands its walk visits count: the left of `exists` and of the
/// event-type operators, the right only after an event-type field.
pub(crate) fn unsupported(e: &Expr) -> Option<(&'static str, Span)> {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => items.iter().find_map(unsupported),
        ExprKind::Not(inner) => unsupported(inner),
        ExprKind::Macro(_) | ExprKind::Error => None,
        ExprKind::Exists(lhs) => operand(lhs).err(),
        ExprKind::Compare { lhs, op, rhs, .. } => {
            if evt_num_invariant::<EvtTypeSet>(lhs, op.node, rhs).is_some()
                || !matches!(op.node, CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In)
            {
                return None;
            }
            match operand(lhs) {
                Err(refused) => return Some(refused),
                Ok(false) => return None,
                Ok(true) => {}
            }
            match rhs {
                Rhs::Transformer(t) => {
                    Some(transformer(t).err().unwrap_or((TYPE_VS_FIELD, t.span)))
                }
                Rhs::Val(f, span) => Some((
                    if is_type_ref(f) {
                        TRANSFORMED_TYPE
                    } else {
                        TYPE_VS_FIELD
                    },
                    *span,
                )),
                _ => None,
            }
        }
    }
}

/// Whether the operand is a bare event-type field, or the refusal inside it.
fn operand(o: &Operand) -> Result<bool, (&'static str, Span)> {
    match o {
        Operand::Field(f) => Ok(is_type_ref(f)),
        Operand::Transformer(t) => transformer(t).map(|()| false),
    }
}

fn transformer(t: &Transformer) -> Result<(), (&'static str, Span)> {
    for a in &t.args {
        if transformer_arg(a)? {
            return Err((TRANSFORMED_TYPE, t.span));
        }
    }
    Ok(())
}

/// Whether the argument leaves libs' walk on an event-type field (for a list: its last item).
fn transformer_arg(a: &TransformerArg) -> Result<bool, (&'static str, Span)> {
    match a {
        TransformerArg::Field(f) => Ok(is_type_ref(f)),
        TransformerArg::Transformer(t) => transformer(t).map(|()| false),
        TransformerArg::Const(_) => Ok(false),
        TransformerArg::List(items, _) => items.iter().try_fold(false, |_, i| transformer_arg(i)),
    }
}

/// `evt.num` is at least 1: some comparisons with constants are known to be always false
/// (empty set) or always true (all types).
fn evt_num_invariant<S: TypeAlgebra>(lhs: &Operand, op: CmpOp, rhs: &Rhs) -> Option<S> {
    let Operand::Field(f) = lhs else { return None };
    if f.name != "evt.num" || f.arg.is_some() {
        return None;
    }
    let num = |t: &str| t.parse::<u64>().ok();
    let (empty, all) = (Some(S::empty()), Some(S::all()));
    match (op, rhs) {
        (CmpOp::In, Rhs::List { items, .. }) => {
            items.iter().all(|l| num(&l.text) == Some(0)).then(S::empty)
        }
        (_, Rhs::Value(l)) => {
            let n = num(&l.text)?;
            match op {
                CmpOp::Eq | CmpOp::EqEq if n == 0 => empty,
                CmpOp::Ne if n == 0 => all,
                CmpOp::Lt if n <= 1 => empty,
                CmpOp::Le if n == 0 => empty,
                CmpOp::Gt if n == 0 => all,
                CmpOp::Ge if n <= 1 => all,
                _ => None,
            }
        }
        _ => None,
    }
}
