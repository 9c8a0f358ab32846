pub mod check;
#[allow(unsafe_code)]
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
    files
        .iter()
        .map(|f| FileText::new(&f.name, &f.text))
        .collect()
}

/// Prints diagnostics as text on stderr, ending with a summary line.
pub fn print_diagnostics(
    diagnostics: &[rulestudio_engine::diagnostic::Diagnostic],
    files: &[SourceFile],
) {
    let texts = file_texts(files);
    let json = crate::report::to_json(diagnostics, &texts);
    for d in &json {
        eprint!("{}", crate::report::render_text(d, &texts));
    }
    if !json.is_empty() {
        eprintln!("{}", crate::report::summary(&json));
    }
}

/// Loads rules files for judging events (`eval`, `test`): prints the errors, and fails unless
/// the files load as Falco would accept them.
pub fn load_rules(
    paths: &[std::path::PathBuf],
) -> anyhow::Result<rulestudio_engine::loader::Loaded> {
    let sources = crate::files::read(paths)?;
    let loaded = rulestudio_engine::loader::load(
        &sources.files,
        &rulestudio_engine::loader::LoadOptions::default(),
    );
    let mut diagnostics = sources.diagnostics.clone();
    diagnostics.extend(loaded.diagnostics.iter().filter(|d| d.is_error()).cloned());
    print_diagnostics(&diagnostics, &sources.files);
    if !loaded.ok() {
        anyhow::bail!("the rules files do not load");
    }
    Ok(loaded)
}
