//! Canonical text of a condition tree, identical to libs' `ast::as_string` (string visitor):
//! every `and`/`or` in parentheses, `not X`, `lhs op rhs`, lists as `(a, b)`, transformer
//! arguments joined by a bare `,`, constants through libs' `escape_str` quoting.
//!
//! Nodes libs cannot have (a parse error) render as `<error>` / `<missing>`.

use super::ast::*;
use super::escape::escape;

/// The canonical text of `expr`.
pub fn canonical(expr: &Expr) -> String {
    let mut out = String::new();
    expr_to(expr, &mut out);
    out
}

fn expr_to(expr: &Expr, out: &mut String) {
    match &expr.kind {
        ExprKind::And(children) => logical(children, "and", out),
        ExprKind::Or(children) => logical(children, "or", out),
        ExprKind::Not(child) => {
            out.push_str("not ");
            expr_to(child, out);
        }
        ExprKind::Macro(name) => out.push_str(name),
        ExprKind::Exists(lhs) => {
            operand_to(lhs, out);
            out.push_str(" exists");
        }
        ExprKind::Compare {
            lhs,
            op,
            modifier,
            rhs,
        } => {
            operand_to(lhs, out);
            out.push(' ');
            out.push_str(op.node.as_str());
            if let Some(m) = modifier {
                out.push(' ');
                out.push_str(m.node.as_str());
            }
            out.push(' ');
            rhs_to(rhs, out);
        }
        ExprKind::Error => out.push_str("<error>"),
    }
}

fn logical(children: &[Expr], op: &str, out: &mut String) {
    out.push('(');
    for (i, child) in children.iter().enumerate() {
        if i > 0 {
            out.push(' ');
            out.push_str(op);
            out.push(' ');
        }
        expr_to(child, out);
    }
    out.push(')');
}

fn operand_to(operand: &Operand, out: &mut String) {
    match operand {
        Operand::Field(f) => field_to(f, out),
        Operand::Transformer(t) => transformer_to(t, out),
    }
}

fn field_to(field: &FieldRef, out: &mut String) {
    out.push_str(&field.name);
    field_arg_to(field.arg.as_deref(), out);
}

fn field_arg_to(arg: Option<&str>, out: &mut String) {
    match arg {
        None => {}
        Some("") => out.push_str("[\"\"]"),
        Some(arg) => {
            out.push('[');
            escape(arg, out);
            out.push(']');
        }
    }
}

fn transformer_to(t: &Transformer, out: &mut String) {
    out.push_str(t.kind.as_str());
    out.push('(');
    transformer_args_to(&t.args, out);
    out.push(')');
    field_arg_to(t.arg.as_deref(), out);
}

fn transformer_args_to(args: &[TransformerArg], out: &mut String) {
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match arg {
            TransformerArg::Field(f) => field_to(f, out),
            TransformerArg::Transformer(t) => transformer_to(t, out),
            TransformerArg::Const(lit) => escape(&lit.text, out),
            TransformerArg::List(items, _) => {
                out.push('(');
                transformer_args_to(items, out);
                out.push(')');
            }
        }
    }
}

fn rhs_to(rhs: &Rhs, out: &mut String) {
    match rhs {
        Rhs::Value(lit) => escape(&lit.text, out),
        // A bare identifier after a list operator is a value node in libs, written bare.
        Rhs::List {
            items, bare: true, ..
        } if items.len() == 1 => escape(&items[0].text, out),
        Rhs::List { items, .. } => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                escape(&item.text, out);
            }
            out.push(')');
        }
        Rhs::Transformer(t) => transformer_to(t, out),
        Rhs::Val(field, _) => {
            out.push_str("val(");
            field_to(field, out);
            out.push(')');
        }
        Rhs::Missing(_) => out.push_str("<missing>"),
    }
}
