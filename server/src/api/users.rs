//! Users and their API tokens (`/api/v1/users`): admins manage everyone; a user manages their
//! own tokens.

use super::{Endpoint, calls, fails, typed};
use crate::audit::{self, Entry};
use crate::auth::{self, Access, Admin, Caller, Viewer};
use crate::error::{ApiJson, ApiPath, AppError, Result, ResultExt};
use crate::state::AppState;
use crate::time::now_ns;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::on;
use rulestudio_api::auth::{
    CreateToken, CreateUser, CreatedToken, SetPassword, TokenInfo, TokenList, UpdateUser, User,
    UserList,
};
use serde_json::json;

const ADMIN: Access = Admin::ACCESS;
/// The longest `expires_in`: ten years, in seconds.
const MAX_TOKEN_SECS: u64 = 10 * 365 * 24 * 3600;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::AddUser>(),
        handler: |m| on(m, create),
        access: ADMIN,
        summary: "Create a user {username, password?, role}",
        ok: 201,
        errors: &[
            fails::BODY,
            (409, "A user with this name exists"),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::ListUsers>(),
        handler: |m| on(m, list),
        access: ADMIN,
        summary: "List users",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        call: typed::<calls::DeleteUser>(),
        handler: |m| on(m, remove),
        access: ADMIN,
        summary: "Delete a user and their tokens",
        ok: 204,
        errors: &[(404, "No such user"), (409, "The caller is that user")],
    },
    Endpoint {
        call: typed::<calls::ChangeUser>(),
        handler: |m| on(m, update),
        access: ADMIN,
        summary: "Change a user's role {role} → the user; effective at their next request",
        ok: 200,
        errors: &[
            fails::BODY,
            (404, "No such user"),
            (
                409,
                "The caller is that user (an admin cannot demote themself, so one admin always remains)",
            ),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::SetUserPassword>(),
        handler: |m| on(m, set_password),
        access: ADMIN,
        summary: "Set a user's password {password} (at least 8 characters); ends their sign-in sessions, keeps their API tokens",
        ok: 204,
        errors: &[fails::BODY, (404, "No such user"), fails::TOO_LARGE],
    },
    Endpoint {
        call: typed::<calls::AddToken>(),
        handler: |m| on(m, create_token),
        access: Viewer::ACCESS,
        summary: "Create an API token {name, expires_in?} → {token, expires_at} (admin, or the user for themself); `expires_in` in seconds, absent: until revoked",
        ok: 201,
        errors: &[
            fails::BODY,
            (403, "Another user's tokens, and the caller is not an admin"),
            (404, "No such user"),
            (409, "The user has a token of this name"),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        call: typed::<calls::ListTokens>(),
        handler: |m| on(m, list_tokens),
        access: Viewer::ACCESS,
        summary: "List a user's tokens (admin, or the user)",
        ok: 200,
        errors: &[
            (403, "Another user's tokens, and the caller is not an admin"),
            (404, "No such user"),
        ],
    },
    Endpoint {
        call: typed::<calls::DeleteToken>(),
        handler: |m| on(m, revoke_token),
        access: Viewer::ACCESS,
        summary: "Revoke a token (admin, or the user)",
        ok: 204,
        errors: &[
            (403, "Another user's tokens, and the caller is not an admin"),
            (404, "No such user, or the user has no token of this name"),
        ],
    },
];

async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>)> {
    let role = req.role;
    if req.username.is_empty() || req.username.len() > 64 || req.username.contains(['/', ' ']) {
        return Err(AppError::BadRequest(
            "username must be 1 to 64 characters without `/` or spaces".into(),
        ));
    }
    let hash = match req.password {
        Some(p) => Some(hash_password(&state, p).await?),
        None => None,
    };
    let created_at = now_ns();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&req.username)
    .bind(hash)
    .bind(role.as_str())
    .bind(created_at)
    .execute(&mut *tx)
    .await
    .on_unique(|| format!("user `{}` already exists", req.username))?;
    audit::record(
        &mut *tx,
        Entry {
            actor: &caller.username,
            action: "user.create",
            target: format!("user:{}", req.username),
            details: json!({"role": role.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(User {
            username: req.username,
            role,
            created_at,
        }),
    ))
}

async fn list(State(state): State<AppState>, _: Admin) -> Result<Json<UserList>> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT username, role, created_at FROM users ORDER BY username")
            .fetch_all(&state.db)
            .await?;
    let users = rows
        .into_iter()
        .map(|(username, role, created_at)| {
            Ok(User {
                username,
                role: auth::stored_role(&role)?,
                created_at,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Json(UserList { users }))
}

async fn remove(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode> {
    if username == caller.username {
        return Err(AppError::Conflict("you cannot delete yourself".into()));
    }
    let mut tx = state.db.begin().await?;
    let n = sqlx::query("DELETE FROM users WHERE username = ?")
        .bind(&username)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(no_user(&username));
    }
    audit::record(
        &mut *tx,
        Entry {
            actor: &caller.username,
            action: "user.delete",
            target: format!("user:{username}"),
            details: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    state.streams.users_changed();
    Ok(StatusCode::NO_CONTENT)
}

async fn hash_password(state: &AppState, password: String) -> Result<String> {
    if password.len() < 8 {
        return Err(AppError::BadRequest(
            "password must have at least 8 characters".into(),
        ));
    }
    state.passwords.hash(password).await
}

async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> Result<Json<User>> {
    let role = req.role;
    // The caller is an admin: refusing their own change keeps at least one admin.
    if username == caller.username {
        return Err(AppError::Conflict(
            "you cannot change your own role (another admin can)".into(),
        ));
    }
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let (from, created_at): (String, i64) =
        sqlx::query_as("SELECT role, created_at FROM users WHERE username = ?")
            .bind(&username)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| no_user(&username))?;
    sqlx::query("UPDATE users SET role = ? WHERE username = ?")
        .bind(role.as_str())
        .bind(&username)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        Entry {
            actor: &caller.username,
            action: "user.role",
            target: format!("user:{username}"),
            details: json!({"from": from, "to": role.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    // Their open streams check the new role.
    state.streams.users_changed();
    Ok(Json(User {
        username,
        role,
        created_at,
    }))
}

async fn set_password(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<SetPassword>,
) -> Result<StatusCode> {
    let hash = hash_password(&state, req.password).await?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(&username)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| no_user(&username))?;
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    // Whoever knew the old password may be signed in with it.
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    audit::record(
        &mut *tx,
        Entry {
            actor: &caller.username,
            action: "user.password",
            target: format!("user:{username}"),
            details: json!({"sessions_ended": ended}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn no_user(username: &str) -> AppError {
    AppError::NotFound(format!("user `{username}` does not exist"))
}

/// The id of `username` if the caller may manage their tokens.
async fn token_owner(state: &AppState, caller: &Caller, username: &str) -> Result<i64> {
    if caller.username != username {
        caller
            .require(ADMIN)
            .map_err(|_| AppError::Forbidden("only admins manage other users' tokens".into()))?;
    }
    sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| no_user(username))
}

async fn create_token(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    ApiPath(username): ApiPath<String>,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>)> {
    let user_id = token_owner(&state, &caller, &username).await?;
    if req.name.is_empty() || req.name.len() > 64 {
        return Err(AppError::BadRequest(
            "token name must be 1 to 64 characters".into(),
        ));
    }
    let created_at = now_ns();
    let expires_at = match req.expires_in {
        None => None,
        Some(secs @ 1..=MAX_TOKEN_SECS) => Some(created_at + secs as i64 * 1_000_000_000),
        Some(secs) => {
            return Err(AppError::BadRequest(format!(
                "expires_in {secs} is not between 1 and {MAX_TOKEN_SECS} seconds (10 years)"
            )));
        }
    };
    let token = auth::new_secret("rs_")?;
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO tokens (user_id, name, token_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(user_id)
    .bind(&req.name)
    .bind(auth::hash_secret(&token))
    .bind(created_at)
    .bind(expires_at)
    .execute(&mut *tx)
    .await
    .on_unique(|| format!("`{username}` already has a token named `{}`", req.name))?;
    audit::record(
        &mut *tx,
        token_entry(&caller, "token.create", &username, &req.name),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            name: req.name,
            token,
            expires_at,
        }),
    ))
}

async fn list_tokens(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<TokenList>> {
    let user_id = token_owner(&state, &caller, &username).await?;
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT name, created_at, expires_at FROM tokens WHERE user_id = ? ORDER BY name",
    )
    .bind(user_id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(TokenList {
        tokens: rows
            .into_iter()
            .map(|(name, created_at, expires_at)| TokenInfo {
                name,
                created_at,
                expires_at,
            })
            .collect(),
    }))
}

async fn revoke_token(
    State(state): State<AppState>,
    Viewer(caller): Viewer,
    ApiPath((username, name)): ApiPath<(String, String)>,
) -> Result<StatusCode> {
    let user_id = token_owner(&state, &caller, &username).await?;
    let mut tx = state.db.begin().await?;
    let n = sqlx::query("DELETE FROM tokens WHERE user_id = ? AND name = ?")
        .bind(user_id)
        .bind(&name)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound(format!(
            "`{username}` has no token named `{name}`"
        )));
    }
    audit::record(
        &mut *tx,
        token_entry(&caller, "token.revoke", &username, &name),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tokens are named per user: the target names both. The secret is never recorded.
fn token_entry<'a>(
    caller: &'a Caller,
    action: &'static str,
    username: &str,
    name: &str,
) -> Entry<'a> {
    Entry {
        actor: &caller.username,
        action,
        target: format!("token:{username}/{name}"),
        details: json!({}),
    }
}
