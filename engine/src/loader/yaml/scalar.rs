//! Scalar scanning as yaml-cpp does it (`ScanScalar`): one loop for plain, quoted and block
//! scalars, steered by parameters, with yaml-cpp's folding, chomping and escapes (including its
//! quirks: a quoted scalar left open at the end of the stream after a line break is accepted).

use super::ParseError;
use super::input::{Input, Mark};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Chomp {
    Strip,
    Clip,
    Keep,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fold {
    /// Line breaks kept (`|`).
    Literal,
    Block,
    Flow,
}

/// What ends the scalar (besides indentation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Plain,
    PlainInFlow,
    DoubleQuote,
    SingleQuote,
    /// yaml-cpp's empty pattern: only the end of the stream.
    Stream,
}

impl End {
    /// The length of the end pattern at the cursor.
    fn matches(self, input: &Input) -> Option<usize> {
        let hit = match self {
            End::Plain => input.plain_end(),
            End::PlainInFlow => input.plain_end_in_flow(),
            End::DoubleQuote => input.peek() == b'"',
            End::SingleQuote => input.peek() == b'\'' && input.at(1) != b'\'',
            End::Stream => return (input.peek() == super::input::EOF).then_some(0),
        };
        // Only the quotes are eaten; the plain patterns are tested, never consumed.
        hit.then_some(1)
    }
}

pub(super) struct Params {
    pub end: End,
    pub eat_end: bool,
    pub indent: u32,
    pub detect_indent: bool,
    pub eat_leading_whitespace: bool,
    /// The escape character; 0 when there is none (yaml-cpp still compares with it).
    pub escape: u8,
    pub fold: Fold,
    pub trim_trailing_spaces: bool,
    pub chomp: Chomp,
    /// What a document indicator at column 0 does: `Some(true)` ends the scalar, `Some(false)`
    /// is an error, `None` nothing.
    pub on_doc_indicator: Option<bool>,
    pub throw_on_tab_in_indentation: bool,
}

/// A scanned scalar and where its content lies.
pub(super) struct Scanned {
    pub value: String,
    /// Set when the scalar ended by indentation on a new line (a simple key may follow).
    pub leading_spaces: bool,
    /// Position of the first content byte, if any.
    pub first: Option<u32>,
    /// Position just after the last content byte that is not a blank.
    pub last: Option<u32>,
    /// Position just after the last line break eaten inside the scalar.
    pub last_break: Option<u32>,
}

