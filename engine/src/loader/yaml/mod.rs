//! A small YAML node tree with byte spans, read the way Falco reads rules files: with
//! yaml-cpp. [`input`], [`scanner`], [`scalar`] and [`parser`] follow yaml-cpp's own stages
//! (its stream, scanner, `ScanScalar` and `SingleDocParser`), so a file loads, fails and
//! decodes as in Falco, and a syntax error has yaml-cpp's message and position.
//!
//! Nodes live in one arena so that aliases are shared references (an alias bomb costs one node
//! per alias, not an expansion); nesting is limited like yaml-cpp's (500). The expanded size of
//! every document is still bounded, because the reader walks aliased subtrees as many times as
//! they are referenced.

pub mod canonical;
mod input;
pub mod json;
mod parser;
mod scalar;
mod scanner;

use crate::span::{FileId, Span};

pub(crate) type NodeId = u32;

/// Most nodes a document may expand to once aliases are followed. The official ruleset is
/// about 10k nodes; this leaves room for large user files while stopping billion-laughs input.
const MAX_EXPANDED_NODES: u64 = 2_000_000;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    /// For a scalar, its text as written (quotes included; a block scalar's content lines);
    /// for a collection, from its start to its last content; a null sits where yaml-cpp marks it.
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

/// Every document of one file (up to the first empty one, where yaml-cpp stops).
#[derive(Debug, Default)]
pub(crate) struct Yaml {
    nodes: Vec<Node>,
    pub docs: Vec<NodeId>,
    /// Where each alias (`*name`) stands, for readers that refuse them.
    pub aliases: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub message: String,
    pub span: Span,
}

/// A syntax error where yaml-cpp reports it.
#[derive(Debug)]
struct ParseError {
    mark: input::Mark,
    message: String,
    /// yaml-cpp's own error (its wording) rather than one of this reader's limits.
    from_yaml_cpp: bool,
}

impl ParseError {
    fn at(mark: input::Mark, message: impl Into<String>) -> Self {
        ParseError {
            mark,
            message: message.into(),
            from_yaml_cpp: true,
        }
    }

    fn budget(mark: input::Mark) -> Self {
        let message =
            format!("document expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)");
        ParseError {
            mark,
            message,
            from_yaml_cpp: false,
        }
    }
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
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| self.scalar(*k) == Some(key))
                .copied(),
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

/// Parses every document of `text`. The first syntax error ends parsing, as in yaml-cpp, and
/// its message is yaml-cpp's (`yaml-cpp: error at line L, column C: …`).
pub(crate) fn parse(text: &str, file: FileId) -> Result<Yaml, YamlError> {
    // yaml-cpp consumes a UTF-8 byte order mark before it starts counting positions.
    let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut scanner = scanner::Scanner::new(input::Input::new(&text.as_bytes()[base..]));
    let mut yaml = Yaml::default();
    parser::documents(&mut scanner, &mut yaml, file, base as u32).map_err(|e| {
        let at = (e.mark.pos as usize + base).min(text.len()) as u32;
        let message = if e.from_yaml_cpp {
            format!(
                "yaml-cpp: error at line {}, column {}: {}",
                e.mark.line + 1,
                e.mark.column + 1,
                e.message
            )
        } else {
            e.message
        };
        YamlError {
            message,
            span: Span::new(file, at, at),
        }
    })?;
    Ok(yaml)
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
    fn deep_nesting_is_yaml_cpp_error_not_a_stack_overflow() {
        // yaml-cpp's depth guard (500 nested nodes) fails where the input has been read to
        // (here the end, whose column yaml-cpp resets).
        let err = parse(&"[".repeat(100_000), FileId(0)).unwrap_err();
        assert_eq!(err.message, "yaml-cpp: error at line 1, column 1: bad file");
        let err = parse(&format!("{}x", "- ".repeat(600)), FileId(0)).unwrap_err();
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 1, column 1000: bad file"
        );
    }

    #[test]
    fn flow_collection_closed_at_the_key_indentation_parses_like_yaml_cpp() {
        let text =
            "- list: a\n  items: [\n    \"x\",\n    \"y\"\n  ]\n- list: b\n  items: [\n  z]\n";
        let y = parse0(text);
        let items = y.seq(y.docs[0]).unwrap();
        let a = y.seq(y.get(items[0], "items").unwrap()).unwrap();
        assert_eq!(
            a.iter().map(|&i| y.scalar(i).unwrap()).collect::<Vec<_>>(),
            ["x", "y"]
        );
        assert_eq!(&text[y.span(a[1]).range()], "\"y\"");
        let b = y.get(items[1], "items").unwrap();
        assert_eq!(y.seq(b).unwrap().len(), 1);
    }

    #[test]
    fn syntax_errors_have_yaml_cpp_words_and_position() {
        let err = parse("this : is : not : yaml", FileId(0)).unwrap_err();
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 1, column 11: illegal map value"
        );
        assert_eq!(err.span.start, 10);
        let err = parse("- list: a\n  items: [a, b\n- list: b\n", FileId(0)).unwrap_err();
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 3, column 7: end of sequence flow not found"
        );
        // Columns count bytes; a byte order mark is not counted, but spans stay file bytes.
        let err = parse("\u{feff}é: : x", FileId(0)).unwrap_err();
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 1, column 5: illegal map value"
        );
        assert_eq!(err.span.start, 7);
        // `\r\n` files count lines at `\n`.
        let err = parse("a: b\r\nc: : d\r\n", FileId(0)).unwrap_err();
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 2, column 4: illegal map value"
        );
    }

    #[test]
    fn documents_end_where_yaml_cpp_stops() {
        // An empty or null document ends the stream (yaml-cpp's `LoadAll`).
        let y = parse0("- a\n---\n---\n- b\n");
        assert_eq!(y.docs.len(), 1);
        // A sequence and then a mapping at the same column are two documents.
        let y = parse0("- a\nb: c\n");
        assert_eq!(y.docs.len(), 2);
        assert!(y.map(y.docs[1]).is_some());
    }

    #[test]
    fn an_open_quote_at_the_end_of_the_stream_is_accepted_after_a_line_break() {
        let y = parse0("- desc: \"b\n  condition: c\n");
        let item = y.seq(y.docs[0]).unwrap()[0];
        assert_eq!(
            y.scalar(y.get(item, "desc").unwrap()),
            Some("b condition: c ")
        );
        let err = parse("- desc: \"b", FileId(0)).unwrap_err();
        assert_eq!(
            err.message,
            "yaml-cpp: error at line 1, column 11: illegal EOF in scalar"
        );
    }

    #[test]
    fn block_scalar_spans_cover_their_content_lines() {
        let text = "a: >\n    folded\n     more\n\nb: |-\n  lit\n";
        let y = parse0(text);
        let a = y.get(y.docs[0], "a").unwrap();
        assert_eq!(y.scalar(a), Some("folded\n more\n"));
        assert_eq!(&text[y.span(a).range()], "folded\n     more\n\n");
        let b = y.get(y.docs[0], "b").unwrap();
        assert_eq!(&text[y.span(b).range()], "lit\n");
    }
}
