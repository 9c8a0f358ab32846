//! Team review: a proposal changes files of the live set; reviewers see its diff and evidence,
//! approve or request changes, and a reviewer promotes it when nothing blocks it.
//!
//! States: `open` ⇄ `approved` (recomputed from the reviews of the current revision), then
//! `promoted` or `closed`, both final. Every state change is written with its audit entry in
//! one transaction; each write re-checks, in that transaction, the revision it was decided on,
//! so that a concurrent revision, review or promotion is refused rather than lost.

mod changes;
pub mod evidence;
mod gate;
mod nodes;
mod store;

use crate::audit::{self, Entry};
use crate::auth::{Caller, Role};
use crate::error::{AppError, Result};
use crate::live::NewVersion;
use crate::state::AppState;
use crate::time::{self, now_ns};
use gate::{Facts, Tally};
use rulestudio_api::preview::Window;
use rulestudio_api::proposals::{
    Evidence, FileChange, NewComment, NewProposal, NewReview, Proposal, ProposalEvent, ProposalRef,
    ReviseProposal, Status, Verdict,
};
use rulestudio_api::ruletest::TestCase;
use serde_json::json;
use sqlx::SqliteConnection;
use store::NewRevision;

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 64 * 1024;
const MAX_TESTS: usize = 1000;

/// A proposal as the API shows it: its row, current revision, reviews, comments and blockers.
pub async fn get(state: &AppState, id: i64) -> Result<Proposal> {
    let row = store::row(&state.db, id).await?;
    assemble(state, row).await
}

pub async fn list(state: &AppState, status: Option<Status>, limit: u32) -> Result<Vec<Proposal>> {
    let mut out = Vec::new();
    for row in store::rows(&state.db, status, limit).await? {
        out.push(assemble(state, row).await?);
    }
    Ok(out)
}

async fn assemble(state: &AppState, mut p: Proposal) -> Result<Proposal> {
    let mut conn = state.db.acquire().await?;
    let rev = store::revision(&mut conn, p.id, p.revision).await?;
    p.reviews = store::reviews(&mut *conn, p.id).await?;
    p.comments = store::comments(&mut *conn, p.id).await?;
    let tally = gate::tally(&p.reviews, p.revision);
    p.required_approvals = state.config.required_approvals;
    let nodes_behind = match p.status.is_active() {
        true => {
            let required = p.evidence.required_engine_version.as_deref();
            nodes::cannot_compile(&state.db, required).await?
        }
        false => None,
    };
    p.blockers = gate::blockers(Facts {
        id: p.id,
        status: p.status,
        revision: p.revision,
        base_version: p.base_version,
        live_version: state.live.current().version,
        required: p.required_approvals,
        tally: &tally,
        lint_errors: evidence::lint_errors(&p.evidence.diagnostics).collect(),
        failed_tests: evidence::failed_tests(&p.evidence.tests).collect(),
        nodes_behind,
    })
    .reasons;
    p.approvals = tally.approvals;
    p.files = rev.files;
    p.tests = rev.tests;
    if let Some(v) = p.live_version {
        p.rolled_back = store::rolled_back(&mut conn, v).await?;
    }
    drop(conn);
    // Proposals stored before diffs carried hunks: computed again from their files.
    if p.diff.iter().any(|d| d.hunks.is_empty()) {
        let base = state.live.version(&state.db, p.base_version).await?;
        let files = p.files.clone();
        p.diff = blocking(move || changes::diff(&base.files, &files)).await?;
    }
    Ok(p)
}

/// Diffs and merges run off the async executor: they can take seconds on large files.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

fn check_text(title: &str, description: &str, tests: &[TestCase]) -> Result<()> {
    if title.trim().is_empty() || title.len() > MAX_TITLE {
        return Err(AppError::BadRequest(format!(
            "`title` must have 1 to {MAX_TITLE} characters"
        )));
    }
    if description.len() > MAX_TEXT {
        return Err(AppError::BadRequest(format!(
            "`description` is longer than {MAX_TEXT} bytes"
        )));
    }
    if tests.len() > MAX_TESTS {
        return Err(AppError::BadRequest(format!(
            "`tests` has {} entries; at most {MAX_TESTS}",
            tests.len()
        )));
    }
    Ok(())
}

