//! Recursive-descent parser mirroring libs `filter/parser.cpp` function by function, so that
//! acceptance, the depth accounting and the first error message are the same as Falco's; on top
//! of it, error recovery: instead of throwing, an error is recorded and parsing resumes at the
//! next `and`/`or`, closing parenthesis or list end, so every error of a condition is reported.
//!
//! Conventions: a function returning `Err(Stop)` has recorded an error and could not build its
//! node; the nearest recovery point (an `and`/`or` operand, a list) turns that into an
//! [`ExprKind::Error`] / [`Rhs::Missing`] and skips the rest of the broken construct. `Stop`
//! after the depth limit (or too many errors) is fatal and unwinds to the top.

use super::ast::*;
use super::escape::unescape;
use super::lexer;
use crate::span::Span;

/// How deep a rule condition may nest (Falco raises libs' default of 100 for rule conditions).
/// Also the highest limit accepted: it keeps the parser's own stack use bounded (measured: under
/// 64 KB in release and 256 KB in debug builds at this depth).
pub const DEFAULT_MAX_DEPTH: u32 = 1000;

/// Past this many errors the text is probably not a condition at all; stop reporting.
const MAX_ERRORS: usize = 100;

/// Longest token quoted inside an error message.
const MAX_TOKEN_IN_MESSAGE: usize = 48;

const UNARY_OPS: &[(&str, bool)] = &[("exists", false)];
const NUM_OPS: &[(&str, bool)] = &[("<=", false), ("<", false), (">=", false), (">", false)];
/// The flag says the word needs a blank after it (libs writes these with a trailing space).
const STR_OPS: &[(&str, bool)] = &[
    ("==", false),
    ("=", false),
    ("!=", false),
    ("glob", true),
    ("iglob", true),
    ("contains", true),
    ("icontains", true),
    ("bcontains", true),
    ("startswith", true),
    ("bstartswith", true),
    ("endswith", true),
    ("regex", true),
];
const MODIFIERS: &[(&str, bool)] = &[("oneof", true), ("anyof", true), ("allof", true)];
const LIST_OPS: &[(&str, bool)] = &[("intersects", false), ("in", false), ("pmatch", false)];
const TRANSFORMERS: &[&str] = &[
    "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt",
];

const EXPECTED_OPERATOR: &str = "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', '!=', \
     'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', \
     'intersects', 'in', 'pmatch'";
const TRANSFORMER_LIST: &str =
    "'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'";

/// An error was recorded; the construct being parsed could not be built.
pub(crate) struct Stop;

type PResult<T> = Result<T, Stop>;

