//! Whole items of a rules file, for editing one live rule: the loader reports an item by its
//! first `key: value` line; the editor needs the whole `- rule: …` block (to open it and to write
//! it back in place), and the macros and lists its condition reaches (to show them beside it).

use rulestudio_engine::loader::Loaded;
use rulestudio_engine::syntax::{self, ast};
use std::collections::BTreeSet;
use std::ops::Range;

/// Leading spaces of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The byte range of the block sequence item whose mapping has its first key at `key_start`:
/// from its `-` to the end of its last content line (without the newline, trailing blank lines
/// and comments that follow it, which belong to what comes next). `None` when the item is not
/// a block item (a flow mapping, or `key_start` not at the start of a mapping).
pub fn item_range(text: &str, key_start: usize) -> Option<Range<usize>> {
    let line_start = text.get(..key_start)?.rfind('\n').map_or(0, |i| i + 1);
    let before_key = &text[line_start..key_start];
    // `- key: …` on one line, or `-` alone on the line before the key.
    let dash = if before_key.trim_start_matches(' ').starts_with('-')
        && before_key.trim_start_matches(' ')[1..].trim().is_empty()
    {
        line_start + indent(before_key)
    } else if before_key.trim().is_empty() && line_start > 0 {
        let prev_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
        let prev = &text[prev_start..line_start - 1];
        if prev.trim() != "-" {
            return None;
        }
        prev_start + indent(prev)
    } else {
        return None;
    };
    let dash_col = dash - text[..dash].rfind('\n').map_or(0, |i| i + 1);
    let mut end = text[dash..].find('\n').map_or(text.len(), |i| dash + i);
    let mut at = end;
    while at < text.len() {
        let next_start = at + 1;
        let next_end = text[next_start..]
            .find('\n')
            .map_or(text.len(), |i| next_start + i);
        let line = text[next_start..next_end].trim_end_matches('\r');
        let content = line.trim_start_matches(' ');
        // Blank, or a comment at the item's level: part of the item only if more of it follows.
        let tentative =
            content.is_empty() || (content.starts_with('#') && indent(line) <= dash_col);
        if !tentative {
            if indent(line) <= dash_col {
                break;
            }
            end = next_start + line.len();
        }
        at = next_end;
    }
    Some(dash..end)
}

/// A macro or list that a rule's condition reaches, directly or through other macros and lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used {
    pub kind: &'static str,
    pub name: String,
    /// The file that defines it (its last plain definition).
    pub file: String,
    /// Its whole item as written there.
    pub text: String,
}

/// Identifiers a condition names as a macro or as a bare list item.
fn referenced(condition: &str, out: &mut Vec<String>) {
    fn walk(e: &ast::Expr, out: &mut Vec<String>) {
        match &e.kind {
            ast::ExprKind::And(v) | ast::ExprKind::Or(v) => v.iter().for_each(|e| walk(e, out)),
            ast::ExprKind::Not(e) => walk(e, out),
            ast::ExprKind::Macro(name) => out.push(name.clone()),
            ast::ExprKind::Compare {
                rhs: ast::Rhs::List { items, .. },
                ..
            } => out.extend(items.iter().filter(|l| !l.quoted).map(|l| l.text.clone())),
            _ => {}
        }
    }
    walk(&syntax::parse(condition).tree, out);
}

/// The macros and lists rule `rule` reaches, in the order first reached; `files` are the texts
/// `loaded` was loaded from.
pub fn uses(loaded: &Loaded, file_texts: &[(&str, &str)], rule: &str) -> Vec<Used> {
    let Some(r) = loaded.rules.iter().find(|r| r.name == rule) else {
        return Vec::new();
    };
    let item = |span: rulestudio_engine::span::Span| -> Option<(String, String)> {
        let (name, text) = file_texts.get(span.file.0 as usize)?;
        let range = item_range(text, span.start as usize)?;
        Some((name.to_string(), text[range].to_string()))
    };
    let mut pending = Vec::new();
    referenced(&r.condition, &mut pending);
    pending.reverse();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut next = Vec::new();
        if let Some(m) = loaded.macros.iter().find(|m| m.name == name) {
            referenced(&m.condition, &mut next);
            if let Some((file, text)) = item(m.span) {
                out.push(Used {
                    kind: "macro",
                    name,
                    file,
                    text,
                });
            }
        } else if let Some(l) = loaded.lists.iter().find(|l| l.name == name) {
            // Lists may name other lists among their items.
            next.extend(l.items.iter().cloned());
            if let Some((file, text)) = item(l.span) {
                out.push(Used {
                    kind: "list",
                    name,
                    file,
                    text,
                });
            }
        }
        next.reverse();
        pending.extend(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_engine::loader::{LoadOptions, SourceFile, load};

    const FILE: &str = "# header\n- list: shells\n  items: [bash, sh]\n\n- macro: spawned_process\n  condition: evt.type = execve\n\n# about the rule\n- rule: 'Shell \"in\" container: /tmp #1'\n  desc: >\n    a shell\n\n    two paragraphs\n  # a comment inside\n  condition: spawned_process and proc.name in (shells)\n  output: \"%proc.name\"\n  priority: WARNING\n\n# trailing comment\n- rule: Next\n  desc: x\n  condition: spawned_process\n  output: x\n  priority: INFO\n";

    #[test]
    fn the_whole_item_from_its_dash_to_its_last_line() {
        let key = FILE.find("rule: 'Shell").unwrap();
        let r = item_range(FILE, key).unwrap();
        let item = &FILE[r];
        assert!(item.starts_with("- rule: 'Shell \"in\" container: /tmp #1'\n  desc"));
        assert!(item.ends_with("priority: WARNING"), "{item}");
        assert!(item.contains("# a comment inside") && item.contains("two paragraphs"));
        let last = FILE.find("rule: Next").unwrap();
        assert!(FILE[item_range(FILE, last).unwrap()].ends_with("priority: INFO"));
    }

    #[test]
    fn a_dash_alone_on_its_line_and_flow_items() {
        let text = "-\n  rule: a\n  desc: b\n- rule: c\n";
        let r = item_range(text, text.find("rule: a").unwrap()).unwrap();
        assert_eq!(&text[r], "-\n  rule: a\n  desc: b");
        let flow = "- {rule: a, desc: b}\n";
        assert_eq!(item_range(flow, flow.find("rule").unwrap()), None);
    }

    #[test]
    fn a_rule_reaches_its_macros_and_lists() {
        let files = [SourceFile {
            name: "falco_rules.yaml".into(),
            text: FILE.into(),
        }];
        let loaded = load(&files, &LoadOptions::default());
        let texts = [("falco_rules.yaml", FILE)];
        let used = uses(&loaded, &texts, "Shell \"in\" container: /tmp #1");
        let names: Vec<_> = used.iter().map(|u| (u.kind, u.name.as_str())).collect();
        assert_eq!(names, [("macro", "spawned_process"), ("list", "shells")]);
        assert_eq!(used[1].text, "- list: shells\n  items: [bash, sh]");
    }
}
