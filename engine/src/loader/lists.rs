//! Lists: one level of lists-in-lists (falco `compile_list_infos`) and the textual substitution
//! of list names in conditions before parsing (falco `resolve_list`), keeping positions: the
//! substituted items map back to the list name where it was written.

use super::limits::{Budget, Exceeded, MAX_CONDITION_BYTES};
use super::mapped::MappedText;
use super::state::State;
use crate::stop::{StopCheck, Stopped};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A list ready for substitution.
#[derive(Debug, Clone)]
pub(crate) struct CompiledList {
    pub name: String,
    /// `a, b, "c d"`: the text a reference is replaced with, or the studio limit building it
    /// crossed (reported where the list is used: Falco has nothing to say about the list).
    pub substitution: Result<String, Exceeded>,
    pub empty: bool,
    pub used: bool,
}

/// Every list of a load, in definition order, found by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lists {
    pub all: Vec<CompiledList>,
    by_name: FxHashMap<String, usize>,
    /// Lists whose name has a delimiter: they can occur in a condition other than as one token.
    odd_names: Vec<usize>,
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
pub(crate) fn compile(
    state: &State,
    budget: &mut Budget,
    stop: StopCheck,
) -> Result<Lists, Stopped> {
    let mut all: Vec<CompiledList> = Vec::with_capacity(state.lists.items.len());
    let mut used_by_lists = Vec::new();
    for list in &state.lists.items {
        stop.check()?;
        let mut items: Vec<&str> = Vec::with_capacity(list.items.len());
        // A lower bound of the substitution's length plus 2 (items and their separators):
        // building stops past the limit, so a list naming a large list many times costs no
        // more than the limit.
        let mut len = 0;
        for item in &list.items {
            match state.lists.get(&item.text) {
                Some(r) if r.index < list.visibility => {
                    used_by_lists.push(state.lists.position(&item.text).unwrap_or_default());
                    for i in &r.items {
                        len += i.text.len() + 2;
                        items.push(&i.text);
                        if len > MAX_CONDITION_BYTES + 2 {
                            break;
                        }
                    }
                }
                _ => {
                    len += item.text.len() + 2;
                    items.push(&item.text);
                }
            }
            if len > MAX_CONDITION_BYTES + 2 {
                break;
            }
        }
        let substitution = items
            .iter()
            .map(|i| quote_item(i))
            .collect::<Vec<_>>()
            .join(", ");
        let substitution = budget
            .take_bytes(substitution.len(), Some(&list.name))
            .map(|()| substitution);
        all.push(CompiledList {
            name: list.name.clone(),
            substitution,
            empty: items.is_empty(),
            used: false,
        });
    }
    for i in used_by_lists {
        all[i].used = true;
    }
    Ok(Lists::new(all))
}

impl Lists {
    pub fn new(all: Vec<CompiledList>) -> Self {
        let by_name = all
            .iter()
            .enumerate()
            .map(|(i, l)| (l.name.clone(), i))
            .collect();
        let odd_names = all
            .iter()
            .enumerate()
            .filter(|(_, l)| l.name.bytes().any(is_delim))
            .map(|(i, _)| i)
            .collect();
        Lists {
            all,
            by_name,
            odd_names,
        }
    }

    /// The lists after list `i` that its substitution names.
    fn named_by(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let text = self.all[i].substitution.as_deref().unwrap_or_default();
        self.named_in(tokens(text), Some(i))
    }

    /// Marks used every list of `pending` and every later list their substitutions name.
    fn mark_reachable(&mut self, mut pending: BinaryHeap<Reverse<usize>>) {
        while let Some(Reverse(i)) = pending.pop() {
            if !self.all[i].used {
                self.all[i].used = true;
                let later: Vec<usize> = self.named_by(i).collect();
                pending.extend(later.into_iter().map(Reverse));
            }
        }
    }

    /// The lists that a condition naming `tokens` may use, after list `after`.
    fn named_in<'t>(
        &'t self,
        tokens: impl Iterator<Item = &'t str> + 't,
        after: Option<usize>,
    ) -> impl Iterator<Item = usize> + 't {
        tokens
            .filter_map(|t| self.by_name.get(t).copied())
            .filter(move |&i| after.is_none_or(|a| i > a))
    }
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

