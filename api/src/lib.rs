//! The JSON shapes of Rulestudio's interfaces: the CLI's `--format json` output and the REST API.
//! The server, the CLI and the frontend import them from here; none defines its own copy.
//! Engine types are deliberately not `Serialize`: conversion happens here, at the boundary.

#![forbid(unsafe_code)]

pub mod action;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
pub mod collector;
pub mod diagnostic;
#[cfg(feature = "openapi")]
pub mod doc;
pub mod error;
pub mod events;
pub mod fleet;
pub mod live;
pub mod preview;
pub mod proposals;
pub mod protocol;
pub mod query;
pub mod routes;
pub mod ruletest;
pub mod time;
