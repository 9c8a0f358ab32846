//! Field arguments as libsinsp parses them in a condition. libs joins a field and its argument
//! into one string (`create_filtercheck_name`: `name[arg]`), and the field class that claims
//! the name parses it with its own rules (`parse_field_name` of `sinsp_filtercheck_event.cpp`,
//! `sinsp_filtercheck_thread.cpp`, `sinsp_filtercheck_fd.cpp`, `plugin_filtercheck.cpp`); a
//! parse that does not consume the whole string is "nonexistent field"
//! (`filter_check_list::new_filter_check_from_fldname`). This module is that table of rules,
//! one per field with an argument; every other field takes none.

use super::{EVENT_NAMES, EVT_PARAMS, FieldId};

/// How a field's argument is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// No argument (libs' generic longest-prefix parse).
    Plain,
    /// `evt.arg.NAME` (an event parameter name) or `evt.arg[N]` (an `int32` index).
    EvtArg,
    /// `evt.rawarg.NAME` only.
    EvtRawarg,
    /// `evt.around[T]` (a `uint64` timestamp).
    EvtAround,
    /// `evt.type.is.NAME` (an event name or a `uint32` code).
    EvtTypeIs,
    /// `evt.abspath`, `evt.abspath.src`, `evt.abspath.dst`.
    EvtAbspath,
    /// `proc.aname`, `proc.aname[N]` (an `int32`, `-1` meaning no index).
    AncestorIndex,
    /// `proc.env`, `proc.env[KEY]`.
    EnvKey,
    /// `thread.cgroup.SUBSYS` (letters and `_`).
    Cgroup,
    /// `fd.types`, `fd.types[N]` (an `int64`).
    FdTypes,
    /// A plugin field (the container plugin's): `field[arg]` only, as the table allows.
    Plugin,
}

fn syntax(field: FieldId) -> Syntax {
    let info = field.info();
    if info.class == "container plugin" {
        return Syntax::Plugin;
    }
    match info.name {
        "evt.arg" => Syntax::EvtArg,
        "evt.rawarg" => Syntax::EvtRawarg,
        "evt.around" => Syntax::EvtAround,
        "evt.type.is" => Syntax::EvtTypeIs,
        "evt.abspath" => Syntax::EvtAbspath,
        "proc.apid" | "proc.aname" | "proc.aexe" | "proc.aexepath" | "proc.acmdline"
        | "proc.args" | "proc.aargs" => Syntax::AncestorIndex,
        "proc.env" | "proc.aenv" => Syntax::EnvKey,
        "thread.cgroup" => Syntax::Cgroup,
        "fd.types" => Syntax::FdTypes,
        _ => Syntax::Plain,
    }
}

/// Whether `field`'s argument is written after a dot (`evt.arg.flags`, `thread.cgroup.cpu`)
/// rather than in brackets (`proc.aname[2]`, `k8s.pod.label[app]`), as libs reads it.
pub fn argument_after_dot(field: FieldId) -> bool {
    matches!(
        syntax(field),
        Syntax::EvtArg
            | Syntax::EvtRawarg
            | Syntax::EvtTypeIs
            | Syntax::EvtAbspath
            | Syntax::Cgroup
    )
}

/// What a condition's field resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUse {
    pub id: FieldId,
    pub arg: FieldArg,
}

/// A field's argument after libs' parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldArg {
    None,
    /// The argument as the evaluator looks it up (an index in canonical decimal form).
    Some(String),
    /// An argument that parses but names nothing libs can ever extract (`proc.apid[-2]`:
    /// libs walks 2^32-2 parents and runs out; `evt.arg[-1]`).
    Never,
}

