//! Sessions, users and API tokens: `/api/v1/session`, `/api/v1/users`.

use serde::{Deserialize, Serialize};

/// A user's role, lowest first: each user role may do what the roles below it may. A collector
/// is not a user role: it sends events and follows the live set, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Collector,
    Viewer,
    Author,
    Reviewer,
    Admin,
}

impl Role {
    /// Every role, in the order of [`Role`]'s ranks.
    pub const ALL: [Role; 5] = [
        Role::Collector,
        Role::Viewer,
        Role::Author,
        Role::Reviewer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Collector => "collector",
            Role::Viewer => "viewer",
            Role::Author => "author",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `min`, a user role, may (a collector never does).
    pub fn at_least(self, min: Role) -> bool {
        self != Role::Collector && self >= min
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/v1/session`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST`/`GET /api/v1/session`: who the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
}

/// `POST /api/v1/users` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreateUser {
    pub username: String,
    /// Absent for accounts that only use tokens (collectors).
    #[serde(default)]
    pub password: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct User {
    pub username: String,
    pub role: Role,
    /// Nanoseconds since the Unix epoch.
    pub created_at: i64,
}

/// `GET /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UserList {
    pub users: Vec<User>,
}

/// `PATCH /api/v1/users/{username}` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UpdateUser {
    pub role: Role,
}

/// `PUT /api/v1/users/{username}/password` (admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SetPassword {
    pub password: String,
}

/// `POST /api/v1/users/{username}/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreateToken {
    pub name: String,
    /// Seconds until the token stops working; absent: it works until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

/// The token itself is shown once, in this response; the server keeps only its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreatedToken {
    pub name: String,
    pub token: String,
    /// Nanoseconds since the Unix epoch; absent: no expiry.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenInfo {
    pub name: String,
    pub created_at: i64,
    /// Nanoseconds since the Unix epoch; absent: no expiry. An expired token is listed until
    /// revoked, and refused.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// `GET /api/v1/users/{username}/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// A secret from a file (`--token-file`, `--admin-token-file`, …): its content without the
/// trailing newline. Secrets on a command line are readable by every process on the host
/// (`/proc/PID/cmdline`); a file is readable only by whom its mode says.
pub fn read_secret_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the secret file {}: {e}", path.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.trim().is_empty() {
        return Err(format!("the secret file {} is empty", path.display()));
    }
    Ok(secret.to_string())
}
