//! Preview: what a draft rule set would match on stored events, and how that compares with
//! the live set, labels and baselines.
//!
//! Speed comes from the event cache (the recent window in memory, by column: no row is read
//! from SQLite or decoded), from evaluating only the events of the `evt.type`s a rule can
//! match (chunks without them are skipped; in the database the filter is pushed into SQL on
//! the `(evt_type, time)` index), and from evaluating each rule on its own, so a draft of one
//! rule costs one filter per event, not a whole rule set.

pub mod deadline;
pub mod scan;

use crate::cache::{EventCache, Snapshot as CacheSnapshot};
use crate::error::{AppError, Result};
use crate::live::{self, Snapshot};
use crate::state::AppState;
use crate::time;
use deadline::CHECK_EVERY;
pub use deadline::Deadline;
use rulestudio_api::action::Action;
use rulestudio_api::diagnostic::{DiagnosticJson, FileText};
use rulestudio_api::live::RulesFile;
use rulestudio_api::preview::{Base, Bucket, Counts, Group, RulePreview, Sample, Window};
use rulestudio_engine::eval::CompiledRule;
use rulestudio_engine::event::{Event, FieldSource, Value as FieldValue, parse_key};
use rulestudio_engine::fields::FieldId;
use rulestudio_engine::loader::{Loaded, SourceFile};
use rulestudio_engine::rule::Matching;
use scan::{Hit, Probe, cpu};
use sqlx::SqlitePool;
use std::collections::{BTreeSet, HashMap};

/// Where preview reads: stored events from the event store, the recent window of them from
/// the cache (its hot layer, keyed by the store's sequence numbers), labels and baselines from
/// the database.
#[derive(Clone, Copy)]
pub struct Store<'a> {
    pub db: &'a SqlitePool,
    pub cache: Option<&'a EventCache>,
    pub events: &'a rulestudio_store::Store,
}

impl<'a> From<&'a AppState> for Store<'a> {
    fn from(state: &'a AppState) -> Store<'a> {
        Store {
            db: &state.db,
            cache: Some(&state.cache),
            events: &state.store,
        }
    }
}

/// The name the draft's diagnostics carry.
pub const DRAFT_FILE: &str = "draft.yaml";
pub const DEFAULT_WINDOW: u64 = 100_000;
pub const MAX_SAMPLES: usize = 200;
pub const DEFAULT_SAMPLES: usize = 20;
const HISTOGRAM_BUCKETS: i64 = 60;
const MAX_GROUPS: usize = 50;
/// Events fetched from the store per read by sequence number.
const FETCH_CHUNK: usize = 500;

/// A draft loaded on top of its base.
pub struct Draft {
    pub loaded: Loaded,
    pub diagnostics: Vec<DiagnosticJson>,
    /// Indices into `loaded.ruleset.rules()` of the rules the draft defines or changes.
    pub rules: Vec<usize>,
}

/// Loads `text` on top of `base`, within `deadline` (call it off the async executor).
pub fn load_draft(text: &str, base: Base, live: &Snapshot, deadline: &Deadline) -> Result<Draft> {
    let files = draft_files(text, base, live);
    let sources = live::sources(&files);
    let loaded = deadline.load(&sources)?;
    let texts: Vec<FileText> = files
        .iter()
        .map(|f| FileText::new(&f.name, &f.content))
        .collect();
    let draft_id = (files.len() - 1) as u32;
    let diagnostics = loaded
        .diagnostics
        .iter()
        .filter(|d| d.span.is_none_or(|s| s.file.0 == draft_id))
        .map(|d| DiagnosticJson::from_engine(d, &texts))
        .collect();
    let names = draft_rule_names(text, deadline)?;
    let rules = loaded
        .ruleset
        .rules()
        .iter()
        .enumerate()
        .filter(|(_, r)| names.contains(&r.name))
        .map(|(i, _)| i)
        .collect();
    Ok(Draft {
        loaded,
        diagnostics,
        rules,
    })
}

