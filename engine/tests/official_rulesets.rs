//! The other official rulesets (falcosecurity/rules), each loaded after `falco_rules.yaml` as
//! Falco users do: Falco's verdict, and exactly the warnings Falco itself prints (codes, items).

use rulestudio_engine::loader::{load, LoadOptions, Loaded, SourceFile};

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile { name: name.into(), text: text.into() }
}

fn after_falco_rules(name: &str, text: &str) -> Loaded {
    let stable = file("falco_rules.yaml", include_str!("../data/falco_rules.yaml"));
    load(&[stable, file(name, text)], &LoadOptions::default())
}

/// (code, item name) of every diagnostic, sorted.
fn diagnostics(loaded: &Loaded) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.code.0.to_string(), d.item_name.clone().unwrap_or_default()))
        .collect();
    out.sort();
    out
}

fn assert_loads_every_rule(loaded: &Loaded, rules: usize) {
    assert!(loaded.ok(), "{:#?}", loaded.diagnostics.iter().filter(|d| d.is_error()).collect::<Vec<_>>());
    assert_eq!(loaded.rules.len(), rules);
    for r in &loaded.rules {
        assert!(r.compiled_condition.is_some(), "rule {:?} did not compile", r.name);
    }
}

#[test]
fn incubating_rules_load_cleanly() {
    let loaded = after_falco_rules("falco-incubating_rules.yaml", include_str!("../../tests/fixtures/rulesets/falco-incubating_rules.yaml"));
    assert_loads_every_rule(&loaded, 56);
    assert_eq!(diagnostics(&loaded), Vec::<(String, String)>::new());
}

#[test]
fn sandbox_rules_load_cleanly_despite_flow_lists_closed_at_the_key_column() {
    let loaded = after_falco_rules("falco-sandbox_rules.yaml", include_str!("../../tests/fixtures/rulesets/falco-sandbox_rules.yaml"));
    assert_loads_every_rule(&loaded, 62);
    assert_eq!(diagnostics(&loaded), Vec::<(String, String)>::new());
}

#[test]
fn deprecated_rules_load_with_one_evt_dir_warning_per_rule_using_it() {
    let loaded = after_falco_rules("falco-deprecated_rules.yaml", include_str!("../../tests/fixtures/rulesets/falco-deprecated_rules.yaml"));
    assert_loads_every_rule(&loaded, 29);
    let warned: Vec<(String, String)> = [
        "Disallowed SSH Connection",
        "Disallowed SSH Connection Non Standard Port",
        "Outbound Connection to C2 Servers",
        "Outbound or Inbound Traffic not to Authorized Server Process and Port",
        "Unexpected outbound connection destination",
    ]
    .iter()
    .map(|r| ("LOAD_DEPRECATED_ITEM".to_string(), r.to_string()))
    .collect();
    assert_eq!(diagnostics(&loaded), warned);
}
