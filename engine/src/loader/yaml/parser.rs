//! yaml-cpp's document parser (`SingleDocParser` with its `NodeBuilder`): tokens to a node
//! tree, one document at a time, with yaml-cpp's shapes for what the grammar leaves open (a
//! missing value is a null at the next token, `- a` then `b: c` are two documents).

use super::input::Mark;
use super::scanner::{Scanner, TokenKind};
use super::{Kind, MAX_EXPANDED_NODES, Node, NodeId, ParseError, ScalarStyle, Yaml};
use crate::span::{FileId, Span};
use std::collections::HashMap;

/// yaml-cpp's `DepthGuard<500>` on nested nodes.
const MAX_DEPTH: u32 = 500;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Collection {
    BlockMap,
    BlockSeq,
    FlowMap,
    FlowSeq,
    CompactMap,
}

type Res<T> = Result<T, ParseError>;

/// Parses every document of the stream into `yaml`, stopping (like yaml-cpp's `LoadAll`) at the
/// first document that is empty or null.
pub(super) fn documents(
    scanner: &mut Scanner,
    yaml: &mut Yaml,
    file: FileId,
    base: u32,
) -> Res<()> {
    let mut directives = Directives::default();
    loop {
        directives.read(scanner)?;
        if scanner.empty()? {
            return Ok(());
        }
        let mut doc = DocParser {
            scanner,
            yaml,
            file,
            base,
            anchors: HashMap::new(),
            frames: Vec::new(),
        };
        let root = doc.document()?;
        if matches!(yaml.node(root).kind, Kind::Null) {
            return Ok(());
        }
        yaml.docs.push(root);
    }
}

/// `%YAML` and `%TAG` directives: only their errors matter here.
#[derive(Default)]
struct Directives {
    version_set: bool,
    tags: Vec<String>,
}

impl Directives {
    fn read(&mut self, scanner: &mut Scanner) -> Res<()> {
        let mut read_any = false;
        while !scanner.empty()? {
            let token = scanner.peek()?;
            if token.kind != TokenKind::Directive {
                break;
            }
            // A document's directives replace the previous ones; none keeps them.
            if !read_any {
                *self = Directives::default();
            }
            read_any = true;
            let (mark, name, params) = (token.mark, token.value.clone(), token.params.clone());
            match name.as_str() {
                "YAML" => self.yaml(mark, &params)?,
                "TAG" => self.tag(mark, &params)?,
                _ => {}
            }
            scanner.pop()?;
        }
        Ok(())
    }

    fn yaml(&mut self, mark: Mark, params: &[String]) -> Res<()> {
        let [version] = params else {
            return Err(ParseError::at(
                mark,
                "YAML directives must have exactly one argument",
            ));
        };
        if self.version_set {
            return Err(ParseError::at(mark, "repeated YAML directive"));
        }
        let major = parse_version(version)
            .ok_or_else(|| ParseError::at(mark, format!("bad YAML version: {version}")))?;
        if major > 1 {
            return Err(ParseError::at(mark, "YAML major version too large"));
        }
        self.version_set = true;
        Ok(())
    }

    fn tag(&mut self, mark: Mark, params: &[String]) -> Res<()> {
        let [handle, _prefix] = params else {
            return Err(ParseError::at(
                mark,
                "TAG directives must have exactly two arguments",
            ));
        };
        if self.tags.contains(handle) {
            return Err(ParseError::at(mark, "repeated TAG directive"));
        }
        self.tags.push(handle.clone());
        Ok(())
    }
}

/// `major.minor` read the way yaml-cpp's stream extraction does (`>> major`, skip one
/// character, `>> minor`, then nothing left): the major version.
fn parse_version(s: &str) -> Option<i64> {
    fn int(s: &str) -> Option<(i64, &str)> {
        let digits_start = usize::from(s.starts_with(['+', '-']));
        let len = s[digits_start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return None;
        }
        let value = s[..digits_start + len].parse::<i32>().ok()?;
        Some((i64::from(value), &s[digits_start + len..]))
    }
    let (major, rest) = int(s)?;
    let mut chars = rest.chars();
    chars.next()?;
    let (_minor, rest) = int(chars.as_str())?;
    rest.is_empty().then_some(major)
}

