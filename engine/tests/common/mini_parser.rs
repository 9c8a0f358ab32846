//! A deliberately small reader of the condition grammar for the compiler and evaluator
//! conformance cases (well-formed input only; it panics on what it does not understand).
//! It produces the engine AST with spans local to the text, like `syntax::parse`.

use rulestudio_engine::span::Span;
use rulestudio_engine::syntax::ast::*;

pub fn parse(text: &str) -> Expr {
    let mut p = P { s: text, i: 0 };
    let e = p.or();
    p.ws();
    assert_eq!(p.i, text.len(), "mini parser stopped at {} in {text:?}", p.i);
    e
}

struct P<'a> {
    s: &'a str,
    i: usize,
}

const WORD_OPS: &[(&str, CmpOp)] = &[
    ("contains", CmpOp::Contains),
    ("icontains", CmpOp::IContains),
    ("bcontains", CmpOp::BContains),
    ("startswith", CmpOp::StartsWith),
    ("bstartswith", CmpOp::BStartsWith),
    ("endswith", CmpOp::EndsWith),
    ("glob", CmpOp::Glob),
    ("iglob", CmpOp::IGlob),
    ("regex", CmpOp::Regex),
    ("intersects", CmpOp::Intersects),
    ("in", CmpOp::In),
    ("pmatch", CmpOp::PMatch),
];
const SYM_OPS: &[(&str, CmpOp)] = &[
    ("==", CmpOp::EqEq),
    ("!=", CmpOp::Ne),
    ("<=", CmpOp::Le),
    (">=", CmpOp::Ge),
    ("=", CmpOp::Eq),
    ("<", CmpOp::Lt),
    (">", CmpOp::Gt),
];

