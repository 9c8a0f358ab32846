//! Fleet mode's preview on the node (issue #16, decision 0026): the studio asks each node on its
//! own subject ([`fleet::preview_subject`]); the node judges the draft's rules over its own
//! event store ([`crate::scan`]) and replies with counts, wall-clock histogram buckets and the
//! newest samples, which the studio merges.
//!
//! Queries never hurt capture: at most [`MAX_CONCURRENT`] run at once (others are refused
//! `busy` at once), each on a blocking thread, stopping at the deadline it was given (and
//! saying so), with capped samples, buckets and reply size.

use crate::scan::{self, Probe, Range, Stop};
use futures::StreamExt;
use rulestudio_api::fleet::{
    self, NodePreview, NodePreviewReply, NodePreviewRequest, NodeRefusal, NodeRulePreview,
};
use rulestudio_api::preview::{Bucket, Sample};
use rulestudio_engine::loader::{self, LoadOptions};
use rulestudio_engine::stop::StopCheck;
use rulestudio_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Previews a node runs at once.
pub const MAX_CONCURRENT: usize = 2;
/// Samples per rule a node sends, whatever it is asked.
pub const MAX_SAMPLES: usize = 50;
/// Histogram buckets a window may span.
pub const MAX_BUCKETS: i64 = 1_000;
/// The longest deadline a node accepts; a longer one is cut to this.
pub const MAX_DEADLINE: Duration = Duration::from_secs(60);
/// Rules one request may judge.
pub const MAX_RULES: usize = 256;

