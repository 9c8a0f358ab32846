//! A chunk of cached events, stored by column: per field, one small code per row into a
//! dictionary of the values the chunk has for that field. Events repeat most of their values
//! (process names, paths, images), so a dictionary per chunk keeps them once; evaluating a
//! row reads two small arrays per field, and a whole chunk is skipped when it holds no event
//! of the types a rule can match.

use hashbrown::hash_table::{Entry, HashTable};
use rulestudio_engine::eval::EvtTypeSet;
use rulestudio_engine::event::{Event, FieldSource, Value};
use rulestudio_engine::fields::{self, FieldId};
use rustc_hash::FxBuildHasher;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;

/// Codes are `u16` with 0 for "absent", and a dictionary never has more entries than rows.
pub const MAX_ROWS: usize = u16::MAX as usize;

/// Row type codes besides an index into `fields::evt_types()`.
const NO_TYPE: u16 = u16::MAX;
/// A stored event that no longer decodes (the field table changed): counted in the window,
/// never matched, as the database path skips it.
const UNREADABLE: u16 = u16::MAX - 1;

fn evt_time_field() -> FieldId {
    static ID: OnceLock<FieldId> = OnceLock::new();
    *ID.get_or_init(|| fields::get("evt.time").expect("evt.time in the catalogue"))
}

enum Column {
    Dict {
        codes: Vec<u16>,
        dict: Vec<Value<'static>>,
    },
    /// `evt.time` equal to the row's time on every row (ingest guarantees it): nothing stored,
    /// where a dictionary would hold one value per event.
    RowTime,
    /// Integers of one signedness that are mostly distinct (process ids, ports): stored as they
    /// are, which takes less than a dictionary entry each.
    Ints {
        values: Vec<i64>,
        unsigned: bool,
        /// One bit per row: whether it has a value.
        present: Vec<u64>,
    },
}

impl Column {
    /// The value of row `i`, made for the columns that do not keep [`Value`]s.
    #[inline]
    fn made(&self, chunk: &Chunk, i: usize) -> Option<Value<'static>> {
        match self {
            Column::Dict { .. } => None,
            Column::RowTime => Some(Value::Int(chunk.times[i])),
            Column::Ints {
                values,
                unsigned,
                present,
            } => (present[i / 64] & (1 << (i % 64)) != 0).then(|| match unsigned {
                true => Value::Uint(values[i] as u64),
                false => Value::Int(values[i]),
            }),
        }
    }
}

