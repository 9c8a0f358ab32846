//! Suggesting a Falco `exceptions:` entry that removes a rule's benign matches and keeps the
//! others: for each candidate field, the values seen on benign matches and never on the rest.

use crate::error::{AppError, Result};
use crate::preview::{Verdict, fetch_events, json_text};
use rulestudio_api::preview::ExceptionEntry;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Fields an exception is usually written on, in order of preference (Falco's own rules use
/// these), and how each is compared.
const CANDIDATES: &[(&str, Comp)] = &[
    ("proc.name", Comp::Eq),
    ("proc.exepath", Comp::Eq),
    ("proc.pname", Comp::Eq),
    ("container.image.repository", Comp::Eq),
    ("user.name", Comp::Eq),
    ("fd.name", Comp::DirPrefix),
    ("proc.cmdline", Comp::Eq),
];

pub const EXCEPTION_NAME: &str = "rulestudio_suggested";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comp {
    Eq,
    /// `startswith` the directory of the value (`/etc/ssl/certs/a.pem` → `/etc/ssl/certs/`).
    DirPrefix,
}

impl Comp {
    fn falco(self) -> &'static str {
        match self {
            Comp::Eq => "=",
            Comp::DirPrefix => "startswith",
        }
    }

    /// The exception value that would cover `v`.
    fn key(self, v: &str) -> Option<String> {
        match self {
            Comp::Eq => Some(v.to_string()),
            Comp::DirPrefix => v.rfind('/').map(|i| v[..=i].to_string()),
        }
    }

    fn covers(self, key: &str, v: &str) -> bool {
        match self {
            Comp::Eq => key == v,
            Comp::DirPrefix => v.starts_with(key),
        }
    }
}

/// The best single-field exception for `matches` (fields of each matched event and its verdict).
pub fn suggest(matches: &[(Map<String, Value>, Verdict)]) -> Result<ExceptionEntry> {
    let benign: Vec<&Map<String, Value>> = matches
        .iter()
        .filter(|(_, v)| *v == Verdict::FalsePositive)
        .map(|(m, _)| m)
        .collect();
    if benign.is_empty() {
        return Err(AppError::Unprocessable(
            "the rule has no benign matches in this window: label some matches benign or add a baseline first".into(),
        ));
    }
    let others: Vec<&Map<String, Value>> = matches
        .iter()
        .filter(|(_, v)| *v != Verdict::FalsePositive)
        .map(|(m, _)| m)
        .collect();
    let mut best: Option<(usize, ExceptionEntry)> = None;
    for &(field, comp) in CANDIDATES {
        let value = |m: &Map<String, Value>| m.get(field).filter(|v| !v.is_null()).map(json_text);
        let keys: BTreeSet<String> = benign
            .iter()
            .filter_map(|m| value(m))
            .filter_map(|v| comp.key(&v))
            .collect();
        let safe: Vec<String> = keys
            .into_iter()
            .filter(|k| {
                !others
                    .iter()
                    .any(|m| value(m).is_some_and(|v| comp.covers(k, &v)))
            })
            .collect();
        let covered = benign
            .iter()
            .filter(|m| value(m).is_some_and(|v| safe.iter().any(|k| comp.covers(k, &v))))
            .count();
        let better = match &best {
            None => covered > 0,
            Some((c, e)) => covered > *c || (covered == *c && safe.len() < e.values.len()),
        };
        if better {
            let entry = ExceptionEntry {
                name: EXCEPTION_NAME.into(),
                fields: vec![field.into()],
                comps: vec![comp.falco().into()],
                values: safe.into_iter().map(|v| vec![v]).collect(),
            };
            best = Some((covered, entry));
        }
    }
    best.map(|(_, e)| e).ok_or_else(|| {
        AppError::Unprocessable(format!(
            "no single field among {} separates the benign matches from the others",
            CANDIDATES
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// The entry as YAML under `exceptions:`; values are JSON strings, which YAML reads verbatim.
pub fn to_yaml(e: &ExceptionEntry, indent: &str) -> String {
    let list = |xs: &[String]| xs.iter().map(|x| quote(x)).collect::<Vec<_>>().join(", ");
    let mut out = format!(
        "{indent}- name: {}\n{indent}  fields: [{}]\n{indent}  comps: [{}]\n{indent}  values:\n",
        e.name,
        e.fields.join(", "),
        e.comps
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for row in &e.values {
        out.push_str(&format!("{indent}    - [{}]\n", list(row)));
    }
    out
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// `rules` with the exception appended to `rule`, the way a local rules file would do it.
pub fn apply(rules: &str, rule: &str, e: &ExceptionEntry) -> String {
    let mut out = rules.trim_end().to_string();
    out.push_str(&format!(
        "\n\n- rule: {}\n  exceptions:\n{}  override:\n    exceptions: append\n",
        quote(rule),
        to_yaml(e, "    ")
    ));
    out
}

/// Fields and verdicts of the given matches.
pub async fn match_fields(
    db: &sqlx::SqlitePool,
    verdicts: &[(i64, Verdict)],
) -> Result<Vec<(Map<String, Value>, Verdict)>> {
    let by_id: std::collections::HashMap<i64, Verdict> = verdicts.iter().copied().collect();
    let mut out = Vec::with_capacity(verdicts.len());
    for chunk in verdicts.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        for (id, _, text) in fetch_events(db, &ids).await? {
            if let (Ok(map), Some(v)) = (serde_json::from_str(&text), by_id.get(&id)) {
                out.push((map, *v));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn picks_the_field_that_separates() {
        let matches = vec![
            (
                ev(json!({"proc.name": "backup", "fd.name": "/etc/shadow"})),
                Verdict::FalsePositive,
            ),
            (
                ev(json!({"proc.name": "backup", "fd.name": "/etc/passwd"})),
                Verdict::FalsePositive,
            ),
            (
                ev(json!({"proc.name": "cat", "fd.name": "/etc/shadow"})),
                Verdict::Unlabeled,
            ),
        ];
        let e = suggest(&matches).unwrap();
        assert_eq!(e.fields, ["proc.name"]);
        assert_eq!(e.values, [["backup"]]);
    }

    #[test]
    fn refuses_without_benign_matches() {
        let matches = vec![(ev(json!({"proc.name": "cat"})), Verdict::Unlabeled)];
        assert!(matches!(suggest(&matches), Err(AppError::Unprocessable(_))));
    }

    #[test]
    fn yaml_quotes_values() {
        let e = ExceptionEntry {
            name: "x".into(),
            fields: vec!["fd.name".into()],
            comps: vec!["startswith".into()],
            values: vec![vec!["/a: b/".into()]],
        };
        assert_eq!(
            to_yaml(&e, ""),
            "- name: x\n  fields: [fd.name]\n  comps: [\"startswith\"]\n  values:\n    - [\"/a: b/\"]\n"
        );
    }
}
