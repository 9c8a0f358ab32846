//! ## What it does
//! Finds field names whose first part is not ASCII, such as `Tập.name`: machine translation
//! turned `evt` into a word of another language.
//!
//! ## Why is this bad?
//! Falco field names are ASCII (`evt.type`, `fd.name`); Falco cannot parse the condition
//! (`LOAD_ERR_COMPILE_CONDITION`).
//!
//! ## Example
//! ```yaml
//! condition: Tập.name = execve and Tập.path startswith /tmp/
//! ```
//! Use instead:
//! ```yaml
//! condition: evt.type = execve and proc.exepath startswith /tmp/
//! ```
//!
//! ## Fix
//! Restores `evt` and maps the part after it to the Falco field it stands for (safe):
//! `X.name` → `evt.type`, `X.path` → `fd.name` (`proc.exepath` in an `execve` rule),
//! `X.remote_ip` → `fd.rip` (`fd.rnet` when compared with networks), `X.remote_port` → `fd.rport`.

use super::meant_with_fix;
use crate::lint::aliases;
use crate::lint::sink::Sink;
use crate::lint::source::Item;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for f in &cond.scan.fields {
        let Some((prefix, _)) = aliases::garbled(&f.name) else {
            continue;
        };
        let (meant, fix) = meant_with_fix(f, &cond.scan, sink);
        let help = meant.map_or_else(
            || "field names are ASCII, e.g. `evt.type`, `fd.name`, `proc.name`".to_owned(),
            |m| format!("write `{}`: {}", m.field, m.why),
        );
        sink.report_in_condition(
            f.name_span.clone(),
            format!(
                "`{}` is not a field: `{prefix}` looks like a mistranslated `evt`",
                f.name
            ),
        )
        .help(help)
        .fix(fix);
    }
}
