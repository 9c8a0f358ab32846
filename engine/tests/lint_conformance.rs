//! Data-driven lint cases: `tests/conformance/lint/*.yaml` (format in its README).

use rulestudio_engine::lint;
use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
use rulestudio_engine::span::LineIndex;
use std::path::Path;

fn expectations(text: &str) -> Vec<String> {
    let idx = LineIndex::new(text);
    let files = [SourceFile {
        name: "case.yaml".into(),
        text: text.to_owned(),
    }];
    // The lints alone: the load only says which entries take part (redefinitions).
    let mut loaded = loader::load(&files, &LoadOptions::default());
    loaded.diagnostics.clear();
    lint::check(&files, &loaded)
        .iter()
        .filter_map(|d| {
            let at = idx.line_col(text, d.span?.start);
            Some(format!("# expect: {}:{} {}", at.line, at.column, d.code))
        })
        .collect()
}

#[test]
fn lint_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/lint");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("cases dir")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let mut failures = Vec::new();
    for path in paths {
        let file = std::fs::read_to_string(&path).expect("case");
        let body: String = file
            .lines()
            .filter(|l| !l.starts_with("# expect: "))
            .map(|l| format!("{l}\n"))
            .collect();
        let header: Vec<&str> = file
            .lines()
            .filter(|l| l.starts_with("# expect: "))
            .collect();
        // The header lines are comments at the top, so positions are counted in the whole file.
        let got = expectations(&file);
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            let top: String = expectations(&format!(
                "{}{body}",
                got.iter().map(|l| format!("{l}\n")).collect::<String>()
            ))
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
            std::fs::write(&path, format!("{top}{body}")).expect("write case");
            continue;
        }
        if header != got {
            failures.push(format!(
                "{}:\n  expected {header:#?}\n  got {got:#?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
