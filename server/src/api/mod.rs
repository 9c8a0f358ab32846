//! The REST API under `/api/v1`: one module per resource, each with the table of its
//! endpoints (`ENDPOINTS`). One entry per endpoint is its only declaration: [`router`] builds
//! the route from it and enforces its `access` before the handler runs, `openapi.json` is
//! generated from it, and the role and status tests run against it. A route cannot exist
//! without an entry, so no endpoint escapes the role check or the documentation.

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
pub mod triage;
pub mod users;

use crate::auth::{Access, Caller};
use crate::error::{AppError, Result};
use crate::state::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
pub use rulestudio_api::calls;
pub use rulestudio_api::doc::{Media, Payload, SchemaFn, Typed, json, typed};

/// A documented endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Its route and the types it takes and answers: one call declared in
    /// `rulestudio_api::calls`, which the programs that call it use too (`typed::<calls::X>()`).
    /// Errors are always [`rulestudio_api::error::ErrorBody`].
    pub call: Typed,
    pub access: Access,
    pub summary: &'static str,
    /// The status of a successful answer: 200, 201 or 204.
    pub ok: u16,
    /// The error statuses it answers, each with when, besides the 401 and 403 that follow from
    /// `access` (and 500). A status may be listed more than once, for different causes.
    pub errors: &'static [(u16, &'static str)],
    /// The handler, routed for `method` (`|m| on(m, handler)`).
    pub handler: fn(MethodFilter) -> MethodRouter<AppState>,
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
        if self.call.route.method != "GET" {
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
        triage::ENDPOINTS,
        collectors::ENDPOINTS,
        docs::ENDPOINTS,
    ]
    .into_iter()
    .flatten()
}

/// The API's routes, each built from its [`Endpoint`] with `access` enforced in front of the
/// handler; anything else is 404.
pub fn router(state: &AppState) -> Router<AppState> {
    routes(state, endpoints())
}

/// The routes of `table`, each with its access enforced, and the API's 404 for anything else.
pub fn routes<'a>(
    state: &AppState,
    table: impl IntoIterator<Item = &'a Endpoint>,
) -> Router<AppState> {
    let mut router = Router::new();
    for e in table {
        let mut route = (e.handler)(method_filter(e.call.route.method));
        if e.access != Access::Public {
            route = route.route_layer(middleware::from_fn_with_state(
                (state.clone(), e.access),
                require_access,
            ));
        }
        router = router.route(e.call.route.path, route);
    }
    router.fallback(|| async { AppError::NotFound("no such API endpoint".into()) })
}

fn method_filter(method: &str) -> MethodFilter {
    match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "DELETE" => MethodFilter::DELETE,
        "PATCH" => MethodFilter::PATCH,
        // The tables are constants: a test builds the router, so this cannot reach a user.
        other => panic!("endpoint table: unsupported method {other}"),
    }
}

/// The caller must be signed in with a role `access` allows (401, 403); the caller is then
/// handed to the handler's extractor without a second look-up.
async fn require_access(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: Next,
) -> Result<Response> {
    let (mut parts, body) = request.into_parts();
    let caller = Caller::from_request_parts(&mut parts, &state).await?;
    caller.require(access)?;
    parts.extensions.insert(caller);
    Ok(next.run(Request::from_parts(parts, body)).await)
}
