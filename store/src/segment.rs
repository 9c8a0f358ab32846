//! Sealed segment files: the open segment's chunks written as one Parquet file (zstd,
//! dictionary-encoded text, delta-encoded `_seq`/`_time`, row groups of [`ROW_GROUP_ROWS`]),
//! and read back with only the columns a scan needs and only the row groups its range meets.

use crate::schema::{self, ColumnKey};
use arrow_array::{ArrayRef, RecordBatch, new_null_array};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use parquet::schema::types::ColumnPath;
use rulestudio_engine::fields::FieldId;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Rows per row group: large enough for dictionaries and zstd to pay, small enough that a
/// range scan skips most of a segment by the groups' `_seq`/`_time` statistics.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Rows per batch when reading.
const READ_BATCH: usize = 8192;

/// Why a segment file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a readable Parquet segment: {message}")]
    Parquet { path: String, message: String },
}

impl SegmentError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> SegmentError {
        SegmentError::Io {
            path: path.display().to_string(),
            source,
        }
    }
    fn parquet(path: &Path, e: impl std::fmt::Display) -> SegmentError {
        SegmentError::Parquet {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// The union of the chunks' columns: `_seq`, `_time`, `_no_evt_time` (when some chunk has it),
/// then the field columns by name, so that a segment's layout does not depend on arrival order.
fn union_schema(batches: &[RecordBatch]) -> Arc<Schema> {
    let mut fields: BTreeMap<String, Arc<Field>> = BTreeMap::new();
    for b in batches {
        for f in b.schema().fields() {
            fields.entry(f.name().clone()).or_insert_with(|| f.clone());
        }
    }
    let mut ordered = Vec::with_capacity(fields.len());
    for name in [schema::SEQ, schema::TIME, schema::NO_EVT_TIME] {
        if let Some(f) = fields.remove(name) {
            ordered.push(f);
        }
    }
    ordered.extend(fields.into_values());
    Arc::new(Schema::new(ordered))
}

/// `batch` with `schema`'s columns, nulls where it lacks one.
pub(crate) fn conform(batch: &RecordBatch, schema: &Arc<Schema>) -> RecordBatch {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match batch.schema().index_of(f.name()) {
            Ok(i) => batch.column(i).clone(),
            Err(_) => new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    RecordBatch::try_new(schema.clone(), columns).expect("columns conformed to the schema")
}

/// Writes `batches` as one segment file at `path` (created anew, synced) and returns its size.
pub fn write(
    path: &Path,
    batches: &[RecordBatch],
    node: &str,
    incarnation: u64,
) -> Result<u64, SegmentError> {
    let schema = union_schema(batches);
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("zstd level 3 exists"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(
                schema::META_SCHEMA_VERSION.into(),
                schema::SCHEMA_VERSION.to_string(),
            ),
            KeyValue::new(schema::META_NODE.into(), node.to_string()),
            KeyValue::new(schema::META_INCARNATION.into(), incarnation.to_string()),
        ]));
    for name in [schema::SEQ, schema::TIME] {
        let col = ColumnPath::new(vec![name.to_string()]);
        props = props
            .set_column_dictionary_enabled(col.clone(), false)
            .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED);
    }
    let file = File::create(path).map_err(|e| SegmentError::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props.build()))
        .map_err(|e| SegmentError::parquet(path, e))?;
    for b in batches {
        writer
            .write(&conform(b, &schema))
            .map_err(|e| SegmentError::parquet(path, e))?;
    }
    let mut file = writer
        .into_inner()
        .map_err(|e| SegmentError::parquet(path, e))?;
    file.flush().map_err(|e| SegmentError::io(path, e))?;
    file.sync_all().map_err(|e| SegmentError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| SegmentError::io(path, e))?
        .len();
    Ok(len)
}

