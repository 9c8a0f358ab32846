//! The rule editor's engine-side logic, free of UI: highlighting, completion, lint, the
//! overlay markup and whole items of rules files. Unit-tested on the host.

pub mod complete;
pub mod highlight;
pub mod item;
pub mod lint;
pub mod overlay;
