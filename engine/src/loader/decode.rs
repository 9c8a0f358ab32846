//! Falco's value decoding (`decode_val_generic`, `decode_seq` in `rule_loader_reader.cpp`) with
//! yaml-cpp's scalar conversions, over the spanned tree of [`super::yaml`].

use super::mapped::MappedText;
use super::yaml::{Kind, NodeId, Yaml};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

pub(crate) type Res<T> = Result<T, Diagnostic>;

/// A validation error (`LOAD_ERR_YAML_VALIDATE`) at `span`; the item is filled in by the reader.
pub(crate) fn invalid(message: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error(Code::ERR_YAML_VALIDATE, message, span)
}

/// One rules file being read: its text and its tree.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub yaml: &'a Yaml,
}

/// yaml-cpp's `convert<bool>`: `true/false/yes/no/on/off/y/n`, lower-case, upper-case or
/// capitalised.
pub(crate) fn yaml_bool(s: &str) -> Option<bool> {
    let lower = s.to_ascii_lowercase();
    let mut chars = s.chars();
    let first_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let rest_lower = chars.as_str().chars().all(|c| !c.is_ascii_uppercase());
    let consistent = s == lower || s == s.to_ascii_uppercase() || (first_upper && rest_lower);
    if !consistent {
        return None;
    }
    match lower.as_str() {
        "true" | "yes" | "on" | "y" => Some(true),
        "false" | "no" | "off" | "n" => Some(false),
        _ => None,
    }
}

/// yaml-cpp's unsigned integer conversion: decimal, `0x` hex or `0o` octal, no sign.
pub(crate) fn yaml_uint(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if let Some(hex) = s.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = s.strip_prefix("0o") {
        u64::from_str_radix(oct, 8).ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

pub(crate) enum Want {
    Required,
    Optional,
    /// Optional, and present-but-empty is fine (`source:`).
    OptionalEmpty,
}

impl<'a> Doc<'a> {
    /// The scalar value of `key` in `item`, decoded like Falco's `decode_val_generic`:
    /// `Ok(None)` when it is optional and absent (or allowed to be empty and empty).
    pub fn scalar(
        &self,
        item: NodeId,
        key: &str,
        want: Want,
        item_span: Span,
    ) -> Res<Option<(NodeId, &'a str)>> {
        let y = self.yaml;
        let Some((key_node, val)) = y.entry(item, key) else {
            return match want {
                Want::Required => Err(invalid(crate::messages::missing_key(key), item_span)),
                _ => Ok(None),
            };
        };
        let span = y.span(val);
        match &y.node(val).kind {
            Kind::Null if matches!(want, Want::OptionalEmpty) => Ok(None),
            Kind::Null => Err(invalid(
                format!("Mapping for key '{key}' is empty"),
                y.span(key_node).cover(span),
            )),
            Kind::Scalar { value, .. } if value.is_empty() => match want {
                Want::OptionalEmpty => Ok(None),
                _ => Err(invalid("Value must be non-empty", span)),
            },
            Kind::Scalar { value, .. } => Ok(Some((val, value.as_str()))),
            _ => Err(invalid("Value is not a scalar value", span)),
        }
    }

    pub fn string(
        &self,
        item: NodeId,
        key: &str,
        want: Want,
        item_span: Span,
    ) -> Res<Option<&'a str>> {
        Ok(self.scalar(item, key, want, item_span)?.map(|(_, s)| s))
    }

    /// Like [`Doc::string`] but keeping where every byte came from.
    pub fn mapped(
        &self,
        item: NodeId,
        key: &str,
        want: Want,
        item_span: Span,
    ) -> Res<Option<MappedText>> {
        Ok(self
            .scalar(item, key, want, item_span)?
            .map(|(id, _)| self.mapped_node(id)))
    }

    pub fn mapped_node(&self, id: NodeId) -> MappedText {
        match &self.yaml.node(id).kind {
            Kind::Scalar { value, style } => {
                MappedText::from_scalar(value, *style, self.text, self.yaml.span(id))
            }
            _ => MappedText::fixed("", self.yaml.span(id)),
        }
    }

    pub fn bool(&self, item: NodeId, key: &str, want: Want, item_span: Span) -> Res<Option<bool>> {
        self.convert(item, key, want, item_span, yaml_bool)
    }

    pub fn uint(&self, item: NodeId, key: &str, want: Want, item_span: Span) -> Res<Option<u64>> {
        self.convert(item, key, want, item_span, yaml_uint)
    }

    fn convert<T>(
        &self,
        item: NodeId,
        key: &str,
        want: Want,
        item_span: Span,
        f: impl Fn(&str) -> Option<T>,
    ) -> Res<Option<T>> {
        match self.scalar(item, key, want, item_span)? {
            None => Ok(None),
            Some((id, s)) => match f(s) {
                Some(v) => Ok(Some(v)),
                None => Err(invalid(
                    "Can't decode YAML scalar value",
                    self.yaml.span(id),
                )),
            },
        }
    }

    /// A sequence of scalars (`items`, `tags`); `Ok(None)` when optional and absent.
    pub fn seq(
        &self,
        item: NodeId,
        key: &str,
        required: bool,
        item_span: Span,
    ) -> Res<Option<Vec<NodeId>>> {
        let y = self.yaml;
        let Some(val) = y.get(item, key) else {
            return if required {
                Err(invalid(crate::messages::missing_key(key), item_span))
            } else {
                Ok(None)
            };
        };
        let Some(items) = y.seq(val) else {
            return Err(invalid("Value is not a sequence", y.span(val)));
        };
        for &v in items {
            if y.scalar(v).is_none() {
                return Err(invalid("sequence value is not scalar", y.span(v)));
            }
        }
        Ok(Some(items.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_like_yaml_cpp() {
        for t in ["true", "True", "TRUE", "yes", "Yes", "on", "ON", "y", "Y"] {
            assert_eq!(yaml_bool(t), Some(true), "{t}");
        }
        for f in ["false", "no", "NO", "off", "Off", "n", "N"] {
            assert_eq!(yaml_bool(f), Some(false), "{f}");
        }
        for bad in ["tRue", "1", "", "yess", "oN"] {
            assert_eq!(yaml_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn unsigned_like_yaml_cpp() {
        assert_eq!(yaml_uint("10"), Some(10));
        assert_eq!(yaml_uint("0x1f"), Some(31));
        assert_eq!(yaml_uint("0o17"), Some(15));
        assert_eq!(yaml_uint("-1"), None);
        assert_eq!(yaml_uint("0.57.0"), None);
        assert_eq!(yaml_uint("not_a_number"), None);
    }
}
