//! The article's seven rules (`tests/fixtures/article-rules.yaml`), linted after the official
//! `falco_rules.yaml` as `rulestudio lint` does: every rule is explained with a fix, and the
//! fixes, applied until none is left (as `rulestudio lint --fix --unsafe-fixes` does), give
//! `tests/fixtures/article-rules.fixed.yaml` (`UPDATE_EXPECT=1` refreshes it), which loads
//! cleanly and catches `tests/fixtures/article-events.yaml`. How the CLI renders the diagnostics
//! is tested with the binary, in `cli/tests/seed.rs`.

use rulestudio_engine::diagnostic::{Code, ItemKind};
use rulestudio_engine::eval::RuleSet;
use rulestudio_engine::event::Event;
use rulestudio_engine::fix::{self, FixLevel};
use rulestudio_engine::lint;
use rulestudio_engine::loader::{LoadOptions, SourceFile};
use rulestudio_engine::rule::Matching;
use std::path::{Path, PathBuf};

const MAX_PASSES: usize = 8;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn files(seed: String) -> Vec<SourceFile> {
    vec![
        SourceFile {
            name: "engine/data/falco_rules.yaml".into(),
            text: read("engine/data/falco_rules.yaml"),
        },
        SourceFile {
            name: "tests/fixtures/article-rules.yaml".into(),
            text: seed,
        },
    ]
}

const SEED_RULES: [&str; 7] = [
    "Write to /tmp in container",
    "Web server writing to /tmp",
    "Unexpected shell in container",
    "Execute from unusual location in container",
    "Unexpected outbound connection from container",
    "Modify sensitive file",
    "Sensitive syscall in privileged container",
];

/// Applies every safe and unsafe fix to the seed file until none applies, as
/// `rulestudio lint --fix --unsafe-fixes` does.
fn fix_all(mut files: Vec<SourceFile>) -> (String, usize) {
    for pass in 0..MAX_PASSES {
        let diagnostics = lint::lint(&files, &LoadOptions::default()).diagnostics;
        let fixes = diagnostics
            .iter()
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| {
                FixLevel::Unsafe.allows(f.applicability)
                    && f.edits.first().is_some_and(|e| e.span.file.0 == 1)
            });
        let (text, applied) = fix::apply(&files[1].text, fixes);
        if applied == 0 {
            return (files.swap_remove(1).text, pass);
        }
        files[1].text = text;
    }
    panic!("fixes did not reach a fixed point in {MAX_PASSES} passes");
}

#[test]
fn the_official_rules_get_no_diagnostics() {
    let linted = lint::lint(
        &files(read("tests/fixtures/article-rules.yaml")),
        &LoadOptions::default(),
    );
    let official: Vec<_> = linted
        .diagnostics
        .iter()
        .filter(|d| d.span.is_some_and(|s| s.file.0 == 0))
        .collect();
    assert!(
        official.is_empty(),
        "diagnostics on falco_rules.yaml: {official:#?}"
    );
}

/// Each rule fails to load, and the first report already explains it: a Falco error carrying a
/// fix, among several fixes.
#[test]
fn every_seed_rule_is_a_falco_error_with_fixes() {
    let linted = lint::lint(
        &files(read("tests/fixtures/article-rules.yaml")),
        &LoadOptions::default(),
    );
    assert!(!linted.loaded.ok());
    for rule in SEED_RULES {
        let with_fix: Vec<_> = linted
            .diagnostics
            .iter()
            .filter(|d| {
                d.item_kind == Some(ItemKind::Rule)
                    && d.item_name.as_deref() == Some(rule)
                    && d.fix.is_some()
            })
            .collect();
        assert!(
            with_fix
                .iter()
                .any(|d| d.is_error() && Code::FALCO.contains(&d.code)),
            "{rule}: no Falco error with a fix"
        );
        assert!(
            with_fix.len() >= 2,
            "{rule}: expected several diagnostics with fixes"
        );
    }
}

/// The fixes give `tests/fixtures/article-rules.fixed.yaml`, which loads after
/// `falco_rules.yaml` without a single diagnostic, and whose rules catch the behaviour their
/// descriptions name (`tests/fixtures/article-events.yaml`).
#[test]
fn fixed_rules_load_cleanly_and_catch_their_behaviour() {
    let (fixed, passes) = fix_all(files(read("tests/fixtures/article-rules.yaml")));
    assert!(
        passes >= 2,
        "the dialect and the semantic fixes overlap, so more than one pass is expected"
    );
    let path = repo("tests/fixtures/article-rules.fixed.yaml");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &fixed).expect("write the fixed rules");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        fixed == want,
        "fixed rules differ from {}; run with UPDATE_EXPECT=1\n{fixed}",
        path.display()
    );
    let linted = lint::lint(&files(fixed), &LoadOptions::default());
    assert!(
        linted.diagnostics.is_empty(),
        "diagnostics left after fixing: {:#?}",
        linted.diagnostics
    );
    catches_the_article_events(&linted.loaded.ruleset);
}

#[derive(serde::Deserialize)]
struct Case {
    rule: String,
    name: String,
    event: serde_json::Map<String, serde_json::Value>,
    expect: String,
}

fn article_events() -> Vec<Case> {
    let doc =
        rulestudio_engine::loader::yaml_json::document(&read("tests/fixtures/article-events.yaml"))
            .expect("events file")
            .expect("a document");
    serde_json::from_value(doc.value).expect("a sequence of cases")
}

/// Each seed rule matches its positive events and none of its negatives, by its filter and
/// through the rule set's dispatch on `evt.type`.
fn catches_the_article_events(ruleset: &RuleSet) {
    let rules = ruleset.rules();
    for rule in SEED_RULES {
        assert!(
            rules.iter().any(|r| r.name == rule),
            "{rule} is not in the loaded ruleset"
        );
    }
    for case in article_events() {
        let event = Event::from_map(&case.event).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let (i, rule) = rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == case.rule)
            .expect("every case names a seed rule");
        assert_eq!(
            rule.filter.matches(&event),
            case.expect == "match",
            "{}: {}",
            case.rule,
            case.name
        );
        let mut hits = Vec::new();
        ruleset.eval(&event, Matching::All, &mut hits);
        assert_eq!(
            hits.contains(&i),
            case.expect == "match",
            "{}: {} (dispatch)",
            case.rule,
            case.name
        );
    }
}

#[test]
fn article_events_decode() {
    let cases = article_events();
    assert!(
        SEED_RULES
            .iter()
            .all(|r| cases.iter().any(|c| c.rule == *r && c.expect == "match"))
    );
    assert!(
        SEED_RULES
            .iter()
            .all(|r| cases.iter().any(|c| c.rule == *r && c.expect == "no_match"))
    );
    for c in &cases {
        Event::from_map(&c.event).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}
