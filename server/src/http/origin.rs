//! Cookie-signed changes must come from this server's own pages. `SameSite=Strict` stops other
//! *sites*, but a page on another port of the same host is the same site: it closed a
//! proposal and ingested an event with a signed-in reviewer's cookie. So a state-changing
//! request that carries the session cookie must say it is same-origin (`Origin` naming this
//! host, or `Sec-Fetch-Site: same-origin`) and, when it has a body, be JSON, which a page of
//! another origin cannot send without a CORS preflight this server never grants. Calls with a
//! bearer token are not affected: a browser never adds one by itself.

use crate::auth::{SESSION_COOKIE, bearer, cookie};
use crate::error::AppError;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin_changes(req: Request, next: Next) -> Response {
    match check(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check(method: &Method, headers: &HeaderMap) -> Result<(), AppError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || bearer(headers).is_some()
    {
        return Ok(());
    }
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let signed_in = cookie(headers, SESSION_COOKIE).is_some();
    // Without the cookie (signing in, for one) a browser's cross-origin request is still
    // refused, so another page cannot sign a visitor in as someone else.
    if !signed_in && origin.is_none() {
        return Ok(());
    }
    if !is_same_origin(headers, origin) {
        return Err(AppError::Forbidden(format!(
            "cross-origin request refused: a change signed in by cookie must come from this \
             server's own pages (Origin {} is not {})",
            origin.map_or("absent".to_string(), |o| format!("`{o}`")),
            headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .map_or("this server".to_string(), |h| format!("`{h}`")),
        )));
    }
    let has_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if signed_in && has_body && !is_json(headers) {
        return Err(AppError::Forbidden(
            "a change signed in by cookie must be sent as `Content-Type: application/json`".into(),
        ));
    }
    Ok(())
}

fn is_same_origin(headers: &HeaderMap, origin: Option<&str>) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "same-origin")
    {
        return true;
    }
    let (Some(origin), Some(host)) = (origin, headers.get(HOST).and_then(|v| v.to_str().ok()))
    else {
        return false;
    };
    // One port serves one scheme, so host and port decide.
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const COOKIE: (&str, &str) = ("cookie", "rulestudio_session=abc");
    const HOST_: (&str, &str) = ("host", "127.0.0.1:8080");
    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn cookie_changes_need_this_origin_and_json() {
        let post = Method::POST;
        assert!(check(&post, &headers(&[COOKIE, HOST_, JSON])).is_err());
        assert!(
            check(
                &post,
                &headers(&[COOKIE, HOST_, JSON, ("origin", "http://127.0.0.1:9090")])
            )
            .is_err()
        );
        assert!(
            check(
                &post,
                &headers(&[COOKIE, HOST_, JSON, ("origin", "http://127.0.0.1:8080")])
            )
            .is_ok()
        );
        assert!(
            check(
                &post,
                &headers(&[COOKIE, HOST_, ("sec-fetch-site", "same-origin"), JSON])
            )
            .is_ok()
        );
        let form = check(
            &post,
            &headers(&[
                COOKIE,
                HOST_,
                ("origin", "http://127.0.0.1:8080"),
                ("content-type", "text/plain"),
            ]),
        );
        assert!(form.unwrap_err().to_string().contains("application/json"));
        assert!(check(&Method::GET, &headers(&[COOKIE, HOST_])).is_ok());
    }

    #[test]
    fn bearer_calls_and_cookieless_calls_without_origin_pass() {
        let post = Method::POST;
        assert!(
            check(
                &post,
                &headers(&[COOKIE, HOST_, ("authorization", "Bearer rs_x")])
            )
            .is_ok()
        );
        assert!(check(&post, &headers(&[HOST_, JSON])).is_ok());
        assert!(
            check(
                &post,
                &headers(&[HOST_, JSON, ("origin", "http://evil.example")])
            )
            .is_err()
        );
    }
}
