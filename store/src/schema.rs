//! How an event's values map to a segment's columns (published in `store/SCHEMA.md`, whose
//! version is [`SCHEMA_VERSION`]).
//!
//! A column holds one field with one argument (or none) and one kind of value. Its name is the
//! interchange key (`proc.name`, `proc.aname[2]`, `evt.arg[flags]`), followed by `#kind` when the
//! values are not of the field's natural kind (a number sent for a text field keeps its kind, as
//! the engine's decoder keeps it). Columns appear in a segment only when some event of the
//! segment has them, so a field never used costs nothing and `evt.arg.*` keys need no table.

use arrow_schema::DataType;
use rulestudio_engine::event::{Value, parse_key};
use rulestudio_engine::fields::{FieldId, FieldInfo, FieldType};
use std::borrow::Cow;
use std::net::IpAddr;

/// The version of the published schema; written into every segment's metadata and the manifest.
pub const SCHEMA_VERSION: u32 = 1;

/// The event's sequence number within the store's incarnation (non-null `UInt64`).
pub const SEQ: &str = "_seq";
/// The event's time, nanoseconds since the epoch (non-null `Int64`): its `evt.time` when that is
/// an integer, otherwise the time the store was given when appending.
pub const TIME: &str = "_time";
/// `true` on the rows whose event had no `evt.time` (nullable `Boolean`, present only when a
/// segment has such a row). Without it, `evt.time` of a row reads as `_time`.
pub const NO_EVT_TIME: &str = "_no_evt_time";

/// Keys of the Parquet file metadata.
pub const META_SCHEMA_VERSION: &str = "rulestudio.schema_version";
pub const META_NODE: &str = "rulestudio.node";
pub const META_INCARNATION: &str = "rulestudio.incarnation";

/// The most columns one segment may have; an event that would add more starts a new segment,
/// and an event that alone has more is refused.
pub const MAX_COLUMNS: usize = 2048;

/// The kind of the values of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Str,
    Bytes,
    Int,
    Uint,
    Double,
    Bool,
    Ip,
    List,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Str,
        Kind::Bytes,
        Kind::Int,
        Kind::Uint,
        Kind::Double,
        Kind::Bool,
        Kind::Ip,
        Kind::List,
    ];

    pub fn of(value: &Value<'_>) -> Kind {
        match value {
            Value::Str(_) => Kind::Str,
            Value::Bytes(_) => Kind::Bytes,
            Value::Int(_) => Kind::Int,
            Value::Uint(_) => Kind::Uint,
            Value::Double(_) => Kind::Double,
            Value::Bool(_) => Kind::Bool,
            Value::Ip(_) => Kind::Ip,
            Value::List(_) => Kind::List,
        }
    }

    /// The kind the engine's decoder gives a field's values when they are sent as the field
    /// table says.
    pub fn natural(info: &FieldInfo) -> Kind {
        if info.is_list {
            return Kind::List;
        }
        match info.ty {
            FieldType::Charbuf | FieldType::Dynamic => Kind::Str,
            FieldType::Bytebuf => Kind::Bytes,
            FieldType::Bool => Kind::Bool,
            FieldType::Double => Kind::Double,
            FieldType::Ipaddr | FieldType::Ipnet => Kind::Ip,
            FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => Kind::Int,
            FieldType::Abstime
            | FieldType::Port
            | FieldType::Reltime
            | FieldType::Uint32
            | FieldType::Uint64 => Kind::Uint,
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Str => "str",
            Kind::Bytes => "bytes",
            Kind::Int => "int",
            Kind::Uint => "uint",
            Kind::Double => "double",
            Kind::Bool => "bool",
            Kind::Ip => "ip",
            Kind::List => "list",
        }
    }

    /// The Arrow type of the column. Text is dictionary-encoded in memory and in the file;
    /// addresses are stored as text (their canonical rendering) and lists as tagged JSON text.
    pub fn data_type(self) -> DataType {
        let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        match self {
            Kind::Str | Kind::Ip | Kind::List => dict(),
            Kind::Bytes => DataType::Binary,
            Kind::Int => DataType::Int64,
            Kind::Uint => DataType::UInt64,
            Kind::Double => DataType::Float64,
            Kind::Bool => DataType::Boolean,
        }
    }
}

/// One column: a field, its argument and the kind of its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnKey {
    pub field: FieldId,
    pub arg: Option<Box<str>>,
    pub kind: Kind,
}

impl ColumnKey {
    /// The column's name in a segment file.
    pub fn name(&self) -> String {
        let mut name = self.field.name().to_string();
        if let Some(arg) = &self.arg {
            name.push('[');
            name.push_str(arg);
            name.push(']');
        }
        if self.kind != Kind::natural(self.field.info()) {
            name.push('#');
            name.push_str(self.kind.suffix());
        }
        name
    }

