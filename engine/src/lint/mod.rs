//! Lints beyond Falco's own warnings: one module per lint under `rules/`, registered in one
//! table. [`lint`] is the entry point of `rulestudio lint`, the editor and review evidence.

use crate::diagnostic::Diagnostic;
use crate::loader::{self, LoadOptions, Loaded, SourceFile};

/// The load of a set of files plus everything the linter found, in file order.
pub struct Linted {
    pub loaded: Loaded,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lint(files: &[SourceFile], opts: &LoadOptions) -> Linted {
    let loaded = loader::load(files, opts);
    let diagnostics = loaded.diagnostics.clone();
    Linted { loaded, diagnostics }
}
