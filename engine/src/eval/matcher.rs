//! A comparison with its right-hand side converted once, at compile time: typed constants,
//! pre-built regexes, globs, prefix sets and hash sets. `Matcher::matches` is the hot path.

use super::glob::Glob;
use super::pmatch::PrefixSet;
use crate::event::Value;
use crate::syntax::ast::{CmpOp, Modifier};
use ipnet::IpNet;
use rustc_hash::FxHashSet;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

/// A right-hand side constant, typed by the left-hand side field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Const {
    Bytes(Box<[u8]>),
    Int(i128),
    Float(f64),
    Bool(bool),
    Ip(IpAddr),
    Net(IpNet),
}

/// The bytes of a string-like value; other values as they render (a source may give a number
/// for a field the catalogue types as a string, e.g. `evt.time`).
pub(crate) fn as_bytes<'v>(v: &'v Value<'_>) -> Option<Cow<'v, [u8]>> {
    match v {
        Value::Str(s) => Some(Cow::Borrowed(s.as_bytes())),
        Value::Bytes(b) => Some(Cow::Borrowed(b)),
        Value::List(_) => None,
        other => Some(Cow::Owned(crate::output::render_value(other).into_bytes())),
    }
}

pub(crate) fn as_int(v: &Value<'_>) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i as i128),
        Value::Uint(u) => Some(*u as i128),
        Value::Str(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(*b as i128),
        _ => None,
    }
}

fn as_f64(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        other => as_int(other).map(|i| i as f64),
    }
}

impl Const {
    pub(crate) fn eq(&self, v: &Value<'_>) -> bool {
        match self {
            Const::Bytes(b) => match v {
                Value::Str(s) => bytes_eq(s.as_bytes(), b),
                Value::Bytes(x) => bytes_eq(x, b),
                other => as_bytes(other).is_some_and(|x| bytes_eq(&x, b)),
            },
            Const::Int(i) => match v {
                Value::Double(d) => *d == *i as f64,
                other => as_int(other) == Some(*i),
            },
            Const::Float(f) => as_f64(v) == Some(*f),
            Const::Bool(b) => matches!(v, Value::Bool(x) if x == b),
            Const::Ip(ip) => matches!(v, Value::Ip(x) if x == ip),
            Const::Net(net) => matches!(v, Value::Ip(x) if net.contains(x)),
        }
    }

    fn cmp(&self, v: &Value<'_>) -> Option<Ordering> {
        match self {
            Const::Bytes(b) => as_bytes(v).map(|x| (*x).cmp(&**b)),
            Const::Int(i) => match v {
                Value::Double(d) => d.partial_cmp(&(*i as f64)),
                other => as_int(other).map(|x| x.cmp(i)),
            },
            Const::Float(f) => as_f64(v).and_then(|x| x.partial_cmp(f)),
            _ => None,
        }
    }
}

const SMALL_SET: usize = 8;

/// The right-hand side of `in`/`intersects` (and of `== anyof`).
#[derive(Debug, Clone)]
pub(crate) enum ConstSet {
    /// Up to [`SMALL_SET`] strings: a length check and a compare beat hashing.
    SmallBytes(Box<[Box<[u8]>]>),
    Bytes(FxHashSet<Box<[u8]>>),
    Ints(FxHashSet<i128>),
    Other(Vec<Const>),
}

impl ConstSet {
    pub(crate) fn new(items: Vec<Const>) -> ConstSet {
        let len = items.len();
        if !items.is_empty() && items.iter().all(|c| matches!(c, Const::Bytes(_))) {
            let strings = items.into_iter().filter_map(|c| {
                if let Const::Bytes(b) = c {
                    Some(b)
                } else {
                    None
                }
            });
            if len <= SMALL_SET {
                ConstSet::SmallBytes(strings.collect())
            } else {
                ConstSet::Bytes(strings.collect())
            }
        } else if !items.is_empty() && items.iter().all(|c| matches!(c, Const::Int(_))) {
            ConstSet::Ints(
                items
                    .into_iter()
                    .filter_map(|c| if let Const::Int(i) = c { Some(i) } else { None })
                    .collect(),
            )
        } else {
            ConstSet::Other(items)
        }
    }