/// The diff and the evidence of `changes` on live version `base_version`; refuses changes
/// that change nothing.
struct Prepared {
    diff: String,
    evidence: Evidence,
}

async fn prepare(
    state: &AppState,
    base_version: i64,
    changes: &[FileChange],
    tests: &[TestCase],
    window: Window,
) -> Result<Prepared> {
    changes::validate(changes)?;
    let base = state.live.version(&state.db, base_version).await?;
    let files = changes::apply(&base.files, changes)?;
    let diff = blocking({
        let (base, changes) = (base.clone(), changes.to_vec());
        move || changes::diff(&base.files, &changes)
    })
    .await?;
    if diff.is_empty() {
        return Err(AppError::BadRequest(format!(
            "the files are those of live version {base_version}: the proposal would change nothing"
        )));
    }
    let evidence = evidence::compute(state, base, files, tests.to_vec(), window).await?;
    Ok(Prepared {
        diff: store::to_json(&diff)?,
        evidence,
    })
}

pub async fn create(state: &AppState, caller: &Caller, req: NewProposal) -> Result<Proposal> {
    check_text(&req.title, &req.description, &req.tests)?;
    let base = state.live.current().version;
    let window = req.window.clone().unwrap_or_else(evidence::default_window);
    let p = prepare(state, base, &req.files, &req.tests, window).await?;
    let status = Tally::default().status(state.config.required_approvals);
    let at = now_ns();
    let mut tx = state.db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO proposals (title, description, author, status, revision, base_version, created_at, updated_at, diff, evidence)
         VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&req.title)
    .bind(&req.description)
    .bind(&caller.username)
    .bind(status.as_str())
    .bind(base)
    .bind(at)
    .bind(at)
    .bind(&p.diff)
    .bind(store::to_json(&p.evidence)?)
    .fetch_one(&mut *tx)
    .await?;
    store::insert_revision(
        &mut tx,
        NewRevision {
            id,
            revision: 1,
            base_version: base,
            author: &caller.username,
            note: "",
            files: &req.files,
            tests: &req.tests,
            at,
        },
    )
    .await?;
    let details = json!({"title": req.title, "base_version": base, "files": names(&req.files)});
    record(&mut tx, caller, "proposal.create", id, details).await?;
    tx.commit().await?;
    finish(state, caller, "proposal.created", id, |p| {
        format!("{} proposed #{} \"{}\"", caller.username, p.id, p.title)
    })
    .await
}

fn names(files: &[FileChange]) -> Vec<&str> {
    files.iter().map(|f| f.name.as_str()).collect()
}

/// Records `action` on proposal `id` in the transaction of the change.
async fn record(
    tx: &mut SqliteConnection,
    caller: &Caller,
    action: &'static str,
    id: i64,
    details: serde_json::Value,
) -> Result<()> {
    audit::record(
        tx,
        Entry {
            actor: &caller.username,
            action,
            target: format!("proposal:{id}"),
            details,
        },
    )
    .await
}

/// After a change committed: the proposal as it is now, announced to `--notify-url`.
async fn finish(
    state: &AppState,
    caller: &Caller,
    event: &str,
    id: i64,
    text: impl FnOnce(&Proposal) -> String,
) -> Result<Proposal> {
    let p = get(state, id).await?;
    state.notify.send(ProposalEvent {
        event: event.to_string(),
        text: text(&p),
        actor: caller.username.clone(),
        time: time::rfc3339(now_ns()),
        proposal: ProposalRef {
            id: p.id,
            title: p.title.clone(),
            author: p.author.clone(),
            status: p.status,
            revision: p.revision,
        },
    });
    Ok(p)
}

