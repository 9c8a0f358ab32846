//! A tolerant scan of one condition into its checks (`field op value`), for the lints.
//!
//! This is deliberately not the parser: the lints must explain conditions that are not Falco
//! (`x !in (…)`, `Tập.path !~ "…"`, `# comments`), so the scan accepts those as what their
//! authors meant, never fails, and skips what it does not understand. Falco's verdict on the
//! condition still comes from the real parser in the loader; the scan only feeds the lints.

use crate::syntax::ast::CmpOp;
use std::ops::Range;

/// The operator of a check, including the foreign ones the article's dialect uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Cmp(CmpOp),
    Exists,
    /// `!~` (awk/Perl "does not match").
    NotMatch,
    /// `=~` (awk/Perl "matches").
    Match,
    /// `!in`.
    NotIn,
}

/// A field reference as written, `name` or `name[arg]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldTok {
    pub name: String,
    pub arg: Option<String>,
    pub name_span: Range<usize>,
    pub span: Range<usize>,
}

/// A constant: `text` is the decoded value, `span` covers it as written (quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lit {
    pub text: String,
    pub quoted: bool,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rhs {
    Value(Lit),
    List {
        items: Vec<Lit>,
        span: Range<usize>,
    },
    /// A transformer or `val()`.
    Other(Range<usize>),
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connector {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    /// The left-hand side when it is a plain field (not a transformer).
    pub field: Option<FieldTok>,
    pub op: Op,
    pub op_span: Range<usize>,
    pub modifier: bool,
    pub rhs: Rhs,
    /// From the left-hand side to the end of the right-hand side.
    pub span: Range<usize>,
    /// A `not` written directly before the check.
    pub not: Option<Range<usize>>,
    /// The `and`/`or` joining this check to its neighbours at the same nesting level.
    pub before: Option<Connector>,
    pub after: Option<Connector>,
}

impl Check {
    /// The constants on the right-hand side: the one value, or the list's items.
    pub fn values(&self) -> &[Lit] {
        match &self.rhs {
            Rhs::Value(v) => std::slice::from_ref(v),
            Rhs::List { items, .. } => items,
            Rhs::Other(_) | Rhs::Missing => &[],
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    pub checks: Vec<Check>,
    /// Every field reference, also inside transformers and `val()`.
    pub fields: Vec<FieldTok>,
    /// `#` comments, from the `#` to the end of the line it was written on.
    pub comments: Vec<Range<usize>>,
}

impl Scan {
    /// The check whose left-hand side is `f`, when `f` is one.
    pub fn check_of(&self, f: &FieldTok) -> Option<&Check> {
        self.checks.iter().find(|c| c.field.as_ref() == Some(f))
    }
}

const TRANSFORMERS: &[&str] = &[
    "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt", "val",
];

/// Scans `text`; `line_end(at)` gives where the source line holding offset `at` ends.
pub(crate) fn scan(text: &str, line_end: &dyn Fn(usize) -> usize) -> Scan {
    let mut s = Scanner {
        t: text,
        pos: 0,
        out: Scan::default(),
        line_end,
        before: None,
        not: None,
    };
    s.run();
    s.out
}

struct Scanner<'a> {
    t: &'a str,
    pos: usize,
    out: Scan,
    line_end: &'a dyn Fn(usize) -> usize,
    /// The connector since the last operand, for the next check's `before`.
    before: Option<Connector>,
    not: Option<Range<usize>>,
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !"()\"',=<>!#[]".contains(c)
}

fn is_bare_char(c: char) -> bool {
    !c.is_whitespace() && !"()\"',=".contains(c)
}

impl Scanner<'_> {
    fn run(&mut self) {
        let mut expect_operand = true;
        while let Some(c) = self.skip_ws() {
            if c == '#' {
                self.comment();
                continue;
            }
            if expect_operand {
                expect_operand = self.operand(c);
            } else {
                expect_operand = self.connector(c);
            }
        }
    }

    fn rest(&self) -> &str {
        &self.t[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) -> Option<char> {
        let trimmed = self.rest().trim_start();
        self.pos = self.t.len() - trimmed.len();
        self.peek()
    }

    fn bump(&mut self) {
        self.pos += self.peek().map_or(0, char::len_utf8);
    }

    /// The run of characters at the cursor that satisfy `f`, without moving.
    fn peek_run(&self, f: fn(char) -> bool) -> Range<usize> {
        let len = self.rest().find(|c| !f(c)).unwrap_or(self.rest().len());
        self.pos..self.pos + len
    }

    fn comment(&mut self) {
        let end = (self.line_end)(self.pos)
            .max(self.pos + 1)
            .min(self.t.len());
        self.out.comments.push(self.pos..end);
        self.pos = end;
    }

    /// A keyword is a whole word followed by a blank, `(` or the end.
    fn keyword_at(&self, word: &str) -> bool {
        self.rest()
            .strip_prefix(word)
            .is_some_and(|r| r.is_empty() || r.starts_with(|c: char| c.is_whitespace() || c == '('))
    }

    /// Returns whether an operand is still expected.
    fn operand(&mut self, c: char) -> bool {
        match c {
            '(' => {
                self.bump();
                self.before = None;
                true
            }
            ')' => {
                self.bump();
                false
            }
            _ if self.keyword_at("not") => {
                self.not = Some(self.pos..self.pos + 3);
                self.pos += 3;
                true
            }
            _ if self.keyword_at("and") || self.keyword_at("or") => {
                self.connector(c);
                true
            }
            _ => {
                let start = self.pos;
                let word = self.peek_run(is_word_char);
                if word.is_empty() {
                    self.bump();
                    return true;
                }
                let text = &self.t[word.clone()];
                let field = if TRANSFORMERS.contains(&text) && self.t[word.end..].starts_with('(') {
                    self.pos = word.end;
                    self.balanced();
                    None
                } else {
                    self.pos = word.end;
                    let field = self.field_arg(word);
                    if !field.name.contains('.') && !self.operator_follows() {
                        // A macro reference.
                        self.not = None;
                        self.before = None;
                        return false;
                    }
                    self.out.fields.push(field.clone());
                    Some(field)
                };
                self.check(start, field);
                false
            }
        }
    }

    fn connector(&mut self, c: char) -> bool {
        let conn = if self.keyword_at("and") {
            Some((Connector::And, 3))
        } else if self.keyword_at("or") {
            Some((Connector::Or, 2))
        } else {
            None
        };
        match conn {
            Some((conn, len)) => {
                if let Some(last) = self
                    .out
                    .checks
                    .last_mut()
                    .filter(|l| self.t[l.span.end..self.pos].trim().is_empty())
                {
                    last.after = Some(conn);
                }
                self.before = Some(conn);
                self.pos += len;
                true
            }
            None if c == ')' => {
                self.bump();
                false
            }
            None => {
                // Junk after an operand: skip a word (or one character) and keep going.
                let run = self.peek_run(is_bare_char);
                if run.is_empty() {
                    self.bump()
                } else {
                    self.pos = run.end
                }
                false
            }
        }
    }

    /// `name` (already consumed as `word`) plus an optional `[arg]`.
    fn field_arg(&mut self, word: Range<usize>) -> FieldTok {
        let name = self.t[word.clone()].to_owned();
        let mut arg = None;
        if self.rest().starts_with('[')
            && let Some(close) = self.rest().find(']')
        {
            arg = Some(self.rest()[1..close].trim_matches(['"', '\'']).to_owned());
            self.pos += close + 1;
        }
        FieldTok {
            name,
            arg,
            name_span: word.clone(),
            span: word.start..self.pos,
        }
    }

    /// Skips a parenthesised run starting at `(`, recording the field references inside.
    fn balanced(&mut self) -> Range<usize> {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.bump();
                        break;
                    }
                }
                '"' | '\'' => {
                    self.quoted(c);
                    continue;
                }
                _ if is_word_char(c) => {
                    let run = self.peek_run(is_word_char);
                    self.pos = run.end;
                    let text = &self.t[run.clone()];
                    if text.contains('.') && !text.starts_with(|c: char| c.is_ascii_digit()) {
                        let f = self.field_arg(run);
                        self.out.fields.push(f);
                    }
                    continue;
                }
                _ => {}
            }
            self.bump();
        }
        start..self.pos
    }

    fn operator_follows(&self) -> bool {
        let rest = self.rest().trim_start();
        rest.starts_with(['=', '!', '<', '>'])
            || OPERATOR_WORDS.iter().any(|(w, _)| {
                rest.strip_prefix(w)
                    .is_some_and(|r| r.starts_with(|c: char| c.is_whitespace() || c == '('))
            })
    }

    fn check(&mut self, start: usize, field: Option<FieldTok>) {
        self.skip_ws();
        let Some((op, op_span)) = self.operator() else {
            self.not = None;
            return;
        };
        let mut modifier = false;
        let rhs = if op == Op::Exists {
            Rhs::Missing
        } else {
            self.skip_ws();
            for m in ["oneof", "anyof", "allof"] {
                if self.keyword_at(m) {
                    modifier = true;
                    self.pos += m.len();
                    self.skip_ws();
                }
            }
            self.rhs()
        };
        let end = match &rhs {
            Rhs::Missing => op_span.end,
            _ => self.pos,
        };
        let before = self.before.take();
        self.out.checks.push(Check {
            field,
            op,
            op_span,
            modifier,
            rhs,
            span: start..end,
            not: self.not.take(),
            before,
            after: None,
        });
    }

    fn operator(&mut self) -> Option<(Op, Range<usize>)> {
        const SYMBOLS: &[(&str, Op)] = &[
            ("==", Op::Cmp(CmpOp::EqEq)),
            ("=~", Op::Match),
            ("=", Op::Cmp(CmpOp::Eq)),
            ("!=", Op::Cmp(CmpOp::Ne)),
            ("!~", Op::NotMatch),
            ("<=", Op::Cmp(CmpOp::Le)),
            ("<", Op::Cmp(CmpOp::Lt)),
            (">=", Op::Cmp(CmpOp::Ge)),
            (">", Op::Cmp(CmpOp::Gt)),
        ];
        let start = self.pos;
        let rest = self.rest();
        if rest
            .strip_prefix("!in")
            .is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        {
            self.pos += 3;
            return Some((Op::NotIn, start..self.pos));
        }
        if let Some((sym, op)) = SYMBOLS.iter().find(|(s, _)| rest.starts_with(s)) {
            self.pos += sym.len();
            return Some((*op, start..self.pos));
        }
        let word = self.peek_run(|c| c.is_ascii_alphabetic());
        let op = OPERATOR_WORDS
            .iter()
            .find(|(w, _)| *w == &self.t[word.clone()])?
            .1;
        self.pos = word.end;
        Some((op, start..self.pos))
    }

    fn rhs(&mut self) -> Rhs {
        match self.peek() {
            None => Rhs::Missing,
            Some('(') => {
                let start = self.pos;
                self.bump();
                let mut items = Vec::new();
                while let Some(c) = self.skip_ws() {
                    match c {
                        ')' => {
                            self.bump();
                            break;
                        }
                        ',' => self.bump(),
                        '"' | '\'' => items.push(self.quoted(c)),
                        _ => {
                            let run = self.peek_run(is_bare_char);
                            if run.is_empty() {
                                break;
                            }
                            self.pos = run.end;
                            items.push(Lit {
                                text: self.t[run.clone()].to_owned(),
                                quoted: false,
                                span: run,
                            });
                        }
                    }
                }
                Rhs::List {
                    items,
                    span: start..self.pos,
                }
            }
            Some(c @ ('"' | '\'')) => Rhs::Value(self.quoted(c)),
            Some(_) => {
                let run = self.peek_run(is_bare_char);
                if run.is_empty() {
                    return Rhs::Missing;
                }
                let text = &self.t[run.clone()];
                if TRANSFORMERS.contains(&text) && self.t[run.end..].starts_with('(') {
                    let start = self.pos;
                    self.pos = run.end;
                    self.balanced();
                    return Rhs::Other(start..self.pos);
                }
                self.pos = run.end;
                Rhs::Value(Lit {
                    text: text.to_owned(),
                    quoted: false,
                    span: run,
                })
            }
        }
    }

    /// A quoted string starting at the quote `q`, decoded with Falco's escapes.
    fn quoted(&mut self, q: char) -> Lit {
        let start = self.pos;
        self.bump();
        let mut text = String::new();
        let mut chars = self.rest().char_indices();
        let mut end = self.t.len();
        while let Some((i, c)) = chars.next() {
            if c == q {
                end = self.pos + i + 1;
                break;
            }
            if c != '\\' {
                text.push(c);
                continue;
            }
            match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, 'r')) => text.push('\r'),
                Some((_, e @ ('\\' | '/' | '"' | '\''))) => text.push(e),
                Some((_, other)) => {
                    text.push('\\');
                    text.push(other);
                }
                None => text.push('\\'),
            }
        }
        self.pos = end;
        Lit {
            text,
            quoted: true,
            span: start..end,
        }
    }
}

