//! The event model: what the evaluator reads. One trait, [`FieldSource`], so that a decoded
//! interchange event, a stored row and a collector record all evaluate without copying.
//!
//! The interchange format (JSON, one object per event) is keyed by Falco field names as written
//! in conditions, arguments included (`"proc.aname[2]": "sshd"`, `"evt.arg.flags": "O_RDWR"`).
//! An absent key means the field cannot be extracted for that event.

use crate::eval::matcher::bytes_eq;
use crate::eval::typed::{parse_bool, parse_event_ip, parse_int};
use crate::fields::{FieldId, FieldType};
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::OnceLock;

mod fast_json;
mod interchange;
mod layered;

pub use interchange::{interchange_key, write_str, write_value, write_values};
pub use layered::{LayeredEvent, SharedFields};

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

    /// The index of this event's `evt.type` in [`crate::fields::evt_types`], when the source
    /// knows it without a look-up (a decoded [`Event`] resolves it once, when decoding).
    /// `None` makes the evaluator read `evt.type` and look the name up.
    fn evt_type_index(&self) -> Option<u16> {
        None
    }

    /// The value of `field[arg]` by reference, for a source that stores [`Value`]s (the
    /// evaluator then reads it in place instead of through a copy): `Some(None)` when the
    /// source does not have it. The default, `None`, means "ask [`FieldSource::field`]".
    fn stored(&self, field: FieldId, arg: Option<&str>) -> Option<Option<&Value<'_>>> {
        let _ = (field, arg);
        None
    }
}

/// A decoded interchange event, owned and laid out for fast evaluation: a dense table of
/// small slot numbers indexed by [`FieldId`] pointing into a compact list of the values the
/// event has (so a look-up touches two small arrays, not one slot per catalogue field), plus a
/// short list for `field[arg]` entries (`proc.aname[2]`, `evt.arg.flags`, `k8s.pod.label[app]`).
#[derive(Debug, Clone)]
pub struct Event {
    /// Per field: 1 + index into `values`, or 0 when absent.
    slots: Box<[u16]>,
    values: Vec<Value<'static>>,
    /// The field of each of `values`, so that the values are listed without a pass over `slots`.
    fields: Vec<FieldId>,
    with_arg: Vec<(FieldId, Box<str>, Value<'static>)>,
    /// The index of the `evt.type` value among the known event types, for rule dispatch.
    evt_type: Option<u16>,
    /// Emptied string buffers of earlier values, for [`Event::decode_json`] to refill instead
    /// of allocating (not part of the event's value).
    spare: Vec<String>,
    /// What keys resolved to in earlier decodings, for [`Event::decode_json`] (not part of the
    /// event's value either).
    keys: fast_json::KeyMemo,
}

/// At most this many spare buffers are kept, each of at most this capacity.
const SPARE_BUFFERS: usize = 64;
const SPARE_CAPACITY: usize = 4096;

/// Why an interchange event could not be decoded; names the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is not valid JSON: {0}")]
    Json(String),
    #[error("event must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("key '{key}': {problem}")]
    Key { key: String, problem: String },
}