/// Answers preview requests on `node`'s subject until the task is aborted, subscribing again
/// after a failure.
pub async fn answer(client: async_nats::Client, node: String, store: Arc<Store>) {
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT));
    let subject = fleet::preview_subject(&node);
    loop {
        match client.subscribe(subject.clone()).await {
            Ok(mut requests) => {
                while let Some(message) = requests.next().await {
                    let Some(reply) = message.reply.clone() else {
                        continue;
                    };
                    let received = Instant::now();
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        send(&client, reply, NodePreviewReply::Refused(NodeRefusal::Busy)).await;
                        continue;
                    };
                    let (client, store) = (client.clone(), store.clone());
                    tokio::spawn(async move {
                        let answer = tokio::task::spawn_blocking(move || {
                            run(&store, &message.payload, received)
                        })
                        .await;
                        drop(permit);
                        let answer = answer.unwrap_or_else(|e| {
                            NodePreviewReply::Refused(NodeRefusal::Invalid {
                                message: format!("the preview failed: {e}"),
                            })
                        });
                        send(&client, reply, answer).await;
                    });
                }
            }
            Err(e) => tracing::warn!("subscribing to {subject}: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Publishes `answer`, without samples when it would not fit in one NATS message.
async fn send(
    client: &async_nats::Client,
    reply: async_nats::Subject,
    mut answer: NodePreviewReply,
) {
    let limit = client.server_info().max_payload.max(1);
    let mut body = serde_json::to_vec(&answer).expect("a reply serialises");
    while body.len() >= limit {
        let NodePreviewReply::Found(found) = &mut answer else {
            break;
        };
        // Halve the samples of every rule until it fits: counts are what matters.
        let mut dropped = false;
        for r in &mut found.rules {
            let keep = r.samples.len() / 2;
            dropped |= keep < r.samples.len();
            r.samples.truncate(keep);
        }
        if !dropped {
            break;
        }
        body = serde_json::to_vec(&answer).expect("a reply serialises");
    }
    if let Err(e) = client.publish(reply, body.into()).await {
        tracing::debug!("preview reply not published: {e}");
    }
}

/// Runs one request over `store` (a blocking thread).
pub fn run(store: &Store, payload: &[u8], received: Instant) -> NodePreviewReply {
    let request: NodePreviewRequest = match serde_json::from_slice(payload) {
        Ok(r) => r,
        Err(e) => {
            return NodePreviewReply::Refused(NodeRefusal::Invalid {
                message: format!("not a preview request: {e}"),
            });
        }
    };
    match preview(store, &request, received) {
        Ok(found) => NodePreviewReply::Found(found),
        Err(refusal) => NodePreviewReply::Refused(refusal),
    }
}

/// The deadline was reached.
struct Late;

/// Judges `request.rules` over the store's events of the window, until the request's deadline.
pub fn preview(
    store: &Store,
    request: &NodePreviewRequest,
    received: Instant,
) -> Result<NodePreview, NodeRefusal> {
    let invalid = |message: String| NodeRefusal::Invalid { message };
    if request.format != fleet::FORMAT {
        return Err(NodeRefusal::Format {
            format: request.format,
        });
    }
    if request.bucket_ns <= 0 {
        return Err(invalid(format!(
            "`bucket_ns` is {}; it must be positive",
            request.bucket_ns
        )));
    }
    if request.until <= request.since {
        return Err(invalid("`until` must be after `since`".into()));
    }
    let span = (request.until as i128 - request.since as i128) / request.bucket_ns as i128;
    if span > MAX_BUCKETS as i128 {
        return Err(invalid(format!(
            "the window spans {span} buckets of `bucket_ns`; at most {MAX_BUCKETS}"
        )));
    }
    if request.rules.len() > MAX_RULES {
        return Err(invalid(format!(
            "{} rules asked; at most {MAX_RULES}",
            request.rules.len()
        )));
    }
    let at = received + Duration::from_millis(request.deadline_ms).min(MAX_DEADLINE);
    let late = || Instant::now() >= at;
    let sources = rulestudio_api::live::source_files(&request.files);
    let loaded = loader::load_or_stop(&sources, &LoadOptions::default(), StopCheck::new(&late))
        .map_err(|_| invalid("the deadline passed while the rules loaded".into()))?;
    let all = loaded.ruleset.rules();
    let mut probes = Vec::with_capacity(request.rules.len());
    for name in &request.rules {
        let rule = all
            .iter()
            .find(|r| &r.name == name)
            .ok_or_else(|| invalid(format!("rule '{name}' is not in the files sent")))?;
        probes.push(Probe::new(rule));
    }
    let range = Range {
        min_id: 0,
        since: request.since,
        until: request.until,
    };
    let mut scanned = 0;
    let check = || if late() { Err(Late) } else { Ok(()) };
    let complete = match scan::scan_store(store, range, i64::MAX, &mut probes, &mut scanned, &check)
    {
        Ok(()) => true,
        Err(Stop::Check(Late)) => false,
        Err(Stop::Store(e)) => return Err(invalid(format!("reading the event store: {e}"))),
    };
    let samples = request.samples.min(MAX_SAMPLES);
    let mut rules = Vec::with_capacity(probes.len());
    for p in &mut probes {
        p.kept.finish();
        rules.push(NodeRulePreview {
            name: p.rule.name.clone(),
            matched: p.count,
            histogram: histogram(p.kept.hits(), request.bucket_ns),
            samples: samples_of(store, p, samples)
                .map_err(|e| invalid(format!("reading samples: {e}")))?,
        });
    }
    Ok(NodePreview {
        format: fleet::FORMAT,
        scanned,
        complete,
        rules,
    })
}

/// Buckets starting at multiples of `width` since the epoch: the same boundaries on every node.
fn histogram(hits: &[scan::Hit], width: i64) -> Vec<Bucket> {
    let mut buckets: BTreeMap<i64, u64> = BTreeMap::new();
    for h in hits {
        *buckets
            .entry(h.time - h.time.rem_euclid(width))
            .or_default() += 1;
    }
    buckets
        .into_iter()
        .map(|(t, count)| Bucket { t, count })
        .collect()
}

/// The newest `n` kept matches with their fields, newest first.
fn samples_of(
    store: &Store,
    probe: &Probe<'_>,
    n: usize,
) -> Result<Vec<Sample>, rulestudio_store::ScanError> {
    let seqs: Vec<u64> = probe
        .kept
        .hits()
        .iter()
        .rev()
        .take(n)
        .map(|h| h.id as u64)
        .collect();
    let mut found = scan::fetch(store, &seqs)?;
    found.reverse();
    Ok(found
        .into_iter()
        .map(|(seq, time, ev)| Sample {
            event_id: store.id(seq).to_string(),
            time,
            output: probe.rule.output.render(&ev),
            fields: scan::fields_json(&ev),
        })
        .collect())
}