    /// The column a name denotes, or `None` for a name that is not a field column (the `_`
    /// columns, or columns a later schema version added). A key ends in `]` or in a field
    /// name's characters, never in `#kind`, so the suffix is unambiguous.
    pub fn parse(name: &str) -> Option<ColumnKey> {
        let (key, kind) = match name.rsplit_once('#') {
            Some((key, suffix)) if !suffix.contains(']') => {
                (key, Kind::ALL.into_iter().find(|k| k.suffix() == suffix)?)
            }
            _ => (name, Kind::Str),
        };
        let (field, arg) = parse_key(key)?;
        let natural = Kind::natural(field.info());
        let kind = if key.len() == name.len() {
            natural
        } else if kind == natural {
            // A natural kind is never written with a suffix.
            return None;
        } else {
            kind
        };
        Some(ColumnKey {
            field,
            arg: arg.map(Into::into),
            kind,
        })
    }
}

/// A list value as stored: a JSON array whose items are strings tagged with their kind
/// (`"s:text"`, `"i:-3"`, `"u:5"`, `"d:1.5"`, `"t:true"`, `"p:10.0.0.1"`, `"b:<hex>"`) or,
/// for a nested list, arrays.
pub fn encode_list(items: &[Value<'_>]) -> String {
    fn item(v: &Value<'_>) -> serde_json::Value {
        use serde_json::Value as J;
        let tagged = |tag: &str, text: &str| J::String(format!("{tag}:{text}"));
        match v {
            Value::Str(s) => tagged("s", s),
            Value::Bytes(b) => tagged(
                "b",
                &b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
            ),
            Value::Int(i) => tagged("i", &i.to_string()),
            Value::Uint(u) => tagged("u", &u.to_string()),
            Value::Double(d) => tagged("d", &d.to_string()),
            Value::Bool(b) => tagged("t", &b.to_string()),
            Value::Ip(ip) => tagged("p", &ip.to_string()),
            Value::List(l) => J::Array(l.iter().map(item).collect()),
        }
    }
    serde_json::Value::Array(items.iter().map(item).collect()).to_string()
}

/// The inverse of [`encode_list`]; `None` for text it did not write.
pub fn decode_list(text: &str) -> Option<Vec<Value<'static>>> {
    fn item(j: &serde_json::Value) -> Option<Value<'static>> {
        match j {
            serde_json::Value::Array(items) => items
                .iter()
                .map(item)
                .collect::<Option<_>>()
                .map(Value::List),
            serde_json::Value::String(s) => {
                let (tag, text) = s.split_once(':')?;
                Some(match tag {
                    "s" => Value::Str(Cow::Owned(text.to_string())),
                    "b" => Value::Bytes(Cow::Owned(unhex(text)?)),
                    "i" => Value::Int(text.parse().ok()?),
                    "u" => Value::Uint(text.parse().ok()?),
                    "d" => Value::Double(text.parse().ok()?),
                    "t" => Value::Bool(text.parse().ok()?),
                    "p" => Value::Ip(text.parse::<IpAddr>().ok()?),
                    _ => return None,
                })
            }
            _ => None,
        }
    }
    match serde_json::from_str(text).ok()? {
        serde_json::Value::Array(items) => items.iter().map(item).collect(),
        _ => None,
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_engine::fields::get;

    fn key(field: &str, arg: Option<&str>, kind: Kind) -> ColumnKey {
        ColumnKey {
            field: get(field).unwrap(),
            arg: arg.map(Into::into),
            kind,
        }
    }

    #[test]
    fn column_names_round_trip() {
        for (k, name) in [
            (key("proc.name", None, Kind::Str), "proc.name"),
            (key("proc.pid", None, Kind::Int), "proc.pid"),
            (key("evt.time", None, Kind::Int), "evt.time#int"),
            (key("proc.aname", Some("2"), Kind::Str), "proc.aname[2]"),
            (key("evt.arg", Some("flags"), Kind::Str), "evt.arg[flags]"),
            (
                key("k8s.pod.label", Some("a#int"), Kind::Str),
                "k8s.pod.label[a#int]",
            ),
            (
                key("k8s.pod.label", Some("x]"), Kind::Uint),
                "k8s.pod.label[x]]#uint",
            ),
            (key("fd.types", None, Kind::List), "fd.types"),
            (key("fd.sip", None, Kind::Ip), "fd.sip"),
        ] {
            assert_eq!(k.name(), name);
            assert_eq!(ColumnKey::parse(name), Some(k), "{name}");
        }
        assert_eq!(ColumnKey::parse("_seq"), None);
        assert_eq!(ColumnKey::parse("proc.name#str"), None);
        assert_eq!(ColumnKey::parse("proc.name#nope"), None);
        assert_eq!(ColumnKey::parse("no.such.field"), None);
    }

    #[test]
    fn lists_round_trip_with_their_kinds() {
        let list = vec![
            Value::Str("ipv4".into()),
            Value::Int(-3),
            Value::Uint(u64::MAX),
            Value::Double(0.1),
            Value::Bool(true),
            Value::Ip("::1".parse().unwrap()),
            Value::Bytes(vec![0, 255].into()),
            Value::List(vec![Value::Str("a:b".into())]),
        ];
        assert_eq!(decode_list(&encode_list(&list)), Some(list));
        assert_eq!(decode_list("[\"x:1\"]"), None);
        assert_eq!(decode_list("{}"), None);
    }
}
