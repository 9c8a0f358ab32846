//! Test support shared by the conformance runners: reading case files, and a small condition
//! reader used until the real parser (`syntax::parse`) is merged into this branch.

#![allow(dead_code)]

pub mod cases;
pub mod mini_parser;
