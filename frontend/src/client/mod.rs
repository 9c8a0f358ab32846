//! The one REST client of the UI: same-origin `fetch` with the session cookie of a typed call
//! ([`call`]: `client::call::<calls::ListAlerts>(&(), &query, &())`), its path, query and body
//! from the call's declaration in `rulestudio_api::calls`, and a typed error that keeps the
//! server's code, message and diagnostics.

pub mod types;

use gloo_net::http::{Method, RequestBuilder, Response};
pub use rulestudio_api::calls::{self, Body, Call};
use rulestudio_api::diagnostic::DiagnosticJson;
pub use rulestudio_api::query;
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
    /// The page's address names something that cannot exist (a proposal number that is not
    /// a number); nothing was asked of the server.
    #[error("{0}")]
    Address(String),
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

/// The same-origin URL of call `C` with its path parameters and query, for what the browser
/// fetches itself: an `EventSource`, a download link.
pub fn url<C: Call>(params: &C::Params, query: &C::Query) -> String {
    calls::url::<C>("", params, query)
}

/// Calls `C` with its path parameters, query and body, and answers its decoded response.
pub async fn call<C: Call>(
    params: &C::Params,
    query: &C::Query,
    body: &<C::Request as Body>::Value,
) -> ApiResult<<C::Response as Body>::Value> {
    send::<C>(params, query, body, None).await
}

/// [`call`] that the caller can cancel (long previews).
pub async fn call_abortable<C: Call>(
    params: &C::Params,
    query: &C::Query,
    body: &<C::Request as Body>::Value,
    abort: &AbortSignal,
) -> ApiResult<<C::Response as Body>::Value> {
    send::<C>(params, query, body, Some(abort)).await
}

async fn send<C: Call>(
    params: &C::Params,
    query: &C::Query,
    body: &<C::Request as Body>::Value,
    abort: Option<&AbortSignal>,
) -> ApiResult<<C::Response as Body>::Value> {
    let url = url::<C>(params, query);
    let method = Method::from_bytes(C::ROUTE.method.as_bytes())
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    let req = with_session(RequestBuilder::new(&url).method(method)).abort_signal(abort);
    let encoded =
        <C::Request as Body>::encode(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    let resp = match encoded {
        Some((kind, bytes)) => {
            req.header("Content-Type", kind)
                .body(js_sys::Uint8Array::from(bytes.as_slice()))
                .map_err(|e| ApiError::Decode(e.to_string()))?
                .send()
                .await
        }
        // The server takes a change signed in by cookie only as JSON, body or not (its defence
        // against pages of other origins), so a change without a body still says it is JSON.
        None if matches!(C::ROUTE.method, "POST" | "PUT" | "PATCH") => {
            req.header("Content-Type", "application/json").send().await
        }
        None => req.send().await,
    }
    .map_err(|e| ApiError::Network(e.to_string()))?;
    let bytes = check(resp)
        .await?
        .binary()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    <C::Response as Body>::decode(&bytes).map_err(|e| ApiError::Decode(e.to_string()))
}

/// Percent-encodes a value of the UI's own addresses (`/events?q=`).
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
