//! The collector agent: loads the eBPF program, keeps process and fd tables, streams events.
//!
//! Data flow: kernel ring buffer → [`capture`] (record → [`convert`] → interchange JSON line, on
//! its own thread) → [`deliver`] (stdout / record file / batches to the server, through the
//! [`spool`] when the server is away). [`run`] wires them; the `rulestudio-collector` binary
//! and `rulestudio serve --collector` both call it.

pub mod capture;
pub mod container;
pub mod convert;
pub mod cri;
pub mod deliver;
pub mod kernel;
pub mod privilege;
pub mod process;
pub mod record;
pub mod render;
pub mod spool;
pub mod stats;
pub mod syscalls;

pub use deliver::{Config, Error, Summary, run};
pub use kernel::KernelConfig;