/// 409 unless the proposal can still change.
fn ensure_active(row: &Proposal) -> Result<()> {
    if row.status.is_active() {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "proposal #{} is {}",
            row.id,
            row.status.as_str()
        )))
    }
}

/// The proposal's author, or a reviewer or admin: who may close or rebase it.
fn author_or_reviewer(caller: &Caller, row: &Proposal, what: &str) -> Result<()> {
    if caller.username == row.author || caller.role >= Role::Reviewer {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "only the author of proposal #{} (`{}`) or a reviewer can {what} it",
            row.id, row.author
        )))
    }
}

/// Replaces the current revision `row.revision` by `next` (a revise or a rebase), refusing if
/// another change made a revision first.
struct Next<'a> {
    base_version: i64,
    title: &'a str,
    description: &'a str,
    files: &'a [FileChange],
    tests: &'a [TestCase],
    note: &'a str,
    prepared: Prepared,
}

async fn advance(
    state: &AppState,
    caller: &Caller,
    row: &Proposal,
    next: Next<'_>,
    action: &'static str,
) -> Result<()> {
    let revision = row.revision + 1;
    let at = now_ns();
    let mut tx = state.db.begin().await?;
    // Change requests outlive revisions; approvals do not.
    let reviews = store::reviews(&mut *tx, row.id).await?;
    let status = gate::tally(&reviews, revision).status(state.config.required_approvals);
    let n = sqlx::query(
        "UPDATE proposals SET title = ?, description = ?, status = ?, revision = ?, base_version = ?, updated_at = ?, diff = ?, evidence = ?
         WHERE id = ? AND revision = ? AND status IN ('open', 'approved')",
    )
    .bind(next.title)
    .bind(next.description)
    .bind(status.as_str())
    .bind(revision)
    .bind(next.base_version)
    .bind(at)
    .bind(&next.prepared.diff)
    .bind(store::to_json(&next.prepared.evidence)?)
    .bind(row.id)
    .bind(row.revision)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    unchanged(n, row.id)?;
    store::insert_revision(
        &mut tx,
        NewRevision {
            id: row.id,
            revision,
            base_version: next.base_version,
            author: &caller.username,
            note: next.note,
            files: next.files,
            tests: next.tests,
            at,
        },
    )
    .await?;
    let details = json!({
        "revision": revision,
        "base_version": next.base_version,
        "files": names(next.files),
    });
    record(&mut tx, caller, action, row.id, details).await?;
    tx.commit().await?;
    Ok(())
}

/// A guarded write (`WHERE revision = ? AND status IN …`) that found nothing to change: another
/// request changed the proposal first.
fn unchanged(rows: u64, id: i64) -> Result<()> {
    if rows == 0 {
        Err(changed_meanwhile(id))
    } else {
        Ok(())
    }
}

fn changed_meanwhile(id: i64) -> AppError {
    AppError::Conflict(format!(
        "proposal #{id} changed while this request was being handled; reload it and try again"
    ))
}

pub async fn revise(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: ReviseProposal,
) -> Result<Proposal> {
    let row = store::row(&state.db, id).await?;
    if caller.username != row.author {
        return Err(AppError::Forbidden(format!(
            "only the author of proposal #{id} (`{}`) can revise it",
            row.author
        )));
    }
    ensure_active(&row)?;
    let current = store::revision(&mut *state.db.acquire().await?, id, row.revision).await?;
    let title = req.title.as_deref().unwrap_or(&row.title);
    let description = req.description.as_deref().unwrap_or(&row.description);
    let tests = req.tests.unwrap_or(current.tests);
    check_text(title, description, &tests)?;
    let window = row.evidence.window.clone();
    let prepared = prepare(state, row.base_version, &req.files, &tests, window).await?;
    let next = Next {
        base_version: row.base_version,
        title,
        description,
        files: &req.files,
        tests: &tests,
        note: "",
        prepared,
    };
    advance(state, caller, &row, next, "proposal.revise").await?;
    finish(state, caller, "proposal.revised", id, |p| {
        format!(
            "{} revised #{} \"{}\" (revision {})",
            caller.username, p.id, p.title, p.revision
        )
    })
    .await
}

