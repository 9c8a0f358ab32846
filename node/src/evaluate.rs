//! Evaluation on the node: every event the node delivers is judged against its live set, one
//! whole version per batch (`Live::current` is taken once per call), honouring the version's
//! `rule_matching`. An alert is built exactly as the studio builds one
//! (`rulestudio_api::alerts::build`), carries the whole event, and gets its id from the
//! node's persisted counter before it leaves this module. A token bucket per rule keeps one
//! noisy rule from flooding the studio; what it holds back is counted, per rule, and travels
//! with that rule's next alert (`NodeAlert::suppressed`).

use crate::ids::AlertIds;
use crate::live::Live;
use crate::state::StateError;
use rulestudio_api::action::Action;
use rulestudio_api::alerts::{BatchPlace, NodeAlert};
use rulestudio_api::protocol::Version;
use rulestudio_engine::event::{Event, FieldSource, LayeredEvent, Value as FieldValue};
use rulestudio_engine::fields::{self, FieldId};
use rulestudio_engine::rule::Matching;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Alerts per rule a node sends at most: a burst, then a steady rate.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            burst: 200,
            per_second: 20.0,
        }
    }
}

/// What one batch raised.
#[derive(Debug, Default)]
pub struct Judged {
    pub alerts: Vec<NodeAlert>,
    /// Alerts the rate limit held back in this batch.
    pub suppressed: u64,
    /// Lines that are not interchange events (a converter bug; counted, not judged).
    pub undecodable: u64,
}

/// One rule's bucket, and what it held back since its last alert went out.
struct Bucket {
    tokens: f64,
    at: Instant,
    suppressed: u64,
}

/// The node's evaluator: the live set, the id counter, and the per-rule buckets.
pub struct Evaluator {
    live: Arc<Live>,
    node: String,
    ids: AlertIds,
    limit: RateLimit,
    buckets: HashMap<String, Bucket>,
    hits: Vec<usize>,
    time: FieldId,
    hostname: FieldId,
}

impl Evaluator {
    pub fn new(live: Arc<Live>, node: &str, ids: AlertIds, limit: RateLimit) -> Evaluator {
        let field = |name| fields::get(name).expect("a field of the catalogue");
        Evaluator {
            live,
            node: node.to_string(),
            ids,
            limit,
            buckets: HashMap::new(),
            hits: Vec::new(),
            time: field("evt.time"),
            hostname: field("evt.hostname"),
        }
    }

    /// Judges `lines` (interchange JSON events) against the current live set; no live set yet,
    /// no alerts. `at` is where the first line is sent, when it is: its batch and index there
    /// (the following lines follow it in the same batch). A line that is not an event is
    /// counted, not judged, and keeps its place.
    pub fn judge(
        &mut self,
        at: Option<BatchPlace>,
        lines: &[String],
    ) -> Result<Judged, StateError> {
        let events: Vec<Option<LayeredEvent>> = lines
            .iter()
            .map(|l| Event::from_json_str(l).ok().map(LayeredEvent::alone))
            .collect();
        self.judge_at(at, &events, Instant::now())
    }

    /// Judges events as the capture builds them (no JSON in between), as [`Evaluator::judge`]
    /// judges lines.
    pub fn judge_events(
        &mut self,
        at: Option<BatchPlace>,
        events: &[LayeredEvent],
    ) -> Result<Judged, StateError> {
        self.judge_at(at, events, Instant::now())
    }

    fn judge_at(
        &mut self,
        at: Option<BatchPlace>,
        events: &[impl AsEvent],
        now: Instant,
    ) -> Result<Judged, StateError> {
        let mut out = Judged::default();
        let Some(rules) = self.live.current() else {
            return Ok(out);
        };
        // Enforce (and dry-run) rules are judged whatever `rule_matching` says: under `first`,
        // an earlier alert-only rule must not shadow a rule that stops the process.
        let enforcing: Vec<bool> = rules
            .ruleset
            .rules()
            .iter()
            .map(|r| Action::of_rule(r).enforces())
            .collect();
        let also_enforcing = rules.matching == Matching::First && enforcing.contains(&true);
        let matching = match also_enforcing {
            true => Matching::All,
            false => rules.matching,
        };
        let node = FieldValue::Str(self.node.clone().into());
        for (index, ev) in events.iter().enumerate() {
            let Some(ev) = ev.as_event() else {
                out.undecodable += 1;
                continue;
            };
            let ev = Hosted {
                ev,
                hostname: self.hostname,
                node: &node,
            };
            self.hits.clear();
            rules.ruleset.eval(&ev, matching, &mut self.hits);
            if also_enforcing && let Some(&first) = self.hits.iter().min() {
                self.hits.retain(|&r| r == first || enforcing[r]);
                self.hits.sort_unstable();
            }
            if self.hits.is_empty() {
                continue;
            }
            let time = match ev.stored(self.time, None).flatten() {
                Some(FieldValue::Int(t)) if *t >= 0 => *t,
                _ => 0,
            };
            let host = match ev.stored(self.hostname, None).flatten() {
                Some(FieldValue::Str(h)) => h.to_string(),
                _ => String::new(),
            };
            // Written out as a whole only once an alert is admitted: a rule held to its rate
            // during a flood costs nothing more per event.
            let mut whole = None;
            for &r in &self.hits {
                let rule = &rules.ruleset.rules()[r];
                let Some(suppressed) = admit(&mut self.buckets, self.limit, &rule.name, now) else {
                    out.suppressed += 1;
                    continue;
                };
                let mut alert =
                    rulestudio_api::alerts::build(rule, &ev, time, &host, rules.set.version);
                alert.event = Some(whole.get_or_insert_with(|| ev.whole()).clone());
                out.alerts.push(NodeAlert {
                    version: Version::CURRENT,
                    id: self.ids.next_id()?,
                    node: self.node.clone(),
                    sent_in: at.map(|at| BatchPlace {
                        batch: at.batch,
                        index: at.index + index as i64,
                    }),
                    suppressed,
                    alert,
                });
            }
        }
        Ok(out)
    }
}

