//! The one REST client of the UI: same-origin `fetch` with the session cookie, JSON in and out,
//! and a typed error that keeps the server's code, message and diagnostics.

pub mod types;

use gloo_net::http::{Request, RequestBuilder, Response};
use rulestudio_api::diagnostic::DiagnosticJson;
use serde::Serialize;
use serde::de::DeserializeOwned;
use web_sys::{AbortSignal, RequestCredentials};

pub use types::*;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 401: no session or it expired; the shell sends the user to the login page.
    #[error("you are not signed in")]
    Unauthorized,
    /// 403: signed in, but the role does not allow this.
    #[error("your role does not allow this: {0}")]
    Forbidden(String),
    /// Any other non-2xx answer, with the server's error body.
    #[error("{message} ({status} {code})")]
    Server {
        status: u16,
        code: String,
        message: String,
        diagnostics: Vec<DiagnosticJson>,
        reasons: Vec<String>,
    },
    #[error("the server could not be reached: {0}")]
    Network(String),
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
}

impl ApiError {
    /// Diagnostics attached to the error (a filter or rules file that did not compile).
    pub fn diagnostics(&self) -> &[DiagnosticJson] {
        match self {
            ApiError::Server { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }

    /// The reasons of a refusal (409/422 on promote), or the message as the only one.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            ApiError::Server { reasons, .. } if !reasons.is_empty() => reasons.clone(),
            ApiError::Server { message, .. } => vec![message.clone()],
            other => vec![other.to_string()],
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub const BASE: &str = rulestudio_api::routes::PREFIX;

fn with_session(req: RequestBuilder) -> RequestBuilder {
    req.credentials(RequestCredentials::SameOrigin)
        .header("Accept", "application/json")
}

async fn check(resp: Response) -> ApiResult<Response> {
    let status = resp.status();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    if status == 401 {
        super::session::expired();
        return Err(ApiError::Unauthorized);
    }
    let (code, message, diagnostics, reasons) = match body {
        Some(b) => (
            b.code,
            b.message,
            b.diagnostics.unwrap_or_default(),
            b.reasons.unwrap_or_default(),
        ),
        None => (
            String::new(),
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                text
            },
            Vec::new(),
            Vec::new(),
        ),
    };
    if status == 403 {
        return Err(ApiError::Forbidden(message));
    }
    Err(ApiError::Server {
        status,
        code,
        message,
        diagnostics,
        reasons,
    })
}

async fn decode<T: DeserializeOwned>(resp: Response) -> ApiResult<T> {
    let text = check(resp)
        .await?
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    // Endpoints that answer 204 decode into `()` via `null`.
    let text = if text.is_empty() { "null" } else { &text };
    serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    let resp = with_session(Request::get(&format!("{BASE}{path}")))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(resp).await
}

async fn send<B: Serialize, T: DeserializeOwned>(
    req: RequestBuilder,
    body: &B,
    abort: Option<&AbortSignal>,
) -> ApiResult<T> {
    let req = with_session(req)
        .abort_signal(abort)
        .json(body)
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    let resp = req
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    decode(resp).await
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(Request::post(&format!("{BASE}{path}")), body, None).await
}

/// POST that the caller can cancel (long previews).
pub async fn post_abortable<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    abort: &AbortSignal,
) -> ApiResult<T> {
    send(Request::post(&format!("{BASE}{path}")), body, Some(abort)).await
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(Request::patch(&format!("{BASE}{path}")), body, None).await
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    send(Request::put(&format!("{BASE}{path}")), body, None).await
}

pub async fn delete(path: &str) -> ApiResult<()> {
    let resp = with_session(Request::delete(&format!("{BASE}{path}")))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    check(resp).await.map(drop)
}

/// Percent-encodes a query value or path segment.
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
