//! The condition language: AST, parser and canonical rendering.

pub mod ast;