/// Events with ids in `start..end`: every stored event in that range is here (retention may
/// have removed some since).
pub struct Chunk {
    pub start: i64,
    pub end: i64,
    ids: Vec<i64>,
    times: Vec<i64>,
    types: Vec<u16>,
    type_set: EvtTypeSet,
    untyped: bool,
    min_time: i64,
    max_time: i64,
    /// Per field index: 1 + its column, 0 when no row has it.
    plain: Box<[u16]>,
    with_arg: Vec<(FieldId, Box<str>, u16)>,
    columns: Vec<Column>,
    bytes: usize,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Approximate heap size, for the cache's memory budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn id(&self, i: usize) -> i64 {
        self.ids[i]
    }

    pub fn time(&self, i: usize) -> i64 {
        self.times[i]
    }

    /// The first row with an id at least `id`.
    pub fn first_row_from(&self, id: i64) -> usize {
        self.ids.partition_point(|&x| x < id)
    }

    /// Whether some row may have a time in `since..until`.
    pub fn overlaps(&self, since: i64, until: i64) -> bool {
        !self.is_empty() && self.max_time >= since && self.min_time < until
    }

    /// Whether every row has a time in `since..until`.
    pub fn within(&self, since: i64, until: i64) -> bool {
        self.min_time >= since && self.max_time < until
    }

    /// Whether a rule that can only match `types` might match a row of this chunk.
    pub fn may_match(&self, types: &EvtTypeSet) -> bool {
        self.untyped || !self.type_set.intersection(types).is_empty()
    }

    /// Whether row `i` should meet a rule matching `types`: rows without a known type meet
    /// every rule, as in `RuleSet::eval`.
    #[inline]
    pub fn row_may_match(&self, i: usize, types: &EvtTypeSet) -> bool {
        match self.types[i] {
            UNREADABLE => false,
            NO_TYPE => true,
            t => types.contains(t),
        }
    }

    /// The text of `field` on row `i`, if the row has it as a text.
    pub fn text(&self, i: usize, field: FieldId) -> Option<&str> {
        match self.column(field, None)? {
            Column::Dict { codes, dict } => {
                match dict.get((*codes.get(i)?).checked_sub(1)? as usize)? {
                    Value::Str(s) => Some(s),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub fn row(&self, i: usize) -> Row<'_> {
        Row { chunk: self, i }
    }

    #[inline]
    fn column(&self, field: FieldId, arg: Option<&str>) -> Option<&Column> {
        let c = match arg {
            None => match self.plain[field.index()] {
                0 => return None,
                c => c,
            },
            Some(a) => {
                self.with_arg
                    .iter()
                    .find(|(f, k, _)| *f == field && &**k == a)?
                    .2
            }
        };
        Some(&self.columns[c as usize - 1])
    }

    /// Gives the rows their ids (increasing, one per row), the chunk covering `start..end`.
    pub fn place(&mut self, ids: &[i64], start: i64, end: i64) {
        debug_assert_eq!(ids.len(), self.ids.len());
        self.ids.copy_from_slice(ids);
        (self.start, self.end) = (start, end);
    }

    /// Two adjacent chunks as one.
    pub fn merge(a: &Chunk, b: &Chunk) -> Chunk {
        let mut out = Builder::new();
        for c in [a, b] {
            for i in 0..c.len() {
                out.push_row(c, i);
            }
        }
        out.finish(None, a.start, b.end)
    }

    /// The values of row `i`, `evt.time` included.
    fn values(&self, i: usize) -> impl Iterator<Item = (FieldId, Option<&str>, Value<'_>)> {
        let plain = self
            .plain
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0)
            .map(|(f, &c)| (FieldId(f as u16), None, c));
        let args = self.with_arg.iter().map(|(f, a, c)| (*f, Some(&**a), *c));
        plain.chain(args).filter_map(move |(f, a, c)| {
            let v = match &self.columns[c as usize - 1] {
                Column::Dict { codes, dict } => match codes[i] {
                    0 => return None,
                    code => dict[code as usize - 1].borrowed(),
                },
                made => made.made(self, i)?,
            };
            Some((f, a, v))
        })
    }
}

/// One cached event, read by the evaluator like a decoded [`Event`], with the same values.
#[derive(Clone, Copy)]
pub struct Row<'c> {
    chunk: &'c Chunk,
    i: usize,
}

impl FieldSource for Row<'_> {
    fn field(&self, field: FieldId, arg: Option<&str>) -> Option<Value<'_>> {
        match self.chunk.column(field, arg)? {
            Column::Dict { codes, dict } => match codes[self.i] {
                0 => None,
                c => Some(dict[c as usize - 1].borrowed()),
            },
            made => made.made(self.chunk, self.i),
        }
    }

    #[inline]
    fn stored(&self, field: FieldId, arg: Option<&str>) -> Option<Option<&Value<'_>>> {
        match self.chunk.column(field, arg) {
            None => Some(None),
            Some(Column::Dict { codes, dict }) => Some(match codes[self.i] {
                0 => None,
                c => Some(&dict[c as usize - 1]),
            }),
            // Made on demand by `field`.
            Some(Column::RowTime | Column::Ints { .. }) => None,
        }
    }

    fn evt_type_index(&self) -> Option<u16> {
        let t = self.chunk.types[self.i];
        (t < UNREADABLE).then_some(t)
    }
}

