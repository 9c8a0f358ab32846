//! Stored rows read through the engine's [`FieldSource`]: a [`Batch`] indexes a record batch's
//! columns by field once, and a [`Row`] reads values in place (text borrowed from the column's
//! dictionary), so a rule is evaluated on stored rows without building events.

use crate::columns::evt_time_field;
use crate::schema::{self, ColumnKey, Kind};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
use arrow_array::{
    Array, BinaryArray, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, UInt64Array,
};
use arrow_schema::DataType;
use rulestudio_engine::event::{Event, FieldSource, Value};
use rulestudio_engine::fields::{self, FieldId};
use std::borrow::Cow;

enum Col {
    Dict {
        keys: Int32Array,
        values: StringArray,
    },
    Text(StringArray),
    Bytes(BinaryArray),
    Int(Int64Array),
    Uint(UInt64Array),
    Double(Float64Array),
    Bool(BooleanArray),
}

impl Col {
    fn new(array: &dyn Array) -> Option<Col> {
        Some(match array.data_type() {
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = array.as_dictionary::<Int32Type>();
                Col::Dict {
                    keys: d.keys().clone(),
                    values: d.values().as_string::<i32>().clone(),
                }
            }
            DataType::Utf8 => Col::Text(array.as_string::<i32>().clone()),
            DataType::Binary => Col::Bytes(array.as_binary::<i32>().clone()),
            DataType::Int64 => Col::Int(array.as_primitive::<Int64Type>().clone()),
            DataType::UInt64 => Col::Uint(array.as_primitive::<UInt64Type>().clone()),
            DataType::Float64 => Col::Double(array.as_primitive::<Float64Type>().clone()),
            DataType::Boolean => Col::Bool(array.as_boolean().clone()),
            _ => return None,
        })
    }

    fn text(&self, row: usize) -> Option<&str> {
        match self {
            Col::Dict { keys, values } => {
                (!keys.is_null(row)).then(|| values.value(keys.value(row) as usize))
            }
            Col::Text(a) => (!a.is_null(row)).then(|| a.value(row)),
            _ => None,
        }
    }

    fn value(&self, kind: Kind, row: usize) -> Option<Value<'_>> {
        let some = |a: &dyn Array| !a.is_null(row);
        match (self, kind) {
            (Col::Dict { .. } | Col::Text(_), Kind::Str) => {
                self.text(row).map(|t| Value::Str(Cow::Borrowed(t)))
            }
            (Col::Dict { .. } | Col::Text(_), Kind::Ip) => {
                self.text(row)?.parse().ok().map(Value::Ip)
            }
            (Col::Dict { .. } | Col::Text(_), Kind::List) => {
                schema::decode_list(self.text(row)?).map(Value::List)
            }
            (Col::Bytes(a), Kind::Bytes) if some(a) => {
                Some(Value::Bytes(Cow::Borrowed(a.value(row))))
            }
            (Col::Int(a), Kind::Int) if some(a) => Some(Value::Int(a.value(row))),
            (Col::Uint(a), Kind::Uint) if some(a) => Some(Value::Uint(a.value(row))),
            (Col::Double(a), Kind::Double) if some(a) => Some(Value::Double(a.value(row))),
            (Col::Bool(a), Kind::Bool) if some(a) => Some(Value::Bool(a.value(row))),
            _ => None,
        }
    }
}

/// A record batch of stored rows, indexed for reading by field.
pub struct Batch {
    seq: UInt64Array,
    time: Int64Array,
    no_evt_time: Option<BooleanArray>,
    cols: Vec<(ColumnKey, Col)>,
    /// Per field: 1 + the index in `cols` of its first column without argument, or 0.
    plain: Vec<u32>,
    /// Per column: 1 + the index of the next column of the same field and argument, or 0.
    next: Vec<u32>,
    /// Per `evt.type` dictionary key: the type's index in the engine's table.
    evt_types: Option<(usize, Vec<Option<u16>>)>,
}

