//! The lifetime of a user's SSE streams (`/events/stream`, `/alerts/stream`): at most
//! `--max-streams-per-user` open at once per user, and each ends when its user is deleted or no
//! longer has the role the stream needs. A stream used to keep delivering to a deleted user.

use crate::auth::{Access, Caller, Role};
use crate::error::{AppError, Result};
use futures::{Stream, StreamExt};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub struct Streams {
    open: Mutex<HashMap<i64, usize>>,
    max_per_user: usize,
    /// Bumped after a change to users commits; every stream then re-checks its user.
    users_changed: watch::Sender<u64>,
}

/// A slot of its user's allowance, given back when the stream is dropped.
pub struct Lease {
    streams: Arc<Streams>,
    user_id: i64,
}

impl Streams {
    pub fn new(max_per_user: usize) -> Streams {
        Streams {
            open: Mutex::default(),
            max_per_user,
            users_changed: watch::channel(0).0,
        }
    }

    /// Says that users changed (deleted, or another role): open streams re-check theirs.
    pub fn users_changed(&self) {
        self.users_changed.send_modify(|n| *n += 1);
    }

    /// `stream` for `caller`, counted against their allowance and ended when they lose
    /// `access`; 429 when they already have as many streams open as allowed.
    pub fn guard<S: Stream + Send + 'static>(
        self: &Arc<Self>,
        db: &SqlitePool,
        caller: &Caller,
        access: Access,
        stream: S,
    ) -> Result<impl Stream<Item = S::Item> + Send + use<S>> {
        let lease = self.lease(caller)?;
        let revoked = revoked(
            db.clone(),
            self.users_changed.subscribe(),
            caller.user_id,
            access,
        );
        Ok(stream.take_until(Box::pin(revoked)).map(move |item| {
            // The lease lives exactly as long as the stream.
            let _ = &lease;
            item
        }))
    }

    fn lease(self: &Arc<Self>, caller: &Caller) -> Result<Lease> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(caller.user_id).or_default();
        if *n >= self.max_per_user {
            return Err(AppError::TooManyRequests {
                message: format!(
                    "`{}` already has {} streams open (--max-streams-per-user); close one first",
                    caller.username, self.max_per_user
                ),
                retry_after: Duration::from_secs(5),
            });
        }
        *n += 1;
        Ok(Lease {
            streams: self.clone(),
            user_id: caller.user_id,
        })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

/// Resolves when `user_id` no longer exists or no longer has `access`.
async fn revoked(db: SqlitePool, mut changed: watch::Receiver<u64>, user_id: i64, access: Access) {
    loop {
        if changed.changed().await.is_err() {
            // The server is going away: so does the stream.
            return;
        }
        let role: std::result::Result<Option<String>, sqlx::Error> =
            sqlx::query_scalar("SELECT role FROM users WHERE id = ?")
                .bind(user_id)
                .fetch_optional(&db)
                .await;
        match role {
            Ok(Some(role)) if Role::parse(&role).is_some_and(|r| access.allows(r)) => {}
            Ok(_) => return,
            // Unknown until the database answers: keep the stream rather than guess.
            Err(e) => tracing::error!(error = %e, "re-checking a stream's user"),
        }
    }
}
