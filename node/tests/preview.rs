//! A node answering previews over a real `nats-server`: a request beyond the node's budget of
//! concurrent previews is refused `busy` at once, and answered once a permit is free.

// Shared with the server and collector tests; this one does not restart NATS.
#[allow(dead_code)]
#[path = "../../server/tests/common/nats.rs"]
mod nats;

use rulestudio_api::fleet::{self, NodePreviewReply, NodePreviewRequest, NodeRefusal};
use rulestudio_api::live::RulesFile;
use rulestudio_api::protocol::Version;
use rulestudio_node::preview::{MAX_CONCURRENT, answer_within};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The node's reply to `request`, once the node has subscribed (bounded).
async fn ask(client: &async_nats::Client, request: &NodePreviewRequest) -> NodePreviewReply {
    let body = serde_json::to_vec(request).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client
            .request(fleet::preview_subject("node-b"), body.clone().into())
            .await
        {
            Ok(message) => return serde_json::from_slice(&message.payload).unwrap(),
            Err(e) => assert!(Instant::now() < deadline, "no reply: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_beyond_the_nodes_budget_is_refused_busy_then_answered() {
    let nats = nats::NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, _) =
        rulestudio_store::Store::open(dir.path(), "node-b", Default::default()).unwrap();
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT));
    let node = tokio::spawn(answer_within(
        client.clone(),
        "node-b".into(),
        Arc::new(store),
        permits.clone(),
    ));
    let request = NodePreviewRequest {
        format: Version::CURRENT,
        files: vec![RulesFile {
            name: "draft.yaml".into(),
            content: include_str!("../../server/tests/data/draft.yaml").into(),
        }],
        rules: Vec::new(),
        since: 0,
        until: 1_000_000_000_000,
        bucket_ns: 1_000_000_000_000,
        samples: 5,
        deadline_ms: 10_000,
    };

    // Every permit taken, as by previews still running.
    let running = permits
        .clone()
        .acquire_many_owned(MAX_CONCURRENT as u32)
        .await
        .unwrap();
    assert_eq!(
        ask(&client, &request).await,
        NodePreviewReply::Refused(NodeRefusal::Busy)
    );
    drop(running);
    match ask(&client, &request).await {
        NodePreviewReply::Found(found) => assert!(found.complete),
        other => panic!("not answered: {other:?}"),
    }
    node.abort();
}
