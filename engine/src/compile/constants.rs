//! Right-hand side constants converted to the left-hand side type (libs `value_parser.cpp`,
//! `add_filtercheck_value`).

use super::Cx;
use super::operand::Typed;
use crate::eval::matcher::Const;
use crate::eval::typed;
use crate::fields::{self, FieldType};
use crate::syntax::ast::{CmpOp, Literal};

pub(crate) fn convert(
    cx: &mut Cx,
    ty: &Typed,
    arg: Option<&str>,
    op: CmpOp,
    lit: &Literal,
) -> Option<Const> {
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
        FieldType::Dynamic => rawarg(text, arg),
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

/// `evt.rawarg.NAME` values are parsed as the type libs gives the parameter NAME
/// (`sinsp_filter_check_event::parse_filter_value` → `string_to_rawval(…, m_arginfo->type)`).
fn rawarg(text: &str, param: Option<&str>) -> Result<Const, String> {
    let ty = param
        .and_then(fields::event_param)
        .map_or("DYN", |(_, ty)| ty);
    let int = |t: FieldType| typed::parse_int(text, t).map(Const::Int);
    match ty {
        "INT8" => typed::parse_int(text, FieldType::Int32).map(|v| Const::Int(v as i8 as i128)),
        "INT16" => int(FieldType::Int16),
        "INT32" => int(FieldType::Int32),
        "INT64" | "FD" | "ERRNO" | "PID" => int(FieldType::Int64),
        "L4PROTO" | "FLAGS8" | "UINT8" | "ENUMFLAGS8" => {
            typed::parse_int(text, FieldType::Uint32).map(|v| Const::Int(v as u8 as i128))
        }
        "PORT" => typed::parse_port(text).map(Const::Int),
        "FLAGS16" | "UINT16" | "ENUMFLAGS16" => {
            typed::parse_int(text, FieldType::Uint32).map(|v| Const::Int(v as u16 as i128))
        }
        "FLAGS32" | "UINT32" | "MODE" | "ENUMFLAGS32" | "UID" | "GID" => int(FieldType::Uint32),
        "UINT64" | "RELTIME" | "ABSTIME" => int(FieldType::Uint64),
        "CHARBUF" | "SOCKADDR" | "SOCKTUPLE" | "SOCKFAMILY" | "FSPATH" | "FSRELPATH" => {
            Ok(Const::Bytes(text.as_bytes().into()))
        }
        "BOOL" => typed::parse_bool(text).map(Const::Bool),
        "IPV4ADDR" | "IPV6ADDR" | "IPADDR" => typed::parse_ip(text).map(Const::Ip),
        other => Err(format!("wrong parameter type {}", libs_type_code(other))),
    }
}

/// The type libs compares `evt.rawarg.NAME` as (`m_customfield.m_type`, the parameter's type,
/// checked by `flt_is_comparable`): the field type with the same operator rules, or the name
/// libs gives a type no operator applies to (`param_type_to_string`).
pub(crate) fn rawarg_comparison_type(param: Option<&str>) -> Result<FieldType, &'static str> {
    let Some((_, ty)) = param.and_then(fields::event_param) else {
        return Ok(FieldType::Dynamic);
    };
    Ok(match ty {
        "INT8" | "INT16" | "INT32" | "INT64" | "UINT8" | "UINT16" | "UINT32" | "UINT64"
        | "ERRNO" | "FD" | "PID" | "SYSCALLID" | "SIGTYPE" | "RELTIME" | "ABSTIME" | "PORT"
        | "FLAGS8" | "FLAGS16" | "FLAGS32" | "DOUBLE" | "MODE" | "ENUMFLAGS8" | "ENUMFLAGS16"
        | "ENUMFLAGS32" => FieldType::Int64,
        "BOOL" => FieldType::Bool,
        "IPV4ADDR" | "IPV4NET" | "IPV6ADDR" | "IPV6NET" | "IPADDR" | "IPNET" => FieldType::Ipaddr,
        "CHARBUF" | "FSPATH" | "FSRELPATH" => FieldType::Charbuf,
        "BYTEBUF" => FieldType::Bytebuf,
        // libs' names for the rest; the 32-bit fd and pid types have none.
        "FD32" | "PID32" => return Err("<NA>"),
        other => return Err(other),
    })
}

/// The `ppm_param_type` number libs prints for a type its value parser does not handle
/// (`driver/ppm_events_public.h`).
fn libs_type_code(ty: &str) -> u32 {
    match ty {
        "BYTEBUF" => 10,
        "FDLIST" => 16,
        "SYSCALLID" => 18,
        "SIGTYPE" => 19,
        "SIGSET" => 34,
        "CHARBUFARRAY" => 35,
        "CHARBUF_PAIR_ARRAY" => 36,
        "FD32" => 47,
        "PID32" => 48,
        _ => 27,
    }
}
