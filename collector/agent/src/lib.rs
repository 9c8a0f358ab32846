//! The collector agent: loads the eBPF program, keeps process and fd tables, streams events.
//!
//! Data flow: kernel ring buffer → [`capture`] (record → [`convert`] → interchange JSON line, on
//! its own thread) → [`deliver`] (stdout / record file / batches to the server, through the
//! [`spool`] when the server is away). [`run`] wires them; the `rulestudio-collector` binary
//! and `rulestudio serve --collector` both call it. In fleet mode (`--nats`) [`fleet::run`]
//! keeps the events in the node's own store instead and talks to the studio over NATS.

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[allow(unsafe_code)]
pub mod capture;
pub mod container;
#[allow(unsafe_code)]
pub mod convert;
pub mod cri;
pub mod deliver;
pub mod enforce;
pub mod fleet;
#[allow(unsafe_code)]
pub mod kernel;
pub mod privilege;
pub mod process;
#[allow(unsafe_code)]
pub mod record;
pub mod redact;
pub mod render;
pub mod spool;
pub mod stats;
pub mod syscalls;
pub mod threads;

pub use deliver::{Config, Error, Summary, run};
pub use kernel::KernelConfig;
