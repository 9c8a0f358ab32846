//! The node-local kill switch: while `<state-dir>/enforcement-disabled` exists, enforce rules
//! act as dry run. Verdicts check it as they come; the kernel's exec stops, which need no
//! verdict, follow it through a flag a watcher thread keeps (every [`POLL`]).

use aya::maps::{Array, MapData};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const POLL: Duration = Duration::from_millis(250);

pub struct Switch {
    /// `--enforce-dry-run`: never on.
    dry_run: bool,
    file: Option<PathBuf>,
    /// `exec_stops_on[0]` in the kernel.
    kernel_flag: Mutex<Array<MapData, u32>>,
}

impl Switch {
    pub fn new(dry_run: bool, file: Option<PathBuf>, kernel_flag: Array<MapData, u32>) -> Switch {
        let s = Switch {
            dry_run,
            file,
            kernel_flag: Mutex::new(kernel_flag),
        };
        s.sync();
        s
    }

    /// Whether the node acts now (not dry run, the switch file absent); the kernel's flag is
    /// set to match.
    pub fn sync(&self) -> bool {
        let on = !self.dry_run && !self.file.as_ref().is_some_and(|f| f.exists());
        let mut flag = self.kernel_flag.lock().unwrap_or_else(|e| e.into_inner());
        if flag.get(&0, 0).ok() != Some(u32::from(on))
            && let Err(e) = flag.set(0, u32::from(on), 0)
        {
            tracing::error!("enforcement switch: cannot set the kernel's flag: {e}");
        }
        on
    }
}

/// Keeps the kernel's flag in step with the switch until dropped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    pub fn start(switch: Arc<Switch>) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rs-enforce-switch".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    switch.sync();
                    std::thread::park_timeout(POLL);
                }
            })
            .expect("spawning the enforcement switch watcher");
        Watcher {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
