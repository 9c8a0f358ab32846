//! Small shared view pieces: error boxes, the time histogram, a rule's preview counts, rule test
//! results, label buttons and label look-ups, time formatting and parsing, the confirmation
//! dialog.

use crate::client::query::LabelsQuery;
use crate::client::{self, ApiError, Label, LabelRequest, RulePreview, calls};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rulestudio_api::action::Action;
use rulestudio_api::ruletest::TestResult;
use serde_json::Value;

/// An API error as the user should read it, with the server's diagnostics listed.
#[component]
pub fn ErrorBox(
    /// The error to show.
    error: ApiError,
) -> impl IntoView {
    let diags = error.diagnostics().to_vec();
    view! {
        <div class="error" role="alert">
            <strong>{error.to_string()}</strong>
            <ul>
                {diags
                    .into_iter()
                    .map(|d| view! { <li>{format!("{}:{}: {} [{}]", d.line, d.column, d.message, d.code)}</li> })
                    .collect_view()}
            </ul>
        </div>
    }
}

/// Renders `Option<Result<T, ApiError>>` from a resource: loading, error, or `ok(value)`.
pub fn loaded<T: Clone + 'static, V: IntoView + 'static>(
    state: Option<Result<T, ApiError>>,
    ok: impl FnOnce(T) -> V,
) -> AnyView {
    match state {
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
        Some(Ok(v)) => ok(v).into_any(),
    }
}

fn format_ms(ms: f64) -> Option<String> {
    if !ms.is_finite() {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    ))
}

/// Nanoseconds since the epoch (`evt.time`, API timestamps) as local `YYYY-MM-DD HH:MM:SS`.
pub fn format_ns(ns: i64) -> String {
    format_ms(ns as f64 / 1e6).unwrap_or_else(|| ns.to_string())
}

/// An RFC 3339 time (alerts, as Falco prints them) in the same local format.
pub fn format_rfc3339(t: &str) -> String {
    format_ms(js_sys::Date::parse(t)).unwrap_or_else(|| t.to_string())
}

/// A JSON field value as plain text (strings without quotes).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Counts over time as SVG bars, with the count axis (0 and the largest) on the left and the
/// time axis (start, middle, end) below. `buckets` are `(start, count)` of equal width in time
/// order, the last one ending at `until`. Test ids: `{prefix}-histogram`, `{prefix}-bucket`
/// (with `data-count`), `{prefix}-axis-max`, `{prefix}-axis-time`.
#[component]
pub fn TimeHistogram(
    buckets: Vec<(i64, u64)>,
    until: i64,
    prefix: &'static str,
    /// What is counted, for the chart's accessible name ("Alerts", "Matches").
    what: &'static str,
) -> impl IntoView {
    const W: f64 = 640.0;
    const H: f64 = 140.0;
    // Room for the count labels on the left and the time labels below.
    const LEFT: f64 = 44.0;
    const BOTTOM: f64 = 20.0;
    let plot_w = W - LEFT - 4.0;
    let plot_h = H - BOTTOM - 6.0;
    let max = buckets.iter().map(|b| b.1).max().unwrap_or(0);
    let scale = max.max(1) as f64;
    let n = buckets.len().max(1) as f64;
    let bw = plot_w / n;
    let start = buckets.first().map_or(until, |b| b.0);
    // Within a few hours: hours and minutes; longer (a day's ends share their time): the date too.
    let short = until - start <= 6 * 3600 * 1_000_000_000;
    let label = move |ns: i64| {
        let t = format_ns(ns);
        let range = if short { 11..16 } else { 5..16 };
        t.get(range).map_or_else(|| t.clone(), str::to_string)
    };
    let ticks = [
        (start, "start"),
        (start + (until - start) / 2, "middle"),
        (until, "end"),
    ];
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, &(t, count))| {
            let h = count as f64 / scale * plot_h;
            let title = format!("{}: {count}", format_ns(t));
            view! {
                <rect data-testid=format!("{prefix}-bucket") data-count=count x=LEFT + i as f64 * bw y=6.0 + plot_h - h
                    width=(bw - 1.0).max(0.5) height=h>
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="time-histogram" data-testid=format!("{prefix}-histogram") viewBox=format!("0 0 {W} {H}") role="img"
            aria-label=format!("{what} over time: at most {max} per bar")>
            <line class="axis" x1=LEFT y1=6.0 x2=LEFT y2=6.0 + plot_h />
            <line class="axis" x1=LEFT y1=6.0 + plot_h x2=W - 4.0 y2=6.0 + plot_h />
            <text class="tick" data-testid=format!("{prefix}-axis-max") x=LEFT - 4.0 y=12.0 text-anchor="end">{max}</text>
            <text class="tick" x=LEFT - 4.0 y=6.0 + plot_h text-anchor="end">"0"</text>
            {ticks.into_iter().map(|(t, which)| {
                let x = LEFT + (t - start) as f64 / (until - start).max(1) as f64 * plot_w;
                let anchor = match which { "start" => "start", "end" => "end", _ => "middle" };
                view! { <text class="tick" data-testid=format!("{prefix}-axis-time") x=x y=H - 4.0 text-anchor=anchor>{label(t)}</text> }
            }).collect_view()}
            {bars}
        </svg>
    }
}

