//! Bounds on names and texts users send that have no other bound than the request body (and
//! would otherwise be stored, listed and exported at any size). Proposal texts, user names,
//! token names and rules file names have theirs where they are validated.

use crate::error::AppError;

/// A bounded text field of a request: its name as the client sends it, and its bound in bytes.
pub struct Limit {
    pub field: &'static str,
    pub max_bytes: usize,
    /// A name (one line, shown in tables and metric labels) rather than free text.
    pub name: bool,
}

/// A collector's node name (`X-Rulestudio-Node`, a heartbeat's `node`): a label of `/metrics`,
/// which needs no credentials.
pub const NODE: Limit = Limit {
    field: "node",
    max_bytes: 128,
    name: true,
};
/// What a heartbeat says of the node's engine and of a live version it cannot compile.
pub const ENGINE_VERSION: Limit = Limit {
    field: "engine_version",
    max_bytes: 64,
    name: true,
};
pub const COMPILE_ERROR: Limit = Limit {
    field: "compile_error",
    max_bytes: 4096,
    name: false,
};
/// The rule an event label is about: a rule name.
pub const LABEL_RULE: Limit = Limit {
    field: "rule",
    max_bytes: 1024,
    name: true,
};
pub const LABEL_NOTE: Limit = Limit {
    field: "note",
    max_bytes: 4096,
    name: false,
};
pub const BASELINE_NOTE: Limit = Limit {
    field: "note",
    max_bytes: 4096,
    name: false,
};

impl Limit {
    /// Refuses `value` with a 400 naming the field and the bound.
    pub fn check(&self, value: &str) -> Result<(), AppError> {
        let field = self.field;
        if value.len() > self.max_bytes {
            return Err(AppError::BadRequest(format!(
                "`{field}` has {} bytes; at most {} are accepted",
                value.len(),
                self.max_bytes
            )));
        }
        if self.name && value.chars().any(char::is_control) {
            return Err(AppError::BadRequest(format!(
                "`{field}` is a name: it has no control characters (line breaks, tabs…)"
            )));
        }
        Ok(())
    }
}
