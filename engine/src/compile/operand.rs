//! Left-hand sides, `val()` fields and transformers: resolved against the field table and
//! typed (libs `sinsp_extractor_compiler`, transformer `transform_type`).

use super::Cx;
use crate::diagnostic::Code;
use crate::eval::transform::TExpr;
use crate::eval::{Lhs, derive};
use crate::fields::{self, FieldArg, FieldFlags, FieldId, FieldType, FieldUse};
use crate::syntax::ast::{FieldRef, Operand, Transformer, TransformerArg, TransformerKind};

/// The (transformed) type of an operand.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    pub ty: FieldType,
    pub is_list: bool,
    /// The field name, or the transformer as written, for messages.
    pub name: String,
    pub flags: FieldFlags,
}

/// Fields whose value is "either side" of a connection; compiled to both side fields.
const EITHER_SIDE: &[(&str, [&str; 2])] = &[
    ("fd.ip", ["fd.cip", "fd.sip"]),
    ("fd.net", ["fd.cip", "fd.sip"]),
    // libs compares `fd.proto` like `fd.port` (both side ports).
    ("fd.port", ["fd.cport", "fd.sport"]),
    ("fd.proto", ["fd.cport", "fd.sport"]),
];

/// The argument as the evaluator looks it up.
fn arg_text(arg: FieldArg) -> Option<Box<str>> {
    match arg {
        FieldArg::Some(a) => Some(a.into()),
        FieldArg::None | FieldArg::Never => None,
    }
}

impl Cx {
    pub(crate) fn operand(&mut self, op: &Operand) -> Option<(Lhs, Typed)> {
        match op {
            Operand::Field(f) => {
                let (id, arg) = self.resolve(f)?;
                let info = id.info();
                let typed = Typed {
                    ty: info.ty,
                    is_list: info.is_list,
                    name: info.name.to_string(),
                    flags: info.flags,
                };
                let lhs = if arg == FieldArg::Never {
                    Lhs::Never
                } else if let Some(&(_, sides)) = EITHER_SIDE.iter().find(|(n, _)| *n == info.name)
                {
                    Lhs::EitherSide(
                        sides.map(|s| fields::get(s).expect("side field in the catalogue")),
                    )
                } else if let (Some(l), FieldArg::None) = (derive::lineage(id), &arg) {
                    Lhs::Ancestors(l)
                } else {
                    Lhs::Field {
                        id,
                        arg: arg_text(arg),
                    }
                };
                Some((lhs, typed))
            }
            Operand::Transformer(t) => self.transformer(t).map(|(e, ty)| (Lhs::Transformed(e), ty)),
        }
    }

    /// A field as a transformer input or `val()` operand.
    pub(crate) fn field_operand(&mut self, f: &FieldRef) -> Option<(TExpr, Typed)> {
        let (id, arg) = self.resolve(f)?;
        let info = id.info();
        let expr = match arg {
            FieldArg::Never => TExpr::Never,
            arg => TExpr::Field {
                id,
                arg: arg_text(arg),
            },
        };
        Some((
            expr,
            Typed {
                ty: info.ty,
                is_list: info.is_list,
                name: info.name.to_string(),
                flags: info.flags,
            },
        ))
    }

    /// Field name (+ dotted or bracketed argument) → field id and argument, by libs' rules for
    /// that field ([`fields::parse_condition_field`]), with deprecation warnings.
    fn resolve(&mut self, f: &FieldRef) -> Option<(FieldId, FieldArg)> {
        let FieldUse { id, arg } = match fields::parse_condition_field(&f.name, f.arg.as_deref()) {
            Ok(u) => u,
            Err(e) => {
                self.error(e.to_string(), f.span);
                return None;
            }
        };
        let info = id.info();
        if fields::FALCO_DEPRECATED.contains(&info.name) {
            let msg = if info.name == "evt.dir" {
                "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always \
                 evaluates to false. The rule expression can be simplified by removing the condition on 'evt.dir'"
                    .to_string()
            } else {
                // Falco's text, word for word; the span names the field.
                "field is not available due to the drop of enter events.".to_string()
            };
            self.warn(Code::DEPRECATED_ITEM, msg, f.name_span);
        }
        Some((id, arg))
    }