impl P<'_> {
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }
    fn ws(&mut self) {
        while self.rest().starts_with([' ', '\t', '\n', '\r']) {
            self.i += 1;
        }
    }
    fn span(&self, start: usize) -> Span {
        Span::local(start, self.i)
    }
    fn keyword(&mut self, kw: &str) -> bool {
        self.ws();
        let r = self.rest();
        if r.starts_with(kw) && r[kw.len()..].starts_with([' ', '\t', '\n', '(']) {
            self.i += kw.len();
            true
        } else {
            false
        }
    }
    fn nary(&mut self, kw: &str, next: fn(&mut Self) -> Expr, mk: fn(Vec<Expr>) -> ExprKind) -> Expr {
        self.ws();
        let start = self.i;
        let first = next(self);
        let mut items = vec![first];
        while self.keyword(kw) {
            items.push(next(self));
        }
        if items.len() == 1 { items.pop().unwrap() } else { Expr { kind: mk(items), span: self.span(start) } }
    }
    fn or(&mut self) -> Expr {
        self.nary("or", Self::and, ExprKind::Or)
    }
    fn and(&mut self) -> Expr {
        self.nary("and", Self::not, ExprKind::And)
    }
    fn not(&mut self) -> Expr {
        self.ws();
        let start = self.i;
        if self.keyword("not") {
            let inner = self.not();
            return Expr { kind: ExprKind::Not(Box::new(inner)), span: self.span(start) };
        }
        self.check()
    }
    fn name(&mut self) -> (String, Span) {
        let start = self.i;
        let n = self.rest().bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.').count();
        self.i += n;
        (self.s[start..self.i].to_string(), self.span(start))
    }
    fn check(&mut self) -> Expr {
        self.ws();
        let start = self.i;
        if self.rest().starts_with('(') {
            self.i += 1;
            let e = self.or();
            self.ws();
            assert!(self.rest().starts_with(')'), "expected ) at {}", self.i);
            self.i += 1;
            return e;
        }
        let lhs = self.operand();
        if let Operand::Field(f) = &lhs {
            if !f.name.contains('.') && f.arg.is_none() {
                return Expr { kind: ExprKind::Macro(f.name.clone()), span: f.span };
            }
        }
        self.ws();
        if self.rest().starts_with("exists") {
            self.i += 6;
            return Expr { kind: ExprKind::Exists(lhs), span: self.span(start) };
        }
        let op_start = self.i;
        let op = SYM_OPS
            .iter()
            .chain(WORD_OPS)
            .find(|(t, _)| self.rest().starts_with(t) && (t.starts_with(['=', '!', '<', '>']) || !self.rest()[t.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())))
            .map(|&(t, op)| {
                self.i += t.len();
                op
            })
            .unwrap_or_else(|| panic!("no operator at {} in {:?}", self.i, self.s));
        let op = Spanned { node: op, span: self.span(op_start) };
        self.ws();
        let mut modifier = None;
        for (w, m) in [("oneof", Modifier::OneOf), ("anyof", Modifier::AnyOf), ("allof", Modifier::AllOf)] {
            if self.rest().starts_with(w) && self.rest()[w.len()..].trim_start().starts_with('(') {
                let ms = self.i;
                self.i += w.len();
                modifier = Some(Spanned { node: m, span: self.span(ms) });
                self.ws();
            }
        }
        let rhs = if op.node.is_list_op() || modifier.is_some() {
            if self.rest().starts_with('(') { self.list() } else { let l = self.literal(); Rhs::List { span: l.span, items: vec![l] } }
        } else if self.rest().starts_with("val(") {
            let vs = self.i;
            self.i += 4;
            let (name, name_span) = self.name();
            let f = self.field_arg(name, name_span);
            self.i += 1;
            Rhs::Val(f, self.span(vs))
        } else if let Some(t) = self.try_transformer() {
            Rhs::Transformer(t)
        } else {
            Rhs::Value(self.literal())
        };
        Expr { kind: ExprKind::Compare { lhs, op, modifier, rhs }, span: self.span(start) }
    }
    fn list(&mut self) -> Rhs {
        let start = self.i;
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.rest().starts_with(')') {
                self.i += 1;
                break;
            }
            items.push(self.literal());
            self.ws();
            if self.rest().starts_with(',') {
                self.i += 1;
            }
        }
        Rhs::List { items, span: self.span(start) }
    }
    fn literal(&mut self) -> Literal {
        self.ws();
        let start = self.i;
        let q = self.rest().chars().next().unwrap_or(' ');
        if q == '"' || q == '\'' {
            self.i += 1;
            let mut text = String::new();
            loop {
                let c = self.rest().chars().next().expect("unterminated string");
                self.i += c.len_utf8();
                match c {
                    c if c == q => break,
                    '\\' => {
                        let e = self.rest().chars().next().unwrap();
                        self.i += 1;
                        match e {
                            'n' => text.push('\n'),
                            't' => text.push('\t'),
                            'x' => {
                                let v = u8::from_str_radix(&self.s[self.i..self.i + 2], 16).unwrap();
                                self.i += 2;
                                text.push(v as char);
                            }
                            other => text.push(other),
                        }
                    }
                    c => text.push(c),
                }
            }
            return Literal { text, quoted: true, span: self.span(start) };
        }
        let n = self.rest().find(|c: char| c.is_whitespace() || "()\"'=,".contains(c)).unwrap_or(self.rest().len());
        self.i += n;
        Literal { text: self.s[start..self.i].to_string(), quoted: false, span: self.span(start) }
    }
    fn field_arg(&mut self, name: String, name_span: Span) -> FieldRef {
        let mut arg = None;
        if self.rest().starts_with('[') {
            let close = self.rest().find(']').unwrap();
            let raw = &self.rest()[1..close];
            arg = Some(raw.trim_matches(['"', '\'']).to_string());
            self.i += close + 1;
        }
        FieldRef { name, arg, span: self.span(name_span.start as usize), name_span }
    }
    fn try_transformer(&mut self) -> Option<Transformer> {
        let save = self.i;
        let (name, _) = self.name();
        match TransformerKind::from_name(&name) {
            Some(kind) if self.rest().starts_with('(') => Some(self.transformer_body(kind, save)),
            _ => {
                self.i = save;
                None
            }
        }
    }
    fn transformer_body(&mut self, kind: TransformerKind, start: usize) -> Transformer {
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.ws();
            if self.rest().starts_with(')') {
                self.i += 1;
                break;
            }
            args.push(self.targ());
            self.ws();
            if self.rest().starts_with(',') {
                self.i += 1;
            }
        }
        let mut arg = None;
        if self.rest().starts_with('[') {
            let close = self.rest().find(']').unwrap();
            arg = Some(self.rest()[1..close].to_string());
            self.i += close + 1;
        }
        Transformer { kind, args, arg, span: self.span(start) }
    }
    fn targ(&mut self) -> TransformerArg {
        self.ws();
        let start = self.i;
        if self.rest().starts_with('(') {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                self.ws();
                if self.rest().starts_with(')') {
                    self.i += 1;
                    break;
                }
                items.push(self.targ());
                self.ws();
                if self.rest().starts_with(',') {
                    self.i += 1;
                }
            }
            return TransformerArg::List(items, self.span(start));
        }
        if self.rest().starts_with(['"', '\'']) || self.rest().starts_with(|c: char| c.is_ascii_digit()) {
            return TransformerArg::Const(self.literal());
        }
        if let Some(t) = self.try_transformer() {
            return TransformerArg::Transformer(t);
        }
        let (name, span) = self.name();
        TransformerArg::Field(self.field_arg(name, span))
    }
    fn operand(&mut self) -> Operand {
        self.ws();
        if let Some(t) = self.try_transformer() {
            return Operand::Transformer(t);
        }
        let (name, span) = self.name();
        Operand::Field(self.field_arg(name, span))
    }
}
