//! The event page of an event that stays on its node (fleet mode): the studio asks the node
//! the id names, on that node's own subject, and waits a bounded time for its one reply.

use rulestudio_api::fleet::{self, NodeEvent, NodeEventReply, NodeEventRequest};
use rulestudio_api::protocol::Version;
use std::time::Duration;

/// How long the studio waits for a node's answer.
pub const WAIT: Duration = Duration::from_secs(3);

/// What asking a node for one of its events gave.
#[derive(Debug)]
pub enum Looked {
    Found(NodeEvent),
    /// The node answered that it does not hold it.
    Gone,
    /// No answer within [`WAIT`] (the node is away), or one that is not an answer.
    NoAnswer(String),
}

/// Asks `node` for event `id`.
pub async fn ask(client: &async_nats::Client, node: &str, id: &str) -> Looked {
    let request = NodeEventRequest {
        format: Version::CURRENT,
        id: id.to_string(),
    };
    let body = serde_json::to_vec(&request).expect("a request serialises");
    let asked = client.request(fleet::event_subject(node), body.into());
    let message = match tokio::time::timeout(WAIT, asked).await {
        Ok(Ok(message)) => message,
        Ok(Err(e)) => return Looked::NoAnswer(format!("node {node} did not answer: {e}")),
        Err(_) => return Looked::NoAnswer(format!("node {node} did not answer within {WAIT:?}")),
    };
    match serde_json::from_slice::<NodeEventReply>(&message.payload) {
        Ok(NodeEventReply::Found(event)) if event.id == id => Looked::Found(event),
        Ok(NodeEventReply::Found(event)) => {
            Looked::NoAnswer(format!("node {node} answered with event {}", event.id))
        }
        Ok(NodeEventReply::Gone) => Looked::Gone,
        Ok(NodeEventReply::Refused(why)) => Looked::NoAnswer(format!("node {node}: {why}")),
        Err(e) => Looked::NoAnswer(format!("node {node} answered something else: {e}")),
    }
}
