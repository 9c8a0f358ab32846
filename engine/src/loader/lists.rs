//! Lists: one level of lists-in-lists (falco `compile_list_infos`) and the textual substitution
//! of list names in conditions before parsing (falco `resolve_list`), keeping positions: the
//! substituted items map back to the list name where it was written.

use super::mapped::MappedText;
use super::state::State;
use rustc_hash::{FxHashSet, FxHasher};
use std::hash::Hasher;

/// A list ready for substitution.
#[derive(Debug, Clone)]
pub(crate) struct CompiledList {
    pub name: String,
    /// `a, b, "c d"`: the text a reference is replaced with.
    pub substitution: String,
    pub empty: bool,
    pub used: bool,
}

/// Falco's `quote_item`.
pub(crate) fn quote_item(item: &str) -> std::borrow::Cow<'_, str> {
    if item.contains(' ') && !item.starts_with('"') && !item.starts_with('\'') {
        format!("\"{item}\"").into()
    } else {
        item.into()
    }
}

/// Every list in definition order with lists-in-lists resolved one level deep: an item naming
/// a list whose first definition precedes this list's last (re)definition is replaced by
/// that list's raw items.
pub(crate) fn compile(state: &State) -> Vec<CompiledList> {
    let mut out: Vec<CompiledList> = Vec::with_capacity(state.lists.items.len());
    let mut used_by_lists = Vec::new();
    for list in &state.lists.items {
        let mut items: Vec<&str> = Vec::with_capacity(list.items.len());
        for item in &list.items {
            match state.lists.get(&item.text) {
                Some(r) if r.index < list.visibility => {
                    used_by_lists.push(state.lists.position(&item.text).unwrap_or_default());
                    items.extend(r.items.iter().map(|i| i.text.as_str()));
                }
                _ => items.push(&item.text),
            }
        }
        let substitution = items
            .iter()
            .map(|i| quote_item(i))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(CompiledList {
            name: list.name.clone(),
            substitution,
            empty: items.is_empty(),
            used: false,
        });
    }
    for i in used_by_lists {
        out[i].used = true;
    }
    out
}

const BLANKS: &[u8] = b" \t\n\r";

fn is_delim(b: u8) -> bool {
    BLANKS.contains(&b) || matches!(b, b'(' | b')' | b',' | b'=')
}

/// Finds `needle` in `hay` at or after byte `from` (moved up to a character boundary: a match
/// can only start on one).
fn find_from(hay: &str, needle: &str, mut from: usize) -> Option<usize> {
    while from < hay.len() && !hay.is_char_boundary(from) {
        from += 1;
    }
    hay.get(from..)?.find(needle).map(|i| i + from)
}

/// Substitutes every list of `lists`, in order, into `cond` (each pass sees the result of the
/// previous ones, as in Falco); marks the lists it used.
pub(crate) fn substitute(cond: &mut MappedText, lists: &mut [CompiledList]) {
    // A delimited occurrence of a name without delimiters is a whole token, so most lists can
    // be ruled out without searching the text (the loader does this for every condition).
    // Hashes only: a collision merely costs a search that finds nothing.
    let mut tokens: FxHashSet<u64> = tokens(&cond.text).collect();
    for list in lists.iter_mut() {
        let may_occur = list.name.bytes().any(is_delim) || tokens.contains(&token_hash(&list.name));
        if may_occur && substitute_one(cond, list) {
            list.used = true;
            tokens.extend(self::tokens(&list.substitution));
        }
    }
}

fn tokens(text: &str) -> impl Iterator<Item = u64> + '_ {
    text.split(|c: char| c.is_ascii() && is_delim(c as u8))
        .filter(|t| !t.is_empty())
        .map(token_hash)
}

fn token_hash(token: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(token.as_bytes());
    h.finish()
}

