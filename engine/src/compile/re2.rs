//! libs compiles `regex` patterns with RE2 in POSIX mode (`re2::RE2::POSIX`), which is not the
//! syntax of the `regex` crate: POSIX mode rejects Perl extensions (`\d`, `\b`, `(?i)`, `(?:`,
//! lazy `*?`, `\pL`) that the crate accepts, treats a `{` that does not start a repetition as
//! a literal where the crate fails, lets `^`/`$` match at line breaks, and has no nested
//! classes or class set operations. [`to_rust_syntax`] checks a pattern the way RE2 does and
//! rewrites it into the crate's syntax, so a rule loads, fails and matches as in Falco.

/// RE2's repetition limit.
const MAX_REPEAT: u32 = 1000;

/// The pattern in `regex` crate syntax, or RE2's error message.
pub(crate) fn to_rust_syntax(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    // Where the last atom (what a repetition applies to) starts in `out`, if there is one.
    let mut atom: Option<usize> = None;
    let mut after_repeat = false;
    // Start of every open group in `out`.
    let mut groups: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let here = out.len();
        let mut used = 1;
        // A repetition operator and whether its bounds are within RE2's limits.
        let repetition: Option<(String, bool)> = match c {
            '*' | '+' | '?' => Some((c.to_string(), true)),
            '{' => repeat(&chars[i..]).map(|(lo, hi, n)| {
                used = n;
                let within = lo <= MAX_REPEAT && hi.is_none_or(|h| h <= MAX_REPEAT && h >= lo);
                (chars[i..i + n].iter().collect(), within)
            }),
            _ => None,
        };
        if let Some((op, within)) = repetition {
            if !within {
                return Err(format!("bad repetition operator: {op}"));
            }
            let Some(start) = atom else {
                return Err(format!("missing argument to repetition operator: {op}"));
            };
            // POSIX mode stacks repetitions (`a**`, `a*?` is `(a*)?`); the crate wants a group.
            if after_repeat {
                out.insert_str(start, "(?:");
                out.push(')');
            }
            out.push_str(&op);
            after_repeat = true;
            i += used;
            continue;
        }
        after_repeat = false;
        match c {
            '\\' => {
                let (text, n) = escape(&chars[i..], false)?;
                out.push_str(&text);
                used = n;
                atom = Some(here);
            }
            '[' => {
                let (text, n) = class(&chars[i..])?;
                out.push_str(&text);
                used = n;
                atom = Some(here);
            }
            '(' => {
                out.push('(');
                groups.push(here);
                atom = None;
            }
            ')' => {
                out.push(')');
                atom = groups.pop();
            }
            '|' => {
                out.push('|');
                atom = None;
            }
            '{' => {
                out.push_str("\\{");
                atom = Some(here);
            }
            '}' => {
                out.push_str("\\}");
                atom = Some(here);
            }
            // Without RE2's one-line flag, `^` and `$` also match around line breaks.
            '^' => {
                out.push_str("(?m:^)");
                atom = Some(here);
            }
            '$' => {
                out.push_str("(?m:$)");
                atom = Some(here);
            }
            c => {
                out.push(c);
                atom = Some(here);
            }
        }
        i += used;
    }
    Ok(out)
}

/// `{n}`, `{n,}` or `{n,m}` at the start of `chars`: (n, m, characters used).
fn repeat(chars: &[char]) -> Option<(u32, Option<u32>, usize)> {
    let close = chars.iter().position(|&c| c == '}')?;
    let body: String = chars[1..close].iter().collect();
    let number = |s: &str| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { s.parse::<u32>().ok() } else { None };
    let (lo, hi) = match body.split_once(',') {
        None => {
            let n = number(&body)?;
            (n, Some(n))
        }
        Some((lo, "")) => (number(lo)?, None),
        Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
    };
    Some((lo, hi, close + 1))
}

/// One escape at the start of `chars` (which begins with `\`): its rewriting and length.
fn escape(chars: &[char], in_class: bool) -> Result<(String, usize), String> {
    let Some(&c) = chars.get(1) else { return Err("trailing \\".into()) };
    let invalid = || Err(format!("invalid escape sequence: \\{c}"));
    Ok(match c {
        'a' | 'f' | 'n' | 'r' | 't' | 'v' => (format!("\\{c}"), 2),
        'x' => {
            if chars.get(2) == Some(&'{') {
                let close = chars.iter().position(|&c| c == '}').ok_or("invalid escape sequence: \\x")?;
                let digits: String = chars[3..close].iter().collect();
                if digits.is_empty() || !digits.chars().all(|d| d.is_ascii_hexdigit()) {
                    return Err(format!("invalid escape sequence: \\x{{{digits}}}"));
                }
                (format!("\\x{{{digits}}}"), close + 1)
            } else {
                let digits: String = chars.iter().skip(2).take(2).collect();
                if digits.len() != 2 || !digits.chars().all(|d| d.is_ascii_hexdigit()) {
                    return Err(format!("invalid escape sequence: \\x{digits}"));
                }
                (format!("\\x{digits}"), 4)
            }
        }
        // Octal: `\0` and up to two more octal digits (RE2 has no back-references).
        '0' => {
            let digits: String = chars.iter().skip(2).take(2).take_while(|d| ('0'..='7').contains(*d)).collect();
            let value = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
            (format!("\\x{{{value:x}}}"), 2 + digits.len())
        }
        c if c.is_ascii_alphanumeric() => return invalid(),
        // Any other character stands for itself.
        c => {
            let literal = if in_class { class_literal(c) } else { regex_syntax_escape(c) };
            (literal, 2)
        }
    })
}

