//! The event types a condition can match, computed like libs `ppm_event_codes`: negation is
//! pushed down to the leaves (De Morgan), `evt.type` checks with `=`, `==`, `!=`, `in` give
//! their names (complemented under negation and for `!=`), any other check is "all types" and
//! is not complemented, and `evt.num` checks that can never hold (`evt.num = 0`) are empty.
//! The same walk runs over names ([`EvtTypeSet`]) and over libs event codes ([`EventCodes`]).

use crate::eval::{EventCodes, EvtTypeSet, TypeAlgebra};
use crate::syntax::ast::{CmpOp, Expr, ExprKind, Operand, Rhs};

pub(crate) fn of(e: &Expr) -> EvtTypeSet {
    visit(e, false)
}

pub(crate) fn codes_of(e: &Expr) -> EventCodes {
    visit(e, false)
}

fn visit<S: TypeAlgebra>(e: &Expr, negated: bool) -> S {
    let conj = |items: &[Expr]| items.iter().fold(S::all(), |acc, i| acc.intersection(&visit(i, negated)));
    let disj = |items: &[Expr]| items.iter().fold(S::empty(), |acc, i| acc.union(&visit(i, negated)));
    match &e.kind {
        ExprKind::And(items) => if negated { disj(items) } else { conj(items) },
        ExprKind::Or(items) => if negated { conj(items) } else { disj(items) },
        ExprKind::Not(inner) => visit(inner, !negated),
        ExprKind::Macro(_) | ExprKind::Error => S::all(),
        ExprKind::Exists(lhs) => {
            // `evt.type exists` is a check "with codes" (all of them): negated it is empty.
            if negated && is_type_field(lhs) { S::empty() } else { S::all() }
        }
        ExprKind::Compare { lhs, op, modifier, rhs } => {
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
    matches!(lhs, Operand::Field(f) if (f.name == "evt.type" || f.name == "syscall.type") && f.arg.is_none())
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
        (CmpOp::In, Rhs::List { items, .. }) => items.iter().all(|l| num(&l.text) == Some(0)).then(S::empty),
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
