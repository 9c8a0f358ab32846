//! Every rule of Falco's stable ruleset has events to fire on: each event type it restricts to
//! is captured, except the few listed here on purpose.

use rulestudio_collector::syscalls::{SyscallSet, evt_type};
use rulestudio_engine::loader::{LoadOptions, SourceFile, load};

/// Not captured, and why: per-packet calls would dominate the event volume, and the one rule
/// using them ("Disallowed SSH Connection Non Standard Port") also fires on `connect`.
const LEFT_OUT: &[&str] = &["sendto", "sendmsg"];

#[test]
fn every_stable_rule_has_a_captured_event_type() {
    let text = include_str!("../../../engine/data/falco_rules.yaml");
    let loaded = load(
        &[SourceFile {
            name: "falco_rules.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    );
    let captured: Vec<&str> = SyscallSet::all()
        .numbers()
        .iter()
        .filter_map(|n| evt_type(*n))
        .collect();
    let mut missing = Vec::new();
    for rule in &loaded.rules {
        let types = rule
            .evt_types
            .as_ref()
            .expect("stable rules restrict their event types");
        for t in types.iter().map(|t| t.to_string()) {
            if !captured.contains(&t.as_str()) && !LEFT_OUT.contains(&t.as_str()) {
                missing.push(format!("{}: {t}", rule.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "event types no capture produces: {missing:#?}"
    );
}
