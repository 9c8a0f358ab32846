//! The body of every REST error response.

use crate::diagnostic::DiagnosticJson;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `not_found`, `bad_request`,
    /// `invalid_event`, `invalid_condition`, `invalid_rules`, `conflict`, `unprocessable`, `payload_too_large`,
    /// `internal`.
    pub code: String,
    pub message: String,
    /// Present when the problem is in a condition or rules the caller sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<DiagnosticJson>>,
    /// Present when a request was refused for several reasons at once (promotion: 409, 422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<String>>,
}