/// What of a segment a read needs.
pub struct ReadPlan<'a> {
    /// Only these fields' columns (all their arguments and kinds); `None` for every column.
    pub fields: Option<&'a [FieldId]>,
    /// Only row groups that may hold rows with `_seq` in this range (inclusive).
    pub seq: (u64, u64),
    /// Only row groups that may hold rows with `_time` in this range (inclusive).
    pub time: (i64, i64),
    /// Row groups last to first (rows within a batch stay in file order).
    pub newest_first: bool,
}

fn int_range(stats: Option<&Statistics>) -> Option<(i64, i64)> {
    match stats? {
        Statistics::Int64(s) => Some((*s.min_opt()?, *s.max_opt()?)),
        _ => None,
    }
}

/// Reads the segment at `path` batch by batch into `visit`, which returns `false` to stop.
pub fn read(
    path: &Path,
    plan: &ReadPlan<'_>,
    mut visit: impl FnMut(RecordBatch) -> Result<bool, SegmentError>,
) -> Result<(), SegmentError> {
    let file = File::open(path).map_err(|e| SegmentError::io(path, e))?;
    // The footer is parsed once and shared by the row groups' readers.
    let reader_meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| SegmentError::parquet(path, e))?;
    let meta = reader_meta.metadata().clone();
    let descr = reader_meta.parquet_schema();
    let names: Vec<String> = reader_meta
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let index = |name: &str| names.iter().position(|n| n == name);
    let (seq_col, time_col) = match (index(schema::SEQ), index(schema::TIME)) {
        (Some(s), Some(t)) => (s, t),
        _ => return Err(SegmentError::parquet(path, "no _seq or _time column")),
    };
    let roots: Vec<usize> = (0..names.len())
        .filter(|&i| match plan.fields {
            None => true,
            Some(fields) => match ColumnKey::parse(&names[i]) {
                Some(key) => fields.contains(&key.field),
                None => names[i].starts_with('_'),
            },
        })
        .collect();
    let mut groups: Vec<usize> = (0..meta.num_row_groups())
        .filter(|&g| {
            let rg = meta.row_group(g);
            // Parquet stores `_seq` (UInt64) as INT64 bits; sequences stay below 2^63.
            let seq = int_range(rg.column(seq_col).statistics()).map(|(a, b)| (a as u64, b as u64));
            let time = int_range(rg.column(time_col).statistics());
            seq.is_none_or(|(lo, hi)| hi >= plan.seq.0 && lo <= plan.seq.1)
                && time.is_none_or(|(lo, hi)| hi >= plan.time.0 && lo <= plan.time.1)
        })
        .collect();
    if plan.newest_first {
        groups.reverse();
    }
    let mask = ProjectionMask::roots(descr, roots);
    for g in groups {
        let file = file.try_clone().map_err(|e| SegmentError::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, reader_meta.clone())
            .with_projection(mask.clone())
            .with_row_groups(vec![g])
            .with_batch_size(READ_BATCH)
            .build()
            .map_err(|e| SegmentError::parquet(path, e))?;
        let mut batches = Vec::new();
        for b in reader {
            batches.push(b.map_err(|e| SegmentError::parquet(path, e))?);
        }
        if plan.newest_first {
            batches.reverse();
        }
        for b in batches {
            if !visit(b)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The key-value metadata of the segment file at `path` (its schema version, node and
/// incarnation among them).
pub fn key_values(path: &Path) -> Result<Vec<(String, String)>, SegmentError> {
    let file = File::open(path).map_err(|e| SegmentError::io(path, e))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| SegmentError::parquet(path, e))?;
    Ok(meta
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?)))
        .collect())
}

/// Checks that the file at `path` is a whole segment: its footer parses and it has the
/// segment columns. Returns its row count.
pub fn verify(path: &Path) -> Result<u64, SegmentError> {
    let file = File::open(path).map_err(|e| SegmentError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| SegmentError::parquet(path, e))?;
    let schema = builder.schema();
    if schema.index_of(schema::SEQ).is_err() || schema.index_of(schema::TIME).is_err() {
        return Err(SegmentError::parquet(path, "no _seq or _time column"));
    }
    Ok(builder.metadata().file_metadata().num_rows() as u64)
}