/// An entry of what is judged: an event, or a line that was not one (`None`).
trait AsEvent {
    fn as_event(&self) -> Option<&LayeredEvent>;
}

impl AsEvent for LayeredEvent {
    fn as_event(&self) -> Option<&LayeredEvent> {
        Some(self)
    }
}

impl AsEvent for Option<LayeredEvent> {
    fn as_event(&self) -> Option<&LayeredEvent> {
        self.as_ref()
    }
}

/// An event as the studio's ingest names it: one without `evt.hostname` is this node's.
struct Hosted<'a> {
    ev: &'a LayeredEvent,
    hostname: FieldId,
    node: &'a FieldValue<'static>,
}

impl Hosted<'_> {
    /// The event as interchange JSON, its host included.
    fn whole(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = crate::scan::values_json(self.ev.values());
        if self.ev.stored(self.hostname, None).flatten().is_none() {
            map.insert(
                self.hostname.name().to_string(),
                crate::scan::value_json(self.node),
            );
        }
        map
    }
}

impl FieldSource for Hosted<'_> {
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<FieldValue<'_>> {
        self.stored(field, arg).flatten().map(FieldValue::borrowed)
    }

    #[inline]
    fn stored(&self, field: FieldId, arg: Option<&str>) -> Option<Option<&FieldValue<'_>>> {
        let own = self.ev.stored(field, arg).flatten();
        let host = field == self.hostname && arg.is_none();
        Some(own.or(host.then_some(self.node)))
    }

    fn evt_type_index(&self) -> Option<u16> {
        self.ev.evt_type_index()
    }
}