pub async fn comment(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: NewComment,
) -> Result<Proposal> {
    if req.body.trim().is_empty() || req.body.len() > MAX_TEXT {
        return Err(AppError::BadRequest(format!(
            "`body` must have 1 to {MAX_TEXT} bytes"
        )));
    }
    let row = store::row(&state.db, id).await?;
    match (&req.file, req.line) {
        (None, Some(_)) => {
            return Err(AppError::BadRequest(
                "`line` needs the `file` it is in".into(),
            ));
        }
        (Some(file), line) => {
            let Some(d) = row.diff.iter().find(|d| &d.file == file) else {
                return Err(AppError::BadRequest(format!(
                    "`file`: the proposal does not change `{file}`"
                )));
            };
            if line == Some(0) {
                return Err(AppError::BadRequest(format!(
                    "`line` is 1-based: 0 is not a line of `{}`",
                    d.file
                )));
            }
        }
        (None, None) => {}
    }
    let mut tx = state.db.begin().await?;
    let comment_id: i64 = sqlx::query_scalar(
        "INSERT INTO comments (proposal, revision, author, body, file, line, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(id)
    .bind(row.revision)
    .bind(&caller.username)
    .bind(&req.body)
    .bind(&req.file)
    .bind(req.line)
    .bind(now_ns())
    .fetch_one(&mut *tx)
    .await?;
    let details = json!({"comment": comment_id, "file": req.file, "line": req.line});
    record(&mut tx, caller, "proposal.comment", id, details).await?;
    tx.commit().await?;
    finish(state, caller, "proposal.commented", id, |p| {
        format!("{} commented on #{} \"{}\"", caller.username, p.id, p.title)
    })
    .await
}

pub async fn review(
    state: &AppState,
    caller: &Caller,
    id: i64,
    req: NewReview,
) -> Result<Proposal> {
    let row = store::row(&state.db, id).await?;
    if caller.username == row.author {
        return Err(AppError::Forbidden(format!(
            "you wrote proposal #{id}: someone else must review it"
        )));
    }
    ensure_active(&row)?;
    if req.body.len() > MAX_TEXT {
        return Err(AppError::BadRequest(format!(
            "`body` is longer than {MAX_TEXT} bytes"
        )));
    }
    let mut tx = state.db.begin().await?;
    // The review is of the revision current when it is written, whatever was read before.
    let n = sqlx::query(
        "INSERT INTO reviews (proposal, revision, reviewer, verdict, body, created_at)
         SELECT id, revision, ?, ?, ?, ? FROM proposals WHERE id = ? AND revision = ? AND status IN ('open', 'approved')",
    )
    .bind(&caller.username)
    .bind(req.verdict.as_str())
    .bind(&req.body)
    .bind(now_ns())
    .bind(id)
    .bind(row.revision)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    unchanged(n, id)?;
    let reviews = store::reviews(&mut *tx, id).await?;
    let status = gate::tally(&reviews, row.revision).status(state.config.required_approvals);
    sqlx::query("UPDATE proposals SET status = ?, updated_at = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(now_ns())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let details = json!({"verdict": req.verdict.as_str(), "revision": row.revision});
    record(&mut tx, caller, "proposal.review", id, details).await?;
    tx.commit().await?;
    finish(state, caller, "proposal.reviewed", id, |p| {
        let verb = match req.verdict {
            Verdict::Approve => "approved",
            Verdict::RequestChanges => "requested changes on",
        };
        format!("{} {verb} #{} \"{}\"", caller.username, p.id, p.title)
    })
    .await
}

/// Promotes proposal `id`: the live set becomes its files, as a new version, when nothing
/// blocks it. Returns the new live version.
pub async fn promote(state: &AppState, caller: &Caller, id: i64, reason: &str) -> Result<i64> {
    crate::live::check_reason(reason)?;
    let row = store::row(&state.db, id).await?;
    let refused = |reasons: Vec<String>| AppError::Refused {
        unprocessable: false,
        summary: format!("proposal #{id} cannot be promoted"),
        reasons,
    };
    if !row.status.is_active() {
        return Err(refused(vec![format!(
            "proposal #{id} is {}",
            row.status.as_str()
        )]));
    }
    let rev = store::revision(&mut *state.db.acquire().await?, id, row.revision).await?;
    let base = state.live.version(&state.db, row.base_version).await?;
    let files = changes::apply(&base.files, &rev.files)?;
    // The lint and the tests are run again on exactly what would go live.
    let checked = evidence::check(files.clone(), rev.tests).await?;
    let reviews = store::reviews(&state.db, id).await?;
    let required = state.config.required_approvals;
    let tally = gate::tally(&reviews, row.revision);
    let needs = checked.required_engine_version();
    let nodes_behind = nodes::cannot_compile(&state.db, needs.as_deref()).await?;
    gate::blockers(Facts {
        id,
        status: row.status,
        revision: row.revision,
        base_version: row.base_version,
        live_version: state.live.current().version,
        required,
        tally: &tally,
        lint_errors: checked.lint_errors().collect(),
        failed_tests: evidence::failed_tests(&checked.tests).collect(),
        nodes_behind,
    })
    .check(id)?;
    let new = NewVersion {
        files,
        by: &caller.username,
        proposal: Some(id),
        note: format!("proposal #{id}: {}", row.title),
        expected_base: Some(row.base_version),
    };
    let promoted = state
        .live
        .promote_with(&state.db, new, async |tx, version| {
            // Re-decided in the version's transaction: a review or revision that committed
            // since the checks above cancels the promotion.
            let reviews = store::reviews(&mut *tx, id).await?;
            let tally = gate::tally(&reviews, row.revision);
            if tally.status(required) != Status::Approved {
                return Err(changed_meanwhile(id));
            }
            let n = sqlx::query(
                "UPDATE proposals SET status = 'promoted', live_version = ?, updated_at = ?
                 WHERE id = ? AND revision = ? AND status IN ('open', 'approved')",
            )
            .bind(version)
            .bind(now_ns())
            .bind(id)
            .bind(row.revision)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            unchanged(n, id)?;
            let details = crate::live::with_reason(
                json!({"live_version": version, "revision": row.revision}),
                reason,
            );
            record(tx, caller, "proposal.promote", id, details).await
        })
        .await
        .map_err(|e| match e {
            AppError::Conflict(why) => refused(vec![why]),
            other => other,
        })?;
    finish(state, caller, "proposal.promoted", id, |p| {
        format!(
            "{} promoted #{} \"{}\": live set version {}",
            caller.username, p.id, p.title, promoted.version
        )
    })
    .await?;
    Ok(promoted.version)
}

pub async fn close(state: &AppState, caller: &Caller, id: i64) -> Result<Proposal> {
    let row = store::row(&state.db, id).await?;
    author_or_reviewer(caller, &row, "close")?;
    ensure_active(&row)?;
    let mut tx = state.db.begin().await?;
    let n = sqlx::query(
        "UPDATE proposals SET status = 'closed', updated_at = ? WHERE id = ? AND status IN ('open', 'approved')",
    )
    .bind(now_ns())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    unchanged(n, id)?;
    record(
        &mut tx,
        caller,
        "proposal.close",
        id,
        json!({"revision": row.revision}),
    )
    .await?;
    tx.commit().await?;
    finish(state, caller, "proposal.closed", id, |p| {
        format!("{} closed #{} \"{}\"", caller.username, p.id, p.title)
    })
    .await
}

/// Carries the proposal onto the current live set: its files merged with what changed there
/// since its base, a new revision (earlier approvals stop counting), diff and evidence anew.
/// On the current base already, only the evidence is computed again.
pub async fn rebase(state: &AppState, caller: &Caller, id: i64) -> Result<Proposal> {
    let row = store::row(&state.db, id).await?;
    author_or_reviewer(caller, &row, "rebase")?;
    ensure_active(&row)?;
    let rev = store::revision(&mut *state.db.acquire().await?, id, row.revision).await?;
    let live = state.live.current();
    if live.version == row.base_version {
        refresh(
            state,
            &row,
            &rev.files,
            &rev.tests,
            row.evidence.window.clone(),
            None,
        )
        .await?;
        return get(state, id).await;
    }
    let old = state.live.version(&state.db, row.base_version).await?;
    let refused = |reasons: Vec<String>| AppError::Refused {
        unprocessable: false,
        summary: format!(
            "proposal #{id} cannot be rebased onto live version {}",
            live.version
        ),
        reasons,
    };
    let files = blocking({
        let (live, files) = (live.clone(), rev.files.clone());
        move || changes::rebase(&old.files, &live.files, &files)
    })
    .await?
    .map_err(refused)?;
    let prepared = prepare(
        state,
        live.version,
        &files,
        &rev.tests,
        row.evidence.window.clone(),
    )
    .await
    .map_err(|e| match e {
        AppError::BadRequest(why) => refused(vec![why]),
        other => other,
    })?;
    let note = format!("rebased onto live version {}", live.version);
    let next = Next {
        base_version: live.version,
        title: &row.title,
        description: &row.description,
        files: &files,
        tests: &rev.tests,
        note: &note,
        prepared,
    };
    advance(state, caller, &row, next, "proposal.rebase").await?;
    finish(state, caller, "proposal.rebased", id, |p| {
        format!(
            "{} rebased #{} \"{}\" onto live version {}",
            caller.username, p.id, p.title, p.base_version
        )
    })
    .await
}

/// Computes the evidence of the current revision again (on its base), over `window` or the
/// window it was computed on.
/// Computes an active proposal's evidence again, over `window` or the one it had. A promoted
/// or closed proposal's evidence is frozen: it is what the decision on it was based on.
/// Another window is recorded in the audit trail (it changes what reviewers are shown).
pub async fn refresh_evidence(
    state: &AppState,
    caller: &Caller,
    id: i64,
    window: Option<Window>,
) -> Result<Proposal> {
    let row = store::row(&state.db, id).await?;
    if !row.status.is_active() {
        return Err(AppError::Conflict(format!(
            "proposal #{id} is {}: its evidence is frozen as it was when that was decided",
            row.status.as_str()
        )));
    }
    let rev = store::revision(&mut *state.db.acquire().await?, id, row.revision).await?;
    let window = window.unwrap_or_else(|| row.evidence.window.clone());
    let audited = (window != row.evidence.window).then_some(caller);
    refresh(state, &row, &rev.files, &rev.tests, window, audited).await?;
    get(state, id).await
}

/// Stores the evidence computed anew over `window`, unless the proposal changed (or was
/// decided) meanwhile; with `audited`, records the change of window in the same transaction.
async fn refresh(
    state: &AppState,
    row: &Proposal,
    files: &[FileChange],
    tests: &[TestCase],
    window: Window,
    audited: Option<&Caller>,
) -> Result<()> {
    let base = state.live.version(&state.db, row.base_version).await?;
    let result = changes::apply(&base.files, files)?;
    let evidence = evidence::compute(state, base, result, tests.to_vec(), window).await?;
    let mut tx = state.db.begin().await?;
    let n = sqlx::query(
        "UPDATE proposals SET evidence = ? WHERE id = ? AND revision = ? AND status IN ('open', 'approved')",
    )
    .bind(store::to_json(&evidence)?)
    .bind(row.id)
    .bind(row.revision)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    unchanged(n, row.id)?;
    if let Some(caller) = audited {
        let details = json!({
            "revision": row.revision,
            "window": evidence.window,
            "previous_window": row.evidence.window,
        });
        record(&mut tx, caller, "proposal.evidence", row.id, details).await?;
    }
    tx.commit().await?;
    Ok(())
}