/// A column being filled. Integers of one signedness are kept as they are: hashing and probing
/// was most of the cost of a row, and process ids and ports are mostly distinct. Any other value
/// turns the column into a dictionary, interned through a table of codes keyed by the values'
/// hashes, so that no value is stored twice. A column is only touched by the rows that have it,
/// and padded to the chunk's length when finished.
enum ColumnBuilder {
    Ints {
        values: Vec<i64>,
        /// One bit per row: whether it has a value.
        present: Vec<u64>,
        unsigned: bool,
    },
    Dict {
        codes: Vec<u16>,
        dict: Vec<Value<'static>>,
        index: HashTable<u16>,
    },
}

/// `v` as a raw integer of a column of integers of that signedness.
fn raw_int(v: &Value<'_>, unsigned: bool) -> Option<i64> {
    match (v, unsigned) {
        (Value::Int(i), false) => Some(*i),
        (Value::Uint(u), true) => Some(*u as i64),
        _ => None,
    }
}

impl ColumnBuilder {
    /// A column whose first value is `first`.
    fn new(first: &Value<'_>) -> ColumnBuilder {
        match first {
            Value::Int(_) | Value::Uint(_) => ColumnBuilder::Ints {
                values: Vec::new(),
                present: Vec::new(),
                unsigned: matches!(first, Value::Uint(_)),
            },
            _ => ColumnBuilder::dict(),
        }
    }

    fn dict() -> ColumnBuilder {
        ColumnBuilder::Dict {
            codes: Vec::new(),
            dict: Vec::new(),
            index: HashTable::new(),
        }
    }

    /// Sets row `row` to `v` (rows skipped since the last one set are absent).
    fn add(&mut self, row: usize, v: &Value<'_>) {
        if let ColumnBuilder::Ints {
            values,
            present,
            unsigned,
        } = self
        {
            if let Some(x) = raw_int(v, *unsigned) {
                if values.len() <= row {
                    values.resize(row + 1, 0);
                    present.resize(row / 64 + 1, 0);
                }
                values[row] = x;
                present[row / 64] |= 1 << (row % 64);
                return;
            }
            self.spill();
        }
        let ColumnBuilder::Dict { codes, dict, index } = self else {
            unreachable!("spilled above")
        };
        let code = match index.entry(
            hash_value(v),
            |&c| dict[c as usize - 1] == *v,
            |&c| hash_value(&dict[c as usize - 1]),
        ) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                dict.push(v.clone().into_owned());
                // A dictionary never has more entries than the chunk has rows.
                let code = dict.len() as u16;
                e.insert(code);
                code
            }
        };
        if codes.len() <= row {
            codes.resize(row, 0);
            codes.push(code);
        } else {
            codes[row] = code;
        }
    }

    /// Turns a column of raw integers into a dictionary with the same rows.
    fn spill(&mut self) {
        let ColumnBuilder::Ints {
            values,
            present,
            unsigned,
        } = std::mem::replace(self, ColumnBuilder::dict())
        else {
            return;
        };
        for (row, &x) in values.iter().enumerate() {
            if present[row / 64] & (1 << (row % 64)) != 0 {
                self.add(row, &int_value(x, unsigned));
            }
        }
    }

    /// The finished column of a chunk of `rows` rows.
    fn finish(self, rows: usize) -> Column {
        match self {
            ColumnBuilder::Dict {
                mut codes, dict, ..
            } => {
                codes.resize(rows, 0);
                Column::Dict { codes, dict }
            }
            ColumnBuilder::Ints {
                mut values,
                mut present,
                unsigned,
            } => {
                values.resize(rows, 0);
                present.resize(rows.div_ceil(64), 0);
                let has = |row: usize| present[row / 64] & (1 << (row % 64)) != 0;
                let mut distinct: Vec<i64> =
                    (0..rows).filter(|&r| has(r)).map(|r| values[r]).collect();
                distinct.sort_unstable();
                distinct.dedup();
                // A raw value costs 8 bytes per row instead of a 2-byte code; an entry ~40 bytes.
                if distinct.len() * (size_of::<Value<'static>>() + 8) > rows * 6 {
                    return Column::Ints {
                        values,
                        unsigned,
                        present,
                    };
                }
                let codes = (0..rows)
                    .map(|r| match has(r) {
                        // Found: every present value is in `distinct`.
                        true => distinct
                            .binary_search(&values[r])
                            .map_or(0, |i| i as u16 + 1),
                        false => 0,
                    })
                    .collect();
                let dict = distinct
                    .into_iter()
                    .map(|x| int_value(x, unsigned))
                    .collect();
                Column::Dict { codes, dict }
            }
        }
    }
}

