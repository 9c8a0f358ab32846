//! One `%` token: a field or transformer, compiled with the condition compiler's typing
//! (libs `sinsp_extractor_compiler`), and the fields it reports in `output_fields` (libs
//! `formatter_visitor` resolution tokens).

use crate::compile::Cx;
use crate::eval::derive;
use crate::eval::transform::TExpr;
use crate::fields::FieldFlags;
use crate::syntax::ast::{FieldRef, Operand, Transformer, TransformerArg};

/// A compiled token: its expression and its `(name, expression)` resolution entries.
pub(super) struct Compiled {
    pub expr: TExpr,
    pub resolved: Vec<(String, TExpr)>,
}

/// Why a token did not compile: the compiler's message, if it gave one.
pub(super) struct Rejected(pub Option<String>);

pub(super) fn compile(op: &Operand) -> Result<Compiled, Rejected> {
    let mut cx = Cx::default();
    let expr = match op {
        Operand::Field(f) => field(&mut cx, f),
        Operand::Transformer(t) => cx.transformer(t).map(|(e, _)| e),
    };
    let first_error = cx
        .diags
        .iter()
        .find(|d| d.is_error())
        .map(|d| d.message.clone());
    let Some(expr) = expr.filter(|_| first_error.is_none()) else {
        return Err(Rejected(first_error));
    };
    let mut v = Visitor {
        cx,
        out: Vec::new(),
        last_was_transformer: false,
    };
    match op {
        Operand::Field(f) => v.field(f),
        Operand::Transformer(t) => v.transformer(t),
    }
    Ok(Compiled {
        expr,
        resolved: v.out,
    })
}

/// A printable field: filter-only fields (`fd.ip`) have no value to print. An ancestor field
/// without index prints all ancestors, parent first, blank-separated, except `proc.apid`,
/// which prints the process's own pid (libs, "In output, proc.aname without arguments…").
fn field(cx: &mut Cx, f: &FieldRef) -> Option<TExpr> {
    let (e, ty) = cx.field_operand(f)?;
    if ty.flags.contains(FieldFlags::FILTER_ONLY) {
        return None;
    }
    let TExpr::Field { id, arg: None } = e else {
        return Some(e);
    };
    if derive::lineage(id).is_none() {
        return Some(e);
    }
    Some(if id.info().name == "proc.apid" {
        TExpr::Field {
            id,
            arg: Some("0".into()),
        }
    } else {
        TExpr::Join(Box::new(TExpr::Const(" ".into())), Box::new(e))
    })
}

/// Fields are reported each; of a chain of nested transformers only the outermost is (libs
/// drops the previous entry when a transformer directly follows another).
struct Visitor {
    cx: Cx,
    out: Vec<(String, TExpr)>,
    last_was_transformer: bool,
}

impl Visitor {
    fn field(&mut self, f: &FieldRef) {
        if let Some(e) = field(&mut self.cx, f) {
            self.out.push((field_name(f), e));
        }
        self.last_was_transformer = false;
    }

    fn transformer(&mut self, t: &Transformer) {
        for a in &t.args {
            self.arg(a);
        }
        if self.last_was_transformer {
            self.out.pop();
        }
        if let Some((e, _)) = self.cx.transformer(t) {
            self.out.push((transformer_name(t), e));
        }
        self.last_was_transformer = true;
    }

    fn arg(&mut self, a: &TransformerArg) {
        match a {
            TransformerArg::Field(f) => self.field(f),
            TransformerArg::Transformer(t) => self.transformer(t),
            TransformerArg::Const(_) => {}
            TransformerArg::List(items, _) => items.iter().for_each(|i| self.arg(i)),
        }
    }
}

fn field_name(f: &FieldRef) -> String {
    match &f.arg {
        Some(a) => format!("{}[{a}]", f.name),
        None => f.name.clone(),
    }
}

/// libs `ast::as_string`: no blanks, constants unquoted (`join(->,(proc.name,fd.name))`).
fn transformer_name(t: &Transformer) -> String {
    let args: Vec<String> = t.args.iter().map(arg_name).collect();
    let mut s = format!("{}({})", t.kind.as_str(), args.join(","));
    if let Some(a) = &t.arg {
        s.push_str(&format!("[{a}]"));
    }
    s
}

fn arg_name(a: &TransformerArg) -> String {
    match a {
        TransformerArg::Field(f) => field_name(f),
        TransformerArg::Transformer(t) => transformer_name(t),
        TransformerArg::Const(l) => l.text.clone(),
        TransformerArg::List(items, _) => format!(
            "({})",
            items.iter().map(arg_name).collect::<Vec<_>>().join(",")
        ),
    }
}
