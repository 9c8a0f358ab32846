//! Evidence for reviewers: the lint and rule tests of the live set a proposal would produce,
//! and a preview of the rules it adds or alters against their live versions, computed by the
//! same `preview::run` as `POST /api/v1/preview` so that both report the same numbers.

use crate::error::Result;
use crate::live::{self, Snapshot};
use crate::preview::{self, Deadline, Draft, Options, Truth};
use crate::state::AppState;
use crate::time::now_ns;
use rulestudio_api::diagnostic::{DiagnosticJson, FileText, Severity};
use rulestudio_api::live::RulesFile;
use rulestudio_api::preview::Window;
use rulestudio_api::proposals::{Evidence, RemovedRule};
use rulestudio_api::ruletest::{self, TestCase, TestResult};
use rulestudio_engine::lint;
use rulestudio_engine::loader::{LoadOptions, Loaded, RuleInfo};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The window evidence covers unless a refresh asks for another: the preview's default.
pub fn default_window() -> Window {
    Window::LastEvents {
        last_events: preview::DEFAULT_WINDOW,
    }
}

/// The lint and the rule tests of a resulting live set.
pub struct Checked {
    pub loaded: Loaded,
    pub diagnostics: Vec<DiagnosticJson>,
    pub errors: u32,
    pub warnings: u32,
    pub tests: Vec<TestResult>,
}

impl Checked {
    /// The highest `required_engine_version` the checked files declare, `x.y.z`.
    pub fn required_engine_version(&self) -> Option<String> {
        let (major, minor, patch) = self.loaded.required_engine_version?;
        Some(format!("{major}.{minor}.{patch}"))
    }

    /// The reasons these files may not go live: lint errors (422) and failing tests (409).
    pub fn lint_errors(&self) -> impl Iterator<Item = String> + '_ {
        lint_errors(&self.diagnostics)
    }
}

pub fn lint_errors(diagnostics: &[DiagnosticJson]) -> impl Iterator<Item = String> + '_ {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            format!(
                "lint error in {}:{}:{}: {} ({})",
                d.file, d.line, d.column, d.message, d.code
            )
        })
}

pub fn failed_tests(tests: &[TestResult]) -> impl Iterator<Item = String> + '_ {
    tests.iter().filter(|t| !t.passed).map(|t| {
        format!(
            "rule test {} (rule '{}') fails: {}",
            t.name,
            t.rule,
            t.message.as_deref().unwrap_or("")
        )
    })
}

/// Lints `files` as one live set and runs `tests` on it, off the async executor.
pub async fn check(files: Vec<RulesFile>, tests: Vec<TestCase>) -> Result<Checked> {
    super::blocking(move || {
        let linted = lint::lint(&live::sources(&files), &LoadOptions::default());
        let texts: Vec<FileText> = files
            .iter()
            .map(|f| FileText::new(&f.name, &f.content))
            .collect();
        let diagnostics: Vec<DiagnosticJson> = linted
            .diagnostics
            .iter()
            .map(|d| DiagnosticJson::from_engine(d, &texts))
            .collect();
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count() as u32;
        let tests = tests
            .iter()
            .enumerate()
            .map(|(i, t)| ruletest::run(&linted.loaded, i, t))
            .collect();
        Checked {
            loaded: linted.loaded,
            warnings: diagnostics.len() as u32 - errors,
            errors,
            diagnostics,
            tests,
        }
    })
    .await
}

/// The evidence of `files` (the live set a proposal produces) against `base`, over `window`.
pub async fn compute(
    state: &AppState,
    base: Arc<Snapshot>,
    files: Vec<RulesFile>,
    tests: Vec<TestCase>,
    window: Window,
) -> Result<Evidence> {
    Deadline::run(state, |deadline| {
        compute_within(state, base, files, tests, window, deadline)
    })
    .await
}

async fn compute_within(
    state: &AppState,
    base: Arc<Snapshot>,
    files: Vec<RulesFile>,
    tests: Vec<TestCase>,
    window: Window,
    deadline: Deadline,
) -> Result<Evidence> {
    let checked = check(files, tests).await?;
    let required_engine_version = checked.required_engine_version();
    let (changed, removed) = compare(&base.loaded, &checked.loaded);
    let range = preview::resolve_window(state, Some(&window)).await?;
    let draft = Draft {
        loaded: checked.loaded,
        diagnostics: Vec::new(),
        rules: changed,
    };
    let opts = Options {
        samples: preview::DEFAULT_SAMPLES,
        group_by: &[],
    };
    let outcome = preview::run(state, &draft, &base, range, opts, &deadline).await?;
    let mut removed_rules = Vec::new();
    if !removed.is_empty() {
        let truth = Truth::load(state, range).await?;
        for i in removed {
            let rule = &base.loaded.ruleset.rules()[i];
            let (counts, _) =
                preview::classified_matches(state, rule, range, &truth, &deadline).await?;
            removed_rules.push(RemovedRule {
                name: rule.name.clone(),
                live_matched: counts.matched,
            });
        }
    }
    Ok(Evidence {
        computed_at: now_ns(),
        live_version: base.version,
        diagnostics: checked.diagnostics,
        required_engine_version,
        errors: checked.errors,
        warnings: checked.warnings,
        tests: checked.tests,
        window,
        scanned: outcome.scanned,
        rules: outcome.rules,
        removed_rules,
    })
}

/// Indices into `after.ruleset` of the enabled rules whose effective definition is new or
/// differs from `before`, and indices into `before.ruleset` of the enabled rules `after` no
/// longer has (deleted, disabled, or no longer compiling).
fn compare(before: &Loaded, after: &Loaded) -> (Vec<usize>, Vec<usize>) {
    let (info_before, info_after) = (infos(before), infos(after));
    let (enabled_before, enabled_after) = (enabled(before), enabled(after));
    let changed = after
        .ruleset
        .rules()
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            !enabled_before.contains(r.name.as_str())
                || !same_rule(
                    info_before.get(r.name.as_str()),
                    info_after.get(r.name.as_str()),
                )
        })
        .map(|(i, _)| i)
        .collect();
    let removed = before
        .ruleset
        .rules()
        .iter()
        .enumerate()
        .filter(|(_, r)| !enabled_after.contains(r.name.as_str()))
        .map(|(i, _)| i)
        .collect();
    (changed, removed)
}

fn infos(l: &Loaded) -> HashMap<&str, &RuleInfo> {
    l.rules.iter().map(|r| (r.name.as_str(), r)).collect()
}

fn enabled(l: &Loaded) -> HashSet<&str> {
    l.ruleset.rules().iter().map(|r| r.name.as_str()).collect()
}

/// Same effective definition: what it matches (after macros, lists and exceptions), what it
/// says, how it is filed. Where in which file it is written does not matter.
fn same_rule(a: Option<&&RuleInfo>, b: Option<&&RuleInfo>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.compiled_condition == b.compiled_condition
                && a.condition == b.condition
                && a.desc == b.desc
                && a.output == b.output
                && a.priority == b.priority
                && a.source == b.source
                && a.enabled == b.enabled
                && a.tags == b.tags
        }
        _ => false,
    }
}
