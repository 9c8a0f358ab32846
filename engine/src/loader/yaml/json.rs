//! A YAML document as JSON values, read by the same yaml-cpp-faithful reader as rules files, so
//! that the other YAML the studio reads (rule tests files) needs no second YAML stack, in the
//! browser's wasm module above all.
//!
//! Plain scalars are typed as YAML 1.2's core schema reads them (null, booleans, integers,
//! floats); quoted and block scalars stay strings. Aliases are refused rather than expanded and
//! nesting is limited, so a hostile file costs at most its own size.

use super::{Kind, NodeId, ScalarStyle, Yaml};
use crate::span::{FileId, LineIndex};
use serde_json::{Map, Number, Value};

/// Deeper nesting than any event needs; it also ends a collection that holds itself.
const MAX_DEPTH: usize = 64;

/// What is wrong with the YAML, and the 1-based line where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct JsonError {
    pub line: u32,
    pub message: String,
}

/// The one document of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    /// For a top-level sequence, the 1-based line each item starts on.
    pub item_lines: Vec<u32>,
}

/// The document of `text`; `None` when it has none (blank, or only comments).
pub fn document(text: &str) -> Result<Option<Document>, JsonError> {
    let lines = LineIndex::new(text);
    let line_of = |offset: u32| lines.line_col(text, offset).line;
    let yaml = super::parse(text, FileId(0)).map_err(|e| JsonError {
        line: line_of(e.span.start),
        message: e.message,
    })?;
    if let Some(alias) = yaml.aliases.first() {
        return Err(JsonError {
            line: line_of(alias.start),
            message: "aliases (*name) are not supported".into(),
        });
    }
    let root = match yaml.docs.as_slice() {
        [] => return Ok(None),
        [root] => *root,
        [_, second, ..] => {
            let line = line_of(yaml.span(*second).start);
            return Err(JsonError {
                line,
                message: "one YAML document is expected".into(),
            });
        }
    };
    let at = |id: NodeId, message: String| JsonError {
        line: line_of(yaml.span(id).start),
        message,
    };
    let item_lines = yaml
        .seq(root)
        .unwrap_or_default()
        .iter()
        .map(|&i| line_of(yaml.span(i).start))
        .collect();
    let value = convert(&yaml, root, 0, &at)?;
    Ok(Some(Document { value, item_lines }))
}

fn convert(
    yaml: &Yaml,
    id: NodeId,
    depth: usize,
    at: &impl Fn(NodeId, String) -> JsonError,
) -> Result<Value, JsonError> {
    if depth > MAX_DEPTH {
        return Err(at(id, format!("nested deeper than {MAX_DEPTH} levels")));
    }
    Ok(match &yaml.node(id).kind {
        Kind::Null => Value::Null,
        Kind::Scalar {
            value,
            style: ScalarStyle::Plain,
        } => plain(value),
        Kind::Scalar { value, .. } => Value::String(value.clone()),
        Kind::Seq(items) => Value::Array(
            items
                .iter()
                .map(|&i| convert(yaml, i, depth + 1, at))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Map(entries) => {
            let mut out = Map::new();
            for &(k, v) in entries {
                let Some(key) = yaml.scalar(k) else {
                    return Err(at(k, "a mapping key must be a plain name".into()));
                };
                if out.contains_key(key) {
                    return Err(at(k, format!("key `{key}` appears twice")));
                }
                out.insert(key.to_string(), convert(yaml, v, depth + 1, at)?);
            }
            Value::Object(out)
        }
    })
}

/// A plain scalar as YAML 1.2's core schema reads it (the null spellings are already nulls).
fn plain(s: &str) -> Value {
    match s {
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

    /// The items of the top-level sequence with the line each starts on.
    fn items(text: &str) -> Result<Vec<(usize, Value)>, String> {
        let Some(doc) = document(text).map_err(|e| e.to_string())? else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = doc.value else {
            return Err("not a sequence".into());
        };
        Ok(doc
            .item_lines
            .into_iter()
            .map(|l| l as usize)
            .zip(items)
            .collect())
    }

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
        let err = |t: &str| items(t).unwrap_err();
        assert!(
            err("- a: &x 1\n- b: *x\n").starts_with("line 2: aliases"),
            "{}",
            err("- a: &x 1\n- b: *x\n")
        );
        assert!(err("- a: 1\n  a: 2\n").starts_with("line 2: key `a` appears twice"));
        assert!(
            err("- a: [1, 2\n").starts_with("line "),
            "{}",
            err("- a: [1, 2\n")
        );
        let deep = format!("- {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(err(&deep).contains("nested deeper than 64 levels"));
        assert!(
            err("- a\n---\n- b\n").starts_with("line 3: one YAML document"),
            "{}",
            err("- a\n---\n- b\n")
        );
    }
}
