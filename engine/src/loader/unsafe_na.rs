//! Falco's `filter_warning_resolver` check for `<NA>`: comparing a field of the k8s audit
//! plugin (`ka.*`, `jevt.*`) for equality with `<NA>` is unsafe, since such a field may render
//! as that text (`LOAD_UNSAFE_NA_CHECK`, one per condition, with an empty message). Falco runs
//! it on the macro-resolved condition before compiling it, so it also comes with a compile error.

use crate::syntax::ast::{CmpOp, Expr, ExprKind, Operand, Rhs, TransformerArg};

const NA: &str = "<NA>";

pub(crate) fn has_unsafe_na_check(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |e| {
        if let ExprKind::Compare { lhs, op, rhs, .. } = &e.kind {
            let equality = matches!(
                op.node,
                CmpOp::Eq | CmpOp::EqEq | CmpOp::Ne | CmpOp::In | CmpOp::Intersects | CmpOp::PMatch
            );
            let na = match rhs {
                Rhs::Value(v) => v.text == NA,
                Rhs::List { items, .. } => items.iter().any(|i| i.text == NA),
                _ => false,
            };
            found |= equality && na && last_field(lhs).is_some_and(is_unsafe);
        }
        !found
    });
    found
}

fn is_unsafe(field: &str) -> bool {
    field.starts_with("ka.") || field.starts_with("jevt.")
}

/// The last field of an operand in reading order: libs' visitor remembers whether the last
/// field it met was unsafe, including inside transformers.
fn last_field(lhs: &Operand) -> Option<&str> {
    fn in_args(args: &[TransformerArg]) -> Option<&str> {
        args.iter().rev().find_map(|a| match a {
            TransformerArg::Field(f) => Some(f.name.as_str()),
            TransformerArg::Transformer(t) => in_args(&t.args),
            TransformerArg::List(items, _) => in_args(items),
            TransformerArg::Const(_) => None,
        })
    }
    match lhs {
        Operand::Field(f) => Some(&f.name),
        Operand::Transformer(t) => in_args(&t.args),
    }
}