    pub(crate) fn contains(&self, v: &Value<'_>) -> bool {
        match self {
            ConstSet::SmallBytes(items) => match as_bytes(v) {
                Some(b) => items.iter().any(|i| bytes_eq(i, &b)),
                None => false,
            },
            ConstSet::Bytes(set) => match v {
                Value::Str(s) => set.contains(s.as_bytes()),
                Value::Bytes(b) => set.contains(&**b),
                other => as_bytes(other).is_some_and(|b| set.contains(&*b)),
            },
            ConstSet::Ints(set) => match v {
                Value::Double(d) => set.iter().any(|i| *i as f64 == *d),
                other => as_int(other).is_some_and(|i| set.contains(&i)),
            },
            ConstSet::Other(items) => items.iter().any(|c| c.eq(v)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            ConstSet::SmallBytes(s) => s.is_empty(),
            ConstSet::Bytes(s) => s.is_empty(),
            ConstSet::Ints(s) => s.is_empty(),
            ConstSet::Other(s) => s.is_empty(),
        }
    }
}

/// Bounds the memory of one compiled regex (a huge regex is a compile error, not an OOM).
/// RE2 has a similar budget (`max_mem`), but counts differently: the crate needs more for
/// large counted repetitions (`.{1000}` many times over), so a few patterns RE2 just accepts
/// fail here, with RE2's message for the same failure.
const REGEX_SIZE_LIMIT: usize = 1 << 22;

/// `regex` is a full match in libs (RE2 `ANCHOR_BOTH`).
pub(crate) fn full_match_regex(pattern: &str) -> Result<regex::Regex, String> {
    let pattern = crate::compile::re2::to_rust_syntax(pattern)?;
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "pattern too large - compile failed".to_string(),
            other => {
                let text = other.to_string();
                let last = text.lines().last().unwrap_or("invalid pattern").trim();
                last.strip_prefix("error: ").unwrap_or(last).to_string()
            }
        })
}

#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Eq(Const),
    Ne(Const),
    Lt(Const),
    Le(Const),
    Gt(Const),
    Ge(Const),
    Contains(Needle),
    /// The needle is lower-cased; ASCII case folding like `strcasestr`.
    IContains(Box<[u8]>),
    StartsWith(Box<[u8]>),
    EndsWith(Box<[u8]>),
    Glob(Glob),
    Regex(regex::Regex),
    PMatch(PrefixSet),
    /// `in` (`overlap: false`: every value of a list LHS must be in the set) or `intersects`
    /// (`overlap: true`: some value must be). Same thing for single values.
    In {
        set: ConstSet,
        overlap: bool,
    },
    /// `op oneof/anyof/allof (items)`: one matcher per item, all with the same operator.
    Mod {
        modifier: Modifier,
        items: Box<[Matcher]>,
    },
    /// `== anyof` and `!= allof` as set look-ups (libs does the same).
    ModSet {
        set: ConstSet,
        negate: bool,
    },
}

/// A substring searcher built once, at compile time (SIMD search rather than a compare per
/// position).
#[derive(Clone)]
pub(crate) struct Needle(memchr::memmem::Finder<'static>);

impl Needle {
    pub(crate) fn new(needle: &[u8]) -> Needle {
        Needle(memchr::memmem::Finder::new(needle).into_owned())
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        self.0.find(hay).is_some()
    }
}

/// The needle itself (what check interning compares).
impl fmt::Debug for Needle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Needle").field(&self.0.needle()).finish()
    }
}

/// Slice equality that rejects most unequal strings on their length and end bytes before
/// calling `memcmp` (a call per check is much of the cost of the short strings rules compare).
#[inline(always)]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && (a.is_empty() || (a[0] == b[0] && a[a.len() - 1] == b[b.len() - 1] && a == b))
}

