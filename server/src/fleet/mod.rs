//! Fleet mode, the studio's side (`--nats URL`, decision 0025): the live set goes to the nodes
//! through a JetStream key-value bucket ([`live`]), and their heartbeats come back on each
//! node's own subject ([`heartbeats`]). Events stay on the nodes.

mod heartbeats;
mod live;

use crate::state::AppState;
use rulestudio_api::fleet::connect::{NatsOptions, connect};

/// The fleet tasks of one studio; they stop when this is dropped.
pub struct Fleet {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
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
    Ok(Fleet {
        tasks: vec![
            tokio::spawn(live::publish(state.clone(), client.clone())),
            tokio::spawn(heartbeats::take(state.clone(), client)),
        ],
    })
}
