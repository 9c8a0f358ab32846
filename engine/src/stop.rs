//! Asking long work to stop. The engine has no clock (none on wasm) and does no I/O, so the
//! caller decides when to stop (a deadline passed, its client left) and the engine asks between
//! items, each of which the studio limits keep small.

/// The work stopped because its caller asked it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped at the caller's request")]
pub struct Stopped;

/// Whether to stop, asked between items of long work.
#[derive(Clone, Copy)]
pub struct StopCheck<'a>(&'a (dyn Fn() -> bool + Sync));

fn never() -> bool {
    false
}

impl<'a> StopCheck<'a> {
    /// Work that runs to its end.
    pub const NEVER: StopCheck<'static> = StopCheck(&never);

    /// Stops when `stop` says so.
    pub fn new(stop: &'a (dyn Fn() -> bool + Sync)) -> Self {
        StopCheck(stop)
    }

    pub fn check(&self) -> Result<(), Stopped> {
        if (self.0)() { Err(Stopped) } else { Ok(()) }
    }
}