/// A rule's matches over the preview window, when it has any. Test ids `{prefix}-histogram`…
pub fn rule_histogram(rule: &RulePreview, prefix: &'static str) -> Option<impl IntoView + use<>> {
    (!rule.histogram.is_empty()).then(|| {
        let buckets = rule.histogram.iter().map(|b| (b.t, b.count)).collect();
        view! { <TimeHistogram buckets=buckets until=rule.histogram_until prefix=prefix what="Matches" /> }
    })
}

/// What a rule matched on a window: matched, split into false positives, true positives and
/// unlabeled, and versus the live rule of the same name. The counts carry the test ids
/// `{prefix}-matched`, `-fp`, `-tp`, `-unlabeled`, `-live`, `-added` and `-removed`.
pub fn rule_counts(rule: &RulePreview, prefix: &str) -> impl IntoView + use<> {
    let counts = [
        ("Matched", "matched", "", rule.matched.to_string()),
        (
            "False positives",
            "fp",
            "",
            rule.false_positives.to_string(),
        ),
        ("True positives", "tp", "", rule.true_positives.to_string()),
        ("Unlabeled", "unlabeled", "", rule.unlabeled.to_string()),
        ("Live", "live", "", rule.live_matched.to_string()),
        ("Added", "added", "added", format!("+{}", rule.added)),
        (
            "Removed",
            "removed",
            "removed",
            format!("−{}", rule.removed),
        ),
    ];
    let prefix = prefix.to_string();
    view! {
        <dl class="counts">
            {counts.into_iter().map(|(term, id, class, value)| view! {
                <div><dt>{term}</dt><dd class=class data-testid=format!("{prefix}-{id}")>{value}</dd></div>
            }).collect_view()}
        </dl>
    }
}

/// A rule's action (alert, audit, dry run, enforce) as a badge, with what it means as its title.
pub fn action_badge(action: Action) -> impl IntoView + use<> {
    view! {
        <span class=format!("action action-{}", action.as_str()) title=action.describe() data-action=action.as_str()>
            {action.as_str().replace('_', " ")}
        </span>
    }
}

/// The rules that fire first on some of `rule`'s matches under Falco's `rule_matching: first`.
pub fn shadowing(rule: &RulePreview) -> Option<impl IntoView + use<>> {
    (!rule.shadowed_by.is_empty()).then(|| {
        let text = format!(
            "Shadowed under first-match by: {}",
            rule.shadowed_by.join(", ")
        );
        view! { <p class="warn" data-testid="shadowed-by">{text}</p> }
    })
}

