//! One module per lint; each starts with its documentation and exports `run`.
//! Adding a lint: write `rules/<name>.rs` (doc sections What it does / Why is this bad? /
//! Example / Fix, then `pub(crate) fn run`), add one line to the table in `registry.rs` with the
//! next free code, add cases under `tests/conformance/lint/`, and refresh `docs/lints.md`.

pub(crate) mod alert_key;
pub(crate) mod ancestor_not_equal;
pub(crate) mod comment_in_condition;
pub(crate) mod directory_prefix_without_slash;
pub(crate) mod empty_string_match;
pub(crate) mod garbled_field_prefix;
pub(crate) mod glob_without_glob_operator;
pub(crate) mod match_operator;
pub(crate) mod missing_output;
pub(crate) mod not_in_operator;
pub(crate) mod proc_name_path;
pub(crate) mod redefinition_without_override;
pub(crate) mod regex_prefix_test;
pub(crate) mod spawn_without_evt_type;
/// Documentation only: the loader reports studio limits.
pub(crate) mod studio_limit;
pub(crate) mod unknown_field;
pub(crate) mod write_syscall;

use super::aliases::{self, Meant};
use super::condition::{Check, FieldTok, Scan};
use super::sink::Sink;
use crate::diagnostic::{Applicability, Fix};
use crate::fields;

/// The field `f` is, or was evidently meant to be (for lints that look past a misspelling so
/// the first report already explains everything).
pub(crate) fn effective_field(f: &FieldTok, check: Option<&Check>, scan: &Scan) -> Option<String> {
    match fields::resolve(&f.name) {
        Some((id, _)) => Some(id.name().to_owned()),
        None => aliases::meant(&f.name, check, scan)
            .filter(|m| m.certain)
            .map(|m| m.field),
    }
}

/// The text of `f` (in the condition `text`) with its name replaced by `name`, keeping `[arg]`.
pub(crate) fn with_name(text: &str, f: &FieldTok, name: &str) -> String {
    format!("{name}{}", &text[f.name_span.end..f.span.end])
}

/// What the unknown field `f` was meant to be, with the fix renaming it: safe when the reading
/// is certain, unsafe for a guess.
pub(crate) fn meant_with_fix(
    f: &FieldTok,
    scan: &Scan,
    sink: &Sink,
) -> (Option<Meant>, Option<Fix>) {
    let meant = aliases::meant(&f.name, scan.check_of(f), scan);
    let fix = meant.as_ref().and_then(|m| {
        let apply = if m.certain {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        };
        sink.condition_fix(
            format!("Replace with `{}`", m.field),
            apply,
            &[(f.name_span.clone(), m.field.clone())],
        )
    });
    (meant, fix)
}