fn int_value(x: i64, unsigned: bool) -> Value<'static> {
    match unsigned {
        true => Value::Uint(x as u64),
        false => Value::Int(x),
    }
}

fn hash_value(v: &Value<'_>) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    hash_into(v, &mut h);
    h.finish()
}

fn hash_into(v: &Value<'_>, h: &mut impl Hasher) {
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Str(s) => s.hash(h),
        Value::Bytes(b) => b.hash(h),
        Value::Int(i) => i.hash(h),
        Value::Uint(u) => u.hash(h),
        // Equal doubles have equal bits, except ±0 (hashed alike by the sign-less bits below)
        // and NaN (never equal, so never found: each gets its own entry).
        Value::Double(d) => (d.to_bits() & !(1 << 63)).hash(h),
        Value::Bool(b) => b.hash(h),
        Value::Ip(ip) => ip.hash(h),
        Value::List(items) => items.iter().for_each(|i| hash_into(i, h)),
    }
}

/// Fills a chunk row by row (at most [`MAX_ROWS`]).
pub struct Builder {
    /// Ids of rows copied from chunks (events pushed get theirs in [`Builder::finish`]).
    ids: Vec<i64>,
    times: Vec<i64>,
    types: Vec<u16>,
    plain: Box<[u16]>,
    with_arg: Vec<(FieldId, Box<str>, u16)>,
    columns: Vec<ColumnBuilder>,
    /// Whether every row so far had `evt.time` equal to its time (then the column is empty).
    row_time: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            ids: Vec::new(),
            times: Vec::new(),
            types: Vec::new(),
            plain: vec![0; fields::count()].into(),
            with_arg: Vec::new(),
            columns: Vec::new(),
            row_time: true,
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.len() >= MAX_ROWS
    }

    /// Adds a decoded event stored with time `time`.
    pub fn push_event(&mut self, ev: &Event, time: i64) {
        let values = ev.values().map(|(f, a, v)| (f, a, v.borrowed()));
        self.push(time, ev.evt_type_index().unwrap_or(NO_TYPE), values);
    }

    /// Adds an event whose stored text no longer decodes.
    pub fn push_unreadable(&mut self, time: i64) {
        self.push(time, UNREADABLE, std::iter::empty());
    }

    fn push_row(&mut self, c: &Chunk, i: usize) {
        self.ids.push(c.ids[i]);
        self.push(c.times[i], c.types[i], c.values(i));
    }

    fn push<'v>(
        &mut self,
        time: i64,
        evt_type: u16,
        values: impl Iterator<Item = (FieldId, Option<&'v str>, Value<'v>)>,
    ) {
        debug_assert!(!self.is_full());
        let row = self.times.len();
        self.times.push(time);
        self.types.push(evt_type);
        let mut had_time = false;
        for (field, arg, value) in values {
            if arg.is_none() && field == evt_time_field() {
                had_time = true;
                if self.row_time && value == Value::Int(time) {
                    continue;
                }
                self.store_row_times(row);
            }
            let c = self.column_for(field, arg, &value);
            self.columns[c].add(row, &value);
        }
        if !had_time && self.row_time {
            self.store_row_times(row);
        }
    }

    /// Gives up the empty `evt.time` column: the rows before `row` get their times stored.
    fn store_row_times(&mut self, row: usize) {
        if !self.row_time {
            return;
        }
        self.row_time = false;
        let c = self.column_for(evt_time_field(), None, &Value::Int(0));
        for r in 0..row {
            self.columns[c].add(r, &Value::Int(self.times[r]));
        }
    }

    /// The column of `field[arg]`, made for a first value like `first` if there is none yet.
    fn column_for(&mut self, field: FieldId, arg: Option<&str>, first: &Value<'_>) -> usize {
        let existing = match arg {
            None => self.plain[field.index()] as usize,
            Some(a) => self
                .with_arg
                .iter()
                .find(|(f, k, _)| *f == field && &**k == a)
                .map_or(0, |e| e.2 as usize),
        };
        if existing != 0 {
            return existing - 1;
        }
        self.columns.push(ColumnBuilder::new(first));
        // Fewer columns than catalogue fields plus distinct arguments in one chunk, far below u16.
        let code = self.columns.len() as u16;
        match arg {
            None => self.plain[field.index()] = code,
            Some(a) => self.with_arg.push((field, a.into(), code)),
        }
        self.columns.len() - 1
    }

    /// The chunk of the rows pushed, for events not stored yet: [`Chunk::place`] gives it
    /// its ids.
    pub fn finish_unplaced(self) -> Chunk {
        let rows = self.len();
        self.finish(Some(vec![0; rows]), 0, 0)
    }

    /// The chunk of the rows pushed, covering ids `start..end`. `ids` are the rows' ids
    /// (increasing) for rows pushed as events; rows copied from chunks keep theirs.
    pub fn finish(self, ids: Option<Vec<i64>>, start: i64, end: i64) -> Chunk {
        let ids = ids.unwrap_or(self.ids);
        debug_assert_eq!(ids.len(), self.times.len());
        let rows = ids.len();
        let mut type_set = EvtTypeSet::empty();
        let mut untyped = false;
        for &t in &self.types {
            match t {
                NO_TYPE => untyped = true,
                UNREADABLE => {}
                t => type_set.insert(t),
            }
        }
        let row_time = self.row_time;
        let columns: Vec<Column> = self.columns.into_iter().map(|c| c.finish(rows)).collect();
        let mut chunk = Chunk {
            start,
            end,
            min_time: self.times.iter().copied().min().unwrap_or(0),
            max_time: self.times.iter().copied().max().unwrap_or(0),
            ids,
            times: self.times,
            types: self.types,
            type_set,
            untyped,
            plain: self.plain,
            with_arg: self.with_arg,
            columns,
            bytes: 0,
        };
        if row_time && rows > 0 {
            chunk.columns.push(Column::RowTime);
            chunk.plain[evt_time_field().index()] = chunk.columns.len() as u16;
        }
        chunk.bytes = chunk.heap_bytes();
        chunk
    }
}

