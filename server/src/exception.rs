//! Suggesting a Falco `exceptions:` entry that removes a rule's benign matches and keeps the
//! others: for each candidate field (or pair of fields, when no single one separates them
//! all), the values seen on benign matches and never on the rest; or, from the fields and
//! values the user picks among the benign matches' (`candidates`), exactly that exception.

mod candidates;

pub use candidates::{candidates, from_picks, picks_of};

use crate::error::{AppError, Result};
use crate::preview::{Deadline, Verdict, fetch_events, json_text};
use rulestudio_api::preview::ExceptionEntry;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};

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

    /// Every exception value that would cover `v`: itself (`=`), or each directory prefix of
    /// it (`startswith` a key from [`Comp::key`], which always ends with `/`).
    fn covering(self, v: &str) -> Vec<String> {
        match self {
            Comp::Eq => vec![v.to_string()],
            Comp::DirPrefix => v
                .match_indices('/')
                .map(|(i, _)| v[..=i].to_string())
                .collect(),
        }
    }
}

/// The best exception for `matches` (fields of each matched event and its verdict): on one
/// field if one separates every benign match from the rest, otherwise on whichever single
/// field or pair of fields covers the most benign matches.
pub fn suggest(
    matches: &[(Map<String, Value>, Verdict)],
    deadline: &Deadline,
) -> Result<ExceptionEntry> {
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
    let singles = CANDIDATES.iter().map(std::slice::from_ref);
    let mut best = best_of(singles, &benign, &others, deadline)?;
    let pairs: Vec<[(&str, Comp); 2]> = CANDIDATES
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| CANDIDATES[i + 1..].iter().map(move |&b| [a, b]))
        .collect();
    if best.as_ref().is_none_or(|b| b.covered < benign.len())
        && let Some(pair) = best_of(pairs.iter().map(|p| &p[..]), &benign, &others, deadline)?
        && best.as_ref().is_none_or(|b| pair.covered > b.covered)
    {
        best = Some(pair);
    }
    let best = best.ok_or_else(|| {
        AppError::Unprocessable(format!(
            "no field or pair of fields among {} separates the benign matches from the others",
            CANDIDATES
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok(ExceptionEntry {
        name: EXCEPTION_NAME.into(),
        fields: best.fields.iter().map(|(f, _)| f.to_string()).collect(),
        comps: best
            .fields
            .iter()
            .map(|(_, c)| c.falco().to_string())
            .collect(),
        values: best.values,
    })
}

/// An exception on `fields`: the value rows that cover benign matches and no other match.
struct Candidate<'a> {
    fields: &'a [(&'static str, Comp)],
    values: Vec<Vec<String>>,
    covered: usize,
}

/// The candidate covering the most benign matches (the first, then the one with fewer value
/// rows, on a tie); `None` when none covers any.
fn best_of<'a>(
    field_sets: impl Iterator<Item = &'a [(&'static str, Comp)]>,
    benign: &[&Map<String, Value>],
    others: &[&Map<String, Value>],
    deadline: &Deadline,
) -> Result<Option<Candidate<'a>>> {
    let mut best: Option<Candidate> = None;
    for fields in field_sets {
        // Each candidate reads every match once.
        deadline.check()?;
        let c = candidate(fields, benign, others);
        let better = match &best {
            None => c.covered > 0,
            Some(b) => {
                c.covered > b.covered || (c.covered == b.covered && c.values.len() < b.values.len())
            }
        };
        if better {
            best = Some(c);
        }
    }
    Ok(best)
}

fn candidate<'a>(
    fields: &'a [(&'static str, Comp)],
    benign: &[&Map<String, Value>],
    others: &[&Map<String, Value>],
) -> Candidate<'a> {
    // Every value row that would cover another match: an exception must contain none of them.
    let blocked: HashSet<Vec<String>> = others
        .iter()
        .flat_map(|m| covering_rows(fields, m))
        .collect();
    let mut values = BTreeSet::new();
    let mut covered = 0;
    for m in benign {
        let row: Option<Vec<String>> = fields
            .iter()
            .map(|&(f, comp)| value(m, f).and_then(|v| comp.key(&v)))
            .collect();
        if let Some(row) = row.filter(|r| !blocked.contains(r)) {
            covered += 1;
            values.insert(row);
        }
    }
    Candidate {
        fields,
        values: values.into_iter().collect(),
        covered,
    }
}

