//! The character stream under yaml-cpp's scanner: bytes with yaml-cpp's marks, and the small
//! fixed patterns (yaml-cpp's `Exp` regexes) the scanner tests at the cursor.
//!
//! yaml-cpp reads the text as bytes and ends the stream at its end-of-stream character (0x04);
//! past the end every byte reads as that character. Its column counts bytes, and the line ending
//! is fixed by the first one seen (`\n`, `\r\n` or `\r`).

/// yaml-cpp's end-of-stream character: what reads past the end.
pub(super) const EOF: u8 = 0x04;

/// A yaml-cpp `Mark`: 0-based byte position (after a byte order mark), line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Mark {
    pub pos: u32,
    pub line: u32,
    pub column: u32,
}

pub(super) struct Input<'a> {
    bytes: &'a [u8],
    mark: Mark,
    /// The line ending symbol, once known (`\n` for `\n` and `\r\n` files, `\r` for `\r` ones).
    line_end: Option<u8>,
}

impl<'a> Input<'a> {
    /// `bytes` without a UTF-8 byte order mark, which yaml-cpp consumes before counting.
    pub fn new(bytes: &'a [u8]) -> Self {
        let end = bytes.iter().position(|&b| b == EOF).unwrap_or(bytes.len());
        Input {
            bytes: &bytes[..end],
            mark: Mark::default(),
            line_end: None,
        }
    }

    pub fn mark(&self) -> Mark {
        self.mark
    }

    pub fn pos(&self) -> u32 {
        self.mark.pos
    }

    pub fn column(&self) -> u32 {
        self.mark.column
    }

    pub fn line(&self) -> u32 {
        self.mark.line
    }

    /// yaml-cpp's `operator bool`: there is a character at the cursor.
    pub fn more(&self) -> bool {
        (self.mark.pos as usize) < self.bytes.len()
    }

    /// The byte `i` ahead of the cursor.
    pub fn at(&self, i: usize) -> u8 {
        self.bytes
            .get(self.mark.pos as usize + i)
            .copied()
            .unwrap_or(EOF)
    }

    pub fn peek(&self) -> u8 {
        self.at(0)
    }

