//! The one table of lints. Codes are stable: never reuse or renumber one, add new lints at the
//! end. A lint's documentation is the `//!` comment at the top of its module, which is also
//! where `docs/lints.md` comes from.

use super::rules;
use super::sink::Sink;
use super::source::Item;
use crate::diagnostic::Code;

pub struct Lint {
    /// Stable code, `RS` and three digits.
    pub code: Code,
    /// Stable kebab-case name.
    pub name: &'static str,
    /// The Falco error code when what the lint finds makes Falco reject the rules file.
    pub falco: Option<Code>,
    /// Loader diagnostics that a finding of this lint replaces where they overlap it: the same
    /// problem, now explained with a fix.
    pub replaces: &'static [Code],
    /// Loader diagnostics that a finding of this lint adds its help and fix to, in the same
    /// item. Such a lint reports nothing of its own: without one of these, its finding is dropped.
    pub enriches: &'static [Code],
    source: &'static str,
    /// `None` for what the loader reports itself ([`crate::loader::STUDIO_LIMIT`]).
    pub(crate) run: Option<fn(&Item, &mut Sink)>,
}

impl Lint {
    /// The documentation: `## What it does`, `## Why is this bad?`, `## Example`, `## Fix`.
    pub fn doc(&self) -> String {
        let mut out = String::new();
        for line in self.source.lines().map_while(|l| l.strip_prefix("//!")) {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// How its findings reach the user, for the docs.
    fn reported_as(&self) -> String {
        match (self.falco, self.enriches) {
            _ if self.run.is_none() => "error, reported by the loader".to_owned(),
            (Some(c), _) => format!("Falco error `{c}`"),
            (None, [c, ..]) => format!("help and fix on Falco's `{c}`"),
            (None, []) => "warning".to_owned(),
        }
    }

    /// The first paragraph of the "What it does" section.
    pub fn summary(&self) -> String {
        let doc = self.doc();
        let body = doc.split("## What it does").nth(1).unwrap_or("");
        body.trim_start()
            .split("\n\n")
            .next()
            .unwrap_or("")
            .replace('\n', " ")
            .trim()
            .to_owned()
    }
}

macro_rules! lints {
    ($($code:literal $name:literal $module:ident $(($by:ident))? falco: $falco:expr,
        replaces: [$($replaces:expr),*] $(, enriches: [$($enriches:expr),*])?;)*) => {
        static LINTS: &[Lint] = &[$(Lint {
            code: Code($code),
            name: $name,
            falco: $falco,
            replaces: &[$($replaces),*],
            enriches: &[$($($enriches),*)?],
            source: include_str!(concat!("rules/", stringify!($module), ".rs")),
            run: run_of!($module $($by)?),
        }),*];
    };
}

/// A lint's check: its module's `run`, or none for what the `loader` reports.
macro_rules! run_of {
    ($module:ident) => {
        Some(rules::$module::run)
    };
    ($module:ident loader) => {
        None
    };
}

lints! {
    "RS001" "alert-key" alert_key
        falco: Some(Code::ERR_YAML_VALIDATE), replaces: [Code::ERR_YAML_VALIDATE, Code::UNKNOWN_KEY];
    "RS002" "comment-in-condition" comment_in_condition
        falco: Some(Code::ERR_COMPILE_CONDITION), replaces: [Code::ERR_COMPILE_CONDITION];
    "RS003" "match-operator" match_operator
        falco: Some(Code::ERR_COMPILE_CONDITION), replaces: [Code::ERR_COMPILE_CONDITION];
    "RS004" "not-in-operator" not_in_operator
        falco: Some(Code::ERR_COMPILE_CONDITION), replaces: [Code::ERR_COMPILE_CONDITION];
    "RS005" "garbled-field-prefix" garbled_field_prefix
        falco: Some(Code::ERR_COMPILE_CONDITION), replaces: [Code::ERR_COMPILE_CONDITION, Code::ERR_VALIDATE];
    "RS006" "unknown-field" unknown_field
        falco: Some(Code::ERR_COMPILE_CONDITION), replaces: [Code::ERR_COMPILE_CONDITION];
    "RS007" "proc-name-path" proc_name_path
        falco: None, replaces: [];
    "RS008" "ancestor-not-equal" ancestor_not_equal
        falco: None, replaces: [];
    "RS009" "directory-prefix-without-slash" directory_prefix_without_slash
        falco: None, replaces: [];
    "RS010" "regex-prefix-test" regex_prefix_test
        falco: None, replaces: [Code::COMPILE_CONDITION];
    "RS011" "write-syscall" write_syscall
        falco: None, replaces: [];
    "RS012" "glob-without-glob-operator" glob_without_glob_operator
        falco: None, replaces: [];
    "RS013" "empty-string-match" empty_string_match
        falco: None, replaces: [];
    "RS014" "missing-output" missing_output
        falco: Some(Code::ERR_YAML_VALIDATE), replaces: [Code::ERR_YAML_VALIDATE];
    "RS015" "spawn-without-evt-type" spawn_without_evt_type
        falco: None, replaces: [], enriches: [Code::NO_EVTTYPE];
    "RS016" "redefinition-without-override" redefinition_without_override
        falco: Some(Code::ERR_YAML_VALIDATE), replaces: [Code::ERR_YAML_VALIDATE, Code::ERR_COMPILE_CONDITION];
    "RS017" "studio-limit" studio_limit (loader)
        falco: None, replaces: [];
}

/// Every lint, in code order.
pub fn all() -> &'static [Lint] {
    LINTS
}

/// The lint with this code or name.
pub fn find(code_or_name: &str) -> Option<&'static Lint> {
    LINTS
        .iter()
        .find(|l| l.code.0 == code_or_name || l.name == code_or_name)
}

