//! A small YAML node tree with byte spans, built from `saphyr-parser` events.
//!
//! Falco reads rules with yaml-cpp; what matters here is the same tree shape (documents,
//! sequences, mappings, scalars, nulls) plus exact positions. Nodes live in one arena so that
//! aliases are shared references (an alias bomb costs one node per alias, not an expansion);
//! saphyr-parser itself bounds nesting depth. The expanded size of every document is still
//! bounded, because the reader walks aliased subtrees as many times as they are referenced.

use super::flow_indent;
use crate::span::{FileId, LineIndex, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

pub(crate) type NodeId = u32;

/// Most nodes a document may expand to once aliases are followed. The official ruleset is
/// about 10k nodes; this leaves room for large user files while stopping billion-laughs input.
const MAX_EXPANDED_NODES: u64 = 2_000_000;

#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub span: Span,
    /// Number of nodes of this subtree once aliases are expanded (saturating).
    weight: u64,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Null,
    Scalar { value: String, style: ScalarStyle },
    Seq(Vec<NodeId>),
    Map(Vec<(NodeId, NodeId)>),
}

/// Every document of one file.
#[derive(Debug, Default)]
pub(crate) struct Yaml {
    nodes: Vec<Node>,
    pub docs: Vec<NodeId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub message: String,
    pub span: Span,
}