struct DocParser<'s, 'a, 'y> {
    scanner: &'s mut Scanner<'a>,
    yaml: &'y mut Yaml,
    file: FileId,
    /// Bytes before yaml-cpp's position 0 (a byte order mark).
    base: u32,
    anchors: HashMap<String, NodeId>,
    /// The open collections, innermost last: yaml-cpp's recursion, kept on the heap so that
    /// nesting costs no native stack.
    frames: Vec<Frame>,
}

/// An open collection: its node, what it has read so far and where its loop stands.
struct Frame {
    id: NodeId,
    kind: Collection,
    mark: Mark,
    items: Vec<NodeId>,
    entries: Vec<(NodeId, NodeId)>,
    /// A key read, waiting for its value.
    pending_key: Option<NodeId>,
    state: State,
}

/// Where a collection's loop resumes when the node it asked for is done.
#[derive(Clone, Copy)]
enum State {
    /// At the top of the loop (nothing asked for).
    Loop,
    /// Waiting for an item of a sequence.
    Item,
    /// Waiting for a key; `mark` is where a missing value's null goes.
    Key { mark: Mark },
    /// Waiting for the value of `key`.
    Value { key: NodeId },
    /// A map's pair was just completed.
    Paired,
}

/// What a step of the parse leads to.
enum Step {
    /// A node is needed here: parse one and hand it to the innermost collection.
    Node,
    /// A node is done.
    Done(NodeId),
}

