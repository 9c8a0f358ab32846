//! The article's seven rules (`tests/fixtures/article-rules.yaml`), linted after the official
//! `falco_rules.yaml` as `rulestudio lint` does: every rule is explained with a fix, and the
//! fixes, applied until none is left (as `rulestudio lint --fix --unsafe-fixes` does), give
//! `tests/fixtures/article-rules.fixed.yaml` (`UPDATE_EXPECT=1` refreshes it).

use rulestudio_engine::diagnostic::{Diagnostic, ItemKind};
use rulestudio_engine::fix::{self, FixLevel};
use rulestudio_engine::lint;
use rulestudio_engine::loader::SourceFile;
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
        SourceFile { name: "engine/data/falco_rules.yaml".into(), text: read("engine/data/falco_rules.yaml") },
        SourceFile { name: "tests/fixtures/article-rules.yaml".into(), text: seed },
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

/// Applies every safe and unsafe fix to the seed file until none applies, like the CLI.
fn fix_all(mut files: Vec<SourceFile>, lint: impl Fn(&[SourceFile]) -> Vec<Diagnostic>) -> (String, usize) {
    for pass in 0..MAX_PASSES {
        let diagnostics = lint(&files);
        let fixes = diagnostics
            .iter()
            .filter_map(|d| d.fix.as_ref())
            .filter(|f| FixLevel::Unsafe.allows(f.applicability) && f.edits.first().is_some_and(|e| e.span.file.0 == 1));
        let (text, applied) = fix::apply(&files[1].text, fixes);
        if applied == 0 {
            return (files.swap_remove(1).text, pass);
        }
        files[1].text = text;
    }
    panic!("fixes did not reach a fixed point in {MAX_PASSES} passes");
}

#[test]
fn the_official_rules_get_no_fixes() {
    let files = files(read("tests/fixtures/article-rules.yaml"));
    let official: Vec<_> = lint::check(&files, &[]).into_iter().filter(|d| d.span.is_some_and(|s| s.file.0 == 0)).collect();
    assert!(official.is_empty(), "lints on falco_rules.yaml: {official:#?}");
}

#[test]
fn every_seed_rule_is_explained_with_a_fix() {
    let diagnostics = lint::check(&files(read("tests/fixtures/article-rules.yaml")), &[]);
    for rule in SEED_RULES {
        let fixed = diagnostics.iter().filter(|d| d.item_kind == Some(ItemKind::Rule) && d.item_name.as_deref() == Some(rule) && d.fix.is_some());
        assert!(fixed.count() >= 2, "{rule}: expected several diagnostics with fixes");
    }
}

#[test]
fn fixes_reach_the_expected_rules() {
    let (fixed, passes) = fix_all(files(read("tests/fixtures/article-rules.yaml")), |f| lint::check(f, &[]));
    assert!(passes >= 2, "the dialect and the semantic fixes overlap, so more than one pass is expected");
    let path = repo("tests/fixtures/article-rules.fixed.yaml");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &fixed).expect("write the fixed rules");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(fixed == want, "fixed rules differ from {}; run with UPDATE_EXPECT=1\n{fixed}", path.display());
    let relinted = lint::check(&files(fixed), &[]);
    let left: Vec<_> = relinted.iter().filter(|d| d.span.is_some_and(|s| s.file.0 == 1)).collect();
    assert!(left.is_empty(), "diagnostics left after fixing: {left:#?}");
}

#[derive(serde::Deserialize)]
struct Case {
    rule: String,
    name: String,
    event: serde_json::Map<String, serde_json::Value>,
    expect: String,
}

