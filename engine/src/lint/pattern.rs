//! What a regular expression written for `grep`/Perl means, in Falco terms.
//!
//! Falco's `regex` must match the whole value, while `=~`/`!~` and most people's intuition
//! search for the pattern anywhere. An anchored alternation of literals, `^(/usr/bin/|/app/)`,
//! is really a prefix test and is better written with `startswith` or `pmatch`.

/// The literal strings of `^(a|b|c)` or `^a` (prefix) or `^(a|b)$` (whole value), or `None`
/// when the pattern uses real regex syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    /// The value starts with one of these.
    Prefix(Vec<String>),
    /// The value is one of these.
    Exact(Vec<String>),
}

pub(crate) fn intent(pattern: &str, anchored_start: bool) -> Option<Intent> {
    let (p, start) = match pattern.strip_prefix('^') {
        Some(p) => (p, true),
        None => (pattern, anchored_start),
    };
    if !start {
        return None;
    }
    let (p, end) = match p.strip_suffix('$').filter(|p| !p.ends_with('\\')) {
        Some(p) => (p, true),
        None => match p.strip_suffix(".*") {
            Some(p) => (p, false),
            None => (p, false),
        },
    };
    let body = p
        .strip_prefix('(')
        .and_then(|b| b.strip_suffix(')'))
        .map(|b| b.strip_prefix("?:").unwrap_or(b))
        .unwrap_or(p);
    let alternatives = body.split('|').map(literal).collect::<Option<Vec<_>>>()?;
    if alternatives.iter().any(String::is_empty) {
        return None;
    }
    Some(if end {
        Intent::Exact(alternatives)
    } else {
        Intent::Prefix(alternatives)
    })
}

/// The text of a regex that is a plain literal (escapes like `\.` allowed).
fn literal(re: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let e = chars.next()?;
                if e.is_ascii_alphanumeric() {
                    return None;
                }
                out.push(e);
            }
            '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' => {
                return None;
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

/// A value as Falco reads it back: bare when it can be, else double-quoted.
pub(crate) fn render_value(v: &str) -> String {
    let bare = !v.is_empty() && !v.contains(|c: char| c.is_whitespace() || "()\"',=\\".contains(c));
    if bare {
        v.to_owned()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `field` tested for starting with one of `prefixes`, in the clearest Falco form: `pmatch` for
/// directories (it matches the directory and everything below), `startswith` otherwise.
pub(crate) fn prefix_check(field: &str, prefixes: &[String]) -> String {
    let dirs = prefixes
        .iter()
        .all(|p| p.starts_with('/') && p.ends_with('/') && p.len() > 1);
    if dirs {
        let items: Vec<String> = prefixes
            .iter()
            .map(|p| render_value(p.trim_end_matches('/')))
            .collect();
        return format!("{field} pmatch ({})", items.join(", "));
    }
    let parts: Vec<String> = prefixes
        .iter()
        .map(|p| format!("{field} startswith {}", render_value(p)))
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(" or "))
    }
}

/// `field` tested for being one of `values`.
pub(crate) fn exact_check(field: &str, values: &[String]) -> String {
    match values {
        [one] => format!("{field} = {}", render_value(one)),
        _ => format!(
            "{field} in ({})",
            values
                .iter()
                .map(|v| render_value(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_alternations_are_prefix_tests() {
        let p = intent("^(/usr/local/bin/|/app/|/opt/my-app/)", false);
        assert_eq!(
            p,
            Some(Intent::Prefix(vec![
                "/usr/local/bin/".into(),
                "/app/".into(),
                "/opt/my-app/".into()
            ]))
        );
        assert_eq!(
            intent("^/tmp/.*", false),
            Some(Intent::Prefix(vec!["/tmp/".into()]))
        );
        assert_eq!(
            intent("^(a|b\\.c)$", false),
            Some(Intent::Exact(vec!["a".into(), "b.c".into()]))
        );
        assert_eq!(intent("^/tmp/[a-z]+", false), None);
        assert_eq!(intent("/tmp/", false), None);
        assert_eq!(
            intent("/tmp/", true),
            Some(Intent::Prefix(vec!["/tmp/".into()]))
        );
    }

    #[test]
    fn prefix_checks_read_naturally() {
        let dirs = vec!["/usr/local/bin/".to_owned(), "/app/".to_owned()];
        assert_eq!(
            prefix_check("proc.exepath", &dirs),
            "proc.exepath pmatch (/usr/local/bin, /app)"
        );
        assert_eq!(
            prefix_check("fd.name", &["/tmp/x".to_owned()]),
            "fd.name startswith /tmp/x"
        );
        assert_eq!(
            prefix_check("fd.name", &["a b".to_owned(), "c".to_owned()]),
            "(fd.name startswith \"a b\" or fd.name startswith c)"
        );
        assert_eq!(
            exact_check("proc.name", &["bash".to_owned()]),
            "proc.name = bash"
        );
    }
}
