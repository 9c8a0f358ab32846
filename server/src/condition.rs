//! A Falco condition sent by a client (event filters), compiled or refused with diagnostics.

use crate::error::{AppError, Result};
use rulestudio_api::diagnostic::{DiagnosticJson, FileText};
use rulestudio_engine::eval::{EvtTypeSet, Filter};
use rulestudio_engine::loader::{self, Loaded};

/// The name diagnostics give the condition.
const CONDITION_FILE: &str = "<filter>";

pub fn compile(condition: &str, context: Option<&Loaded>) -> Result<Filter> {
    compile_typed(condition, context).map(|(filter, _)| filter)
}

/// [`compile`], with the event types the condition can match (all when it does not restrict
/// `evt.type`), for a scan that skips segments and rows of other types.
pub fn compile_typed(condition: &str, context: Option<&Loaded>) -> Result<(Filter, EvtTypeSet)> {
    let compiled = loader::compile_standalone(condition, context);
    let has_error = compiled.diagnostics.iter().any(|d| d.is_error());
    match compiled.filter {
        Some(filter) if !has_error => Ok((filter, compiled.evt_types)),
        _ => {
            let files = [FileText::new(CONDITION_FILE, condition)];
            let diagnostics: Vec<DiagnosticJson> = compiled
                .diagnostics
                .iter()
                .map(|d| DiagnosticJson::from_engine(d, &files))
                .collect();
            let first = diagnostics
                .first()
                .map_or_else(|| "it does not compile".to_string(), |d| d.message.clone());
            Err(AppError::Invalid {
                code: "invalid_condition",
                message: format!("the filter is not a valid Falco condition: {first}"),
                diagnostics,
            })
        }
    }
}
