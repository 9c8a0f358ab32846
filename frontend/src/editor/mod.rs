//! The rule editor's engine-side logic, free of UI: highlighting, completion, lint and the
//! overlay markup. Unit-tested on the host.

pub mod complete;
pub mod highlight;
pub mod lint;
pub mod overlay;