/// With Falco's verdict from the loader: each rule fails to load (an error with Falco's code,
/// carrying a fix), the fixed file loads without errors after `falco_rules.yaml`, and each fixed
/// rule catches the behaviour its description names (`tests/fixtures/article-events.yaml`).
#[test]
fn fixed_rules_load_and_catch_their_behaviour() {
    use rulestudio_engine::diagnostic::Code;
    use rulestudio_engine::event::Event;
    use rulestudio_engine::loader::LoadOptions;
    use rulestudio_engine::rule::Matching;

    let linted = lint::lint(&files(read("tests/fixtures/article-rules.yaml")), &LoadOptions::default());
    assert!(!linted.loaded.ok());
    for rule in SEED_RULES {
        let explained = linted
            .diagnostics
            .iter()
            .any(|d| d.is_error() && Code::FALCO.contains(&d.code) && d.item_name.as_deref() == Some(rule) && d.fix.is_some());
        assert!(explained, "{rule}: no Falco error with a fix");
    }
    let (fixed, _) = fix_all(files(read("tests/fixtures/article-rules.yaml")), |f| lint::lint(f, &LoadOptions::default()).diagnostics);
    let loaded = rulestudio_engine::loader::load(&files(fixed), &LoadOptions::default());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let rules = loaded.ruleset.rules();
    for rule in SEED_RULES {
        assert!(rules.iter().any(|r| r.name == rule), "{rule} is not in the loaded ruleset");
    }
    let cases: Vec<Case> = serde_saphyr::from_str(&read("tests/fixtures/article-events.yaml")).expect("events file");
    for case in cases {
        let event = Event::from_map(&case.event).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let (i, rule) = rules.iter().enumerate().find(|(_, r)| r.name == case.rule).expect("every case names a seed rule");
        assert_eq!(rule.filter.matches(&event), case.expect == "match", "{}: {}", case.rule, case.name);
        // The rule set dispatches on evt.type first: a matching rule must also be among its hits.
        let mut hits = Vec::new();
        loaded.ruleset.eval(&event, Matching::All, &mut hits);
        assert_eq!(hits.contains(&i), case.expect == "match", "{}: {} (dispatch)", case.rule, case.name);
    }
}

#[test]
fn article_events_decode() {
    let cases: Vec<Case> = serde_saphyr::from_str(&read("tests/fixtures/article-events.yaml")).expect("events file");
    assert!(SEED_RULES.iter().all(|r| cases.iter().any(|c| c.rule == *r && c.expect == "match")));
    assert!(SEED_RULES.iter().all(|r| cases.iter().any(|c| c.rule == *r && c.expect == "no_match")));
    for c in &cases {
        rulestudio_engine::event::Event::from_map(&c.event).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    }
}

/// `file:line:col: severity[code]: message`, the source line and carets, help and fix, as the
/// CLI renders them (lints alone, without the loader's diagnostics).
fn render(d: &Diagnostic, name: &str, text: &str) -> String {
    use rulestudio_engine::span::LineIndex;
    let idx = LineIndex::new(text);
    let span = d.span.expect("lint diagnostics have spans");
    let (a, b) = (idx.line_col(text, span.start), idx.line_col(text, span.end));
    let line = idx.line_text(text, a.line);
    let width = if b.line == a.line { (b.column - a.column).max(1) as usize } else { line.chars().count() + 1 - a.column as usize };
    let mut out = format!("{name}:{}:{}: {}[{}]: {}\n", a.line, a.column, d.severity.as_str(), d.code, d.message);
    out += &format!("  | {line}\n  | {}{}\n", " ".repeat(a.column as usize - 1), "^".repeat(width));
    if let Some(h) = &d.help {
        out += &format!("  = help: {h}\n");
    }
    if let Some(f) = &d.fix {
        out += &format!("  = fix ({}): {}\n", f.applicability.as_str(), f.message);
    }
    out
}

#[test]
fn rendered_diagnostics_snapshot() {
    let seed = read("tests/fixtures/article-rules.yaml");
    let rendered: String = lint::check(&files(seed.clone()), &[]).iter().map(|d| render(d, "tests/fixtures/article-rules.yaml", &seed)).collect();
    let path = repo("tests/fixtures/article-rules.lint.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &rendered).expect("write snapshot");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(rendered == want, "{} is stale; run with UPDATE_EXPECT=1\n{rendered}", path.display());
}
