//! Syntax highlighting of a rules file for the editor overlay: a single linear scan that
//! classifies YAML keys, comments, quoted strings, numbers, condition keywords/operators and
//! Falco field names. It never fails: unknown text is left plain.

use rulestudio_engine::fields;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Comment,
    /// A YAML mapping key (`rule:`, `condition:`) or a sequence dash.
    Key,
    Str,
    Number,
    /// `and`, `or`, `not` and the comparison operators.
    Keyword,
    /// A name the field table resolves (`proc.name`, `evt.arg.flags`).
    Field,
}

impl Class {
    pub fn css(self) -> &'static str {
        match self {
            Class::Comment => "hl-comment",
            Class::Key => "hl-key",
            Class::Str => "hl-str",
            Class::Number => "hl-num",
            Class::Keyword => "hl-kw",
            Class::Field => "hl-field",
        }
    }
}

/// Words highlighted as keywords: boolean connectives plus every word-like comparison operator
/// and modifier the condition language has.
pub fn is_keyword(word: &str) -> bool {
    matches!(word, "and" | "or" | "not" | "exists" | "val")
        || super::complete::OPERATORS
            .iter()
            .any(|op| op.as_str() == word)
        || super::complete::MODIFIERS
            .iter()
            .any(|m| m.as_str() == word)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b'*')
}

/// Classified byte ranges of `text`, sorted and non-overlapping. Keywords and operators are
/// only highlighted under a `condition:` key (and its continuation lines), so that a rule named
/// "Shell in container" keeps its `in` plain.
pub fn highlight(text: &str) -> Vec<(Range<usize>, Class)> {
    let mut out = Vec::new();
    let mut line_start = 0;
    let mut in_condition = false;
    for line in text.split_inclusive('\n') {
        highlight_line(line, line_start, &mut in_condition, &mut out);
        line_start += line.len();
    }
    out
}

fn highlight_line(
    line: &str,
    base: usize,
    in_condition: &mut bool,
    out: &mut Vec<(Range<usize>, Class)>,
) {
    let bytes = line.as_bytes();
    let mut i = 0;
    // Leading indentation and sequence dashes.
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    if i < bytes.len()
        && bytes[i] == b'-'
        && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace())
    {
        out.push((base + i..base + i + 1, Class::Key));
        i += 1;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
    }
    // A `key:` at the start of the (dash-stripped) line.
    let key_end = bytes[i..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map(|p| i + p);
    if let Some(end) = key_end
        && end > i
        && bytes[end] == b':'
        && bytes.get(end + 1).is_none_or(|b| b.is_ascii_whitespace())
    {
        out.push((base + i..base + end + 1, Class::Key));
        *in_condition = &line[i..end] == "condition";
        i = end + 1;
    }
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            let end = line.trim_end_matches(['\n', '\r']).len();
            if end > i {
                out.push((base + i..base + end, Class::Comment));
            }
            return;
        }
        if b == b'"' || b == b'\'' {
            let end = bytes[i + 1..]
                .iter()
                .position(|&c| c == b)
                .map_or(bytes.len(), |p| i + 2 + p);
            out.push((base + i..base + end.min(bytes.len()), Class::Str));
            i = end;
            continue;
        }
        if is_word_byte(b) {
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            // `proc.aname[2]`, `k8s.pod.label[app]`: the argument is part of the field token.
            let mut end = i;
            if bytes.get(i) == Some(&b'[')
                && let Some(p) = bytes[i..].iter().position(|&c| c == b']')
            {
                end = i + p + 1;
            }
            let word = &line[start..i];
            let class = if word.bytes().all(|c| c.is_ascii_digit()) {
                Some(Class::Number)
            } else if *in_condition && is_keyword(word) {
                Some(Class::Keyword)
            } else if word.contains('.') && fields::resolve(word).is_some() {
                Some(Class::Field)
            } else {
                None
            };
            if let Some(class) = class {
                let end = if class == Class::Field { end } else { i };
                out.push((base + start..base + end, class));
                i = end;
            }
            continue;
        }
        if *in_condition && matches!(b, b'=' | b'!' | b'<' | b'>') {
            let start = i;
            while i < bytes.len() && matches!(bytes[i], b'=' | b'!' | b'<' | b'>') {
                i += 1;
            }
            out.push((base + start..base + i, Class::Keyword));
            continue;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(&str, Class)> {
        highlight(text)
            .into_iter()
            .map(|(r, c)| (&text[r], c))
            .collect()
    }

    #[test]
    fn rule_item() {
        let text = "- rule: Shell in container # note\n  condition: spawned_process and proc.name in (bash, \"sh\") and proc.aname[2]=sshd\n";
        assert_eq!(
            classes(text),
            vec![
                ("-", Class::Key),
                ("rule:", Class::Key),
                ("# note", Class::Comment),
                ("condition:", Class::Key),
                ("and", Class::Keyword),
                ("proc.name", Class::Field),
                ("in", Class::Keyword),
                ("\"sh\"", Class::Str),
                ("and", Class::Keyword),
                ("proc.aname[2]", Class::Field),
                ("=", Class::Keyword),
            ]
        );
    }

    #[test]
    fn unterminated_string_and_numbers() {
        assert_eq!(
            classes("x: 'abc\n"),
            vec![("x:", Class::Key), ("'abc\n", Class::Str)]
        );
        assert_eq!(
            classes("condition: >\n  fd.sport > 1024"),
            vec![
                ("condition:", Class::Key),
                (">", Class::Keyword),
                ("fd.sport", Class::Field),
                (">", Class::Keyword),
                ("1024", Class::Number)
            ]
        );
    }
}