const OPERATOR_WORDS: &[(&str, Op)] = &[
    ("contains", Op::Cmp(CmpOp::Contains)),
    ("icontains", Op::Cmp(CmpOp::IContains)),
    ("bcontains", Op::Cmp(CmpOp::BContains)),
    ("startswith", Op::Cmp(CmpOp::StartsWith)),
    ("bstartswith", Op::Cmp(CmpOp::BStartsWith)),
    ("endswith", Op::Cmp(CmpOp::EndsWith)),
    ("glob", Op::Cmp(CmpOp::Glob)),
    ("iglob", Op::Cmp(CmpOp::IGlob)),
    ("regex", Op::Cmp(CmpOp::Regex)),
    ("in", Op::Cmp(CmpOp::In)),
    ("intersects", Op::Cmp(CmpOp::Intersects)),
    ("pmatch", Op::Cmp(CmpOp::PMatch)),
    ("exists", Op::Exists),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_line(text: &str) -> Scan {
        scan(text, &|at| {
            text[at..].find('\n').map_or(text.len(), |i| at + i)
        })
    }

    #[test]
    fn dialect_checks_are_understood() {
        let text = "container and Tập.remote_port !in (80, 443) and # allow web\n Tập.path !~ \"^(/a/|/b/)\"";
        let s = scan_line(text);
        assert_eq!(s.checks.len(), 2);
        let a = &s.checks[0];
        assert_eq!(a.field.as_ref().unwrap().name, "Tập.remote_port");
        assert_eq!(a.op, Op::NotIn);
        assert_eq!(
            a.values()
                .iter()
                .map(|v| v.text.as_str())
                .collect::<Vec<_>>(),
            ["80", "443"]
        );
        assert_eq!(
            (a.before, a.after),
            (Some(Connector::And), Some(Connector::And))
        );
        assert_eq!(&text[s.comments[0].clone()], "# allow web");
        let b = &s.checks[1];
        assert_eq!(b.op, Op::NotMatch);
        assert_eq!(b.values()[0].text, "^(/a/|/b/)");
    }

    #[test]
    fn falco_syntax_scans_like_the_parser() {
        let s = scan_line(
            "not proc.aname[2]!=sshd and (tolower(proc.name) = x or fd.name in(a,'b c')) and evt.arg.flags exists",
        );
        let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["proc.aname", "proc.name", "fd.name", "evt.arg.flags"]
        );
        assert_eq!(s.checks.len(), 4);
        assert!(s.checks[0].not.is_some());
        assert_eq!(
            s.checks[0].field.as_ref().unwrap().arg.as_deref(),
            Some("2")
        );
        assert!(s.checks[1].field.is_none());
        assert_eq!(s.checks[1].after, Some(Connector::Or));
        assert_eq!(s.checks[2].values()[1].text, "b c");
        assert_eq!(s.checks[3].op, Op::Exists);
    }

    #[test]
    fn junk_never_stops_the_scan() {
        for text in [
            "",
            "(((",
            "a.b = ",
            "a.b in (",
            "'unterminated",
            "x.y = \"a\\",
            ") and or not",
            "Tập",
        ] {
            let _ = scan_line(text);
        }
    }
}
