//! yaml-cpp's leniency about indentation inside flow collections.
//!
//! YAML 1.2 wants every line of a flow collection indented more than the block it sits in;
//! saphyr-parser enforces that, yaml-cpp (and libyaml) do not. Official rules files rely on
//! the lenient reading, e.g. `falco-sandbox_rules.yaml`:
//!
//! ```yaml
//! - list: miner_domains
//!   items: [
//!     "a.example",
//!     "b.example"
//!   ]
//! ```
//!
//! Inside a flow collection a line break is only white space, so when saphyr rejects such a
//! line we turn the line breaks (and any comments) between the previous token and the
//! offending one into blanks and parse again. Every replaced character becomes exactly one
//! blank, so the parser's character indices still address the original text.

/// How many under-indented flow lines one file may have; each costs one more parse.
pub(crate) const MAX_JOINS: usize = 256;

/// saphyr-parser's messages for a line that is not indented enough.
pub(crate) fn is_indentation_error(info: &str) -> bool {
    info == "invalid indentation" || info == "invalid indentation in flow construct"
}

/// `chars` with the line break before the token at character index `at` (and the blank or
/// comment lines in between) blanked out, when that token is evidently inside a flow
/// collection: it closes one or separates entries (`]`, `}`, `,`), or the previous token opens
/// one or separates entries (`[`, `{`, `,`). `None` when the token is not first on its line
/// or is not in a flow collection; then the error stands.
pub(crate) fn join_line(chars: &[char], at: usize) -> Option<Vec<char>> {
    let line_start = chars[..at.min(chars.len())].iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1);
    if line_start == 0 || chars[line_start..at].iter().any(|c| !matches!(c, ' ' | '\t')) {
        return None;
    }
    let mut blank: Vec<usize> = Vec::new();
    // Walk back over the previous lines to the one with content.
    let mut end = line_start - 1; // the '\n' ending the previous line
    loop {
        blank.push(end);
        let start = chars[..end].iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1);
        let line = &chars[start..end];
        let first = line.iter().position(|c| !matches!(c, ' ' | '\t' | '\r'));
        match first {
            None => blank.extend(start..end),
            Some(i) if line[i] == '#' => blank.extend(start + i..end),
            Some(_) => {
                let content_end = start + comment_start(line).unwrap_or(line.len());
                blank.extend(content_end..end);
                let last = chars[start..content_end].iter().rev().find(|c| !matches!(c, ' ' | '\t' | '\r'))?;
                let in_flow = matches!(last, '[' | '{' | ',') || matches!(chars.get(at), Some(']' | '}' | ','));
                if !in_flow {
                    return None;
                }
                break;
            }
        }
        if start == 0 {
            return None;
        }
        end = start - 1;
    }
    let mut out = chars.to_vec();
    for i in blank {
        out[i] = ' ';
    }
    Some(out)
}

/// Index of a `#` comment in one line (a `#` after a blank, outside quotes).
fn comment_start(line: &[char]) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, &c) in line.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && matches!(prev, ' ' | '\t') => return Some(i),
            None => {}
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(text: &str, token: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        let at = text[..text.rfind(token).unwrap()].chars().count();
        join_line(&chars, at).map(|c| c.into_iter().collect())
    }

    #[test]
    fn closing_bracket_joins_the_previous_line() {
        assert_eq!(join("a: [\n  x\n]\n", "]").as_deref(), Some("a: [\n  x ]\n"));
    }

    #[test]
    fn comments_and_blank_lines_in_between_are_blanked() {
        let text = "a: [\n  x, # first\n\n# note\ny]\n";
        assert_eq!(join(text, "y").as_deref(), Some(format!("a: [\n  x, {}y]\n", " ".repeat(16)).as_str()));
    }

    #[test]
    fn a_hash_in_quotes_is_not_a_comment() {
        assert_eq!(join("a: [\n  'x #1',\ny]", "y").as_deref(), Some("a: [\n  'x #1', y]"));
    }

    #[test]
    fn block_context_is_left_alone() {
        assert_eq!(join("a:\n  b: 1\nc: 2\n", "c"), None);
        assert_eq!(join("a: [x, y] z", "z"), None);
    }
}
