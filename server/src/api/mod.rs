//! The REST API under `/api/v1`: one module per resource, each with its `router()` and the
//! table of its endpoints (`ENDPOINTS`), from which `openapi.json` is generated and against
//! which the role tests run.

pub mod alerts;
pub mod audit;
pub mod baselines;
pub mod collectors;
pub mod docs;
pub mod events;
pub mod export;
pub mod live;
pub mod preview;
pub mod proposals;
pub mod session;
pub mod users;

use crate::auth::Access;
use crate::error::AppError;
use crate::state::AppState;
use axum::Router;

/// A documented endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    /// Relative to `/api/v1`, axum syntax (`/events/{id}`).
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// The status of a successful answer: 200, 201 or 204.
    pub ok: u16,
    /// The error statuses it answers, each with when, besides the 401 and 403 that follow from
    /// `access` (and 500). A status may be listed more than once, for different causes.
    pub errors: &'static [(u16, &'static str)],
}

/// Causes of errors that many endpoints share.
pub mod fails {
    pub const BODY: (u16, &str) = (
        400,
        "The body is not JSON of the documented shape, or a value in it is not acceptable (`message` names it)",
    );
    pub const QUERY: (u16, &str) = (
        400,
        "A query parameter is malformed or out of range (`message` names it)",
    );
    pub const ID: (u16, &str) = (400, "`{id}` is not an integer");
    pub const EVENT_ID: (u16, &str) = (
        400,
        "`{id}` is not an event id `NODE:INCARNATION:SEQ` (`message` names the faulty part)",
    );
    pub const TOO_LARGE: (u16, &str) = (413, "The body is larger than `--max-body-bytes`");
    pub const BUDGET: (u16, &str) = (
        503,
        "The request needs more than `--request-timeout` (`budget_exceeded`): narrow the window or the rules",
    );
    pub const STREAMS: (u16, &str) = (
        429,
        "The user already has `--max-streams-per-user` streams open; `Retry-After` says when to try again",
    );
    /// Public endpoints that change state (`crate::http::origin`); the others list 403 anyway.
    pub const CROSS_ORIGIN: (u16, &str) = (
        403,
        "Sent with the session cookie from a page of another origin, or not as JSON",
    );
    pub const FILTER: (u16, &str) = (
        400,
        "`filter` is not a Falco condition (`invalid_condition`, with `diagnostics`)",
    );
}

impl Endpoint {
    /// Every status it answers, in order, with the causes of each joined.
    pub fn responses(&self) -> Vec<(u16, String)> {
        let mut all: Vec<(u16, String)> = vec![(self.ok, success(self.ok).to_string())];
        all.extend(self.errors.iter().map(|&(s, why)| (s, why.to_string())));
        if self.access != Access::Public {
            all.push((
                401,
                "Not signed in: no token or session cookie, or an unknown or expired one".into(),
            ));
            all.push((
                403,
                format!("The caller's role is not {}", self.access.describe()),
            ));
        }
        if self.method != "GET" {
            all.push((
                503,
                "The database cannot be written (`storage_unavailable`: gone, read-only or its disk below `--min-free-disk-mb`; `message` says which, as `/healthz` does)".into(),
            ));
        }
        all.sort_by_key(|(s, _)| *s);
        let mut out: Vec<(u16, String)> = Vec::new();
        for (status, why) in all {
            match out.last_mut() {
                Some((last, causes)) if *last == status => {
                    causes.push_str("; or ");
                    causes.push_str(&lowercase_first(&why));
                }
                _ => out.push((status, why)),
            }
        }
        out
    }

    /// Whether `status` is one of the documented answers.
    pub fn answers(&self, status: u16) -> bool {
        self.responses().iter().any(|(s, _)| *s == status)
    }
}

fn success(status: u16) -> &'static str {
    match status {
        201 => "Created",
        204 => "Done; no body",
        _ => "OK",
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn endpoints() -> impl Iterator<Item = &'static Endpoint> {
    [
        session::ENDPOINTS,
        users::ENDPOINTS,
        events::ENDPOINTS,
        export::ENDPOINTS,
        baselines::ENDPOINTS,
        preview::ENDPOINTS,
        live::ENDPOINTS,
        proposals::ENDPOINTS,
        audit::ENDPOINTS,
        alerts::ENDPOINTS,
        collectors::ENDPOINTS,
        docs::ENDPOINTS,
    ]
    .into_iter()
    .flatten()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(users::router())
        .merge(events::router())
        .merge(baselines::router())
        .merge(preview::router())
        .merge(live::router())
        .merge(proposals::router())
        .merge(audit::router())
        .merge(alerts::router())
        .merge(collectors::router())
        .merge(docs::router())
        .fallback(|| async { AppError::NotFound("no such API endpoint".into()) })
}
