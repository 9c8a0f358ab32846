//! Test support shared by the conformance runners: reading case files.

#![allow(dead_code)]

pub mod cases;