/// Substitutes every list, in order, into `cond` (each pass sees the result of the previous
/// ones, as in Falco); marks the lists it used. Only the lists the text names are visited, in
/// definition order, so the cost follows the condition, not the number of lists. On a studio
/// limit, `cond` is left partly substituted.
pub(crate) fn substitute(
    cond: &mut MappedText,
    lists: &mut Lists,
    budget: &mut Budget,
) -> Result<(), Exceeded> {
    if cond.text.len() > MAX_CONDITION_BYTES {
        return Err(Exceeded::Bytes { list: None });
    }
    // A delimited occurrence of a name without delimiters is a whole token.
    let mut pending: BinaryHeap<Reverse<usize>> = lists
        .named_in(tokens(&cond.text), None)
        .chain(lists.odd_names.iter().copied())
        .map(Reverse)
        .collect();
    let mut last = None;
    while let Some(Reverse(i)) = pending.pop() {
        if last.is_some_and(|l| i <= l) {
            continue;
        }
        last = Some(i);
        let used = match substitute_one(cond, &lists.all[i]) {
            Ok(used) => used,
            Err(x) => {
                // Falco would go on (for ever): the lists it would reach are not unused.
                pending.push(Reverse(i));
                lists.mark_reachable(pending);
                return Err(x);
            }
        };
        if used {
            lists.all[i].used = true;
            pending.extend(lists.named_by(i).map(Reverse));
        }
    }
    budget.take_bytes(cond.text.len(), None)
}

fn tokens(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.split(|c: char| c.is_ascii() && is_delim(c as u8))
        .filter(|t| !t.is_empty())
}

/// Falco's `resolve_list`, replicated step for step (including its cursor arithmetic), in one
/// pass: the text is rebuilt from the part already substituted (`out`) and the rest of the
/// original (`src[rest..]`), which is what Falco's in-place edits leave at every step.
fn substitute_one(cond: &mut MappedText, list: &CompiledList) -> Result<bool, Exceeded> {
    let name = list.name.as_str();
    if name.is_empty() {
        return Ok(false);
    }
    let src = std::mem::take(cond);
    let bytes = src.text.as_bytes();
    let mut out = MappedText::default();
    let mut rest = 0;
    let mut used = false;
    let mut found = find_from(&src.text, name, 0);
    while let Some(m) = found {
        let mut e = m + name.len();
        let before = if m > rest {
            Some(bytes[m - 1])
        } else {
            out.text.as_bytes().last().copied()
        };
        let mut next = m + 1;
        if before.is_none_or(is_delim) && (e >= bytes.len() || is_delim(bytes[e])) {
            let substitution = list.substitution.as_ref().map_err(Clone::clone)?;
            let origin = src.map(m, e);
            out.push_range(&src, rest, m);
            out.truncate(out.text.trim_end_matches([' ', '\t', '\n', '\r']).len());
            while e < bytes.len() && BLANKS.contains(&bytes[e]) {
                e += 1;
            }
            if list.empty {
                if out.text.ends_with(',') {
                    out.truncate(out.text.len() - 1);
                } else if e < bytes.len() && bytes[e] == b',' {
                    e += 1;
                }
            }
            let at_start = out.text.is_empty();
            let mut replacement = String::with_capacity(substitution.len() + 2);
            if !at_start {
                replacement.push(' ');
            }
            replacement.push_str(substitution);
            replacement.push(' ');
            out.push_fixed(&replacement, origin);
            if out.text.len() + (bytes.len() - e) > MAX_CONDITION_BYTES {
                return Err(Exceeded::Bytes { list: None });
            }
            rest = e;
            // Falco resumes two bytes past the substitution: one past the text when it
            // started the condition (no leading blank).
            next = e + usize::from(at_start);
            used = true;
        }
        found = find_from(&src.text, name, next);
    }
    out.push_range(&src, rest, bytes.len());
    *cond = out;
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::yaml::ScalarStyle;
    use crate::span::{FileId, Span};

    fn list(name: &str, items: &[&str]) -> CompiledList {
        CompiledList {
            name: name.into(),
            substitution: Ok(items
                .iter()
                .map(|i| quote_item(i))
                .collect::<Vec<_>>()
                .join(", ")),
            empty: items.is_empty(),
            used: false,
        }
    }

    fn sub(cond: &str, lists: &mut [CompiledList]) -> MappedText {
        let mut all = Lists::new(lists.to_vec());
        let mut m = MappedText::from_scalar(
            cond,
            ScalarStyle::Plain,
            cond,
            Span::new(FileId(0), 0, cond.len() as u32),
        );
        substitute(&mut m, &mut all, &mut Budget::new(cond.len())).expect("within budget");
        for (l, after) in lists.iter_mut().zip(all.all) {
            l.used = after.used;
        }
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
