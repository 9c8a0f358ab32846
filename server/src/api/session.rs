//! Browser sign-in: `POST /api/v1/session` sets an HttpOnly, SameSite=Strict cookie.

use super::{Endpoint, fails};
use crate::auth::{self, Access, SESSION_COOKIE, Viewer};
use crate::error::{ApiJson, AppError, Result};
use crate::state::AppState;
use crate::time::now_ns;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use rulestudio_api::auth::{LoginRequest, SessionInfo};

const SESSION_SECS: i64 = 12 * 3600;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "POST",
        path: "/session",
        access: Access::Public,
        summary: "Sign in with username and password; sets the session cookie",
        ok: 200,
        errors: &[
            fails::BODY,
            (401, "Wrong username or password"),
            fails::TOO_LARGE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/session",
        access: Viewer::ACCESS,
        summary: "Who is signed in",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        method: "DELETE",
        path: "/session",
        access: Access::Public,
        summary: "Sign out",
        ok: 204,
        errors: &[],
    },
];

pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(login).get(whoami).delete(logout))
}

async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse> {
    let row: Option<(i64, Option<String>, String)> =
        sqlx::query_as("SELECT id, password_hash, role FROM users WHERE username = ?")
            .bind(&req.username)
            .fetch_optional(&state.db)
            .await?;
    let (user_id, Some(hash), role) = row.ok_or(AppError::BadCredentials)? else {
        return Err(AppError::BadCredentials);
    };
    if !auth::verify_password(req.password, hash).await? {
        return Err(AppError::BadCredentials);
    }
    let secret = auth::new_secret("")?;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, expires_at) VALUES (?, ?, ?)")
        .bind(auth::hash_secret(&secret))
        .bind(user_id)
        .bind(now_ns() + SESSION_SECS * 1_000_000_000)
        .execute(&state.db)
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}"
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
    );
    Ok((
        headers,
        Json(SessionInfo {
            username: req.username,
            role,
        }),
    ))
}

async fn whoami(Viewer(caller): Viewer) -> Result<Json<SessionInfo>> {
    Ok(Json(SessionInfo {
        username: caller.username,
        role: caller.role.as_str().into(),
    }))
}

async fn logout(State(state): State<AppState>, parts: Parts) -> Result<impl IntoResponse> {
    if let Some(secret) = auth::cookie(&parts, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(auth::hash_secret(secret))
            .execute(&state.db)
            .await?;
    }
    let expire = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, expire)]))
}
