//! A real Rulestudio server on a temporary SQLite file, for the tests that deliver to it.

use rulestudio_server::config::ServeArgs;
use rulestudio_server::{AppState, app};
use std::net::SocketAddr;
use std::path::Path;
use tokio::sync::oneshot;

pub struct Running {
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
    pub state: AppState,
}

/// Serves `db` on `addr` (which may have served before: restarts reuse the port) with `token`
/// as the admin token.
pub async fn start_server(db: &Path, addr: SocketAddr, token: &str) -> Running {
    let mut args = ServeArgs::with_db(db);
    args.admin_token = Some(token.into());
    args.static_dir = db.with_file_name("no-ui");
    let state = AppState::new(args).await.expect("server state");
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("binding the server port again");
    let (stop, stopped) = oneshot::channel::<()>();
    let router = app(state.clone());
    let done = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running { stop, done, state }
}

pub async fn stop_server(r: Running) -> AppState {
    // As `rulestudio_server::serve` does on a stop: following nodes are answered at once.
    r.state.live.close();
    let _ = r.stop.send(());
    r.done.await.unwrap();
    r.state
}
