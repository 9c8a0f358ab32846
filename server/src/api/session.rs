//! Browser sign-in: `POST /api/v1/session` sets an HttpOnly, SameSite=Strict cookie, `Secure`
//! when the browser came over HTTPS (our TLS, or a trusted proxy's). Sign-in is throttled per
//! user name and per address (`crate::throttle`), and every attempt that is let in costs one
//! password check, whether the user exists or not (`crate::password`).

use super::{Endpoint, calls, fails, typed};
use crate::auth::{self, Access, SESSION_COOKIE, Viewer};
use crate::error::{ApiJson, AppError, Result};
use crate::http::{Peer, client};
use crate::state::AppState;
use crate::time::now_ns;
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::on;
use rulestudio_api::auth::{LoginRequest, SessionInfo};

const SESSION_SECS: i64 = 12 * 3600;

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        call: typed::<calls::SignIn>(),
        handler: |m| on(m, login),
        access: Access::Public,
        summary: "Sign in with username and password; sets the session cookie",
        ok: 200,
        errors: &[
            fails::BODY,
            (401, "Wrong username or password"),
            fails::TOO_LARGE,
            fails::CROSS_ORIGIN,
            (
                429,
                "Too many wrong passwords for this user name or from this address, or too many sign-ins at once; `Retry-After` says when to try again",
            ),
        ],
    },
    Endpoint {
        call: typed::<calls::GetSession>(),
        handler: |m| on(m, whoami),
        access: Viewer::ACCESS,
        summary: "Who is signed in",
        ok: 200,
        errors: &[],
    },
    Endpoint {
        call: typed::<calls::SignOut>(),
        handler: |m| on(m, logout),
        access: Access::Public,
        summary: "Sign out",
        ok: 204,
        errors: &[fails::CROSS_ORIGIN],
    },
];

async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<Peer>>,
    request_headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse> {
    let peer = peer.map(|Extension(p)| p);
    let trusted = &state.config.trusted_proxy;
    let address = client::address(peer.as_ref(), &request_headers, trusted);
    let attempt = state
        .login_throttle
        .begin(&req.username, address)
        .map_err(|wait| AppError::TooManyRequests {
            message: format!(
                "too many wrong passwords for `{}` or from this address; try again in {} s",
                req.username,
                wait.as_secs().max(1)
            ),
            retry_after: wait,
        })?;
    let row: Option<(i64, Option<String>, String)> =
        sqlx::query_as("SELECT id, password_hash, role FROM users WHERE username = ?")
            .bind(&req.username)
            .fetch_optional(&state.db)
            .await?;
    let (user_id, hash, role) = match row {
        Some((id, hash, role)) => (Some(id), hash, role),
        None => (None, None, String::new()),
    };
    let ok = state.passwords.verify(req.password, hash).await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        attempt.failed();
        return Err(AppError::BadCredentials);
    };
    attempt.succeeded();
    let secret = auth::new_secret("")?;
    sqlx::query("INSERT INTO sessions (id_hash, user_id, expires_at) VALUES (?, ?, ?)")
        .bind(auth::hash_secret(&secret))
        .bind(user_id)
        .bind(now_ns() + SESSION_SECS * 1_000_000_000)
        .execute(&state.db)
        .await?;
    let secure = client::is_https(peer.as_ref(), &request_headers, trusted);
    let cookie = session_cookie(&secret, SESSION_SECS, secure);
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
    );
    Ok((
        headers,
        Json(SessionInfo {
            username: req.username,
            role: auth::stored_role(&role)?,
        }),
    ))
}

fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    )
}

async fn whoami(Viewer(caller): Viewer) -> Result<Json<SessionInfo>> {
    Ok(Json(SessionInfo {
        username: caller.username,
        role: caller.role,
    }))
}

async fn logout(
    State(state): State<AppState>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse> {
    if let Some(secret) = auth::cookie(&headers, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(auth::hash_secret(secret))
            .execute(&state.db)
            .await?;
    }
    let peer = peer.map(|Extension(p)| p);
    let secure = client::is_https(peer.as_ref(), &headers, &state.config.trusted_proxy);
    let expire = session_cookie("", 0, secure);
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, expire)]))
}
