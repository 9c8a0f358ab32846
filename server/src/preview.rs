//! Preview: what a draft rule set would match on stored events, and how that compares with
//! the live set, labels and baselines.
//!
//! Speed comes from three things: only events of the `evt.type`s the compared rules can match
//! are read (the filter is pushed into SQL, on the `(evt_type, time)` index); rows stream from
//! SQLite while they are decoded and evaluated; and each rule is evaluated on its own
//! dispatch, so a draft of one rule costs one filter per event, not a whole rule set.

use crate::error::{AppError, Result};
use crate::live::{self, Snapshot};
use crate::time;
use futures::TryStreamExt;
use rulestudio_api::diagnostic::{DiagnosticJson, FileText};
use rulestudio_api::live::RulesFile;
use rulestudio_api::preview::{Base, Bucket, Counts, Group, RulePreview, Sample, Window};
use rulestudio_engine::eval::{CompiledRule, EvtTypeSet};
use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{self, LoadOptions, Loaded, SourceFile};
use rulestudio_engine::rule::Matching;
use sqlx::{AssertSqlSafe, SqlitePool};
// Statements built with `format!` here only add `?` placeholders and constant SQL.
use std::collections::{BTreeSet, HashMap};

/// The name the draft's diagnostics carry.
pub const DRAFT_FILE: &str = "draft.yaml";
pub const DEFAULT_WINDOW: u64 = 100_000;
const MAX_SAMPLES: usize = 200;
pub const DEFAULT_SAMPLES: usize = 20;
const HISTOGRAM_BUCKETS: i64 = 60;
const MAX_GROUPS: usize = 50;
/// Matches kept per rule for samples, groups and exception suggestions; counts are exact.
const MAX_KEPT_MATCHES: usize = 100_000;

/// A draft loaded on top of its base.
pub struct Draft {
    pub loaded: Loaded,
    pub diagnostics: Vec<DiagnosticJson>,
    /// Indices into `loaded.ruleset.rules()` of the rules the draft defines or changes.
    pub rules: Vec<usize>,
}

pub fn load_draft(text: &str, base: Base, live: &Snapshot) -> Draft {
    let mut files: Vec<RulesFile> = match base {
        Base::Live => live.files.clone(),
        Base::None => Vec::new(),
    };
    files.push(RulesFile {
        name: DRAFT_FILE.into(),
        content: text.into(),
    });
    let sources = live::sources(&files);
    let loaded = loader::load(&sources, &LoadOptions::default());
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
    let names = draft_rule_names(text);
    let rules = loaded
        .ruleset
        .rules()
        .iter()
        .enumerate()
        .filter(|(_, r)| names.contains(&r.name))
        .map(|(i, _)| i)
        .collect();
    Draft {
        loaded,
        diagnostics,
        rules,
    }
}

/// The names of the rules the draft's items define, append to or override, in file order.
fn draft_rule_names(text: &str) -> BTreeSet<String> {
    let alone = loader::load(
        &[SourceFile {
            name: DRAFT_FILE.into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    );
    alone
        .rules
        .iter()
        .map(|r| r.name.clone())
        .chain(rule_item_names(text))
        .collect()
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

/// The resolved window: `id >= min_id` and `since <= time < until`.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub min_id: i64,
    pub since: i64,
    pub until: i64,
}

pub async fn resolve_window(db: &SqlitePool, window: Option<&Window>) -> Result<Range> {
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
        Some(n) => {
            sqlx::query_scalar::<_, i64>("SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?")
                .bind(i64::try_from(n - 1).unwrap_or(i64::MAX))
                .fetch_optional(db)
                .await?
                .unwrap_or(0)
        }
        None => 0,
    };
    Ok(Range {
        min_id,
        since: since.unwrap_or(0),
        until: until.unwrap_or(i64::MAX),
    })
}

/// A rule to evaluate during the scan, with the matches found.
struct Probe<'a> {
    rule: &'a CompiledRule,
    matched: Vec<Hit>,
    count: u64,
}

#[derive(Clone, Copy)]
struct Hit {
    id: i64,
    time: i64,
}

/// Labels and baselines, for classifying matches.
pub struct Truth {
    /// event id → (rule or "", label)
    labels: HashMap<i64, Vec<(String, bool)>>,
    baselines: Vec<(i64, i64)>,
}

