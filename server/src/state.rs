//! `AppState`: what every handler shares.

use crate::cache::EventCache;
use crate::config::ServeArgs;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::password::Passwords;
use crate::throttle::LoginThrottle;
use rulestudio_api::alerts::Alert;
use sqlx::SqlitePool;
use std::sync::Arc;
use tokio::sync::{Notify, broadcast, mpsc};

/// How many alerts the SSE stream buffers for a slow reader before it skips.
const ALERT_STREAM_BUFFER: usize = 4096;

#[derive(Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub config: Arc<ServeArgs>,
    pub live: Arc<Live>,
    /// Where events are stored (`--store`).
    pub store: Arc<rulestudio_store::Store>,
    /// The recent window of events in memory, for preview.
    pub cache: Arc<EventCache>,
    /// Woken after each ingest commit, for [`crate::db::checkpoint_after_commits`].
    pub commits: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// Every stored alert, for `GET /api/v1/alerts/stream`.
    pub alerts: broadcast::Sender<Arc<Alert>>,
    /// Every stored event, for `GET /api/v1/events/stream`.
    pub events: crate::event_stream::Sender,
    /// To the `--forward-url` task, when configured.
    pub forward: Option<mpsc::Sender<Arc<Alert>>>,
    /// Proposal events to `--notify-url`, when configured.
    pub notify: Notifier,
    /// Argon2 on its bounded pool.
    pub passwords: Passwords,
    pub login_throttle: Arc<LoginThrottle>,
    /// Open SSE streams per user, and their ending when the user goes.
    pub streams: Arc<crate::streams::Streams>,
    /// Whether the database can still be written.
    pub storage: Arc<crate::storage::Storage>,
    /// The NATS connection while fleet mode runs (`--nats`): preview asks the nodes.
    pub fleet: Arc<crate::fleet::Connection>,
}

impl AppState {
    /// Opens (migrates, seeds) the database and compiles the live set. Background tasks are
    /// started by [`crate::serve`], so tests get a state without them.
    pub async fn new(config: ServeArgs) -> anyhow::Result<AppState> {
        let db = crate::db::open(&config.db).await?;
        let storage = crate::storage::Storage::opened(&config.db, config.min_free_disk_mb)?;
        let metrics = Arc::<Metrics>::default();
        let passwords = Passwords::start(metrics.clone());
        crate::bootstrap::first_start(&db, &config, &passwords).await?;
        let live = Live::load(&db).await?;
        let store = crate::event_store::open(&config)?;
        crate::ingest::resolve_pending(&db, &store).await?;
        // The cache is keyed by the store's sequence numbers.
        let cache = EventCache::new(
            config.preview_cache_mb.saturating_mul(1 << 20),
            store.next_seq() as i64,
        );
        let (alerts, _) = broadcast::channel(ALERT_STREAM_BUFFER);
        // Unlike the background tasks, notification delivery is part of handling requests: it
        // lives exactly as long as the state that sends to it.
        let notify = match &config.notify_url {
            Some(url) => Notifier::start(
                url.clone(),
                crate::webhook::Poster::new(config.ca_cert.as_deref())?,
                metrics.clone(),
            ),
            None => Notifier::default(),
        };
        let streams = Arc::new(crate::streams::Streams::new(
            config.max_streams_per_user as usize,
        ));
        Ok(AppState {
            db,
            config: Arc::new(config),
            live: Arc::new(live),
            store,
            cache: Arc::new(cache),
            commits: Arc::default(),
            metrics,
            alerts,
            events: crate::event_stream::channel(),
            forward: None,
            fleet: Arc::default(),
            notify,
            passwords,
            login_throttle: Arc::default(),
            streams,
            storage: Arc::new(storage),
        })
    }
}
