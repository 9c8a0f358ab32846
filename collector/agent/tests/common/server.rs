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

/// What the studio stored from `node`, oldest first, as interchange JSON texts. The server
/// names the sending node as the `evt.hostname` of events that have none (the collector's do
/// not), so that field is what tells a node's events apart; it is left out of the texts, which
/// then compare with what the collector captured and recorded.
pub fn stored_from(state: &AppState, node: &str) -> Vec<String> {
    let everything = rulestudio_store::ScanRequest::default();
    let page = state
        .store
        .scan(&everything, |_| true)
        .expect("scanning the event store");
    page.events
        .iter()
        .filter_map(|found| {
            let mut fields = rulestudio_server::stored::fields_json(&found.event);
            let host = fields.remove("evt.hostname");
            (host.as_ref().and_then(|h| h.as_str()) == Some(node))
                .then(|| serde_json::Value::Object(fields).to_string())
        })
        .collect()
}

/// Makes the file `name` holding `content` the whole live set, as a promotion does; returns
/// its version.
pub async fn promote(state: &AppState, name: &str, content: &str) -> i64 {
    state
        .live
        .promote(
            &state.db,
            rulestudio_server::live::NewVersion {
                files: vec![rulestudio_api::live::RulesFile {
                    name: name.into(),
                    content: content.into(),
                }],
                by: "admin",
                proposal: None,
                note: "test".into(),
                expected_base: None,
            },
        )
        .await
        .unwrap()
        .version
}
