//! The stable identity of a stored event: `(node, incarnation, sequence)`, written
//! `NODE:INCARNATION:SEQ`.
//!
//! A node name may itself contain `:` (a `host:port`, an IPv6 address), so the text is read from
//! the right: the last two `:`-separated parts are the numbers and everything before them is the
//! node. A node name must be non-empty, at most [`MAX_NODE_LEN`] bytes and free of control
//! characters; the numbers are unsigned decimals without sign or leading zeros (so that each id
//! has exactly one spelling and ids compare equal exactly when their texts do).

use std::fmt;
use std::str::FromStr;

/// The longest node name accepted, in bytes.
pub const MAX_NODE_LEN: usize = 253;

/// One event's identity. `incarnation` changes when a node's store starts afresh (a new
/// directory); `seq` only grows within an incarnation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    pub node: String,
    pub incarnation: u64,
    pub seq: u64,
}

/// Why a text is not an event id; each variant names the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("event id '{0}' is not NODE:INCARNATION:SEQ (it needs two ':')")]
    Shape(String),
    #[error("event id has an empty node name")]
    EmptyNode,
    #[error("event id's node name is longer than {MAX_NODE_LEN} bytes")]
    NodeTooLong,
    #[error("event id's node name has a control character at byte {0}")]
    NodeControl(usize),
    #[error("event id's {part} '{text}' is not an unsigned decimal number without leading zeros")]
    Number { part: &'static str, text: String },
}

impl EventId {
    /// An id after checking the node name (the rules of the text form).
    pub fn new(node: &str, incarnation: u64, seq: u64) -> Result<EventId, IdError> {
        check_node(node)?;
        Ok(EventId {
            node: node.to_string(),
            incarnation,
            seq,
        })
    }
}

/// Checks a node name against the rules of the id's text form.
pub fn check_node(node: &str) -> Result<(), IdError> {
    if node.is_empty() {
        return Err(IdError::EmptyNode);
    }
    if node.len() > MAX_NODE_LEN {
        return Err(IdError::NodeTooLong);
    }
    if let Some((at, _)) = node.char_indices().find(|(_, c)| c.is_control()) {
        return Err(IdError::NodeControl(at));
    }
    Ok(())
}

fn number(part: &'static str, text: &str) -> Result<u64, IdError> {
    let bad = || IdError::Number {
        part,
        text: text.chars().take(40).collect(),
    };
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(bad());
    }
    text.parse().map_err(|_| bad())
}

impl FromStr for EventId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<EventId, IdError> {
        let mut parts = text.rsplitn(3, ':');
        let (Some(seq), Some(incarnation), Some(node)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(IdError::Shape(text.chars().take(80).collect()));
        };
        check_node(node)?;
        Ok(EventId {
            node: node.to_string(),
            incarnation: number("incarnation", incarnation)?,
            seq: number("sequence", seq)?,
        })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.node, self.incarnation, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_even_with_colons_in_the_node() {
        for (text, node, inc, seq) in [
            ("node-a:1:2", "node-a", 1, 2),
            ("10.0.0.1:8080:7:0", "10.0.0.1:8080", 7, 0),
            ("fe80::1:18446744073709551615:9", "fe80::1", u64::MAX, 9),
        ] {
            let id: EventId = text.parse().unwrap();
            assert_eq!(id, EventId::new(node, inc, seq).unwrap());
            assert_eq!(id.to_string(), text);
        }
    }

    #[test]
    fn bad_ids_name_the_part_at_fault() {
        let err = |t: &str| t.parse::<EventId>().unwrap_err();
        assert!(matches!(err("node:1"), IdError::Shape(_)));
        assert!(matches!(err(""), IdError::Shape(_)));
        assert_eq!(err(":1:2"), IdError::EmptyNode);
        assert_eq!(err("a\nb:1:2"), IdError::NodeControl(1));
        assert_eq!(
            err(&format!("{}:1:2", "n".repeat(254))),
            IdError::NodeTooLong
        );
        for (text, part) in [
            ("n:x:2", "incarnation"),
            ("n:01:2", "incarnation"),
            ("n:1:+2", "sequence"),
            ("n:1:-2", "sequence"),
            ("n:1:18446744073709551616", "sequence"),
            ("n:1:", "sequence"),
        ] {
            match err(text) {
                IdError::Number { part: p, .. } => assert_eq!(p, part, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(err("n:1:x").to_string().contains("sequence 'x'"));
    }
}