/// Events are equal when they have the same values for the same fields, whatever the order
/// the values were set in.
impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        let plain = (0..self.slots.len()).all(|i| {
            let f = FieldId(i as u16);
            self.get(f, None) == other.get(f, None)
        });
        plain
            && self.with_arg.len() == other.with_arg.len()
            && self
                .with_arg
                .iter()
                .all(|(f, k, v)| other.get(*f, Some(k)) == Some(v))
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl Event {
    /// An event on which no field can be extracted.
    pub fn new() -> Self {
        // Room for a typical event's values without regrowing.
        Event {
            slots: vec![0; crate::fields::count()].into(),
            values: Vec::with_capacity(16),
            fields: Vec::with_capacity(16),
            with_arg: Vec::new(),
            evt_type: None,
            spare: Vec::new(),
            keys: Default::default(),
        }
    }

    /// Sets `field` (with optional argument) to `value`, replacing an earlier value.
    pub fn set(&mut self, field: FieldId, arg: Option<&str>, value: Value<'static>) {
        match arg {
            None if field == evt_type_field() => {
                self.evt_type = match &value {
                    Value::Str(name) => crate::eval::evt_type_index(name),
                    _ => None,
                };
                self.set_plain(field, value);
            }
            None => self.set_plain(field, value),
            Some(a) => {
                if let Some(slot) = self
                    .with_arg
                    .iter_mut()
                    .find(|(f, k, _)| *f == field && &**k == a)
                {
                    slot.2 = value;
                } else {
                    self.with_arg.push((field, a.into(), value));
                }
            }
        }
    }

    /// Sets a field the event does not have yet; false (and nothing set) if it has it.
    fn set_new(&mut self, field: FieldId, arg: Option<&str>, value: Value<'static>) -> bool {
        if arg.is_none() && field != evt_type_field() {
            // The common case, in one look at the slot.
            if self.slots[field.index()] != 0 {
                return false;
            }
            self.set_plain(field, value);
            return true;
        }
        if self.get(field, arg).is_some() {
            return false;
        }
        self.set(field, arg, value);
        true
    }

    #[inline]
    fn set_plain(&mut self, field: FieldId, value: Value<'static>) {
        match self.slots[field.index()] {
            0 => {
                self.values.push(value);
                self.fields.push(field);
                // At most one value per catalogue field, so the count fits in u16.
                self.slots[field.index()] = self.values.len() as u16;
            }
            slot => self.values[slot as usize - 1] = value,
        }
    }

    /// The value of `field[arg]`, if the event has it.
    #[inline]
    pub fn get(&self, field: FieldId, arg: Option<&str>) -> Option<&Value<'static>> {
        match arg {
            None => match self.slots[field.index()] {
                0 => None,
                slot => self.values.get(slot as usize - 1),
            },
            Some(a) => self
                .with_arg
                .iter()
                .find(|(f, k, _)| *f == field && bytes_eq(k.as_bytes(), a.as_bytes()))
                .map(|(_, _, v)| v),
        }
    }

    /// Every value the event has: plain fields in the order they were set, then `field[arg]` entries
    /// in the order they were set. Together they rebuild an equal event with [`Event::set`].
    pub fn values(&self) -> impl Iterator<Item = (FieldId, Option<&str>, &Value<'static>)> {
        let plain = self
            .fields
            .iter()
            .zip(&self.values)
            .map(|(f, v)| (*f, None, v));
        plain.chain(self.with_arg.iter().map(|(f, a, v)| (*f, Some(&**a), v)))
    }

    /// Decodes one interchange event (a JSON object keyed by field names).
    pub fn from_json_str(text: &str) -> Result<Event, EventError> {
        let mut ev = Event::new();
        ev.decode_json(text)?;
        Ok(ev)
    }

    /// Decodes one interchange event into this one, replacing all its fields and reusing its
    /// memory (for decoding a stream of events). On error the event has no fields.
    pub fn decode_json(&mut self, text: &str) -> Result<(), EventError> {
        self.clear();
        if fast_json::decode_into(self, text) {
            return Ok(());
        }
        self.clear();
        let (spare, keys) = (
            std::mem::take(&mut self.spare),
            std::mem::take(&mut self.keys),
        );
        *self = Event::from_json_str_exact(text)?;
        (self.spare, self.keys) = (spare, keys);
        Ok(())
    }

    /// Removes every field, keeping the memory for the next event.
    fn clear(&mut self) {
        for f in self.fields.drain(..) {
            self.slots[f.index()] = 0;
        }
        for v in self.values.drain(..) {
            if let Value::Str(Cow::Owned(mut s)) = v
                && self.spare.len() < SPARE_BUFFERS
                && s.capacity() <= SPARE_CAPACITY
            {
                s.clear();
                self.spare.push(s);
            }
        }
        self.with_arg.clear();
        self.evt_type = None;
    }

    /// A string value holding `text`, in a spare buffer when there is one.
    fn text_value(&mut self, text: Cow<'_, str>) -> Value<'static> {
        let owned = match (text, self.spare.pop()) {
            (Cow::Borrowed(t), Some(mut buf)) => {
                buf.push_str(t);
                buf
            }
            (text, _) => text.into_owned(),
        };
        Value::Str(Cow::Owned(owned))
    }

    /// The `serde_json` decoding, the authority on validity and on error messages.
    fn from_json_str_exact(text: &str) -> Result<Event, EventError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
        match &value {
            serde_json::Value::Object(map) => Event::from_map(map),
            other => Err(EventError::NotAnObject(json_kind(other))),
        }
    }

    /// Decodes an already parsed JSON object. Keys that are not fields of the catalogue are
    /// ignored, so that records from a collector carrying extra metadata evaluate as they are;
    /// a known field with a value of the wrong shape is an error naming the key.
    pub fn from_map(map: &serde_json::Map<String, serde_json::Value>) -> Result<Event, EventError> {
        let mut ev = Event::new();
        for (key, json) in map {
            let Some((field, arg)) = parse_key(key) else {
                continue;
            };
            if json.is_null() {
                continue;
            }
            let value =
                json_value(field.info().ty, field.info().is_list, json).map_err(|problem| {
                    EventError::Key {
                        key: key.clone(),
                        problem,
                    }
                })?;
            ev.set(field, arg, value);
        }
        Ok(ev)
    }
}

