//! Completion and hover help for the rule editor: field names (with type and description from
//! the one field table), macros and lists of the loaded rule set, operators and keywords,
//! `evt.type` names right after `evt.type =` / `evt.type in (`, priorities and item keys, each
//! only where the YAML key the word belongs to lets it stand.

use rulestudio_engine::fields;
use rulestudio_engine::loader::{LIST_KEYS, MACRO_KEYS, RULE_KEYS};
use rulestudio_engine::rule::Priority;
use rulestudio_engine::syntax::ast::{CmpOp, Modifier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;

const KEYWORDS: [&str; 4] = ["and", "or", "not", "exists"];

/// Item keys a rules file's items take besides the rule, macro and list keys (the loader's own
/// lists): the file's requirements and an exception's keys.
const OTHER_KEYS: [&str; 6] = [
    "required_engine_version",
    "required_plugin_versions",
    "name",
    "fields",
    "comps",
    "values",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Field,
    Macro,
    List,
    Operator,
    EvtType,
    Key,
    Priority,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Field => "field",
            Kind::Macro => "macro",
            Kind::List => "list",
            Kind::Operator => "operator",
            Kind::EvtType => "evt.type",
            Kind::Key => "key",
            Kind::Priority => "priority",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub kind: Kind,
    /// Type and description for fields; empty otherwise.
    pub detail: String,
}

/// Candidates for the word ending at the cursor; `start` is where that word begins (the
/// replacement range is `start..cursor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub start: usize,
    pub candidates: Vec<Candidate>,
}

/// The macros and lists visible to the draft (live set plus the draft itself): their names
/// for completion and their definitions for hover help.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    pub macros: Vec<String>,
    pub lists: Vec<String>,
    /// Macro name → its condition; list name → its items; as the loader ended with them.
    pub definitions: BTreeMap<String, String>,
}

/// What can stand where a word starts, from the YAML key the word belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A mapping key (`condition`, `priority`, …).
    Key,
    /// A condition: fields, macros, lists, operators and keywords.
    Condition,
    /// An exception's `fields`.
    Fields,
    /// An exception's `comps`.
    Operators,
    /// A list's `items` (lists may name lists).
    Lists,
    Priority,
    /// Free text or a name (a rule's name, `desc`, `output`, tags, a comment): nothing.
    Text,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The start of the word that ends at `cursor`.
pub fn word_start(text: &str, cursor: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = cursor.min(bytes.len());
    while start > 0 && is_word_byte(bytes[start - 1]) {
        start -= 1;
    }
    start
}

/// The range of the whole word around `offset` (for hover docs).
pub fn word_range(text: &str, offset: usize) -> Range<usize> {
    let bytes = text.as_bytes();
    let start = word_start(text, offset);
    let mut end = offset.min(bytes.len());
    while end < bytes.len() && is_word_byte(bytes[end]) {
        end += 1;
    }
    start..end
}

/// A line split into its indentation, an optional sequence dash, and an optional leading
/// `key:`; `key_col` is where the key (or the content) starts.
struct LineHead<'a> {
    key_col: usize,
    key: Option<&'a str>,
    /// The text after `key:` (trimmed), when there is a key.
    value: &'a str,
    /// Whether anything other than blanks and a comment is on the line.
    blank: bool,
}

fn line_head(line: &str) -> LineHead<'_> {
    let bytes = line.as_bytes();
    let mut i = bytes.iter().take_while(|&&b| b == b' ').count();
    if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_none_or(|b| *b == b' ') {
        i += 1;
        i += bytes[i..].iter().take_while(|&&b| b == b' ').count();
    }
    let rest = line[i..].trim_end_matches(['\r', '\n']);
    let blank = rest.is_empty() || rest.starts_with('#');
    let key_len = rest
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        .count();
    let key = (key_len > 0
        && rest[key_len..].starts_with(':')
        && rest[key_len + 1..]
            .bytes()
            .next()
            .is_none_or(|b| b == b' ' || b == b'\t'))
    .then(|| &rest[..key_len]);
    let value = key.map_or("", |k| rest[k.len() + 1..].trim());
    LineHead {
        key_col: i,
        key,
        value,
        blank,
    }
}

fn place_of_value(key: &str) -> Place {
    match key {
        "condition" => Place::Condition,
        "fields" => Place::Fields,
        "comps" => Place::Operators,
        "items" => Place::Lists,
        "priority" => Place::Priority,
        _ => Place::Text,
    }
}

