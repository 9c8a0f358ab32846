//! The Falco rules language, independent of I/O: it takes text and returns values.
//!
//! Stages follow Falco's own: [`syntax`] (condition parser) → [`loader`] (YAML items →
//! append/override/exceptions → lists and macros) → [`compile`] (typed against [`fields`]) →
//! [`eval`]; plus [`output`] formatting and the [`lint`] rules. See `ARCHITECTURE.md`.

pub mod compile;
pub mod diagnostic;
pub mod eval;
pub mod event;
pub mod fields;
pub mod fix;
pub mod lint;
pub mod loader;
pub mod output;
pub mod rule;
pub mod span;
pub mod stop;
pub mod syntax;

/// The Falco engine version this implementation follows (`required_engine_version` checks).
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 63, 0);
