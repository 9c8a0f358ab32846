//! Runs `tests/conformance/output/*.cases`: each format is compiled; a case expecting `error:`
//! must be rejected with a message containing that text, any other must compile and render
//! each event to the `output:` that follows it, with the `fields:` map that follows it.

mod common;

use rulestudio_engine::event::Event;
use rulestudio_engine::output::OutputFormat;
use serde_json::{Map, Value};

fn json_string(case: &common::cases::Case, key: &str, text: &str) -> String {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{}: {key} is not a JSON string: {e}", case.whence()))
}

#[test]
fn output_conformance() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in common::cases::load("output") {
        let format = json_string(
            &case,
            "format",
            case.get("format")
                .unwrap_or_else(|| panic!("{}: no format", case.whence())),
        );
        let compiled = OutputFormat::parse(&format);
        if let Some(expected) = case.get("error") {
            checked += 1;
            match compiled {
                Ok(_) => failures.push(format!(
                    "{}: {format:?} compiled, expected error containing {expected:?}",
                    case.whence()
                )),
                Err(e) if !e.message.contains(expected) => failures.push(format!(
                    "{}: {format:?}: error {:?} does not contain {expected:?}",
                    case.whence(),
                    e.message
                )),
                Err(_) => {}
            }
            continue;
        }
        let compiled = match compiled {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!(
                    "{}: {format:?} does not compile: {}",
                    case.whence(),
                    e.message
                ));
                continue;
            }
        };
        let mut event = None;
        for (key, value, line) in &case.entries {
            let whence = format!("{}:{line} ({})", case.file.display(), case.name);
            match key.as_str() {
                "format" => {}
                "event" => {
                    event = Some(
                        Event::from_json_str(value)
                            .unwrap_or_else(|e| panic!("{whence}: bad event: {e}")),
                    )
                }
                "output" | "fields" => {
                    let ev = event
                        .as_ref()
                        .unwrap_or_else(|| panic!("{whence}: {key} before any event"));
                    checked += 1;
                    let (got, want) = if key == "output" {
                        (
                            Value::String(compiled.render(ev)),
                            Value::String(json_string(&case, key, value)),
                        )
                    } else {
                        let got: Map<String, Value> = compiled
                            .fields(ev)
                            .into_iter()
                            .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
                            .collect();
                        (
                            Value::Object(got),
                            serde_json::from_str(value)
                                .unwrap_or_else(|e| panic!("{whence}: bad fields map: {e}")),
                        )
                    };
                    if got != want {
                        failures.push(format!("{whence}: {format:?}: {key} {got} expected {want}"));
                    }
                }
                other => panic!("{whence}: unknown key {other}"),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
