//! What the user picks an exception from: the fields of a rule's benign matches, each value
//! with its generalisation (a directory instead of a file, an image instead of a container),
//! and the exception a choice of fields, forms and values makes.

use super::{EXCEPTION_NAME, value};
use crate::error::{AppError, Result};
use crate::preview::Verdict;
use rulestudio_api::preview::{
    CandidateValue, ExceptionCandidate, ExceptionEntry, ExceptionPick, Generalisation,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How a field's value generalises.
#[derive(Debug, Clone, Copy)]
enum General {
    /// `startswith` the value's directory: a temporary file's name changes on every run, its
    /// directory does not.
    Directory,
    /// `=` the same event's value of another field: a container's id changes with every
    /// restart, its image does not.
    Field(&'static str),
}

/// The fields offered, in order of preference, and how each generalises.
const FIELDS: &[(&str, Option<General>)] = &[
    ("proc.name", None),
    ("proc.exepath", Some(General::Directory)),
    ("proc.pname", None),
    ("proc.cmdline", None),
    ("user.name", None),
    ("fd.name", Some(General::Directory)),
    (
        "container.id",
        Some(General::Field("container.image.repository")),
    ),
    ("container.image.repository", None),
];

/// Values listed per field at most (the most frequent among the benign matches).
pub const MAX_VALUES: usize = 50;

fn general_of(field: &str) -> Option<Option<General>> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, g)| *g)
}

/// The generalised form of `field`'s value `v` on event `m`.
fn generalise(g: General, m: &Map<String, Value>, v: &str) -> Option<String> {
    match g {
        General::Directory => v.rfind('/').map(|i| v[..=i].to_string()),
        General::Field(other) => value(m, other),
    }
}

fn describe(g: General) -> Generalisation {
    match g {
        General::Directory => Generalisation {
            field: None,
            comp: "startswith".into(),
            text: "its directory".into(),
        },
        General::Field(other) => Generalisation {
            field: Some(other.into()),
            comp: "=".into(),
            text: format!("the event's {other}"),
        },
    }
}

fn benign(matches: &[(Map<String, Value>, Verdict)]) -> impl Iterator<Item = &Map<String, Value>> {
    matches
        .iter()
        .filter(|(_, v)| *v == Verdict::FalsePositive)
        .map(|(m, _)| m)
}

/// Every offered field some benign match has, with its values (the most frequent first, at
/// most [`MAX_VALUES`]), each with its generalised form and how many benign matches have it.
pub fn candidates(matches: &[(Map<String, Value>, Verdict)]) -> Vec<ExceptionCandidate> {
    FIELDS
        .iter()
        .filter_map(|&(field, general)| {
            // value → (benign matches, generalised form of its first one)
            let mut seen: BTreeMap<String, (u64, Option<String>)> = BTreeMap::new();
            for m in benign(matches) {
                if let Some(v) = value(m, field) {
                    let form = general.and_then(|g| generalise(g, m, &v));
                    let entry = seen.entry(v).or_insert((0, form));
                    entry.0 += 1;
                }
            }
            let mut values: Vec<CandidateValue> = seen
                .into_iter()
                .map(|(value, (benign, general))| CandidateValue {
                    value,
                    general,
                    benign,
                })
                .collect();
            values.sort_by(|a, b| b.benign.cmp(&a.benign).then(a.value.cmp(&b.value)));
            values.truncate(MAX_VALUES);
            (!values.is_empty()).then(|| ExceptionCandidate {
                field: field.into(),
                general: general.map(describe),
                values,
            })
        })
        .collect()
}