/// Why libs rejects a field as written; the text is libs' exception message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("{}", crate::messages::nonexistent_field(.0))]
    Nonexistent(String),
    #[error("filter syntax error: {0}")]
    Syntax(String),
    #[error("{0} is not a valid number")]
    NotANumber(String),
    #[error("evt.arg fields must be expressed explicitly")]
    RawargIndex,
    #[error("unknown event argument {0}")]
    UnknownEventArgument(String),
    #[error("wrong syntax for evt.around")]
    AroundSyntax,
    #[error("filter '{written}': {field} requires an argument but none provided")]
    PluginArgMissing {
        written: String,
        field: &'static str,
    },
    #[error(
        "filter '{written}': {field} does not allow nor require an argument but one is provided: {arg}"
    )]
    PluginArgNotAllowed {
        written: String,
        field: &'static str,
        arg: String,
    },
    #[error("filter '{written}': {field} has unbalanced argument brackets")]
    PluginUnbalanced {
        written: String,
        field: &'static str,
    },
}

/// The longest field name that is a prefix of `name` (libs' classes match by prefix).
fn longest_prefix(name: &str) -> Option<FieldId> {
    (1..=name.len())
        .rev()
        .filter(|&end| name.is_char_boundary(end))
        .find_map(|end| super::get(&name[..end]))
}

/// `sscanf("%d%c")` (libs `sinsp_numparser::parsed32`): blanks, a sign, digits, nothing more;
/// kept to 32 bits as the C store does.
fn parse_d32(text: &str) -> Result<i32, FieldError> {
    crate::eval::typed::parse_int(text, super::FieldType::Int32)
        .map(|v| v as i32)
        .map_err(|_| FieldError::NotANumber(text.to_string()))
}

/// The field and argument that `name` (as written, dotted arguments included) with the
/// bracketed argument `arg` stands for in a condition, or libs' error.
pub fn parse(name: &str, arg: Option<&str>) -> Result<FieldUse, FieldError> {
    let written = match arg {
        Some(a) => format!("{name}[{a}]"),
        None => name.to_string(),
    };
    let nonexistent = || FieldError::Nonexistent(written.clone());
    let id = longest_prefix(name).ok_or_else(nonexistent)?;
    let field = id.info().name;
    // What follows the field's name in libs' joined string.
    let rest = &written[field.len()..];
    let done = |arg: FieldArg| Ok(FieldUse { id, arg });
    // `[x]` at the start of `rest`: the text up to the first `]`, and whether that `]` ends it.
    let bracketed = || -> Option<(&str, bool)> {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        Some((&inner[..close], close + 1 == inner.len()))
    };
    match syntax(id) {
        Syntax::Plain if rest.is_empty() => done(FieldArg::None),
        Syntax::Plain => Err(nonexistent()),
        Syntax::EvtArg | Syntax::EvtRawarg | Syntax::EvtAround => {
            let s = syntax(id);
            if rest.starts_with('[') {
                if s == Syntax::EvtRawarg {
                    return Err(FieldError::RawargIndex);
                }
                // libs reads up to the first `]` (the parser guarantees there is one).
                let (num, whole) = bracketed().ok_or_else(nonexistent)?;
                let arg = if s == Syntax::EvtAround {
                    let v = crate::eval::typed::parse_int(num, super::FieldType::Uint64)
                        .map_err(|_| FieldError::NotANumber(num.to_string()))?;
                    FieldArg::Some(v.to_string())
                } else {
                    match parse_d32(num)? {
                        n if n < 0 => FieldArg::Never,
                        n => FieldArg::Some(n.to_string()),
                    }
                };
                return if whole { done(arg) } else { Err(nonexistent()) };
            }
            let Some(param) = rest.strip_prefix('.') else {
                return Err(FieldError::Syntax(written.clone()));
            };
            if s == Syntax::EvtAround {
                return Err(FieldError::AroundSyntax);
            }
            let (found, _) = event_param(param)
                .ok_or_else(|| FieldError::UnknownEventArgument(param.to_string()))?;
            if found.len() == param.len() {
                done(FieldArg::Some(found.to_string()))
            } else {
                Err(nonexistent())
            }
        }
        Syntax::EvtTypeIs => {
            let Some(ty) = rest.strip_prefix('.') else {
                return Err(FieldError::Syntax(written.clone()));
            };
            let known = crate::eval::typed::parse_int(ty, super::FieldType::Uint32).is_ok()
                || EVENT_NAMES.contains(&ty);
            if known {
                done(FieldArg::Some(ty.to_string()))
            } else {
                Err(nonexistent())
            }
        }
        Syntax::EvtAbspath => match rest {
            "" => done(FieldArg::None),
            ".src" => done(FieldArg::Some("src".into())),
            ".dst" => done(FieldArg::Some("dst".into())),
            _ => Err(nonexistent()),
        },
        // libs catches every error of these arguments and falls back to the bare field, so a
        // bad argument is a field name it does not know.
        Syntax::AncestorIndex => match rest {
            "" => done(FieldArg::None),
            _ => match bracketed() {
                Some((num, true)) => match parse_d32(num) {
                    Ok(-1) => done(FieldArg::None),
                    Ok(n) if n < 0 => done(FieldArg::Never),
                    Ok(n) => done(FieldArg::Some(n.to_string())),
                    Err(_) => Err(nonexistent()),
                },
                _ => Err(nonexistent()),
            },
        },
        Syntax::EnvKey => match rest {
            "" => done(FieldArg::None),
            _ => match bracketed() {
                Some((key, true)) => done(FieldArg::Some(key.to_string())),
                _ => Err(nonexistent()),
            },
        },
        Syntax::Cgroup => {
            let Some(sub) = rest.strip_prefix('.') else {
                return Err(FieldError::Syntax(written.clone()));
            };
            let run = sub
                .bytes()
                .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
                .count();
            if run == sub.len() {
                done(FieldArg::Some(sub.to_string()))
            } else {
                Err(nonexistent())
            }
        }
        Syntax::FdTypes => match rest {
            "" => done(FieldArg::None),
            _ => match bracketed() {
                Some((num, whole)) => {
                    let n = crate::eval::typed::parse_int(num, super::FieldType::Int64)
                        .map_err(|_| FieldError::NotANumber(num.to_string()))?;
                    match whole {
                        true => done(FieldArg::Some(n.to_string())),
                        false => Err(nonexistent()),
                    }
                }
                None => Err(nonexistent()),
            },
        },
        Syntax::Plugin => plugin(id, &written, rest),
    }
}

