//! Compiler hints on constant values (libs `check_value_and_add_warnings`), code
//! `LOAD_COMPILE_CONDITION`.

use super::Cx;
use crate::diagnostic::Code;
use crate::syntax::ast::{CmpOp, Literal, TransformerKind};

const TRANSFORMERS: &[TransformerKind] = &[
    TransformerKind::ToLower,
    TransformerKind::ToUpper,
    TransformerKind::B64,
    TransformerKind::Basename,
    TransformerKind::Len,
    TransformerKind::Join,
    TransformerKind::Concat,
    TransformerKind::Getopt,
];

pub(crate) fn check_value(cx: &mut Cx, op: CmpOp, lit: &Literal) {
    let v = lit.text.as_str();
    let nospaces: String = v.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if op == CmpOp::Regex && regex_is_simple(v) {
        cx.warn(
            Code::COMPILE_CONDITION,
            format!(
                "regex check with '{v}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'"
            ),
            lit.span,
        );
    }
    if looks_like_field(&nospaces) {
        cx.warn(
            Code::COMPILE_CONDITION,
            format!("'{v}' may be a valid field misused as a const string value"),
            lit.span,
        );
    }
    for t in TRANSFORMERS {
        let n = t.as_str();
        if nospaces.len() >= n.len() + 2
            && nospaces.starts_with(n)
            && nospaces[n.len()..].starts_with('(')
            && nospaces.ends_with(')')
        {
            cx.warn(
                Code::COMPILE_CONDITION,
                format!("'{v}' may be a valid field transformer misused as a const string value"),
                lit.span,
            );
        }
    }
}

/// A name the field factory would accept: a catalogue field, optionally `[arg]`.
fn looks_like_field(s: &str) -> bool {
    let (name, arg) = match s.find('[') {
        Some(i) if s.ends_with(']') => (&s[..i], Some(&s[i + 1..s.len() - 1])),
        Some(_) => return false,
        None => (s, None),
    };
    match (crate::fields::resolve(name), arg) {
        (Some((_, None)), None) => true,
        (Some((_, Some(_))), None) => true,
        (Some((id, None)), Some(_)) => id.info().arg.accepts_arg(),
        _ => false,
    }
}

/// No regex special character except the anchors and a leading/trailing `.*`, `.+`, `.?`.
fn regex_is_simple(v: &str) -> bool {
    const SPECIAL: &[u8] = b".+*?^$()[]{}|\\";
    let b = v.as_bytes();
    let len = b.len();
    let mut i = 0;
    while i < len {
        if (i == 0 && b[i] == b'^') || (i == len - 1 && b[i] == b'$') {
            i += 1;
            continue;
        }
        if ((i == 0 && len > 1) || (len >= 2 && i == len - 2))
            && b[i] == b'.'
            && i + 1 < len
            && b"+*?".contains(&b[i + 1])
        {
            i += 2;
            continue;
        }
        if SPECIAL.contains(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_regexes() {
        assert!(regex_is_simple("^abc$"));
        assert!(regex_is_simple(".*abc"));
        assert!(regex_is_simple("abc.*"));
        assert!(!regex_is_simple("a.c"));
        assert!(!regex_is_simple("(a|b)"));
        assert!(looks_like_field("proc.name"));
        assert!(looks_like_field("proc.aname[2]"));
        assert!(looks_like_field("evt.arg.flags"));
        assert!(!looks_like_field("/usr/bin"));
        assert!(!looks_like_field("proc.name[2]"));
    }
}
