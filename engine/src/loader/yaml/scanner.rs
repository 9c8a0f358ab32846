//! yaml-cpp's scanner: characters to tokens, with its indentation stack, simple keys (a `KEY`
//! token is queued unverified and confirmed or dropped when its `:` shows up, or not, on the
//! same line) and flow levels. Tokens are produced lazily, as the parser asks for them, so an
//! error is only met when parsing gets there, as in yaml-cpp.

use super::input::{Input, Mark};
use super::scalar::{self, Chomp, End, Fold, Params};
use super::{ParseError, ScalarStyle};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Directive,
    DocStart,
    DocEnd,
    BlockSeqStart,
    BlockMapStart,
    BlockSeqEnd,
    BlockMapEnd,
    BlockEntry,
    FlowSeqStart,
    FlowMapStart,
    FlowSeqEnd,
    FlowMapEnd,
    FlowEntry,
    Key,
    Value,
    Anchor,
    Alias,
    Tag,
    PlainScalar,
    NonPlainScalar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Valid,
    Invalid,
    Unverified,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub kind: TokenKind,
    status: Status,
    pub mark: Mark,
    pub value: String,
    pub params: Vec<String>,
    /// For scalars: how it was written, and the byte range of its content.
    pub style: ScalarStyle,
    pub start: u32,
    pub end: u32,
}