/// Falco's `resolve_list`, replicated step for step (including its cursor arithmetic).
fn substitute_one(cond: &mut MappedText, list: &CompiledList) -> bool {
    let name = list.name.as_str();
    if name.is_empty() {
        return false;
    }
    let mut used = false;
    let mut start = find_from(&cond.text, name, 0);
    while let Some(mut s) = start {
        let bytes = cond.text.as_bytes();
        let mut e = s + name.len();
        let mut next = s + 1;
        if (s == 0 || is_delim(bytes[s - 1])) && (e >= bytes.len() || is_delim(bytes[e])) {
            let origin = cond.map(s, e);
            while s > 0 && BLANKS.contains(&bytes[s - 1]) {
                s -= 1;
            }
            while e < bytes.len() && BLANKS.contains(&bytes[e]) {
                e += 1;
            }
            if list.empty {
                if s > 0 && bytes[s - 1] == b',' {
                    s -= 1;
                } else if e < bytes.len() && bytes[e] == b',' {
                    e += 1;
                }
            }
            let mut replacement = String::with_capacity(list.substitution.len() + 2);
            if s > 0 {
                replacement.push(' ');
            }
            replacement.push_str(&list.substitution);
            replacement.push(' ');
            cond.replace(s, e, &replacement, origin);
            next = s + list.substitution.len() + 1 + 1;
            used = true;
        }
        start = find_from(&cond.text, name, next);
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::yaml::ScalarStyle;
    use crate::span::{FileId, Span};

    fn list(name: &str, items: &[&str]) -> CompiledList {
        CompiledList {
            name: name.into(),
            substitution: items
                .iter()
                .map(|i| quote_item(i))
                .collect::<Vec<_>>()
                .join(", "),
            empty: items.is_empty(),
            used: false,
        }
    }

    fn sub(cond: &str, lists: &mut [CompiledList]) -> MappedText {
        let mut m = MappedText::from_scalar(
            cond,
            ScalarStyle::Plain,
            cond,
            Span::new(FileId(0), 0, cond.len() as u32),
        );
        substitute(&mut m, lists);
        m
    }

    #[test]
    fn delimited_names_only() {
        let mut lists = [list("my_list", &["a", "b c"])];
        assert_eq!(
            sub("proc.name in (my_list)", &mut lists).text,
            "proc.name in ( a, \"b c\" )"
        );
        assert!(lists[0].used);
        let mut lists = [list("my_list", &["a"])];
        assert_eq!(
            sub("fd.name in (file_my_list)", &mut lists).text,
            "fd.name in (file_my_list)"
        );
        assert!(!lists[0].used);
        assert_eq!(sub("proc.name=my_list", &mut lists).text, "proc.name= a ");
        assert_eq!(sub("proc.name= my_list", &mut lists).text, "proc.name= a ");
    }

    #[test]
    fn empty_list_takes_a_comma_with_it() {
        let mut lists = [list("empty", &[])];
        assert_eq!(sub("x in (a, empty)", &mut lists).text, "x in (a  )");
        assert_eq!(sub("x in (empty, a)", &mut lists).text, "x in (   a)");
        assert_eq!(sub("x in (empty)", &mut lists).text, "x in (  )");
    }

    #[test]
    fn several_occurrences_and_positions() {
        let mut lists = [list("l", &["x", "y"])];
        let cond = "a in (l) or b in (l)";
        let m = sub(cond, &mut lists);
        assert_eq!(m.text, "a in ( x, y ) or b in ( x, y )");
        let y2 = m.text.rfind('y').unwrap();
        assert_eq!(m.map(y2, y2 + 1), Span::new(FileId(0), 18, 19));
        let b = m.text.find('b').unwrap();
        assert_eq!(&cond[m.map(b, b + 1).range()], "b");
    }

    #[test]
    fn later_lists_see_earlier_substitutions() {
        let mut lists = [list("outer", &["inner"]), list("inner", &["z"])];
        assert_eq!(sub("p in (outer)", &mut lists).text, "p in ( z )");
        assert!(lists[1].used);
    }
}
