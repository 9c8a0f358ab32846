//! The HTML drawn behind the transparent editor textarea: highlighted tokens with wavy
//! underlines where diagnostics point. Same characters as the textarea, so they line up.

use super::highlight::{self, Class};
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Error,
    Warning,
}

/// Byte offset of 1-based `line`/`column` (columns count characters), clamped to the text.
pub fn offset_of(text: &str, line: u32, column: u32) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(p) => start += p + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..text[start..].find('\n').map_or(text.len(), |p| start + p)];
    start
        + line_text
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(line_text.len(), |(i, _)| i)
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

/// HTML for `text` with token classes and diagnostic marks. An empty mark range still shows:
/// it is widened to the next character so a "missing X here" diagnostic is visible.
pub fn render(text: &str, marks: &[(Range<usize>, Mark)]) -> String {
    let tokens = highlight::highlight(text);
    let marks: Vec<(Range<usize>, Mark)> = marks
        .iter()
        .map(|(r, m)| {
            let start = r.start.min(text.len());
            let mut end = r.end.clamp(start, text.len());
            if end == start {
                end = text[start..]
                    .chars()
                    .next()
                    .map_or(start, |c| start + c.len_utf8());
            }
            (start..end, *m)
        })
        .collect();
    let mut cuts: Vec<usize> = vec![0, text.len()];
    cuts.extend(tokens.iter().flat_map(|(r, _)| [r.start, r.end]));
    cuts.extend(marks.iter().flat_map(|(r, _)| [r.start, r.end]));
    cuts.retain(|&c| text.is_char_boundary(c));
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = String::with_capacity(text.len() * 2);
    let mut tok = tokens.iter().peekable();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        while tok.peek().is_some_and(|(r, _)| r.end <= a) {
            tok.next();
        }
        let class: Option<Class> = tok.peek().filter(|(r, _)| r.start <= a).map(|(_, c)| *c);
        // Errors win over warnings where both cover the text.
        let mark = marks
            .iter()
            .filter(|(r, _)| r.start <= a && b <= r.end)
            .map(|(_, m)| *m)
            .min_by_key(|m| if *m == Mark::Error { 0 } else { 1 });
        let mut classes = Vec::new();
        if let Some(c) = class {
            classes.push(c.css());
        }
        match mark {
            Some(Mark::Error) => classes.push("squiggle-error"),
            Some(Mark::Warning) => classes.push("squiggle-warning"),
            None => {}
        }
        if classes.is_empty() {
            escape(&text[a..b], &mut out);
        } else {
            out.push_str("<span class=\"");
            out.push_str(&classes.join(" "));
            out.push_str("\">");
            escape(&text[a..b], &mut out);
            out.push_str("</span>");
        }
    }
    // A trailing newline needs content after it or the overlay is one line short.
    out.push(' ');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_from_line_and_column() {
        let text = "ab\nTập x\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 3), 3 + "Tậ".len());
        assert_eq!(offset_of(text, 2, 99), 3 + "Tập x".len());
        assert_eq!(offset_of(text, 9, 1), text.len());
    }

    #[test]
    fn tokens_and_marks_nest() {
        let text = "x: proc.nme &a";
        let html = render(text, &[(3..11, Mark::Error)]);
        assert_eq!(
            html,
            "<span class=\"hl-key\">x:</span> <span class=\"squiggle-error\">proc.nme</span> &amp;a "
        );
        let html = render("a.b", &[(3..3, Mark::Warning)]);
        assert_eq!(html, "a.b ");
        let html = render("ab", &[(1..1, Mark::Warning)]);
        assert_eq!(html, "a<span class=\"squiggle-warning\">b</span> ");
    }
}
