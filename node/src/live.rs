//! The live set a node evaluates: one compiled version, replaced whole, and the error of the
//! newest version it saw but could not compile.

use rulestudio_api::live::LiveSet;
use rulestudio_engine::eval::RuleSet;
use rulestudio_engine::loader::{self, LoadOptions};
use rulestudio_engine::rule::Matching;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::watch;

/// The engine version a node compiles with, as heartbeats report it (Falco's engine version
/// that this engine follows).
pub fn engine_version() -> String {
    let (major, minor, patch) = rulestudio_engine::ENGINE_VERSION;
    format!("{major}.{minor}.{patch}")
}

/// One live version, compiled.
pub struct LiveRules {
    pub set: LiveSet,
    pub ruleset: RuleSet,
    pub matching: Matching,
}

/// Why a version does not compile on this node: its first errors, each with its item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("live set version {version} does not compile with engine {engine}: {errors}")]
pub struct CompileError {
    pub version: i64,
    pub engine: String,
    pub errors: String,
}

/// How many errors a [`CompileError`] names (the rest are counted).
const ERRORS_NAMED: usize = 3;

/// Compiles `set` as this node's engine does; any error refuses the whole version (a node
/// never runs part of a live set).
pub fn compile(set: LiveSet) -> Result<LiveRules, CompileError> {
    let sources = rulestudio_api::live::source_files(&set.files);
    let loaded = loader::load(&sources, &LoadOptions::default());
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let file = d
                .span
                .and_then(|s| set.files.get(s.file.0 as usize))
                .map_or("", |f| f.name.as_str());
            match (&d.item_kind, &d.item_name) {
                (Some(kind), Some(name)) => format!(
                    "{file}: {} '{name}': {} {}",
                    kind.as_str(),
                    d.code,
                    d.message
                ),
                _ => format!("{file}: {} {}", d.code, d.message),
            }
        })
        .collect();
    if !errors.is_empty() {
        let mut text = errors[..errors.len().min(ERRORS_NAMED)].join("; ");
        if errors.len() > ERRORS_NAMED {
            text.push_str(&format!(" (and {} more)", errors.len() - ERRORS_NAMED));
        }
        return Err(CompileError {
            version: set.version,
            engine: engine_version(),
            errors: text,
        });
    }
    Ok(LiveRules {
        matching: set.rule_matching.into(),
        ruleset: loaded.ruleset,
        set,
    })
}

/// What a node's heartbeat says of its live set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The version it evaluates; `None` before it has one.
    pub live_version: Option<i64>,
    /// Why the newest version it saw does not compile here (it keeps evaluating
    /// `live_version`); `None` when it runs the newest.
    pub compile_error: Option<String>,
}

/// The node's live set, shared by the follower (which installs versions) and the evaluator
/// (which takes the current one per batch of events).
pub struct Live {
    current: RwLock<Option<Arc<LiveRules>>>,
    compile_error: Mutex<Option<CompileError>>,
    /// Bumped on every change of the report, so a heartbeat goes out at once.
    changed: watch::Sender<u64>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            current: RwLock::new(None),
            compile_error: Mutex::new(None),
            changed: watch::Sender::new(0),
        }
    }
}

impl Live {
    /// The version to evaluate with, whole.
    pub fn current(&self) -> Option<Arc<LiveRules>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Makes `rules` current and clears any compile error (the newest version runs).
    pub fn install(&self, rules: LiveRules) {
        let version = rules.set.version;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(rules));
        *self.compile_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
        tracing::info!("live set version {version} active");
        self.changed.send_modify(|n| *n += 1);
    }

    /// Records that a newer version does not compile; the current one stays.
    pub fn refuse(&self, error: CompileError) {
        tracing::warn!(
            keeping = ?self.current().map(|r| r.set.version),
            "{error}"
        );
        *self.compile_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
        self.changed.send_modify(|n| *n += 1);
    }

    pub fn report(&self) -> Report {
        Report {
            live_version: self.current().map(|r| r.set.version),
            compile_error: self
                .compile_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .map(ToString::to_string),
        }
    }

    /// Changes whenever [`Live::report`] does.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
