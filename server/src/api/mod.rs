//! The REST API under `/api/v1`: one module per resource, each with its `router()` and the
//! table of its endpoints (`ENDPOINTS`), from which `openapi.json` is generated and against
//! which the role tests run.

pub mod alerts;
pub mod audit;
pub mod baselines;
pub mod collectors;
pub mod docs;
pub mod events;
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
}

pub fn endpoints() -> impl Iterator<Item = &'static Endpoint> {
    [
        session::ENDPOINTS,
        users::ENDPOINTS,
        events::ENDPOINTS,
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
