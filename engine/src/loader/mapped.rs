//! Text that remembers where each byte came from in the rules files.
//!
//! Conditions are assembled from YAML scalars (folded, quoted, escaped), joined by appends,
//! extended by textual exceptions and rewritten by list substitution before they are parsed.
//! A [`MappedText`] carries that history as pieces, so a span in the final text maps back to
//! the bytes the user wrote: copied runs map linearly, generated text maps to a fixed span
//! (e.g. the items of a list map to the list name where it was substituted).

use super::yaml::ScalarStyle;
use crate::span::{FileId, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Byte `at + i` of the text is byte `start + i` of `file`.
    Linear { file: FileId, start: u32 },
    /// Every byte of the piece comes from this span.
    Fixed(Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// Offset in the text where the piece starts; it runs to the next piece.
    at: u32,
    origin: Origin,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MappedText {
    pub text: String,
    pieces: Vec<Piece>,
}

impl MappedText {
    /// Text that came from nowhere in particular: all of it maps to `span`.
    pub fn fixed(text: impl Into<String>, span: Span) -> Self {
        let mut m = MappedText::default();
        m.push_fixed(&text.into(), span);
        m
    }

    /// Text that is itself the source: byte `i` is byte `i` of `file`.
    pub fn verbatim(text: &str, file: FileId) -> Self {
        let pieces = if text.is_empty() {
            Vec::new()
        } else {
            vec![Piece {
                at: 0,
                origin: Origin::Linear { file, start: 0 },
            }]
        };
        MappedText {
            text: text.to_owned(),
            pieces,
        }
    }

    /// The decoded value of a YAML scalar whose source is `span` in `source` (the whole file).
    /// Falls back to mapping everything to the scalar's span when the decoded text cannot be
    /// aligned with the source (e.g. exotic escapes), which keeps positions coarse but correct.
    pub fn from_scalar(value: &str, style: ScalarStyle, source: &str, span: Span) -> Self {
        align(value, style, source, span).unwrap_or_else(|| MappedText::fixed(value, span))
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn push_fixed(&mut self, text: &str, span: Span) {
        if text.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            at: self.text.len() as u32,
            origin: Origin::Fixed(span),
        });
        self.text.push_str(text);
    }

    pub fn push(&mut self, other: &MappedText) {
        let base = self.text.len() as u32;
        self.pieces.extend(other.pieces.iter().map(|p| Piece {
            at: p.at + base,
            origin: p.origin,
        }));
        self.text.push_str(&other.text);
    }

    /// Appends bytes `start..end` of `other`, keeping where they came from.
    pub fn push_range(&mut self, other: &MappedText, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let base = self.text.len();
        let first = other
            .pieces
            .partition_point(|p| p.at as usize <= start)
            .saturating_sub(1);
        for p in other.pieces[first..]
            .iter()
            .take_while(|p| (p.at as usize) < end)
        {
            let from = (p.at as usize).max(start);
            let origin = match p.origin {
                Origin::Linear { file, start } => Origin::Linear {
                    file,
                    start: start + (from - p.at as usize) as u32,
                },
                fixed => fixed,
            };
            self.pieces.push(Piece {
                at: (base + from - start) as u32,
                origin,
            });
        }
        self.text.push_str(&other.text[start..end]);
    }

    /// Drops the text from byte `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        let keep = self.pieces.partition_point(|p| (p.at as usize) < len);
        self.pieces.truncate(keep);
    }

    /// The span of the whole text (the first piece's file).
    pub fn whole_span(&self) -> Span {
        self.map(0, self.text.len())
    }

    /// Maps the byte range `start..end` of the text to the rules file.
    pub fn map(&self, start: usize, end: usize) -> Span {
        if self.pieces.is_empty() {
            return Span::default();
        }
        let first = self.locate(start, false);
        if end <= start {
            return Span::new(first.file, first.start, first.start);
        }
        let last = self.locate(end, true);
        if last.file != first.file || last.end < first.start {
            return first;
        }
        Span::new(first.file, first.start, last.end)
    }

    /// Where the byte at `offset` comes from (`before`: the byte just before `offset`).
    fn locate(&self, offset: usize, before: bool) -> Span {
        let offset = offset as u32;
        let probe = if before {
            offset.saturating_sub(1)
        } else {
            offset
        };
        let i = self
            .pieces
            .partition_point(|p| p.at <= probe)
            .saturating_sub(1);
        let piece = self.pieces[i];
        match piece.origin {
            Origin::Fixed(span) => span,
            Origin::Linear { file, start } => {
                let at = start + offset.saturating_sub(piece.at);
                Span::new(file, at, at)
            }
        }
    }

    /// The text without surrounding whitespace (like Falco's `trim` of outputs).
    pub fn trimmed(&self) -> MappedText {
        let start = self.text.len() - self.text.trim_start().len();
        let end = self.text.trim_end().len().max(start);
        self.slice(start, end)
    }

    fn slice(&self, start: usize, end: usize) -> MappedText {
        let mut part = MappedText::default();
        part.push_range(self, start, end);
        part
    }
}

