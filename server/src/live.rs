//! The live rule set: versions in the database, the current one compiled in memory.
//!
//! **Invariant:** a version changes atomically. The database row and the in-memory snapshot are
//! replaced under one lock, and readers take an `Arc` of a whole snapshot, so no reader or
//! evaluator ever sees half of a version.

use crate::error::{AppError, Result};
use crate::time::now_ns;
use rulestudio_api::live::{EngineChange, LiveSet, RuleMatching, RulesFile};
use rulestudio_engine::loader::{self, LoadOptions, Loaded, SourceFile};
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::{Arc, RwLock};

/// One live version, compiled.
pub struct Snapshot {
    pub version: i64,
    pub files: Vec<RulesFile>,
    pub promoted_at: i64,
    pub promoted_by: String,
    pub proposal: Option<i64>,
    pub loaded: Loaded,
    /// What the engine judges differently in this version than the engine that stored it:
    /// found for the live set at start ([`Live::load`]), empty otherwise.
    pub engine_changes: Vec<EngineChange>,
}

impl Snapshot {
    pub fn to_api(&self, rule_matching: RuleMatching) -> LiveSet {
        LiveSet {
            version: self.version,
            files: self.files.clone(),
            rule_matching,
            promoted_at: self.promoted_at,
            promoted_by: self.promoted_by.clone(),
            proposal: self.proposal,
            engine_changes: self.engine_changes.clone(),
        }
    }

    pub fn sources(&self) -> Vec<SourceFile> {
        sources(&self.files)
    }
}

/// The longest reason a promotion or rollback may give (it is kept in the audit trail).
pub const MAX_REASON: usize = 1000;

/// Refuses a reason longer than [`MAX_REASON`] bytes.
pub fn check_reason(reason: &str) -> Result<()> {
    if reason.len() > MAX_REASON {
        return Err(AppError::BadRequest(format!(
            "`reason` is {} bytes long; at most {MAX_REASON}",
            reason.len()
        )));
    }
    Ok(())
}

/// An audit entry's details with the reason when one was given.
pub fn with_reason(mut details: serde_json::Value, reason: &str) -> serde_json::Value {
    if let (false, Some(map)) = (reason.is_empty(), details.as_object_mut()) {
        map.insert("reason".into(), reason.into());
    }
    details
}

pub use rulestudio_api::live::source_files as sources;

