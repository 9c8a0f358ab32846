//! The YAML of a tests file as JSON values, with the YAML parser the engine already links
//! (`saphyr-parser`), so the browser gets rule tests without a second YAML stack.
//!
//! Plain scalars are typed as in YAML 1.2's core schema (null, booleans, integers, floats);
//! quoted and tagged scalars stay strings. Aliases are refused rather than expanded, and
//! nesting is limited, so a hostile file costs at most its own size.

use super::ParseError;
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

/// Deeper nesting than any event needs (and than a recursive drop of the value can take).
const MAX_DEPTH: usize = 64;

enum Open {
    Seq(Vec<Value>),
    Map {
        entries: Map<String, Value>,
        key: Option<String>,
    },
}

/// The items of the top-level sequence, each with the line it starts on; empty for a
/// document without content.
pub fn items(text: &str) -> Result<Vec<(usize, Value)>, ParseError> {
    let mut stack: Vec<Open> = Vec::new();
    // Start lines of the top-level items, recorded as each begins.
    let mut lines: Vec<usize> = Vec::new();
    let mut root: Option<Value> = None;
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            ParseError(format!(
                "line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            ))
        })?;
        let line = span.start.line();
        let at = |msg: &str| ParseError(format!("line {line}: {msg}"));
        if stack.len() == 1 && matches!(stack[0], Open::Seq(_)) {
            let starts_item = matches!(
                event,
                Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
                    | Event::Alias(_)
            );
            if starts_item {
                lines.push(line);
            }
        }
        let done = match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(at(&format!("nested deeper than {MAX_DEPTH} levels")));
                }
                stack.push(match event {
                    Event::SequenceStart(..) => Open::Seq(Vec::new()),
                    _ => Open::Map {
                        entries: Map::new(),
                        key: None,
                    },
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(items)) => Some(Value::Array(items)),
                Some(Open::Map { entries, .. }) => Some(Value::Object(entries)),
                None => None,
            },
            Event::Scalar(value, style, _, tag) => {
                Some(if style == ScalarStyle::Plain && tag.is_none() {
                    plain(&value)
                } else {
                    Value::String(value.into_owned())
                })
            }
            Event::Alias(_) => return Err(at("aliases (*name) are not supported in tests files")),
            Event::DocumentStart(_) if root.is_some() => {
                return Err(at("a tests file is one YAML document"));
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => None,
        };
        let Some(value) = done else { continue };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Open::Seq(items)) => items.push(value),
            Some(Open::Map { entries, key }) => match key.take() {
                None => match value {
                    Value::String(k) => *key = Some(k),
                    Value::Number(_) | Value::Bool(_) => *key = Some(value.to_string()),
                    _ => return Err(at("a mapping key must be a plain name")),
                },
                Some(k) => {
                    if entries.contains_key(&k) {
                        return Err(at(&format!("key `{k}` appears twice")));
                    }
                    entries.insert(k, value);
                }
            },
        }
    }
    match root {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(lines.into_iter().zip(items).collect()),
        Some(_) => Err(ParseError(
            "line 1: a tests file is a YAML sequence of tests (`- rule: …`)".into(),
        )),
    }
}

/// A plain scalar as YAML 1.2's core schema reads it.
fn plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = s.parse::<i64>() {
            return Value::from(n);
        }
        if let Ok(n) = s.trim_start_matches('+').parse::<u64>() {
            return Value::from(n);
        }
    }
    let radix = |prefix: &str, radix: u32| {
        s.strip_prefix(prefix)
            .filter(|d| !d.is_empty())
            .and_then(|d| u64::from_str_radix(d, radix).ok())
    };
    if let Some(n) = radix("0x", 16).or_else(|| radix("0o", 8)) {
        return Value::from(n);
    }
    if is_float(unsigned)
        && let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(s.to_string())
}

/// `1.5`, `.5`, `1.`, `1e3`, `1.5E-3` (the sign already removed); not `inf` or `nan`, which
/// JSON cannot carry and which stay text.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Value {
        let mut items = items(text).unwrap();
        assert_eq!(items.len(), 1, "{text}");
        items.remove(0).1
    }

    #[test]
    fn scalars_are_typed_like_yaml_core() {
        let v = one(
            "- {a: 1, b: -7, c: 1.5, d: 1e3, e: true, f: ~, g: '12', h: 0x1F, i: 4f2a9c1b7d3e, j: .inf, k: \"x y\", l: 99999999999999999999}\n",
        );
        assert_eq!(
            v,
            json!({"a": 1, "b": -7, "c": 1.5, "d": 1000.0, "e": true, "f": null, "g": "12", "h": 31,
                   "i": "4f2a9c1b7d3e", "j": ".inf", "k": "x y", "l": "99999999999999999999"})
        );
    }

    #[test]
    fn items_know_their_lines() {
        let got = items("# tests\n- rule: A\n  event: {}\n\n- rule: B\n  event:\n    x: [1, 2]\n")
            .unwrap();
        assert_eq!(got[0], (2, json!({"rule": "A", "event": {}})));
        assert_eq!(got[1], (5, json!({"rule": "B", "event": {"x": [1, 2]}})));
        assert_eq!(items("# nothing yet\n").unwrap(), vec![]);
    }

    #[test]
    fn refusals_name_the_line() {
        let err = |t: &str| items(t).unwrap_err().0;
        assert!(
            err("- a: &x 1\n- b: *x\n").starts_with("line 2: aliases"),
            "{}",
            err("- a: &x 1\n- b: *x\n")
        );
        assert!(err("- a: 1\n  a: 2\n").starts_with("line 2: key `a` appears twice"));
        assert!(err("rule: A\n").contains("a YAML sequence of tests"));
        assert!(
            err("- a: [1, 2\n").starts_with("line "),
            "{}",
            err("- a: [1, 2\n")
        );
        let deep = format!("- {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(err(&deep).contains("nested deeper than 64 levels"));
    }
}
