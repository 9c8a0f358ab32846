//! Field transformers at run time: `tolower`, `toupper`, `b64` (decode), `basename`, `len`,
//! `join`, `concat`, `getopt`, over plain or list values.

use super::derive;
use super::typed::b64_decode;
use crate::event::{FieldSource, Value};
use crate::fields::FieldId;
use crate::syntax::ast::TransformerKind;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub(crate) enum TExpr {
    Field {
        id: FieldId,
        arg: Option<Box<str>>,
    },
    /// A field argument libs parses but can never extract (`proc.args[-2]`).
    Never,
    Const(Box<str>),
    List(Vec<TExpr>),
    Lower(Box<TExpr>),
    Upper(Box<TExpr>),
    B64(Box<TExpr>),
    Basename(Box<TExpr>),
    Len(Box<TExpr>),
    Join(Box<TExpr>, Box<TExpr>),
    Concat(Vec<TExpr>),
    /// `getopt(args, optstring)`, or `getopt(...)[c]` with a selector.
    Getopt {
        args: Box<TExpr>,
        optstring: Box<TExpr>,
        selector: Option<char>,
    },
}

impl TExpr {
    /// A single-argument transformer applied to `inner`; `None` for the multi-argument ones.
    pub(crate) fn unary(kind: TransformerKind, inner: TExpr) -> Option<TExpr> {
        let b = Box::new(inner);
        Some(match kind {
            TransformerKind::ToLower => TExpr::Lower(b),
            TransformerKind::ToUpper => TExpr::Upper(b),
            TransformerKind::B64 => TExpr::B64(b),
            TransformerKind::Basename => TExpr::Basename(b),
            TransformerKind::Len => TExpr::Len(b),
            TransformerKind::Join | TransformerKind::Concat | TransformerKind::Getopt => {
                return None;
            }
        })
    }
}

fn text(v: &Value<'_>) -> Cow<'static, str> {
    match v {
        Value::Str(s) => Cow::Owned(s.to_string()),
        Value::Bytes(b) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
        other => Cow::Owned(crate::output::render_value(other)),
    }
}

/// Applies `f` to a value, or to every element of a list.
fn map_strings<'a>(v: Value<'a>, f: &dyn Fn(&[u8]) -> Option<Value<'static>>) -> Option<Value<'a>> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| map_strings(i.clone(), f))
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        Value::Str(s) => f(s.as_bytes()),
        Value::Bytes(b) => f(&b),
        other => f(text(&other).as_bytes()),
    }
}

fn bytes_value(b: Vec<u8>) -> Value<'static> {
    match String::from_utf8(b) {
        Ok(s) => Value::Str(Cow::Owned(s)),
        Err(e) => Value::Bytes(Cow::Owned(e.into_bytes())),
    }
}

impl TExpr {
    pub(crate) fn eval<'a, S: FieldSource + ?Sized>(&self, src: &'a S) -> Option<Value<'a>> {
        match self {
            TExpr::Field { id, arg } => derive::extract(src, *id, arg.as_deref()),
            TExpr::Never => None,
            TExpr::Const(s) => Some(Value::Str(Cow::Owned(s.to_string()))),
            TExpr::List(items) => items
                .iter()
                .map(|i| i.eval(src))
                .collect::<Option<Vec<_>>>()
                .map(Value::List),
            TExpr::Lower(e) => {
                map_strings(e.eval(src)?, &|b| Some(bytes_value(b.to_ascii_lowercase())))
            }
            TExpr::Upper(e) => {
                map_strings(e.eval(src)?, &|b| Some(bytes_value(b.to_ascii_uppercase())))
            }
            TExpr::B64(e) => map_strings(e.eval(src)?, &|b| b64_decode(b).map(bytes_value)),
            TExpr::Basename(e) => map_strings(e.eval(src)?, &|b| {
                let start = b.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
                Some(bytes_value(b[start..].to_vec()))
            }),
            TExpr::Len(e) => Some(Value::Uint(match e.eval(src)? {
                Value::List(items) => items.len() as u64,
                Value::Str(s) => s.len() as u64,
                Value::Bytes(b) => b.len() as u64,
                other => text(&other).len() as u64,
            })),
            TExpr::Join(sep, list) => {
                let sep = text(&sep.eval(src)?);
                let joined = match list.eval(src)? {
                    Value::List(items) => items.iter().map(text).collect::<Vec<_>>().join(&sep),
                    other => text(&other).into_owned(),
                };
                Some(Value::Str(Cow::Owned(joined)))
            }
            TExpr::Concat(parts) => {
                let mut out = String::new();
                for p in parts {
                    out.push_str(&text(&p.eval(src)?));
                }
                Some(Value::Str(Cow::Owned(out)))
            }
            TExpr::Getopt {
                args,
                optstring,
                selector,
            } => {
                let optstring = text(&optstring.eval(src)?);
                let args: Vec<String> = match args.eval(src)? {
                    Value::List(items) => items.iter().map(|i| text(i).into_owned()).collect(),
                    other => text(&other)
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                };
                getopt(&args, &optstring, *selector)
            }
        }
    }
}

