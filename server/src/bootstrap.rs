//! First start on an empty database: the admin user and its token, and live-set version 1.

use crate::auth::{hash_secret, new_secret};
use crate::config::ServeArgs;
use crate::password::Passwords;
use crate::time::now_ns;
use anyhow::Context;
use sqlx::SqlitePool;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The official stable Falco ruleset, under its Apache-2.0 header: what users start from.
pub const FALCO_RULES: &str = include_str!("../../engine/data/falco_rules.yaml");
pub const FALCO_RULES_NAME: &str = "falco_rules.yaml";

pub async fn first_start(
    db: &SqlitePool,
    config: &ServeArgs,
    passwords: &Passwords,
) -> anyhow::Result<()> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await?;
    if users == 0 {
        create_admin(db, config, passwords).await?;
    }
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM live_versions")
        .fetch_one(db)
        .await?;
    if versions == 0 {
        let mut tx = db.begin().await?;
        sqlx::query("INSERT INTO live_versions (version, promoted_at, promoted_by, note, engine_revision) VALUES (1, ?, 'admin', 'seed: official Falco rules', ?)")
            .bind(now_ns())
            .bind(rulestudio_engine::VERDICT_REVISION)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO live_files (version, position, name, content) VALUES (1, 0, ?, ?)",
        )
        .bind(FALCO_RULES_NAME)
        .bind(FALCO_RULES)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn create_admin(
    db: &SqlitePool,
    config: &ServeArgs,
    passwords: &Passwords,
) -> anyhow::Result<()> {
    let password_hash = match &config.admin_password {
        Some(p) => Some(
            passwords
                .hash(p.clone())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let (token, generated) = match &config.admin_token {
        Some(t) => (t.clone(), false),
        None => (new_secret("rs_").map_err(|e| anyhow::anyhow!("{e}"))?, true),
    };
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, role, created_at) VALUES ('admin', ?, 'admin', ?) RETURNING id",
    )
    .bind(password_hash)
    .bind(now_ns())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO tokens (user_id, name, token_hash, created_at) VALUES (?, 'initial', ?, ?)",
    )
    .bind(id)
    .bind(hash_secret(&token))
    .bind(now_ns())
    .execute(&mut *tx)
    .await?;
    if generated {
        let file = token_file(&config.db);
        write_private(&file, &token).with_context(|| format!("writing {}", file.display()))?;
        // Printed once: the only other copy is the 0600 file.
        println!(
            "rulestudio: created user `admin`; API token: {token} (also in {})",
            file.display()
        );
    }
    tx.commit().await?;
    Ok(())
}

/// `rulestudio.db` → `rulestudio.db.admin-token`, beside the database.
pub fn token_file(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".admin-token");
    db.with_file_name(name)
}

fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    writeln!(f, "{secret}")
}