fn regex_syntax_escape(c: char) -> String {
    let mut s = String::new();
    let mut buf = [0; 4];
    s.push_str(&regex::escape(c.encode_utf8(&mut buf)));
    s
}

/// A character inside a class, escaped where the crate would read class syntax.
fn class_literal(c: char) -> String {
    if matches!(c, '[' | ']' | '\\' | '&' | '~' | '-' | '^') {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// A bracket expression at the start of `chars`: its rewriting and length.
fn class(chars: &[char]) -> Result<(String, usize), String> {
    let whole = || -> String { chars.iter().collect() };
    let mut out = String::from("[");
    let mut i = 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else { return Err(format!("missing closing ]: {}", whole())) };
        match c {
            ']' if !first => {
                out.push(']');
                return Ok((out, i + 1));
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                let rest: String = chars[i..].iter().collect();
                let Some(end) = rest.find(":]") else {
                    out.push_str("\\[");
                    i += 1;
                    first = false;
                    continue;
                };
                let name = &rest[2..end];
                if !POSIX_CLASSES.contains(&name.trim_start_matches('^')) {
                    return Err(format!("invalid character class range: [:{name}:]"));
                }
                out.push_str(&rest[..end + 2]);
                i += rest[..end + 2].chars().count();
            }
            '\\' => {
                let (text, used) = escape(&chars[i..], true)?;
                out.push_str(&text);
                i += used;
            }
            // A range operator between two characters, a literal at either end.
            '-' if !first && chars.get(i + 1).is_some_and(|&n| n != ']') => {
                out.push('-');
                i += 1;
            }
            c => {
                out.push_str(&class_literal(c));
                i += 1;
            }
        }
        first = false;
    }
}

const POSIX_CLASSES: &[&str] =
    &["alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit"];

#[cfg(test)]
mod tests {
    use super::to_rust_syntax;

    fn full(pattern: &str, text: &str) -> bool {
        let p = to_rust_syntax(pattern).unwrap();
        regex::Regex::new(&format!("^(?:{p})$")).unwrap().is_match(text)
    }

    #[test]
    fn brace_without_a_repetition_is_a_literal() {
        assert!(full("pentest-[0-9]{2", "pentest-5{2"));
        assert!(full("a{,3}", "a{,3}"));
        assert!(full("x}", "x}"));
        assert!(full("[0-9]{2,4}", "123"));
        assert!(!full("[0-9]{2,4}", "12345"));
    }

    #[test]
    fn perl_extensions_are_rejected_like_re2_posix() {
        assert_eq!(to_rust_syntax(r"\d+").unwrap_err(), r"invalid escape sequence: \d");
        assert_eq!(to_rust_syntax(r"a\b").unwrap_err(), r"invalid escape sequence: \b");
        assert_eq!(to_rust_syntax("(?i)abc").unwrap_err(), "missing argument to repetition operator: ?");
        assert_eq!(to_rust_syntax("*a").unwrap_err(), "missing argument to repetition operator: *");
        assert_eq!(to_rust_syntax("a|+").unwrap_err(), "missing argument to repetition operator: +");
        assert_eq!(to_rust_syntax("a{1001}").unwrap_err(), "bad repetition operator: {1001}");
        assert_eq!(to_rust_syntax("[a").unwrap_err(), "missing closing ]: [a");
    }

    #[test]
    fn classes_have_no_nesting_or_set_operations() {
        assert!(full("[a[]+", "a[["));
        assert!(full("[a&&b]", "&"));
        assert!(full("[]a]", "]"));
        assert!(full("[^]a]", "b"));
        assert!(full("[[:digit:]-]+", "1-2"));
        assert!(full(r"[\]]", "]"));
    }

    #[test]
    fn repetitions_stack_as_in_posix_mode() {
        assert!(full("a*?", "aaa"));
        assert!(full("(ab)+*", ""));
        assert!(full("(ab)+*", "abab"));
        assert!(full("a{2}{3}", "aaaaaa"));
        assert!(!full("a{2}{3}", "aaaa"));
    }

    #[test]
    fn anchors_match_at_line_breaks() {
        assert!(full("a$\n^b", "a\nb"));
        assert!(full(r"/etc/\.ssh/.*", "/etc/.ssh/x"));
    }
}
