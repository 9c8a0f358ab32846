//! Rule tests in the editor: a tests file in `rulestudio test`'s format, run in the browser by
//! the engine against the live set plus the draft (the verdicts `rulestudio test` gives in CI),
//! kept in this browser per user and rule until proposed, and downloadable for the repository.

use crate::client;
use crate::editor::lint::Workspace;
use crate::pages::editor::SyncDraft;
use crate::storage;
use crate::widgets::TestResults;
use leptos::prelude::*;
use rulestudio_api::ruletest::{self, TestCase, TestResult};

/// The name the tests of `rule` are kept under (`None`: a new rule).
fn draft_name(rule: Option<&str>) -> &str {
    rule.unwrap_or("(new rule)")
}

/// The tests text kept for `rule`, or empty.
pub fn stored_tests(rule: Option<&str>) -> String {
    storage::get(storage::TESTS, draft_name(rule)).unwrap_or_default()
}

/// Forgets the tests kept for `rule`: they were proposed with it.
pub fn forget_tests(rule: Option<&str>) {
    storage::remove(storage::TESTS, draft_name(rule));
}

fn store_tests(rule: Option<&str>, text: &str) {
    storage::set(storage::TESTS, draft_name(rule), text);
}

/// Appends `case` to a tests file's text.
pub fn append_case(tests: &str, case: &TestCase) -> String {
    let sep = if tests.is_empty() || tests.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{tests}{sep}{}", ruletest::to_yaml(case))
}

/// Runs every case of `tests` against the base plus `draft`.
fn run(workspace: &mut Workspace, draft: &str, tests: &str) -> Result<Vec<TestResult>, String> {
    let cases = ruletest::parse(tests).map_err(|e| e.to_string())?;
    let loaded = workspace.load(draft);
    Ok(cases
        .iter()
        .enumerate()
        .map(|(i, case)| ruletest::run(&loaded, i, case))
        .collect())
}

#[component]
pub fn RuleTests(
    /// The tests file's text (samples are added to it from the preview).
    tests: RwSignal<String>,
    /// The draft rules.
    text: RwSignal<String>,
    /// The live set loaded in the browser; None until it arrived.
    workspace: StoredValue<Option<Workspace>>,
    /// The rule being edited, which names where the tests are kept.
    rule: Option<String>,
) -> impl IntoView {
    let results = RwSignal::new(None::<Result<Vec<TestResult>, String>>);
    let sync = SyncDraft::here();
    Effect::new(move |_| tests.with(|t| store_tests(rule.as_deref(), t)));
    let run_all = move |_| {
        SyncDraft::run(sync);
        let mut out = None;
        workspace.update_value(|w| {
            out = w
                .as_mut()
                .map(|w| text.with_untracked(|d| tests.with_untracked(|t| run(w, d, t))));
        });
        results.set(out);
    };
    let download = move || {
        format!(
            "data:application/yaml;charset=utf-8,{}",
            client::enc(&tests.get())
        )
    };
    view! {
        <div class="rule-tests">
            <p class="muted">
                "Each test is an event and whether a rule must match it, in the format of "<code>"rulestudio test"</code>
                ". Add matched events from the preview's samples, or write them here."
            </p>
            <label for="rule-tests" class="sr-only">"Rule tests (YAML)"</label>
            <textarea id="rule-tests" class="mono tests-text" data-testid="rule-tests" spellcheck="false" rows="10"
                placeholder="- name: a shell in a container\n  rule: My new rule\n  expect: match\n  event: {\"evt.type\": \"execve\", \"proc.name\": \"bash\", \"container.id\": \"4f2a9c1b7d3e\"}"
                prop:value=tests on:input=move |ev| tests.set(event_target_value(&ev))></textarea>
            <div class="row">
                <button class="primary" data-testid="tests-run" on:click=run_all disabled=move || tests.with(|t| t.trim().is_empty())>
                    "Run tests"
                </button>
                <a class="button" href=download download="rule-tests.yaml" data-testid="tests-download">"Download tests file"</a>
            </div>
            {move || results.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert" data-testid="tests-error">{e}</p> }.into_any(),
                Ok(list) => view! { <TestResults results=list /> }.into_any(),
            })}
        </div>
    }
}
