//! Who is calling: a session cookie (browser) or a bearer token (automation), and what their
//! role allows. Secrets are 256-bit random values stored as SHA-256 hashes; passwords as argon2
//! (`crate::password`). A token may expire; an expired one is refused like an unknown one.

use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::time::now_ns;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "rulestudio_session";

/// `viewer` < `author` < `reviewer` < `admin`; `collector` only ingests.
pub use rulestudio_api::auth::Role;

/// A role as the database keeps it (its text); another text is the database's fault.
pub fn stored_role(text: &str) -> anyhow::Result<Role> {
    Role::parse(text).ok_or_else(|| anyhow::anyhow!("a user has the unknown role `{text}`"))
}

/// What an endpoint requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// A user role or higher (never a collector).
    AtLeast(Role),
    /// Sending events and heartbeats: collectors, and authors and up (for imports and tests).
    Ingest,
    /// What a node reads (the live set): collectors, and every user role.
    Node,
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public => true,
            Access::AtLeast(min) => role.at_least(min),
            Access::Ingest => role == Role::Collector || role >= Role::Author,
            Access::Node => true,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Access::Public => "anyone".into(),
            Access::AtLeast(r) => format!("{} or higher", r.as_str()),
            Access::Ingest => "collector, or author or higher".into(),
            Access::Node => "collector, or viewer or higher".into(),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, access: Access) -> Result<()> {
        if access.allows(self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "`{}` has role {}; this needs {}",
                self.username,
                self.role.as_str(),
                access.describe()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        // Found by the endpoint's access check (`api::router`) in front of the handler.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let row: Option<(i64, String, String)> = if let Some(token) = bearer(&parts.headers) {
            sqlx::query_as(
                "SELECT u.id, u.username, u.role FROM tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)",
            )
            .bind(hash_secret(token))
            .bind(now_ns())
            .fetch_optional(&state.db)
            .await?
        } else if let Some(session) = cookie(&parts.headers, SESSION_COOKIE) {
            sqlx::query_as(
                "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = ? AND s.expires_at > ?",
            )
            .bind(hash_secret(session))
            .bind(now_ns())
            .fetch_optional(&state.db)
            .await?
        } else {
            None
        };
        let (user_id, username, role) = row.ok_or(AppError::Unauthorized)?;
        let role = Role::parse(&role)
            .ok_or_else(|| anyhow::anyhow!("user {username} has unknown role {role}"))?;
        Ok(Caller {
            user_id,
            username,
            role,
        })
    }
}

/// Extractors that authenticate the caller and check the role before anything else of the
/// request is read, so a caller without the role gets 403 whatever the body says.
macro_rules! role_extractors {
    ($($(#[$doc:meta])* $name:ident => $access:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name(pub Caller);

        impl $name {
            pub const ACCESS: Access = $access;
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
                let caller = Caller::from_request_parts(parts, state).await?;
                caller.require(Self::ACCESS)?;
                Ok($name(caller))
            }
        }
    )*};
}

role_extractors! {
    /// Any signed-in user (not a collector).
    Viewer => Access::AtLeast(Role::Viewer);
    /// Authors, reviewers and admins.
    Author => Access::AtLeast(Role::Author);
    /// Reviewers and admins.
    Reviewer => Access::AtLeast(Role::Reviewer);
    Admin => Access::AtLeast(Role::Admin);
    /// Collectors, and authors and up.
    Ingester => Access::Ingest;
    /// Collectors (the nodes that evaluate the live set), and viewers and up.
    NodeOrViewer => Access::Node;
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::trim)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
}

/// A new random secret (token or session id), URL-safe, prefixed so that leaked tokens are
/// recognisable by secret scanners.
pub fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_collectors_only_ingest() {
        assert!(Access::AtLeast(Role::Author).allows(Role::Admin));
        assert!(!Access::AtLeast(Role::Author).allows(Role::Viewer));
        assert!(!Access::AtLeast(Role::Viewer).allows(Role::Collector));
        assert!(Access::Ingest.allows(Role::Collector));
        assert!(!Access::Ingest.allows(Role::Viewer));
    }
}
