//! ## What it does
//! Finds `proc.name` (and `proc.pname`, `proc.aname`) compared with a path or with a name
//! longer than 15 bytes, also inside `in (…)` lists.
//!
//! ## Why is this bad?
//! `proc.name` is the kernel's command name (`comm`): the executable's base name cut to 15
//! bytes. It never contains `/` and is never longer than 15 bytes, so `proc.name = /bin/bash`
//! is always false (and `!=` always true). Falco loads such a rule without complaint; it just
//! never fires.
//!
//! Comparing `proc.exepath` with the same path is no cure: `proc.exepath` is the *resolved*
//! path, and on merged-/usr systems (Debian 12, Fedora, Arch, …) `/bin` is a symlink to
//! `/usr/bin`, so a shell started as `/bin/bash` has `proc.exepath = /usr/bin/bash`.
//!
//! ## Example
//! ```yaml
//! condition: spawned_process and proc.name in (/bin/bash, /bin/sh)
//! ```
//! Use instead:
//! ```yaml
//! condition: spawned_process and proc.name in (bash, sh)
//! ```
//! or, to match one installed program only, its resolved path:
//! `proc.exepath in (/usr/bin/bash, /usr/bin/sh)`.
//!
//! ## Fix
//! Cuts each value to what the kernel stores as the command name: the base name's first 15
//! bytes (unsafe: the rule starts matching, wherever the program is installed). A path prefix
//! or pattern (`startswith`, `glob`) is a test of the location, so there it compares the
//! executable path instead (`proc.exepath`, `proc.pexepath`, `proc.aexepath`).

use crate::diagnostic::Applicability;
use crate::lint::condition::Op;
use crate::lint::pattern::render_value;
use crate::lint::rules::{effective_field, with_name};
use crate::lint::sink::Sink;
use crate::lint::source::Item;
use crate::syntax::ast::CmpOp;

/// The comm length limit (`TASK_COMM_LEN` - 1).
const COMM_MAX: usize = 15;

pub(crate) fn run(item: &Item, sink: &mut Sink) {
    let Some(cond) = &item.condition else { return };
    for check in &cond.scan.checks {
        let Some(f) = &check.field else { continue };
        let Some(name) = effective_field(f, Some(check), &cond.scan) else {
            continue;
        };
        let exepath = match name.as_str() {
            "proc.name" => "proc.exepath",
            "proc.pname" => "proc.pexepath",
            "proc.aname" => "proc.aexepath",
            _ => continue,
        };
        let op = match check.op {
            Op::Cmp(
                op @ (CmpOp::Eq
                | CmpOp::EqEq
                | CmpOp::Ne
                | CmpOp::In
                | CmpOp::Intersects
                | CmpOp::StartsWith
                | CmpOp::EndsWith
                | CmpOp::Glob),
            ) => op,
            Op::NotIn => CmpOp::In,
            _ => continue,
        };
        let values: Vec<_> = check.values().iter().filter(|v| !sink.is_list(v)).collect();
        let bad: Vec<_> = values
            .iter()
            .filter(|v| is_path(&v.text) || v.text.len() > COMM_MAX)
            .collect();
        let Some(first) = bad.first() else { continue };
        // A path prefix or pattern, or a directory, names a location and not a program.
        let location = matches!(op, CmpOp::StartsWith | CmpOp::Glob)
            && values.iter().all(|v| is_path(&v.text));
        let fix = if location || bad.iter().any(|v| comm(&v.text).is_empty()) {
            let text = with_name(&cond.text, f, exepath);
            sink.condition_fix(
                format!("Compare `{exepath}` instead"),
                Applicability::Unsafe,
                &[(f.span.clone(), text)],
            )
        } else {
            let edits: Vec<_> = bad
                .iter()
                .map(|v| (v.span.clone(), render_value(comm(&v.text))))
                .collect();
            let names: Vec<_> = edits.iter().map(|(_, name)| format!("`{name}`")).collect();
            let noun = if names.len() == 1 { "name" } else { "names" };
            sink.condition_fix(
                format!("Compare the command {noun} {}", names.join(", ")),
                Applicability::Unsafe,
                &edits,
            )
        };
        let verdict = if op == CmpOp::Ne {
            "always true"
        } else {
            "never true"
        };
        let help = if is_path(&first.text) {
            format!(
                "`{name}` holds the base name, `{}`; to match the full path compare `{exepath}` with the resolved path{}",
                comm(&first.text),
                resolved(&first.text).map_or(String::new(), |r| format!(
                    " (`{r}` where `/bin` links to `/usr/bin`, as on Debian 12)"
                )),
            )
        } else {
            format!(
                "the kernel keeps the first 15 bytes, `{}`; or compare `{exepath}` with the full path",
                comm(&first.text)
            )
        };
        let why = if is_path(&first.text) {
            "a path"
        } else {
            "longer than 15 bytes"
        };
        sink.report(cond.span_of(first.span.clone()), format!("`{name}` is a command name of at most 15 bytes and never {why}: this check is {verdict}"))
            .help(help)
            .fix(fix);
    }
}

/// A file path, as opposed to placeholders like `N/A` that merely contain a slash.
fn is_path(v: &str) -> bool {
    v.contains('/') && v.starts_with(['/', '.', '~'])
}

/// What the kernel stores as the command name for an executable at `path`.
fn comm(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    let mut end = base.len().min(COMM_MAX);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    &base[..end]
}

/// Where a path under a merged-/usr top directory really is, which `proc.exepath` reports.
fn resolved(path: &str) -> Option<String> {
    ["/bin/", "/sbin/", "/lib/", "/lib64/"]
        .iter()
        .any(|d| path.starts_with(d))
        .then(|| format!("/usr{path}"))
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{fixed_condition, rule};

    /// Names become command names; locations (prefixes, patterns, directories) compare the
    /// executable path.
    #[test]
    fn fixes() {
        let cases = [
            ("proc.name = \"/bin/bash\"", "proc.name = bash"),
            (
                "proc.name in (\"/bin/bash\", \"/bin/sh\")",
                "proc.name in (bash, sh)",
            ),
            ("proc.name in (/bin/bash, zsh)", "proc.name in (bash, zsh)"),
            (
                "proc.pname != /usr/bin/kube-controller-manager",
                "proc.pname != kube-controller",
            ),
            (
                "proc.name = kube-controller-manager",
                "proc.name = kube-controller",
            ),
            (
                "proc.name startswith /tmp/",
                "proc.exepath startswith /tmp/",
            ),
            (
                "proc.aname glob \"/opt/*\"",
                "proc.aexepath glob \"/opt/*\"",
            ),
            ("proc.name = /usr/bin/", "proc.exepath = /usr/bin/"),
        ];
        for (check, want) in cases {
            assert_eq!(
                fixed_condition("d", &format!("evt.type = execve and {check}"), "RS007"),
                format!("evt.type = execve and {want}")
            );
        }
    }

    #[test]
    fn the_help_names_the_resolved_path() {
        let files = [crate::loader::SourceFile {
            name: "r.yaml".into(),
            text: rule("d", "evt.type = execve and proc.name = /bin/bash"),
        }];
        let ds = crate::lint::lint(&files, &Default::default()).diagnostics;
        let help = ds
            .iter()
            .find(|d| d.code.0 == "RS007")
            .and_then(|d| d.help.clone())
            .unwrap_or_default();
        assert!(
            help.contains("`bash`")
                && help.contains("`proc.exepath`")
                && help.contains("`/usr/bin/bash`"),
            "{help}"
        );
    }
}