pub(super) fn scan(input: &mut Input, params: &mut Params) -> Result<Scanned, ParseError> {
    let mut found_non_empty_line = false;
    let mut past_opening_break = params.fold == Fold::Flow;
    let (mut empty_line, mut more_indented) = (false, false);
    let mut folded_newline_count = 0usize;
    let mut folded_newline_started_more_indented = false;
    let mut last_escaped: Option<usize> = None;
    let mut scalar: Vec<u8> = Vec::new();
    let mut out = Scanned {
        value: String::new(),
        leading_spaces: false,
        first: None,
        last: None,
        last_break: None,
    };

    while input.more() {
        // Phase 1: up to the line ending.
        let mut last_non_whitespace = scalar.len();
        let mut escaped_newline = false;
        while params.end.matches(input).is_none() && !input.is_break() {
            if !input.more() {
                break;
            }
            if input.column() == 0 && (input.doc_start() || input.doc_end()) {
                match params.on_doc_indicator {
                    Some(true) => break,
                    Some(false) => {
                        return Err(ParseError::at(
                            input.mark(),
                            "illegal document indicator in scalar",
                        ));
                    }
                    None => {}
                }
            }
            found_non_empty_line = true;
            past_opening_break = true;
            out.first.get_or_insert(input.pos());
            if params.escape == b'\\' && input.escaped_break() {
                input.get();
                last_non_whitespace = scalar.len();
                last_escaped = Some(scalar.len());
                escaped_newline = true;
                break;
            }
            if input.peek() == params.escape {
                escape(input, &mut scalar)?;
                last_non_whitespace = scalar.len();
                last_escaped = Some(scalar.len());
                out.last = Some(input.pos());
                continue;
            }
            let ch = input.get();
            scalar.push(ch);
            if ch != b' ' && ch != b'\t' {
                last_non_whitespace = scalar.len();
                out.last = Some(input.pos());
            }
        }

        if !input.more() {
            if params.eat_end {
                return Err(ParseError::at(input.mark(), "illegal EOF in scalar"));
            }
            break;
        }
        if params.on_doc_indicator == Some(true)
            && input.column() == 0
            && (input.doc_start() || input.doc_end())
        {
            break;
        }
        if let Some(n) = params.end.matches(input) {
            if params.eat_end {
                input.eat(n);
            }
            break;
        }
        if params.fold == Fold::Flow {
            scalar.truncate(last_non_whitespace);
        }

        // Phase 2: the line ending.
        let n = input.brk(0).unwrap_or(0);
        input.eat(n);
        out.last_break = Some(input.pos());

        // Phase 3: indentation, then other leading blanks.
        while input.peek() == b' '
            && (input.column() < params.indent || (params.detect_indent && !found_non_empty_line))
            && params.end.matches(input).is_none()
        {
            input.eat(1);
        }
        if params.detect_indent && !found_non_empty_line {
            params.indent = params.indent.max(input.column());
        }
        while input.is_blank() {
            if input.peek() == b'\t'
                && input.column() < params.indent
                && params.throw_on_tab_in_indentation
            {
                return Err(ParseError::at(
                    input.mark(),
                    "illegal tab when looking for indentation",
                ));
            }
            if !params.eat_leading_whitespace || params.end.matches(input).is_some() {
                break;
            }
            input.eat(1);
        }

        let next_empty_line = input.is_break();
        let next_more_indented = input.is_blank();
        if params.fold == Fold::Block && folded_newline_count == 0 && next_empty_line {
            folded_newline_started_more_indented = more_indented;
        }
        // A block scalar starts with a line break that is neither folded nor kept.
        if past_opening_break {
            match params.fold {
                Fold::Literal => scalar.push(b'\n'),
                Fold::Block => {
                    if !empty_line
                        && !next_empty_line
                        && !more_indented
                        && !next_more_indented
                        && input.column() >= params.indent
                    {
                        scalar.push(b' ');
                    } else if next_empty_line {
                        folded_newline_count += 1;
                    } else {
                        scalar.push(b'\n');
                    }
                    if !next_empty_line && folded_newline_count > 0 {
                        scalar.extend(std::iter::repeat_n(b'\n', folded_newline_count - 1));
                        if folded_newline_started_more_indented
                            || next_more_indented
                            || !found_non_empty_line
                        {
                            scalar.push(b'\n');
                        }
                        folded_newline_count = 0;
                    }
                }
                Fold::Flow => {
                    if next_empty_line {
                        scalar.push(b'\n');
                    } else if !empty_line && !escaped_newline {
                        scalar.push(b' ');
                    }
                }
            }
        }
        empty_line = next_empty_line;
        more_indented = next_more_indented;
        past_opening_break = true;

        if !empty_line && input.column() < params.indent {
            out.leading_spaces = true;
            break;
        }
    }

    if params.trim_trailing_spaces {
        let keep = scalar.iter().rposition(|&b| b != b' ' && b != b'\t');
        let keep = match (keep, last_escaped) {
            (Some(p), Some(e)) if p < e => Some(e),
            (None, Some(e)) => Some(e),
            (p, _) => p,
        };
        if let Some(p) = keep {
            scalar.truncate((p + 1).min(scalar.len()));
        }
    }
    if params.chomp != Chomp::Keep {
        let keep = scalar.iter().rposition(|&b| b != b'\n');
        let keep = match (keep, last_escaped) {
            (Some(p), Some(e)) if p < e => Some(e),
            (None, Some(e)) => Some(e),
            (p, _) => p,
        };
        match keep {
            None => scalar.clear(),
            Some(p) if params.chomp == Chomp::Clip => scalar.truncate((p + 2).min(scalar.len())),
            Some(p) => scalar.truncate((p + 1).min(scalar.len())),
        }
    }
    out.value = String::from_utf8(scalar)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(out)
}

/// yaml-cpp's `Exp::Escape`: the escape at the cursor (its escape character and the next
/// one), decoded into `out`.
fn escape(input: &mut Input, out: &mut Vec<u8>) -> Result<(), ParseError> {
    let escape = input.get();
    let ch = input.get();
    if escape == b'\'' && ch == b'\'' {
        out.push(b'\'');
        return Ok(());
    }
    let simple: &[u8] = match ch {
        b'0' => b"\0",
        b'a' => b"\x07",
        b'b' => b"\x08",
        b't' | b'\t' => b"\t",
        b'n' => b"\n",
        b'v' => b"\x0b",
        b'f' => b"\x0c",
        b'r' => b"\r",
        b'e' => b"\x1b",
        b' ' => b" ",
        b'"' => b"\"",
        b'\'' => b"'",
        b'\\' => b"\\",
        b'/' => b"/",
        // yaml-cpp writes these two as single bytes, not as UTF-8.
        b'N' => b"\x85",
        b'_' => b"\xa0",
        b'L' => "\u{2028}".as_bytes(),
        b'P' => "\u{2029}".as_bytes(),
        b'x' => return code_point(input, 2, out),
        b'u' => return code_point(input, 4, out),
        b'U' => return code_point(input, 8, out),
        other => {
            let message = format!(
                "unknown escape character: {}",
                String::from_utf8_lossy(&[other])
            );
            return Err(ParseError::at(input.mark(), message));
        }
    };
    out.extend_from_slice(simple);
    Ok(())
}

/// `len` hex digits (read whatever they are), as UTF-8.
fn code_point(input: &mut Input, len: usize, out: &mut Vec<u8>) -> Result<(), ParseError> {
    let digits: Vec<u8> = (0..len).map(|_| input.get()).collect();
    let mark: Mark = input.mark();
    let mut value: u32 = 0;
    for d in digits {
        let digit = (d as char)
            .to_digit(16)
            .ok_or_else(|| ParseError::at(mark, "bad character found while scanning hex number"))?;
        value = value.wrapping_shl(4).wrapping_add(digit);
    }
    let c = char::from_u32(value)
        .ok_or_else(|| ParseError::at(mark, format!("invalid unicode: {value}")))?;
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Ok(())
}