impl Yaml {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// The value of `key` in mapping `map` (first match, as yaml-cpp's `operator[]`).
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entry(map, key).map(|(_, v)| v)
    }

    /// The key node and the value node of `key` in mapping `map`.
    pub fn entry(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        match &self.node(map).kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| self.scalar(*k) == Some(key)).copied(),
            _ => None,
        }
    }

    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.node(id).kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn span(&self, id: NodeId) -> Span {
        self.node(id).span
    }

    pub fn is_null(&self, id: NodeId) -> bool {
        matches!(self.node(id).kind, Kind::Null)
    }

    pub fn seq(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.node(id).kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn map(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        match &self.node(id).kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Converts the parser's character indices to byte offsets.
struct Offsets {
    /// Byte offset of every character, plus the text length; empty when the text is ASCII.
    bytes: Vec<u32>,
    len: u32,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let bytes = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i as u32).chain(std::iter::once(text.len() as u32)).collect()
        };
        Offsets { bytes, len: text.len() as u32 }
    }

    fn byte(&self, char_index: usize) -> u32 {
        if self.bytes.is_empty() {
            (char_index as u32).min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

enum Open {
    Seq { start: u32, anchor: usize, items: Vec<NodeId>, weight: u64 },
    Map { start: u32, anchor: usize, entries: Vec<(NodeId, NodeId)>, key: Option<NodeId>, weight: u64 },
}

/// Parses every document of `text`. The first syntax error ends parsing (like yaml-cpp).
pub(crate) fn parse(text: &str, file: FileId) -> Result<Yaml, YamlError> {
    let offsets = Offsets::new(text);
    let mut patched: Option<String> = None;
    for _ in 0..=flow_indent::MAX_JOINS {
        let source = patched.as_deref().unwrap_or(text);
        match parse_events(source, text, &offsets, file) {
            Ok(yaml) => return Ok(yaml),
            Err(Failure::Yaml(e)) => return Err(e),
            Err(Failure::Scan { index, info }) => {
                let chars: Vec<char> = source.chars().collect();
                let joined =
                    if flow_indent::is_indentation_error(&info) { flow_indent::join_line(&chars, index) } else { None };
                match joined {
                    Some(chars) => patched = Some(chars.into_iter().collect()),
                    None => return Err(scan_error(text, &offsets, file, index, &info)),
                }
            }
        }
    }
    Err(YamlError {
        message: format!("more than {} under-indented lines in flow collections", flow_indent::MAX_JOINS),
        span: Span::new(file, 0, 0),
    })
}

/// A syntax error, placed in the original text (a patched text has fewer line breaks).
fn scan_error(text: &str, offsets: &Offsets, file: FileId, index: usize, info: &str) -> YamlError {
    let at = offsets.byte(index);
    let pos = LineIndex::new(text).line_col(text, at);
    YamlError {
        message: format!("yaml error at line {}, column {}: {info}", pos.line, pos.column),
        span: Span::new(file, at, at),
    }
}

enum Failure {
    /// The scanner's error at a character index, which may still be recoverable.
    Scan { index: usize, info: String },
    Yaml(YamlError),
}

impl From<YamlError> for Failure {
    fn from(e: YamlError) -> Self {
        Failure::Yaml(e)
    }
}

/// One parse of `text` (the original text or a patched copy with the same characters count);
/// `offsets` map its character indices to bytes of `original`.
fn parse_events(text: &str, original: &str, offsets: &Offsets, file: FileId) -> Result<Yaml, Failure> {
    let mut yaml = Yaml::default();
    let mut anchors: HashMap<usize, NodeId> = HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let span_of = |s: &saphyr_parser::Span| Span::new(file, offsets.byte(s.start.index()), offsets.byte(s.end.index()));

    while let Some(event) = parser.next_event() {
        let (event, pspan) =
            event.map_err(|e| Failure::Scan { index: e.marker().index(), info: e.info().to_owned() })?;
        let span = span_of(&pspan);
        let done: Option<(NodeId, usize)> = match event {
            Event::DocumentStart(_) => {
                anchors.clear();
                None
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                stack.push(match event {
                    Event::SequenceStart(..) => Open::Seq { start: span.start, anchor, items: Vec::new(), weight: 1 },
                    _ => Open::Map { start: span.start, anchor, entries: Vec::new(), key: None, weight: 1 },
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else { continue };
                let (kind, start, anchor, weight) = match open {
                    Open::Seq { start, anchor, items, weight } => (Kind::Seq(items), start, anchor, weight),
                    Open::Map { start, anchor, entries, weight, .. } => (Kind::Map(entries), start, anchor, weight),
                };
                let end = yaml.nodes.last().map_or(span.end, |n| n.span.end.max(span.end)).max(start);
                let id = push(&mut yaml, Node { kind, span: Span::new(file, start, end), weight });
                Some((id, anchor))
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_null = style == ScalarStyle::Plain
                    && tag.is_none()
                    && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let kind = if is_null { Kind::Null } else { Kind::Scalar { value: value.into_owned(), style } };
                let span = end_at_closing_quote(original, span, style);
                Some((push(&mut yaml, Node { kind, span, weight: 1 }), anchor))
            }
            Event::Alias(anchor) => match anchors.get(&anchor) {
                Some(&id) => Some((id, 0)),
                None => return Err(YamlError { message: "unknown anchor".into(), span }.into()),
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
        };
        let Some((id, anchor)) = done else { continue };
        if anchor != 0 {
            anchors.insert(anchor, id);
        }
        let weight = yaml.node(id).weight;
        match stack.last_mut() {
            None => {
                if weight > MAX_EXPANDED_NODES {
                    return Err(YamlError {
                        message: format!("document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)"),
                        span,
                    }
                    .into());
                }
                yaml.docs.push(id);
            }
            Some(Open::Seq { items, weight: w, .. }) => {
                items.push(id);
                *w = w.saturating_add(weight);
            }
            Some(Open::Map { entries, key, weight: w, .. }) => {
                match key.take() {
                    None => *key = Some(id),
                    Some(k) => entries.push((k, id)),
                }
                *w = w.saturating_add(weight);
            }
        }
        let over = stack.iter().any(|o| match o {
            Open::Seq { weight, .. } | Open::Map { weight, .. } => *weight > MAX_EXPANDED_NODES,
        });
        if over {
            return Err(YamlError {
                message: format!("document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)"),
                span,
            }
            .into());
        }
    }
    Ok(yaml)
}

/// saphyr-parser ends a quoted scalar's span at the next token, blanks included; the scalar
/// itself ends at its closing quote.
fn end_at_closing_quote(original: &str, span: Span, style: ScalarStyle) -> Span {
    let quote = match style {
        ScalarStyle::SingleQuoted => '\'',
        ScalarStyle::DoubleQuoted => '"',
        _ => return span,
    };
    match original.get(span.range()).and_then(|t| t.rfind(quote)) {
        Some(i) if i > 0 => Span { end: span.start + i as u32 + 1, ..span },
        _ => span,
    }
}

fn push(yaml: &mut Yaml, node: Node) -> NodeId {
    yaml.nodes.push(node);
    (yaml.nodes.len() - 1) as NodeId
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse0(text: &str) -> Yaml {
        parse(text, FileId(0)).unwrap()
    }

    #[test]
    fn spans_are_bytes_even_after_non_ascii() {
        let text = "- rule: Tập\n  desc: x\n";
        let y = parse0(text);
        let item = y.seq(y.docs[0]).unwrap()[0];
        let desc = y.get(item, "desc").unwrap();
        assert_eq!(&text[y.span(desc).range()], "x");
        assert_eq!(y.span(item).start, 2);
    }

    #[test]
    fn nulls_follow_yaml_cpp() {
        let y = parse0("- a:\n  b: ~\n  c: ''\n  d: null\n");
        let item = y.seq(y.docs[0]).unwrap()[0];
        assert!(y.is_null(y.get(item, "a").unwrap()));
        assert!(y.is_null(y.get(item, "b").unwrap()));
        assert_eq!(y.scalar(y.get(item, "c").unwrap()), Some(""));
        assert!(y.is_null(y.get(item, "d").unwrap()));
    }

    #[test]
    fn alias_bomb_is_an_error_not_an_expansion() {
        let mut text = String::from("a: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let err = parse(&text, FileId(0)).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // saphyr-parser bounds nesting itself; the arena keeps drop iterative below that.
        let text = "[".repeat(100_000);
        let err = parse(&text, FileId(0)).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{}", err.message);
    }

    #[test]
    fn flow_collection_closed_at_the_key_indentation_parses_like_yaml_cpp() {
        let text = "- list: a\n  items: [\n    \"x\",\n    \"y\"\n  ]\n- list: b\n  items: [\n  z]\n";
        let y = parse0(text);
        let items = y.seq(y.docs[0]).unwrap();
        let a = y.seq(y.get(items[0], "items").unwrap()).unwrap();
        assert_eq!(a.iter().map(|&i| y.scalar(i).unwrap()).collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(&text[y.span(a[1]).range()], "\"y\"");
        let b = y.get(items[1], "items").unwrap();
        assert_eq!(y.seq(b).unwrap().len(), 1);
    }

    #[test]
    fn errors_after_a_join_keep_their_original_line() {
        let err = parse("a: [\n  x\n]\nb: : c\n", FileId(0)).unwrap_err();
        assert!(err.message.starts_with("yaml error at line 4"), "{}", err.message);
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = parse("this : is : not : yaml", FileId(0)).unwrap_err();
        assert!(err.message.starts_with("yaml error at line 1"), "{}", err.message);
    }
}
