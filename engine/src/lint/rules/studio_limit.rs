//! ## What it does
//! Reports a macro, list or rule whose condition crosses one of the studio's limits on what
//! loading builds: a condition more than 70 levels deep or with more than 5,000 nodes once
//! macros are inlined, longer than 60,000 bytes once lists are substituted, or rules that build
//! far more in all than their size warrants. The loader reports it (it is the one place that
//! sees the expansion); the item is an error and is not compiled.
//!
//! ## Why is this bad?
//! Falco has no such limits: a chain of macros each wrapping the last overflows its stack, and
//! lists naming lists grow a condition exponentially, so a few hundred bytes of rules can take
//! minutes and gigabytes. The limits are ten times what the official rulesets need, so real
//! rules never meet them; within them, the studio's verdict is Falco's.
//!
//! ## Example
//! ```yaml
//! - macro: m0
//!   condition: proc.name = a
//! - macro: m1
//!   condition: (m0 and proc.name = a)
//! # ... m2 to m100, each wrapping the last
//! - rule: r
//!   desc: d
//!   condition: m100
//!   output: o
//!   priority: Warning
//! ```
//!
//! ## Fix
//! Flatten the chain: a macro that lists what it tests (`proc.name in (a, b)`) instead of
//! wrapping another, and lists that name their items rather than other lists.
