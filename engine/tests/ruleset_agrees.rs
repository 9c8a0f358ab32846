//! A rule set shares checks across rules, memoises them per event and folds the `evt.type`
//! checks its dispatch decides; none of that may change a verdict. Every condition of the eval
//! conformance suite becomes a rule of one set, and every event of the suite must match exactly
//! the rules whose filter alone matches it. Same for the official rules over the suite's events.

mod common;

use rulestudio_engine::compile::compile;
use rulestudio_engine::eval::{CompiledRule, RuleSet};
use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
use rulestudio_engine::output::OutputFormat;
use rulestudio_engine::rule::{Matching, Priority};

fn conformance_rules() -> Vec<CompiledRule> {
    common::cases::load("eval")
        .iter()
        .filter_map(|case| {
            let parsed = rulestudio_engine::syntax::parse(case.get("condition")?)
                .ok()
                .ok()?;
            let c = compile(&parsed);
            Some(CompiledRule {
                name: case.whence(),
                priority: Priority::Notice,
                tags: vec![],
                source: "syscall".into(),
                filter: c.filter?,
                output: OutputFormat::parse("matched").unwrap(),
                evt_types: c.event_codes.dispatch_types(),
            })
        })
        .collect()
}

fn conformance_events() -> Vec<(String, Event)> {
    let mut events = Vec::new();
    for case in common::cases::load("eval") {
        for (key, value, _) in &case.entries {
            if key == "match" || key == "no_match" {
                events.push((
                    value.clone(),
                    Event::from_json_str(value).expect("suite event"),
                ));
            }
        }
    }
    // Each event again as every type, so that dispatch meets every rule's folded form.
    let typed: Vec<(String, Event)> = events
        .iter()
        .flat_map(|(text, _)| {
            ["open", "openat", "execve", "connect", "nosuchtype"]
                .into_iter()
                .filter_map(move |t| {
                    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
                    v.as_object_mut()?.insert("evt.type".into(), t.into());
                    let text = v.to_string();
                    Some((text.clone(), Event::from_json_str(&text).ok()?))
                })
        })
        .collect();
    events.extend(typed);
    events
}

fn assert_agrees(set: &RuleSet, events: &[(String, Event)]) -> usize {
    let mut out = Vec::new();
    let mut matches = 0;
    for (text, ev) in events {
        let alone: Vec<usize> = (0..set.rules().len())
            .filter(|&r| set.rules()[r].filter.matches(ev))
            .collect();
        out.clear();
        set.eval(ev, Matching::All, &mut out);
        assert_eq!(out, alone, "rule set and filters disagree on {text}");
        out.clear();
        set.eval(ev, Matching::First, &mut out);
        assert_eq!(
            out,
            alone.first().copied().into_iter().collect::<Vec<_>>(),
            "first match on {text}"
        );
        matches += alone.len();
    }
    matches
}

#[test]
fn conformance_conditions_as_one_rule_set() {
    let rules = conformance_rules();
    assert!(rules.len() > 50, "only {} conditions compiled", rules.len());
    let set = RuleSet::new(rules);
    assert!(assert_agrees(&set, &conformance_events()) > 100);
}

#[test]
fn official_rules_over_the_suite_events() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/falco_rules.yaml"
    ))
    .unwrap();
    let loaded = loader::load(
        &[SourceFile {
            name: "falco_rules.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    );
    assert!(loaded.ok());
    assert_agrees(&loaded.ruleset, &conformance_events());
}
