//! Runs `tests/conformance/compile/*.cases`: the diagnostics of each condition (code, message
//! and the exact text under the span) and, when given, its event-type set.

mod common;

use rulestudio_engine::syntax::ast::Expr;

fn parse(text: &str) -> Expr {
    rulestudio_engine::syntax::parse(text)
        .ok()
        .unwrap_or_else(|e| panic!("{text:?} does not parse: {e:?}"))
}

use rulestudio_engine::compile::compile;
use rulestudio_engine::diagnostic::Severity;
use rulestudio_engine::eval::EvtTypeSet;

fn describe(condition: &str, d: &rulestudio_engine::diagnostic::Diagnostic) -> String {
    let sev = if d.severity == Severity::Error {
        "error"
    } else {
        "warning"
    };
    let at = d.span.map_or(String::new(), |s| {
        condition.get(s.range()).unwrap_or("<bad span>").to_string()
    });
    format!("{sev}[{}]: {} @ {at}", d.code, d.message)
}

/// `error: msg @ text` defaults to the compile-error code, `warning: …` to the hint code.
fn expected(key: &str, value: &str) -> Option<String> {
    let (sev, code) = match key {
        "error" => ("error", "LOAD_ERR_COMPILE_CONDITION"),
        "warning" => ("warning", "LOAD_COMPILE_CONDITION"),
        k if k.starts_with("error[") => ("error", &k[6..k.len() - 1]),
        k if k.starts_with("warning[") => ("warning", &k[8..k.len() - 1]),
        _ => return None,
    };
    Some(format!("{sev}[{code}]: {value}"))
}

fn evt_types_text(s: &EvtTypeSet) -> String {
    if s.is_all() {
        "all".into()
    } else if s.is_empty() {
        "none".into()
    } else if s.len() > 200 {
        format!("all except {}", s.complement().names().join(" "))
    } else {
        s.names().join(" ")
    }
}

#[test]
fn compile_conformance() {
    let mut failures = Vec::new();
    let cases = common::cases::load("compile");
    for case in &cases {
        let condition = case
            .get("condition")
            .unwrap_or_else(|| panic!("{}: no condition", case.whence()));
        let compiled = compile(&parse(condition));
        let got: Vec<String> = compiled
            .diagnostics
            .iter()
            .map(|d| describe(condition, d))
            .collect();
        let want: Vec<String> = case
            .entries
            .iter()
            .filter_map(|(k, v, _)| expected(k, v))
            .collect();
        if got != want {
            failures.push(format!(
                "{}: `{condition}`\n  want {want:#?}\n  got  {got:#?}",
                case.whence()
            ));
        }
        if compiled.filter.is_some() == want.iter().any(|w| w.starts_with("error")) {
            failures.push(format!(
                "{}: filter presence does not follow the errors",
                case.whence()
            ));
        }
        if let Some(types) = case.get("evt_types") {
            let got = evt_types_text(&compiled.evt_types);
            if got != types {
                failures.push(format!(
                    "{}: evt_types want `{types}` got `{got}`",
                    case.whence()
                ));
            }
        }
        if let Some(tm) = case.get("too_many")
            && compiled.event_codes.too_many().to_string() != tm
        {
            failures.push(format!("{}: too_many want {tm}", case.whence()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