fn value(m: &Map<String, Value>, field: &str) -> Option<String> {
    m.get(field).filter(|v| !v.is_null()).map(json_text)
}

/// The value rows on `fields` whose exception would cover `m`: for each field, its value
/// (`=`) or every directory above it (`startswith`); none when it lacks a field, since an
/// exception never covers an event without the field.
fn covering_rows(fields: &[(&str, Comp)], m: &Map<String, Value>) -> Vec<Vec<String>> {
    let mut rows = vec![Vec::new()];
    for &(f, comp) in fields {
        let Some(v) = value(m, f) else {
            return Vec::new();
        };
        let keys = comp.covering(&v);
        rows = rows
            .into_iter()
            .flat_map(|row| {
                keys.iter().map(move |k| {
                    let mut r = row.clone();
                    r.push(k.clone());
                    r
                })
            })
            .collect();
    }
    rows
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

/// `rules` with the exception written into `rule`'s own item when `rules` defines it as a block
/// mapping at the top level (after its `exceptions:` entries, or as a new `exceptions:` key
/// at the item's end); otherwise, when the rule is defined elsewhere (the live set), appended
/// as an override of it, the way a local rules file would do it.
pub fn apply(rules: &str, rule: &str, e: &ExceptionEntry) -> String {
    into_rule(rules, rule, e).unwrap_or_else(|| append_override(rules, rule, e))
}

/// `rules` with the exception appended as an override of `rule`.
pub fn append_override(rules: &str, rule: &str, e: &ExceptionEntry) -> String {
    let mut out = rules.trim_end().to_string();
    out.push_str(&format!(
        "\n\n- rule: {}\n  exceptions:\n{}  override:\n    exceptions: append\n",
        quote(rule),
        to_yaml(e, "    ")
    ));
    out
}

/// The lines of `rules` with their byte offsets.
fn lines(rules: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    rules
        .split_inclusive('\n')
        .map(|l| {
            let start = at;
            at += l.len();
            (start, l)
        })
        .collect()
}

/// [`apply`] into the rule's own item, or `None` when `rules` has no such item that defines
/// the rule (`- rule: NAME` at the start of a line, with `condition:`, and neither `append:`
/// nor `override:`). The caller loads the result, and falls back to [`append_override`] should
/// it not load.
fn into_rule(rules: &str, rule: &str, e: &ExceptionEntry) -> Option<String> {
    let lines = lines(rules);
    let names = [rule.to_string(), quote(rule), format!("'{rule}'")];
    let is_item = |l: &str| l.starts_with("- ") || l.trim_end() == "-";
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].1.trim_end();
        let named = head
            .strip_prefix("- rule:")
            .is_some_and(|n| names.iter().any(|x| x == n.trim()));
        // The item: up to the next top-level line.
        let end = (i + 1..lines.len())
            .find(|&j| {
                let l = lines[j].1;
                is_item(l) || (!l.starts_with([' ', '\t', '#', '\n', '\r']) && !l.trim().is_empty())
            })
            .unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        let key = |k: &str| {
            body.iter()
                .position(|(_, l)| l.starts_with(&format!("  {k}:")))
        };
        if named
            && key("condition").is_some()
            && key("append").is_none()
            && key("override").is_none()
        {
            // The last line of the item with content, and of its `exceptions:` value.
            let last_content = |from: usize, to: usize| {
                (from..to).rev().find(|&j| {
                    !body[j].1.trim().is_empty() && !body[j].1.trim_start().starts_with('#')
                })
            };
            let (after, text) = match key("exceptions") {
                Some(k) => {
                    if !body[k].1.trim_end().ends_with(':') {
                        return None; // a flow list (`exceptions: [...]`): leave it alone
                    }
                    let next_key = (k + 1..body.len())
                        .find(|&j| {
                            let l = body[j].1;
                            l.starts_with("  ")
                                && !l.starts_with("   ")
                                && !l[2..].starts_with('-')
                                && l.contains(':')
                        })
                        .unwrap_or(body.len());
                    let last = last_content(k, next_key)?;
                    let indent = body[k + 1..next_key]
                        .iter()
                        .find(|(_, l)| l.trim_start().starts_with('-'))
                        .map_or("    ".to_string(), |(_, l)| {
                            " ".repeat(l.len() - l.trim_start().len())
                        });
                    (last, to_yaml(e, &indent))
                }
                None => {
                    let last = last_content(0, body.len())?;
                    (last, format!("  exceptions:\n{}", to_yaml(e, "    ")))
                }
            };
            let (start, line) = body[after];
            let cut = start + line.len();
            let newline = if line.ends_with('\n') { "" } else { "\n" };
            return Some(format!("{}{newline}{text}{}", &rules[..cut], &rules[cut..]));
        }
        i = end.max(i + 1);
    }
    None
}