pub(crate) struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    max_depth: u32,
    /// Open parentheses around the cursor: decides whether `)` ends an expression.
    nesting: u32,
    /// libs `m_last_token`, quoted in "unexpected token after '…'".
    last: &'a str,
    /// `last` is a quoted string: libs keeps its decoded text as the last token.
    last_quoted: bool,
    errors: Vec<SyntaxError>,
    /// An error was reported inside the current operand: skip to the next boundary.
    recovering: bool,
    fatal: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, max_depth: u32) -> Self {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            max_depth: max_depth.min(DEFAULT_MAX_DEPTH),
            nesting: 0,
            last: "",
            last_quoted: false,
            errors: Vec::new(),
            recovering: false,
            fatal: false,
        }
    }

    pub(crate) fn parse(mut self) -> Parsed<Expr> {
        if self.src.is_empty() {
            self.report(Span::local(0, 0), "filter input string is empty".into());
            return Parsed {
                tree: Expr {
                    kind: ExprKind::Error,
                    span: Span::local(0, 0),
                },
                errors: self.errors,
            };
        }
        let tree = match self.parse_or(0) {
            Ok(tree) if !self.fatal => *tree,
            _ => Expr {
                kind: ExprKind::Error,
                span: Span::local(0, self.src.len()),
            },
        };
        // The and/or loops consume everything up to the end (reporting what they skip); should
        // they ever stop early, the rest is still reported rather than silently dropped.
        if !self.fatal && self.pos < self.b.len() {
            let span = self.token_span(self.pos);
            let message = self.garbage_message();
            self.report(span, message);
        }
        Parsed {
            tree,
            errors: self.errors,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Grammar: one function per libs function. `d` is the caller's recursion depth; functions
    // that have a depth_guard in libs start with `let d = self.enter(d)?;`. Keeping the depth in
    // an argument needs no cleanup on early returns, and the frames on the recursion path
    // (or → and → not → check → parentheses) stay small: the check itself is parsed out of line.

    /// libs' depth_guard: the limit counts parser functions, not parentheses.
    /// libs `parse_field_or_transformer` (output tokens): one field or transformer at the start
    /// of the text, and how many bytes it took; `None` when it is neither.
    pub(crate) fn field_or_transformer(mut self) -> Option<(Operand, usize)> {
        let start = self.pos;
        let op = if let Some(name) = self.lex_with(lexer::field_name) {
            Operand::Field(self.field_remainder(name, start, 0).ok()?)
        } else {
            let kind = self.lex_transformer()?;
            Operand::Transformer(self.transformer_remainder(kind, start, 0).ok()?)
        };
        self.errors.is_empty().then_some((op, self.pos))
    }

    fn enter(&mut self, d: u32) -> PResult<u32> {
        let d = d + 1;
        if d < self.max_depth {
            return Ok(d);
        }
        self.depth_exceeded();
        Err(Stop)
    }

    #[cold]
    #[inline(never)]
    fn depth_exceeded(&mut self) {
        if !self.fatal {
            let span = self.token_span(self.pos);
            self.report(
                span,
                format!("exceeded max depth limit of {}", self.max_depth),
            );
            self.fatal = true;
        }
    }

    fn parse_or(&mut self, d: u32) -> PResult<Box<Expr>> {
        let d = self.enter(d)?;
        self.blank();
        let mut children = vec![self.parse_and(d)?];
        loop {
            self.blank();
            if self.fatal {
                return Err(Stop);
            }
            let kw = self.pos;
            if !self.lex_str("or") {
                break;
            }
            let child = if self.blank() {
                self.parse_and(d)?
            } else if self.lex_str("(") {
                let child = self.embedded_remainder(d)?;
                self.after_parenthesised_or_operand(child, d)?
            } else {
                self.keyword_without_blank(kw, "or")
            };
            children.push(child);
        }
        Ok(nary(children, ExprKind::Or))
    }

    /// libs does not continue an `and` chain after `or(...)`: `a or(b) and c` is an error there.
    /// Report it like libs would, then parse the chain anyway to keep the tree useful.
    #[inline(never)]
    fn after_parenthesised_or_operand(&mut self, child: Box<Expr>, d: u32) -> PResult<Box<Expr>> {
        self.sync();
        self.blank();
        if self.at_keyword("and") {
            let span = self.token_span(self.pos);
            let message = self.garbage_message();
            self.report(span, message);
        } else {
            // Other garbage is reported here; skipping it may stop at an `and`.
            self.skip_trailing_garbage();
            if !self.at_keyword("and") {
                return Ok(child);
            }
        }
        self.and_tail(child, d)
    }

    fn parse_and(&mut self, d: u32) -> PResult<Box<Expr>> {
        let d = self.enter(d)?;
        self.blank();
        let first = self.operand(d)?;
        self.and_tail(first, d)
    }

    fn and_tail(&mut self, first: Box<Expr>, d: u32) -> PResult<Box<Expr>> {
        let mut children = vec![first];
        loop {
            self.blank();
            self.skip_trailing_garbage();
            if self.fatal {
                return Err(Stop);
            }
            let kw = self.pos;
            if !self.lex_str("and") {
                break;
            }
            let child = if self.blank() {
                self.operand(d)?
            } else if self.lex_str("(") {
                let child = self.embedded_remainder(d)?;
                self.sync();
                child
            } else {
                self.keyword_without_blank(kw, "and")
            };
            children.push(child);
        }
        Ok(nary(children, ExprKind::And))
    }

    /// An operand of `and`: the recovery point for errors inside a `not`/check.
    fn operand(&mut self, d: u32) -> PResult<Box<Expr>> {
        let start = self.pos;
        let result = self.parse_not(d);
        if self.fatal {
            return Err(Stop);
        }
        self.sync();
        Ok(result.unwrap_or_else(|Stop| error_node(self.trimmed(start, self.pos))))
    }

    #[cold]
    #[inline(never)]
    fn keyword_without_blank(&mut self, kw: usize, word: &str) -> Box<Expr> {
        let span = self.token_span(kw);
        self.error(span, format!("expected blank or '(' after '{word}'"));
        self.sync();
        error_node(self.trimmed(kw, self.pos))
    }

    fn parse_not(&mut self, d: u32) -> PResult<Box<Expr>> {
        let d = self.enter(d)?;
        self.blank();
        let start = self.pos;
        let mut negated = false;
        loop {
            let n = lexer::not_blank(self.rest());
            if n == 0 {
                break;
            }
            self.take(n);
            negated = !negated;
        }
        let child = if self.lex_str("not(") {
            negated = !negated;
            self.embedded_remainder(d)?
        } else {
            self.parse_check(d)?
        };
        Ok(if negated {
            not_node(start, child)
        } else {
            child
        })
    }

    /// After a `(`: the inner expression and its `)`.
    fn embedded_remainder(&mut self, d: u32) -> PResult<Box<Expr>> {
        let d = self.enter(d)?;
        self.nesting += 1;
        self.blank();
        let child = self.parse_or(d);
        self.nesting -= 1;
        let child = child?;
        self.blank();
        if !self.lex_str(")") {
            // The and/or loops stop only at `)` or the end, so this is an unclosed `(`.
            let span = self.token_span(self.pos);
            self.report(span, "expected a ')' token".into());
        }
        Ok(child)
    }

    fn parse_check(&mut self, d: u32) -> PResult<Box<Expr>> {
        let d = self.enter(d)?;
        self.blank();
        if self.lex_str("(") {
            return self.embedded_remainder(d);
        }
        self.check(d)
    }

    /// The part of libs' `parse_check` after `(`, out of line: its locals would otherwise sit in
    /// every frame of the parenthesis recursion.
    #[inline(never)]
    fn check(&mut self, d: u32) -> PResult<Box<Expr>> {
        self.check_unboxed(d).map(Box::new)
    }

    fn check_unboxed(&mut self, d: u32) -> PResult<Expr> {
        let start = self.pos;
        if let Some(name) = self.lex_with(lexer::field_name) {
            let field = self.field_remainder(name, start, d)?;
            return self.parse_condition(Operand::Field(field), start, d);
        }
        if let Some(kind) = self.lex_transformer() {
            self.blank();
            let transformer = self.transformer_remainder(kind, start, d)?;
            return self.parse_condition(Operand::Transformer(transformer), start, d);
        }
        if let Some(name) = self.lex_with(lexer::identifier) {
            return Ok(Expr {
                kind: ExprKind::Macro(name.to_owned()),
                span: Span::local(start, self.pos),
            });
        }
        self.fail("expected a '(' token, a field check, or an identifier")
    }

    fn field_remainder(&mut self, name: &str, start: usize, d: u32) -> PResult<FieldRef> {
        self.enter(d)?;
        let name_span = Span::local(start, start + name.len());
        let arg = self.optional_field_arg()?;
        Ok(FieldRef {
            name: name.to_owned(),
            arg,
            span: Span::local(start, self.pos),
            name_span,
        })
    }

    fn optional_field_arg(&mut self) -> PResult<Option<String>> {
        if !self.lex_str("[") {
            return Ok(None);
        }
        let arg = if let Some(lit) = self.lex_quoted() {
            lit.text
        } else if let Some(bare) = self.lex_with(lexer::field_arg_bare) {
            bare.to_owned()
        } else {
            return self.fail("expected a valid field argument: a quoted string or a bare string");
        };
        if !self.lex_str("]") {
            return self.fail("expected a ']' token");
        }
        Ok(Some(arg))
    }

    fn transformer_remainder(
        &mut self,
        kind: TransformerKind,
        start: usize,
        d: u32,
    ) -> PResult<Transformer> {
        let d = self.enter(d)?;
        self.blank();
        let mut args = Vec::new();
        loop {
            args.push(self.transformer_arg(d)?);
            self.blank();
            if !self.lex_str(",") {
                break;
            }
        }
        self.blank();
        if !self.lex_str(")") {
            return self.fail("expected a ')' token closing the transformer");
        }
        let arg = self.optional_field_arg()?;
        Ok(Transformer {
            kind,
            args,
            arg,
            span: Span::local(start, self.pos),
        })
    }

    fn transformer_arg(&mut self, d: u32) -> PResult<TransformerArg> {
        let d = self.enter(d)?;
        self.blank();
        let start = self.pos;
        if let Some(lit) = self.lex_number() {
            return Ok(TransformerArg::Const(lit));
        }
        if let Some(lit) = self.lex_quoted() {
            return Ok(TransformerArg::Const(lit));
        }
        if self.lex_str("(") {
            return self.transformer_list(start, d);
        }
        if let Some(kind) = self.lex_transformer() {
            return Ok(TransformerArg::Transformer(
                self.transformer_remainder(kind, start, d)?,
            ));
        }
        if let Some(name) = self.lex_with(lexer::field_name) {
            return Ok(TransformerArg::Field(self.field_remainder(name, start, d)?));
        }
        self.fail("expected field transformer argument: field, transformer, quoted string, number, or transformer list")
    }

    /// After the `(` of a list argument of a transformer (`join(",", (a, b))`).
    fn transformer_list(&mut self, start: usize, d: u32) -> PResult<TransformerArg> {
        self.blank();
        let mut items = Vec::new();
        if !self.lex_str(")") {
            items.push(self.transformer_list_arg(d)?);
            self.blank();
            while self.lex_str(",") {
                self.blank();
                items.push(self.transformer_list_arg(d)?);
                self.blank();
            }
            if !self.lex_str(")") {
                return self.fail("expected ')'");
            }
        }
        Ok(TransformerArg::List(items, Span::local(start, self.pos)))
    }

    fn transformer_list_arg(&mut self, d: u32) -> PResult<TransformerArg> {
        let start = self.pos;
        if let Some(name) = self.lex_with(lexer::field_name) {
            return Ok(TransformerArg::Field(self.field_remainder(name, start, d)?));
        }
        if let Some(kind) = self.lex_transformer() {
            self.blank();
            return Ok(TransformerArg::Transformer(
                self.transformer_remainder(kind, start, d)?,
            ));
        }
        if let Some(lit) = self.lex_quoted() {
            return Ok(TransformerArg::Const(lit));
        }
        if let Some(lit) = self.lex_number() {
            return Ok(TransformerArg::Const(lit));
        }
        self.fail(
            "expected transformer list argument: field, transformer, quoted string, or number",
        )
    }

    fn parse_condition(&mut self, lhs: Operand, start: usize, d: u32) -> PResult<Expr> {
        let d = self.enter(d)?;
        self.blank();
        if self.lex_operator(UNARY_OPS).is_some() {
            return Ok(Expr {
                kind: ExprKind::Exists(lhs),
                span: Span::local(start, self.pos),
            });
        }
        self.blank();
        let op_start = self.pos;
        let mut modifier = None;
        let (op, rhs) = if let Some(op) = self.lex_operator(NUM_OPS) {
            (op, self.rhs(|p| p.num_value_or_transformer(d)))
        } else if let Some(op) = self.lex_operator(STR_OPS) {
            let word = op.as_bytes()[0].is_ascii_alphabetic();
            let had_blank = word || self.blank();
            let saved = self.save();
            let mod_start = self.pos;
            match self.lex_operator(MODIFIERS) {
                Some(m)
                    if had_blank
                        && self.list_value_follows()
                        && !lexer::bool_keyword(self.rest()) =>
                {
                    let span = Span::local(mod_start, mod_start + m.len());
                    modifier = Some(Spanned {
                        node: modifier_from(m),
                        span,
                    });
                    (op, self.rhs(|p| p.list_value(d)))
                }
                _ => {
                    self.restore(saved);
                    (op, self.rhs(|p| p.str_value_or_transformer(d)))
                }
            }
        } else if let Some(op) = self.lex_operator(LIST_OPS) {
            (op, self.rhs(|p| p.list_value_or_transformer(d)))
        } else {
            return self.fail(EXPECTED_OPERATOR);
        };
        let rhs = rhs?;
        let op = Spanned {
            node: cmp_op_from(op),
            span: Span::local(op_start, op_start + op.len()),
        };
        let span = Span::local(start, (rhs.span().end as usize).max(op.span.end as usize));
        Ok(Expr {
            kind: ExprKind::Compare {
                lhs,
                op,
                modifier,
                rhs,
            },
            span,
        })
    }

    /// A right-hand side, or [`Rhs::Missing`] where it could not be parsed.
    fn rhs(&mut self, f: impl FnOnce(&mut Self) -> PResult<Rhs>) -> PResult<Rhs> {
        let at = self.pos;
        match f(self) {
            Ok(rhs) => Ok(rhs),
            Err(Stop) if self.fatal => Err(Stop),
            Err(Stop) => {
                let start = self.skip_blank_from(at);
                Ok(Rhs::Missing(self.token_span(start)))
            }
        }
    }

    fn num_value_or_transformer(&mut self, d: u32) -> PResult<Rhs> {
        let d = self.enter(d)?;
        self.blank();
        if let Some(rhs) = self.transformer_or_val(d)? {
            return Ok(rhs);
        }
        if let Some(lit) = self.lex_number() {
            return Ok(Rhs::Value(lit));
        }
        self.fail(&format!(
            "expected a number value or a field with a valid transformer: {TRANSFORMER_LIST}"
        ))
    }

    fn str_value_or_transformer(&mut self, d: u32) -> PResult<Rhs> {
        let d = self.enter(d)?;
        self.blank();
        if let Some(rhs) = self.transformer_or_val(d)? {
            return Ok(rhs);
        }
        match self.string_value() {
            Some(lit) => Ok(Rhs::Value(lit)),
            None => self.fail(&format!(
                "expected a string value or a field with a valid transformer: {TRANSFORMER_LIST}"
            )),
        }
    }

    /// libs `parse_str_value_or_transformer(true)`: a list item.
    fn list_item(&mut self, d: u32) -> PResult<Literal> {
        self.enter(d)?;
        self.blank();
        match self.string_value() {
            Some(lit) => Ok(lit),
            None => self.fail("expected a string value"),
        }
    }

    fn string_value(&mut self) -> Option<Literal> {
        if let Some(lit) = self.lex_quoted() {
            return Some(lit);
        }
        let start = self.pos;
        self.lex_with(lexer::bare_string).map(|text| Literal {
            text: text.to_owned(),
            quoted: false,
            span: Span::local(start, self.pos),
        })
    }

    /// `( item, … )`, if a `(` follows.
    fn try_list(&mut self, d: u32) -> PResult<Option<Rhs>> {
        let start = self.pos;
        if !self.lex_str("(") {
            return Ok(None);
        }
        self.blank();
        let mut items = Vec::new();
        // libs tries the first item inside a try/catch and takes any failure to mean "empty
        // list", so even an escape error there is swallowed: `x in ("\q")` is `x in ()`.
        let mark = self.errors.len();
        let first = self.list_item(d);
        if first.is_ok() && self.errors.len() == mark && !self.fatal {
            items.extend(first.ok());
            self.blank();
            while self.lex_str(",") {
                match self.list_item(d) {
                    Ok(item) => items.push(item),
                    Err(Stop) => return self.recover_list(start, items),
                }
                self.blank();
            }
        } else {
            self.errors.truncate(mark);
            self.fatal = false;
            self.recovering = false;
        }
        if !self.lex_str(")") {
            let span = self.token_span(self.pos);
            self.error(span, "expected a ')' token".into());
            return self.recover_list(start, items);
        }
        Ok(Some(Rhs::List {
            items,
            span: Span::local(start, self.pos),
            bare: false,
        }))
    }

    /// Skips the rest of a broken list up to its `)` (or the next `and`/`or`), keeping the items
    /// read so far.
    fn recover_list(&mut self, start: usize, items: Vec<Literal>) -> PResult<Option<Rhs>> {
        if self.fatal {
            return Err(Stop);
        }
        self.skip_garbage(true);
        self.lex_str(")");
        self.recovering = false;
        Ok(Some(Rhs::List {
            items,
            span: Span::local(start, self.pos),
            bare: false,
        }))
    }

    fn list_value(&mut self, d: u32) -> PResult<Rhs> {
        let d = self.enter(d)?;
        self.blank();
        if let Some(list) = self.try_list(d)? {
            return Ok(list);
        }
        if let Some(rhs) = self.identifier_list() {
            return Ok(rhs);
        }
        self.fail("expected a list or an identifier")
    }

    fn list_value_or_transformer(&mut self, d: u32) -> PResult<Rhs> {
        let d = self.enter(d)?;
        self.blank();
        if let Some(list) = self.try_list(d)? {
            return Ok(list);
        }
        if let Some(rhs) = self.transformer_or_val(d)? {
            return Ok(rhs);
        }
        if let Some(rhs) = self.identifier_list() {
            return Ok(rhs);
        }
        self.fail(&format!("expected a list, an identifier, or a field with a valid transformer: {TRANSFORMER_LIST}"))
    }

    /// A bare identifier where a list is expected: a one-item list marked `bare`.
    fn identifier_list(&mut self) -> Option<Rhs> {
        let start = self.pos;
        let text = self.lex_with(lexer::identifier)?;
        let span = Span::local(start, self.pos);
        Some(Rhs::List {
            items: vec![Literal {
                text: text.to_owned(),
                quoted: false,
                span,
            }],
            span,
            bare: true,
        })
    }

    fn transformer_or_val(&mut self, d: u32) -> PResult<Option<Rhs>> {
        let d = self.enter(d)?;
        self.blank();
        let start = self.pos;
        if self.lex_str("val(") {
            self.blank();
            let field_start = self.pos;
            let Some(name) = self.lex_with(lexer::field_name) else {
                return self.fail("expected a field within 'val' transformer");
            };
            let field = self.field_remainder(name, field_start, d)?;
            self.blank();
            if !self.lex_str(")") {
                return self.fail("expected a ')' token closing the transformer");
            }
            let arg_start = self.pos;
            if self.optional_field_arg()?.is_some() {
                // libs parses this and rejects it when compiling; there is no place for it in
                // the tree, so it is reported here with the compiler's words.
                self.report(
                    Span::local(arg_start, self.pos),
                    "filter error: transformer 'val' does not support field arguments".into(),
                );
            }
            return Ok(Some(Rhs::Val(field, Span::local(start, self.pos))));
        }
        if let Some(kind) = self.lex_transformer() {
            self.blank();
            return Ok(Some(Rhs::Transformer(
                self.transformer_remainder(kind, start, d)?,
            )));
        }
        Ok(None)
    }

    // ---------------------------------------------------------------------------------------
    // Lexing helpers

    fn rest(&self) -> &'a [u8] {
        &self.b[self.pos..]
    }

    fn take(&mut self, n: usize) -> &'a str {
        let token = &self.src[self.pos..self.pos + n];
        self.pos += n;
        self.last = token;
        self.last_quoted = false;
        token
    }

    fn blank(&mut self) -> bool {
        let n = self
            .rest()
            .iter()
            .take_while(|&&c| lexer::is_blank(c))
            .count();
        self.pos += n;
        n > 0
    }

    fn skip_blank_from(&self, at: usize) -> usize {
        at + self.b[at..]
            .iter()
            .take_while(|&&c| lexer::is_blank(c))
            .count()
    }

    fn lex_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s.as_bytes()) {
            self.take(s.len());
            true
        } else {
            false
        }
    }

    fn lex_with(&mut self, class: fn(&[u8]) -> usize) -> Option<&'a str> {
        match class(self.rest()) {
            0 => None,
            n => Some(self.take(n)),
        }
    }

    /// libs `lex_helper_operator_list`: the first operator that is a prefix of the input; those
    /// flagged need a blank after them (consumed), else the match is undone.
    fn lex_operator(&mut self, ops: &[(&'static str, bool)]) -> Option<&'static str> {
        for &(op, needs_blank) in ops {
            let saved = self.save();
            if self.lex_str(op) {
                if !needs_blank || self.blank() {
                    return Some(op);
                }
                self.restore(saved);
            }
        }
        None
    }

    fn lex_transformer(&mut self) -> Option<TransformerKind> {
        let name = TRANSFORMERS.iter().find(|name| {
            let rest = self.rest();
            rest.starts_with(name.as_bytes()) && rest.get(name.len()) == Some(&b'(')
        })?;
        self.take(name.len() + 1);
        TransformerKind::from_name(name)
    }

    fn lex_number(&mut self) -> Option<Literal> {
        let start = self.pos;
        let text = self
            .lex_with(lexer::hex_number)
            .or_else(|| self.lex_with(lexer::number))?;
        Some(Literal {
            text: text.to_owned(),
            quoted: false,
            span: Span::local(start, self.pos),
        })
    }

    /// A quoted string, decoded. Escape errors are reported at their exact place; the string is
    /// still taken (its extent is certain), so parsing goes on normally after it.
    fn lex_quoted(&mut self) -> Option<Literal> {
        let start = self.pos;
        let len = lexer::quoted(self.rest())?;
        let token = self.take(len);
        let (text, errors) = unescape(token);
        for e in errors {
            self.report(
                Span::local(start + e.range.start, start + e.range.end),
                e.message,
            );
        }
        self.last_quoted = true;
        Some(Literal {
            text,
            quoted: true,
            span: Span::local(start, self.pos),
        })
    }

    fn save(&self) -> (usize, &'a str, bool) {
        (self.pos, self.last, self.last_quoted)
    }

    fn restore(&mut self, saved: (usize, &'a str, bool)) {
        (self.pos, self.last, self.last_quoted) = saved;
    }

    fn list_value_follows(&self) -> bool {
        self.rest().first() == Some(&b'(') || lexer::identifier(self.rest()) > 0
    }

    fn at_keyword(&self, word: &str) -> bool {
        self.rest().starts_with(word.as_bytes())
    }

    // ---------------------------------------------------------------------------------------
    // Errors and recovery

    /// Records an error; the caller cannot go on with its construct.
    #[cold]
    #[inline(never)]
    fn fail<T>(&mut self, message: &str) -> PResult<T> {
        let span = self.token_span(self.pos);
        self.error(span, message.to_owned());
        Err(Stop)
    }

    /// Records an error and asks the enclosing recovery point to skip the rest of the operand.
    #[cold]
    #[inline(never)]
    fn error(&mut self, span: Span, message: String) {
        self.report(span, message);
        self.recovering = true;
    }

    /// Records an error that needs no skipping.
    #[cold]
    #[inline(never)]
    fn report(&mut self, span: Span, message: String) {
        // Several unclosed groups all end at the same place with the same complaint.
        let repeated = self
            .errors
            .last()
            .is_some_and(|e| e.span == span && e.message == message);
        if self.fatal || repeated {
            return;
        }
        if self.errors.len() >= MAX_ERRORS {
            self.errors.push(SyntaxError {
                message: format!("too many syntax errors; stopped after {MAX_ERRORS}"),
                span,
            });
            self.fatal = true;
            return;
        }
        self.errors.push(SyntaxError { message, span });
    }

    /// After an operand: if it reported an error, skip what is left of it.
    fn sync(&mut self) {
        if self.recovering && !self.fatal {
            self.skip_garbage(false);
            self.recovering = false;
        }
    }

    /// Text after a complete operand that is neither `and`, `or`, a closing `)` nor the end:
    /// libs stops there ("unexpected token after …" at the top, "expected a ')' token" inside
    /// parentheses). Report it and skip to the next boundary.
    #[cold]
    #[inline(never)]
    fn skip_trailing_garbage(&mut self) {
        let rest = self.rest();
        let done = rest.is_empty()
            || (self.nesting > 0 && rest[0] == b')')
            || self.at_keyword("and")
            || self.at_keyword("or");
        if done || self.fatal {
            return;
        }
        let span = self.token_span(self.pos);
        let message = self.garbage_message();
        self.report(span, message);
        self.skip_garbage(false);
        self.blank();
    }

    #[cold]
    #[inline(never)]
    fn garbage_message(&self) -> String {
        if self.nesting > 0 {
            return "expected a ')' token".into();
        }
        let last = if self.last_quoted {
            unescape(self.last).0
        } else {
            self.last.to_owned()
        };
        format!(
            "unexpected token after '{}', expecting 'or', 'and'",
            shorten(&last)
        )
    }

    /// Skips to the next place parsing can resume: a blank-delimited `and`/`or` outside any
    /// parentheses opened here, the `)` closing the enclosing group (not consumed), or the end.
    /// Quoted strings are skipped whole and a `#` starts a comment running to the end of the
    /// line (people paste YAML-style comments into conditions). At the top level a stray `)`
    /// is skipped. `in_list`: stop at the list's own `)` even at the top level.
    #[cold]
    #[inline(never)]
    fn skip_garbage(&mut self, in_list: bool) {
        let start = self.pos;
        let mut depth = 0u32;
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            let at_word_start = self.pos == start || {
                let prev = self.b[self.pos - 1];
                lexer::is_space(prev) || lexer::is_blank(prev) || prev == b')'
            };
            match c {
                b'"' | b'\'' => {
                    self.pos += lexer::quoted(self.rest()).unwrap_or(self.b.len() - self.pos);
                    continue;
                }
                b'#' if at_word_start => {
                    self.pos += self.rest().iter().take_while(|&&c| c != b'\n').count();
                    continue;
                }
                b'(' => depth += 1,
                b')' if depth > 0 => depth -= 1,
                b')' if self.nesting > 0 || in_list => return,
                b'a' | b'o' if depth == 0 && at_word_start && self.keyword_boundary() => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// `and`/`or` at the cursor followed by a blank or `(`: where an operand may start again.
    fn keyword_boundary(&self) -> bool {
        ["and", "or"].iter().any(|kw| {
            self.at_keyword(kw)
                && self
                    .b
                    .get(self.pos + kw.len())
                    .is_some_and(|&c| lexer::is_blank(c) || c == b'(')
        })
    }

    /// The span of the token at `at`, for error messages: a quoted string, a single bracket or
    /// comma, or a run of other non-blank characters; empty at the end of the text.
    #[cold]
    #[inline(never)]
    fn token_span(&self, at: usize) -> Span {
        let rest = &self.b[at..];
        let len = match rest.first() {
            None => 0,
            Some(b'"' | b'\'') => lexer::quoted(rest).unwrap_or(rest.len()),
            Some(b'(' | b')' | b'[' | b']' | b',') => 1,
            Some(_) => rest
                .iter()
                .take_while(|&&c| {
                    !lexer::is_space(c)
                        && !lexer::is_blank(c)
                        && !matches!(c, b'(' | b')' | b'[' | b']' | b',' | b'"' | b'\'')
                })
                .count()
                .max(1),
        };
        let mut end = at + len;
        while !self.src.is_char_boundary(end) {
            end += 1;
        }
        Span::local(at, end)
    }

    /// `start..end` without trailing blanks (error nodes should not cover the whitespace before
    /// the next `and`).
    fn trimmed(&self, start: usize, end: usize) -> Span {
        let end = start
            + self.b[start..end]
                .iter()
                .rposition(|&c| !lexer::is_blank(c))
                .map_or(0, |i| i + 1);
        Span::local(start, end)
    }
}

// Node builders for the recursion path, out of line so that its frames only hold pointers.

#[inline(never)]
#[allow(
    clippy::vec_box,
    reason = "the children arrive boxed from the recursion path"
)]
fn nary(mut children: Vec<Box<Expr>>, kind: fn(Vec<Expr>) -> ExprKind) -> Box<Expr> {
    if children.len() == 1 {
        return children.pop().expect("one child");
    }
    let span = children[0].span.cover(children[children.len() - 1].span);
    Box::new(Expr {
        kind: kind(children.into_iter().map(|c| *c).collect()),
        span,
    })
}

#[inline(never)]
fn not_node(start: usize, child: Box<Expr>) -> Box<Expr> {
    let span = Span::local(start, child.span.end as usize);
    Box::new(Expr {
        kind: ExprKind::Not(child),
        span,
    })
}

#[cold]
#[inline(never)]
fn error_node(span: Span) -> Box<Expr> {
    Box::new(Expr {
        kind: ExprKind::Error,
        span,
    })
}

fn shorten(token: &str) -> String {
    if token.len() <= MAX_TOKEN_IN_MESSAGE {
        return token.to_owned();
    }
    let mut end = MAX_TOKEN_IN_MESSAGE;
    while !token.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &token[..end])
}

fn cmp_op_from(op: &str) -> CmpOp {
    CmpOp::parse(op).unwrap_or_else(|| unreachable!("operator tables and CmpOp disagree on {op}"))
}

fn modifier_from(m: &str) -> Modifier {
    Modifier::parse(m)
        .unwrap_or_else(|| unreachable!("modifier tables and Modifier disagree on {m}"))
}