#[inline(always)]
fn starts_with(hay: &[u8], prefix: &[u8]) -> bool {
    hay.len() >= prefix.len() && bytes_eq(&hay[..prefix.len()], prefix)
}

#[inline(always)]
fn ends_with(hay: &[u8], suffix: &[u8]) -> bool {
    hay.len() >= suffix.len() && bytes_eq(&hay[hay.len() - suffix.len()..], suffix)
}

fn icontains_bytes(hay: &[u8], needle_lower: &[u8]) -> bool {
    needle_lower.is_empty()
        || (needle_lower.len() <= hay.len()
            && hay.windows(needle_lower.len()).any(|w| {
                w.iter()
                    .zip(needle_lower)
                    .all(|(a, b)| a.to_ascii_lowercase() == *b)
            }))
}

fn str_of<'v>(bytes: &'v Cow<'v, [u8]>) -> Cow<'v, str> {
    String::from_utf8_lossy(bytes)
}

impl Matcher {
    /// The matcher of one operator with one constant; `text` is the constant as written (the
    /// pattern of string operators when the constant is not a string). Errors are messages.
    pub(crate) fn single(op: CmpOp, c: Const, text: &str) -> Result<Matcher, String> {
        let bytes = |c: &Const| -> Box<[u8]> {
            match c {
                Const::Bytes(b) => b.clone(),
                _ => text.as_bytes().into(),
            }
        };
        let pattern = |c: &Const| String::from_utf8_lossy(&bytes(c)).into_owned();
        Ok(match op {
            CmpOp::Eq | CmpOp::EqEq => Matcher::Eq(c),
            CmpOp::Ne => Matcher::Ne(c),
            CmpOp::Lt => Matcher::Lt(c),
            CmpOp::Le => Matcher::Le(c),
            CmpOp::Gt => Matcher::Gt(c),
            CmpOp::Ge => Matcher::Ge(c),
            CmpOp::Contains | CmpOp::BContains => Matcher::Contains(Needle::new(&bytes(&c))),
            CmpOp::IContains => Matcher::IContains(bytes(&c).to_ascii_lowercase().into()),
            CmpOp::StartsWith | CmpOp::BStartsWith => Matcher::StartsWith(bytes(&c)),
            CmpOp::EndsWith => Matcher::EndsWith(bytes(&c)),
            CmpOp::Glob | CmpOp::IGlob => {
                Matcher::Glob(Glob::new(&pattern(&c), op == CmpOp::IGlob))
            }
            CmpOp::Regex => Matcher::Regex(
                full_match_regex(&pattern(&c))
                    .map_err(|e| format!("invalid regex pattern: {e}"))?,
            ),
            CmpOp::In | CmpOp::Intersects => Matcher::In {
                set: ConstSet::new(vec![c]),
                overlap: op == CmpOp::Intersects,
            },
            CmpOp::PMatch => Matcher::PMatch(PrefixSet::new([pattern(&c).as_str()])),
        })
    }

