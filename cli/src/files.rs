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
    /// Per file: its text is not the bytes on disk (invalid UTF-8 replaced), so it must never be
    /// written back.
    pub lossy: Vec<bool>,
}

/// Not one of Falco's codes: Falco (yaml-cpp) reads the bytes as they are and accepts them.
const INVALID_UTF8: Code = Code("INVALID_UTF8");

/// Reads every path; an unreadable file is an I/O error (exit 2). Invalid UTF-8 is a warning at
/// the first bad byte (Falco loads such files), and the file is loaded with the bad bytes
/// replaced by U+FFFD, so the user sees every other problem too.
pub fn read(paths: &[PathBuf]) -> Result<Sources> {
    let mut files = Vec::with_capacity(paths.len());
    let mut diagnostics = Vec::new();
    let mut lossy = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let (text, replaced) = match String::from_utf8(bytes) {
            Ok(t) => (t, false),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let span = Span::new(FileId(i as u32), at as u32, at as u32 + 1);
                let message = format!(
                    "invalid UTF-8 at byte {at}: checked here as U+FFFD, while Falco keeps the bytes"
                );
                diagnostics.push(
                    Diagnostic::warning(INVALID_UTF8, message, span).with_help(
                        "save the file as UTF-8 (`--fix` does not rewrite it until then)",
                    ),
                );
                (String::from_utf8_lossy(e.as_bytes()).into_owned(), true)
            }
        };
        lossy.push(replaced);
        files.push(SourceFile {
            name: display_name(path),
            text,
        });
    }
    Ok(Sources {
        paths: paths.to_vec(),
        files,
        diagnostics,
        lossy,
    })
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}