impl DocParser<'_, '_, '_> {
    fn span(&self, start: u32, end: u32) -> Span {
        Span::new(self.file, start + self.base, end.max(start) + self.base)
    }

    fn add(&mut self, kind: Kind, span: Span) -> NodeId {
        self.yaml.nodes.push(Node {
            kind,
            span,
            weight: 1,
        });
        (self.yaml.nodes.len() - 1) as NodeId
    }

    fn null(&mut self, mark: Mark) -> NodeId {
        let span = self.span(mark.pos, mark.pos);
        self.add(Kind::Null, span)
    }

    fn document(&mut self) -> Res<NodeId> {
        if self.scanner.peek()?.kind == TokenKind::DocStart {
            self.scanner.pop()?;
        }
        let mut step = Step::Node;
        let root = loop {
            step = match step {
                Step::Node => self.begin_node()?,
                Step::Done(id) => match self.frames.last_mut() {
                    None => break id,
                    Some(frame) => {
                        frame.deliver(id);
                        self.resume()?
                    }
                },
            };
        };
        while !self.scanner.empty()? && self.scanner.peek()?.kind == TokenKind::DocEnd {
            self.scanner.pop()?;
        }
        Ok(root)
    }

    /// yaml-cpp's `HandleNode`: a scalar, alias or null is done at once; a collection opens a
    /// frame and runs its loop.
    fn begin_node(&mut self) -> Res<Step> {
        if self.frames.len() as u32 + 1 >= MAX_DEPTH {
            return Err(ParseError::at(self.scanner.mark(), "bad file"));
        }
        if self.scanner.empty()? {
            return Ok(Step::Done(self.null(self.scanner.mark())));
        }
        let token = self.scanner.peek()?;
        let mark = token.mark;
        // A value with no key before it is a map of its own.
        if token.kind == TokenKind::Value {
            return self.open(mark, None, Collection::CompactMap);
        }
        if token.kind == TokenKind::Alias {
            let name = token.value.clone();
            let Some(&target) = self.anchors.get(&name) else {
                return Err(ParseError::at(
                    mark,
                    format!("the referenced anchor is not defined: {name}"),
                ));
            };
            self.scanner.pop()?;
            let at = self.span(mark.pos, mark.pos);
            self.yaml.aliases.push(at);
            return Ok(Step::Done(target));
        }
        let (tagged, anchor) = self.properties()?;
        if self.scanner.empty()? {
            let id = self.null(mark);
            return Ok(Step::Done(self.anchored(anchor, id)));
        }
        let token = self.scanner.peek()?;
        let kind = token.kind;
        let collection = match kind {
            TokenKind::PlainScalar | TokenKind::NonPlainScalar => {
                let (value, style, start, end) =
                    (token.value.clone(), token.style, token.start, token.end);
                self.scanner.pop()?;
                let id = if kind == TokenKind::PlainScalar && !tagged && is_null_string(&value) {
                    self.null(mark)
                } else {
                    let span = self.span(start, end);
                    self.add(Kind::Scalar { value, style }, span)
                };
                return Ok(Step::Done(self.anchored(anchor, id)));
            }
            TokenKind::FlowSeqStart => Collection::FlowSeq,
            TokenKind::BlockSeqStart => Collection::BlockSeq,
            TokenKind::FlowMapStart => Collection::FlowMap,
            TokenKind::BlockMapStart => Collection::BlockMap,
            // Compact maps (`[a: b]`) only go in a flow sequence.
            TokenKind::Key
                if self
                    .frames
                    .last()
                    .is_some_and(|f| f.kind == Collection::FlowSeq) =>
            {
                Collection::CompactMap
            }
            _ => {
                // Nothing here: a null, or an empty string when tagged.
                let span = self.span(mark.pos, mark.pos);
                let node = if tagged {
                    Kind::Scalar {
                        value: String::new(),
                        style: ScalarStyle::Plain,
                    }
                } else {
                    Kind::Null
                };
                let id = self.add(node, span);
                return Ok(Step::Done(self.anchored(anchor, id)));
            }
        };
        self.open(mark, anchor, collection)
    }

    /// Tags and an anchor before a node: whether it is tagged, and the anchor's name.
    fn properties(&mut self) -> Res<(bool, Option<String>)> {
        let mut tagged = false;
        let mut anchor: Option<String> = None;
        while !self.scanner.empty()? {
            let token = self.scanner.peek()?;
            match token.kind {
                TokenKind::Tag => {
                    if tagged {
                        return Err(ParseError::at(
                            token.mark,
                            "cannot assign multiple tags to the same node",
                        ));
                    }
                    tagged = true;
                }
                TokenKind::Anchor => {
                    if anchor.is_some() {
                        return Err(ParseError::at(
                            token.mark,
                            "cannot assign multiple anchors to the same node",
                        ));
                    }
                    anchor = Some(token.value.clone());
                }
                _ => break,
            }
            self.scanner.pop()?;
        }
        Ok((tagged, anchor))
    }

    fn anchored(&mut self, anchor: Option<String>, id: NodeId) -> NodeId {
        if let Some(name) = anchor {
            self.anchors.insert(name, id);
        }
        id
    }

    /// Opens a sequence or mapping at the current token. Its node exists (and its anchor is
    /// registered) before its content, as in yaml-cpp, so an alias inside may refer to it.
    fn open(&mut self, mark: Mark, anchor: Option<String>, kind: Collection) -> Res<Step> {
        let is_seq = matches!(kind, Collection::BlockSeq | Collection::FlowSeq);
        let span = self.span(mark.pos, mark.pos);
        let id = self.add(
            if is_seq {
                Kind::Seq(Vec::new())
            } else {
                Kind::Map(Vec::new())
            },
            span,
        );
        let id = self.anchored(anchor, id);
        if kind != Collection::CompactMap {
            // The start token (compact maps have none of their own).
            self.scanner.pop()?;
        }
        self.frames.push(Frame {
            id,
            kind,
            mark,
            items: Vec::new(),
            entries: Vec::new(),
            pending_key: None,
            state: State::Loop,
        });
        if kind == Collection::CompactMap {
            return self.compact_start();
        }
        self.resume()
    }

    /// Closes the innermost collection (`end`: the closing bracket's end, for a flow one).
    fn close(&mut self, end: Option<u32>) -> Res<Step> {
        let frame = self.frames.pop().expect("an open collection");
        let children = frame
            .items
            .iter()
            .copied()
            .chain(frame.entries.iter().flat_map(|&(k, v)| [k, v]));
        let mut weight: u64 = 1;
        let mut last_end = frame.mark.pos + self.base;
        for child in children {
            let node = self.yaml.node(child);
            weight = weight.saturating_add(node.weight);
            last_end = last_end.max(node.span.end);
        }
        if weight > MAX_EXPANDED_NODES {
            return Err(ParseError::budget(frame.mark));
        }
        let node = &mut self.yaml.nodes[frame.id as usize];
        node.kind = if matches!(node.kind, Kind::Seq(_)) {
            Kind::Seq(frame.items)
        } else {
            Kind::Map(frame.entries)
        };
        node.span.end = end.map_or(last_end, |e| last_end.max(e + self.base));
        node.weight = weight;
        Ok(Step::Done(frame.id))
    }

    /// The token kind at the front, or an error with `message` at the input when there is none.
    fn expect_more(&mut self, message: &str) -> Res<TokenKind> {
        if self.scanner.empty()? {
            return Err(ParseError::at(self.scanner.mark(), message));
        }
        Ok(self.scanner.peek()?.kind)
    }

    fn frame(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("an open collection")
    }

    /// Asks for a node, to come back in `state`.
    fn want(&mut self, state: State) -> Res<Step> {
        self.frame().state = state;
        Ok(Step::Node)
    }

    /// Runs the innermost collection's loop until it needs a node or is done.
    fn resume(&mut self) -> Res<Step> {
        match self.frame().kind {
            Collection::BlockSeq => self.block_seq(),
            Collection::FlowSeq => self.flow_seq(),
            Collection::BlockMap => self.block_map(),
            Collection::FlowMap => self.flow_map(),
            Collection::CompactMap => self.compact_rest(),
        }
    }

    fn block_seq(&mut self) -> Res<Step> {
        const END: &str = "end of sequence not found";
        loop {
            let kind = self.expect_more(END)?;
            if kind != TokenKind::BlockEntry && kind != TokenKind::BlockSeqEnd {
                return Err(ParseError::at(self.scanner.peek()?.mark, END));
            }
            self.scanner.pop()?;
            if kind == TokenKind::BlockSeqEnd {
                return self.close(None);
            }
            if !self.scanner.empty()? {
                let next = self.scanner.peek()?;
                let (next_kind, next_mark) = (next.kind, next.mark);
                if matches!(next_kind, TokenKind::BlockEntry | TokenKind::BlockSeqEnd) {
                    let null = self.null(next_mark);
                    self.frame().items.push(null);
                    continue;
                }
            }
            return self.want(State::Item);
        }
    }

    fn flow_seq(&mut self) -> Res<Step> {
        const END: &str = "end of sequence flow not found";
        if matches!(self.frame().state, State::Item) {
            // After an item: a separator, or the end.
            match self.expect_more(END)? {
                TokenKind::FlowEntry => self.scanner.pop()?,
                TokenKind::FlowSeqEnd => {}
                _ => return Err(ParseError::at(self.scanner.peek()?.mark, END)),
            }
        }
        if self.expect_more(END)? == TokenKind::FlowSeqEnd {
            let end = self.scanner.peek()?.end;
            self.scanner.pop()?;
            return self.close(Some(end));
        }
        self.want(State::Item)
    }

    /// Where a map stands after a key: asks for its value, or pairs it with a null at `mark`
    /// when no `:` follows. `Ok(None)`: the pair is complete.
    fn after_key(&mut self, key: NodeId, mark: Mark) -> Res<Option<Step>> {
        if !self.scanner.empty()? && self.scanner.peek()?.kind == TokenKind::Value {
            self.scanner.pop()?;
            return self.want(State::Value { key }).map(Some);
        }
        let value = self.null(mark);
        let frame = self.frame();
        frame.entries.push((key, value));
        frame.state = State::Paired;
        Ok(None)
    }

    /// The top of a map's loop at a key (`KEY` token) or not: asks for the key, or goes on
    /// with a null key at `mark`.
    fn start_pair(&mut self, kind: TokenKind, mark: Mark) -> Res<Option<Step>> {
        if kind == TokenKind::Key {
            self.scanner.pop()?;
            return self.want(State::Key { mark }).map(Some);
        }
        let key = self.null(mark);
        self.after_key(key, mark)
    }

    /// After a delivered key, the value it needs (or a null one). `Ok(None)`: no value is
    /// asked for; the loop goes on at the top.
    fn continue_pair(&mut self) -> Res<Option<Step>> {
        let frame = self.frame();
        match (frame.state, frame.pending_key.take()) {
            (State::Key { mark }, Some(key)) => self.after_key(key, mark),
            _ => Ok(None),
        }
    }

    fn block_map(&mut self) -> Res<Step> {
        const END: &str = "end of map not found";
        if let Some(step) = self.continue_pair()? {
            return Ok(step);
        }
        loop {
            let kind = self.expect_more(END)?;
            let mark = self.scanner.peek()?.mark;
            if !matches!(
                kind,
                TokenKind::Key | TokenKind::Value | TokenKind::BlockMapEnd
            ) {
                return Err(ParseError::at(mark, END));
            }
            if kind == TokenKind::BlockMapEnd {
                self.scanner.pop()?;
                return self.close(None);
            }
            if let Some(step) = self.start_pair(kind, mark)? {
                return Ok(step);
            }
        }
    }

    fn flow_map(&mut self) -> Res<Step> {
        const END: &str = "end of map flow not found";
        if let Some(step) = self.continue_pair()? {
            return Ok(step);
        }
        let mut after_pair = matches!(self.frame().state, State::Paired);
        loop {
            if after_pair {
                match self.expect_more(END)? {
                    TokenKind::FlowEntry => self.scanner.pop()?,
                    TokenKind::FlowMapEnd => {}
                    _ => return Err(ParseError::at(self.scanner.peek()?.mark, END)),
                }
            }
            let kind = self.expect_more(END)?;
            let mark = self.scanner.peek()?.mark;
            if kind == TokenKind::FlowMapEnd {
                let end = self.scanner.peek()?.end;
                self.scanner.pop()?;
                return self.close(Some(end));
            }
            if let Some(step) = self.start_pair(kind, mark)? {
                return Ok(step);
            }
            after_pair = true;
        }
    }

    /// A compact map starts at `KEY` (one `key: value` pair in a flow sequence) or at `VALUE`
    /// (`: value`, a null key).
    fn compact_start(&mut self) -> Res<Step> {
        let token = self.scanner.peek()?;
        let (kind, mark) = (token.kind, token.mark);
        if kind == TokenKind::Key {
            return Ok(self.start_pair(kind, mark)?.expect("a key is asked for"));
        }
        let key = self.null(mark);
        self.scanner.pop()?;
        self.want(State::Value { key })
    }

    fn compact_rest(&mut self) -> Res<Step> {
        match self.continue_pair()? {
            Some(step) => Ok(step),
            None => self.close(None),
        }
    }
}

impl Frame {
    /// Takes a finished node: an item, a key (kept until its value is read) or a value.
    fn deliver(&mut self, id: NodeId) {
        match self.state {
            State::Loop | State::Paired => {}
            State::Item => self.items.push(id),
            State::Key { .. } => self.pending_key = Some(id),
            State::Value { key } => {
                self.entries.push((key, id));
                self.state = State::Paired;
            }
        }
    }
}

/// yaml-cpp's `IsNullString`: what a plain, untagged scalar spells as null.
fn is_null_string(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}