    pub(crate) fn matches(&self, v: &Value<'_>) -> bool {
        if let Value::List(items) = v {
            return match self {
                Matcher::In {
                    set,
                    overlap: false,
                } => items.iter().all(|i| set.contains(i)),
                Matcher::In { set, overlap: true } => items.iter().any(|i| set.contains(i)),
                _ => false,
            };
        }
        match self {
            Matcher::Eq(c) => c.eq(v),
            Matcher::Ne(c) => !c.eq(v),
            Matcher::Lt(c) => c.cmp(v) == Some(Ordering::Less),
            Matcher::Le(c) => matches!(c.cmp(v), Some(Ordering::Less | Ordering::Equal)),
            Matcher::Gt(c) => c.cmp(v) == Some(Ordering::Greater),
            Matcher::Ge(c) => matches!(c.cmp(v), Some(Ordering::Greater | Ordering::Equal)),
            Matcher::Contains(n) => as_bytes(v).is_some_and(|h| n.found_in(&h)),
            Matcher::IContains(n) => as_bytes(v).is_some_and(|h| icontains_bytes(&h, n)),
            Matcher::StartsWith(n) => as_bytes(v).is_some_and(|h| starts_with(&h, n)),
            Matcher::EndsWith(n) => as_bytes(v).is_some_and(|h| ends_with(&h, n)),
            Matcher::Glob(g) => as_bytes(v).is_some_and(|h| g.matches(&str_of(&h))),
            Matcher::Regex(re) => as_bytes(v).is_some_and(|h| re.is_match(&str_of(&h))),
            Matcher::PMatch(p) => as_bytes(v).is_some_and(|h| p.matches(&str_of(&h))),
            Matcher::In { set, .. } => set.contains(v),
            Matcher::Mod { modifier, items } => match modifier {
                Modifier::OneOf => items.iter().filter(|m| m.matches(v)).take(2).count() == 1,
                Modifier::AnyOf => items.iter().any(|m| m.matches(v)),
                Modifier::AllOf => !items.is_empty() && items.iter().all(|m| m.matches(v)),
            },
            Matcher::ModSet { set, negate } => !set.is_empty() && set.contains(v) != *negate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value<'_> {
        Value::Str(x.into())
    }

    #[test]
    fn string_operators() {
        assert!(Matcher::Contains(Needle::new(b"")).matches(&s("abc")));
        assert!(Matcher::Contains(Needle::new(b"bc")).matches(&s("abc")));
        assert!(!Matcher::Contains(Needle::new(b"abcd")).matches(&s("abc")));
        assert!(Matcher::StartsWith(b"ab".to_vec().into()).matches(&s("abc")));
        assert!(!Matcher::StartsWith(b"abcd".to_vec().into()).matches(&s("abc")));
        assert!(!Matcher::EndsWith(b"b".to_vec().into()).matches(&s("abc")));
        assert!(Matcher::IContains(b"bc".to_vec().into()).matches(&s("ABC")));
        assert!(Matcher::Lt(Const::Bytes(b"b".to_vec().into())).matches(&s("a")));
        assert!(!Matcher::Lt(Const::Bytes(b"b".to_vec().into())).matches(&s("b")));
        assert!(Matcher::EndsWith(b"c".to_vec().into()).matches(&s("abc")));
    }

    #[test]
    fn list_values_in_and_intersects() {
        let set = || {
            ConstSet::new(vec![
                Const::Bytes(b"ipv4".to_vec().into()),
                Const::Bytes(b"file".to_vec().into()),
            ])
        };
        let list = Value::List(vec![s("ipv4"), s("pipe")]);
        assert!(
            !Matcher::In {
                set: set(),
                overlap: false
            }
            .matches(&list)
        );
        assert!(
            Matcher::In {
                set: set(),
                overlap: true
            }
            .matches(&list)
        );
        assert!(
            Matcher::In {
                set: set(),
                overlap: false
            }
            .matches(&Value::List(vec![]))
        );
    }

    #[test]
    fn modifiers() {
        let eq = |x: &str| Matcher::Eq(Const::Bytes(x.as_bytes().into()));
        let one = Matcher::Mod {
            modifier: Modifier::OneOf,
            items: vec![eq("a"), eq("a")].into(),
        };
        assert!(!one.matches(&s("a")));
        let all = Matcher::Mod {
            modifier: Modifier::AllOf,
            items: vec![].into(),
        };
        assert!(!all.matches(&s("a")));
    }

    #[test]
    fn ip_families_never_equal() {
        let v4 = Value::Ip("10.0.0.1".parse().unwrap());
        assert!(!Matcher::Eq(Const::Ip("::ffff:10.0.0.1".parse().unwrap())).matches(&v4));
        assert!(Matcher::Ne(Const::Net("fe80::/10".parse().unwrap())).matches(&v4));
        assert!(Matcher::Eq(Const::Net("10.9.9.9/8".parse().unwrap())).matches(&v4));
    }
}
