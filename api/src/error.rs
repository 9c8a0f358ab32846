//! The body of every REST error response.

use crate::diagnostic::DiagnosticJson;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    /// Stable and machine-readable (`not_found`, `invalid_condition`…); the status says the
    /// same more coarsely. The OpenAPI document lists every code (the server's `AppError::CODES`).
    pub code: String,
    /// What is wrong, naming the field, parameter or line.
    pub message: String,
    /// Present when the problem is in a condition or rules the caller sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<DiagnosticJson>>,
    /// Present when a request was refused for several reasons at once (promotion: 409, 422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
}