/// libs `sinsp_filter_check_plugin::parse_field_name`: the text up to the first blank, an
/// argument only in brackets right after the whole field name.
fn plugin(id: FieldId, written: &str, rest: &str) -> Result<FieldUse, FieldError> {
    let info = id.info();
    let cut = written.find(' ').map_or(written, |end| &written[..end]);
    let rest = &rest[..rest.len() - (written.len() - cut.len())];
    if cut.contains('[') && !rest.starts_with('[') {
        // libs: an argument not right after the field name is not this field's.
        return Err(FieldError::Nonexistent(written.to_string()));
    }
    let Some(after) = rest.strip_prefix('[') else {
        if info.arg.requires_arg() {
            return Err(FieldError::PluginArgMissing {
                written: cut.to_string(),
                field: info.name,
            });
        }
        return match rest.is_empty() {
            true => Ok(FieldUse {
                id,
                arg: FieldArg::None,
            }),
            false => Err(FieldError::Nonexistent(written.to_string())),
        };
    };
    let unbalanced = || FieldError::PluginUnbalanced {
        written: cut.to_string(),
        field: info.name,
    };
    if after.is_empty() {
        return Err(unbalanced());
    }
    let close = after.find(']').ok_or_else(unbalanced)?;
    let arg = &after[..close];
    if !info.arg.accepts_arg() {
        return Err(FieldError::PluginArgNotAllowed {
            written: cut.to_string(),
            field: info.name,
            arg: arg.to_string(),
        });
    }
    if close + 1 != after.len() || cut.len() != written.len() {
        return Err(FieldError::Nonexistent(written.to_string()));
    }
    Ok(FieldUse {
        id,
        arg: FieldArg::Some(arg.to_string()),
    })
}

