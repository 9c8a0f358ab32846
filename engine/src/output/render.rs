//! Values as Falco prints them in outputs.

use crate::event::Value;

/// The text of a value: strings as they are, numbers in decimal, booleans `true`/`false`,
/// addresses in their usual notation, lists as `(a,b)`.
pub fn render_value(v: &Value<'_>) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => b
            .iter()
            .map(|&c| {
                if c.is_ascii_graphic() || c == b' ' {
                    c as char
                } else {
                    '.'
                }
            })
            .collect(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Double(d) => format!("{d:.1}"),
        Value::Bool(b) => b.to_string(),
        Value::Ip(ip) => ip.to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(render_value).collect();
            format!("({})", parts.join(","))
        }
    }
}