/// The files a draft loads as: the live set's (with base `live`), then the draft as
/// [`DRAFT_FILE`].
pub fn draft_files(text: &str, base: Base, live: &Snapshot) -> Vec<RulesFile> {
    let mut files: Vec<RulesFile> = match base {
        Base::Live => live.files.clone(),
        Base::None => Vec::new(),
    };
    files.push(RulesFile {
        name: DRAFT_FILE.into(),
        content: text.into(),
    });
    files
}

/// The names of the rules the draft's items define, append to or override, in file order.
fn draft_rule_names(text: &str, deadline: &Deadline) -> Result<BTreeSet<String>> {
    let alone = deadline.load(&[SourceFile {
        name: DRAFT_FILE.into(),
        text: text.into(),
    }])?;
    Ok(alone
        .rules
        .iter()
        .map(|r| r.name.clone())
        .chain(rule_item_names(text))
        .collect())
}

/// `- rule: NAME` items, so that a draft that only appends to a live rule (which does not load
/// on its own) still names it.
fn rule_item_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|l| {
        let name = l
            .trim_start()
            .strip_prefix('-')?
            .trim_start()
            .strip_prefix("rule:")?
            .trim();
        let name = name.trim_matches(|c| c == '"' || c == '\'');
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// The resolved window.
pub use rulestudio_node::scan::Range;

pub async fn resolve_window<'a>(
    store: impl Into<Store<'a>>,
    window: Option<&Window>,
) -> Result<Range> {
    let store = store.into();
    let (last, since, until) = match window {
        None => (Some(DEFAULT_WINDOW), None, None),
        Some(Window::LastEvents { last_events }) => (Some(*last_events), None, None),
        Some(Window::Range { since, until }) => (
            None,
            since
                .as_ref()
                .map(|t| time::parse("since", t))
                .transpose()?,
            until
                .as_ref()
                .map(|t| time::parse("until", t))
                .transpose()?,
        ),
    };
    let min_id = match last {
        Some(0) => {
            return Err(AppError::BadRequest(
                "`last_events` must be at least 1".into(),
            ));
        }
        Some(n) => nth_newest_id(store, n),
        None => 0,
    };
    // Retention may have dropped events the cache still holds: the window is what is stored.
    let min_id = min_id.max(store.events.snapshot().removed_through as i64 + 1);
    Ok(Range {
        min_id,
        since: since.unwrap_or(0),
        until: until.unwrap_or(i64::MAX),
    })
}

/// The sequence number of the `n`-th newest stored event, or 0 when there are fewer (numbers
/// are consecutive in the store: only retention removes events, the oldest first).
fn nth_newest_id(store: Store<'_>, n: u64) -> i64 {
    let next = store.events.next_seq();
    next.checked_sub(n).map_or(0, |id| id as i64)
}

/// Labels and baselines, for classifying matches.
pub struct Truth {
    /// event id → (rule or "", label)
    labels: HashMap<i64, Vec<(String, bool)>>,
    baselines: Vec<(i64, i64)>,
}

impl Truth {
    pub async fn load<'a>(store: impl Into<Store<'a>>, range: Range) -> Result<Truth> {
        let store = store.into();
        let db = store.db;
        // The labels of this store's events; ids of another node or incarnation name events
        // no window holds.
        let prefix = format!("{}:{}:", store.events.node(), store.events.incarnation());
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT event_id, rule, label FROM event_labels")
                .fetch_all(db)
                .await?;
        let mut labels: HashMap<i64, Vec<(String, bool)>> = HashMap::new();
        for (id, rule, label) in rows {
            let Some(seq) = id
                .strip_prefix(&prefix)
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|&s| s >= range.min_id)
            else {
                continue;
            };
            labels
                .entry(seq)
                .or_default()
                .push((rule, label == "malicious"));
        }
        let baselines =
            sqlx::query_as("SELECT since, until FROM baselines WHERE until > ? AND since < ?")
                .bind(range.since)
                .bind(range.until)
                .fetch_all(db)
                .await?;
        Ok(Truth { labels, baselines })
    }

    /// Adds a match of `rule` to `counts`: a label for the rule wins over a label for all rules;
    /// malicious → true positive; benign or inside a baseline → false positive.
    fn classify(&self, rule: &str, hit: Hit) -> Verdict {
        let labels = self.labels.get(&hit.id);
        let label = labels
            .and_then(|ls| {
                ls.iter()
                    .find(|(r, _)| r == rule)
                    .or_else(|| ls.iter().find(|(r, _)| r.is_empty()))
            })
            .map(|(_, malicious)| *malicious);
        match label {
            Some(true) => Verdict::TruePositive,
            Some(false) => Verdict::FalsePositive,
            None if self
                .baselines
                .iter()
                .any(|&(s, u)| s <= hit.time && hit.time < u) =>
            {
                Verdict::FalsePositive
            }
            None => Verdict::Unlabeled,
        }
    }

    fn counts(&self, rule: &str, hits: &[Hit], matched: u64) -> Counts {
        let mut c = Counts {
            matched,
            ..Counts::default()
        };
        for &h in hits {
            match self.classify(rule, h) {
                Verdict::TruePositive => c.true_positives += 1,
                Verdict::FalsePositive => c.false_positives += 1,
                Verdict::Unlabeled => c.unlabeled += 1,
            }
        }
        c
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    Unlabeled,
}

