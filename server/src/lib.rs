//! The Rulestudio server: event store, preview, live set and alerts over REST (axum + sqlx on
//! SQLite in WAL mode). The `rulestudio serve` command (crate `cli`) calls [`serve`]; tests and
//! benchmarks build the same router with [`app`].

// Unsafe code only in the modules listed in ARCHITECTURE.md ("Unsafe code"), each block with
// a `// SAFETY:` comment; `xtask/tests/unsafe_policy.rs` keeps the list true.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod alerting;
pub mod api;
mod audit;
pub mod auth;
mod bootstrap;
pub mod cache;
mod condition;
pub mod config;
pub mod db;
pub mod error;
pub mod event_store;
mod event_stream;
mod exception;
pub mod fleet;
pub mod http;
mod ingest;
pub mod legacy;
mod limits;
pub mod live;
pub mod metrics;
mod node_alerts;
mod notify;
mod password;
mod preview;
pub mod retention;
mod review;
pub mod shutdown;
pub mod state;
mod storage;
pub mod stored;
mod streams;
mod system;
mod throttle;
pub mod time;
mod webhook;

pub use bootstrap::token_file;
pub use config::ServeArgs;
pub use state::AppState;

use anyhow::Context;
use axum::Router;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface: `/api/v1`, `/healthz`, `/metrics` and the UI.
pub fn app(state: AppState) -> Router {
    let api = api::router(&state)
        .layer(api::events::body_limit(&state))
        .layer(axum::middleware::from_fn(http::origin::same_origin_changes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            storage::refuse_writes_when_unwritable,
        ));
    Router::new()
        .nest(rulestudio_api::routes::PREFIX, api)
        .merge(system::router())
        .merge(system::static_ui(&state.config.static_dir))
        .layer(axum::middleware::from_fn(http::headers::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Runs the server until SIGTERM or SIGINT: opens the database, starts retention and alert
/// forwarding. A stop drains the requests in flight and closes the database, within
/// [`shutdown::GRACE`].
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listen = args.listen;
    let forward_url = args.forward_url.clone();
    // Read before anything starts, so that a bad certificate or key stops the start with its
    // file named.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(http::tls::acceptor(cert, key)?),
        _ => None,
    };
    let mut state = AppState::new(args).await?;
    if let Some(url) = forward_url {
        let poster = webhook::Poster::new(state.config.ca_cert.as_deref())?;
        let (tx, rx) = tokio::sync::mpsc::channel(alerting::FORWARD_QUEUE);
        tokio::spawn(alerting::forward(url, poster, rx, state.metrics.clone()));
        state.forward = Some(tx);
    }
    // Kept until the server stops: dropping it stops the fleet tasks.
    let _fleet = match &state.config.nats {
        Some(url) => Some(fleet::start(&state, url).await?),
        None => None,
    };
    tokio::spawn(retention::run(state.clone()));
    tokio::spawn(event_store::maintain(state.store.clone()));
    let migrating = state.clone();
    tokio::spawn(async move {
        if let Err(e) = legacy::migrate(&migrating).await {
            tracing::error!(error = %e, "moving old events into the event store failed; it resumes at the next start");
        }
    });
    tokio::spawn(db::checkpoint_after_commits(
        state.db.clone(),
        state.commits.clone(),
    ));
    let warming = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.cache.warm(&warming.store).await {
            tracing::error!(error = %e, "warming the preview cache failed; preview reads older events from the event store");
        }
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(%listen, tls = tls.is_some(), "rulestudio serving");
    let db = state.db.clone();
    let store = state.store.clone();
    let stop = shutdown::Stop::on_signal();
    let asked = stop.clone().asked();
    let limits = http::Limits::of(&state.config);
    let live = state.live.clone();
    let asked = async move {
        asked.await;
        // Nodes waiting for the next live version are answered, not held until the grace.
        live.close();
    };
    let drained = async {
        http::serve_tls(listener, app(state), limits, tls, asked).await;
        // Batches whose client left are still being stored: closing waits for their
        // connections to come back.
        db.close().await;
        event_store::seal(store).await;
    };
    tokio::select! {
        () = drained => Ok(()),
        () = stop.grace_over() => {
            tracing::warn!("requests still in flight after {:?}: exiting without them", shutdown::GRACE);
            Ok(())
        }
    }
}