    pub(crate) fn transformer(&mut self, t: &Transformer) -> Option<(TExpr, Typed)> {
        let kind = t.kind;
        let name = kind.as_str();
        let args: Vec<Option<(TExpr, Typed)>> = t.args.iter().map(|a| self.targ(a)).collect();
        let args: Vec<(TExpr, Typed)> = args.into_iter().collect::<Option<_>>()?;
        let charbuf = |n: &str, is_list| Typed {
            ty: FieldType::Charbuf,
            is_list,
            name: n.to_string(),
            flags: FieldFlags::NONE,
        };
        if t.arg.is_some() && kind != TransformerKind::Getopt {
            self.error(
                format!("filter error: transformer '{name}' does not support field arguments"),
                t.span,
            );
            return None;
        }
        match kind {
            TransformerKind::Join => {
                let [(sep, st), (list, lt)] = <[_; 2]>::try_from(args).ok().or_else(|| {
                    self.error(
                        "join() requires exactly 2 arguments: separator and list",
                        t.span,
                    );
                    None
                })?;
                if st.is_list {
                    self.error(
                        "join() first argument (separator) must be a single value, not a list",
                        t.span,
                    );
                    return None;
                }
                if !lt.is_list {
                    self.error("join() second argument must be a list", t.span);
                    return None;
                }
                Some((
                    TExpr::Join(Box::new(sep), Box::new(list)),
                    charbuf("join", false),
                ))
            }
            TransformerKind::Concat => {
                if args.len() < 2 {
                    self.error("concat() requires at least 2 arguments", t.span);
                    return None;
                }
                if args
                    .iter()
                    .any(|(_, ty)| ty.ty != FieldType::Charbuf || ty.is_list)
                {
                    self.error("concat() arguments must be strings", t.span);
                    return None;
                }
                Some((
                    TExpr::Concat(args.into_iter().map(|a| a.0).collect()),
                    charbuf("concat", false),
                ))
            }
            TransformerKind::Getopt => {
                let [(argv, at), (opts, ot)] = <[_; 2]>::try_from(args).ok().or_else(|| {
                    self.error(
                        "getopt() requires exactly 2 arguments: args list and optstring",
                        t.span,
                    );
                    None
                })?;
                let problem = if !at.is_list {
                    Some("getopt() first argument must be a list")
                } else if ot.is_list {
                    Some("getopt() second argument (optstring) must be a single value")
                } else if at.ty != FieldType::Charbuf || ot.ty != FieldType::Charbuf {
                    Some("getopt() arguments must be strings")
                } else {
                    None
                };
                if let Some(p) = problem {
                    self.error(p, t.span);
                    return None;
                }
                let selector = match t.arg.as_deref() {
                    None => None,
                    Some(a) if a.chars().count() == 1 => a.chars().next(),
                    Some(_) => {
                        self.error(
                            "getopt() field argument must be a single option character",
                            t.span,
                        );
                        return None;
                    }
                };
                Some((
                    TExpr::Getopt {
                        args: Box::new(argv),
                        optstring: Box::new(opts),
                        selector,
                    },
                    charbuf("getopt", selector.is_none()),
                ))
            }
            _ => {
                let Ok([(inner, ity)]) = <[_; 1]>::try_from(args) else {
                    self.error(
                        format!("transformer '{name}' takes exactly one argument"),
                        t.span,
                    );
                    return None;
                };
                if ity.flags.contains(FieldFlags::NO_TRANSFORMER) {
                    self.error(
                        format!("field '{}' does not support transformers", ity.name),
                        t.span,
                    );
                    return None;
                }
                let out_ty = match (kind, ity.ty, ity.is_list) {
                    (TransformerKind::Len, _, true) => Some((FieldType::Uint64, false)),
                    (TransformerKind::Len, FieldType::Charbuf | FieldType::Bytebuf, false) => {
                        Some((FieldType::Uint64, false))
                    }
                    (
                        TransformerKind::ToLower
                        | TransformerKind::ToUpper
                        | TransformerKind::Basename,
                        FieldType::Charbuf,
                        l,
                    ) => Some((FieldType::Charbuf, l)),
                    (TransformerKind::B64, t @ (FieldType::Charbuf | FieldType::Bytebuf), l) => {
                        Some((t, l))
                    }
                    _ => None,
                };
                let Some((ty, is_list)) = out_ty else {
                    self.error(
                        format!(
                            "can't add field transformer: type '{}' is not supported by '{}' transformer applied on {}field '{}'",
                            ity.ty.as_str(),
                            name,
                            if ity.is_list { "list " } else { "" },
                            ity.name
                        ),
                        t.span,
                    );
                    return None;
                };
                let e = TExpr::unary(kind, inner)?;
                Some((
                    e,
                    Typed {
                        ty,
                        is_list,
                        name: ity.name,
                        flags: ity.flags,
                    },
                ))
            }
        }
    }

    fn targ(&mut self, a: &TransformerArg) -> Option<(TExpr, Typed)> {
        let raw = |name: &str, is_list| Typed {
            ty: FieldType::Charbuf,
            is_list,
            name: name.to_string(),
            flags: FieldFlags::NONE,
        };
        match a {
            TransformerArg::Field(f) => self.field_operand(f),
            TransformerArg::Transformer(t) => self.transformer(t),
            TransformerArg::Const(l) => {
                Some((TExpr::Const(l.text.as_str().into()), raw(&l.text, false)))
            }
            TransformerArg::List(items, _) => {
                let items: Vec<Option<(TExpr, Typed)>> =
                    items.iter().map(|i| self.targ(i)).collect();
                let items: Vec<(TExpr, Typed)> = items.into_iter().collect::<Option<_>>()?;
                Some((
                    TExpr::List(items.into_iter().map(|i| i.0).collect()),
                    raw("list", true),
                ))
            }
        }
    }
}
