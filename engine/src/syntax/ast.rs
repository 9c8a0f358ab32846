//! The condition syntax tree. Every node has a [`Span`]; the parser produces spans into the text
//! it was given and the loader remaps them into the rules file ([`Expr::map_spans`]).

use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// n-ary, at least two operands.
    And(Vec<Expr>),
    /// n-ary, at least two operands.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A bare identifier: a macro reference, resolved by the loader.
    Macro(String),
    /// `lhs exists`.
    Exists(Operand),
    /// `lhs op rhs`, `lhs op modifier (list)`.
    Compare {
        lhs: Operand,
        op: Spanned<CmpOp>,
        modifier: Option<Spanned<Modifier>>,
        rhs: Rhs,
    },
    /// Where the parser recovered from a syntax error; the error is in `Parsed::errors`.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    /// `==`, kept apart from `=` only to render the source faithfully.
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
}

impl CmpOp {
    pub const ALL: [CmpOp; 19] = [
        CmpOp::Eq,
        CmpOp::EqEq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Contains,
        CmpOp::IContains,
        CmpOp::BContains,
        CmpOp::StartsWith,
        CmpOp::BStartsWith,
        CmpOp::EndsWith,
        CmpOp::Glob,
        CmpOp::IGlob,
        CmpOp::Regex,
        CmpOp::In,
        CmpOp::Intersects,
        CmpOp::PMatch,
    ];

    /// The operator spelled `text` (exactly, as [`CmpOp::as_str`] writes it).
    pub fn parse(text: &str) -> Option<CmpOp> {
        CmpOp::ALL.into_iter().find(|op| op.as_str() == text)
    }

    /// Whether `oneof`/`anyof`/`allof` may follow it (libs `cmpop_supports_modifier`).
    pub fn takes_modifier(self) -> bool {
        !self.is_list_op() && !matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::EqEq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Contains => "contains",
            CmpOp::IContains => "icontains",
            CmpOp::BContains => "bcontains",
            CmpOp::StartsWith => "startswith",
            CmpOp::BStartsWith => "bstartswith",
            CmpOp::EndsWith => "endswith",
            CmpOp::Glob => "glob",
            CmpOp::IGlob => "iglob",
            CmpOp::Regex => "regex",
            CmpOp::In => "in",
            CmpOp::Intersects => "intersects",
            CmpOp::PMatch => "pmatch",
        }
    }

    /// Operators whose right-hand side is a list.
    pub fn is_list_op(self) -> bool {
        matches!(self, CmpOp::In | CmpOp::Intersects | CmpOp::PMatch)
    }
}

/// `oneof` / `anyof` / `allof` after a string operator (libs >= 0.25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    OneOf,
    AnyOf,
    AllOf,
}

impl Modifier {
    pub const ALL: [Modifier; 3] = [Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf];

    pub fn parse(text: &str) -> Option<Modifier> {
        Modifier::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }
}

/// The left-hand side of a check, or a field inside a transformer or `val()`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Field(FieldRef),
    Transformer(Transformer),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Field(f) => f.span,
            Operand::Transformer(t) => t.span,
        }
    }
}

/// `name` or `name[arg]` as written; not yet resolved against the field table.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    /// The field token as written, e.g. `evt.arg.flags` or `proc.aname`.
    pub name: String,
    /// The bracketed argument, unquoted; `Some("")` for `field[""]`.
    pub arg: Option<String>,
    /// The whole reference, argument included.
    pub span: Span,
    /// Just the name token.
    pub name_span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransformerKind {
    ToLower,
    ToUpper,
    B64,
    Basename,
    Len,
    Join,
    Concat,
    Getopt,
}

impl TransformerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransformerKind::ToLower => "tolower",
            TransformerKind::ToUpper => "toupper",
            TransformerKind::B64 => "b64",
            TransformerKind::Basename => "basename",
            TransformerKind::Len => "len",
            TransformerKind::Join => "join",
            TransformerKind::Concat => "concat",
            TransformerKind::Getopt => "getopt",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "tolower" => TransformerKind::ToLower,
            "toupper" => TransformerKind::ToUpper,
            "b64" => TransformerKind::B64,
            "basename" => TransformerKind::Basename,
            "len" => TransformerKind::Len,
            "join" => TransformerKind::Join,
            "concat" => TransformerKind::Concat,
            "getopt" => TransformerKind::Getopt,
            _ => return None,
        })
    }
}

/// `tolower(proc.name)`, `join(",", (a, b))`, `getopt(proc.args, "abc")[k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transformer {
    pub kind: TransformerKind,
    pub args: Vec<TransformerArg>,
    /// Trailing `[arg]` (only meaningful for `getopt`).
    pub arg: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransformerArg {
    Field(FieldRef),
    Transformer(Transformer),
    /// A quoted string or a number.
    Const(Literal),
    /// `( item, item, … )`.
    List(Vec<TransformerArg>, Span),
}

/// A constant as written: `text` is the decoded value (escapes resolved, quotes removed).
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A single constant (quoted, bare string or number).
    Value(Literal),
    /// `(a, b, c)`, or a bare identifier after a list operator (one item, `bare`): libs has a
    /// plain value there and renders it without parentheses. The flag (not the spans, which
    /// the loader maps onto text it synthesised, e.g. an exception's `(value)`) says which.
    List {
        items: Vec<Literal>,
        span: Span,
        bare: bool,
    },
    /// A transformer on the right-hand side: a field comparison.
    Transformer(Transformer),
    /// `val(field)`: compare with another field of the same event.
    Val(FieldRef, Span),
    /// Missing because of a syntax error (reported in `Parsed::errors`).
    Missing(Span),
}

impl Rhs {
    pub fn span(&self) -> Span {
        match self {
            Rhs::Value(l) => l.span,
            Rhs::List { span, .. } | Rhs::Val(_, span) | Rhs::Missing(span) => *span,
            Rhs::Transformer(t) => t.span,
        }
    }
}

/// A syntax error with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// Parsing never fails: the tree (with [`ExprKind::Error`] where it recovered) and every error.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub tree: T,
    pub errors: Vec<SyntaxError>,
}

impl<T> Parsed<T> {
    pub fn ok(self) -> Result<T, Vec<SyntaxError>> {
        if self.errors.is_empty() {
            Ok(self.tree)
        } else {
            Err(self.errors)
        }
    }
}
