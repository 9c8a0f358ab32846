//! Lexical classes of the condition language, as byte-length matchers anchored at a position.
//!
//! libs matches these with POSIX (leftmost-longest) RE2 regexes at the cursor; each class here is
//! simple enough that a greedy scan gives the same longest match. All delimiters are ASCII, so a
//! match of a `&str` always ends on a character boundary.

/// Blanks skipped between tokens (libs `lex_blank`): note `\b` is blank but `\v`/`\f` are not.
pub(crate) fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x08' | b'\r' | b'\n')
}

/// POSIX `[:space:]`, used inside the regex classes (`not[[:space:]]+`, BARESTR, field args).
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn is_word_tail(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*`
pub(crate) fn identifier(b: &[u8]) -> usize {
    if b.first().is_some_and(u8::is_ascii_alphabetic) {
        1 + b[1..].iter().take_while(|&&c| is_word_tail(c)).count()
    } else {
        0
    }
}

/// `[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+`: at least one dot, every segment starts
/// with a letter.
pub(crate) fn field_name(b: &[u8]) -> usize {
    let mut len = identifier(b);
    if len == 0 {
        return 0;
    }
    let mut segments = 0;
    while b.get(len) == Some(&b'.') {
        let seg = identifier(&b[len + 1..]);
        if seg == 0 {
            break;
        }
        len += 1 + seg;
        segments += 1;
    }
    if segments == 0 { 0 } else { len }
}

/// `[^][\"'[:space:]]+`: a bare field argument.
pub(crate) fn field_arg_bare(b: &[u8]) -> usize {
    b.iter()
        .take_while(|&&c| !matches!(c, b'[' | b']' | b'"' | b'\'') && !is_space(c))
        .count()
}

/// `0[xX][0-9a-fA-F]+`
pub(crate) fn hex_number(b: &[u8]) -> usize {
    if b.len() > 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X') {
        let digits = b[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if digits > 0 {
            return 2 + digits;
        }
    }
    0
}

/// `[+\-]?[0-9]+[\.]?[0-9]*([eE][+\-][0-9]+)?`
pub(crate) fn number(b: &[u8]) -> usize {
    let digits = |from: usize| {
        b.get(from..)
            .map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count())
    };
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int = digits(i);
    if int == 0 {
        return 0;
    }
    i += int;
    if b.get(i) == Some(&b'.') {
        i += 1;
    }
    i += digits(i);
    if matches!(b.get(i), Some(b'e' | b'E')) && matches!(b.get(i + 1), Some(b'+' | b'-')) {
        let exp = digits(i + 2);
        if exp > 0 {
            i += 2 + exp;
        }
    }
    i
}

/// `[^()\"'[:space:]=,]+`: an unquoted value.
pub(crate) fn bare_string(b: &[u8]) -> usize {
    b.iter()
        .take_while(|&&c| !matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !is_space(c))
        .count()
}

/// The length of a quoted string starting at `b[0]` (a quote), quotes included, or `None` when
/// it is not closed. libs' quirk is kept: a quote preceded by a backslash never closes the
/// string, even if that backslash is itself escaped; and a NUL byte ends the input (libs scans a
/// C string).
pub(crate) fn quoted(b: &[u8]) -> Option<usize> {
    let delimiter = *b.first().filter(|&&c| c == b'"' || c == b'\'')?;
    let mut prev = b'\\';
    for (i, &c) in b.iter().enumerate() {
        if c == 0 {
            return None;
        }
        if c == delimiter && prev != b'\\' {
            return Some(i + 1);
        }
        prev = c;
    }
    None
}

/// `not[[:space:]]+`
pub(crate) fn not_blank(b: &[u8]) -> usize {
    if b.starts_with(b"not") {
        let blanks = b[3..].iter().take_while(|&&c| is_space(c)).count();
        if blanks > 0 {
            return 3 + blanks;
        }
    }
    0
}

/// libs `bool_keyword_follows`: `and`, `or` or `not` not followed by an alphanumeric character
/// (an underscore does not extend the word here, unlike in identifiers).
pub(crate) fn bool_keyword(b: &[u8]) -> bool {
    ["and", "or", "not"].iter().any(|kw| {
        b.starts_with(kw.as_bytes()) && b.get(kw.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_take_the_longest_match() {
        assert_eq!(field_name(b"proc.name=x"), 9);
        assert_eq!(field_name(b"a.b.1"), 3);
        assert_eq!(field_name(b"k8s.pod.label.app.kubernetes.io/name"), 31);
        assert_eq!(field_name(b"macro"), 0);
        assert_eq!(identifier(b"not_macro and"), 9);
        assert_eq!(number(b"+0.25e+10]"), 9);
        assert_eq!(number(b"1e5"), 1);
        assert_eq!(number(b"-"), 0);
        assert_eq!(hex_number(b"0xAAA.1"), 5);
        assert_eq!(hex_number(b"0x"), 0);
        assert_eq!(bare_string(b"/usr/bin/*)"), 10);
        assert_eq!(bare_string(b"a=b"), 1);
        assert_eq!(field_arg_bare(b"a/b.c]"), 5);
        assert_eq!(quoted(b"'a\\'b' x"), Some(6));
        assert_eq!(quoted(b"'a\\\\' x"), None);
        assert_eq!(quoted(b"\"a\0\""), None);
        assert_eq!(not_blank(b"not \t x"), 6);
        assert_eq!(not_blank(b"notx"), 0);
        assert!(bool_keyword(b"and_x"));
        assert!(!bool_keyword(b"andx"));
    }
}
