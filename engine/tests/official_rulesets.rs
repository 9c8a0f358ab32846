//! The other official rulesets (falcosecurity/rules), each loaded after `falco_rules.yaml` as
//! Falco users do: Falco's verdict, and exactly the warnings Falco itself prints (codes, items).

use rulestudio_engine::loader::{LoadOptions, Loaded, SourceFile, load};

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.into(),
        text: text.into(),
    }
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
        .map(|d| {
            (
                d.code.0.to_string(),
                d.item_name.clone().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn assert_loads_every_rule(loaded: &Loaded, rules: usize) {
    assert!(
        loaded.ok(),
        "{:#?}",
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect::<Vec<_>>()
    );
    assert_eq!(loaded.rules.len(), rules);
    for r in &loaded.rules {
        assert!(
            r.compiled_condition.is_some(),
            "rule {:?} did not compile",
            r.name
        );
    }
}

#[test]
fn incubating_rules_load_cleanly() {
    let loaded = after_falco_rules(
        "falco-incubating_rules.yaml",
        include_str!("../../tests/fixtures/rulesets/falco-incubating_rules.yaml"),
    );
    assert_loads_every_rule(&loaded, 56);
    assert_eq!(diagnostics(&loaded), Vec::<(String, String)>::new());
}

#[test]
fn sandbox_rules_load_cleanly_despite_flow_lists_closed_at_the_key_column() {
    let loaded = after_falco_rules(
        "falco-sandbox_rules.yaml",
        include_str!("../../tests/fixtures/rulesets/falco-sandbox_rules.yaml"),
    );
    assert_loads_every_rule(&loaded, 62);
    assert_eq!(diagnostics(&loaded), Vec::<(String, String)>::new());
}

#[test]
fn deprecated_rules_load_with_one_evt_dir_warning_per_rule_using_it() {
    let loaded = after_falco_rules(
        "falco-deprecated_rules.yaml",
        include_str!("../../tests/fixtures/rulesets/falco-deprecated_rules.yaml"),
    );
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

/// A plugin ruleset loaded with only the syscall source, as Falco loads it: every rule
/// definition of the plugin's source is skipped with "Unknown source …, skipping"
/// (`LOAD_UNKNOWN_SOURCE`), nothing is compiled, appends to skipped rules are applied silently,
/// and macros and lists that only those rules use are unused. `unused` counts
/// (`LOAD_UNUSED_MACRO`, `LOAD_UNUSED_LIST`) follow Falco's use marking: a macro named by
/// another macro, a list named in a macro or in another list, is used.
fn assert_plugin_ruleset(files: &[SourceFile], source: &str, rules: usize, unused: (usize, usize)) {
    let loaded = load(files, &LoadOptions::default());
    assert!(
        loaded.ok(),
        "{:#?}",
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect::<Vec<_>>()
    );
    assert_eq!(loaded.rules.len(), rules);
    assert!(
        loaded
            .rules
            .iter()
            .all(|r| r.source == source && r.compiled_condition.is_none())
    );
    assert!(loaded.ruleset.rules().is_empty());
    let count = |code: &str| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.code.0 == code)
            .count()
    };
    let skipped: Vec<&str> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code.0 == "LOAD_UNKNOWN_SOURCE")
        .map(|d| {
            assert_eq!(d.message, format!("Unknown source {source}, skipping"));
            d.item_name.as_deref().unwrap_or_default()
        })
        .collect();
    let mut names: Vec<&str> = loaded.rules.iter().map(|r| r.name.as_str()).collect();
    let mut skipped_sorted = skipped;
    names.sort_unstable();
    skipped_sorted.sort_unstable();
    assert_eq!(skipped_sorted, names, "one warning per rule definition");
    assert_eq!(
        (count("LOAD_UNUSED_MACRO"), count("LOAD_UNUSED_LIST")),
        unused
    );
    assert_eq!(
        count("LOAD_UNKNOWN_SOURCE") + unused.0 + unused.1,
        loaded.diagnostics.len(),
        "{:#?}",
        loaded.diagnostics
    );
    // The linter adds nothing: plugin fields in macros are not "unknown fields".
    let linted = rulestudio_engine::lint::lint(files, &LoadOptions::default());
    assert_eq!(
        linted.diagnostics.len(),
        loaded.diagnostics.len(),
        "{:#?}",
        linted
            .diagnostics
            .iter()
            .filter(|d| !d.code.0.starts_with("LOAD_"))
            .collect::<Vec<_>>()
    );
}

fn fixture(name: &str) -> SourceFile {
    let path = format!(
        "{}/../tests/fixtures/rulesets/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    file(name, &std::fs::read_to_string(path).expect("fixture"))
}

#[test]
fn plugin_rulesets_are_skipped_rule_by_rule_without_their_plugins() {
    assert_plugin_ruleset(
        &[fixture("k8s_audit_rules.yaml")],
        "k8s_audit",
        48,
        (40, 10),
    );
    // The GKE file appends to the rules and lists of the k8saudit one.
    assert_plugin_ruleset(
        &[
            fixture("k8s_audit_rules.yaml"),
            fixture("k8s_audit_rules_gke.yaml"),
        ],
        "k8s_audit",
        48,
        (40, 10),
    );
    assert_plugin_ruleset(
        &[fixture("aws_cloudtrail_rules.yaml")],
        "aws_cloudtrail",
        22,
        (0, 1),
    );
    assert_plugin_ruleset(
        &[fixture("gcp_auditlog_rules.yaml")],
        "gcp_auditlog",
        39,
        (11, 0),
    );
    assert_plugin_ruleset(&[fixture("github_rules.yaml")], "github", 15, (0, 0));
    assert_plugin_ruleset(&[fixture("okta_rules.yaml")], "okta", 21, (1, 0));
}

#[test]
fn plugin_ruleset_extension_fails_without_its_base_like_falco() {
    let loaded = load(
        &[fixture("k8s_audit_rules_gke.yaml")],
        &LoadOptions::default(),
    );
    assert!(!loaded.ok());
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.code.0 == "LOAD_ERR_VALIDATE"),
        "{:#?}",
        loaded.diagnostics
    );
}
