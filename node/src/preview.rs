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
use rulestudio_api::protocol::Version;
use rulestudio_engine::loader::{self, LoadOptions, Loaded};
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
/// after a failure; at most [`MAX_CONCURRENT`] at once.
pub async fn answer(client: async_nats::Client, node: String, store: Arc<Store>) {
    answer_within(
        client,
        node,
        store,
        Arc::new(Semaphore::new(MAX_CONCURRENT)),
    )
    .await
}

/// [`answer`], running a preview only with one of `permits` (none free: refused `busy`).
pub async fn answer_within(
    client: async_nats::Client,
    node: String,
    store: Arc<Store>,
    permits: Arc<Semaphore>,
) {
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
    let at = received + Duration::from_millis(request.deadline_ms).min(MAX_DEADLINE);
    let late = || Instant::now() >= at;
    let loaded = load(request, &late)?;
    judge(store, request, &loaded, &late)
}

fn invalid(message: String) -> NodeRefusal {
    NodeRefusal::Invalid { message }
}

/// Checks `request` and loads its files, unless `late` says to stop.
fn load(
    request: &NodePreviewRequest,
    late: &(dyn Fn() -> bool + Sync),
) -> Result<Loaded, NodeRefusal> {
    if request.format.check().is_err() {
        return Err(NodeRefusal::Format {
            format: request.format.0,
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
    let sources = rulestudio_api::live::source_files(&request.files);
    loader::load_or_stop(&sources, &LoadOptions::default(), StopCheck::new(late))
        .map_err(|_| invalid("the deadline passed while the rules loaded".into()))
}

/// Judges the rules of `loaded` that `request` names over the window, until `late` says to
/// stop: then the answer says it is not `complete`.
fn judge(
    store: &Store,
    request: &NodePreviewRequest,
    loaded: &Loaded,
    late: &(dyn Fn() -> bool + Sync),
) -> Result<NodePreview, NodeRefusal> {
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
        format: Version::CURRENT,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_api::live::RulesFile;
    use rulestudio_engine::event::Event;

    const EVENTS: &str = include_str!("../../server/tests/data/events.jsonl");
    const DRAFT: &str = include_str!("../../server/tests/data/draft.yaml");
    const MINUTE: i64 = 60_000_000_000;

    /// A store holding the sample capture, its events and their times.
    fn store_of_capture(dir: &std::path::Path) -> (Store, Vec<Event>, Vec<i64>) {
        let (store, _) = Store::open(dir, "node-t", rulestudio_store::Config::default()).unwrap();
        let maps: Vec<serde_json::Map<String, serde_json::Value>> = EVENTS
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let events: Vec<Event> = maps.iter().map(|m| Event::from_map(m).unwrap()).collect();
        let times = maps
            .iter()
            .map(|m| m["evt.time"].as_i64().unwrap())
            .collect();
        store.append(&events, 0).unwrap();
        (store, events, times)
    }

    fn request(rules: Vec<String>) -> NodePreviewRequest {
        NodePreviewRequest {
            format: Version::CURRENT,
            files: vec![RulesFile {
                name: "draft.yaml".into(),
                content: DRAFT.into(),
            }],
            rules,
            since: 0,
            until: i64::MAX,
            bucket_ns: i64::MAX / 100,
            samples: 1_000,
            deadline_ms: 60_000,
        }
    }

    #[test]
    fn a_node_counts_every_match_with_aligned_buckets_and_newest_samples_first() {
        let dir = tempfile::tempdir().unwrap();
        let (store, events, times) = store_of_capture(dir.path());
        let loaded = load(&request(Vec::new()), &|| false).unwrap();
        let names: Vec<String> = loaded
            .ruleset
            .rules()
            .iter()
            .map(|r| r.name.clone())
            .collect();
        let (lo, hi) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
        let mut req = request(names);
        req.since = lo - lo.rem_euclid(MINUTE);
        req.until = hi + 1;
        req.bucket_ns = MINUTE;
        let found = judge(&store, &req, &loaded, &|| false).unwrap();
        assert!(found.complete);
        assert_eq!(found.scanned, events.len() as u64);
        for (rule, compiled) in found.rules.iter().zip(loaded.ruleset.rules()) {
            let expected = events
                .iter()
                .filter(|e| compiled.filter.matches(*e))
                .count() as u64;
            assert_eq!(rule.matched, expected, "{}", rule.name);
            assert!(rule.histogram.iter().all(|b| b.t.rem_euclid(MINUTE) == 0));
            assert_eq!(
                rule.histogram.iter().map(|b| b.count).sum::<u64>(),
                expected
            );
            assert_eq!(rule.samples.len() as u64, expected.min(MAX_SAMPLES as u64));
            assert!(rule.samples.windows(2).all(|w| w[0].time >= w[1].time));
            assert!(
                rule.samples
                    .iter()
                    .all(|s| s.event_id.starts_with("node-t:"))
            );
        }
        assert!(found.rules.iter().any(|r| r.matched > 0));
    }

    #[test]
    fn a_node_past_its_deadline_answers_with_what_it_judged_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ..) = store_of_capture(dir.path());
        let loaded = load(&request(Vec::new()), &|| false).unwrap();
        let names = loaded.ruleset.rules().iter().map(|r| r.name.clone());
        let req = request(names.collect());
        let found = judge(&store, &req, &loaded, &|| true).unwrap();
        assert!(!found.complete);
        assert_eq!(found.rules.len(), req.rules.len());
        assert!(found.rules.iter().all(|r| r.matched == 0));
    }

    #[test]
    fn requests_that_cannot_be_answered_are_refused_by_name() {
        let mut req = request(vec!["No such rule".into()]);
        let loaded = load(&req, &|| false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, ..) = store_of_capture(dir.path());
        let refusal = judge(&store, &req, &loaded, &|| false).unwrap_err();
        assert!(refusal.to_string().contains("'No such rule'"), "{refusal}");
        req.bucket_ns = 1;
        req.until = 2_000;
        assert!(
            load(&req, &|| false)
                .unwrap_err()
                .to_string()
                .contains("buckets")
        );
        req.format = Version(2);
        let refusal = load(&req, &|| false).unwrap_err();
        assert_eq!(refusal, NodeRefusal::Format { format: 2 });
        assert!(
            refusal
                .to_string()
                .starts_with("protocol version 2 is not one this side speaks (versions 1 to 1)"),
            "{refusal}"
        );
        // A studio that writes no version speaks version 1.
        let mut json = serde_json::to_value(&req).unwrap();
        json.as_object_mut().unwrap().remove("format");
        let read: NodePreviewRequest = serde_json::from_value(json).unwrap();
        assert_eq!(read.format, Version(1));
    }
}