/// The exception the picks make: on each picked field (or its generalisation's), one value row
/// per combination the benign matches have of the picked values. A pick names an offered field
/// once, values the benign matches have, and `general` only where the field generalises.
pub fn from_picks(
    matches: &[(Map<String, Value>, Verdict)],
    picks: &[ExceptionPick],
) -> Result<ExceptionEntry> {
    let mut generals = Vec::with_capacity(picks.len());
    for (i, p) in picks.iter().enumerate() {
        let at = format!("`picks[{i}]`");
        let Some(general) = general_of(&p.field) else {
            return Err(AppError::BadRequest(format!(
                "{at}: `{}` is not one of the offered fields ({})",
                p.field,
                FIELDS
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if picks[..i].iter().any(|q| q.field == p.field) {
            return Err(AppError::BadRequest(format!(
                "{at}: `{}` is picked twice",
                p.field
            )));
        }
        if p.values.is_empty() {
            return Err(AppError::BadRequest(format!(
                "{at}: pick at least one value"
            )));
        }
        if p.values.len() > MAX_VALUES {
            return Err(AppError::BadRequest(format!(
                "{at}: {} values; at most {MAX_VALUES}",
                p.values.len()
            )));
        }
        let general = match (p.general, general) {
            (false, _) => None,
            (true, Some(g)) => Some(g),
            (true, None) => {
                return Err(AppError::BadRequest(format!(
                    "{at}: `{}` has no generalisation; pick its exact values",
                    p.field
                )));
            }
        };
        // Each value as the benign matches have it, and whether one of them generalises it.
        let mut had: HashMap<String, bool> = HashMap::new();
        for m in benign(matches) {
            if let Some(v) = value(m, &p.field) {
                let generalises = general.is_some_and(|g| generalise(g, m, &v).is_some());
                *had.entry(v).or_default() |= generalises;
            }
        }
        for v in &p.values {
            match (had.get(v), general) {
                (None, _) => {
                    return Err(AppError::BadRequest(format!(
                        "{at}: no benign match of the rule in this window has {} = {v:?}",
                        p.field
                    )));
                }
                (Some(false), Some(g)) => {
                    return Err(AppError::BadRequest(format!(
                        "{at}: {} = {v:?} has no generalisation ({}) on its benign matches; pick it exact",
                        p.field,
                        describe(g).text
                    )));
                }
                _ => {}
            }
        }
        generals.push(general);
    }
    if picks.is_empty() {
        return Err(AppError::BadRequest(
            "`picks`: pick at least one field".into(),
        ));
    }
    let chosen: Vec<HashSet<&str>> = picks
        .iter()
        .map(|p| p.values.iter().map(String::as_str).collect())
        .collect();
    let mut rows = BTreeSet::new();
    for m in benign(matches) {
        let row: Option<Vec<String>> = picks
            .iter()
            .zip(&generals)
            .zip(&chosen)
            .map(|((p, g), chosen)| {
                let v = value(m, &p.field).filter(|v| chosen.contains(v.as_str()))?;
                match g {
                    None => Some(v),
                    Some(g) => generalise(*g, m, &v),
                }
            })
            .collect();
        rows.extend(row);
    }
    if rows.is_empty() {
        return Err(AppError::Unprocessable(
            "no benign match has the picked values together: pick values of the same events".into(),
        ));
    }
    Ok(ExceptionEntry {
        name: EXCEPTION_NAME.into(),
        fields: picks
            .iter()
            .zip(&generals)
            .map(|(p, g)| match g {
                Some(General::Field(other)) => other.to_string(),
                _ => p.field.clone(),
            })
            .collect(),
        comps: generals
            .iter()
            .map(|g| match g {
                Some(General::Directory) => "startswith",
                _ => "=",
            })
            .map(str::to_string)
            .collect(),
        values: rows.into_iter().collect(),
    })
}

/// `entry` (the server's own suggestion) as picks among `candidates`, for the user to start
/// from: each of its fields as the candidate it comes from, exact (`=`) or as the field's own
/// generalisation (`startswith` a directory), with the values it covers.
pub fn picks_of(entry: &ExceptionEntry, candidates: &[ExceptionCandidate]) -> Vec<ExceptionPick> {
    entry
        .fields
        .iter()
        .zip(&entry.comps)
        .enumerate()
        .filter_map(|(i, (field, comp))| {
            let column: BTreeSet<&str> = entry.values.iter().map(|r| r[i].as_str()).collect();
            let c = candidates.iter().find(|c| &c.field == field)?;
            let general = if comp == "=" {
                false
            } else if c
                .general
                .as_ref()
                .is_some_and(|g| g.field.is_none() && &g.comp == comp)
            {
                true
            } else {
                return None;
            };
            let values = c
                .values
                .iter()
                .filter(|v| {
                    let form = if general {
                        v.general.as_deref()
                    } else {
                        Some(v.value.as_str())
                    };
                    form.is_some_and(|f| column.contains(f))
                })
                .map(|v| v.value.clone())
                .collect();
            Some(ExceptionPick {
                field: c.field.clone(),
                general,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value, verdict: Verdict) -> (Map<String, Value>, Verdict) {
        (v.as_object().unwrap().clone(), verdict)
    }

    fn matches() -> Vec<(Map<String, Value>, Verdict)> {
        vec![
            m(
                json!({"fd.name": "/tmp/b/tmp.1", "container.id": "c1", "container.image.repository": "img"}),
                Verdict::FalsePositive,
            ),
            m(
                json!({"fd.name": "/tmp/b/tmp.2", "container.id": "c2", "container.image.repository": "img"}),
                Verdict::FalsePositive,
            ),
            m(
                json!({"fd.name": "/tmp/keep", "container.id": "c3"}),
                Verdict::Unlabeled,
            ),
        ]
    }

    #[test]
    fn candidates_come_from_benign_matches_with_their_generalisations() {
        let c = candidates(&matches());
        let fields: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            ["fd.name", "container.id", "container.image.repository"]
        );
        let general: Vec<Option<&str>> = c[0].values.iter().map(|v| v.general.as_deref()).collect();
        assert_eq!(general, [Some("/tmp/b/"), Some("/tmp/b/")]);
        assert_eq!(c[1].values[0].general.as_deref(), Some("img"));
        // Nothing of the kept match is offered.
        assert!(c.iter().all(|c| c.values.iter().all(|v| v.value != "c3")));
    }

    #[test]
    fn the_server_s_suggestion_reads_back_as_the_picks_that_make_it() {
        let ms = matches();
        let c = candidates(&ms);
        let directory = ExceptionEntry {
            name: EXCEPTION_NAME.into(),
            fields: vec!["fd.name".into()],
            comps: vec!["startswith".into()],
            values: vec![vec!["/tmp/b/".into()]],
        };
        let picks = picks_of(&directory, &c);
        assert_eq!(
            picks,
            [ExceptionPick {
                field: "fd.name".into(),
                general: true,
                values: vec!["/tmp/b/tmp.1".into(), "/tmp/b/tmp.2".into()],
            }]
        );
        assert_eq!(from_picks(&ms, &picks).unwrap(), directory);
    }

    #[test]
    fn a_value_without_its_generalisation_is_refused_naming_it() {
        let ms = vec![m(json!({"container.id": "c9"}), Verdict::FalsePositive)];
        let pick = ExceptionPick {
            field: "container.id".into(),
            general: true,
            values: vec!["c9".into()],
        };
        let e = from_picks(&ms, &[pick]).unwrap_err();
        assert!(
            matches!(&e, AppError::BadRequest(m) if m.contains(
                "`picks[0]`: container.id = \"c9\" has no generalisation (the event's container.image.repository)"
            )),
            "{e:?}"
        );
    }
}