/// Why `text`, which `serde_json` refused with `e`, is not an event. A number that no 64-bit
/// value represents (`1e400`) is named with its key: `serde_json` gives only a column.
pub fn json_error(text: &str, e: &serde_json::Error) -> EventError {
    match fast_json::out_of_range_number(text) {
        Some((key, n)) => {
            let shown = match n.char_indices().nth(24) {
                Some((cut, _)) => format!("{}… ({} characters)", &n[..cut], n.len()),
                None => n.to_string(),
            };
            EventError::Key {
                key,
                problem: format!("the number {shown} is out of range (no 64-bit number holds it)"),
            }
        }
        None => EventError::Json(e.to_string()),
    }
}

fn evt_type_field() -> FieldId {
    static ID: OnceLock<FieldId> = OnceLock::new();
    *ID.get_or_init(|| crate::fields::get("evt.type").expect("evt.type in the catalogue"))
}

/// `name`, `name[arg]` or the dotted-argument form `evt.arg.flags`: the field and argument an
/// interchange key sets, or `None` for a key that is not a field (and is ignored).
pub fn parse_key(key: &str) -> Option<(FieldId, Option<&str>)> {
    // Most keys are plain field names: one look-up, before any scanning of the key.
    if let Some(id) = crate::fields::get(key) {
        return Some((id, None));
    }
    if let Some(open) = key.find('[') {
        let arg = key[open + 1..].strip_suffix(']')?;
        let field = crate::fields::get(&key[..open])?;
        return field.info().arg.accepts_arg().then_some((field, Some(arg)));
    }
    crate::fields::resolve(key)
}

/// A JSON value typed per the field table. Numeric strings are accepted for numeric fields
/// and numbers for string fields (rendered), since collectors differ in how they print them.
fn json_value(
    ty: FieldType,
    is_list: bool,
    json: &serde_json::Value,
) -> Result<Value<'static>, String> {
    use serde_json::Value as J;
    if is_list {
        return match json {
            J::Array(items) => items
                .iter()
                .map(|i| json_value(ty, false, i))
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Err(format!(
                "expected an array for a list field, found {}",
                json_kind(other)
            )),
        };
    }
    if let (J::Number(n), Some(signed)) = (json, integer_signedness(ty)) {
        return number(n, ty, signed);
    }
    let wrong = |want: &str| Err(format!("expected {want}, found {}", json_kind(json)));
    match ty {
        FieldType::Charbuf | FieldType::Bytebuf => match json {
            J::String(s) if ty == FieldType::Bytebuf => {
                Ok(Value::Bytes(Cow::Owned(s.clone().into_bytes())))
            }
            J::String(s) => Ok(Value::Str(Cow::Owned(s.clone()))),
            J::Bool(b) => Ok(Value::Str(Cow::Owned(b.to_string()))),
            J::Array(items) => items
                .iter()
                .map(|i| json_value(ty, false, i))
                .collect::<Result<_, _>>()
                .map(Value::List),
            _ => wrong("a string"),
        },
        FieldType::Bool => match json {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) => parse_bool(s).map(Value::Bool),
            _ => wrong("a boolean"),
        },
        FieldType::Ipaddr | FieldType::Ipnet => match json {
            J::String(s) => parse_event_ip(s).map(Value::Ip),
            _ => wrong("an IP address string"),
        },
        FieldType::Double => match json {
            J::Number(n) => n
                .as_f64()
                .map(Value::Double)
                .ok_or_else(|| "number out of range".to_string()),
            J::String(s) => s
                .trim()
                .parse()
                .map(Value::Double)
                .map_err(|_| format!("'{s}' is not a number")),
            _ => wrong("a number"),
        },
        FieldType::Dynamic => match json {
            J::String(s) => Ok(Value::Str(Cow::Owned(s.clone()))),
            J::Bool(b) => Ok(Value::Bool(*b)),
            _ => wrong("a number or a string"),
        },
        t => {
            let signed = integer_signedness(t) == Some(true);
            match json {
                J::String(s) => match parse_int(s, t) {
                    Ok(v) if signed => i64::try_from(v)
                        .map(Value::Int)
                        .map_err(|_| format!("{s} is out of range")),
                    Ok(v) => u64::try_from(v)
                        .map(Value::Uint)
                        .map_err(|_| format!("{s} is out of range")),
                    Err(e) => Err(e),
                },
                _ => wrong("an integer"),
            }
        }
    }
}