/// libs `sinsp_utils::find_longest_matching_evt_param`: the longest event parameter name that
/// is a prefix of `name` (the first of that length in table order), with its libs type.
pub fn event_param(name: &str) -> Option<(&'static str, &'static str)> {
    let mut best: Option<(&'static str, &'static str)> = None;
    for &(p, ty) in EVT_PARAMS {
        if name.starts_with(p) && best.is_none_or(|(b, _)| p.len() > b.len()) {
            best = Some((p, ty));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(name: &str, arg: Option<&str>) -> String {
        parse(name, arg).unwrap_err().to_string()
    }

    fn ok(name: &str, arg: Option<&str>) -> (&'static str, FieldArg) {
        let u = parse(name, arg).unwrap();
        (u.id.name(), u.arg)
    }

    #[test]
    fn event_arguments_follow_libs() {
        assert_eq!(
            ok("evt.arg.flags", None),
            ("evt.arg", FieldArg::Some("flags".into()))
        );
        assert_eq!(
            ok("evt.arg", Some("0")),
            ("evt.arg", FieldArg::Some("0".into()))
        );
        assert_eq!(
            err("evt.arg.nonexistent", None),
            "unknown event argument nonexistent"
        );
        assert_eq!(err("evt.arg", Some("x")), "x is not a valid number");
        assert_eq!(err("evt.arg", Some("1.5")), "1.5 is not a valid number");
        assert_eq!(
            err("evt.rawarg", Some("0")),
            "evt.arg fields must be expressed explicitly"
        );
        assert_eq!(err("evt.rawarg.foo", None), "unknown event argument foo");
        assert_eq!(err("evt.arg", None), "filter syntax error: evt.arg");
        assert_eq!(
            err("evt.arg.flagsx", None),
            "filter_check called with nonexistent field evt.arg.flagsx"
        );
        assert_eq!(ok("evt.abspath", None), ("evt.abspath", FieldArg::None));
        assert_eq!(
            err("evt.abspath", Some("1")),
            "filter_check called with nonexistent field evt.abspath[1]"
        );
        assert_eq!(
            ok("evt.abspath.src", None),
            ("evt.abspath", FieldArg::Some("src".into()))
        );
    }

    #[test]
    fn process_arguments_follow_libs() {
        assert_eq!(ok("proc.aname", Some("-1")), ("proc.aname", FieldArg::None));
        assert_eq!(ok("proc.apid", Some("-2")), ("proc.apid", FieldArg::Never));
        assert_eq!(
            ok("proc.aname", Some("02")),
            ("proc.aname", FieldArg::Some("2".into()))
        );
        assert_eq!(
            err("proc.aname", Some("x")),
            "filter_check called with nonexistent field proc.aname[x]"
        );
        assert_eq!(
            err("proc.env.HOME", None),
            "filter_check called with nonexistent field proc.env.HOME"
        );
        assert_eq!(
            ok("proc.env", Some("HOME")),
            ("proc.env", FieldArg::Some("HOME".into()))
        );
        assert_eq!(
            ok("proc.aexepath", Some("1")),
            ("proc.aexepath", FieldArg::Some("1".into()))
        );
    }

    #[test]
    fn plugin_arguments_only_in_brackets() {
        assert_eq!(
            err("k8s.pod.label.app", None),
            "filter 'k8s.pod.label.app': k8s.pod.label requires an argument but none provided"
        );
        assert_eq!(
            ok("k8s.pod.label", Some("app")),
            ("k8s.pod.label", FieldArg::Some("app".into()))
        );
        assert_eq!(
            err("container.id", Some("1")),
            "filter 'container.id[1]': container.id does not allow nor require an argument but one is provided: 1"
        );
    }

    #[test]
    fn longest_matching_parameter() {
        assert_eq!(event_param("flags").map(|p| p.0), Some("flags"));
        assert_eq!(event_param("flagsx").map(|p| p.0), Some("flags"));
        assert_eq!(event_param("zzz"), None);
    }
}