/// One rules file real Falco can load: the files in load order, concatenated.
pub fn rules_yaml(version: i64, files: &[RulesFile]) -> String {
    let mut out = format!(
        "# Rulestudio live set, version {version}: {} file(s) in load order.\n",
        files.len()
    );
    for f in files {
        out.push_str(&format!("\n# ---- {} ----\n", f.name));
        out.push_str(&f.content);
        if !f.content.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// A new version to store.
pub struct NewVersion<'a> {
    pub files: Vec<RulesFile>,
    pub by: &'a str,
    pub proposal: Option<i64>,
    pub note: String,
    /// Refuse with 409 unless the current version is this one (a proposal's base).
    pub expected_base: Option<i64>,
}

pub struct Live {
    current: RwLock<Arc<Snapshot>>,
    /// The current version number, for those who wait for the next (`GET /live?after=`).
    version: tokio::sync::watch::Sender<i64>,
    /// Set when the server stops, so that waiting polls answer at once instead of holding the
    /// stop until their wait is over.
    closing: tokio::sync::watch::Sender<bool>,
    /// Serialises version changes so that the database order and the in-memory order agree.
    change: tokio::sync::Mutex<()>,
}

impl Live {
    pub async fn load(db: &SqlitePool) -> anyhow::Result<Live> {
        let (version, stored_by): (i64, i64) = sqlx::query_as(
            "SELECT version, engine_revision FROM live_versions ORDER BY version DESC LIMIT 1",
        )
        .fetch_one(db)
        .await?;
        let mut snapshot = read_version(db, version)
            .await
            .map_err(|e| anyhow::anyhow!("live version {version}: {e}"))?;
        // Only a version stored by an engine whose verdicts differed has anything to report.
        if stored_by < rulestudio_engine::VERDICT_REVISION {
            snapshot.engine_changes = engine_changes(&snapshot.loaded);
        }
        for c in &snapshot.engine_changes {
            tracing::warn!(
                version,
                item_kind = %c.item_kind,
                item = %c.item_name,
                change = %c.change,
                detail = %c.detail,
                "live set judged differently by this engine (issue #21); kept as it is"
            );
        }
        Ok(Live {
            version: tokio::sync::watch::Sender::new(snapshot.version),
            closing: tokio::sync::watch::Sender::new(false),
            current: RwLock::new(Arc::new(snapshot)),
            change: tokio::sync::Mutex::new(()),
        })
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The current version once it is newer than `after`, or the current one when `wait` is
    /// over first (a long poll: a node learns of a promotion as soon as it is made).
    pub async fn newer_than(&self, after: i64, wait: std::time::Duration) -> Arc<Snapshot> {
        let mut versions = self.version.subscribe();
        let mut closing = self.closing.subscribe();
        let newer = async {
            tokio::select! {
                _ = versions.wait_for(|v| *v > after) => {}
                _ = closing.wait_for(|c| *c) => {}
            }
        };
        // Err: the wait is over; the answer is the current version either way.
        let _ = tokio::time::timeout(wait, newer).await;
        self.current()
    }

    /// The current version number, changing with each promotion or rollback (fleet mode
    /// publishes each).
    pub fn versions(&self) -> tokio::sync::watch::Receiver<i64> {
        self.version.subscribe()
    }

    /// Answers every waiting poll now and every later one at once: the server is stopping.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Version `version`, compiled: the current one as it is, an older one from the database.
    pub async fn version(&self, db: &SqlitePool, version: i64) -> Result<Arc<Snapshot>> {
        let current = self.current();
        if current.version == version {
            return Ok(current);
        }
        Ok(Arc::new(read_version(db, version).await?))
    }

    /// Stores `new` as the next version and makes it current. Used by rollback and by the
    /// promotion of proposals.
    pub async fn promote(&self, db: &SqlitePool, new: NewVersion<'_>) -> Result<Arc<Snapshot>> {
        self.promote_with(db, new, async |_, _| Ok(())).await
    }

    /// [`Live::promote`], running `also` (given the new version number) inside the version's
    /// transaction: what it writes commits with the version, and an error from it cancels both.
    pub async fn promote_with(
        &self,
        db: &SqlitePool,
        new: NewVersion<'_>,
        also: impl AsyncFnOnce(&mut SqliteConnection, i64) -> Result<()>,
    ) -> Result<Arc<Snapshot>> {
        let _guard = self.change.lock().await;
        let base = self.current().version;
        if let Some(expected) = new.expected_base
            && expected != base
        {
            return Err(AppError::Conflict(format!(
                "the live set moved from version {expected} to {base}; rebase first"
            )));
        }
        let loaded = compile(&new.files).await?;
        let version = base + 1;
        let promoted_at = now_ns();
        let mut tx = db.begin().await?;
        sqlx::query("INSERT INTO live_versions (version, promoted_at, promoted_by, proposal, note, engine_revision) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(version)
            .bind(promoted_at)
            .bind(new.by)
            .bind(new.proposal)
            .bind(&new.note)
            .bind(rulestudio_engine::VERDICT_REVISION)
            .execute(&mut *tx)
            .await?;
        for (position, f) in new.files.iter().enumerate() {
            sqlx::query(
                "INSERT INTO live_files (version, position, name, content) VALUES (?, ?, ?, ?)",
            )
            .bind(version)
            .bind(position as i64)
            .bind(&f.name)
            .bind(&f.content)
            .execute(&mut *tx)
            .await?;
        }
        also(&mut *tx, version).await?;
        tx.commit().await?;
        let snapshot = Arc::new(Snapshot {
            version,
            files: new.files,
            promoted_at,
            promoted_by: new.by.to_string(),
            proposal: new.proposal,
            loaded,
            engine_changes: Vec::new(),
        });
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = snapshot.clone();
        self.version.send_replace(version);
        tracing::info!(version, by = new.by, "live set changed");
        Ok(snapshot)
    }
}

/// Loads rules files off the async executor (the official ruleset takes milliseconds).
pub async fn compile(files: &[RulesFile]) -> Result<Loaded> {
    let sources = sources(files);
    let loaded =
        tokio::task::spawn_blocking(move || loader::load(&sources, &LoadOptions::default()))
            .await
            .map_err(anyhow::Error::from)?;
    Ok(loaded)
}

pub async fn read_files(db: &SqlitePool, version: i64) -> Result<Vec<RulesFile>> {
    let files: Vec<(String, String)> =
        sqlx::query_as("SELECT name, content FROM live_files WHERE version = ? ORDER BY position")
            .bind(version)
            .fetch_all(db)
            .await?;
    Ok(files
        .into_iter()
        .map(|(name, content)| RulesFile { name, content })
        .collect())
}

async fn read_version(db: &SqlitePool, version: i64) -> Result<Snapshot> {
    let (promoted_at, promoted_by, proposal): (i64, String, Option<i64>) = sqlx::query_as(
        "SELECT promoted_at, promoted_by, proposal FROM live_versions WHERE version = ?",
    )
    .bind(version)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("live version {version} does not exist")))?;
    let files = read_files(db, version).await?;
    let loaded = compile(&files).await?;
    Ok(Snapshot {
        version,
        files,
        promoted_at,
        promoted_by,
        proposal,
        loaded,
        engine_changes: Vec::new(),
    })
}

/// The items of a live set, stored by an earlier engine, that this engine judges differently
/// (issue #21): every error (a version is promoted only without lint errors, so an error in a
/// stored version is the engine's change: the item no longer loads), and every enabled
/// syscall rule that reads a field whose value changed. Nothing is dropped: the files stay.
fn engine_changes(loaded: &Loaded) -> Vec<EngineChange> {
    let mut out: Vec<EngineChange> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| EngineChange {
            item_kind: d
                .item_kind
                .map_or_else(|| "file".to_string(), |k| k.as_str().to_string()),
            item_name: d.item_name.clone().unwrap_or_default(),
            change: "no_longer_loads".into(),
            detail: d.message.clone(),
        })
        .collect();
    for rule in loaded
        .rules
        .iter()
        .filter(|r| r.enabled && r.source == "syscall")
    {
        let Some(expr) = rule
            .compiled_condition
            .as_deref()
            .and_then(|c| rulestudio_engine::syntax::parse(c).ok().ok())
        else {
            continue;
        };
        let changed = rulestudio_engine::eval::rederived_fields(&expr);
        if !changed.is_empty() {
            out.push(EngineChange {
                item_kind: "rule".into(),
                item_name: rule.name.clone(),
                change: "may_match_differently".into(),
                detail: changed
                    .iter()
                    .map(|(field, why)| format!("{field}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
    }
    out
}
