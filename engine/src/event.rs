//! The event model: what the evaluator reads. One trait, [`FieldSource`], so that a decoded
//! interchange event, a stored row and a collector record all evaluate without copying.
//!
//! The interchange format (JSON, one object per event) is keyed by Falco field names as written
//! in conditions, arguments included (`"proc.aname[2]": "sshd"`, `"evt.arg.flags": "O_RDWR"`).
//! An absent key means the field cannot be extracted for that event.

use crate::fields::FieldId;
use std::borrow::Cow;
use std::net::IpAddr;

/// A field value as extracted from an event. Borrowed where the source owns the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Str(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    Int(i64),
    Uint(u64),
    Double(f64),
    Bool(bool),
    Ip(IpAddr),
    /// Values of a multi-valued field (`fd.types`), or of `proc.aname` without index.
    List(Vec<Value<'a>>),
}

/// Anything the evaluator can read fields from.
pub trait FieldSource {
    /// The value of `field` with argument `arg` (as written: `proc.aname[2]` → `Some("2")`,
    /// `evt.arg.flags` → `Some("flags")`), or `None` when it cannot be extracted for this event.
    /// Sources return what they store; fields derivable from others (`fd.directory` from
    /// `fd.name`, `proc.aname` from `proc.aname[N]`, the either-side `fd.*` fields…) are
    /// computed by the evaluator when the source does not have them.
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<Value<'_>>;
}
