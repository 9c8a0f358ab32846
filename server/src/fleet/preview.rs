//! Preview in fleet mode (decision 0026): the draft goes to every node heard from recently, on
//! its own subject, with a deadline; the studio merges what came back by then (counts summed,
//! histograms bucket-wise, samples newest first up to the cap) and says which nodes answered,
//! which were asked and did not (`missing`), and which were not asked (`offline`: no heartbeat
//! within three of their periods).

use crate::api::preview::load;
use crate::error::{AppError, Result};
use crate::preview::{self, Deadline};
use crate::state::AppState;
use crate::time;
use futures::StreamExt;
use rulestudio_api::action::Action;
use rulestudio_api::fleet::{self, NodePreview, NodePreviewReply, NodePreviewRequest, Nodes};
use rulestudio_api::preview::{
    Bucket, PreviewRequest, PreviewResponse, RulePreview, Sample, Window,
};
use rulestudio_api::protocol::Version;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// A node is offline after this many of its heartbeat periods without one.
const OFFLINE_PERIODS: i64 = 3;
/// The shortest period assumed of a node (the collector's default `--heartbeat`): a node also
/// sends a heartbeat at once when its live set changes, so two heartbeats may come close
/// together, and a node heard from once only has no period yet.
const MIN_PERIOD_NS: i64 = 5_000_000_000;
/// The window of a preview that names none.
const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);
/// What the studio keeps for itself out of the request's budget: merging and answering.
const STUDIO_SHARE: Duration = Duration::from_millis(300);
/// Histogram bucket widths, in seconds: the smallest that gives at most [`BUCKETS`] buckets.
const WIDTHS_S: [i64; 16] = [
    1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800, 2_592_000,
    31_536_000,
];
const BUCKETS: i64 = 60;

/// `POST /api/v1/preview` over the fleet.
pub async fn run(
    state: &AppState,
    client: &async_nats::Client,
    req: PreviewRequest,
    deadline: &Deadline,
) -> Result<PreviewResponse> {
    let started = Instant::now();
    let (since, until) = window(req.window.as_ref())?;
    let live = state.live.current();
    let files = preview::draft_files(&req.rules, req.base, &live);
    let draft = load(state, req.rules, req.base, deadline).await?;
    let all = draft.loaded.ruleset.rules();
    let rules: Vec<String> = draft.rules.iter().map(|&i| all[i].name.clone()).collect();
    let actions: Vec<Action> = draft
        .rules
        .iter()
        .map(|&i| Action::of_rule(&all[i]))
        .collect();
    let samples = req
        .samples
        .unwrap_or(preview::DEFAULT_SAMPLES)
        .min(preview::MAX_SAMPLES);
    let wait = deadline.remaining().saturating_sub(STUDIO_SHARE);
    let request = NodePreviewRequest {
        format: Version::CURRENT,
        files,
        rules: rules.clone(),
        since,
        until,
        bucket_ns: bucket_width(since, until),
        samples,
        // The nodes stop early enough for their answers to arrive by the studio's deadline.
        deadline_ms: (wait * 9 / 10).as_millis() as u64,
    };
    let (asked, offline) = nodes(state).await?;
    let replies = ask(client, &asked, &request, wait).await?;
    let mut merged = Merged::new(&rules);
    let mut nodes = Nodes {
        offline,
        ..Nodes::default()
    };
    for (node, reply) in asked.into_iter().zip(replies) {
        match reply {
            Some(NodePreviewReply::Found(found)) => {
                if !found.complete {
                    nodes.incomplete.push(node.clone());
                }
                merged.add(found);
                nodes.answered.push(node);
            }
            Some(NodePreviewReply::Refused(why)) => {
                tracing::warn!(node, "a node refused a preview: {why}");
                nodes.missing.push(node);
            }
            None => nodes.missing.push(node),
        }
    }
    let took = started.elapsed();
    state.metrics.preview_took(took);
    Ok(PreviewResponse {
        scanned: merged.scanned,
        took_ms: took.as_millis() as u64,
        diagnostics: draft.diagnostics,
        rules: merged.finish(samples, request.bucket_ns, &actions),
        nodes: Some(nodes),
    })
}

/// The window as `[since, until)` in nanoseconds: fleet windows are time windows.
fn window(window: Option<&Window>) -> Result<(i64, i64)> {
    match window {
        None => {
            let now = time::now_ns();
            Ok((now.saturating_sub(DEFAULT_WINDOW.as_nanos() as i64), i64::MAX))
        }
        Some(Window::LastEvents { .. }) => Err(AppError::BadRequest(
            "`window.last_events`: in fleet mode windows are times (`since`, `until`): the newest N events do not compose across nodes".into(),
        )),
        Some(Window::Range { since, until }) => {
            let since = since.as_ref().map(|t| time::parse("since", t)).transpose()?;
            let until = until.as_ref().map(|t| time::parse("until", t)).transpose()?;
            let (since, until) = (since.unwrap_or(0), until.unwrap_or(i64::MAX));
            if until <= since {
                return Err(AppError::BadRequest(
                    "`window.until` must be after `window.since`".into(),
                ));
            }
            Ok((since, until))
        }
    }
}

/// The smallest round width that cuts `[since, until)` into at most [`BUCKETS`] buckets.
fn bucket_width(since: i64, until: i64) -> i64 {
    let span = until as i128 - since as i128;
    let widths = WIDTHS_S.map(|s| s * 1_000_000_000);
    widths
        .into_iter()
        .find(|&w| span / w as i128 <= BUCKETS as i128)
        .unwrap_or(widths[widths.len() - 1])
}

