//! libs compiles `regex` patterns with RE2 in POSIX mode (`re2::RE2::POSIX`, RE2 2022-06-01 as
//! bundled by libs), which is not the syntax of the `regex` crate: POSIX mode rejects Perl
//! extensions (`\d`, `\b`, `(?i)`, `(?:`, `\pL`) that the crate accepts, treats a `{` that does
//! not start a repetition as a literal where the crate fails, stacks repetitions (`a**`), reads
//! `\1`..`\7` followed by an octal digit as an octal escape, lets `^`/`$` match at line breaks,
//! and has no nested classes or class set operations. [`to_rust_syntax`] reads a pattern the
//! way RE2's parser does, failing with RE2's own message, and writes it in the crate's syntax,
//! so a rule loads, fails and matches as in Falco.

/// RE2's `maximum_repeat_count`: the largest counted repetition, and also the largest product
/// of nested counted repetitions.
const MAX_REPEAT: u64 = 1000;

/// The pattern in `regex` crate syntax, or RE2's error text (`code text: argument`).
pub(crate) fn to_rust_syntax(pattern: &str) -> Result<String, String> {
    Translator {
        chars: pattern.chars().collect(),
        whole: pattern,
        i: 0,
        out: String::with_capacity(pattern.len() + 8),
    }
    .run()
}

/// RE2's status codes that can arise in POSIX mode, with their texts.
enum Re2Error {
    BadEscape,
    BadCharRange,
    MissingBracket,
    MissingParen,
    UnexpectedParen,
    TrailingBackslash,
    RepeatArgument,
    RepeatSize,
    BadUtf8,
}

impl Re2Error {
    fn with(self, arg: &str) -> String {
        let text = match self {
            Re2Error::BadEscape => "invalid escape sequence",
            Re2Error::BadCharRange => "invalid character class range",
            Re2Error::MissingBracket => "missing ]",
            Re2Error::MissingParen => "missing )",
            Re2Error::UnexpectedParen => "unexpected )",
            Re2Error::TrailingBackslash => "trailing \\",
            Re2Error::RepeatArgument => "no argument for repetition operator",
            Re2Error::RepeatSize => "invalid repetition size",
            Re2Error::BadUtf8 => "invalid UTF-8",
        };
        if arg.is_empty() {
            text.to_string()
        } else {
            format!("{text}: {arg}")
        }
    }
}

/// Something a repetition can apply to, already written to the output.
#[derive(Clone, Copy)]
struct Atom {
    /// Where it starts in the output.
    start: usize,
    /// Largest product of counted repetitions on a path inside it (RE2's `RepetitionWalker`).
    product: u64,
    /// It ends with a repetition operator (the crate needs a group to stack another one).
    repeated: bool,
    /// That operator, when it is `*`, `+` or `?` (RE2 squashes a next one into it).
    last_simple: Option<char>,
    /// Groups to open at `start` for the repetitions stacked so far.
    wraps: usize,
}

/// A counted repetition's minimum and maximum (none for `{n,}`).
type Bounds = (u64, Option<u64>);

/// An open group: where it starts and the largest repetition product seen inside so far.
struct Group {
    start: usize,
    product: u64,
}

struct Translator<'a> {
    chars: Vec<char>,
    whole: &'a str,
    i: usize,
    out: String,
}

