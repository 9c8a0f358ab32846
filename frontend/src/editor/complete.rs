//! Completion for the rule editor: field names (with type and description from the one field
//! table), macros and lists of the loaded rule set, operators and keywords, and `evt.type`
//! names right after `evt.type =` / `evt.type in (`.

use rulestudio_engine::fields;
use rulestudio_engine::syntax::ast::{CmpOp, Modifier};

/// Every comparison operator, spelled by the engine.
pub const OPERATORS: [CmpOp; 19] = [
    CmpOp::Eq,
    CmpOp::EqEq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
    CmpOp::Contains,
    CmpOp::IContains,
    CmpOp::BContains,
    CmpOp::StartsWith,
    CmpOp::BStartsWith,
    CmpOp::EndsWith,
    CmpOp::Glob,
    CmpOp::IGlob,
    CmpOp::Regex,
    CmpOp::In,
    CmpOp::Intersects,
    CmpOp::PMatch,
];

pub const MODIFIERS: [Modifier; 3] = [Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf];

const KEYWORDS: [&str; 4] = ["and", "or", "not", "exists"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Field,
    Macro,
    List,
    Operator,
    EvtType,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Field => "field",
            Kind::Macro => "macro",
            Kind::List => "list",
            Kind::Operator => "operator",
            Kind::EvtType => "evt.type",
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

/// Names of the macros and lists visible to the draft (live set plus the draft itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    pub macros: Vec<String>,
    pub lists: Vec<String>,
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

/// The whole word around `offset` (for hover docs).
pub fn word_at(text: &str, offset: usize) -> &str {
    let bytes = text.as_bytes();
    let start = word_start(text, offset);
    let mut end = offset.min(bytes.len());
    while end < bytes.len() && is_word_byte(bytes[end]) {
        end += 1;
    }
    &text[start..end]
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

/// Completion at byte offset `cursor` of `text`, at most `limit` candidates, best first:
/// prefix matches before substring matches, then shorter names first.
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
    if after_evt_type(&text[..start]) {
        for (name, _) in fields::evt_types() {
            push(name, Kind::EvtType, String::new());
        }
    } else {
        for f in fields::all().iter().filter(|f| !f.is_deprecated()) {
            push(
                f.name,
                Kind::Field,
                format!("{} — {}", f.ty.as_str(), f.desc),
            );
        }
        for m in &vocab.macros {
            push(m, Kind::Macro, String::new());
        }
        for l in &vocab.lists {
            push(l, Kind::List, String::new());
        }
        let words = OPERATORS
            .iter()
            .map(|o| o.as_str())
            .chain(MODIFIERS.iter().map(|m| m.as_str()))
            .chain(KEYWORDS);
        for w in words.filter(|w| w.bytes().all(|b| b.is_ascii_alphabetic())) {
            push(w, Kind::Operator, String::new());
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

/// Hover documentation for the field under `offset`: "name (TYPE): description".
pub fn field_doc(text: &str, offset: usize) -> Option<String> {
    let word = word_at(text, offset);
    let (id, _) = fields::resolve(word)?;
    let f = id.info();
    Some(format!(
        "{} ({}{}): {}",
        f.name,
        f.ty.as_str(),
        if f.is_list { ", list" } else { "" },
        f.desc
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(c: &Completion) -> Vec<&str> {
        c.candidates.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn fields_macros_lists_and_operators() {
        let vocab = Vocabulary {
            macros: vec!["spawned_process".into()],
            lists: vec!["shell_binaries".into()],
        };
        let text = "condition: proc.nam";
        let c = complete(text, text.len(), &vocab, 10).unwrap();
        assert_eq!(c.start, "condition: ".len());
        assert_eq!(c.candidates[0].text, "proc.name");
        assert_eq!(c.candidates[0].kind, Kind::Field);
        assert!(c.candidates[0].detail.starts_with("CHARBUF"));

        let c = complete("a and spaw", 10, &vocab, 10).unwrap();
        assert_eq!(texts(&c), vec!["spawned_process"]);
        let c = complete("proc.name in (shell_b", 21, &vocab, 10).unwrap();
        assert_eq!(texts(&c)[0], "shell_binaries");
        let c = complete("fd.name startsw", 15, &vocab, 10).unwrap();
        assert_eq!(texts(&c), vec!["startswith", "bstartswith"]);
    }

    #[test]
    fn evt_type_names_after_evt_type() {
        let vocab = Vocabulary::default();
        for text in [
            "evt.type = exec",
            "evt.type in (open, exec",
            "evt.type!=exec",
        ] {
            let c = complete(text, text.len(), &vocab, 50).unwrap();
            assert!(
                c.candidates.iter().all(|c| c.kind == Kind::EvtType),
                "{text}"
            );
            assert!(texts(&c).contains(&"execve"), "{text}");
        }
        let c = complete("evt.type in (open) and exec", 27, &vocab, 50);
        assert!(c.is_none_or(|c| c.candidates.iter().all(|c| c.kind != Kind::EvtType)));
    }

    #[test]
    fn nothing_to_complete() {
        assert!(complete("proc.name = ", 12, &Vocabulary::default(), 10).is_none());
        assert!(complete("zzzzqqq", 7, &Vocabulary::default(), 10).is_none());
    }

    #[test]
    fn hover_docs() {
        let text = "proc.aname[2] = x";
        assert!(
            field_doc(text, 3)
                .unwrap()
                .starts_with("proc.aname (CHARBUF")
        );
        assert!(field_doc("evt.arg.flags", 2).is_some());
        assert!(field_doc("nonsense", 2).is_none());
    }
}
