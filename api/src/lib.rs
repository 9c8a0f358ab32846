//! The JSON shapes of Rulestudio's interfaces: the CLI's `--format json` output and the REST API.
//! The server, the CLI and the frontend import them from here; none defines its own copy.
//! Engine types are deliberately not `Serialize`: conversion happens here, at the boundary.

pub mod cli;
pub mod collector;
pub mod diagnostic;