pub struct Options<'a> {
    pub samples: usize,
    pub group_by: &'a [String],
}

pub struct Outcome {
    pub scanned: u64,
    pub rules: Vec<RulePreview>,
}

/// Runs the preview of `draft.rules` (and of their live namesakes) over `range`.
pub async fn run<'a>(
    store: impl Into<Store<'a>>,
    draft: &Draft,
    live: &Snapshot,
    range: Range,
    opts: Options<'_>,
    deadline: &Deadline,
) -> Result<Outcome> {
    let store = store.into();
    let draft_rules = draft.loaded.ruleset.rules();
    let live_rules = live.loaded.ruleset.rules();
    let mut probes: Vec<Probe> = Vec::new();
    let mut pairs = Vec::new();
    for &i in &draft.rules {
        let rule = &draft_rules[i];
        let mine = probes.len();
        probes.push(Probe::new(rule));
        let theirs = live_rules.iter().find(|r| r.name == rule.name).map(|r| {
            probes.push(Probe::new(r));
            probes.len() - 1
        });
        pairs.push((i, mine, theirs));
    }
    let snapshot = store.cache.map(EventCache::snapshot);
    let scanned = scan::scan(store, snapshot.as_ref(), range, &mut probes, deadline).await?;
    let truth = Truth::load(store, range).await?;
    let samples = opts.samples.min(MAX_SAMPLES);
    let mut out = Vec::new();
    for (index, mine, theirs) in pairs {
        let p = &probes[mine];
        let hits = p.kept.hits();
        let counts = truth.counts(&p.rule.name, hits, p.count);
        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        let matches = samples_of(store.events, p.rule, &ids, samples)?;
        let mine_ids: BTreeSet<i64> = ids.iter().copied().collect();
        let (live_matched, added, removed, added_samples, removed_samples) = match theirs {
            Some(t) => {
                let live_ids: BTreeSet<i64> = probes[t].kept.hits().iter().map(|h| h.id).collect();
                let adds: Vec<i64> = mine_ids.difference(&live_ids).copied().collect();
                let removes: Vec<i64> = live_ids.difference(&mine_ids).copied().collect();
                (
                    probes[t].count,
                    adds.len() as u64,
                    removes.len() as u64,
                    samples_of(store.events, p.rule, &adds, samples)?,
                    samples_of(store.events, probes[t].rule, &removes, samples)?,
                )
            }
            // Without a live namesake every match is added.
            None => (0, p.count, 0, matches.clone(), Vec::new()),
        };
        let seen = Seen {
            loaded: &draft.loaded,
            index,
            group_by: opts.group_by.iter().map(|g| GroupKey::new(g)).collect(),
        };
        let (histogram, histogram_until) = histogram(hits, range);
        let (shadowed_by, groups, groups_other) = seen
            .over(store.events, snapshot.as_ref(), hits, deadline)
            .await?;
        out.push(RulePreview {
            name: p.rule.name.clone(),
            action: Action::of_rule(p.rule),
            matched: counts.matched,
            false_positives: counts.false_positives,
            true_positives: counts.true_positives,
            unlabeled: counts.unlabeled,
            live_matched,
            added,
            removed,
            shadowed_by,
            samples: matches,
            histogram,
            histogram_until,
            groups,
            groups_other,
            added_samples,
            removed_samples,
        });
    }
    Ok(Outcome {
        scanned,
        rules: out,
    })
}