impl Token {
    fn new(kind: TokenKind, mark: Mark) -> Token {
        Token {
            kind,
            status: Status::Valid,
            mark,
            value: String::new(),
            params: Vec::new(),
            style: ScalarStyle::Plain,
            start: mark.pos,
            end: mark.pos,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IndentKind {
    Map,
    Seq,
    None,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IndentStatus {
    Valid,
    Invalid,
    Unknown,
}

struct Indent {
    column: i64,
    kind: IndentKind,
    status: IndentStatus,
    start_token: Option<usize>,
}

#[derive(Clone, Copy)]
struct SimpleKey {
    mark: Mark,
    flow_level: usize,
    indent: Option<usize>,
    map_start: Option<usize>,
    key: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Map,
    Seq,
}

pub(super) struct Scanner<'a> {
    input: Input<'a>,
    tokens: VecDeque<Token>,
    /// Id (count of tokens ever queued before it) of the token at the front of the queue.
    front_id: usize,
    started: bool,
    ended: bool,
    simple_key_allowed: bool,
    scalar_value_allowed: bool,
    can_be_json_flow: bool,
    simple_keys: Vec<SimpleKey>,
    /// Every indent ever pushed (markers refer to them by index), and the stack of indents.
    indent_refs: Vec<Indent>,
    indents: Vec<usize>,
    flows: Vec<Flow>,
}

type Res<T> = Result<T, ParseError>;

impl<'a> Scanner<'a> {
    pub fn new(input: Input<'a>) -> Self {
        Scanner {
            input,
            tokens: VecDeque::new(),
            front_id: 0,
            started: false,
            ended: false,
            simple_key_allowed: false,
            scalar_value_allowed: false,
            can_be_json_flow: false,
            simple_keys: Vec::new(),
            indent_refs: Vec::new(),
            indents: Vec::new(),
            flows: Vec::new(),
        }
    }

    pub fn empty(&mut self) -> Res<bool> {
        self.ensure_tokens()?;
        Ok(self.tokens.is_empty())
    }

    /// The next token; call only when not [`Scanner::empty`].
    pub fn peek(&mut self) -> Res<&Token> {
        self.ensure_tokens()?;
        Ok(self
            .tokens
            .front()
            .expect("peek after empty() returned false"))
    }

    pub fn pop(&mut self) -> Res<()> {
        self.ensure_tokens()?;
        if self.tokens.pop_front().is_some() {
            self.front_id += 1;
        }
        Ok(())
    }

    pub fn mark(&self) -> Mark {
        self.input.mark()
    }

    fn ensure_tokens(&mut self) -> Res<()> {
        loop {
            if let Some(front) = self.tokens.front() {
                match front.status {
                    Status::Valid => return Ok(()),
                    Status::Invalid => {
                        self.tokens.pop_front();
                        self.front_id += 1;
                        continue;
                    }
                    // Unverified: scan on until it is decided (or the stream ends).
                    Status::Unverified => {}
                }
            }
            if self.ended {
                return Ok(());
            }
            self.scan_next_token()?;
        }
    }

    fn push(&mut self, token: Token) -> usize {
        self.tokens.push_back(token);
        self.front_id + self.tokens.len() - 1
    }

    fn push_kind(&mut self, kind: TokenKind) -> usize {
        let mark = self.input.mark();
        self.push(Token::new(kind, mark))
    }

    fn token_mut(&mut self, id: usize) -> Option<&mut Token> {
        id.checked_sub(self.front_id)
            .and_then(|i| self.tokens.get_mut(i))
    }

    fn in_flow(&self) -> bool {
        !self.flows.is_empty()
    }

    fn scan_next_token(&mut self) -> Res<()> {
        if self.ended {
            return Ok(());
        }
        if !self.started {
            self.start_stream();
            return Ok(());
        }
        self.scan_to_next_token();
        self.pop_indent_to_here();
        let input = &self.input;
        if !input.more() {
            self.end_stream();
            return Ok(());
        }
        let c = input.peek();
        if input.column() == 0 && c == b'%' {
            self.scan_directive();
            return Ok(());
        }
        if input.column() == 0 && input.doc_start() {
            self.scan_doc_marker(TokenKind::DocStart);
            return Ok(());
        }
        if input.column() == 0 && input.doc_end() {
            self.scan_doc_marker(TokenKind::DocEnd);
            return Ok(());
        }
        if c == b'[' || c == b'{' {
            self.scan_flow_start();
            return Ok(());
        }
        if c == b']' || c == b'}' {
            return self.scan_flow_end();
        }
        if c == b',' {
            // `,foo` and `"foo",` outside a flow are errors.
            if input.column() == 0 {
                return Err(ParseError::at(
                    input.mark(),
                    "plain value cannot start with flow indicator character",
                ));
            }
            if !self.scalar_value_allowed {
                return Err(ParseError::at(input.mark(), "unexpected scalar"));
            }
            self.scan_flow_entry();
            return Ok(());
        }
        if input.block_entry() {
            return self.scan_block_entry();
        }
        if input.key() {
            return self.scan_key();
        }
        let value = if !self.in_flow() {
            input.value()
        } else if self.can_be_json_flow {
            c == b':'
        } else {
            input.value_in_flow()
        };
        if value {
            return self.scan_value();
        }
        if c == b'*' || c == b'&' {
            return self.scan_anchor_or_alias();
        }
        if c == b'!' {
            return self.scan_tag();
        }
        if !self.in_flow() && (c == b'|' || c == b'>') {
            return self.scan_block_scalar();
        }
        if !self.scalar_value_allowed {
            return Err(ParseError::at(input.mark(), "unexpected scalar"));
        }
        if c == b'\'' || c == b'"' {
            return self.scan_quoted_scalar();
        }
        let plain = if self.in_flow() {
            input.plain_scalar_in_flow()
        } else {
            input.plain_scalar()
        };
        if plain {
            return self.scan_plain_scalar();
        }
        Err(ParseError::at(input.mark(), "unknown token"))
    }

    fn scan_to_next_token(&mut self) {
        loop {
            while self.input.more() && self.input.is_blank() {
                if !self.in_flow() && self.input.peek() == b'\t' {
                    self.simple_key_allowed = false;
                }
                self.input.eat(1);
            }
            if self.input.is_comment() {
                while self.input.more() && !self.input.is_break() {
                    self.input.eat(1);
                }
            }
            let Some(n) = self.input.brk(0) else { break };
            self.input.eat(n);
            self.invalidate_simple_key();
            self.scalar_value_allowed = true;
            if !self.in_flow() {
                self.simple_key_allowed = true;
            }
        }
    }

    fn start_stream(&mut self) {
        self.started = true;
        self.simple_key_allowed = true;
        self.scalar_value_allowed = true;
        self.indent_refs.push(Indent {
            column: -1,
            kind: IndentKind::None,
            status: IndentStatus::Valid,
            start_token: None,
        });
        self.indents.push(0);
    }

    fn end_stream(&mut self) {
        if self.input.column() > 0 {
            self.input.reset_column();
        }
        self.pop_all_indents();
        self.simple_keys.clear();
        self.simple_key_allowed = false;
        self.scalar_value_allowed = false;
        self.ended = true;
    }

    fn top_indent(&self) -> i64 {
        self.indents
            .last()
            .map_or(0, |&i| self.indent_refs[i].column)
    }

    /// Opens a block collection at `column` when that is deeper than the current one (or a
    /// sequence at a mapping's column); returns the new indent.
    fn push_indent_to(&mut self, column: u32, kind: IndentKind) -> Option<usize> {
        if self.in_flow() {
            return None;
        }
        let column = i64::from(column);
        let last = &self.indent_refs[*self.indents.last()?];
        if column < last.column
            || (column == last.column && !(kind == IndentKind::Seq && last.kind == IndentKind::Map))
        {
            return None;
        }
        let start = self.push_kind(if kind == IndentKind::Seq {
            TokenKind::BlockSeqStart
        } else {
            TokenKind::BlockMapStart
        });
        self.indent_refs.push(Indent {
            column,
            kind,
            status: IndentStatus::Valid,
            start_token: Some(start),
        });
        self.indents.push(self.indent_refs.len() - 1);
        Some(self.indent_refs.len() - 1)
    }

    fn pop_indent_to_here(&mut self) {
        if self.in_flow() {
            return;
        }
        while let Some(&top) = self.indents.last() {
            let indent = &self.indent_refs[top];
            let column = i64::from(self.input.column());
            if indent.column < column {
                break;
            }
            // At the same column only a sequence ends, and not at another `- ` entry.
            if indent.column == column
                && (indent.kind != IndentKind::Seq || self.input.block_entry())
            {
                break;
            }
            self.pop_indent();
        }
        while self
            .indents
            .last()
            .is_some_and(|&i| self.indent_refs[i].status == IndentStatus::Invalid)
        {
            self.pop_indent();
        }
    }

    fn pop_all_indents(&mut self) {
        if self.in_flow() {
            return;
        }
        while let Some(&top) = self.indents.last() {
            if self.indent_refs[top].kind == IndentKind::None {
                break;
            }
            self.pop_indent();
        }
    }

    fn pop_indent(&mut self) {
        let Some(top) = self.indents.pop() else {
            return;
        };
        let indent = &self.indent_refs[top];
        if indent.status != IndentStatus::Valid {
            self.invalidate_simple_key();
            return;
        }
        match indent.kind {
            IndentKind::Seq => {
                self.push_kind(TokenKind::BlockSeqEnd);
            }
            IndentKind::Map => {
                self.push_kind(TokenKind::BlockMapEnd);
            }
            IndentKind::None => {}
        }
    }

    // Simple keys.

    fn insert_potential_simple_key(&mut self) {
        if !self.simple_key_allowed
            || self
                .simple_keys
                .last()
                .is_some_and(|k| k.flow_level == self.flows.len())
        {
            return;
        }
        let mut key = SimpleKey {
            mark: self.input.mark(),
            flow_level: self.flows.len(),
            indent: None,
            map_start: None,
            key: None,
        };
        if !self.in_flow() {
            key.indent = self.push_indent_to(self.input.column(), IndentKind::Map);
            if let Some(i) = key.indent {
                self.indent_refs[i].status = IndentStatus::Unknown;
                key.map_start = self.indent_refs[i].start_token;
                if let Some(t) = key.map_start.and_then(|id| self.token_mut(id)) {
                    t.status = Status::Unverified;
                }
            }
        }
        let mut token = Token::new(TokenKind::Key, self.input.mark());
        token.status = Status::Unverified;
        key.key = Some(self.push(token));
        self.simple_keys.push(key);
    }

    fn set_key_status(&mut self, key: SimpleKey, valid: bool) {
        let (indent_status, token_status) = if valid {
            (IndentStatus::Valid, Status::Valid)
        } else {
            (IndentStatus::Invalid, Status::Invalid)
        };
        if let Some(i) = key.indent {
            self.indent_refs[i].status = indent_status;
        }
        for id in [key.map_start, key.key].into_iter().flatten() {
            if let Some(t) = self.token_mut(id) {
                t.status = token_status;
            }
        }
    }

    fn invalidate_simple_key(&mut self) {
        if let Some(&key) = self.simple_keys.last()
            && key.flow_level == self.flows.len()
        {
            self.set_key_status(key, false);
            self.simple_keys.pop();
        }
    }

    /// Confirms (or drops) the latest simple key when a `:` follows it: it must be on the same
    /// line and at most 1024 bytes back.
    fn verify_simple_key(&mut self) -> bool {
        let Some(&key) = self.simple_keys.last() else {
            return false;
        };
        if key.flow_level != self.flows.len() {
            return false;
        }
        self.simple_keys.pop();
        let valid = self.input.line() == key.mark.line && self.input.pos() - key.mark.pos <= 1024;
        self.set_key_status(key, valid);
        valid
    }

    // Tokens.

    fn scan_directive(&mut self) {
        self.pop_all_indents();
        self.simple_keys.clear();
        self.simple_key_allowed = false;
        self.can_be_json_flow = false;
        let mut token = Token::new(TokenKind::Directive, self.input.mark());
        self.input.eat(1);
        let mut name = Vec::new();
        while self.input.more() && !self.input.is_blank_or_break() {
            name.push(self.input.get());
        }
        token.value = String::from_utf8_lossy(&name).into_owned();
        loop {
            while self.input.is_blank() {
                self.input.eat(1);
            }
            if !self.input.more() || self.input.is_break() || self.input.is_comment() {
                break;
            }
            let mut param = Vec::new();
            while self.input.more() && !self.input.is_blank_or_break() {
                param.push(self.input.get());
            }
            token
                .params
                .push(String::from_utf8_lossy(&param).into_owned());
        }
        self.push(token);
    }

    fn scan_doc_marker(&mut self, kind: TokenKind) {
        self.pop_all_indents();
        self.simple_keys.clear();
        self.simple_key_allowed = false;
        self.can_be_json_flow = false;
        let mark = self.input.mark();
        self.input.eat(3);
        self.push(Token::new(kind, mark));
    }

    fn scan_flow_start(&mut self) {
        self.insert_potential_simple_key();
        self.simple_key_allowed = true;
        self.can_be_json_flow = false;
        let mark = self.input.mark();
        let seq = self.input.get() == b'[';
        self.flows.push(if seq { Flow::Seq } else { Flow::Map });
        self.push(Token::new(
            if seq {
                TokenKind::FlowSeqStart
            } else {
                TokenKind::FlowMapStart
            },
            mark,
        ));
    }

    /// A solo entry in a flow: in a map, a pending simple key gets its `VALUE`.
    fn close_flow_entry(&mut self) {
        match self.flows.last().copied() {
            Some(Flow::Map) if self.verify_simple_key() => {
                self.push_kind(TokenKind::Value);
            }
            Some(Flow::Seq) => self.invalidate_simple_key(),
            _ => {}
        }
    }

    fn scan_flow_end(&mut self) -> Res<()> {
        if !self.in_flow() {
            return Err(ParseError::at(self.input.mark(), "illegal flow end"));
        }
        self.close_flow_entry();
        self.simple_key_allowed = false;
        self.can_be_json_flow = true;
        let mark = self.input.mark();
        let seq = self.input.get() == b']';
        let kind = if seq { Flow::Seq } else { Flow::Map };
        if self.flows.last() != Some(&kind) {
            return Err(ParseError::at(mark, "illegal flow end"));
        }
        self.flows.pop();
        let mut token = Token::new(
            if seq {
                TokenKind::FlowSeqEnd
            } else {
                TokenKind::FlowMapEnd
            },
            mark,
        );
        token.end = self.input.pos();
        self.push(token);
        Ok(())
    }

    fn scan_flow_entry(&mut self) {
        self.close_flow_entry();
        self.simple_key_allowed = true;
        self.can_be_json_flow = false;
        self.push_indicator(TokenKind::FlowEntry);
    }

    /// Queues a token for the one-character indicator at the cursor, and eats it.
    fn push_indicator(&mut self, kind: TokenKind) {
        let mark = self.input.mark();
        self.input.eat(1);
        self.push(Token::new(kind, mark));
    }

    /// A `?` or a `:` without a simple key before it: in block context it may open a mapping
    /// here, where a simple key is allowed (`message` otherwise).
    fn explicit_map_indicator(&mut self, message: &str) -> Res<()> {
        if !self.in_flow() {
            if !self.simple_key_allowed {
                return Err(ParseError::at(self.input.mark(), message));
            }
            self.push_indent_to(self.input.column(), IndentKind::Map);
        }
        self.simple_key_allowed = !self.in_flow();
        Ok(())
    }

    fn scan_block_entry(&mut self) -> Res<()> {
        if self.in_flow() || !self.simple_key_allowed {
            return Err(ParseError::at(self.input.mark(), "illegal block entry"));
        }
        self.push_indent_to(self.input.column(), IndentKind::Seq);
        self.simple_key_allowed = true;
        self.can_be_json_flow = false;
        self.push_indicator(TokenKind::BlockEntry);
        Ok(())
    }

    fn scan_key(&mut self) -> Res<()> {
        self.explicit_map_indicator("illegal map key")?;
        self.push_indicator(TokenKind::Key);
        Ok(())
    }

    fn scan_value(&mut self) -> Res<()> {
        let simple = self.verify_simple_key();
        self.can_be_json_flow = false;
        if simple {
            self.simple_key_allowed = false;
        } else {
            self.explicit_map_indicator("illegal map value")?;
        }
        self.scalar_value_allowed = true;
        self.push_indicator(TokenKind::Value);
        Ok(())
    }

    fn scan_anchor_or_alias(&mut self) -> Res<()> {
        self.insert_potential_simple_key();
        self.simple_key_allowed = false;
        self.can_be_json_flow = false;
        let mark = self.input.mark();
        let alias = self.input.get() == b'*';
        let mut name = Vec::new();
        while self.input.more() && self.input.anchor_char() {
            name.push(self.input.get());
        }
        let what = if alias { "alias" } else { "anchor" };
        if name.is_empty() {
            let sign = if alias { '*' } else { '&' };
            return Err(ParseError::at(
                self.input.mark(),
                format!("{what} not found after {sign}"),
            ));
        }
        if self.input.more() && !self.input.anchor_end() {
            return Err(ParseError::at(
                self.input.mark(),
                format!("illegal character found while scanning {what}"),
            ));
        }
        let mut token = Token::new(
            if alias {
                TokenKind::Alias
            } else {
                TokenKind::Anchor
            },
            mark,
        );
        token.value = String::from_utf8_lossy(&name).into_owned();
        token.end = self.input.pos();
        self.push(token);
        Ok(())
    }

    /// A tag: only whether there is one matters to the tree (a tagged `null` is a string), but
    /// its syntax errors are yaml-cpp's.
    fn scan_tag(&mut self) -> Res<()> {
        self.insert_potential_simple_key();
        self.simple_key_allowed = false;
        self.can_be_json_flow = false;
        let mut token = Token::new(TokenKind::Tag, self.input.mark());
        self.input.get();
        if self.input.more() && self.input.peek() == b'<' {
            self.input.get();
            loop {
                if !self.input.more() {
                    return Err(ParseError::at(
                        self.input.mark(),
                        "end of verbatim tag not found",
                    ));
                }
                if self.input.peek() == b'>' {
                    self.input.get();
                    break;
                }
                match self.input.uri_len() {
                    Some(n) => self.input.eat(n),
                    None => {
                        return Err(ParseError::at(
                            self.input.mark(),
                            "end of verbatim tag not found",
                        ));
                    }
                }
            }
        } else {
            let mut can_be_handle = true;
            let mut first_non_word = Mark::default();
            while self.input.more() {
                if self.input.peek() == b'!' {
                    if !can_be_handle {
                        return Err(ParseError::at(
                            first_non_word,
                            "illegal character found while scanning tag handle",
                        ));
                    }
                    break;
                }
                let mut n = None;
                if can_be_handle {
                    n = self.input.word_len();
                    if n.is_none() {
                        can_be_handle = false;
                        first_non_word = self.input.mark();
                    }
                }
                if !can_be_handle {
                    n = self.input.tag_len();
                }
                let Some(n) = n else { break };
                self.input.eat(n);
            }
            if can_be_handle && self.input.peek() == b'!' {
                self.input.get();
                let mut suffix = 0;
                while self.input.more() {
                    let Some(n) = self.input.tag_len() else { break };
                    self.input.eat(n);
                    suffix += n;
                }
                if suffix == 0 {
                    return Err(ParseError::at(
                        self.input.mark(),
                        "tag handle with no suffix",
                    ));
                }
            }
        }
        token.end = self.input.pos();
        self.push(token);
        Ok(())
    }

    fn scan_plain_scalar(&mut self) -> Res<()> {
        let in_flow = self.in_flow();
        let mut params = Params {
            end: if in_flow {
                End::PlainInFlow
            } else {
                End::Plain
            },
            eat_end: false,
            indent: if in_flow {
                0
            } else {
                (self.top_indent() + 1) as u32
            },
            detect_indent: false,
            eat_leading_whitespace: true,
            escape: 0,
            fold: Fold::Flow,
            trim_trailing_spaces: true,
            chomp: Chomp::Strip,
            on_doc_indicator: Some(true),
            throw_on_tab_in_indentation: true,
        };
        self.insert_potential_simple_key();
        let mark = self.input.mark();
        let scanned = scalar::scan(&mut self.input, &mut params)?;
        self.simple_key_allowed = scanned.leading_spaces;
        self.can_be_json_flow = false;
        let mut token = Token::new(TokenKind::PlainScalar, mark);
        token.end = scanned.last.unwrap_or(mark.pos);
        token.value = scanned.value;
        self.push(token);
        Ok(())
    }

    fn scan_quoted_scalar(&mut self) -> Res<()> {
        let single = self.input.peek() == b'\'';
        let mut params = Params {
            end: if single {
                End::SingleQuote
            } else {
                End::DoubleQuote
            },
            eat_end: true,
            indent: 0,
            detect_indent: false,
            eat_leading_whitespace: true,
            escape: if single { b'\'' } else { b'\\' },
            fold: Fold::Flow,
            trim_trailing_spaces: false,
            chomp: Chomp::Clip,
            on_doc_indicator: Some(false),
            throw_on_tab_in_indentation: false,
        };
        self.insert_potential_simple_key();
        let mark = self.input.mark();
        self.input.get();
        let scanned = scalar::scan(&mut self.input, &mut params)?;
        self.simple_key_allowed = false;
        // Another scalar may follow on this line only inside a flow (`[ "a", "b" ]`).
        self.scalar_value_allowed = self.in_flow();
        self.can_be_json_flow = true;
        let mut token = Token::new(TokenKind::NonPlainScalar, mark);
        token.style = if single {
            ScalarStyle::SingleQuoted
        } else {
            ScalarStyle::DoubleQuoted
        };
        token.end = self.input.pos();
        token.value = scanned.value;
        self.push(token);
        Ok(())
    }

    fn scan_block_scalar(&mut self) -> Res<()> {
        let mark = self.input.mark();
        let folded = self.input.get() == b'>';
        let mut params = Params {
            end: End::Stream,
            eat_end: false,
            indent: 1,
            detect_indent: true,
            eat_leading_whitespace: false,
            escape: 0,
            fold: if folded { Fold::Block } else { Fold::Literal },
            trim_trailing_spaces: false,
            chomp: Chomp::Clip,
            on_doc_indicator: None,
            throw_on_tab_in_indentation: true,
        };
        for _ in 0..self.input.chomp() {
            match self.input.get() {
                b'+' => params.chomp = Chomp::Keep,
                b'-' => params.chomp = Chomp::Strip,
                b'0' => {
                    return Err(ParseError::at(
                        self.input.mark(),
                        "cannot set zero indentation for a block scalar",
                    ));
                }
                d => {
                    params.indent = u32::from(d - b'0');
                    params.detect_indent = false;
                }
            }
        }
        while self.input.is_blank() {
            self.input.eat(1);
        }
        if self.input.is_comment() {
            while self.input.more() && !self.input.is_break() {
                self.input.eat(1);
            }
        }
        if self.input.more() && !self.input.is_break() {
            return Err(ParseError::at(
                self.input.mark(),
                "unexpected character in block scalar",
            ));
        }
        let top = self.top_indent();
        if top >= 0 {
            params.indent += top as u32;
        }
        let scanned = scalar::scan(&mut self.input, &mut params)?;
        self.simple_key_allowed = true;
        self.can_be_json_flow = false;
        let mut token = Token::new(TokenKind::NonPlainScalar, mark);
        token.style = if folded {
            ScalarStyle::Folded
        } else {
            ScalarStyle::Literal
        };
        // The span covers the content lines, from the first content byte.
        let end = if scanned.leading_spaces {
            scanned.last_break
        } else {
            Some(self.input.pos())
        };
        token.end = end.unwrap_or(self.input.pos());
        token.start = scanned.first.unwrap_or(token.end).min(token.end);
        token.value = scanned.value;
        self.push(token);
        Ok(())
    }
}