/// `docs/lints.md`, generated from the table and the lints' documentation.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Lints\n\n\
         <!-- Generated from engine/src/lint/rules/*.rs by the `lints_md_is_fresh` test; \
         run `UPDATE_EXPECT=1 cargo test -p rulestudio-engine lints_md` to refresh. -->\n\n\
         `rulestudio lint` reports Falco's own load errors and warnings (codes `LOAD_*`) and the lints below.\n\
         A lint that explains an error Falco reports takes that error's place, with Falco's code and message (shown here as *Falco error*); one that explains a Falco warning adds its help and fix to that warning; other findings, including problems Falco would only reach after an earlier error in the same item, are warnings with the lint's code.\n\
         Fixes marked safe are applied by `--fix`, unsafe ones by `--unsafe-fixes`.\n\n\
         | Code | Name | Reported as | What it does |\n|---|---|---|---|\n",
    );
    for l in LINTS {
        let as_ = l.reported_as();
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} |\n",
            l.code,
            l.code.0.to_lowercase(),
            l.name,
            as_,
            l.summary().replace('|', "\\|")
        ));
    }
    for l in LINTS {
        out.push_str(&format!("\n## {}\n\n`{}`", l.code, l.name));
        if l.falco.is_some() || !l.enriches.is_empty() || l.run.is_none() {
            out.push_str(&format!(" — {}", l.reported_as()));
        }
        out.push_str("\n\n");
        out.push_str(
            format!("\n{}", l.doc())
                .replace("\n## ", "\n### ")
                .trim_start(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for (i, l) in LINTS.iter().enumerate() {
            assert!(codes.insert(l.code), "duplicate code {}", l.code);
            assert!(names.insert(l.name), "duplicate name {}", l.name);
            assert_eq!(
                l.code.0,
                format!("RS{:03}", i + 1),
                "codes are sequential and never reused"
            );
            assert!(
                l.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{} is not kebab-case",
                l.name
            );
            assert!(!Code::FALCO.contains(&l.code));
        }
        assert_eq!(
            find("studio-limit").map(|l| l.code),
            Some(crate::loader::STUDIO_LIMIT)
        );
    }

    #[test]
    fn every_lint_is_documented() {
        for l in LINTS {
            let doc = l.doc();
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix",
            ] {
                assert!(
                    doc.contains(section),
                    "{} ({}) lacks `{section}`",
                    l.code,
                    l.name
                );
            }
            assert!(!l.summary().is_empty(), "{} has no summary", l.code);
        }
    }

    #[test]
    fn lints_md_is_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/lints.md");
        let want = markdown();
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, &want).expect("write docs/lints.md");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/lints.md is stale; run `UPDATE_EXPECT=1 cargo test -p rulestudio-engine lints_md`"
        );
    }
}
