//! The JSON the `rulestudio` CLI prints. Automation depends on these names: extend, never rename.

use crate::diagnostic::{DiagnosticJson, Priority};
use serde::{Deserialize, Serialize};

/// `rulestudio lint --format json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct LintReport {
    /// `ok` or `error`: what Falco would say about loading these files.
    pub result: String,
    pub diagnostics: Vec<DiagnosticJson>,
    pub rules: usize,
    pub enabled_rules: Vec<String>,
    pub macros: usize,
    pub lists: usize,
}

/// `rulestudio explain --format json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ExplainReport {
    pub rules: Vec<ExplainedRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ExplainedRule {
    pub name: String,
    pub enabled: bool,
    #[serde(with = "crate::diagnostic::named")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "crate::diagnostic::named::schema::<Priority>")
    )]
    pub priority: Priority,
    pub source: String,
    pub tags: Vec<String>,
    /// `null` when the condition did not compile.
    pub evt_types: Option<Vec<String>>,
    pub condition: String,
    pub compiled_condition: Option<String>,
    pub output: String,
}

/// One line of `rulestudio check --format json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CheckResult {
    pub valid: bool,
    pub diagnostics: Vec<DiagnosticJson>,
}

/// One line of `rulestudio eval --format json`: an (event, matching rule) pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct EvalMatch {
    /// 0-based line number of the event in the events file; for stored events (a store
    /// directory or a segment file), its 0-based position in sequence order.
    pub event: usize,
    /// The stored event's id `NODE:INCARNATION:SEQ`, when the events come from store files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub rule: String,
    #[serde(with = "crate::diagnostic::named")]
    #[cfg_attr(
        feature = "openapi",
        schemars(schema_with = "crate::diagnostic::named::schema::<Priority>")
    )]
    pub priority: Priority,
    pub output: String,
}
