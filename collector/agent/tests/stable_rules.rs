//! Every rule of Falco's official stable, incubating and sandbox rulesets, enabled or not, has
//! events to fire on: each event type it restricts to is one the collector can produce.

use rulestudio_collector::syscalls::produced_evt_types;
use rulestudio_engine::loader::{LoadOptions, SourceFile, load};

/// The rulesets, each loaded after the stable one as Falco users load them.
const RULESETS: &[(&str, &str)] = &[
    (
        "falco_rules.yaml",
        include_str!("../../../engine/data/falco_rules.yaml"),
    ),
    (
        "falco-incubating_rules.yaml",
        include_str!("../../../tests/fixtures/rulesets/falco-incubating_rules.yaml"),
    ),
    (
        "falco-sandbox_rules.yaml",
        include_str!("../../../tests/fixtures/rulesets/falco-sandbox_rules.yaml"),
    ),
];

#[test]
fn every_official_rule_has_a_captured_event_type() {
    let produced = produced_evt_types();
    let mut missing = Vec::new();
    let mut checked = 0;
    for (i, (name, text)) in RULESETS.iter().enumerate() {
        let mut files = vec![SourceFile {
            name: RULESETS[0].0.into(),
            text: RULESETS[0].1.into(),
        }];
        if i > 0 {
            files.push(SourceFile {
                name: (*name).into(),
                text: (*text).into(),
            });
        }
        let loaded = load(&files, &LoadOptions::default());
        assert!(loaded.ok(), "{name} loads: {:#?}", loaded.diagnostics);
        let own = loaded
            .rules
            .iter()
            .filter(|r| i == 0 || !RULESETS[0].1.contains(&format!("- rule: {}\n", r.name)));
        for rule in own {
            let types = rule
                .evt_types
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: rule {:?} compiles", rule.name));
            checked += 1;
            for t in types {
                if !produced.contains(t) {
                    missing.push(format!("{name}: {}: {t}", rule.name));
                }
            }
        }
    }
    // The three files hold 25 + 31 + 37 rules; a loader change that dropped rules must not
    // make this test pass vacuously.
    assert_eq!(checked, 93, "rules checked");
    assert!(
        missing.is_empty(),
        "event types no capture produces: {missing:#?}"
    );
}
