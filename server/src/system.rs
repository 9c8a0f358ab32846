//! Outside `/api/v1`: `GET /healthz`, `GET /metrics`, and the web UI at `/`.

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// Healthy when the database answers and can be written; otherwise 503 with the reason.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let unavailable = |why: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: {why}\n"),
        )
    };
    if let Err(why) = state.storage.check() {
        tracing::error!(error = %why, "health check failed");
        return unavailable(why.to_string());
    }
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.db)
        .await
    {
        Ok(_) => (StatusCode::OK, "ok\n".to_string()),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            unavailable(format!("the database does not answer: {e}"))
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    crate::event_store::render_metrics(&state.store, &mut text);
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// The built UI with single-page-app fallback to `index.html`; a placeholder page when the
/// UI has not been built.
pub fn static_ui(dir: &Path) -> Router<AppState> {
    let index = dir.join("index.html");
    if index.is_file() {
        Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
    } else {
        let message = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rulestudio</title></head>\
             <body style=\"font-family:sans-serif;margin:3em\"><h1>Rulestudio</h1>\
             <p>The web UI is not built: <code>{}</code> has no <code>index.html</code>. \
             Build the frontend, or point <code>--static-dir</code> / <code>RULESTUDIO_STATIC_DIR</code> at it.</p>\
             <p>The REST API works: see <a href=\"{docs}\">{docs}</a>.</p></body></html>",
            dir.display().to_string().replace('<', "&lt;"),
            docs = rulestudio_api::routes::GET_DOCS.url("", &[]),
        );
        Router::new().fallback(get(move || async move { Html(message) }))
    }
}