/// Rule test outcomes: a summary line (`tests-summary`) and one entry per test (`test-result`,
/// `data-status` pass or fail) with why it failed.
#[component]
pub fn TestResults(
    /// The outcomes, in the order of the tests file.
    results: Vec<TestResult>,
) -> impl IntoView {
    let failed = results.iter().filter(|r| !r.passed).count();
    let summary = format!("{} passed, {failed} failed", results.len() - failed);
    view! {
        <p role="status" class=if failed == 0 { "ok" } else { "error-inline" } data-testid="tests-summary">{summary}</p>
        <ul class="test-results">
            {results.into_iter().map(|r| {
                let status = if r.passed { "pass" } else { "fail" };
                view! {
                    <li data-testid="test-result" data-status=status class=status>
                        <strong>{if r.passed { "PASS" } else { "FAIL" }}</strong>
                        " "{r.name}" "<span class="muted">{format!("(rule “{}”)", r.rule)}</span>
                        {r.message.map(|m| view! { <div class="why-failed">{m}</div> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Benign / malicious / clear buttons for one event; `on_done` runs after the label is stored.
#[component]
pub fn LabelButtons(
    /// The event to label (`NODE:INCARNATION:SEQ`).
    event_id: String,
    /// The rule the label is about, when labelling a rule's match.
    rule: Option<String>,
    /// The current label, to show which one is set.
    current: Option<String>,
    /// Called after the server stored the label.
    #[prop(optional, into)]
    on_done: Option<Callback<()>>,
) -> impl IntoView {
    let label = RwSignal::new(current);
    let error = RwSignal::new(None::<ApiError>);
    let set = move |value: &'static str| {
        let rule = rule.clone();
        let event_id = event_id.clone();
        spawn_local(async move {
            let req = LabelRequest {
                label: value.to_string(),
                rule,
                note: None,
            };
            match client::call::<calls::LabelEvent>(&event_id, &(), &req).await {
                Ok(_) => {
                    label.set((value != "clear").then(|| value.to_string()));
                    error.set(None);
                    if let Some(cb) = on_done {
                        cb.run(());
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let pressed = move |v: &str| label.with(|l| l.as_deref() == Some(v)).to_string();
    let set_b = set.clone();
    let set_m = set.clone();
    view! {
        <span class="labels" role="group" aria-label="Label this event">
            <button class="benign" data-testid="label-benign" aria-pressed=move || pressed("benign") on:click=move |_| set_b("benign")>
                "Benign"
            </button>
            <button class="malicious" data-testid="label-malicious" aria-pressed=move || pressed("malicious") on:click=move |_| set_m("malicious")>
                "Malicious"
            </button>
            <button class="link" data-testid="label-clear" on:click=move |_| set("clear")>"Clear"</button>
            {move || error.get().map(|e| view! { <span class="error-inline">{e.to_string()}</span> })}
        </span>
    }
}

/// The label that applies to `event_id` for `rule` (as preview counts it): one given for the
/// rule wins over one given for every rule. `rule` None: the every-rule label only.
pub fn effective_label(labels: &[Label], event_id: &str, rule: Option<&str>) -> Option<String> {
    let of_event = || labels.iter().filter(|l| l.event_id == event_id);
    rule.and_then(|r| of_event().find(|l| l.rule.as_deref() == Some(r)))
        .or_else(|| of_event().find(|l| l.rule.is_none()))
        .map(|l| l.label.clone())
}

/// Where an event id (`NODE:INCARNATION:SEQ`) sorts: by incarnation, then sequence (one
/// server's ids share the node). An id that does not read so sorts first.
pub fn id_order(id: &str) -> (u64, u64) {
    let mut parts = id.rsplitn(3, ':');
    let seq = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let incarnation = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (incarnation, seq)
}

/// The stored labels of `ids` (one request).
pub async fn fetch_labels(ids: &[String]) -> Result<Vec<Label>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = LabelsQuery {
        events: ids.join(","),
    };
    client::call::<calls::ListLabels>(&(), &query, &())
        .await
        .map(|l| l.labels)
}

/// A `<input type="datetime-local">` value (local time, no zone) as RFC 3339 in UTC, which
/// the API accepts for `since` and `until`; None when blank or not a time.
pub fn local_input_to_rfc3339(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value));
    d.get_time()
        .is_finite()
        .then(|| String::from(d.to_iso_string()))
}

/// Nanoseconds since the epoch as a `datetime-local` value, to pre-fill time inputs.
pub fn ns_to_local_input(ns: i64) -> String {
    format_ns(ns).replacen(' ', "T", 1)
}

/// A modal dialog that confirms a consequential action (promote, roll back) and asks why: the
/// action runs only with a reason, which the server keeps in the audit trail. `testid` names
/// the dialog; its parts are `confirm-reason`, `confirm-ok` and `confirm-cancel`.
#[component]
pub fn ConfirmReason(
    /// Shown while true; cancelling or confirming sets it false.
    open: RwSignal<bool>,
    /// The question.
    title: String,
    /// What will happen.
    detail: String,
    /// The confirm button's text.
    confirm: &'static str,
    testid: &'static str,
    /// Runs the action with the reason given.
    on_confirm: Callback<String>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let title_id = format!("{testid}-title");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = reason.get_untracked().trim().to_string();
        if !r.is_empty() {
            open.set(false);
            reason.set(String::new());
            on_confirm.run(r);
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop">
                <form class="modal card" role="dialog" aria-modal="true" aria-labelledby=title_id.clone()
                    data-testid=testid on:submit=submit
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { open.set(false) }>
                    <h2 id=title_id.clone()>{title.clone()}</h2>
                    <p>{detail.clone()}</p>
                    <label for=format!("{testid}-reason")>"Reason (kept in the audit trail)"</label>
                    <textarea id=format!("{testid}-reason") data-testid="confirm-reason" rows="3" required autofocus
                        prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    <div class="row">
                        <button type="submit" class="primary" data-testid="confirm-ok"
                            disabled=move || reason.with(|r| r.trim().is_empty())>{confirm}</button>
                        <button type="button" data-testid="confirm-cancel" on:click=move |_| open.set(false)>"Cancel"</button>
                    </div>
                </form>
            </div>
        </Show>
    }
}