impl Chunk {
    fn heap_bytes(&self) -> usize {
        let per_row = size_of::<i64>() * 2 + size_of::<u16>();
        let columns: usize = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Dict { codes, dict } => {
                    codes.len() * size_of::<u16>() + dict.iter().map(value_bytes).sum::<usize>()
                }
                Column::RowTime => 0,
                Column::Ints {
                    values, present, ..
                } => values.len() * size_of::<i64>() + present.len() * size_of::<u64>(),
            })
            .sum();
        size_of::<Chunk>()
            + self.ids.len() * per_row
            + self.plain.len() * size_of::<u16>()
            + self
                .with_arg
                .iter()
                .map(|(_, a, _)| 32 + a.len())
                .sum::<usize>()
            + columns
    }
}

/// A value's size with its heap data (and the allocator's bookkeeping of it).
fn value_bytes(v: &Value<'_>) -> usize {
    const ALLOC: usize = 16;
    size_of::<Value<'static>>()
        + match v {
            Value::Str(s) => s.len() + ALLOC,
            Value::Bytes(b) => b.len() + ALLOC,
            Value::List(items) => items.iter().map(value_bytes).sum::<usize>() + ALLOC,
            _ => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::condition;
    use rulestudio_engine::fields;

    /// Every `condition:` with its `match:`/`no_match:` events from the evaluator's
    /// conformance cases.
    fn conformance_cases() -> Vec<(String, Vec<(Event, bool)>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance/eval");
        let mut cases: Vec<(String, Vec<(Event, bool)>)> = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "cases"))
        {
            for line in std::fs::read_to_string(path).unwrap().lines() {
                if let Some(c) = line.strip_prefix("condition: ") {
                    cases.push((c.to_string(), Vec::new()));
                } else if let Some((json, expected)) = line
                    .strip_prefix("match: ")
                    .map(|j| (j, true))
                    .or_else(|| line.strip_prefix("no_match: ").map(|j| (j, false)))
                {
                    cases
                        .last_mut()
                        .unwrap()
                        .1
                        .push((Event::from_json_str(json).unwrap(), expected));
                }
            }
        }
        assert!(cases.len() > 50, "only {} cases", cases.len());
        cases
    }

    fn chunk_of(events: &[&Event], first_id: i64) -> Chunk {
        let mut b = Builder::new();
        for (i, ev) in events.iter().enumerate() {
            b.push_event(ev, 1_000 + i as i64);
        }
        let ids = (first_id..first_id + events.len() as i64).collect();
        b.finish(Some(ids), first_id, first_id + events.len() as i64)
    }

    /// A row gives every field exactly as the event it was built from.
    fn same_values(row: Row<'_>, ev: &Event) {
        for i in 0..fields::count() {
            let f = FieldId(i as u16);
            assert_eq!(row.field(f, None), ev.field(f, None), "{}", f.name());
        }
        for (f, arg, v) in ev.values() {
            assert_eq!(row.field(f, arg).as_ref(), Some(v), "{}[{arg:?}]", f.name());
        }
        assert_eq!(row.evt_type_index(), ev.evt_type_index());
    }

    #[test]
    fn cached_rows_evaluate_like_their_events_on_the_conformance_cases() {
        let cases = conformance_cases();
        let events: Vec<&Event> = cases
            .iter()
            .flat_map(|(_, evs)| evs.iter().map(|(e, _)| e))
            .collect();
        let chunk = chunk_of(&events, 1);
        let mut row = 0;
        for (cond, evs) in &cases {
            let filter = condition::compile(cond, None).unwrap_or_else(|e| panic!("{cond}: {e}"));
            for (ev, expected) in evs {
                same_values(chunk.row(row), ev);
                assert_eq!(
                    filter.matches(&chunk.row(row)),
                    *expected,
                    "{cond} on row {row}"
                );
                row += 1;
            }
        }
    }

    #[test]
    fn merged_and_trimmed_chunks_keep_their_rows() {
        let texts = [
            r#"{"evt.time":1000,"evt.type":"openat","proc.name":"a","fd.name":"/etc/passwd","proc.aname[2]":"sshd"}"#,
            // No evt.time: the time column is stored from here on.
            r#"{"evt.type":"nonsense","proc.name":"a","evt.arg.flags":"O_RDONLY"}"#,
            r#"{"evt.time":7,"proc.name":"b","proc.pid":42,"fd.types":["ipv4","file"]}"#,
            r#"{"evt.time":1003,"evt.type":"execve","proc.name":"a","user.uid":0}"#,
        ];
        let events: Vec<Event> = texts
            .iter()
            .map(|t| Event::from_json_str(t).unwrap())
            .collect();
        let refs: Vec<&Event> = events.iter().collect();
        let a = chunk_of(&refs[..2], 10);
        let b = chunk_of(&refs[2..], 12);
        // Times given to the builder are 1000 + index: the first row's evt.time is its time.
        assert!(!matches!(
            a.column(evt_time_field(), None),
            Some(Column::RowTime)
        ));
        let merged = Chunk::merge(&a, &b);
        assert_eq!((merged.start, merged.end, merged.len()), (10, 14, 4));
        for (i, ev) in events.iter().enumerate() {
            assert_eq!(merged.id(i), 10 + i as i64);
            same_values(merged.row(i), ev);
        }
    }

    #[test]
    fn the_time_column_is_not_stored_when_it_is_the_rows_time() {
        let events: Vec<Event> = (0..100)
            .map(|i| {
                Event::from_json_str(&format!(
                    r#"{{"evt.time":{},"proc.name":"p{}"}}"#,
                    1_000 + i,
                    i % 3
                ))
                .unwrap()
            })
            .collect();
        let chunk = chunk_of(&events.iter().collect::<Vec<_>>(), 1);
        assert!(matches!(
            chunk.column(evt_time_field(), None),
            Some(Column::RowTime)
        ));
        for (i, ev) in events.iter().enumerate() {
            same_values(chunk.row(i), ev);
        }
        // Three process names, each stored once.
        let proc_name = fields::get("proc.name").unwrap();
        assert!(
            matches!(chunk.column(proc_name, None), Some(Column::Dict { dict, .. }) if dict.len() == 3)
        );
    }

    /// A column that starts with integers and then gets another kind of value (a text field
    /// given as a number, an unsigned 64-bit field given as a negative number) keeps every
    /// row's value.
    #[test]
    fn columns_of_mixed_values_keep_every_row() {
        let texts = [
            r#"{"proc.name":5,"evt.num":80,"proc.pid":1}"#,
            r#"{"proc.name":7,"proc.pid":2}"#,
            r#"{"proc.name":"bash","evt.num":-1,"proc.pid":3}"#,
            r#"{"evt.num":443,"proc.pid":4}"#,
            r#"{"proc.name":5,"evt.num":80}"#,
        ];
        let events: Vec<Event> = texts
            .iter()
            .map(|t| Event::from_json_str(t).unwrap())
            .collect();
        let chunk = chunk_of(&events.iter().collect::<Vec<_>>(), 1);
        for (i, ev) in events.iter().enumerate() {
            same_values(chunk.row(i), ev);
        }
    }

    #[test]
    fn mostly_distinct_integers_are_stored_as_they_are() {
        let events: Vec<Event> = (0..200)
            .map(|i| match i % 50 {
                0 => Event::from_json_str(r#"{"proc.name":"no pid"}"#).unwrap(),
                _ => Event::from_json_str(&format!(
                    r#"{{"proc.pid":{},"user.uid":{},"proc.name":"p"}}"#,
                    1000 + i,
                    i % 2
                ))
                .unwrap(),
            })
            .collect();
        let chunk = chunk_of(&events.iter().collect::<Vec<_>>(), 1);
        let pid = fields::get("proc.pid").unwrap();
        let uid = fields::get("user.uid").unwrap();
        assert!(matches!(
            chunk.column(pid, None),
            Some(Column::Ints {
                unsigned: false,
                ..
            })
        ));
        assert!(matches!(chunk.column(uid, None), Some(Column::Dict { .. })));
        for (i, ev) in events.iter().enumerate() {
            same_values(chunk.row(i), ev);
        }
        let filter = condition::compile("proc.pid > 1100 and user.uid = 1", None).unwrap();
        let rows = (0..chunk.len())
            .filter(|&i| filter.matches(&chunk.row(i)))
            .count();
        let events = events.iter().filter(|e| filter.matches(*e)).count();
        assert_eq!((rows, events), (50, 50));
    }
}
