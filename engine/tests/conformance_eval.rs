//! Runs `tests/conformance/eval/*.cases`: each condition is compiled and evaluated on its
//! events; every `match:` event must match and every `no_match:` event must not.

mod common;

use rulestudio_engine::syntax::ast::Expr;

fn parse(text: &str) -> Expr {
    rulestudio_engine::syntax::parse(text)
        .ok()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e:?}"))
}

use rulestudio_engine::compile::compile;
use rulestudio_engine::event::Event;

#[test]
fn eval_conformance() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in common::cases::load("eval") {
        let condition = case
            .get("condition")
            .unwrap_or_else(|| panic!("{}: no condition", case.whence()));
        let compiled = compile(&parse(condition));
        let Some(filter) = compiled.filter else {
            failures.push(format!(
                "{}: does not compile: {:?}",
                case.whence(),
                compiled.diagnostics
            ));
            continue;
        };
        for (key, value, line) in &case.entries {
            let expected = match key.as_str() {
                "match" => true,
                "no_match" => false,
                "condition" => continue,
                other => panic!("{}: unknown key {other}", case.whence()),
            };
            let ev = Event::from_json_str(value)
                .unwrap_or_else(|e| panic!("{}:{line}: bad event: {e}", case.file.display()));
            checked += 1;
            if filter.matches(&ev) != expected {
                failures.push(format!(
                    "{}:{line} ({}): `{condition}` on {value}: expected {key}",
                    case.file.display(),
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} event checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