impl Truth {
    pub async fn load(db: &SqlitePool, range: Range) -> Result<Truth> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT event_id, rule, label FROM labels WHERE event_id >= ?")
                .bind(range.min_id)
                .fetch_all(db)
                .await?;
        let mut labels: HashMap<i64, Vec<(String, bool)>> = HashMap::new();
        for (id, rule, label) in rows {
            labels
                .entry(id)
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

/// The SQL restriction on `evt_type` for rules that can only match `types`. Events without a
/// known type meet every rule (as in `RuleSet::eval`), so they are always read.
fn evt_type_clause(types: &EvtTypeSet) -> (String, Vec<&'static str>) {
    if types.is_all() {
        return (String::new(), Vec::new());
    }
    let names = types.names();
    let marks = vec!["?"; names.len()].join(",");
    (
        format!(" AND (evt_type IN ({marks}) OR evt_type IS NULL)"),
        names,
    )
}

/// One pass over the window: every probe is evaluated on every event it could match.
/// Returns the events of the window that were read.
async fn scan(db: &SqlitePool, range: Range, probes: &mut [Probe<'_>]) -> Result<u64> {
    let mut types = EvtTypeSet::empty();
    for p in probes.iter() {
        types = types.union(&p.rule.evt_types);
    }
    if probes.is_empty() || types.is_empty() {
        return Ok(0);
    }
    let (clause, names) = evt_type_clause(&types);
    let sql = format!(
        "SELECT id, time, fields FROM events WHERE id >= ? AND time >= ? AND time < ?{clause}"
    );
    let mut q = sqlx::query_as::<_, (i64, i64, String)>(AssertSqlSafe(sql))
        .bind(range.min_id)
        .bind(range.since)
        .bind(range.until);
    for n in names {
        q = q.bind(n);
    }
    let mut rows = q.fetch(db);
    let mut read = 0u64;
    while let Some((id, time, fields)) = rows.try_next().await? {
        read += 1;
        // Rows are valid events (validated at ingest); one that no longer decodes (a field table
        // change) cannot match and is skipped rather than failing the preview.
        let Ok(ev) = Event::from_json_str(&fields) else {
            continue;
        };
        for p in probes.iter_mut() {
            if p.rule.filter.matches(&ev) {
                p.count += 1;
                if p.matched.len() < MAX_KEPT_MATCHES {
                    p.matched.push(Hit { id, time });
                }
            }
        }
    }
    Ok(read)
}

/// Window size: how many stored events the preview covers.
async fn window_size(db: &SqlitePool, range: Range) -> Result<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE id >= ? AND time >= ? AND time < ?")
            .bind(range.min_id)
            .bind(range.since)
            .bind(range.until)
            .fetch_one(db)
            .await?;
    Ok(n as u64)
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
pub async fn run(
    db: &SqlitePool,
    draft: &Draft,
    live: &Snapshot,
    range: Range,
    opts: Options<'_>,
) -> Result<Outcome> {
    let draft_rules = draft.loaded.ruleset.rules();
    let live_rules = live.loaded.ruleset.rules();
    let mut probes: Vec<Probe> = Vec::new();
    let mut pairs = Vec::new();
    for &i in &draft.rules {
        let rule = &draft_rules[i];
        let mine = probes.len();
        probes.push(Probe {
            rule,
            matched: Vec::new(),
            count: 0,
        });
        let theirs = live_rules.iter().find(|r| r.name == rule.name).map(|r| {
            probes.push(Probe {
                rule: r,
                matched: Vec::new(),
                count: 0,
            });
            probes.len() - 1
        });
        pairs.push((i, mine, theirs));
    }
    scan(db, range, &mut probes).await?;
    let scanned = window_size(db, range).await?;
    let truth = Truth::load(db, range).await?;
    let samples = opts.samples.min(MAX_SAMPLES);
    let mut out = Vec::new();
    for (index, mine, theirs) in pairs {
        let p = &probes[mine];
        let counts = truth.counts(&p.rule.name, &p.matched, p.count);
        let (live_matched, added, removed) = match theirs {
            Some(t) => {
                let live_ids: BTreeSet<i64> = probes[t].matched.iter().map(|h| h.id).collect();
                let mine_ids: BTreeSet<i64> = p.matched.iter().map(|h| h.id).collect();
                (
                    probes[t].count,
                    mine_ids.difference(&live_ids).count() as u64,
                    live_ids.difference(&mine_ids).count() as u64,
                )
            }
            None => (0, p.count, 0),
        };
        let details = details(db, &draft.loaded, index, &p.matched, samples, opts.group_by).await?;
        out.push(RulePreview {
            name: p.rule.name.clone(),
            matched: counts.matched,
            false_positives: counts.false_positives,
            true_positives: counts.true_positives,
            unlabeled: counts.unlabeled,
            live_matched,
            added,
            removed,
            shadowed_by: details.shadowed_by,
            samples: details.samples,
            histogram: histogram(&p.matched, range),
            groups: details.groups,
        });
    }
    Ok(Outcome {
        scanned,
        rules: out,
    })
}

struct Details {
    samples: Vec<Sample>,
    groups: Vec<Group>,
    shadowed_by: Vec<String>,
}

/// Reads the matched events again (by id) for what needs all their fields: samples, groups
/// and shadowing (which rule fires first under `first` matching).
async fn details(
    db: &SqlitePool,
    loaded: &Loaded,
    index: usize,
    hits: &[Hit],
    samples: usize,
    group_by: &[String],
) -> Result<Details> {
    let rules = loaded.ruleset.rules();
    let rule = &rules[index];
    let mut out = Details {
        samples: Vec::new(),
        groups: Vec::new(),
        shadowed_by: Vec::new(),
    };
    let mut groups: HashMap<String, u64> = HashMap::new();
    let mut shadows = BTreeSet::new();
    let mut first = Vec::new();
    // Newest first, so samples show recent events.
    for chunk in hits.iter().rev().collect::<Vec<_>>().chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|h| h.id).collect();
        for (id, time, text) in fetch_events(db, &ids).await? {
            let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            else {
                continue;
            };
            let Ok(ev) = Event::from_map(&map) else {
                continue;
            };
            first.clear();
            loaded.ruleset.eval(&ev, Matching::First, &mut first);
            if let Some(&f) = first.first()
                && f < index
            {
                shadows.insert(rules[f].name.clone());
            }
            if !group_by.is_empty() {
                let key = group_by
                    .iter()
                    .map(|g| map.get(g).map_or_else(|| "<NA>".to_string(), json_text))
                    .collect::<Vec<_>>()
                    .join(" | ");
                *groups.entry(key).or_default() += 1;
            }
            if out.samples.len() < samples {
                out.samples.push(Sample {
                    event_id: id,
                    time,
                    output: rule.output.render(&ev),
                    fields: map,
                });
            }
        }
    }
    out.samples.sort_by_key(|s| std::cmp::Reverse(s.event_id));
    let mut groups: Vec<Group> = groups
        .into_iter()
        .map(|(key, count)| Group { key, count })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    groups.truncate(MAX_GROUPS);
    out.groups = groups;
    out.shadowed_by = shadows.into_iter().collect();
    Ok(out)
}

pub async fn fetch_events(db: &SqlitePool, ids: &[i64]) -> Result<Vec<(i64, i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, time, fields FROM events WHERE id IN ({})",
        vec!["?"; ids.len()].join(",")
    );
    let mut q = sqlx::query_as(AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(db).await?)
}