impl Translator<'_> {
    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to.min(self.chars.len())].iter().collect()
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn run(mut self) -> Result<String, String> {
        let mut groups: Vec<Group> = Vec::new();
        // The innermost group (or the whole pattern) as a pseudo-group at the bottom.
        let mut top = Group {
            start: 0,
            product: 1,
        };
        let mut atom: Option<Atom> = None;
        while let Some(c) = self.peek(0) {
            if let Some((op, used, bounds)) = self.repetition() {
                // RE2 checks the bounds before the argument.
                if let Some((lo, hi)) = bounds
                    && (hi.is_some_and(|h| h < lo)
                        || lo > MAX_REPEAT
                        || hi.is_some_and(|h| h > MAX_REPEAT))
                {
                    return Err(Re2Error::RepeatSize.with(&op));
                }
                let Some(mut a) = atom else {
                    return Err(Re2Error::RepeatArgument.with(&op));
                };
                if let Some((lo, hi)) = bounds {
                    let count = hi.unwrap_or(lo);
                    if count > 0 {
                        a.product = a.product.saturating_mul(count);
                    }
                    if (lo >= 2 || hi.is_some_and(|h| h >= 2)) && a.product > MAX_REPEAT {
                        return Err(Re2Error::RepeatSize.with(&op));
                    }
                }
                self.stack_repetition(&mut a, &op, bounds);
                top.product = top.product.max(a.product);
                atom = Some(a);
                self.i += used;
                continue;
            }
            if let Some(a) = atom.take() {
                self.close_atom(a);
            }
            let here = self.out.len();
            match c {
                '\\' => {
                    let code = self.escape()?;
                    push_literal(&mut self.out, code);
                }
                '[' => self.class()?,
                '(' => {
                    self.out.push('(');
                    groups.push(std::mem::replace(
                        &mut top,
                        Group {
                            start: here,
                            product: 1,
                        },
                    ));
                    atom = None;
                    self.i += 1;
                    continue;
                }
                ')' => {
                    let Some(outer) = groups.pop() else {
                        return Err(Re2Error::UnexpectedParen.with(self.whole));
                    };
                    self.out.push(')');
                    self.i += 1;
                    let inner = std::mem::replace(&mut top, outer);
                    top.product = top.product.max(inner.product);
                    atom = Some(Atom {
                        start: inner.start,
                        product: inner.product,
                        repeated: false,
                        last_simple: None,
                        wraps: 0,
                    });
                    continue;
                }
                '|' => {
                    self.out.push('|');
                    atom = None;
                    self.i += 1;
                    continue;
                }
                // Without RE2's one-line flag, `^` and `$` also match around line breaks.
                '^' => {
                    self.out.push_str("(?m:^)");
                    self.i += 1;
                }
                '$' => {
                    self.out.push_str("(?m:$)");
                    self.i += 1;
                }
                '.' => {
                    self.out.push('.');
                    self.i += 1;
                }
                c => {
                    push_char(&mut self.out, c);
                    self.i += 1;
                }
            }
            atom = Some(Atom {
                start: here,
                product: 1,
                repeated: false,
                last_simple: None,
                wraps: 0,
            });
        }
        if let Some(a) = atom {
            self.close_atom(a);
        }
        if !groups.is_empty() {
            return Err(Re2Error::MissingParen.with(self.whole));
        }
        Ok(self.out)
    }

    /// Applies repetition `op` to the atom at the end of the output. POSIX mode stacks
    /// repetitions (`a**`, `a*?` is `(a*)?`), which the crate only takes with a group around
    /// each level; like RE2, stacked `*`, `+` and `?` are squashed into one and `{1}` changes
    /// nothing, so only counted repetitions nest (and their product is limited).
    fn stack_repetition(&mut self, a: &mut Atom, op: &str, bounds: Option<Bounds>) {
        if bounds == Some((1, Some(1))) {
            return;
        }
        let simple = bounds.is_none().then(|| op.chars().next()).flatten();
        if let (Some(new), Some(last)) = (simple, a.last_simple) {
            let squashed = if new == last { new } else { '*' };
            self.out.pop();
            self.out.push(squashed);
            a.last_simple = Some(squashed);
            return;
        }
        if a.repeated {
            self.out.push(')');
            a.wraps += 1;
        }
        self.out.push_str(op);
        a.repeated = true;
        a.last_simple = simple;
    }

    /// Opens the groups the atom's stacked repetitions need, once it is complete.
    fn close_atom(&mut self, a: Atom) {
        if a.wraps > 0 {
            self.out.insert_str(a.start, &"(?:".repeat(a.wraps));
        }
    }

    /// A repetition operator at the cursor: its text, its length in characters and, for a
    /// counted one, its bounds. A `{` that does not form `{n}`, `{n,}` or `{n,m}` is none.
    fn repetition(&self) -> Option<(String, usize, Option<Bounds>)> {
        match self.peek(0)? {
            c @ ('*' | '+' | '?') => Some((c.to_string(), 1, None)),
            '{' => {
                let mut j = self.i + 1;
                let lo = self.integer(&mut j)?;
                let hi = match self.chars.get(j)? {
                    ',' if self.chars.get(j + 1) == Some(&'}') => {
                        j += 1;
                        None
                    }
                    ',' => {
                        j += 1;
                        Some(self.integer(&mut j)?)
                    }
                    _ => Some(lo),
                };
                (self.chars.get(j) == Some(&'}'))
                    .then(|| (self.text(self.i, j + 1), j + 1 - self.i, Some((lo, hi))))
            }
            _ => None,
        }
    }

    /// RE2's `ParseInteger`: decimal digits without a leading zero, giving up (so the brace is
    /// a literal) once the value reaches 10^8.
    fn integer(&self, j: &mut usize) -> Option<u64> {
        let digit = |k: usize| self.chars.get(k).and_then(|c| c.to_digit(10));
        digit(*j)?;
        if digit(*j) == Some(0) && digit(*j + 1).is_some() {
            return None;
        }
        let mut n: u64 = 0;
        while let Some(d) = digit(*j) {
            if n >= 100_000_000 {
                return None;
            }
            n = n * 10 + u64::from(d);
            *j += 1;
        }
        Some(n)
    }

    /// One escape at the cursor (a `\`), consumed; the code point it stands for.
    fn escape(&mut self) -> Result<u32, String> {
        let begin = self.i;
        let Some(c) = self.peek(1) else {
            return Err(Re2Error::TrailingBackslash.with(""));
        };
        self.i += 2;
        let bad = |t: &Self| Err(Re2Error::BadEscape.with(&t.text(begin, t.i)));
        let octal = |c: Option<char>| {
            c.filter(|c| ('0'..='7').contains(c))
                .map(|c| c as u32 - '0' as u32)
        };
        match c {
            // A single non-zero digit would be a back-reference, which RE2 does not have.
            '1'..='7' if octal(self.peek(0)).is_none() => bad(self),
            '0'..='7' => {
                let mut code = c as u32 - '0' as u32;
                for _ in 0..2 {
                    let Some(d) = octal(self.peek(0)) else { break };
                    code = code * 8 + d;
                    self.i += 1;
                }
                Ok(code)
            }
            'x' => {
                let Some(first) = self.peek(0) else {
                    return bad(self);
                };
                self.i += 1;
                if first == '{' {
                    let mut code: u32 = 0;
                    let mut digits = 0;
                    loop {
                        let Some(d) = self.peek(0) else {
                            return if digits == 0 {
                                Err(Re2Error::BadUtf8.with(""))
                            } else {
                                bad(self)
                            };
                        };
                        self.i += 1;
                        let Some(v) = d.to_digit(16) else {
                            return if d == '}' && digits > 0 {
                                Ok(code)
                            } else {
                                bad(self)
                            };
                        };
                        digits += 1;
                        code = code * 16 + v;
                        if code > char::MAX as u32 {
                            return bad(self);
                        }
                    }
                }
                let Some(second) = self.peek(0) else {
                    return bad(self);
                };
                self.i += 1;
                match (first.to_digit(16), second.to_digit(16)) {
                    (Some(h), Some(l)) => Ok(h * 16 + l),
                    _ => bad(self),
                }
            }
            'n' => Ok('\n' as u32),
            'r' => Ok('\r' as u32),
            't' => Ok('\t' as u32),
            'a' => Ok(0x07),
            'f' => Ok(0x0c),
            'v' => Ok(0x0b),
            // Escaped punctuation stands for itself; letters and digits are not escapes.
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c as u32),
            _ => bad(self),
        }
    }

    /// A bracket expression at the cursor, consumed and written out.
    fn class(&mut self) -> Result<(), String> {
        let whole_class = self.text(self.i, self.chars.len());
        self.i += 1;
        let negated = self.peek(0) == Some('^');
        if negated {
            self.i += 1;
        }
        let mut items = String::new();
        let mut first = true;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(Re2Error::MissingBracket.with(&whole_class));
            };
            if c == ']' && !first {
                self.i += 1;
                break;
            }
            // `-` is a literal only first or last.
            if c == '-' && !first && self.peek(1) != Some(']') {
                let Some(next) = self.peek(1) else {
                    return Err(Re2Error::BadUtf8.with(""));
                };
                return Err(Re2Error::BadCharRange.with(&format!("-{next}")));
            }
            first = false;
            if c == '['
                && self.peek(1) == Some(':')
                && let Some(name) = self.class_name()?
            {
                items.push_str(&name);
                continue;
            }
            let start = self.i;
            let lo = self.class_char(&whole_class)?;
            let mut hi = lo;
            if self.peek(0) == Some('-') && self.peek(1).is_some_and(|c| c != ']') {
                self.i += 1;
                hi = self.class_char(&whole_class)?;
                if hi < lo {
                    return Err(Re2Error::BadCharRange.with(&self.text(start, self.i)));
                }
            }
            push_range(&mut items, lo, hi);
        }
        self.out.push_str(match (negated, items.is_empty()) {
            // Only surrogates, which no text contains.
            (false, true) => "[^\\x00-\\x{10FFFF}]",
            (true, true) => "[\\x00-\\x{10FFFF}]",
            (false, false) => "[",
            (true, false) => "[^",
        });
        if !items.is_empty() {
            self.out.push_str(&items);
            self.out.push(']');
        }
        Ok(())
    }

    /// `[:name:]` at the cursor: consumed when the closing `:]` exists (its text, which the
    /// crate reads the same way), an error when the name is not a POSIX class.
    fn class_name(&mut self) -> Result<Option<String>, String> {
        let rest = &self.chars[self.i..];
        let Some(end) =
            (2..rest.len().saturating_sub(1)).find(|&k| rest[k] == ':' && rest[k + 1] == ']')
        else {
            return Ok(None);
        };
        let name: String = rest[..end + 2].iter().collect();
        let inner: String = rest[2..end].iter().collect();
        if !POSIX_CLASSES.contains(&inner.strip_prefix('^').unwrap_or(&inner)) {
            return Err(Re2Error::BadCharRange.with(&name));
        }
        self.i += end + 2;
        Ok(Some(name))
    }

    fn class_char(&mut self, whole_class: &str) -> Result<u32, String> {
        match self.peek(0) {
            None => Err(Re2Error::MissingBracket.with(whole_class)),
            Some('\\') => self.escape(),
            Some(c) => {
                self.i += 1;
                Ok(c as u32)
            }
        }
    }
}

