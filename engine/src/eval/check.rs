//! The compiled condition tree and its checks.

use super::EvtTypeSet;
use super::derive::{self, Lineage};
use super::matcher::{Const, ConstSet, Matcher};
use super::transform::TExpr;
use crate::event::{FieldSource, Value};
use crate::fields::FieldId;
use crate::syntax::ast::CmpOp;
use std::cell::Cell;

#[derive(Debug)]
pub(crate) enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Check(Box<Check>),
}

/// The `evt.type` of the event being evaluated, looked up at most once per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvtTypeOf {
    Missing,
    /// Present but not a name of the event table.
    Unknown,
    Index(u16),
}

/// One evaluation: the source and what was already learned about it.
pub(crate) struct Frame<'a, S: FieldSource + ?Sized> {
    pub src: &'a S,
    evt_type: Cell<Option<EvtTypeOf>>,
}

impl<'a, S: FieldSource + ?Sized> Frame<'a, S> {
    pub(crate) fn new(src: &'a S, evt_type: Option<EvtTypeOf>) -> Self {
        Frame {
            src,
            evt_type: Cell::new(evt_type),
        }
    }

    fn evt_type(&self) -> EvtTypeOf {
        if let Some(t) = self.evt_type.get() {
            return t;
        }
        let t = super::evt_type_of(self.src);
        self.evt_type.set(Some(t));
        t
    }
}

/// Where the left-hand side value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Lhs {
    Field {
        id: FieldId,
        arg: Option<Box<str>>,
    },
    /// An ancestor field without index: the check holds if it holds for any ancestor.
    Ancestors(&'static Lineage),
    /// `fd.ip`, `fd.port`, `fd.proto`, `fd.net`: client or server side; `!=` needs both.
    EitherSide([FieldId; 2]),
    Transformed(TExpr),
    /// A field argument libs parses but can never extract (`proc.apid[-2]`): no value.
    Never,
    /// `evt.type` compared by `=`, `!=`, `in`: a bit test on the event's type index.
    EvtType {
        set: EvtTypeSet,
        negate: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Exists,
    Match(Matcher),
    /// `val(field)` or a transformer on the right: the RHS is extracted per event.
    Field {
        op: CmpOp,
        rhs: TExpr,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub lhs: Lhs,
    pub test: Test,
}

impl Check {
    pub(crate) fn eval<S: FieldSource + ?Sized>(&self, f: &Frame<'_, S>) -> bool {
        let src = f.src;
        match &self.lhs {
            Lhs::EvtType { set, negate } => match f.evt_type() {
                EvtTypeOf::Missing => false,
                EvtTypeOf::Unknown => *negate,
                EvtTypeOf::Index(i) => set.contains(i) != *negate,
            },
            Lhs::Field { id, arg } => {
                derive::test(src, *id, arg.as_deref(), |v| self.test_value(src, v))
            }
            Lhs::Never => false,
            Lhs::Transformed(t) => match t.eval(src) {
                Some(v) => self.test_value(src, &v),
                None => false,
            },
            Lhs::Ancestors(l) => derive::for_each_ancestor(src, l, |v| self.test_value(src, v)),
            Lhs::EitherSide(sides) => {
                let values = sides.map(|s| derive::extract(src, s, None));
                let present = values.iter().flatten();
                let all_needed = matches!(&self.test, Test::Match(Matcher::Ne(_)));
                let mut any = false;
                for v in present {
                    let ok = self.test_value(src, v);
                    if ok && !all_needed {
                        return true;
                    }
                    if !ok && all_needed {
                        return false;
                    }
                    any = true;
                }
                any && all_needed
            }
        }
    }

    #[inline(always)]
    fn test_value<S: FieldSource + ?Sized>(&self, src: &S, v: &Value<'_>) -> bool {
        match &self.test {
            Test::Exists => true,
            Test::Match(m) => m.matches(v),
            Test::Field { op, rhs } => match rhs.eval(src) {
                Some(r) => dynamic_matcher(*op, r).is_some_and(|m| m.matches(v)),
                None => false,
            },
        }
    }
}

fn to_const(v: &Value<'_>) -> Option<Const> {
    Some(match v {
        Value::Str(s) => Const::Bytes(s.as_bytes().into()),
        Value::Bytes(b) => Const::Bytes(b.as_ref().into()),
        Value::Int(i) => Const::Int(*i as i128),
        Value::Uint(u) => Const::Int(*u as i128),
        Value::Double(d) => Const::Float(*d),
        Value::Bool(b) => Const::Bool(*b),
        Value::Ip(ip) => Const::Ip(*ip),
        Value::List(_) => return None,
    })
}

/// The matcher for a right-hand side known only at run time (a field or transformer).
fn dynamic_matcher(op: CmpOp, rhs: Value<'_>) -> Option<Matcher> {
    if let Value::List(items) = &rhs {
        let set = ConstSet::new(items.iter().filter_map(to_const).collect());
        return match op {
            CmpOp::In => Some(Matcher::In {
                set,
                overlap: false,
            }),
            CmpOp::Intersects => Some(Matcher::In { set, overlap: true }),
            _ => None,
        };
    }
    let c = to_const(&rhs)?;
    if matches!(op, CmpOp::Regex | CmpOp::PMatch) {
        // The compiler rejects field right-hand sides for these.
        return None;
    }
    let text = super::matcher::as_bytes(&rhs).map(|b| String::from_utf8_lossy(&b).into_owned())?;
    Matcher::single(op, c, &text).ok()
}
