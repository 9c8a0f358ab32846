//! The official ruleset loads cleanly, and the article's rules loaded after it are each
//! reported where they are broken.

use rulestudio_engine::diagnostic::ItemKind;
use rulestudio_engine::loader::{LoadOptions, SourceFile, load};
use rulestudio_engine::span::LineIndex;

fn falco_rules() -> SourceFile {
    let text = include_str!("../data/falco_rules.yaml");
    SourceFile {
        name: "falco_rules.yaml".into(),
        text: text.into(),
    }
}

fn article_rules() -> SourceFile {
    let text = include_str!("../../tests/conformance/load/article-rules.yaml");
    SourceFile {
        name: "article-rules.yaml".into(),
        text: text.into(),
    }
}

#[test]
fn falco_rules_load_without_errors() {
    let loaded = load(&[falco_rules()], &LoadOptions::default());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "errors: {errors:#?}");
    assert!(loaded.ok());
    assert!(loaded.rules.len() > 20, "only {} rules", loaded.rules.len());
    for r in &loaded.rules {
        assert!(
            r.compiled_condition.is_some(),
            "rule {:?} has no compiled condition",
            r.name
        );
        assert!(
            r.evt_types.as_ref().is_some_and(|t| !t.is_empty()),
            "rule {:?} matches no event type",
            r.name
        );
    }
    let enabled = loaded.rules.iter().filter(|r| r.enabled).count();
    assert_eq!(loaded.ruleset.rules().len(), enabled);
    // Official macros are all used by some rule or macro, except the ones Falco also warns about.
    assert!(loaded.macros.iter().filter(|m| m.used).count() > loaded.macros.len() / 2);
}

#[test]
fn article_rules_after_falco_rules_each_fail_at_their_item() {
    let files = [falco_rules(), article_rules()];
    let loaded = load(&files, &LoadOptions::default());
    assert!(!loaded.ok());
    let text = &files[1].text;
    let index = LineIndex::new(text);
    let rule_lines: Vec<u32> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("- rule: "))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert_eq!(rule_lines.len(), 7);
    for (line, name) in rule_lines
        .iter()
        .zip(text.lines().filter_map(|l| l.strip_prefix("- rule: ")))
    {
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| {
                d.is_error()
                    && d.item_kind == Some(ItemKind::Rule)
                    && d.item_name.as_deref() == Some(name)
            })
            .collect();
        assert!(!errors.is_empty(), "no error for rule {name:?}");
        for d in errors {
            let span = d.span.expect("span");
            assert_eq!(span.file.0, 1, "{name}: error not in the article file");
            let at = index.line_col(text, span.start);
            assert_eq!(at.line, *line, "{name}: {} at line {}", d.message, at.line);
            assert_eq!(&text[span.range()], format!("rule: {name}"), "{name}: span");
        }
        let messages: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.item_name.as_deref() == Some(name))
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            messages.contains(&"Item has no mapping for key 'output'"),
            "{name}: {messages:?}"
        );
        assert!(
            messages.contains(&"Item has no mapping for key 'priority'"),
            "{name}: {messages:?}"
        );
    }
    // Nothing of the official ruleset is blamed.
    assert!(
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .all(|d| d.span.is_some_and(|s| s.file.0 == 1))
    );
}