    pub fn get(&mut self) -> u8 {
        let ch = self.peek();
        self.mark.pos += 1;
        self.mark.column += 1;
        if self.line_end.is_none() {
            if ch == b'\n' {
                self.line_end = Some(b'\n');
            } else if ch == b'\r' {
                self.line_end = Some(if self.peek() == b'\n' { b'\n' } else { b'\r' });
            }
        }
        if Some(ch) == self.line_end {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        ch
    }

    pub fn eat(&mut self, n: usize) {
        for _ in 0..n {
            self.get();
        }
    }

    pub fn reset_column(&mut self) {
        self.mark.column = 0;
    }

    // yaml-cpp's patterns, each at `i` bytes ahead: the length matched, or `None`.

    pub fn blank(&self, i: usize) -> Option<usize> {
        matches!(self.at(i), b' ' | b'\t').then_some(1)
    }

    pub fn brk(&self, i: usize) -> Option<usize> {
        match (self.at(i), self.at(i + 1)) {
            (b'\n', _) => Some(1),
            (b'\r', b'\n') => Some(2),
            (b'\r', _) => Some(1),
            _ => None,
        }
    }

    pub fn blank_or_break(&self, i: usize) -> Option<usize> {
        self.blank(i).or_else(|| self.brk(i))
    }

    /// yaml-cpp's empty pattern, which matches only at the end of the stream.
    fn end(&self, i: usize) -> Option<usize> {
        (self.at(i) == EOF).then_some(0)
    }

    /// `c` followed by a blank, a break or the end.
    fn followed_by_space(&self, c: u8) -> bool {
        self.peek() == c && (self.blank_or_break(1).is_some() || self.end(1).is_some())
    }

    pub fn is_break(&self) -> bool {
        self.brk(0).is_some()
    }

    pub fn is_blank(&self) -> bool {
        self.blank(0).is_some()
    }

    pub fn is_blank_or_break(&self) -> bool {
        self.blank_or_break(0).is_some()
    }

    pub fn is_comment(&self) -> bool {
        self.peek() == b'#'
    }

    pub fn doc_start(&self) -> bool {
        self.bytes_ahead(b"---") && (self.blank_or_break(3).is_some() || self.end(3).is_some())
    }

    pub fn doc_end(&self) -> bool {
        self.bytes_ahead(b"...") && (self.blank_or_break(3).is_some() || self.end(3).is_some())
    }

    fn bytes_ahead(&self, s: &[u8]) -> bool {
        s.iter().enumerate().all(|(i, &c)| self.at(i) == c)
    }

    pub fn block_entry(&self) -> bool {
        self.followed_by_space(b'-')
    }

    /// `?` followed by a blank or a break (the same in flow).
    pub fn key(&self) -> bool {
        self.peek() == b'?' && self.blank_or_break(1).is_some()
    }

    pub fn value(&self) -> bool {
        self.followed_by_space(b':')
    }

    pub fn value_in_flow(&self) -> bool {
        self.peek() == b':'
            && (self.blank_or_break(1).is_some() || matches!(self.at(1), b',' | b']' | b'}'))
    }

    /// A character that can be part of an anchor or alias name.
    pub fn anchor_char(&self) -> bool {
        !matches!(self.peek(), b'[' | b']' | b'{' | b'}' | b',') && !self.is_blank_or_break()
    }

    pub fn anchor_end(&self) -> bool {
        matches!(
            self.peek(),
            b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`'
        ) || self.is_blank_or_break()
    }

    /// A plain scalar can start here (block context).
    pub fn plain_scalar(&self) -> bool {
        !(self.is_blank_or_break()
            || b",[]{}#&*!|>'\"%@`".contains(&self.peek())
            || (matches!(self.peek(), b'-' | b'?' | b':')
                && (self.blank_or_break(1).is_some() || self.end(1).is_some())))
    }

    /// A plain scalar can start here (flow context).
    pub fn plain_scalar_in_flow(&self) -> bool {
        !(self.is_blank_or_break()
            || b"?,[]{}#&*!|>'\"%@`".contains(&self.peek())
            || (matches!(self.peek(), b'-' | b':')
                && (self.blank(1).is_some() || self.end(1).is_some())))
    }

    /// What ends a plain scalar (block context): `: ` or ` #`.
    pub fn plain_end(&self) -> bool {
        self.value()
            || (self.is_blank_or_break() && self.at(self.blank_or_break(0).unwrap_or(0)) == b'#')
    }

    /// What ends a plain scalar in a flow collection.
    pub fn plain_end_in_flow(&self) -> bool {
        let colon = self.peek() == b':'
            && (self.blank_or_break(1).is_some()
                || self.end(1).is_some()
                || matches!(self.at(1), b',' | b']' | b'}'));
        colon
            || matches!(self.peek(), b',' | b'?' | b'[' | b']' | b'{' | b'}')
            || (self.is_blank_or_break() && self.at(self.blank_or_break(0).unwrap_or(0)) == b'#')
    }

    /// `\` followed by a line break.
    pub fn escaped_break(&self) -> bool {
        self.peek() == b'\\' && self.brk(1).is_some()
    }

    /// A block scalar header's chomping and indentation indicators: how many bytes.
    pub fn chomp(&self) -> usize {
        let ind = |i: usize| matches!(self.at(i), b'+' | b'-');
        let digit = |i: usize| self.at(i).is_ascii_digit();
        if (ind(0) && digit(1)) || (digit(0) && ind(1)) {
            2
        } else if ind(0) || digit(0) {
            1
        } else {
            0
        }
    }

    fn word(&self, i: usize) -> bool {
        self.at(i).is_ascii_alphanumeric() || self.at(i) == b'-'
    }

    fn percent_escape(&self) -> bool {
        self.peek() == b'%' && self.at(1).is_ascii_hexdigit() && self.at(2).is_ascii_hexdigit()
    }

    /// Length of a word character at the cursor (letters, digits, `-`).
    pub fn word_len(&self) -> Option<usize> {
        self.word(0).then_some(1)
    }

    /// Length of a tag character at the cursor.
    pub fn tag_len(&self) -> Option<usize> {
        if self.word(0) || b"#;/?:@&=+$_.~*'()".contains(&self.peek()) {
            Some(1)
        } else {
            self.percent_escape().then_some(3)
        }
    }

    /// Length of a URI character at the cursor (verbatim tags).
    pub fn uri_len(&self) -> Option<usize> {
        if self.word(0) || b"#;/?:@&=+$,_.!~*'()[]".contains(&self.peek()) {
            Some(1)
        } else {
            self.percent_escape().then_some(3)
        }
    }
}
