//! The preview panel beside the editor: what the draft would match on stored events (the last
//! N, or a time range), versus the live set, with false-positive counts, samples to label or
//! keep as tests, and exception suggestions; and the draft's rule tests.

use crate::client::calls;
use crate::client::{
    self, ApiError, Base, ExceptionPick, Label, PreviewRequest, PreviewResponse, RulePreview,
    Sample, SuggestExceptionRequest, SuggestExceptionResponse,
};
use crate::editor::lint::Workspace;
use crate::pages::editor::SyncDraft;
use crate::pages::exception::Suggestion;
use crate::pages::ruletests::{RuleTests, append_case};
use crate::widgets::{
    ErrorBox, LabelButtons, action_badge, effective_label, fetch_labels, format_ns, rule_counts,
    rule_histogram, shadowing,
};
use crate::window_pick::{WindowPick, WindowRange, WindowSelect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rulestudio_api::fleet::Nodes;
use rulestudio_api::ruletest::{Expect, TestCase};
use std::time::Duration;

/// What the panel shows below its controls.
#[derive(Debug, Clone)]
enum Shown {
    Nothing,
    Cancelled,
    Invalid(&'static str),
    Done(Result<PreviewResponse, ApiError>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Preview,
    Tests,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn PreviewPanel(
    /// The draft rules text.
    text: RwSignal<String>,
    /// Replaces the draft text (applying a suggested exception).
    on_apply: Callback<String>,
    /// The live set in the browser, for running rule tests.
    workspace: StoredValue<Option<Workspace>>,
    /// The rule being edited (None: a new rule), which names where its tests are kept.
    rule: Option<String>,
    /// The preview window, which the proposal's evidence is computed over too.
    pick: WindowPick,
) -> impl IntoView {
    let shown = RwSignal::new(Shown::Nothing);
    // Completed runs, on the panel for tests and tools to wait on.
    let runs = RwSignal::new(0u32);
    let labels = RwSignal::new(Vec::<Label>::new());
    let running = StoredValue::new(None::<web_sys::AbortController>);
    let started = RwSignal::new(None::<f64>);
    let elapsed = RwSignal::new(0.0f64);
    let ticker = StoredValue::new(None::<IntervalHandle>);
    let tab = RwSignal::new(Tab::Preview);
    // The fields the matches are grouped by, comma-separated.
    let group_by = RwSignal::new("proc.name".to_string());
    let tests = RwSignal::new(crate::pages::ruletests::stored_tests(rule.as_deref()));
    let sync = SyncDraft::here();

    let stop_ticker = move || {
        if let Some(h) = ticker.get_value() {
            h.clear();
        }
        ticker.set_value(None);
        started.set(None);
    };
    let run = move || {
        let window = match pick.window() {
            Ok(w) => w,
            Err(why) => {
                shown.set(Shown::Invalid(why));
                return;
            }
        };
        if let Some(c) = running.get_value() {
            c.abort();
        }
        let Ok(controller) = web_sys::AbortController::new() else {
            return;
        };
        let signal = controller.signal();
        running.set_value(Some(controller));
        started.set(Some(now_ms()));
        elapsed.set(0.0);
        if ticker.get_value().is_none() {
            let h = set_interval_with_handle(
                move || {
                    if let Some(t0) = started.get_untracked() {
                        elapsed.set((now_ms() - t0) / 1000.0);
                    }
                },
                Duration::from_millis(100),
            )
            .ok();
            ticker.set_value(h);
        }
        SyncDraft::run(sync);
        let req = PreviewRequest {
            rules: text.get_untracked(),
            base: Base::Live,
            window,
            samples: Some(20),
            group_by: group_by.with_untracked(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
        };
        spawn_local(async move {
            let r = client::call_abortable::<calls::RunPreview>(&(), &(), &req, &signal).await;
            if signal.aborted() {
                return;
            }
            // Labels of the samples, so their buttons show what is set.
            if let Ok(resp) = &r {
                let ids: Vec<String> = resp
                    .rules
                    .iter()
                    .flat_map(|rule| rule.samples.iter().map(|s| s.event_id.clone()))
                    .collect();
                labels.set(fetch_labels(&ids).await.unwrap_or_default());
            }
            shown.set(Shown::Done(r));
            runs.update(|n| *n += 1);
            running.set_value(None);
            stop_ticker();
        });
    };
    let cancel = move |_| {
        if let Some(c) = running.get_value() {
            c.abort();
        }
        running.set_value(None);
        stop_ticker();
        shown.set(Shown::Cancelled);
    };
    on_cleanup(move || {
        if let Some(c) = running.get_value() {
            c.abort();
        }
        if let Some(h) = ticker.get_value() {
            h.clear();
        }
    });
    let busy = move || started.get().is_some();
    let add_test = Callback::new(move |case: TestCase| {
        tests.update(|t| *t = append_case(t, &case));
    });
    let test_count =
        move || tests.with(|t| rulestudio_api::ruletest::parse(t).map(|c| c.len()).ok());

    view! {
        <section class="preview-pane" aria-label="Preview and tests" data-testid="preview-panel" data-runs=runs>
            <div class="tabs" role="tablist" aria-label="Preview or tests">
                <button role="tab" id="tab-preview" aria-controls="panel-preview" data-testid="tab-preview"
                    aria-selected=move || (tab.get() == Tab::Preview).to_string() on:click=move |_| tab.set(Tab::Preview)>
                    "Preview"
                </button>
                <button role="tab" id="tab-tests" aria-controls="panel-tests" data-testid="tab-tests"
                    aria-selected=move || (tab.get() == Tab::Tests).to_string() on:click=move |_| tab.set(Tab::Tests)>
                    {move || match test_count() {
                        Some(n) if n > 0 => format!("Tests ({n})"),
                        _ => "Tests".to_string(),
                    }}
                </button>
            </div>
            <div id="panel-tests" role="tabpanel" aria-labelledby="tab-tests" hidden=move || tab.get() != Tab::Tests>
                <RuleTests tests=tests text=text workspace=workspace rule=rule />
            </div>
            <div id="panel-preview" role="tabpanel" aria-labelledby="tab-preview" hidden=move || tab.get() != Tab::Preview>
                <div class="pane-head preview-controls">
                    <WindowSelect pick=pick prefix="preview" />
                    <button class="primary" data-testid="preview-run" on:click=move |_| run() disabled=busy>
                        {move || if busy() { "Running…" } else { "Run preview" }}
                    </button>
                </div>
                <WindowRange pick=pick prefix="preview" />
                <div class="range-fields">
                    <label>
                        "Group by"
                        <input class="mono" data-testid="preview-group-by" prop:value=group_by
                            on:input=move |ev| group_by.set(event_target_value(&ev))
                            title="Falco field names, separated by commas: the matches are counted per combination of their values" />
                    </label>
                </div>
                <Show when=busy>
                    <div class="progress" role="status" data-testid="preview-progress">
                        <progress aria-label="Preview running"></progress>
                        <span>{move || format!("Evaluating the draft over stored events… {:.1} s", elapsed.get())}</span>
                        <button on:click=cancel data-testid="preview-cancel">"Cancel"</button>
                    </div>
                </Show>
                <div class:stale=busy>
                {move || match shown.get() {
                    Shown::Nothing => view! { <p class="muted">"Run the preview to see what the draft matches on stored events."</p> }.into_any(),
                    Shown::Cancelled => view! { <p class="muted" role="status" data-testid="preview-cancelled">"Preview cancelled."</p> }.into_any(),
                    Shown::Invalid(why) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
                    Shown::Done(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
                    Shown::Done(Ok(r)) => {
                        let summary = format!("Scanned {} events in {} ms.", r.scanned, r.took_ms);
                        let empty_window = r.scanned == 0;
                        let rules = r.rules.clone();
                        let partial = r.nodes.as_ref().and_then(partial_notice);
                        view! {
                            <p class="muted" data-testid="preview-summary">{summary}</p>
                            {partial.map(|text| view! { <p class="warn" role="status" data-testid="preview-partial">{text}</p> })}
                            {empty_window.then(|| view! { <p class="empty">"No stored events in this window: pick a larger one, or start a collector."</p> })}
                            {r.diagnostics.iter().map(|d| view! { <p class=format!("diag {}", d.severity.as_str())>{format!("{}:{} {}", d.line, d.column, d.message)}</p> }).collect_view()}
                            {rules.is_empty().then(|| view! { <p class="muted">"The draft defines no rule that loads."</p> })}
                            {(rules.len() > 1).then(|| view! { <Overview rules=rules.clone() /> })}
                            {rules.into_iter().enumerate().map(|(index, rule)| view! {
                                <RuleResult index=index rule=rule text=text pick=pick labels=labels group_by=group_by on_apply=on_apply add_test=add_test rerun=Callback::new(move |_| run()) />
                            }).collect_view()}
                        }.into_any()
                    }
                }}
                </div>
            </div>
        </section>
    }
}

/// In fleet mode, what a result without some nodes says: its counts leave their events out.
fn partial_notice(nodes: &Nodes) -> Option<String> {
    let mut parts = Vec::new();
    if !nodes.missing.is_empty() {
        parts.push(format!("no answer from {}", nodes.missing.join(", ")));
    }
    if !nodes.offline.is_empty() {
        parts.push(format!("offline: {}", nodes.offline.join(", ")));
    }
    if !nodes.incomplete.is_empty() {
        parts.push(format!(
            "stopped at the deadline: {}",
            nodes.incomplete.join(", ")
        ));
    }
    let total = nodes.answered.len() + nodes.missing.len() + nodes.offline.len();
    (!parts.is_empty()).then(|| {
        format!(
            "Partial result: {} of {total} nodes answered ({}).",
            nodes.answered.len(),
            parts.join("; ")
        )
    })
}

/// One line per rule, linking to its details: a draft of many rules at a glance.
#[component]
fn Overview(
    /// The rules of the preview answer.
    rules: Vec<RulePreview>,
) -> impl IntoView {
    view! {
        <table class="list preview-overview" data-testid="preview-overview">
            <caption class="sr-only">"Matches per rule"</caption>
            <thead><tr>
                <th scope="col">"Rule"</th><th scope="col" class="num">"Matched"</th><th scope="col" class="num">"False pos."</th>
                <th scope="col" class="num">"True pos."</th><th scope="col" class="num">"Versus live"</th>
            </tr></thead>
            <tbody>
                {rules.into_iter().enumerate().map(|(i, r)| view! {
                    <tr>
                        <td><a href=format!("#preview-rule-{i}")>{r.name}</a></td>
                        <td class="num">{r.matched}</td><td class="num">{r.false_positives}</td><td class="num">{r.true_positives}</td>
                        <td class="num">{format!("+{} −{}", r.added, r.removed)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn RuleResult(
    /// Position in the answer, for the overview's links.
    index: usize,
    /// One rule of the preview answer.
    rule: RulePreview,
    /// The draft, sent again for exception suggestions.
    text: RwSignal<String>,
    /// The selected window.
    pick: WindowPick,
    /// The fields the preview grouped by, as typed.
    group_by: RwSignal<String>,
    /// Labels of the samples.
    labels: RwSignal<Vec<Label>>,
    /// Replaces the draft text.
    on_apply: Callback<String>,
    /// Adds a rule test.
    add_test: Callback<TestCase>,
    /// Runs the preview again (after labelling).
    rerun: Callback<()>,
) -> impl IntoView {
    let name = rule.name.clone();
    let suggestion = RwSignal::new(None::<Result<SuggestExceptionResponse, ApiError>>);
    // A refused pick is shown beside the picks, which stay as the user left them.
    let pick_error = RwSignal::new(None::<ApiError>);
    let sync = SyncDraft::here();
    // Without picks the server suggests; with them (from the suggestion's candidates) it
    // writes exactly those.
    let suggest = Callback::new({
        let name = name.clone();
        move |picks: Vec<ExceptionPick>| {
            let Ok(window) = pick.window() else { return };
            SyncDraft::run(sync);
            let req = SuggestExceptionRequest {
                rules: text.get_untracked(),
                rule: name.clone(),
                base: Base::Live,
                window,
                picks,
            };
            let repick = !req.picks.is_empty();
            spawn_local(async move {
                match client::call::<calls::SuggestException>(&(), &(), &req).await {
                    Err(e) if repick => pick_error.set(Some(e)),
                    answer => {
                        pick_error.set(None);
                        suggestion.set(Some(answer));
                    }
                }
            });
        }
    });
    let samples = rule.samples.clone();
    let sample_rule = name.clone();
    let group_by_of = group_by.get_untracked();
    view! {
        <article class="preview-rule" id=format!("preview-rule-{index}") data-testid="preview-rule" data-rule=name.clone() aria-label=format!("Preview of {name}")>
            <h3>{name.clone()}" "<small data-testid="preview-action">{action_badge(rule.action)}</small></h3>
            {rule_counts(&rule, "preview")}
            {shadowing(&rule)}
            {rule_histogram(&rule, "preview")}
            {(!rule.groups.is_empty()).then(|| view! {
                <table class="groups" data-testid="preview-groups">
                    <thead><tr><th scope="col">{group_by_of.clone()}</th><th scope="col">"Matches"</th></tr></thead>
                    <tbody>
                        {rule.groups.iter().map(|g| view! { <tr data-testid="preview-group" data-count=g.count><td>{g.key.clone()}</td><td>{g.count}</td></tr> }).collect_view()}
                        {(rule.groups_other > 0).then(|| view! {
                            <tr data-testid="preview-group-other"><td class="muted">"Other groups"</td><td>{rule.groups_other}</td></tr>
                        })}
                    </tbody>
                </table>
            })}
            <ChangeSamples title="Samples of what the change adds" testid="preview-added-sample" samples=rule.added_samples.clone() />
            <ChangeSamples title="Samples of what the change removes (the live rule's output)" testid="preview-removed-sample" samples=rule.removed_samples.clone() />
            <div class="row">
                <button on:click=move |_| suggest.run(Vec::new()) data-testid="suggest-exception" disabled=rule.matched == 0>"Suggest exception"</button>
            </div>
            {move || suggestion.get().map(|s| match s {
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                Ok(s) => view! { <Suggestion s=s scope=index.to_string() on_pick=suggest pick_error=pick_error on_apply=on_apply /> }.into_any(),
            })}
            <h4>"Samples"</h4>
            {samples.is_empty().then(|| view! { <p class="muted">"No matching events in this window."</p> })}
            <ul class="samples">
                {move || samples.iter().map(|s| {
                    let label = labels.with(|ls| effective_label(ls, &s.event_id, Some(&sample_rule)));
                    view! { <SampleRow sample=s.clone() rule=sample_rule.clone() label=label add_test=add_test rerun=rerun /> }
                }).collect_view()}
            </ul>
        </article>
    }
}

/// Samples of the matches a change adds or removes (versus the live rule, or by a suggested
/// exception), when there are any.
#[component]
pub fn ChangeSamples(
    title: &'static str,
    /// The test id of each sample.
    testid: &'static str,
    samples: Vec<Sample>,
) -> impl IntoView {
    (!samples.is_empty()).then(|| {
        view! {
            <details class="samples-box" open>
                <summary>{format!("{title} ({})", samples.len())}</summary>
                <ul class="samples">
                    {samples.into_iter().map(|s| view! {
                        <li data-testid=testid data-event-id=s.event_id.clone()>
                            <span class="time">{format_ns(s.time)}</span>
                            <code class="output">{s.output.clone()}</code>
                            <a href=crate::pages::events::event_href(&s.event_id)>"event"</a>
                        </li>
                    }).collect_view()}
                </ul>
            </details>
        }
    })
}

#[component]
fn SampleRow(
    /// The matched event.
    sample: Sample,
    /// The rule it matched.
    rule: String,
    /// Its current label for the rule.
    label: Option<String>,
    /// Adds a rule test.
    add_test: Callback<TestCase>,
    /// Runs the preview again (after labelling).
    rerun: Callback<()>,
) -> impl IntoView {
    let added = RwSignal::new(false);
    // A benign match is one the rule should stop matching; anything else it should keep.
    let expect = if label.as_deref() == Some("benign") {
        Expect::NoMatch
    } else {
        Expect::Match
    };
    let case = TestCase {
        name: Some(format!(
            "event {} ({})",
            sample.event_id,
            label.as_deref().unwrap_or("unlabelled")
        )),
        rule: rule.clone(),
        event: sample.fields.clone(),
        expect,
    };
    let shown_label = label.clone().unwrap_or_default();
    let add_label = match expect {
        Expect::Match => "Add as test: must match",
        Expect::NoMatch => "Add as test: must not match",
    };
    view! {
        <li data-testid="preview-sample" data-event-id=sample.event_id.clone() data-label=shown_label>
            <span class="time">{format_ns(sample.time)}</span>
            <code class="output">{sample.output.clone()}</code>
            <div class="sample-actions">
                <LabelButtons event_id=sample.event_id.clone() rule=Some(rule) current=label on_done=rerun />
                <button class="link" data-testid="sample-add-test" disabled=added
                    on:click=move |_| { add_test.run(case.clone()); added.set(true); }>
                    {move || if added.get() { "Added to tests" } else { add_label }}
                </button>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_result_without_some_nodes_says_it_is_partial() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let whole = Nodes {
            answered: names(&["a", "b"]),
            ..Nodes::default()
        };
        assert_eq!(partial_notice(&whole), None);
        let partial = Nodes {
            answered: names(&["a"]),
            missing: names(&["b"]),
            offline: names(&["c"]),
            incomplete: Vec::new(),
        };
        assert_eq!(
            partial_notice(&partial).as_deref(),
            Some("Partial result: 1 of 3 nodes answered (no answer from b; offline: c).")
        );
    }
}