/// A `group_by` entry: a field of the catalogue, read like the evaluator reads it, or another
/// key of the stored JSON.
enum GroupKey {
    Field(FieldId, Option<String>),
    Raw(String),
}

impl GroupKey {
    fn new(key: &str) -> GroupKey {
        match parse_key(key) {
            Some((field, arg)) => GroupKey::Field(field, arg.map(str::to_string)),
            None => GroupKey::Raw(key.to_string()),
        }
    }
}

/// What is learned from each kept match of one draft rule: which earlier rules fire first on
/// it under `first` matching (shadowing), and its `group_by` key.
struct Seen<'a> {
    loaded: &'a Loaded,
    index: usize,
    group_by: Vec<GroupKey>,
}

impl Seen<'_> {
    /// Over `hits`: cached events are read in memory; the others (or all, when a group key is
    /// not a field) are fetched from the event store.
    async fn over(
        &self,
        events: &rulestudio_store::Store,
        snapshot: Option<&CacheSnapshot>,
        hits: &[Hit],
        deadline: &Deadline,
    ) -> Result<(Vec<String>, Vec<Group>, u64)> {
        let mut shadows = BTreeSet::new();
        let mut groups: HashMap<String, u64> = HashMap::new();
        let raw = self.group_by.iter().any(|k| matches!(k, GroupKey::Raw(_)));
        let mut fetch = Vec::new();
        cpu(|| {
            let mut first = Vec::new();
            for (i, h) in hits.iter().enumerate() {
                if i.is_multiple_of(CHECK_EVERY) {
                    deadline.check()?;
                }
                match snapshot.filter(|_| !raw).and_then(|s| s.find(h.id)) {
                    Some(row) => self.see(&row, None, &mut first, &mut shadows, &mut groups),
                    None => fetch.push(h.id),
                }
            }
            Ok::<_, AppError>(())
        })?;
        let mut first = Vec::new();
        for ids in fetch.chunks(FETCH_CHUNK) {
            deadline.check()?;
            for (_, _, ev) in fetch_events(events, ids)? {
                // The JSON object only for group keys that are not fields.
                let map = raw.then(|| crate::stored::fields_json(&ev));
                self.see(&ev, map.as_ref(), &mut first, &mut shadows, &mut groups);
            }
        }
        let mut groups: Vec<Group> = groups
            .into_iter()
            .map(|(key, count)| Group { key, count })
            .collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        let other = groups.iter().skip(MAX_GROUPS).map(|g| g.count).sum();
        groups.truncate(MAX_GROUPS);
        Ok((shadows.into_iter().collect(), groups, other))
    }

    fn see<S: FieldSource>(
        &self,
        ev: &S,
        json: Option<&serde_json::Map<String, serde_json::Value>>,
        first: &mut Vec<usize>,
        shadows: &mut BTreeSet<String>,
        groups: &mut HashMap<String, u64>,
    ) {
        let rules = self.loaded.ruleset.rules();
        first.clear();
        self.loaded.ruleset.eval(ev, Matching::First, first);
        if let Some(&f) = first.first()
            && f < self.index
        {
            shadows.insert(rules[f].name.clone());
        }
        if self.group_by.is_empty() {
            return;
        }
        let key = self
            .group_by
            .iter()
            .map(|k| {
                let text = match k {
                    GroupKey::Field(f, arg) => ev.field(*f, arg.as_deref()).map(|v| value_text(&v)),
                    GroupKey::Raw(key) => json.and_then(|m| m.get(key)).map(json_text),
                };
                text.unwrap_or_else(|| "<NA>".to_string())
            })
            .collect::<Vec<_>>()
            .join(" | ");
        *groups.entry(key).or_default() += 1;
    }
}

