//! The condition language: AST, parser and canonical rendering.
//!
//! [`parse`] never fails: it returns the tree (with [`ast::ExprKind::Error`] /
//! [`ast::Rhs::Missing`] where it recovered) and every syntax error, each with its byte span in
//! the parsed text. It accepts exactly what libs' `filter/parser.cpp` accepts, and its first
//! error is the one libs would throw.

pub mod ast;
mod escape;
mod lexer;
mod parser;
pub mod render;
mod visit;

pub use escape::quoted;
pub use parser::DEFAULT_MAX_DEPTH;

use ast::{Expr, Parsed};

/// Parses a rule condition with Falco's depth limit for rule conditions ([`DEFAULT_MAX_DEPTH`]).
pub fn parse(text: &str) -> Parsed<Expr> {
    parse_with_max_depth(text, DEFAULT_MAX_DEPTH)
}

/// Parses with a given nesting limit (libs' own default is 100); limits above
/// [`DEFAULT_MAX_DEPTH`] are lowered to it. The limit bounds the parser's recursion: past it the
/// parse stops with "exceeded max depth limit of N".
pub fn parse_with_max_depth(text: &str, max_depth: u32) -> Parsed<Expr> {
    parser::Parser::new(text, max_depth).parse()
}

/// One output-format token: a field or transformer at the start of `text`, and its length.
pub(crate) fn field_or_transformer(text: &str) -> Option<(ast::Operand, usize)> {
    parser::Parser::new(text, DEFAULT_MAX_DEPTH).field_or_transformer()
}

#[cfg(test)]
mod tests;