/// Takes a token of `rule`'s bucket: `Some(alerts held back since its last one)` when the alert
/// may go, `None` when it is held back (and counted).
fn admit(
    buckets: &mut HashMap<String, Bucket>,
    limit: RateLimit,
    rule: &str,
    now: Instant,
) -> Option<u64> {
    let bucket = match buckets.get_mut(rule) {
        Some(b) => b,
        None => buckets.entry(rule.to_string()).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            at: now,
            suppressed: 0,
        }),
    };
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(f64::from(limit.burst));
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        Some(std::mem::take(&mut bucket.suppressed))
    } else {
        bucket.suppressed += 1;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_api::live::{LiveSet, RuleMatching, RulesFile};
    use std::time::Duration;

    const RULES: &str = r#"
- rule: Shell
  desc: a shell
  condition: evt.type = execve and proc.name = bash
  output: shell %proc.name by %user.name
  priority: WARNING
  tags: [shell]
- rule: Any exec
  desc: any exec
  condition: evt.type = execve
  output: exec %proc.name
  priority: NOTICE
"#;

    fn evaluator(matching: RuleMatching, limit: RateLimit) -> Evaluator {
        let live = Arc::new(Live::default());
        let set = LiveSet {
            version: 7,
            files: vec![RulesFile {
                name: "rules.yaml".into(),
                content: RULES.into(),
            }],
            rule_matching: matching,
            promoted_at: 0,
            promoted_by: String::new(),
            proposal: None,
            engine_changes: Vec::new(),
        };
        live.install(crate::live::compile(set).unwrap());
        let ids = AlertIds::open("n1", None).unwrap();
        Evaluator::new(live, "n1", ids, limit)
    }

    fn exec(name: &str, time: i64) -> String {
        format!(
            r#"{{"evt.time":{time},"evt.type":"execve","evt.dir":"<","proc.name":"{name}","user.name":"root"}}"#
        )
    }

    #[test]
    fn alerts_are_built_as_the_studio_builds_them_with_id_node_and_event() {
        let mut e = evaluator(RuleMatching::All, RateLimit::default());
        let lines = vec![exec("ls", 1), exec("bash", 2_000_000_123)];
        // The lines follow the first ten events of batch 55.
        let at = BatchPlace {
            batch: 55,
            index: 10,
        };
        let judged = e.judge(Some(at), &lines).unwrap();
        let rules: Vec<&str> = judged
            .alerts
            .iter()
            .map(|a| a.alert.rule.as_str())
            .collect();
        assert_eq!(rules, ["Any exec", "Shell", "Any exec"]);
        let shell = &judged.alerts[1];
        assert!(
            shell.id.starts_with("n1:") && shell.id.ends_with(":1"),
            "{}",
            shell.id
        );
        assert_eq!(shell.node, "n1");
        assert_eq!(
            shell.sent_in,
            Some(BatchPlace {
                batch: 55,
                index: 11
            })
        );
        let a = &shell.alert;
        assert_eq!(a.output, "00:00:02.000000123: Warning shell bash by root");
        assert_eq!(a.time, "1970-01-01T00:00:02.000000123Z");
        assert_eq!(a.priority, rulestudio_api::alerts::Priority::Warning);
        assert_eq!(a.tags, ["shell"]);
        assert_eq!(a.live_version, 7);
        assert_eq!(a.hostname, "n1");
        assert_eq!(a.output_fields["proc.name"], "bash");
        assert_eq!(a.output_fields["user.name"], "root");
        let event = a.event.as_ref().unwrap();
        assert_eq!(event["proc.name"], "bash");
        assert_eq!(event["evt.hostname"], "n1");
    }

    #[test]
    fn the_version_s_rule_matching_is_honoured() {
        let mut e = evaluator(RuleMatching::First, RateLimit::default());
        let judged = e.judge(None, &[exec("bash", 1)]).unwrap();
        assert_eq!(judged.alerts.len(), 1);
        assert_eq!(judged.alerts[0].alert.rule, "Shell");
        assert_eq!(judged.alerts[0].sent_in, None);
    }

    #[test]
    fn an_enforce_rule_is_judged_even_behind_an_earlier_match_under_first() {
        let live = Arc::new(Live::default());
        let rules = format!(
            "{RULES}- rule: Stop bash\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: stop %proc.name\n  priority: CRITICAL\n  tags: [rulestudio.enforce]\n- rule: Alert-only after\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: NOTICE\n"
        );
        live.install(
            crate::live::compile(LiveSet {
                version: 1,
                files: vec![RulesFile {
                    name: "rules.yaml".into(),
                    content: rules,
                }],
                rule_matching: RuleMatching::First,
                promoted_at: 0,
                promoted_by: String::new(),
                proposal: None,
                engine_changes: Vec::new(),
            })
            .unwrap(),
        );
        let mut e = Evaluator::new(
            live,
            "n1",
            AlertIds::open("n1", None).unwrap(),
            RateLimit::default(),
        );
        let names = |e: &mut Evaluator, line: String| -> Vec<String> {
            let judged = e.judge(None, &[line]).unwrap();
            judged.alerts.into_iter().map(|a| a.alert.rule).collect()
        };
        // The first match alerts as Falco's `first` says; the enforce rule behind it is judged
        // too; the alert-only rules behind it are not.
        assert_eq!(names(&mut e, exec("bash", 1)), ["Shell", "Stop bash"]);
        assert_eq!(names(&mut e, exec("ls", 2)), ["Any exec"]);
    }

    fn events(lines: &[String]) -> Vec<LayeredEvent> {
        let decode = |l: &String| LayeredEvent::alone(Event::from_json_str(l).unwrap());
        lines.iter().map(decode).collect()
    }

    #[test]
    fn a_noisy_rule_is_held_to_its_rate_and_the_held_back_alerts_are_counted() {
        let limit = RateLimit {
            burst: 2,
            per_second: 1.0,
        };
        let mut e = evaluator(RuleMatching::First, limit);
        let t0 = Instant::now();
        let lines: Vec<String> = (0..5).map(|i| exec("ls", i)).collect();
        let first = e.judge_at(None, &events(&lines), t0).unwrap();
        assert_eq!(first.alerts.len(), 2);
        assert_eq!(first.suppressed, 3);
        // A second later one token is back: the next alert says how many were held back.
        let later = e
            .judge_at(None, &events(&lines[..1]), t0 + Duration::from_secs(1))
            .unwrap();
        assert_eq!(later.alerts.len(), 1);
        assert_eq!(later.alerts[0].suppressed, 3);
        // Another rule has its own bucket.
        let shell = e
            .judge_at(
                None,
                &events(&[exec("bash", 9)]),
                t0 + Duration::from_secs(1),
            )
            .unwrap();
        assert_eq!(shell.alerts.len(), 1);
        assert_eq!(shell.alerts[0].suppressed, 0);
    }

    #[test]
    fn without_a_live_set_nothing_is_judged_and_bad_lines_are_counted() {
        let live = Arc::new(Live::default());
        let ids = AlertIds::open("n1", None).unwrap();
        let mut e = Evaluator::new(live, "n1", ids, RateLimit::default());
        assert!(e.judge(None, &[exec("bash", 1)]).unwrap().alerts.is_empty());
        let mut e = evaluator(RuleMatching::All, RateLimit::default());
        let judged = e.judge(None, &["{oops".into(), exec("ls", 1)]).unwrap();
        assert_eq!((judged.undecodable, judged.alerts.len()), (1, 1));
    }
}
