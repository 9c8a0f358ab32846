//! Events to and from the interchange format without a JSON parse in between: building an
//! [`Event`] from typed values as a collector has them (typed by the same rules as decoding
//! the JSON those values would be written as), and writing an event's values as one JSON
//! object, keyed as collectors and the REST API write them.

use super::{Event, EventError, Value, json_value, parse_key};
use crate::fields::{FieldId, FieldType, argument_after_dot};
use std::borrow::Cow;
use std::fmt::Write as _;

impl Event {
    /// Sets the field an interchange `key` names to the text `v`, typed exactly as decoding
    /// `{"key": "v"}` types it (an IP field gets an address, an integer field a number…). A key
    /// that is not a field is ignored, as decoding ignores it.
    pub fn put_str(&mut self, key: &str, v: &str) -> Result<(), EventError> {
        let Some((field, arg)) = parse_key(key) else {
            return Ok(());
        };
        let info = field.info();
        let value = if info.ty == FieldType::Charbuf && !info.is_list {
            self.text_value(Cow::Borrowed(v))
        } else {
            let json = serde_json::Value::String(v.to_string());
            json_value(info.ty, info.is_list, &json).map_err(|problem| key_error(key, problem))?
        };
        self.set(field, arg, value);
        Ok(())
    }

    /// [`Event::put_str`] of a text the event may borrow for good (a name from a table, a
    /// constant): a text field keeps it without a copy.
    pub fn put_text(&mut self, key: &str, v: Cow<'static, str>) -> Result<(), EventError> {
        let Some((field, arg)) = parse_key(key) else {
            return Ok(());
        };
        let info = field.info();
        if info.ty != FieldType::Charbuf || info.is_list {
            return self.put_str(key, &v);
        }
        self.set(field, arg, Value::Str(v));
        Ok(())
    }

    /// Sets the field `key` names to the integer `v`, typed as decoding `{"key": v}` types it.
    pub fn put_int(&mut self, key: &str, v: i64) -> Result<(), EventError> {
        self.put_json(key, &serde_json::Value::from(v))
    }

    /// Sets the field `key` names to the boolean `v`, typed as decoding `{"key": v}` types it.
    pub fn put_bool(&mut self, key: &str, v: bool) -> Result<(), EventError> {
        self.put_json(key, &serde_json::Value::Bool(v))
    }

    fn put_json(&mut self, key: &str, json: &serde_json::Value) -> Result<(), EventError> {
        let Some((field, arg)) = parse_key(key) else {
            return Ok(());
        };
        let info = field.info();
        let value =
            json_value(info.ty, info.is_list, json).map_err(|problem| key_error(key, problem))?;
        self.set(field, arg, value);
        Ok(())
    }

    /// Removes every field, keeping the memory for the next event built into this one.
    pub fn reset(&mut self) {
        self.clear();
    }

    /// The event as one interchange JSON object.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push('{');
        write_values(self.values(), &mut out);
        out.push('}');
        out
    }
}

fn key_error(key: &str, problem: String) -> EventError {
    EventError::Key {
        key: key.to_string(),
        problem,
    }
}

/// The interchange key of `field` with argument `arg`, written as in a condition: `field`;
/// `field.arg` for a field whose argument libs reads after a dot (`evt.arg.flags`, as
/// collectors send it); else `field[arg]` (`proc.aname[2]`, `k8s.pod.label[app]`). Decoding
/// reads either form.
pub fn interchange_key(field: FieldId, arg: Option<&str>) -> Cow<'static, str> {
    match arg {
        None => Cow::Borrowed(field.name()),
        Some(arg) if argument_after_dot(field) && !arg.bytes().all(|b| b.is_ascii_digit()) => {
            Cow::Owned(format!("{}.{arg}", field.name()))
        }
        Some(arg) => Cow::Owned(format!("{}[{arg}]", field.name())),
    }
}

/// Appends `"key":value` pairs, comma-separated, for each value (no braces: the caller joins
/// fragments into one object).
pub fn write_values<'v>(
    values: impl Iterator<Item = (FieldId, Option<&'v str>, &'v Value<'static>)>,
    out: &mut String,
) {
    for (i, (field, arg, value)) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&interchange_key(field, arg), out);
        out.push(':');
        write_value(value, out);
    }
}

/// A value as the interchange format writes it (the inverse of decoding, for the field's type).
pub fn write_value(v: &Value<'_>, out: &mut String) {
    match v {
        Value::Str(s) => write_str(s, out),
        Value::Bytes(b) => write_str(&String::from_utf8_lossy(b), out),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Uint(u) => {
            let _ = write!(out, "{u}");
        }
        Value::Double(d) if d.is_finite() => {
            let _ = write!(out, "{}", serde_json::Number::from_f64(*d).expect("finite"));
        }
        Value::Double(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Ip(ip) => {
            let _ = write!(out, "\"{ip}\"");
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
    }
}

/// A JSON string: runs of bytes that need no escape are copied whole (command lines and
/// capability lists are long and almost never need one).
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        // Every byte that stops the run is ASCII, so these are character boundaries.
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every way of building an event gives what decoding its JSON gives, and writing it gives
    /// JSON that decodes to the same event.
    #[test]
    fn typed_puts_agree_with_decoding_and_writing_round_trips() {
        let mut ev = Event::new();
        ev.put_str("evt.type", "openat").unwrap();
        ev.put_int("proc.pid", 42).unwrap();
        ev.put_str("fd.lip", "127.0.0.1").unwrap();
        ev.put_int("fd.lport", 8080).unwrap();
        ev.put_bool("evt.failed", false).unwrap();
        ev.put_str("evt.arg.flags", "O_RDONLY|O_CLOEXEC").unwrap();
        ev.put_text("proc.aname[2]", Cow::Borrowed("sshd")).unwrap();
        ev.put_str("k8s.pod.label[app.kubernetes.io/name]", "web")
            .unwrap();
        ev.put_str("proc.cmdline", "sh -c \"echo\ttab\\\u{1}\" é")
            .unwrap();
        ev.put_str("not.a.field", "ignored").unwrap();
        let decoded = Event::from_json_str(
            r#"{"evt.type":"openat","proc.pid":42,"fd.lip":"127.0.0.1","fd.lport":8080,
                "evt.failed":false,"evt.arg.flags":"O_RDONLY|O_CLOEXEC","proc.aname[2]":"sshd",
                "k8s.pod.label[app.kubernetes.io/name]":"web",
                "proc.cmdline":"sh -c \"echo\ttab\\\u0001\" é"}"#,
        )
        .unwrap();
        assert_eq!(ev, decoded);
        assert_eq!(ev.evt_type, decoded.evt_type);
        let written = ev.to_json();
        assert_eq!(Event::from_json_str(&written).unwrap(), ev, "{written}");
        for key in [
            "\"evt.arg.flags\"",
            "\"proc.aname[2]\"",
            "\"k8s.pod.label[app.kubernetes.io/name]\"",
        ] {
            assert!(written.contains(key), "{key} in {written}");
        }
        serde_json::from_str::<serde_json::Value>(&written).expect("valid JSON");
    }

    #[test]
    fn a_value_its_field_cannot_take_is_an_error_naming_the_key() {
        let mut ev = Event::new();
        let e = ev.put_str("fd.lip", "not an address").unwrap_err();
        assert!(
            matches!(&e, EventError::Key { key, .. } if key == "fd.lip"),
            "{e}"
        );
        assert!(ev.values().next().is_none(), "nothing set");
    }
}
