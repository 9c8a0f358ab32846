//! String escapes: decoding quoted constants (libs `unescape_str`) and the quoting used by the
//! canonical rendering (libs `escape_str`).

use std::ops::Range;

/// An invalid escape: its message (worded as libs') and its byte range in the quoted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EscapeError {
    pub message: String,
    pub range: Range<usize>,
}

/// Decodes a quoted token (quotes included). Every invalid escape is reported; its characters are
/// kept as written so the value stays close to the source. Values are bytes in Falco, so `\xHH`
/// may produce invalid UTF-8; such bytes become U+FFFD here.
pub(crate) fn unescape(token: &str) -> (String, Vec<EscapeError>) {
    let b = token.as_bytes();
    let quote = b[0];
    let end = b.len() - 1;
    let mut out = Vec::with_capacity(end);
    let mut errors = Vec::new();
    let mut i = 1;
    while i < end {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let Some(&c) = b.get(i + 1).filter(|_| i + 1 < end) else {
            // A backslash right before the closing quote cannot happen (the quote would not
            // close the string); keep it for completeness.
            out.push(b'\\');
            break;
        };
        let mut fail = |message: String, len: usize| {
            errors.push(EscapeError {
                message,
                range: i..(i + len).min(end),
            });
        };
        let decoded: Option<u8> = match c {
            b'b' => Some(b'\x08'),
            b'f' => Some(b'\x0c'),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            // `\ ` is accepted by libs for old rules and yields a backslash.
            b' ' | b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'"' | b'\'' if c == quote => Some(c),
            b'"' => {
                fail("invalid \\\" escape in '-quoted string".into(), 2);
                None
            }
            b'\'' => {
                fail("invalid \\' escape in \"-quoted string".into(), 2);
                None
            }
            b'x' => {
                if i + 3 >= end {
                    fail("truncated hex char escape sequence".into(), end - i);
                    None
                } else if let Some(v) = hex_pair(b[i + 2], b[i + 3]) {
                    out.push(v);
                    i += 4;
                    continue;
                } else {
                    let shown = String::from_utf8_lossy(&b[i + 2..i + 4]).into_owned();
                    fail(format!("invalid hex char escape sequence: {shown}"), 4);
                    None
                }
            }
            _ => {
                let ch = token[i + 1..].chars().next().unwrap_or('?');
                fail(
                    format!("unsupported string escape sequence: \\{ch}"),
                    1 + ch.len_utf8(),
                );
                None
            }
        };
        match decoded {
            Some(v) => {
                out.push(v);
                i += 2;
            }
            None => {
                out.extend_from_slice(&b[i..i + 2]);
                i += 2;
            }
        }
    }
    let text = match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    (text, errors)
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(hi)? * 16 + digit(lo)?) as u8)
}

/// libs `escape_str`: a value containing a blank, `=`, a quote, a backslash or a NUL is
/// double-quoted, with `\b \f \n \r \t \\ \"` escaped; anything else is written as is (so an
/// empty string renders as nothing, and parentheses or commas are not quoted — as upstream).
pub(crate) fn escape(value: &str, out: &mut String) {
    let needs_quotes = value.bytes().any(|c| {
        matches!(
            c,
            b'\x08' | b'\x0c' | b'\n' | b'\r' | b'\t' | b' ' | b'=' | b'\\' | b'"' | b'\'' | b'\0'
        )
    });
    if needs_quotes {
        push_quoted(value, out);
    } else {
        out.push_str(value);
    }
}

/// `value` double-quoted, always, so that a condition reads it back as `value` whatever it
/// holds (blanks, parentheses, commas, quotes): for conditions built from field values, such
/// as the UI's search for an event's value.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_quoted(value, &mut out);
    out
}

fn push_quoted(value: &str, out: &mut String) {
    out.push('"');
    for ch in value.chars() {
        match ch {
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            _ => out.push(ch),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_read_back_as_themselves() {
        for v in [
            "",
            "a b",
            "(x, y)",
            "say \"hi\"",
            "c:\\dir",
            "tab\there",
            "it's",
            "é\n",
        ] {
            let q = quoted(v);
            assert_eq!(unescape(&q), (v.to_string(), vec![]), "{q}");
        }
    }

    fn decoded(token: &str) -> String {
        let (text, errors) = unescape(token);
        assert!(errors.is_empty(), "{token}: {errors:?}");
        text
    }

    fn first_error(token: &str) -> (String, Range<usize>) {
        let (_, errors) = unescape(token);
        let e = errors.into_iter().next().expect("an escape error");
        (e.message, e.range)
    }

    #[test]
    fn decodes_the_supported_escapes() {
        assert_eq!(decoded(r#""a\tb\n\\\/""#), "a\tb\n\\/");
        assert_eq!(decoded(r#""\x41\x413""#), "AA3");
        assert_eq!(decoded(r#""a\ b""#), "a\\b");
        assert_eq!(decoded(r#""it's \"x\"""#), "it's \"x\"");
        assert_eq!(decoded(r#"'say "hi" \'x\''"#), "say \"hi\" 'x'");
        assert_eq!(decoded("''"), "");
    }

    #[test]
    fn reports_bad_escapes_where_they_are() {
        assert_eq!(
            first_error(r#""a\qb""#),
            ("unsupported string escape sequence: \\q".into(), 2..4)
        );
        assert_eq!(
            first_error(r#"'\"'"#),
            ("invalid \\\" escape in '-quoted string".into(), 1..3)
        );
        assert_eq!(
            first_error(r#""\'""#),
            ("invalid \\' escape in \"-quoted string".into(), 1..3)
        );
        assert_eq!(
            first_error(r#""\x4""#),
            ("truncated hex char escape sequence".into(), 1..4)
        );
        assert_eq!(
            first_error(r#""\x4g""#),
            ("invalid hex char escape sequence: 4g".into(), 1..5)
        );
        assert_eq!(unescape(r#""\q\z""#).1.len(), 2);
    }

    #[test]
    fn quotes_only_what_libs_quotes() {
        let esc = |v: &str| {
            let mut s = String::new();
            escape(v, &mut s);
            s
        };
        assert_eq!(esc("plain"), "plain");
        assert_eq!(esc(""), "");
        assert_eq!(esc("(a,b)"), "(a,b)");
        assert_eq!(esc("curl 127.0.0.1"), "\"curl 127.0.0.1\"");
        assert_eq!(esc("a=b"), "\"a=b\"");
        assert_eq!(esc("it's"), "\"it's\"");
        assert_eq!(esc("say \"x\"\\\n"), "\"say \\\"x\\\"\\\\\\n\"");
    }
}
