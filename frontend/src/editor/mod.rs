//! The rule editor: CodeMirror hosted through a thin bridge (`bridge`), with the engine-side
//! logic free of UI (completion and hover help, lint, whole items of rules files; unit-tested
//! on the host) and the guard that asks before unsaved work is left (`leave`).

pub mod bridge;
pub mod complete;
pub mod item;
pub mod leave;
pub mod lint;
pub mod worker;