/// The newest `n` of `ids` (sequence numbers of `rule`'s matches, in id order) with all their
/// fields and `rule`'s output, newest first.
pub(crate) fn samples_of(
    events: &rulestudio_store::Store,
    rule: &CompiledRule,
    ids: &[i64],
    n: usize,
) -> Result<Vec<Sample>> {
    let ids: Vec<i64> = ids.iter().rev().take(n).copied().collect();
    let mut found = fetch_events(events, &ids)?;
    found.reverse();
    Ok(found
        .into_iter()
        .map(|(id, time, ev)| Sample {
            event_id: events.id(id as u64).to_string(),
            time,
            output: rule.output.render(&ev),
            fields: crate::stored::fields_json(&ev),
        })
        .collect())
}

/// The stored events of these ids (sequence numbers), in id order, read from the store off
/// the executor's threads.
pub fn fetch_events(
    events: &rulestudio_store::Store,
    ids: &[i64],
) -> Result<Vec<(i64, i64, Event)>> {
    let seqs: Vec<u64> = ids.iter().filter_map(|&i| u64::try_from(i).ok()).collect();
    let found = cpu(|| crate::stored::fetch(events, &seqs))?;
    Ok(found
        .into_iter()
        .map(|(seq, time, ev)| (seq as i64, time, ev))
        .collect())
}

pub fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A field value as [`json_text`] shows the JSON it was given as: strings as they are,
/// numbers and booleans as JSON writes them, lists as JSON arrays.
fn value_text(v: &FieldValue<'_>) -> String {
    match v {
        FieldValue::List(items) => {
            let items: Vec<serde_json::Value> =
                items.iter().map(|i| value_text(i).into()).collect();
            serde_json::Value::from(items).to_string()
        }
        FieldValue::Double(d) => {
            serde_json::Number::from_f64(*d).map_or_else(|| d.to_string(), |n| n.to_string())
        }
        FieldValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => rulestudio_engine::output::render_value(other),
    }
}

/// Matches over the window: [`HISTOGRAM_BUCKETS`] equal buckets from the window's start (the
/// oldest match for a count of events) to its end (the newest match when it has none), empty
/// ones included, and the end of the last bucket. No matches, no buckets.
fn histogram(hits: &[Hit], range: Range) -> (Vec<Bucket>, i64) {
    let (Some(first), Some(last)) = (
        hits.iter().map(|h| h.time).min(),
        hits.iter().map(|h| h.time).max(),
    ) else {
        return (Vec::new(), 0);
    };
    let lo = if range.since > 0 {
        range.since.min(first)
    } else {
        first
    };
    // Not now for an open end: a preview answers the same whenever it is asked again.
    let hi = if range.until < i64::MAX {
        range.until.max(last)
    } else {
        last
    };
    let width = ((hi - lo) / HISTOGRAM_BUCKETS + 1).max(1);
    let mut counts = vec![0u64; HISTOGRAM_BUCKETS as usize];
    for h in hits {
        counts[(((h.time - lo) / width) as usize).min(HISTOGRAM_BUCKETS as usize - 1)] += 1;
    }
    let buckets = counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bucket {
            t: lo + i as i64 * width,
            count,
        })
        .collect();
    (buckets, lo + width * HISTOGRAM_BUCKETS)
}

/// The matches of one rule with their verdicts, and the counts: for suggest-exception.
pub async fn classified_matches<'a>(
    store: impl Into<Store<'a>>,
    rule: &CompiledRule,
    range: Range,
    truth: &Truth,
    deadline: &Deadline,
) -> Result<(Counts, Vec<(i64, Verdict)>)> {
    let store = store.into();
    let mut probes = [Probe::new(rule)];
    let snapshot = store.cache.map(EventCache::snapshot);
    scan::scan(store, snapshot.as_ref(), range, &mut probes, deadline).await?;
    let [p] = probes;
    let hits = p.kept.hits();
    let verdicts = hits
        .iter()
        .map(|&h| (h.id, truth.classify(&rule.name, h)))
        .collect();
    Ok((truth.counts(&rule.name, hits, p.count), verdicts))
}
