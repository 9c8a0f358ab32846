//! The rules-file items the lints look at, read from the YAML with exact spans.
//!
//! The linter reads the files itself instead of asking the loader: the dialect it has to explain
//! (`alert:`, `!~`, `Tập.name`, …) never survives loading, and a fix must edit the bytes the user
//! wrote, so every item keeps its keys' spans and its condition keeps a map back into the file.

use super::condition::{self, Scan};
use crate::diagnostic::ItemKind;
use crate::loader::SourceFile;
use crate::loader::mapped::MappedText;
use crate::loader::yaml::{self, Kind, NodeId, ScalarStyle, Yaml};
use crate::span::{FileId, Span};
use std::collections::HashSet;
use std::ops::Range;

/// One entry of a rules file: a rule, a macro or a list.
pub(crate) struct Item<'f> {
    pub kind: ItemKind,
    pub name: String,
    /// The whole YAML mapping.
    pub span: Span,
    /// The text of the file the item is in.
    pub text: &'f str,
    /// Every key of the mapping with the span of the key and of its value.
    pub keys: Vec<Key>,
    /// The `source:` of a rule, when given.
    pub source: Option<String>,
    pub condition: Option<Condition>,
    /// An earlier entry (in load order) defines a rule, macro or list of the same kind and name.
    pub redefines: bool,
}

pub(crate) struct Key {
    pub name: String,
    pub span: Span,
    pub value: Span,
}

impl Item<'_> {
    pub fn key(&self, name: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Whether the item's fields are syscall fields (rules of other sources use plugin fields).
    pub fn is_syscall(&self) -> bool {
        self.source
            .as_deref()
            .is_none_or(|s| s.is_empty() || s == "syscall")
    }
}

/// A `condition:` value: its decoded text, the map back to the file and the tolerant scan.
pub(crate) struct Condition {
    pub text: String,
    mapped: MappedText,
    style: ScalarStyle,
    pub scan: Scan,
    /// The scalar as written in the file.
    pub span: Span,
}

impl Condition {
    /// The file span of `range` of the condition text, when it maps one-to-one onto the file
    /// (no escapes or folding inside), which is what an edit needs.
    pub fn exact_span(&self, range: Range<usize>, file_text: &str) -> Option<Span> {
        let span = self.mapped.map(range.start, range.end);
        let written = file_text.get(span.range())?;
        (written == self.text.get(range)?).then_some(span)
    }

    /// A span for reporting `range`; never fails (falls back to the whole scalar).
    pub fn span_of(&self, range: Range<usize>) -> Span {
        let span = self.mapped.map(range.start, range.end);
        if span == Span::default() {
            self.span
        } else {
            span
        }
    }

    /// `replacement` escaped for the scalar style the condition is written in, so an edit keeps
    /// the YAML valid and decodes to `replacement`.
    pub fn escape(&self, replacement: &str) -> String {
        match self.style {
            ScalarStyle::DoubleQuoted => replacement.replace('\\', "\\\\").replace('"', "\\\""),
            ScalarStyle::SingleQuoted => replacement.replace('\'', "''"),
            _ => replacement.to_owned(),
        }
    }
}

/// Every rule, macro and list of `files`, in file order. Files that are not valid YAML yield
/// nothing: the loader already reports them and there is nothing to lint.
pub(crate) fn items(files: &[SourceFile]) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    let mut seen: HashSet<(ItemKind, String)> = HashSet::new();
    for (i, file) in files.iter().enumerate() {
        let id = FileId(i as u32);
        let Ok(doc) = yaml::parse(&file.text, id) else {
            continue;
        };
        for &root in &doc.docs {
            for &node in doc.seq(root).unwrap_or_default() {
                if let Some(mut item) = item(&doc, node, &file.text) {
                    item.redefines = !seen.insert((item.kind, item.name.clone()));
                    out.push(item);
                }
            }
        }
    }
    out
}

fn item<'f>(doc: &Yaml, node: NodeId, text: &'f str) -> Option<Item<'f>> {
    let entries = doc.map(node)?;
    let (kind, name) = [
        ("rule", ItemKind::Rule),
        ("macro", ItemKind::Macro),
        ("list", ItemKind::List),
    ]
    .into_iter()
    .find_map(|(key, kind)| Some((kind, doc.scalar(doc.get(node, key)?)?.to_owned())))?;
    let keys = entries
        .iter()
        .filter_map(|&(k, v)| {
            Some(Key {
                name: doc.scalar(k)?.to_owned(),
                span: doc.span(k),
                value: doc.span(v),
            })
        })
        .collect();
    let scalar = |key: &str| {
        doc.get(node, key)
            .and_then(|v| doc.scalar(v))
            .map(str::to_owned)
    };
    let source = scalar("source");
    let condition = (kind != ItemKind::List)
        .then(|| doc.get(node, "condition"))
        .flatten()
        .and_then(|v| {
            let Kind::Scalar { value, style } = &doc.node(v).kind else {
                return None;
            };
            // Longer than the loader's studio limit (it reports RS017 there): not linted, so
            // linting stays as bounded as loading.
            if value.len() > crate::loader::MAX_CONDITION_BYTES {
                return None;
            }
            let span = doc.span(v);
            let mapped = MappedText::from_scalar(value, *style, text, span);
            let scan = condition::scan(value, &|at| line_end(value, &mapped, text, at));
            Some(Condition {
                text: value.clone(),
                mapped,
                style: *style,
                scan,
                span,
            })
        });
    Some(Item {
        kind,
        name,
        span: doc.span(node),
        text,
        keys,
        source,
        condition,
        redefines: false,
    })
}

/// Where the file line containing condition offset `at` ends, as a condition offset: a `#`
/// comment runs to the end of the line the user wrote it on, even though folding (`>`) joined
/// that line with the next one in the decoded text.
fn line_end(value: &str, mapped: &MappedText, text: &str, at: usize) -> usize {
    let fallback = value[at..].find('\n').map_or(value.len(), |i| at + i);
    let start = mapped.map(at, at).start as usize;
    let Some(rest) = text.get(start..) else {
        return fallback;
    };
    let len = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let end = (at + len).min(fallback);
    // Only trust the file line when it is what the condition text holds at that place.
    if value.get(at..end) == text.get(start..start + (end - at)) {
        end
    } else {
        fallback
    }
}