/// One literal code point outside a class, written so the crate reads it as that character
/// (ASCII punctuation as a hex escape: the crate gives some escapes, like `\\<`, a meaning).
/// Surrogates, which RE2 accepts but no text can contain, match nothing.
fn push_literal(out: &mut String, code: u32) {
    match char::from_u32(code) {
        Some(c) => push_char(out, c),
        None => out.push_str("[^\\x00-\\x{10FFFF}]"),
    }
}

/// A class range (or single character) without its surrogate part.
fn push_range(out: &mut String, lo: u32, hi: u32) {
    const SURROGATES: std::ops::RangeInclusive<u32> = 0xD800..=0xDFFF;
    let lo = if SURROGATES.contains(&lo) { 0xE000 } else { lo };
    let hi = if SURROGATES.contains(&hi) { 0xD7FF } else { hi };
    let (Some(l), Some(h)) = (char::from_u32(lo), char::from_u32(hi)) else {
        return;
    };
    if l > h {
        return;
    }
    push_char(out, l);
    if h != l {
        out.push('-');
        push_char(out, h);
    }
}

fn push_char(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "\\x{{{:x}}}", c as u32);
    }
}

const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

#[cfg(test)]
mod tests {
    use super::to_rust_syntax;

    fn full(pattern: &str, text: &str) -> bool {
        let p = to_rust_syntax(pattern).unwrap();
        regex::Regex::new(&format!("^(?:{p})$"))
            .unwrap()
            .is_match(text)
    }

    #[test]
    fn surrogates_are_accepted_and_match_nothing() {
        assert!(!full(r"a\x{D800}", "a"));
        assert!(!full(r"[\x{D800}]", "a"));
        assert!(full(r"[^\x{D800}]", "a"));
        assert!(full(r"[\x{D7FF}-\x{E000}]", "\u{E000}"));
        assert!(full(r"[\x{D800}-\x{E000}]", "\u{E000}"));
    }

    #[test]
    fn stacked_repetitions_are_grouped_for_the_crate() {
        assert_eq!(to_rust_syntax("a*?").unwrap(), "a*");
        assert_eq!(to_rust_syntax("a{2}{3}*").unwrap(), "(?:(?:a{2}){3})*");
        assert_eq!(to_rust_syntax("a{1}+{1}").unwrap(), "a+");
        // Long stacks stay linear.
        assert!(full(&format!("a{}", "*".repeat(100_000)), "aaa"));
        assert!(full("(ab)+*", ""));
        assert!(!full("a{2}?", "a"));
    }
}