/// The nodes to ask (a heartbeat within [`OFFLINE_PERIODS`] of their own period) and the
/// offline ones, by name.
async fn nodes(state: &AppState) -> Result<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, i64, Option<i64>)> =
        sqlx::query_as("SELECT node, last_seen, prev_seen FROM collectors ORDER BY node")
            .fetch_all(&state.db)
            .await?;
    let now = time::now_ns();
    let (mut asked, mut offline) = (Vec::new(), Vec::new());
    for (node, last, prev) in rows {
        let period = prev.map_or(MIN_PERIOD_NS, |p| (last - p).max(MIN_PERIOD_NS));
        if now.saturating_sub(last) <= OFFLINE_PERIODS.saturating_mul(period) {
            asked.push(node);
        } else {
            offline.push(node);
        }
    }
    Ok((asked, offline))
}

/// Sends `request` to each node in `asked` and collects the replies that come within `wait`,
/// in the order of `asked`. A reply is the node's by the inbox subject it came on, which only
/// that node's request named.
async fn ask(
    client: &async_nats::Client,
    asked: &[String],
    request: &NodePreviewRequest,
    wait: Duration,
) -> Result<Vec<Option<NodePreviewReply>>> {
    let mut replies: Vec<Option<NodePreviewReply>> = vec![None; asked.len()];
    if asked.is_empty() {
        return Ok(replies);
    }
    let nats = |what: &str, e: &dyn std::fmt::Display| {
        AppError::Internal(anyhow::anyhow!("fleet preview: {what}: {e}"))
    };
    let body = serde_json::to_vec(request).map_err(|e| AppError::Internal(e.into()))?;
    let inbox = client.new_inbox();
    let mut answers = client
        .subscribe(format!("{inbox}.*"))
        .await
        .map_err(|e| nats("subscribing to the replies", &e))?;
    for (i, node) in asked.iter().enumerate() {
        client
            .publish_with_reply(
                fleet::preview_subject(node),
                format!("{inbox}.{i}"),
                body.clone().into(),
            )
            .await
            .map_err(|e| nats("asking the nodes", &e))?;
    }
    let by = tokio::time::Instant::now() + wait;
    let mut pending = asked.len();
    while pending > 0 {
        let Ok(Some(message)) = tokio::time::timeout_at(by, answers.next()).await else {
            break;
        };
        let Some(i) = message
            .subject
            .rsplit('.')
            .next()
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|&i| i < asked.len())
        else {
            continue;
        };
        if replies[i].is_some() {
            continue;
        }
        match serde_json::from_slice(&message.payload) {
            Ok(reply) => {
                replies[i] = Some(reply);
                pending -= 1;
            }
            Err(e) => tracing::warn!(node = asked[i], "a preview reply that is not one: {e}"),
        }
    }
    Ok(replies)
}

/// The sum of the nodes' answers, per rule in the draft's order.
struct Merged {
    scanned: u64,
    rules: Vec<MergedRule>,
    index: HashMap<String, usize>,
}

#[derive(Default)]
struct MergedRule {
    name: String,
    matched: u64,
    /// Bucket start → matches.
    histogram: BTreeMap<i64, u64>,
    samples: Vec<Sample>,
}

impl Merged {
    fn new(rules: &[String]) -> Merged {
        Merged {
            scanned: 0,
            rules: rules
                .iter()
                .map(|r| MergedRule {
                    name: r.clone(),
                    ..MergedRule::default()
                })
                .collect(),
            index: rules
                .iter()
                .enumerate()
                .map(|(i, r)| (r.clone(), i))
                .collect(),
        }
    }

    fn add(&mut self, found: NodePreview) {
        self.scanned += found.scanned;
        for rule in found.rules {
            let Some(&i) = self.index.get(&rule.name) else {
                continue;
            };
            let merged = &mut self.rules[i];
            merged.matched += rule.matched;
            for b in rule.histogram {
                *merged.histogram.entry(b.t).or_default() += b.count;
            }
            merged.samples.extend(rule.samples);
        }
    }

    /// Labels, baselines, the live namesake's matches, shadowing, groups and the samples of
    /// what a change adds or removes are not asked of the nodes yet: those counts are 0 and
    /// lists empty; every match is `unlabeled`.
    /// The merged answer, one rule per name of [`Merged::new`], with `actions` in that order.
    fn finish(self, samples: usize, bucket_ns: i64, actions: &[Action]) -> Vec<RulePreview> {
        self.rules
            .into_iter()
            .zip(actions)
            .map(|(r, &action)| {
                let MergedRule {
                    name,
                    matched,
                    histogram,
                    samples: mut found,
                } = r;
                found.sort_by(|a, b| {
                    b.time
                        .cmp(&a.time)
                        .then_with(|| a.event_id.cmp(&b.event_id))
                });
                found.truncate(samples);
                let histogram_until = histogram
                    .keys()
                    .next_back()
                    .map_or(0, |t| t.saturating_add(bucket_ns));
                RulePreview {
                    name,
                    action,
                    matched,
                    false_positives: 0,
                    true_positives: 0,
                    unlabeled: matched,
                    live_matched: 0,
                    added: 0,
                    removed: 0,
                    shadowed_by: Vec::new(),
                    samples: found,
                    histogram: histogram
                        .into_iter()
                        .map(|(t, count)| Bucket { t, count })
                        .collect(),
                    histogram_until,
                    groups: Vec::new(),
                    groups_other: 0,
                    added_samples: Vec::new(),
                    removed_samples: Vec::new(),
                }
            })
            .collect()
    }
}