pub fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Matches over time: equal buckets between the first and last match.
fn histogram(hits: &[Hit], range: Range) -> Vec<Bucket> {
    let (Some(lo), Some(hi)) = (
        hits.iter().map(|h| h.time).min(),
        hits.iter().map(|h| h.time).max(),
    ) else {
        return Vec::new();
    };
    let lo = lo.max(range.since);
    let width = ((hi - lo) / HISTOGRAM_BUCKETS + 1).max(1);
    let mut counts = vec![0u64; ((hi - lo) / width + 1) as usize];
    for h in hits {
        counts[((h.time - lo) / width) as usize] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bucket {
            t: lo + i as i64 * width,
            count,
        })
        .collect()
}

/// The matches of one rule with their verdicts, and the counts: for suggest-exception.
pub async fn classified_matches(
    db: &SqlitePool,
    rule: &CompiledRule,
    range: Range,
    truth: &Truth,
) -> Result<(Counts, Vec<(i64, Verdict)>)> {
    let mut probes = [Probe {
        rule,
        matched: Vec::new(),
        count: 0,
    }];
    scan(db, range, &mut probes).await?;
    let [p] = probes;
    let verdicts = p
        .matched
        .iter()
        .map(|&h| (h.id, truth.classify(&rule.name, h)))
        .collect();
    Ok((truth.counts(&rule.name, &p.matched, p.count), verdicts))
}
