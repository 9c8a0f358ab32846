//! Reading rules files from disk into the engine's `SourceFile`s.

use anyhow::{Context, Result};
use rulestudio_engine::diagnostic::{Code, Diagnostic};
use rulestudio_engine::loader::SourceFile;
use rulestudio_engine::span::{FileId, Span};
use std::path::{Path, PathBuf};

/// Files as loaded, plus diagnostics the reading itself produced (invalid UTF-8).
pub struct Sources {
    pub paths: Vec<PathBuf>,
    pub files: Vec<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads every path; an unreadable file is an I/O error (exit 2). Invalid UTF-8 is a diagnostic
/// at the first bad byte, and the rest of the file is still loaded (bad bytes become U+FFFD), so
/// the user sees every other problem too.
pub fn read(paths: &[PathBuf]) -> Result<Sources> {
    let mut files = Vec::with_capacity(paths.len());
    let mut diagnostics = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let span = Span::new(FileId(i as u32), at as u32, at as u32 + 1);
                diagnostics.push(
                    Diagnostic::error(Code::ERR_YAML_PARSE, format!("invalid UTF-8 at byte {at}"), span)
                        .with_help("rules files must be UTF-8; re-save the file as UTF-8"),
                );
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        files.push(SourceFile { name: display_name(path), text });
    }
    Ok(Sources { paths: paths.to_vec(), files, diagnostics })
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}