/// Aligns a decoded scalar with its source: decoded bytes are matched in order against the
/// source, skipping what YAML drops (indentation, line breaks, quotes) and decoding escapes.
fn align(value: &str, style: ScalarStyle, source: &str, span: Span) -> Option<MappedText> {
    let src = source.as_bytes().get(span.range())?;
    let dec = value.as_bytes();
    let quote = match style {
        ScalarStyle::SingleQuoted => Some(b'\''),
        ScalarStyle::DoubleQuoted => Some(b'"'),
        _ => None,
    };
    let mut out = MappedText {
        text: value.to_owned(),
        pieces: Vec::new(),
    };
    let mut si = usize::from(quote.is_some() && src.first() == quote.as_ref());
    let mut di = 0;
    // Whether the last piece is linear and continues at (di, si).
    let mut linear = false;
    while di < dec.len() {
        let s = *src.get(si)?;
        let d = dec[di];
        let here = span.start + si as u32;
        if style == ScalarStyle::DoubleQuoted && s == b'\\' {
            let next = *src.get(si + 1)?;
            if next == b'\n' || next == b'\r' {
                si += 2;
                linear = false;
                continue;
            }
            let len = match next {
                b'x' => 4,
                b'u' => 6,
                b'U' => 10,
                _ => 2,
            };
            let ch_len = value[di..].chars().next().map_or(1, char::len_utf8);
            out.pieces.push(Piece {
                at: di as u32,
                origin: Origin::Fixed(Span::new(span.file, here, here + len as u32)),
            });
            di += ch_len;
            si += len;
            linear = false;
        } else if d == s {
            if !linear {
                out.pieces.push(Piece {
                    at: di as u32,
                    origin: Origin::Linear {
                        file: span.file,
                        start: here,
                    },
                });
                linear = true;
            }
            di += 1;
            si += 1;
        } else if d == b' ' && (s == b'\n' || s == b'\r') {
            // A folded line break.
            out.pieces.push(Piece {
                at: di as u32,
                origin: Origin::Fixed(Span::new(span.file, here, here + 1)),
            });
            di += 1;
            si += 1;
            linear = false;
        } else if s.is_ascii_whitespace() || Some(s) == quote {
            si += 1;
            linear = false;
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: FileId = FileId(0);

    fn scalar_of(source: &str, raw: &str, value: &str, style: ScalarStyle) -> MappedText {
        let start = source.find(raw).unwrap() as u32;
        MappedText::from_scalar(
            value,
            style,
            source,
            Span::new(F, start, start + raw.len() as u32),
        )
    }

    fn text_at(source: &str, m: &MappedText, needle: &str) -> String {
        let s = m.text.find(needle).unwrap();
        source[m.map(s, s + needle.len()).range()].to_owned()
    }

    #[test]
    fn folded_scalar_maps_every_line() {
        let source = "c: >\n    evt.type = x and\n      proc.name = y\n\n    and z\n";
        let raw = &source[9..];
        let m = scalar_of(
            source,
            raw,
            "evt.type = x and\n  proc.name = y\n\nand z\n",
            ScalarStyle::Folded,
        );
        assert_eq!(text_at(source, &m, "proc.name"), "proc.name");
        assert_eq!(text_at(source, &m, "and z"), "and z");
        assert_eq!(text_at(source, &m, "x and"), "x and");
    }

    #[test]
    fn double_quoted_escapes_map_to_their_source() {
        let source = r#"d: "a\tb proc.name\x41 c""#;
        let m = scalar_of(
            source,
            &source[3..],
            "a\tb proc.nameA c",
            ScalarStyle::DoubleQuoted,
        );
        assert_eq!(text_at(source, &m, "\t"), "\\t");
        assert_eq!(text_at(source, &m, "A"), "\\x41");
        assert_eq!(text_at(source, &m, "c"), "c");
    }

    #[test]
    fn plain_multiline_folds_to_spaces() {
        let source = "q: plain\n    multi and x";
        let m = scalar_of(
            source,
            &source[3..],
            "plain multi and x",
            ScalarStyle::Plain,
        );
        assert_eq!(text_at(source, &m, "multi and"), "multi and");
    }

    #[test]
    fn unalignable_text_falls_back_to_the_scalar_span() {
        let source = "q: abc";
        let m = scalar_of(source, "abc", "xyz", ScalarStyle::Plain);
        assert_eq!(m.map(1, 2), Span::new(F, 3, 6));
    }

    #[test]
    fn a_substitution_maps_to_its_origin_and_shifts_the_rest() {
        let source = "proc.name in (my_list) and fd.name = x";
        let m = MappedText::from_scalar(
            source,
            ScalarStyle::Plain,
            source,
            Span::new(F, 0, source.len() as u32),
        );
        let at = source.find("my_list").unwrap();
        let mut r = MappedText::default();
        r.push_range(&m, 0, at);
        r.push_fixed("a, b, c", Span::new(F, at as u32, at as u32 + 7));
        r.push_range(&m, at + 7, source.len());
        let m = r;
        assert_eq!(m.text, "proc.name in (a, b, c) and fd.name = x");
        assert_eq!(text_at(source, &m, "b"), "my_list");
        assert_eq!(text_at(source, &m, "fd.name"), "fd.name");
        assert_eq!(text_at(source, &m, "(a, b, c)"), "(my_list)");
    }

    #[test]
    fn concatenation_keeps_files_apart() {
        let a = MappedText::fixed("x", Span::new(FileId(0), 3, 4));
        let mut m = a.clone();
        m.push_fixed(" ", Span::new(FileId(1), 9, 9));
        m.push(&MappedText::fixed("y", Span::new(FileId(1), 10, 11)));
        assert_eq!(m.map(2, 3), Span::new(FileId(1), 10, 11));
        assert_eq!(m.map(0, 1), Span::new(FileId(0), 3, 4));
        assert_eq!(m.map(0, 3), Span::new(FileId(0), 3, 4));
    }
}
