//! What the change would do, as the server computed it: each changed rule's matches on stored
//! events against its live version, the live rules it removes, the lint of the resulting live
//! set with places, and the rule tests.

use super::Action;
use super::changes::DiffRows;
use crate::client::{Evidence, RemovedRule, RulePreview, Sample, Window};
use crate::widgets::{
    TestResults, action_badge, format_ns, rule_counts, rule_histogram, shadowing,
};
use crate::window_pick::{KEEP, WindowPick, WindowRange, WindowSelect};
use leptos::prelude::*;
use rulestudio_api::diagnostic::DiagnosticJson;
use rulestudio_api::time::Timestamp;

/// The window in words: "the last 10000 stored events", "stored events from … to …".
fn describe_window(w: &Window) -> String {
    let at = |t: &Option<Timestamp>| match t {
        Some(Timestamp::Nanos(ns)) => Some(format_ns(*ns)),
        Some(Timestamp::Text(s)) => Some(s.clone()),
        None => None,
    };
    match w {
        Window::LastEvents { last_events } => {
            format!("the last {} stored events", thousands(*last_events))
        }
        Window::Range { since, until } => match (at(since), at(until)) {
            (Some(s), Some(u)) => format!("stored events from {s} to {u}"),
            (Some(s), None) => format!("stored events since {s}"),
            (None, Some(u)) => format!("stored events before {u}"),
            (None, None) => "every stored event".into(),
        },
    }
}