/// Fields and verdicts of the given matches.
pub fn match_fields(
    events: &rulestudio_store::Store,
    verdicts: &[(i64, Verdict)],
) -> Result<Vec<(Map<String, Value>, Verdict)>> {
    let by_id: std::collections::HashMap<i64, Verdict> = verdicts.iter().copied().collect();
    let mut out = Vec::with_capacity(verdicts.len());
    for chunk in verdicts.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        for (id, _, ev) in fetch_events(events, &ids)? {
            if let Some(v) = by_id.get(&id) {
                out.push((crate::stored::fields_json(&ev), *v));
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

    fn entry() -> ExceptionEntry {
        ExceptionEntry {
            name: EXCEPTION_NAME.into(),
            fields: vec!["proc.name".into()],
            comps: vec!["=".into()],
            values: vec![vec!["backup".into()]],
        }
    }

    /// Once `rules` loads: how many rules it has, and whether `rule` matches a read of a file
    /// below /etc/ by each of `procs`.
    fn judged(rules: &str, rule: &str, procs: &[&str]) -> (usize, Vec<bool>) {
        use rulestudio_engine::event::Event;
        use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
        let loaded = loader::load(
            &[SourceFile {
                name: "draft.yaml".into(),
                text: rules.into(),
            }],
            &LoadOptions::default(),
        );
        assert!(loaded.ok(), "{:?}\n{rules}", loaded.diagnostics);
        let all = loaded.ruleset.rules();
        let r = all.iter().find(|r| r.name == rule).unwrap();
        let verdicts = procs
            .iter()
            .map(|p| {
                let ev = Event::from_json_str(&format!(
                    r#"{{"evt.type":"openat","fd.name":"/etc/x","proc.name":"{p}"}}"#
                ))
                .unwrap();
                r.filter.matches(&ev)
            })
            .collect();
        (all.len(), verdicts)
    }

    const TWO: &str = "- rule: Read etc\n  desc: d\n  condition: evt.type = openat and fd.name startswith /etc/\n  output: \"%proc.name\"\n  priority: WARNING\n\n# next\n- rule: Other\n  desc: d\n  condition: evt.type = execve\n  output: x\n  priority: NOTICE\n";

    #[test]
    fn the_exception_is_written_into_the_rule_it_tunes() {
        let out = apply(TWO, "Read etc", &entry());
        // Inside the item, before the next one, and no override appended.
        let at = out
            .find("  exceptions:\n    - name: rulestudio_suggested")
            .unwrap();
        assert!(at < out.find("- rule: Other").unwrap(), "{out}");
        assert!(!out.contains("override"), "{out}");
        assert_eq!(
            judged(&out, "Read etc", &["backup", "cat"]),
            (2, vec![false, true])
        );
    }

    #[test]
    fn an_existing_exceptions_list_gets_one_more_entry() {
        let with = TWO.replace(
            "  priority: WARNING\n",
            "  priority: WARNING\n  exceptions:\n    - name: known\n      fields: [proc.name]\n      values: [[cat]]\n",
        );
        let out = apply(&with, "Read etc", &entry());
        assert_eq!(out.matches("exceptions:").count(), 1, "{out}");
        assert!(
            out.contains("      values: [[cat]]\n    - name: rulestudio_suggested"),
            "{out}"
        );
        let (_, v) = judged(&out, "Read etc", &["backup", "cat", "vi"]);
        assert_eq!(v, vec![false, false, true]);
    }

    #[test]
    fn a_rule_the_draft_does_not_define_is_overridden() {
        let out = apply(TWO, "Live only", &entry());
        assert!(
            out.ends_with("  override:\n    exceptions: append\n"),
            "{out}"
        );
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
        let e = suggest(&matches, &Deadline::unlimited()).unwrap();
        assert_eq!(e.fields, ["proc.name"]);
        assert_eq!(e.values, [["backup"]]);
    }

    #[test]
    fn takes_a_pair_of_fields_when_no_single_field_separates() {
        let m = |name: &str, user: &str, v| {
            (
                ev(json!({"proc.name": name, "user.name": user, "fd.name": "/etc/shadow"})),
                v,
            )
        };
        let matches = vec![
            m("backup", "root", Verdict::FalsePositive),
            m("tar", "backup", Verdict::FalsePositive),
            // backup as another user, and root running something else, stay.
            m("backup", "app", Verdict::Unlabeled),
            m("cat", "root", Verdict::TruePositive),
            m("tar", "root", Verdict::Unlabeled),
        ];
        let e = suggest(&matches, &Deadline::unlimited()).unwrap();
        assert_eq!(e.fields, ["proc.name", "user.name"]);
        assert_eq!(e.comps, ["=", "="]);
        assert_eq!(e.values, [["backup", "root"], ["tar", "backup"]]);
        // One benign match a single field separates, the other only a pair: the pair wins.
        assert_eq!(
            to_yaml(&e, "").lines().nth(2),
            Some("  comps: [\"=\", \"=\"]")
        );
    }

    #[test]
    fn a_single_field_is_kept_when_it_separates_every_benign_match() {
        let m = |name: &str, user: &str, v| (ev(json!({"proc.name": name, "user.name": user})), v);
        let matches = vec![
            m("backup", "root", Verdict::FalsePositive),
            m("backup", "app", Verdict::FalsePositive),
            m("cat", "root", Verdict::Unlabeled),
        ];
        let e = suggest(&matches, &Deadline::unlimited()).unwrap();
        assert_eq!(
            (e.fields, e.values),
            (
                vec!["proc.name".to_string()],
                vec![vec!["backup".to_string()]]
            )
        );
    }

    #[test]
    fn directory_prefixes_never_cover_a_kept_match() {
        let m = |file: &str, v| (ev(json!({"fd.name": file})), v);
        let matches = vec![
            m("/etc/ssl/certs/a.pem", Verdict::FalsePositive),
            m("/etc/ssl/private/key", Verdict::Unlabeled),
            m("/var/cache/x", Verdict::FalsePositive),
            m("/var/cache/y/z", Verdict::Unlabeled),
        ];
        let e = suggest(&matches, &Deadline::unlimited()).unwrap();
        assert_eq!(e.fields, ["fd.name"]);
        assert_eq!(e.values, [["/etc/ssl/certs/"]]);
    }

    #[test]
    fn refuses_without_benign_matches() {
        let matches = vec![(ev(json!({"proc.name": "cat"})), Verdict::Unlabeled)];
        assert!(matches!(
            suggest(&matches, &Deadline::unlimited()),
            Err(AppError::Unprocessable(_))
        ));
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
