//! Right-hand side constants converted to the left-hand side type (libs `value_parser.cpp`,
//! `add_filtercheck_value`).

use super::Cx;
use super::operand::Typed;
use crate::eval::matcher::Const;
use crate::eval::typed;
use crate::fields::{self, FieldType};
use crate::syntax::ast::{CmpOp, Literal};

pub(crate) fn convert(cx: &mut Cx, ty: &Typed, op: CmpOp, lit: &Literal) -> Option<Const> {
    let text = lit.text.as_str();
    if matches!(op, CmpOp::BContains | CmpOp::BStartsWith) {
        return match typed::unhex(text) {
            Some(b) => Some(Const::Bytes(b.into())),
            None => {
                cx.error(
                    "filter error: bcontains and bstartswith operator support hex strings only",
                    lit.span,
                );
                None
            }
        };
    }
    if text.contains('\0') && ty.ty != FieldType::Bytebuf {
        cx.error("filter value cannot contain a NUL byte (\\x00)", lit.span);
        return None;
    }
    // libs validates every value compared with evt.type (its parse_filter_value, whatever the
    // operator or transformer), and no value of syscall.type.
    if ty.name == "evt.type" && !fields::is_evt_type(text) {
        cx.error(format!("unknown event type {text}"), lit.span);
        return None;
    }
    let converted = match ty.ty {
        FieldType::Charbuf | FieldType::Bytebuf => Ok(Const::Bytes(text.as_bytes().into())),
        FieldType::Bool => typed::parse_bool(text).map(Const::Bool),
        FieldType::Ipaddr => typed::parse_ip(text).map(Const::Ip),
        FieldType::Ipnet => typed::parse_net(text).map(Const::Net),
        FieldType::Port => typed::parse_port(text).map(Const::Int),
        FieldType::Dynamic => Ok(dynamic(text)),
        t => typed::parse_int(text, t).map(Const::Int),
    };
    match converted {
        Ok(c) => Some(c),
        Err(msg) => {
            cx.error(msg, lit.span);
            None
        }
    }
}

/// `evt.rawarg.*` values take the type of the argument, known only per event: a number when
/// the text is one, an address when it parses as one, else a string.
fn dynamic(text: &str) -> Const {
    if let Ok(i) = typed::parse_int(text, FieldType::Int64) {
        return Const::Int(i);
    }
    if let Ok(ip) = text.parse() {
        return Const::Ip(ip);
    }
    Const::Bytes(text.as_bytes().into())
}