/// `100000` as `100,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[component]
pub fn EvidenceView(
    /// The evidence of the current revision.
    evidence: Evidence,
    /// The diff, to link diagnostics to the lines it shows.
    rows: DiffRows,
    /// The signed-in user may compute it again.
    can_refresh: bool,
    /// Asks the server to compute it again.
    act: Callback<Action>,
    /// An action is running.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let e = evidence;
    let pick = WindowPick::new(KEEP);
    let invalid = RwSignal::new(None::<&'static str>);
    let refresh = move |_| match pick.window() {
        Ok(window) => {
            invalid.set(None);
            act.run(Action::RefreshEvidence(window));
        }
        Err(why) => invalid.set(Some(why)),
    };
    let summary = format!(
        "Computed {} against live version {}, over {}: {} events scanned.",
        format_ns(e.computed_at),
        e.live_version,
        describe_window(&e.window),
        thousands(e.scanned)
    );
    let failed = e.tests.iter().filter(|t| !t.passed).count();
    let tests_total = e.tests.len();
    let headline = [
        (
            "Changed rules",
            e.rules.len().to_string(),
            "evidence-changed",
            "",
        ),
        (
            "Removed rules",
            e.removed_rules.len().to_string(),
            "evidence-removed-count",
            "",
        ),
        (
            "Lint errors",
            e.errors.to_string(),
            "evidence-errors",
            if e.errors > 0 { "bad" } else { "" },
        ),
        (
            "Lint warnings",
            e.warnings.to_string(),
            "evidence-warnings",
            if e.warnings > 0 { "warn" } else { "" },
        ),
        (
            "Rule tests failing",
            format!("{failed} of {tests_total}"),
            "evidence-tests-failing",
            if failed > 0 { "bad" } else { "" },
        ),
    ];
    view! {
        <section id="evidence" aria-labelledby="evidence-h" data-testid="proposal-evidence">
            <div class="pane-head">
                <h2 id="evidence-h">"Evidence"</h2>
                {can_refresh.then(|| view! {
                    <div class="preview-controls window-controls">
                        <WindowSelect pick=pick prefix="evidence" keep="Same window" />
                        <button data-testid="evidence-refresh" disabled=busy on:click=refresh>"Refresh evidence"</button>
                    </div>
                })}
            </div>
            {can_refresh.then(|| view! { <WindowRange pick=pick prefix="evidence" /> })}
            {move || invalid.get().map(|why| view! { <p class="error" role="alert">{why}</p> })}
            <p class="muted" data-testid="evidence-summary">{summary}</p>
            <dl class="counts headline">
                {headline.into_iter().map(|(term, value, id, class)| view! {
                    <div class=class><dt>{term}</dt><dd data-testid=id>{value}</dd></div>
                }).collect_view()}
            </dl>
            {(e.scanned == 0).then(|| view! {
                <p class="empty">"No stored events in the window, so nothing could match: start a collector or ingest events, then refresh the evidence."</p>
            })}
            <h3>"Changed rules versus live"</h3>
            {if e.rules.is_empty() {
                view! { <p class="muted">"No rule's effective definition changes (condition after macros, lists and exceptions, output, priority, tags)."</p> }.into_any()
            } else {
                e.rules.into_iter().map(|r| view! { <ChangedRule rule=r /> }).collect_view().into_any()
            }}
            {(!e.removed_rules.is_empty()).then(|| view! { <RemovedRules rules=e.removed_rules /> })}
            <h3>"Lint of the resulting live set"</h3>
            <Diagnostics diagnostics=e.diagnostics rows=rows />
            <h3>"Rule tests"</h3>
            {if e.tests.is_empty() {
                view! { <p class="muted">"No rule tests travel with this proposal. Add tests in the editor's Tests tab before proposing."</p> }.into_any()
            } else {
                view! { <div data-testid="evidence-tests"><TestResults results=e.tests /></div> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ChangedRule(
    /// One changed rule's preview.
    rule: RulePreview,
) -> impl IntoView {
    let name = rule.name.clone();
    let samples = rule.samples.clone();
    view! {
        <article class="evidence-rule" data-testid="evidence-rule" data-rule=name.clone() aria-label=format!("Evidence for {name}")>
            <h4>{name.clone()}" "<small data-testid="evidence-action">{action_badge(rule.action)}</small></h4>
            {rule_counts(&rule, "evidence")}
            {shadowing(&rule)}
            {rule_histogram(&rule, "evidence")}
            {if samples.is_empty() {
                view! { <p class="muted">"No matching events in the window."</p> }.into_any()
            } else {
                view! {
                    <details class="samples-box">
                        <summary>{format!("Sample matches ({})", samples.len())}</summary>
                        <ul class="samples">{samples.into_iter().map(sample).collect_view()}</ul>
                    </details>
                }.into_any()
            }}
        </article>
    }
}

fn sample(s: Sample) -> impl IntoView {
    view! {
        <li data-testid="evidence-sample">
            <span class="time">{format_ns(s.time)}</span>
            <code class="output">{s.output}</code>
            <div class="sample-actions"><a href=format!("/events?id={}", s.event_id)>{format!("Event {}", s.event_id)}</a></div>
        </li>
    }
}

#[component]
fn RemovedRules(
    /// Live rules the change deletes or disables.
    rules: Vec<RemovedRule>,
) -> impl IntoView {
    view! {
        <h3>"Live rules this change removes"</h3>
        <table class="list removed-rules" data-testid="evidence-removed">
            <thead><tr><th scope="col">"Rule"</th><th scope="col" class="num">"Matched while live (same window)"</th></tr></thead>
            <tbody>
                {rules.into_iter().map(|r| view! {
                    <tr data-rule=r.name.clone()><td>{r.name.clone()}</td><td class="num removed">{format!("−{}", r.live_matched)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Diagnostics(
    /// The lint of the whole resulting live set.
    diagnostics: Vec<DiagnosticJson>,
    /// The diff, to link a problem to its line when the diff shows it.
    rows: DiffRows,
) -> impl IntoView {
    if diagnostics.is_empty() {
        return view! { <p class="ok" data-testid="evidence-no-diagnostics">"No problems: the resulting live set loads cleanly."</p> }.into_any();
    }
    view! {
        <ul class="diagnostics evidence-diagnostics" aria-label="Problems in the resulting live set">
            {diagnostics.into_iter().map(|d| {
                let place = format!("{}:{}:{}", d.file, d.line, d.column);
                let place = match rows.anchor(&d.file, d.line) {
                    Some(id) => view! { <a href=format!("#{id}")>{place}</a> }.into_any(),
                    None => view! { <span>{place}</span> }.into_any(),
                };
                let within = d.item_name.as_ref().map(|n| format!(" in {} '{n}'", d.item_type.as_deref().unwrap_or("item")));
                view! {
                    <li data-testid="evidence-diagnostic" class=format!("diag {}", d.severity.as_str()) data-code=d.code.clone()>
                        {place}
                        <span class="sev">{d.severity.as_str()}</span>
                        {d.message.clone()}{within}
                        <span class="code-id">{d.code.clone()}</span>
                        {d.help.map(|h| view! { <div class="help">{h}</div> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
