//! `fnmatch(3)` without `FNM_PATHNAME` (so `*` also matches `/`), with optional `FNM_CASEFOLD`:
//! the semantics of `glob`/`iglob` and of the glob components of `pmatch`.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Char(char),
    Any,
    Star,
    /// `[...]`: (negated, ranges).
    Class(bool, Vec<(char, char)>),
}

/// A pattern parsed once at compile time.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    fold: bool,
}

impl Glob {
    pub(crate) fn new(pattern: &str, fold: bool) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let fold_char = |c: char| if fold { c.to_ascii_lowercase() } else { c };
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                }
                '?' => toks.push(Tok::Any),
                '[' => match parse_class(&chars[i + 1..], fold) {
                    Some((tok, used)) => {
                        toks.push(tok);
                        i += used;
                    }
                    // An unterminated bracket is an ordinary character, as in fnmatch.
                    None => toks.push(Tok::Char('[')),
                },
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    toks.push(Tok::Char(fold_char(chars[i])));
                }
                c => toks.push(Tok::Char(fold_char(c))),
            }
            i += 1;
        }
        Glob { toks, fold }
    }

    pub(crate) fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Char(_)))
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        // Iterative matching with a single backtrack point for the last `*`: linear for the
        // usual patterns, never exponential. Works on byte offsets, one char at a time.
        let next = |t: usize| -> (char, usize) {
            let c = text[t..].chars().next().unwrap_or('\0');
            (
                if self.fold { c.to_ascii_lowercase() } else { c },
                c.len_utf8(),
            )
        };
        let (mut p, mut t) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            let (c, w) = next(t);
            match self.toks.get(p) {
                Some(Tok::Star) => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                Some(tok) if tok_matches(tok, c) => {
                    p += 1;
                    t += w;
                    continue;
                }
                _ => {}
            }
            match star {
                Some((sp, st)) => {
                    let st = st + next(st).1;
                    p = sp + 1;
                    t = st;
                    star = Some((sp, st));
                }
                None => return false,
            }
        }
        self.toks[p..].iter().all(|t| *t == Tok::Star)
    }
}

fn tok_matches(tok: &Tok, c: char) -> bool {
    match tok {
        Tok::Char(x) => *x == c,
        Tok::Any => true,
        Tok::Star => true,
        Tok::Class(neg, ranges) => ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *neg,
    }
}

/// Parses the inside of `[...]` (after the `[`); returns the token and the characters used.
fn parse_class(chars: &[char], fold: bool) -> Option<(Tok, usize)> {
    let mut i = 0;
    let neg = matches!(chars.first(), Some('!') | Some('^'));
    if neg {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            break;
        }
        first = false;
        let lo = if c == '\\' {
            i += 1;
            *chars.get(i)?
        } else {
            c
        };
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = chars[i + 2];
            ranges.push((lo, hi));
            i += 3;
        } else {
            ranges.push((lo, lo));
            i += 1;
        }
    }
    if fold {
        let extra: Vec<(char, char)> = ranges
            .iter()
            .flat_map(|&(lo, hi)| [(lo.to_ascii_lowercase(), hi.to_ascii_lowercase())])
            .collect();
        ranges = extra;
    }
    Some((Tok::Class(neg, ranges), i + 1))
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn fnmatch_without_pathname() {
        let m = |p: &str, t: &str| Glob::new(p, false).matches(t);
        assert!(m("/tmp/*", "/tmp/a/b/c"));
        assert!(m("*.log", "x.log"));
        assert!(!m("*.log", "x.log1"));
        assert!(m("a?c", "abc"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[!a-c]x", "bx"));
        assert!(m("[]]", "]"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("[", "["));
        assert!(Glob::new("*.LOG", true).matches("x.log"));
        assert!(Glob::new("[A-C]", true).matches("b"));
    }
}
