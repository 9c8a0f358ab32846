//! The Falco rules language, independent of I/O: it takes text and returns values.
//!
//! Stages follow Falco's own: [`syntax`] (condition parser) → [`loader`] (YAML items →
//! append/override/exceptions → lists and macros) → [`compile`] (typed against [`fields`]) →
//! [`eval`]; plus [`output`] formatting and the [`lint`] rules. See `ARCHITECTURE.md`.

#![forbid(unsafe_code)]
// A load error is a `Diagnostic`, the loader's product rather than a rare failure: boxing it
// would add an allocation per reported problem and a deref at every reader, for no gain.
#![allow(clippy::result_large_err)]
// Matchers and tests are kept inline: evaluation walks them for every event, and a boxed
// variant would add a pointer chase to the hot path (see the eval benches).
#![allow(clippy::large_enum_variant)]

pub mod compile;
pub mod diagnostic;
pub mod eval;
pub mod event;
pub mod fields;
pub mod fix;
pub mod lint;
pub mod loader;
mod messages;
pub mod output;
pub mod rule;
pub mod span;
pub mod stop;
pub mod syntax;

/// Bumped whenever this engine's verdicts change on purpose (a rule that loaded may stop
/// loading, or match differently): 1 = libsinsp field arguments, values and derived fields
/// (issue #21). The server stores it with each live-set version and, at start, reports what the
/// current engine judges differently in a version stored by an earlier revision.
pub const VERDICT_REVISION: i64 = 1;

/// The Falco engine version this implementation follows (`required_engine_version` checks).
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 63, 0);