/// POSIX `getopt` over `args`: the list of option characters, each followed by its argument
/// when it takes one (`?` for unknown options, `""` for a missing argument); with a selector,
/// the argument (or the option itself) of the last occurrence of that option.
fn getopt(args: &[String], optstring: &str, selector: Option<char>) -> Option<Value<'static>> {
    let spec = optstring.strip_prefix(':').unwrap_or(optstring);
    let takes = |c: char| -> Option<bool> {
        let i = spec.find(c).filter(|_| c != ':')?;
        Some(spec[i + c.len_utf8()..].starts_with(':'))
    };
    let mut out: Vec<String> = Vec::new();
    let mut selected: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            break;
        }
        if arg.starts_with("--") && arg.len() > 2 {
            i += 1;
            continue;
        }
        if !arg.starts_with('-') || arg.len() == 1 {
            break;
        }
        for (pos, c) in arg.char_indices().skip(1) {
            let Some(with_arg) = takes(c) else {
                if selector.is_none() {
                    out.push("?".into());
                }
                continue;
            };
            let wanted = selector.is_none_or(|s| s == c);
            if !with_arg {
                if wanted {
                    match selector {
                        Some(_) => selected = Some(c.to_string()),
                        None => out.push(c.to_string()),
                    }
                }
                continue;
            }
            let rest = &arg[pos + c.len_utf8()..];
            let value = if !rest.is_empty() {
                Some(rest.to_string())
            } else if i + 1 < args.len() {
                i += 1;
                Some(args[i].clone())
            } else {
                None
            };
            if wanted {
                match selector {
                    Some(_) => selected = Some(value.unwrap_or_default()),
                    // libs reports an option whose argument is missing as one empty
                    // string, without the option character.
                    None => match value {
                        Some(value) => out.extend([c.to_string(), value]),
                        None => out.push(String::new()),
                    },
                }
            }
            break;
        }
        i += 1;
    }
    match selector {
        Some(_) => selected.map(|s| Value::Str(Cow::Owned(s))),
        None => Some(Value::List(
            out.into_iter().map(|s| Value::Str(Cow::Owned(s))).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn getopt_like_posix() {
        let list = |v: Option<Value<'_>>| match v {
            Some(Value::List(items)) => items
                .iter()
                .map(|i| text(i).into_owned())
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            list(getopt(&strs(&["-nt", "x", "-z", "file"]), "nt:", None)),
            ["n", "t", "x", "?"]
        );
        assert_eq!(
            list(getopt(
                &strs(&["-tvalue", "--long", "-n", "--", "-t"]),
                "nt:",
                None
            )),
            ["t", "value", "n"]
        );
        assert_eq!(
            getopt(&strs(&["-t", "a", "-t", "b"]), "t:", Some('t')),
            Some(Value::Str("b".into()))
        );
        assert_eq!(getopt(&strs(&["-n"]), "t:", Some('t')), None);
        assert_eq!(list(getopt(&strs(&["-n", "-t"]), "nt:", None)), ["n", ""]);
    }
}
