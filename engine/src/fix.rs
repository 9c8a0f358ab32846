//! Applying fixes to source text: used by `lint --fix`, the editor's fix buttons and tests.

use crate::diagnostic::{Applicability, Edit, Fix};

/// Which fixes to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixLevel {
    Safe,
    /// Safe and unsafe fixes.
    Unsafe,
}

impl FixLevel {
    pub fn allows(self, a: Applicability) -> bool {
        match a {
            Applicability::Safe => true,
            Applicability::Unsafe => self == FixLevel::Unsafe,
            Applicability::DisplayOnly => false,
        }
    }
}

/// Applies every fix whose edits do not overlap an edit already taken (earlier fixes win, as
/// ruff does); returns the new text and how many fixes were applied. The caller reloads and
/// repeats until nothing applies, so overlapping fixes land in a later pass.
pub fn apply<'f>(text: &str, fixes: impl IntoIterator<Item = &'f Fix>) -> (String, usize) {
    let mut taken: Vec<&Edit> = Vec::new();
    let mut applied = 0;
    for fix in fixes {
        let clashes = fix.edits.iter().any(|e| {
            e.span.end as usize > text.len()
                || !text.is_char_boundary(e.span.start as usize)
                || !text.is_char_boundary(e.span.end as usize)
                || taken.iter().any(|t| overlaps(t, e))
        }) || fix
            .edits
            .iter()
            .enumerate()
            .any(|(i, a)| fix.edits[..i].iter().any(|b| overlaps(a, b)));
        if !clashes {
            taken.extend(fix.edits.iter());
            applied += 1;
        }
    }
    taken.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for e in taken {
        out.push_str(&text[pos..e.span.start as usize]);
        out.push_str(&e.replacement);
        pos = e.span.end as usize;
    }
    out.push_str(&text[pos..]);
    (out, applied)
}

fn overlaps(a: &Edit, b: &Edit) -> bool {
    // Two insertions at the same point are ambiguous too.
    a.span.start < b.span.end && b.span.start < a.span.end || a.span.start == b.span.start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn fix(edits: &[(u32, u32, &str)]) -> Fix {
        Fix {
            message: String::new(),
            applicability: Applicability::Safe,
            edits: edits
                .iter()
                .map(|&(s, e, r)| Edit {
                    span: Span::local(s as usize, e as usize),
                    replacement: r.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn applies_non_overlapping_and_defers_the_rest() {
        let text = "alert: Warning\ncondition: a !~ b";
        let a = fix(&[(0, 5, "priority")]);
        let b = fix(&[(28, 30, "not regex")]);
        let c = fix(&[(2, 4, "zz")]);
        let (out, n) = apply(text, [&a, &b, &c]);
        assert_eq!(n, 2);
        assert_eq!(out, "priority: Warning\ncondition: a not regex b");
    }

    #[test]
    fn out_of_range_edits_are_ignored() {
        let (out, n) = apply("abc", [&fix(&[(2, 9, "x")])]);
        assert_eq!((out.as_str(), n), ("abc", 0));
    }
}