/// A batch that is not a segment's (a missing `_seq` or `_time` column).
#[derive(Debug, thiserror::Error)]
#[error("a segment batch lacks its '{0}' column")]
pub struct NotASegment(pub &'static str);

impl Batch {
    pub fn new(batch: &RecordBatch) -> Result<Batch, NotASegment> {
        let schema = batch.schema();
        let column = |name: &'static str| {
            schema
                .index_of(name)
                .ok()
                .map(|i| batch.column(i).clone())
                .ok_or(NotASegment(name))
        };
        let seq = column(schema::SEQ)?
            .as_primitive_opt::<UInt64Type>()
            .ok_or(NotASegment(schema::SEQ))?
            .clone();
        let time = column(schema::TIME)?
            .as_primitive_opt::<Int64Type>()
            .ok_or(NotASegment(schema::TIME))?
            .clone();
        let no_evt_time = column(schema::NO_EVT_TIME)
            .ok()
            .and_then(|a| a.as_boolean_opt().cloned());
        let mut cols: Vec<(ColumnKey, Col)> = Vec::new();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            // Columns of a later schema version (or a foreign type) are not read.
            if let (Some(key), Some(col)) = (ColumnKey::parse(field.name()), Col::new(array)) {
                cols.push((key, col));
            }
        }
        let mut plain = vec![0u32; fields::count()];
        let mut next = vec![0u32; cols.len()];
        for i in (0..cols.len()).rev() {
            let key = &cols[i].0;
            if key.arg.is_none() {
                next[i] = plain[key.field.index()];
                plain[key.field.index()] = i as u32 + 1;
            } else if let Some(j) = (i + 1..cols.len())
                .find(|&j| cols[j].0.field == key.field && cols[j].0.arg == key.arg)
            {
                next[i] = j as u32 + 1;
            }
        }
        let evt_type = fields::get("evt.type").expect("evt.type in the catalogue");
        let evt_types = match plain[evt_type.index()] {
            0 => None,
            i => match &cols[i as usize - 1].1 {
                Col::Dict { values, .. } => Some((
                    i as usize - 1,
                    values.iter().map(|v| v.and_then(evt_type_index)).collect(),
                )),
                _ => None,
            },
        };
        Ok(Batch {
            seq,
            time,
            no_evt_time,
            cols,
            plain,
            next,
            evt_types,
        })
    }

    pub fn len(&self) -> usize {
        self.seq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    pub fn row(&self, row: usize) -> Row<'_> {
        Row { batch: self, row }
    }

    /// Per row: whether its `evt.type` (text, or `None`) passes `ok`, which is called once per
    /// distinct value of the column's dictionary rather than once per row.
    pub(crate) fn type_mask(&self, ok: impl Fn(Option<&str>) -> bool) -> Vec<bool> {
        let evt_type = fields::get("evt.type").expect("evt.type in the catalogue");
        match self.first(evt_type, None).map(|i| &self.cols[i].1) {
            Some(Col::Dict { keys, values }) => {
                let by_key: Vec<bool> = values.iter().map(&ok).collect();
                let missing = ok(None);
                (0..keys.len())
                    .map(|r| {
                        if keys.is_null(r) {
                            missing
                        } else {
                            by_key
                                .get(keys.value(r) as usize)
                                .copied()
                                .unwrap_or(missing)
                        }
                    })
                    .collect()
            }
            _ => (0..self.len())
                .map(|r| ok(self.row(r).evt_type()))
                .collect(),
        }
    }

    /// The first column of `field[arg]`, if the batch has one.
    fn first(&self, field: FieldId, arg: Option<&str>) -> Option<usize> {
        match arg {
            None => match self.plain[field.index()] {
                0 => None,
                i => Some(i as usize - 1),
            },
            Some(a) => self
                .cols
                .iter()
                .position(|(k, _)| k.field == field && k.arg.as_deref() == Some(a)),
        }
    }
}

/// As the engine indexes type names (a map built in table order: the last of equal names wins).
fn evt_type_index(name: &str) -> Option<u16> {
    fields::evt_types()
        .iter()
        .rposition(|(n, _)| *n == name)
        .map(|i| i as u16)
}

/// One stored row.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    batch: &'a Batch,
    row: usize,
}

impl<'a> Row<'a> {
    pub fn seq(&self) -> u64 {
        self.batch.seq.value(self.row)
    }

    pub fn time(&self) -> i64 {
        self.batch.time.value(self.row)
    }

    /// The row's `evt.type` index when it is stored as a type name the engine knows.
    fn type_index(&self) -> Option<u16> {
        let (col, map) = self.batch.evt_types.as_ref()?;
        match &self.batch.cols[*col].1 {
            Col::Dict { keys, .. } if !keys.is_null(self.row) => {
                *map.get(keys.value(self.row) as usize)?
            }
            _ => None,
        }
    }

    /// The row's `evt.type` name, if it has one as text.
    pub fn evt_type(&self) -> Option<&'a str> {
        let evt_type = fields::get("evt.type").expect("evt.type in the catalogue");
        let i = self.batch.first(evt_type, None)?;
        self.batch.cols[i].1.text(self.row)
    }

    /// The event this row stores (materialised: only for rows that are returned).
    pub fn to_event(&self) -> Event {
        let mut event = Event::new();
        for (key, col) in &self.batch.cols {
            if let Some(v) = col.value(key.kind, self.row) {
                event.set(key.field, key.arg.as_deref(), v.into_owned());
            }
        }
        if let Some(t) = self.implied_evt_time() {
            event.set(evt_time_field(), None, t);
        }
        event
    }

    /// `evt.time` read from `_time`: when the row has no `evt.time` column value and its event
    /// had one.
    fn implied_evt_time(&self) -> Option<Value<'static>> {
        let field = evt_time_field();
        let mut i = self.batch.first(field, None);
        while let Some(c) = i {
            let (key, col) = &self.batch.cols[c];
            if col.value(key.kind, self.row).is_some() {
                return None;
            }
            i = (self.batch.next[c] as usize).checked_sub(1);
        }
        let absent = self
            .batch
            .no_evt_time
            .as_ref()
            .is_some_and(|a| !a.is_null(self.row) && a.value(self.row));
        (!absent).then(|| Value::Int(self.time()))
    }
}

impl FieldSource for Row<'_> {
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<Value<'_>> {
        let mut i = self.batch.first(field, arg);
        while let Some(c) = i {
            let (key, col) = &self.batch.cols[c];
            if let Some(v) = col.value(key.kind, self.row) {
                return Some(v);
            }
            i = (self.batch.next[c] as usize).checked_sub(1);
        }
        if field == evt_time_field() && arg.is_none() {
            return self.implied_evt_time();
        }
        None
    }

    fn evt_type_index(&self) -> Option<u16> {
        self.type_index()
    }
}