/// How a JSON integer is read for a field of type `ty` (by [`number`], signed or not), or
/// `None` for the types that read numbers otherwise (doubles) or not at all. A text field keeps
/// a number as a number: `evt.time` is given as nanoseconds.
fn integer_signedness(ty: FieldType) -> Option<bool> {
    match ty {
        FieldType::Charbuf | FieldType::Bytebuf | FieldType::Dynamic => Some(true),
        FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => Some(true),
        FieldType::Bool | FieldType::Ipaddr | FieldType::Ipnet | FieldType::Double => None,
        FieldType::Abstime
        | FieldType::Port
        | FieldType::Reltime
        | FieldType::Uint32
        | FieldType::Uint64 => Some(false),
    }
}

/// A JSON integer for a field of type `ty` (read signed or not per [`integer_signedness`]).
/// A number outside a narrow type's range is refused: nothing the kernel reports could give it,
/// and wrapping it (as a rule's constant is wrapped) would store a value the sender never meant.
fn number(n: &serde_json::Number, ty: FieldType, signed: bool) -> Result<Value<'static>, String> {
    let (value, wide) = match (n.as_i64(), n.as_u64()) {
        (Some(i), _) if signed || i < 0 => (Value::Int(i), i as i128),
        (_, Some(u)) => (Value::Uint(u), u as i128),
        (Some(i), None) => (Value::Int(i), i as i128),
        (None, None) => return Err(format!("{n} is not an integer")),
    };
    match narrow_range(ty) {
        Some((min, max)) if !(min..=max).contains(&wide) => Err(format!(
            "{n} is outside the range of a {} field ({min} to {max})",
            ty.as_str()
        )),
        _ => Ok(value),
    }
}

/// The range of an integer type narrower than 64 bits.
fn narrow_range(ty: FieldType) -> Option<(i128, i128)> {
    let (min, max) = match ty {
        FieldType::Int16 => (i16::MIN as i128, i16::MAX as i128),
        FieldType::Int32 => (i32::MIN as i128, i32::MAX as i128),
        FieldType::Uint32 => (0, u32::MAX as i128),
        FieldType::Port => (0, u16::MAX as i128),
        _ => return None,
    };
    Some((min, max))
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl Value<'_> {
    /// A view of this value borrowing from it.
    pub fn borrowed(&self) -> Value<'_> {
        match self {
            Value::Str(s) => Value::Str(Cow::Borrowed(s)),
            Value::Bytes(b) => Value::Bytes(Cow::Borrowed(b)),
            Value::Int(i) => Value::Int(*i),
            Value::Uint(u) => Value::Uint(*u),
            Value::Double(d) => Value::Double(*d),
            Value::Bool(b) => Value::Bool(*b),
            Value::Ip(ip) => Value::Ip(*ip),
            Value::List(items) => Value::List(items.iter().map(Value::borrowed).collect()),
        }
    }

    /// The same value owning its data.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Int(i) => Value::Int(i),
            Value::Uint(u) => Value::Uint(u),
            Value::Double(d) => Value::Double(d),
            Value::Bool(b) => Value::Bool(b),
            Value::Ip(ip) => Value::Ip(ip),
            Value::List(items) => Value::List(items.into_iter().map(Value::into_owned).collect()),
        }
    }
}

