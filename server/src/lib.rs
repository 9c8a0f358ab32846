//! The Rulestudio server: event store, preview, live set, review and alerts over REST (axum + sqlx/SQLite).
