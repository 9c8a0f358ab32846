//! Fleet mode's event page on the node: the studio asks for one event by id on the node's own
//! subject ([`fleet::event_subject`]) and the node answers from its store, so an alert's or a
//! sample's event can be shown although events stay on their node. One look-up reads one
//! event; at most [`MAX_CONCURRENT`] run at once (others are refused `busy`).

use futures::StreamExt;
use rulestudio_api::fleet::{self, NodeEvent, NodeEventReply, NodeEventRequest, NodeRefusal};
use rulestudio_api::protocol::Version;
use rulestudio_store::{EventId, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Look-ups a node runs at once.
pub const MAX_CONCURRENT: usize = 4;

/// Answers event look-ups on `node`'s subject until the task is aborted, subscribing again
/// after a failure.
pub async fn answer(client: async_nats::Client, node: String, store: Arc<Store>) {
    let subject = fleet::event_subject(&node);
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT));
    loop {
        match client.subscribe(subject.clone()).await {
            Ok(mut requests) => {
                while let Some(message) = requests.next().await {
                    let Some(reply) = message.reply.clone() else {
                        continue;
                    };
                    let (client, store) = (client.clone(), store.clone());
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        send(&client, reply, NodeEventReply::Refused(NodeRefusal::Busy)).await;
                        continue;
                    };
                    tokio::spawn(async move {
                        let answer =
                            tokio::task::spawn_blocking(move || look_up(&store, &message.payload))
                                .await
                                .unwrap_or_else(|e| {
                                    NodeEventReply::Refused(NodeRefusal::Invalid {
                                        message: format!("the look-up failed: {e}"),
                                    })
                                });
                        drop(permit);
                        send(&client, reply, answer).await;
                    });
                }
            }
            Err(e) => tracing::warn!("subscribing to {subject}: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn send(client: &async_nats::Client, reply: async_nats::Subject, answer: NodeEventReply) {
    let body = serde_json::to_vec(&answer).expect("a reply serialises");
    if let Err(e) = client.publish(reply, body.into()).await {
        tracing::debug!("event reply not published: {e}");
    }
}

/// Answers one request from `store` (a blocking thread).
pub fn look_up(store: &Store, payload: &[u8]) -> NodeEventReply {
    let refuse = |message: String| NodeEventReply::Refused(NodeRefusal::Invalid { message });
    let request: NodeEventRequest = match serde_json::from_slice(payload) {
        Ok(r) => r,
        Err(e) => return refuse(format!("not an event request: {e}")),
    };
    if request.format.check().is_err() {
        return NodeEventReply::Refused(NodeRefusal::Format {
            format: request.format.0,
        });
    }
    let id: EventId = match request.id.parse() {
        Ok(id) => id,
        Err(e) => return refuse(e.to_string()),
    };
    if id.node != store.node() || id.incarnation != store.incarnation() {
        return NodeEventReply::Gone;
    }
    match crate::scan::fetch(store, &[id.seq]) {
        Ok(found) => match found.into_iter().next() {
            Some((_, time, event)) => NodeEventReply::Found(NodeEvent {
                format: Version::CURRENT,
                id: request.id,
                time,
                fields: crate::scan::fields_json(&event),
            }),
            None => NodeEventReply::Gone,
        },
        Err(e) => refuse(format!("reading the event store: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_engine::event::Event;

    #[test]
    fn finds_its_own_events_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) =
            Store::open(dir.path(), "n1", rulestudio_store::Config::default()).unwrap();
        let ev = Event::from_json_str(r#"{"evt.time":5,"evt.type":"openat","proc.name":"cat"}"#)
            .unwrap();
        let seqs = store.append(&[ev], 10).unwrap();
        let ask = |id: String| {
            look_up(
                &store,
                &serde_json::to_vec(&NodeEventRequest {
                    format: Version::CURRENT,
                    id,
                })
                .unwrap(),
            )
        };
        let id = store.id(seqs.start).to_string();
        match ask(id.clone()) {
            NodeEventReply::Found(found) => {
                assert_eq!(found.id, id);
                assert_eq!(found.time, 5);
                assert_eq!(found.fields["proc.name"], "cat");
            }
            other => panic!("{other:?}"),
        }
        let other_node = id.replacen("n1:", "n2:", 1);
        assert_eq!(ask(other_node), NodeEventReply::Gone);
        let later = store.id(seqs.start + 1).to_string();
        assert_eq!(ask(later), NodeEventReply::Gone);
        assert!(matches!(
            ask("n1:x:1".into()),
            NodeEventReply::Refused(NodeRefusal::Invalid { .. })
        ));
    }
}