/// What can stand at byte offset `start` (the start of a word) of a rules file: the value of
/// the key on its line, or, for a word that starts its line, a sibling key or the value of the
/// key whose block scalar the line continues.
pub fn place(text: &str, start: usize) -> Place {
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let before = &text[line_start..start];
    if before.contains(" #") || before.trim_start().starts_with('#') {
        return Place::Text;
    }
    let head = line_head(before);
    match head.key {
        Some(key) => place_of_value(key),
        // A word that starts its line, or follows other words on a line without a key: a key
        // or a continuation of the value above, depending on the lines above.
        None => enclosing(text, line_start, head.key_col),
    }
}

/// For a line starting at `line_start` whose content begins at column `col`: `Key` when the
/// nearest line above that holds a key at `col` comes before any less indented line (a
/// sibling key), else the value of the key of that less indented line, whose value this line
/// continues (`condition: >`, or a flow sequence `items: [` left open).
fn enclosing(text: &str, line_start: usize, col: usize) -> Place {
    for line in text[..line_start].lines().rev() {
        let head = line_head(line);
        if head.blank {
            continue;
        }
        if head.key_col == col && head.key.is_some() {
            return Place::Key;
        }
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        if indent < col {
            return match head.key {
                // An empty value opens a nested mapping (`exceptions:`), except under keys
                // whose value is a condition or items written on the lines below.
                Some(key) if head.value.is_empty() && !matches!(key, "condition" | "items") => {
                    Place::Key
                }
                Some(key) => place_of_value(key),
                None => Place::Key,
            };
        }
    }
    Place::Key
}

/// True when the text just before `start` (on the same line) is `evt.type =`, `evt.type !=`,
/// or `evt.type in (` followed by earlier names of the list.
fn after_evt_type(before: &str) -> bool {
    let line = before.rsplit('\n').next().unwrap_or(before);
    let Some(pos) = line.rfind("evt.type") else {
        return false;
    };
    let rest = line[pos + "evt.type".len()..].trim_start();
    if let Some(r) = rest.strip_prefix("!=").or_else(|| rest.strip_prefix('=')) {
        return r.trim().is_empty();
    }
    if let Some(r) = rest.strip_prefix("in") {
        let r = r.trim_start();
        if let Some(items) = r.strip_prefix('(') {
            return !items.contains(')')
                && items
                    .bytes()
                    .all(|b| is_word_byte(b) || b == b',' || b == b' ');
        }
    }
    false
}

/// Every key an item of a rules file may have, each once.
fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = RULE_KEYS
        .iter()
        .chain(MACRO_KEYS)
        .chain(LIST_KEYS)
        .chain(OTHER_KEYS.iter())
        .copied()
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Completion at byte offset `cursor` of `text`, at most `limit` candidates, best first:
/// prefix matches before substring matches, then shorter names first. Only where a field,
/// macro, list, operator, priority or key can stand ([`place`]): never in names, descriptions
/// or output text.
pub fn complete(text: &str, cursor: usize, vocab: &Vocabulary, limit: usize) -> Option<Completion> {
    if cursor > text.len() || !text.is_char_boundary(cursor) {
        return None;
    }
    let start = word_start(text, cursor);
    let prefix = &text[start..cursor];
    if prefix.is_empty() {
        return None;
    }
    let mut scored: Vec<(u8, Candidate)> = Vec::new();
    let mut push = |name: &str, kind: Kind, detail: String| {
        let rank = if name.starts_with(prefix) {
            0
        } else if name.contains(prefix) {
            1
        } else {
            return;
        };
        if name != prefix {
            scored.push((
                rank,
                Candidate {
                    text: name.to_string(),
                    kind,
                    detail,
                },
            ));
        }
    };
    let fields = |push: &mut dyn FnMut(&str, Kind, String)| {
        for f in fields::all().iter().filter(|f| !f.is_deprecated()) {
            push(
                f.name,
                Kind::Field,
                format!("{} — {}", f.ty.as_str(), f.desc),
            );
        }
    };
    let operators = |push: &mut dyn FnMut(&str, Kind, String), words: bool| {
        let ops = CmpOp::ALL
            .iter()
            .map(|o| o.as_str())
            .chain(Modifier::ALL.iter().map(|m| m.as_str()));
        let all: Vec<&str> = if words {
            ops.chain(KEYWORDS).collect()
        } else {
            ops.collect()
        };
        for w in all
            .into_iter()
            .filter(|w| w.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            push(w, Kind::Operator, String::new());
        }
    };
    match place(text, start) {
        Place::Text => return None,
        Place::Key => {
            for k in all_keys() {
                push(k, Kind::Key, String::new());
            }
        }
        Place::Priority => {
            for p in Priority::ALL {
                push(
                    &p.as_str().to_ascii_uppercase(),
                    Kind::Priority,
                    String::new(),
                );
            }
        }
        Place::Fields => fields(&mut push),
        Place::Operators => operators(&mut push, false),
        Place::Lists => {
            for l in &vocab.lists {
                push(l, Kind::List, String::new());
            }
        }
        Place::Condition if after_evt_type(&text[..start]) => {
            for (name, _) in fields::evt_types() {
                push(name, Kind::EvtType, String::new());
            }
        }
        Place::Condition => {
            fields(&mut push);
            for m in &vocab.macros {
                push(m, Kind::Macro, String::new());
            }
            for l in &vocab.lists {
                push(l, Kind::List, String::new());
            }
            operators(&mut push, true);
        }
    }
    scored.sort_by(|(ra, a), (rb, b)| {
        ra.cmp(rb)
            .then(a.text.len().cmp(&b.text.len()))
            .then(a.text.cmp(&b.text))
    });
    scored.dedup_by(|a, b| a.1.text == b.1.text);
    let candidates: Vec<Candidate> = scored.into_iter().take(limit).map(|(_, c)| c).collect();
    (!candidates.is_empty()).then_some(Completion { start, candidates })
}

