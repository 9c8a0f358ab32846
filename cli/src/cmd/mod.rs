pub mod check;
pub mod demo;
pub mod eval;
pub mod explain;
pub mod lint;
pub mod serve;
pub mod test;

use rulestudio_api::diagnostic::FileText;
use rulestudio_engine::loader::SourceFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

pub fn file_texts(files: &[SourceFile]) -> Vec<FileText<'_>> {
    files.iter().map(|f| FileText::new(&f.name, &f.text)).collect()
}

/// Prints diagnostics as text on stderr, ending with a summary line.
pub fn print_diagnostics(diagnostics: &[rulestudio_engine::diagnostic::Diagnostic], files: &[SourceFile]) {
    let texts = file_texts(files);
    let json = crate::report::to_json(diagnostics, &texts);
    for d in &json {
        eprint!("{}", crate::report::render_text(d, &texts));
    }
    if !json.is_empty() {
        eprintln!("{}", crate::report::summary(&json));
    }
}
