//! The open segment in memory: events appended value by value into Arrow column builders,
//! finished into immutable chunks (record batches) that scans read and sealing writes.
//!
//! The builder keeps the segment's column list for the segment's lifetime (so the column limit
//! is the segment's), and a chunk carries only the columns some of its rows have.

use crate::schema::{self, ColumnKey, Kind};
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringDictionaryBuilder,
    UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use arrow_schema::{Field, Schema};
use rulestudio_engine::event::{Event, Value};
use rulestudio_engine::fields::{self, FieldId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

enum Builder {
    Dict(StringDictionaryBuilder<Int32Type>),
    Bytes(BinaryBuilder),
    Int(Int64Builder),
    Uint(UInt64Builder),
    Double(Float64Builder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Str | Kind::Ip | Kind::List => Builder::Dict(StringDictionaryBuilder::new()),
            Kind::Bytes => Builder::Bytes(BinaryBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Uint => Builder::Uint(UInt64Builder::new()),
            Kind::Double => Builder::Double(Float64Builder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
        }
    }

    fn nulls(&mut self, n: usize) {
        match self {
            Builder::Dict(b) => b.append_nulls(n),
            Builder::Bytes(b) => b.append_nulls(n),
            Builder::Int(b) => b.append_nulls(n),
            Builder::Uint(b) => b.append_nulls(n),
            Builder::Double(b) => b.append_nulls(n),
            Builder::Bool(b) => b.append_nulls(n),
        }
    }

    /// Appends `value`, whose kind is the builder's; returns the bytes it adds (an estimate of
    /// the chunk's memory).
    fn push(&mut self, value: &Value<'_>) -> usize {
        match (self, value) {
            (Builder::Dict(b), Value::Str(s)) => {
                b.append_value(&**s);
                4
            }
            (Builder::Dict(b), Value::Ip(ip)) => {
                b.append_value(ip.to_string());
                4
            }
            (Builder::Dict(b), Value::List(items)) => {
                b.append_value(schema::encode_list(items));
                4
            }
            (Builder::Bytes(b), Value::Bytes(v)) => {
                b.append_value(&**v);
                v.len() + 4
            }
            (Builder::Int(b), Value::Int(i)) => {
                b.append_value(*i);
                8
            }
            (Builder::Uint(b), Value::Uint(u)) => {
                b.append_value(*u);
                8
            }
            (Builder::Double(b), Value::Double(d)) => {
                b.append_value(*d);
                8
            }
            (Builder::Bool(b), Value::Bool(v)) => {
                b.append_value(*v);
                1
            }
            _ => unreachable!("a column's builder is chosen by the kind of its values"),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Dict(b) => Arc::new(b.finish()),
            Builder::Bytes(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Uint(b) => Arc::new(b.finish()),
            Builder::Double(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

struct Column {
    key: ColumnKey,
    builder: Builder,
    /// Rows of the current chunk this column has been filled to (values or nulls).
    len: usize,
    /// Whether the current chunk has a value in this column.
    used: bool,
}

/// A column as an event names it, for counting the columns an event would add.
pub type ColumnRef<'a> = (FieldId, Option<&'a str>, Kind);

/// The columns of one field and kind with an argument: (argument, column index).
type ArgColumns = Vec<(Box<str>, usize)>;

/// The open segment's columns.
pub struct Builders {
    columns: Vec<Column>,
    /// Per `FieldId * 8 + kind`: 1 + the index of the column without argument, or 0.
    plain: Vec<u32>,
    /// Per `(FieldId, kind)`: the columns with an argument.
    with_arg: HashMap<(FieldId, Kind), ArgColumns>,
    seq: Vec<u64>,
    time: Vec<i64>,
    /// Rows (of the current chunk) whose event had no `evt.time`.
    no_evt_time: Vec<usize>,
    /// Estimated bytes held by the current chunk.
    pub bytes: usize,
}

impl Default for Builders {
    fn default() -> Self {
        Builders {
            columns: Vec::new(),
            plain: vec![0; fields::count() * Kind::ALL.len()],
            with_arg: HashMap::new(),
            seq: Vec::new(),
            time: Vec::new(),
            no_evt_time: Vec::new(),
            bytes: 0,
        }
    }
}

pub(crate) fn evt_time_field() -> FieldId {
    static ID: OnceLock<FieldId> = OnceLock::new();
    *ID.get_or_init(|| fields::get("evt.time").expect("evt.time in the catalogue"))
}

/// The time an event is stored under, when it carries one: its `evt.time` as a non-negative
/// integer (nanoseconds, as the REST ingest requires it).
pub fn event_time(event: &Event) -> Option<i64> {
    match event.get(evt_time_field(), None) {
        Some(Value::Int(t)) if *t >= 0 => Some(*t),
        _ => None,
    }
}

impl Builders {
    pub fn rows(&self) -> usize {
        self.seq.len()
    }

    fn find(&self, field: FieldId, arg: Option<&str>, kind: Kind) -> Option<usize> {
        match arg {
            None => match self.plain[field.index() * Kind::ALL.len() + kind as usize] {
                0 => None,
                i => Some(i as usize - 1),
            },
            Some(a) => self
                .with_arg
                .get(&(field, kind))?
                .iter()
                .find(|(k, _)| &**k == a)
                .map(|(_, i)| *i),
        }
    }

    fn add(&mut self, key: ColumnKey) -> usize {
        let i = self.columns.len();
        match &key.arg {
            None => {
                self.plain[key.field.index() * Kind::ALL.len() + key.kind as usize] = i as u32 + 1
            }
            Some(a) => self
                .with_arg
                .entry((key.field, key.kind))
                .or_default()
                .push((a.clone(), i)),
        }
        self.columns.push(Column {
            builder: Builder::new(key.kind),
            key,
            len: 0,
            used: false,
        });
        i
    }

    /// The segment's number of columns.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// The columns `event` has that the segment does not (with repeats when the event has a
    /// field twice, which it cannot).
    pub fn missing<'e>(&self, event: &'e Event) -> impl Iterator<Item = ColumnRef<'e>> {
        event
            .values()
            .map(|(f, a, v)| (f, a, Kind::of(v)))
            .filter(|(f, a, k)| self.find(*f, *a, *k).is_none())
    }

    /// Appends one event, whose new columns the caller has checked against [`crate::schema::MAX_COLUMNS`].
    pub fn push(&mut self, seq: u64, time: i64, event: &Event) {
        let row = self.seq.len();
        self.seq.push(seq);
        self.time.push(time);
        self.bytes += 16;
        let time_in_column = event_time(event) == Some(time);
        if event.get(evt_time_field(), None).is_none() {
            self.no_evt_time.push(row);
        }
        for (field, arg, value) in event.values() {
            if time_in_column && arg.is_none() && field == evt_time_field() {
                continue;
            }
            let kind = Kind::of(value);
            let i = match self.find(field, arg, kind) {
                Some(i) => i,
                None => self.add(ColumnKey {
                    field,
                    arg: arg.map(Into::into),
                    kind,
                }),
            };
            let col = &mut self.columns[i];
            if col.len < row {
                col.builder.nulls(row - col.len);
            }
            self.bytes += col.builder.push(value);
            col.len = row + 1;
            col.used = true;
        }
    }

    /// Finishes the current chunk (`None` when it has no rows); the builders start the next.
    pub fn finish_chunk(&mut self) -> Option<RecordBatch> {
        let rows = self.seq.len();
        if rows == 0 {
            return None;
        }
        let mut fields = vec![
            Field::new(schema::SEQ, arrow_schema::DataType::UInt64, false),
            Field::new(schema::TIME, arrow_schema::DataType::Int64, false),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(std::mem::take(&mut self.seq))),
            Arc::new(arrow_array::Int64Array::from(std::mem::take(
                &mut self.time,
            ))),
        ];
        if !self.no_evt_time.is_empty() {
            let mut flags = vec![None; rows];
            for r in self.no_evt_time.drain(..) {
                flags[r] = Some(true);
            }
            fields.push(Field::new(
                schema::NO_EVT_TIME,
                arrow_schema::DataType::Boolean,
                true,
            ));
            arrays.push(Arc::new(arrow_array::BooleanArray::from(flags)));
        }
        for col in &mut self.columns {
            if !col.used {
                continue;
            }
            if col.len < rows {
                col.builder.nulls(rows - col.len);
            }
            fields.push(Field::new(col.key.name(), col.key.kind.data_type(), true));
            arrays.push(col.builder.finish());
            col.len = 0;
            col.used = false;
        }
        self.bytes = 0;
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("columns built to the chunk's length and types");
        Some(batch)
    }
}