/// Hover help for the word at `offset`, where a condition or an exception's fields stand: a
/// field ("name (TYPE): description"), a macro (its condition) or a list (its items). The
/// range is the word's.
pub fn hover(text: &str, offset: usize, vocab: &Vocabulary) -> Option<(Range<usize>, String)> {
    if offset > text.len() || !text.is_char_boundary(offset) {
        return None;
    }
    let range = word_range(text, offset);
    if range.is_empty() || !matches!(place(text, range.start), Place::Condition | Place::Fields) {
        return None;
    }
    let word = &text[range.clone()];
    let doc = if let Some((id, _)) = fields::resolve(word) {
        let f = id.info();
        format!(
            "{} ({}{}): {}",
            f.name,
            f.ty.as_str(),
            if f.is_list { ", list" } else { "" },
            f.desc
        )
    } else if vocab.macros.iter().any(|m| m == word) {
        format!(
            "macro {word}: {}",
            vocab.definitions.get(word).map_or("", String::as_str)
        )
    } else if vocab.lists.iter().any(|l| l == word) {
        format!(
            "list {word}: [{}]",
            vocab.definitions.get(word).map_or("", String::as_str)
        )
    } else {
        return None;
    };
    Some((range, doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(c: &Completion) -> Vec<&str> {
        c.candidates.iter().map(|c| c.text.as_str()).collect()
    }

    fn vocab() -> Vocabulary {
        Vocabulary {
            macros: vec!["spawned_process".into()],
            lists: vec!["shell_binaries".into()],
            definitions: [
                (
                    "spawned_process".to_string(),
                    "evt.type = execve".to_string(),
                ),
                ("shell_binaries".to_string(), "bash, sh".to_string()),
            ]
            .into(),
        }
    }

    /// Completion at the end of `text`.
    fn at_end(text: &str) -> Option<Completion> {
        complete(text, text.len(), &vocab(), 50)
    }

    #[test]
    fn fields_macros_lists_and_operators_in_conditions() {
        let text = "- rule: r\n  condition: proc.nam";
        let c = at_end(text).unwrap();
        assert_eq!(c.start, text.len() - "proc.nam".len());
        assert_eq!(c.candidates[0].text, "proc.name");
        assert_eq!(c.candidates[0].kind, Kind::Field);
        assert!(c.candidates[0].detail.starts_with("CHARBUF"));

        let c = at_end("- macro: m\n  condition: a and spaw").unwrap();
        assert_eq!(texts(&c), vec!["spawned_process"]);
        let c = at_end("- rule: r\n  condition: proc.name in (shell_b").unwrap();
        assert_eq!(texts(&c)[0], "shell_binaries");
        let c = at_end("- rule: r\n  condition: fd.name startsw").unwrap();
        assert_eq!(texts(&c), vec!["startswith", "bstartswith"]);
    }

    #[test]
    fn condition_continuation_lines() {
        for text in [
            "- rule: r\n  condition: >\n    proc.name = a and\n    spaw",
            "- rule: r\n  condition:\n    spaw",
            "- rule: r\n  condition: a and\n    b and spaw",
            "- rule: r\n  condition: >\n    a and\n\n    # a comment line\n    spaw",
        ] {
            assert_eq!(
                at_end(text).map(|c| texts(&c).join(",")),
                Some("spawned_process".to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn keys_priorities_exception_fields_and_list_items() {
        let c = at_end("- rule: r\n  desc: d\n  cond").unwrap();
        assert_eq!(texts(&c), vec!["condition"]);
        assert!(c.candidates.iter().all(|c| c.kind == Kind::Key));
        let c = at_end("- rule: r\n  condition: >\n    a and b\n  prio").unwrap();
        assert_eq!(texts(&c), vec!["priority"]);
        assert_eq!(texts(&at_end("- ru").unwrap()), vec!["rule"]);
        let c = at_end("- rule: r\n  priority: WAR").unwrap();
        assert_eq!(texts(&c), vec!["WARNING"]);
        let c = at_end("- rule: r\n  exceptions:\n    - na").unwrap();
        assert_eq!(texts(&c)[0], "name");
        let c = at_end("- rule: r\n  exceptions:\n    - name: e\n      fields: [proc.nam").unwrap();
        assert_eq!(texts(&c)[0], "proc.name");
        let c = at_end("- rule: r\n  exceptions:\n    - name: e\n      comps: [startsw").unwrap();
        assert_eq!(texts(&c), vec!["startswith", "bstartswith"]);
        let c = at_end("- list: l\n  items: [\n    bash, shell").unwrap();
        assert_eq!(texts(&c), vec!["shell_binaries"]);
    }

    #[test]
    fn nothing_in_names_descriptions_output_and_comments() {
        for text in [
            "- rule: reg",
            "- rule: Shell in contain",
            "- rule: r\n  desc: a shell spaw",
            "- rule: r\n  output: \"%proc.name spaw",
            "- rule: r\n  output: >\n    started proc.nam",
            "- rule: r\n  tags: [contain",
            "- rule: r\n  condition: a # spaw",
            "# spaw",
            "- macro: spaw",
        ] {
            assert_eq!(at_end(text), None, "{text}");
        }
    }

    #[test]
    fn evt_type_names_after_evt_type() {
        for cond in [
            "evt.type = exec",
            "evt.type in (open, exec",
            "evt.type!=exec",
        ] {
            let text = format!("- rule: r\n  condition: {cond}");
            let c = at_end(&text).unwrap();
            assert!(
                c.candidates.iter().all(|c| c.kind == Kind::EvtType),
                "{text}"
            );
            assert!(texts(&c).contains(&"execve"), "{text}");
        }
        let c = at_end("- rule: r\n  condition: evt.type in (open) and exec");
        assert!(c.is_none_or(|c| c.candidates.iter().all(|c| c.kind != Kind::EvtType)));
    }

    #[test]
    fn nothing_to_complete() {
        assert!(at_end("- rule: r\n  condition: proc.name = ").is_none());
        assert!(at_end("- rule: r\n  condition: zzzzqqq").is_none());
    }

    #[test]
    fn hover_help_for_fields_macros_and_lists_in_conditions() {
        let text = "- rule: spawned_process\n  condition: spawned_process and proc.aname[2] in (shell_binaries)\n";
        let at = |word: &str| {
            let i = text.rfind(word).unwrap() + 1;
            hover(text, i, &vocab()).map(|(r, doc)| (&text[r], doc))
        };
        let (word, doc) = at("proc.aname").unwrap();
        assert_eq!(word, "proc.aname");
        assert!(doc.starts_with("proc.aname (CHARBUF"), "{doc}");
        assert_eq!(
            at("spawned_process and").unwrap().1,
            "macro spawned_process: evt.type = execve"
        );
        assert_eq!(
            at("shell_binaries").unwrap().1,
            "list shell_binaries: [bash, sh]"
        );
        // The rule's name is not a use of the macro.
        assert_eq!(hover(text, 10, &vocab()), None);
    }
}