impl FieldSource for Event {
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<Value<'_>> {
        self.get(field, arg).map(Value::borrowed)
    }

    #[inline]
    fn stored(&self, field: FieldId, arg: Option<&str>) -> Option<Option<&Value<'_>>> {
        Some(self.get(field, arg))
    }

    fn evt_type_index(&self) -> Option<u16> {
        self.evt_type
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::get;

    #[test]
    fn decodes_typed_values_and_arguments() {
        let ev = Event::from_json_str(
            r#"{"proc.name":"bash","proc.pid":42,"fd.sip":"10.0.0.1","proc.aname[2]":"sshd",
                "evt.arg.flags":"O_RDWR","evt.arg[mode]":"0644","fd.types":["ipv4","file"],
                "k8s.pod.label.app":"web","something.else":1,"user.uid":"0"}"#,
        )
        .unwrap();
        assert_eq!(
            ev.field(get("proc.name").unwrap(), None),
            Some(Value::Str("bash".into()))
        );
        assert_eq!(
            ev.field(get("proc.pid").unwrap(), None),
            Some(Value::Int(42))
        );
        assert_eq!(
            ev.field(get("user.uid").unwrap(), None),
            Some(Value::Uint(0))
        );
        assert_eq!(
            ev.field(get("fd.sip").unwrap(), None),
            Some(Value::Ip("10.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            ev.field(get("proc.aname").unwrap(), Some("2")),
            Some(Value::Str("sshd".into()))
        );
        assert_eq!(
            ev.field(get("evt.arg").unwrap(), Some("flags")),
            Some(Value::Str("O_RDWR".into()))
        );
        assert_eq!(
            ev.field(get("evt.arg").unwrap(), Some("mode")),
            Some(Value::Str("0644".into()))
        );
        assert_eq!(
            ev.field(get("k8s.pod.label").unwrap(), Some("app")),
            Some(Value::Str("web".into()))
        );
        assert!(
            matches!(ev.field(get("fd.types").unwrap(), None), Some(Value::List(l)) if l.len() == 2)
        );
        assert_eq!(ev.field(get("proc.exe").unwrap(), None), None);
    }

    #[test]
    fn decoding_into_a_used_event_is_decoding_afresh() {
        let stream = [
            r#"{"evt.type":"openat","proc.name":"bash","fd.name":"/etc/passwd","proc.aname[2]":"sshd"}"#,
            r#"{"proc.pid":"abc"}"#,
            r#"{"proc.name":"sh","proc.cmdline":"sh -c \"x\""}"#,
            r#"{"proc.pid":1.5,"proc.name":"zsh"}"#,
            r#"{"evt.type":"execve","proc.name":"a","proc.name":"b"}"#,
            r#"{}"#,
        ];
        let mut reused = Event::new();
        for text in stream {
            let fresh = Event::from_json_str(text);
            let result = reused.decode_json(text);
            match fresh {
                Ok(fresh) => {
                    assert_eq!(result, Ok(()), "{text}");
                    assert_eq!(reused, fresh, "{text}");
                    assert_eq!(reused.evt_type_index(), fresh.evt_type_index(), "{text}");
                }
                Err(e) => {
                    assert_eq!(result, Err(e), "{text}");
                    assert_eq!(reused, Event::new(), "{text}");
                }
            }
        }
    }

    #[test]
    fn values_rebuild_an_equal_event() {
        let ev = Event::from_json_str(r#"{"proc.name":"bash","proc.pid":42,"proc.aname[2]":"sshd","evt.arg.flags":"O_RDWR","evt.type":"open"}"#).unwrap();
        let mut copy = Event::new();
        for (field, arg, value) in ev.values() {
            copy.set(field, arg, value.clone());
        }
        assert_eq!(copy, ev);
        assert_eq!(copy.evt_type_index(), ev.evt_type_index());
        assert_eq!(ev.values().count(), 5);
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Event::from_json_str(r#"{"fd.sip":"10.0.0"}"#).unwrap_err();
        assert!(err.to_string().starts_with("key 'fd.sip':"), "{err}");
        let err = Event::from_json_str(r#"{"proc.pid":"abc"}"#).unwrap_err();
        assert!(err.to_string().contains("proc.pid"), "{err}");
        assert!(matches!(
            Event::from_json_str("[1]"),
            Err(EventError::NotAnObject("an array"))
        ));
        assert!(matches!(
            Event::from_json_str("{"),
            Err(EventError::Json(_))
        ));
        assert!(Event::from_json_str(r#"{"fd.types":"ipv4"}"#).is_err());
        assert!(Event::from_json_str(r#"{"evt.failed":"yes"}"#).is_err());
    }
}
