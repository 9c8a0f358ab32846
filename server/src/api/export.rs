//! `GET /api/v1/events/export`: every event a search selects (`filter`, `since`, `until`),
//! newest first, streamed as JSON lines (the shape of a listed event, one a line) or as one
//! Parquet file (columns `id`, `time`, `node`, `fields`: the event's fields as a JSON object).
//! Authors and above; each export is recorded in the audit trail. The scan stops when the
//! client leaves.

use super::{Endpoint, calls, events, fails, typed};
use crate::audit::{self, Entry};
use crate::auth::Author;
use crate::error::{ApiQuery, AppError, Result};
use crate::state::AppState;
use crate::stored;
use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use axum::routing::on;
use parquet::arrow::ArrowWriter;
use rulestudio_api::query::ExportQuery;
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::Arc;
use tokio::sync::mpsc;

pub const ENDPOINTS: &[Endpoint] = &[Endpoint {
    call: typed::<calls::ExportEvents>(),
    handler: |m| on(m, export),
    access: Author::ACCESS,
    summary: "Export every event a search selects (filter, since, until), newest first: format=jsonl (default; one listed event a line) or format=parquet (columns id, time, node, fields as a JSON object); recorded in the audit trail",
    ok: 200,
    errors: &[fails::QUERY, fails::FILTER],
}];

/// Bytes handed to the response at a time, and rows per Parquet row group.
const CHUNK_BYTES: usize = 256 << 10;
const ROWS_PER_GROUP: usize = 8192;

#[derive(Clone, Copy)]
enum Format {
    Jsonl,
    Parquet,
}

async fn export(
    State(state): State<AppState>,
    Author(caller): Author,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response> {
    let format = match q.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => Format::Jsonl,
        "parquet" => Format::Parquet,
        other => {
            return Err(AppError::BadRequest(format!(
                "`format`: `{other}` is not jsonl or parquet"
            )));
        }
    };
    let search = events::search_of(
        &state,
        q.filter.as_deref(),
        q.since.as_deref(),
        q.until.as_deref(),
        None,
    )?;
    audit::record(
        &state.db,
        Entry {
            actor: &caller.username,
            action: "events.export",
            target: "events".into(),
            details: serde_json::json!({
                "filter": q.filter,
                "since": q.since,
                "until": q.until,
                "format": q.format.as_deref().unwrap_or("jsonl"),
            }),
        },
    )
    .await?;
    let (tx, rx) = mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let failed = match format {
            Format::Jsonl => jsonl(&state, &search, &tx),
            Format::Parquet => parquet(&state, &search, &tx),
        };
        if let Err(e) = failed {
            tracing::error!(error = %e, "event export failed");
            // The client sees the body end early with an error.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let (kind, name) = match format {
        Format::Jsonl => ("application/x-ndjson", "events.jsonl"),
        Format::Parquet => ("application/vnd.apache.parquet", "events.parquet"),
    };
    Response::builder()
        .header(header::CONTENT_TYPE, kind)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .map_err(|e| AppError::Internal(e.into()))
}

type Sender = mpsc::Sender<std::result::Result<Bytes, std::io::Error>>;

/// Sends `buf` as one piece of the body; false when the client left.
fn send(tx: &Sender, buf: &mut Vec<u8>) -> bool {
    let piece = Bytes::from(std::mem::take(buf));
    piece.is_empty() || tx.blocking_send(Ok(piece)).is_ok()
}

fn jsonl(state: &AppState, search: &events::Search, tx: &Sender) -> Result<()> {
    let mut buf = Vec::new();
    let mut left = false;
    events::search(state, search, None, |row| {
        let ev = stored::stored_event(
            state.store.id(row.seq()).to_string(),
            row.time(),
            &row.to_event(),
        );
        // A map of JSON values always serialises.
        let _ = serde_json::to_writer(&mut buf, &ev);
        buf.push(b'\n');
        if buf.len() >= CHUNK_BYTES && !send(tx, &mut buf) {
            left = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    if !left {
        send(tx, &mut buf);
    }
    Ok(())
}

/// The Parquet file's bytes, handed to the body as they are written.
struct ToBody<'a> {
    tx: &'a Sender,
    buf: Vec<u8>,
    left: bool,
}

impl Write for ToBody<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.left {
            return Err(std::io::Error::other("the client left"));
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !send(self.tx, &mut self.buf) {
            self.left = true;
            return Err(std::io::Error::other("the client left"));
        }
        Ok(())
    }
}

/// One row group being built.
struct Group {
    id: StringBuilder,
    time: Int64Builder,
    node: StringBuilder,
    fields: StringBuilder,
    rows: usize,
}

impl Group {
    fn new() -> Group {
        Group {
            id: StringBuilder::new(),
            time: Int64Builder::new(),
            node: StringBuilder::new(),
            fields: StringBuilder::new(),
            rows: 0,
        }
    }

    fn finish(&mut self, schema: &Arc<Schema>) -> Result<RecordBatch> {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.node.finish()),
            Arc::new(self.fields.finish()),
        ];
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| AppError::Internal(e.into()))
    }
}

fn parquet(state: &AppState, search: &events::Search, tx: &Sender) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("time", DataType::Int64, false),
        Field::new("node", DataType::Utf8, true),
        Field::new("fields", DataType::Utf8, false),
    ]));
    let out = ToBody {
        tx,
        buf: Vec::new(),
        left: false,
    };
    let internal = |e: parquet::errors::ParquetError| AppError::Internal(e.into());
    let mut writer = ArrowWriter::try_new(out, schema.clone(), None).map_err(internal)?;
    let mut group = Group::new();
    let mut failed = None;
    events::search(state, search, None, |row| {
        let ev = stored::stored_event(
            state.store.id(row.seq()).to_string(),
            row.time(),
            &row.to_event(),
        );
        group.id.append_value(&ev.id);
        group.time.append_value(ev.time);
        group.node.append_option(ev.node.as_deref());
        group
            .fields
            .append_value(serde_json::Value::Object(ev.fields).to_string());
        group.rows += 1;
        if group.rows >= ROWS_PER_GROUP {
            let written = group
                .finish(&schema)
                .and_then(|b| writer.write(&b).map_err(internal));
            if let Err(e) = written {
                failed = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if group.rows > 0 {
        let batch = group.finish(&schema)?;
        writer.write(&batch).map_err(internal)?;
    }
    let mut out = writer.into_inner().map_err(internal)?;
    out.flush().map_err(|e| AppError::Internal(e.into()))?;
    Ok(())
}
