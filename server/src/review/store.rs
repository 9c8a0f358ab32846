//! Proposals in the database: rows, revisions with their files and tests, reviews, comments.

use crate::error::{AppError, Result};
use rulestudio_api::proposals::{
    Comment, FileChange, Proposal, Review, RolledBack, Status, Verdict,
};
use rulestudio_api::ruletest::TestCase;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{SqliteConnection, SqliteExecutor};

type RowTuple = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
    i64,
    String,
    String,
);

const ROW: &str = "SELECT id, title, description, author, status, revision, base_version, \
                   live_version, created_at, updated_at, diff, evidence FROM proposals";

/// A proposal's own row: what the revision, the reviews and the comments add is left empty
/// (see `review::assemble`).
fn row_of(t: RowTuple) -> Result<Proposal> {
    let (
        id,
        title,
        description,
        author,
        status,
        revision,
        base_version,
        live_version,
        created_at,
        updated_at,
        diff,
        evidence,
    ) = t;
    Ok(Proposal {
        status: Status::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("proposal {id} has unknown status {status}"))?,
        diff: from_json(&diff)?,
        evidence: from_json(&evidence)?,
        id,
        title,
        description,
        author,
        revision,
        base_version,
        live_version,
        created_at,
        updated_at,
        files: Vec::new(),
        tests: Vec::new(),
        approvals: 0,
        required_approvals: 0,
        blockers: Vec::new(),
        reviews: Vec::new(),
        comments: Vec::new(),
        rolled_back: None,
    })
}

pub fn to_json(v: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string(v).map_err(anyhow::Error::from)?)
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    Ok(serde_json::from_str(s).map_err(anyhow::Error::from)?)
}

pub async fn row(db: impl SqliteExecutor<'_>, id: i64) -> Result<Proposal> {
    let t: Option<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{ROW} WHERE id = ?")))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row_of(t.ok_or_else(|| AppError::NotFound(format!("proposal #{id} does not exist")))?)
}

/// Newest first.
pub async fn rows(
    db: impl SqliteExecutor<'_>,
    status: Option<Status>,
    limit: u32,
) -> Result<Vec<Proposal>> {
    let ts: Vec<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{ROW} WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"
    )))
    .bind(status.map(Status::as_str))
    .bind(limit)
    .fetch_all(db)
    .await?;
    ts.into_iter().map(row_of).collect()
}

/// The changes and the tests of one revision.
pub struct Revision {
    pub files: Vec<FileChange>,
    pub tests: Vec<TestCase>,
}

pub async fn revision(db: &mut SqliteConnection, id: i64, revision: i64) -> Result<Revision> {
    let tests: String = sqlx::query_scalar(
        "SELECT tests FROM proposal_revisions WHERE proposal = ? AND revision = ?",
    )
    .bind(id)
    .bind(revision)
    .fetch_one(&mut *db)
    .await?;
    let files: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT name, content FROM proposal_files WHERE proposal = ? AND revision = ? ORDER BY position",
    )
    .bind(id)
    .bind(revision)
    .fetch_all(&mut *db)
    .await?;
    Ok(Revision {
        files: files
            .into_iter()
            .map(|(name, content)| FileChange {
                name,
                delete: content.is_none(),
                content,
            })
            .collect(),
        tests: from_json(&tests)?,
    })
}

pub struct NewRevision<'a> {
    pub id: i64,
    pub revision: i64,
    pub base_version: i64,
    pub author: &'a str,
    pub note: &'a str,
    pub files: &'a [FileChange],
    pub tests: &'a [TestCase],
    pub at: i64,
}

pub async fn insert_revision(db: &mut SqliteConnection, r: NewRevision<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO proposal_revisions (proposal, revision, base_version, author, note, tests, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.id)
    .bind(r.revision)
    .bind(r.base_version)
    .bind(r.author)
    .bind(r.note)
    .bind(to_json(&r.tests)?)
    .bind(r.at)
    .execute(&mut *db)
    .await?;
    for (position, f) in r.files.iter().enumerate() {
        sqlx::query(
            "INSERT INTO proposal_files (proposal, revision, position, name, content) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(r.id)
        .bind(r.revision)
        .bind(position as i64)
        .bind(&f.name)
        .bind(&f.content)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// In the order they were made.
pub async fn reviews(db: impl SqliteExecutor<'_>, id: i64) -> Result<Vec<Review>> {
    let rows: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, reviewer, verdict, body, revision, created_at FROM reviews WHERE proposal = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(id, reviewer, verdict, body, revision, created_at)| {
            Ok(Review {
                verdict: Verdict::parse(&verdict)
                    .ok_or_else(|| anyhow::anyhow!("review {id} has unknown verdict {verdict}"))?,
                id,
                reviewer,
                body,
                revision,
                created_at,
            })
        })
        .collect()
}

/// A `comments` row: id, author, body, file, line, revision, created_at.
type CommentRow = (i64, String, String, Option<String>, Option<u32>, i64, i64);

pub async fn comments(db: impl SqliteExecutor<'_>, id: i64) -> Result<Vec<Comment>> {
    let rows: Vec<CommentRow> = sqlx::query_as(
        "SELECT id, author, body, file, line, revision, created_at FROM comments WHERE proposal = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, author, body, file, line, revision, created_at)| Comment {
                id,
                author,
                body,
                file,
                line,
                revision,
                created_at,
            },
        )
        .collect())
}

/// The first rollback, after live version `version` was created, to a version before it: what
/// undid a promotion. Later versions without a proposal are the rollbacks; the audit trail has
/// where each went and why (found through its actor index).
pub async fn rolled_back(conn: &mut SqliteConnection, version: i64) -> Result<Option<RolledBack>> {
    let row: Option<(i64, String, i64, i64, String)> = sqlx::query_as(
        "SELECT v.version, v.promoted_by, v.promoted_at, json_extract(a.details, '$.to'),
                COALESCE(json_extract(a.details, '$.reason'), '')
         FROM live_versions v
         JOIN audit_log a ON a.actor = v.promoted_by AND a.action = 'live.rollback'
                          AND a.target = 'live:' || v.version
         WHERE v.version > ?1 AND v.proposal IS NULL AND json_extract(a.details, '$.to') < ?1
         ORDER BY v.version LIMIT 1",
    )
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(live_version, by, at, to, reason)| RolledBack {
        live_version,
        to,
        by,
        at,
        reason,
    }))
}
