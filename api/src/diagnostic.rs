//! A diagnostic as the CLI (`lint --format json`, `check`) and the REST API report it.

use rulestudio_engine::diagnostic::{Diagnostic, Fix};
use rulestudio_engine::span::LineIndex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticJson {
    pub file: String,
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// 1-based; columns count characters.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub item_type: Option<String>,
    pub item_name: Option<String>,
    pub help: Option<String>,
    pub fix: Option<FixJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixJson {
    pub message: String,
    /// `safe`, `unsafe` or `display_only`.
    pub applicability: String,
    pub edits: Vec<EditJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditJson {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// Byte offsets into the file, for tools that apply edits to the raw text.
    pub start: u32,
    pub end: u32,
    pub replacement: String,
}

/// A source file as a diagnostic's span refers to it (the loader's `FileId` indexes a slice
/// of these).
pub struct FileText<'a> {
    pub name: &'a str,
    pub text: &'a str,
    pub index: LineIndex,
}

impl<'a> FileText<'a> {
    pub fn new(name: &'a str, text: &'a str) -> Self {
        FileText {
            name,
            text,
            index: LineIndex::new(text),
        }
    }
}

impl DiagnosticJson {
    pub fn from_engine(d: &Diagnostic, files: &[FileText<'_>]) -> Self {
        let (file, (line, column), (end_line, end_column)) = match d.span {
            Some(span) => match files.get(span.file.0 as usize) {
                Some(f) => {
                    let a = f.index.line_col(f.text, span.start);
                    let b = f.index.line_col(f.text, span.end);
                    (f.name.to_string(), (a.line, a.column), (b.line, b.column))
                }
                None => (String::new(), (0, 0), (0, 0)),
            },
            None => (
                files
                    .first()
                    .map(|f| f.name.to_string())
                    .unwrap_or_default(),
                (0, 0),
                (0, 0),
            ),
        };
        DiagnosticJson {
            file,
            severity: d.severity.as_str().to_string(),
            code: d.code.as_str().to_string(),
            message: d.message.clone(),
            line,
            column,
            end_line,
            end_column,
            item_type: d.item_kind.map(|k| k.as_str().to_string()),
            item_name: d.item_name.clone(),
            help: d.help.clone(),
            fix: d.fix.as_ref().map(|f| FixJson::from_engine(f, files)),
        }
    }
}

impl FixJson {
    fn from_engine(fix: &Fix, files: &[FileText<'_>]) -> Self {
        let edits = fix
            .edits
            .iter()
            .map(|e| {
                let (a, b) = match files.get(e.span.file.0 as usize) {
                    Some(f) => (
                        f.index.line_col(f.text, e.span.start),
                        f.index.line_col(f.text, e.span.end),
                    ),
                    None => Default::default(),
                };
                EditJson {
                    line: a.line,
                    column: a.column,
                    end_line: b.line,
                    end_column: b.column,
                    start: e.span.start,
                    end: e.span.end,
                    replacement: e.replacement.clone(),
                }
            })
            .collect();
        FixJson {
            message: fix.message.clone(),
            applicability: fix.applicability.as_str().to_string(),
            edits,
        }
    }
}
