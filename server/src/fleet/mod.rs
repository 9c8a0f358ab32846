//! Fleet mode, the studio's side (`--nats URL`, decision 0025): the live set goes to the nodes
//! through a JetStream key-value bucket ([`live`]), and their heartbeats come back on each
//! node's own subject ([`heartbeats`]), their alerts on the alerts stream ([`alerts`]). Events
//! stay on the nodes; a preview is asked of every node and merged ([`preview`]), and the event
//! page of a node's event is asked of that node ([`lookup`]).

pub mod alerts;
mod heartbeats;
mod live;
pub mod lookup;
pub mod preview;

use crate::state::AppState;
use rulestudio_api::fleet::connect::{NatsOptions, connect};
use std::sync::{Arc, RwLock};

/// The studio's NATS connection while fleet mode runs, for requests that ask the nodes.
#[derive(Default)]
pub struct Connection(RwLock<Option<async_nats::Client>>);

impl Connection {
    /// The connection, or `None` without `--nats` (preview then reads the studio's own store).
    pub fn client(&self) -> Option<async_nats::Client> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, client: Option<async_nats::Client>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = client;
    }
}

/// The fleet tasks of one studio; they stop, and requests stop asking the nodes, when this is
/// dropped.
pub struct Fleet {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    connection: Arc<Connection>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.connection.set(None);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Connects to `--nats` and starts publishing the live set and taking heartbeats. A NATS server
/// that is not up yet is retried in the background; a credentials or CA file that cannot be
/// read stops the start, named.
pub async fn start(state: &AppState, url: &str) -> anyhow::Result<Fleet> {
    let client = connect(&NatsOptions {
        url: url.to_string(),
        creds_file: state.config.nats_creds_file.clone(),
        ca_cert: state.config.ca_cert.clone(),
        name: "rulestudio-studio".into(),
    })
    .await?;
    state.fleet.set(Some(client.clone()));
    Ok(Fleet {
        connection: state.fleet.clone(),
        tasks: vec![
            tokio::spawn(live::publish(state.clone(), client.clone())),
            tokio::spawn(heartbeats::take(state.clone(), client.clone())),
            tokio::spawn(alerts::take(state.clone(), client)),
        ],
    })
}
