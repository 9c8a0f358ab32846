//! The preview panel beside the editor: what the draft would match on recent stored events,
//! versus the live set, with false-positive counts, samples to label and exception suggestions.

use crate::client::{
    self, ApiError, Base, PreviewRequest, PreviewResponse, RulePreview, SuggestExceptionRequest,
    SuggestExceptionResponse, Window,
};
use crate::widgets::{ErrorBox, Histogram, LabelButtons, format_ns};
use leptos::prelude::*;
use leptos::task::spawn_local;

const WINDOWS: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

#[component]
pub fn PreviewPanel(
    /// The draft rules text.
    text: RwSignal<String>,
    /// Replaces the draft text (applying a suggested exception).
    on_apply: Callback<String>,
) -> impl IntoView {
    let window = RwSignal::new(WINDOWS[1]);
    let result = RwSignal::new(None::<Result<PreviewResponse, ApiError>>);
    let running = StoredValue::new(None::<web_sys::AbortController>);
    let busy = RwSignal::new(false);

    let run = move || {
        if let Some(c) = running.get_value() {
            c.abort();
        }
        let Ok(controller) = web_sys::AbortController::new() else { return };
        let signal = controller.signal();
        running.set_value(Some(controller));
        busy.set(true);
        let req = PreviewRequest {
            rules: text.get_untracked(),
            base: Base::Live,
            window: Some(Window::LastEvents { last_events: window.get_untracked() }),
            samples: Some(20),
            group_by: vec!["proc.name".to_string()],
        };
        spawn_local(async move {
            let r = client::post_abortable::<_, PreviewResponse>("/preview", &req, &signal).await;
            if !signal.aborted() {
                result.set(Some(r));
                busy.set(false);
                running.set_value(None);
            }
        });
    };
    let cancel = move |_| {
        if let Some(c) = running.get_value() {
            c.abort();
        }
        running.set_value(None);
        busy.set(false);
    };

    view! {
        <section class="preview-pane" aria-label="Preview">
            <div class="pane-head">
                <h2>"Preview"</h2>
                <label for="preview-window">"Window"</label>
                <select id="preview-window" on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse() { window.set(n) }
                }>
                    {WINDOWS.iter().map(|&n| view! {
                        <option value=n.to_string() selected=move || window.get() == n>{format!("last {n} events")}</option>
                    }).collect_view()}
                </select>
                <button class="primary" data-testid="preview-run" on:click=move |_| run() disabled=busy>
                    {move || if busy.get() { "Running…" } else { "Run preview" }}
                </button>
                <Show when=move || busy.get()>
                    <button on:click=cancel data-testid="preview-cancel">"Cancel"</button>
                    <progress aria-label="Preview running"></progress>
                </Show>
            </div>
            {move || match result.get() {
                None => view! { <p class="muted">"Run the preview to see what the draft matches on recent events."</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
                Some(Ok(r)) => {
                    let summary = format!("Scanned {} events in {} ms.", r.scanned, r.took_ms);
                    let rules = r.rules.clone();
                    view! {
                        <p class="muted" data-testid="preview-summary">{summary}</p>
                        {r.diagnostics.iter().map(|d| view! { <p class=format!("diag {}", d.severity)>{format!("{}:{} {}", d.line, d.column, d.message)}</p> }).collect_view()}
                        {if rules.is_empty() { Some(view! { <p class="muted">"The draft defines no rule."</p> }) } else { None }}
                        {rules.into_iter().map(|rule| view! { <RuleResult rule=rule text=text window=window on_apply=on_apply rerun=Callback::new(move |_| run()) /> }).collect_view()}
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn RuleResult(
    /// One rule of the preview answer.
    rule: RulePreview,
    /// The draft, sent again for exception suggestions.
    text: RwSignal<String>,
    /// The selected window.
    window: RwSignal<u64>,
    /// Replaces the draft text.
    on_apply: Callback<String>,
    /// Runs the preview again (after labelling).
    rerun: Callback<()>,
) -> impl IntoView {
    let name = rule.name.clone();
    let suggestion = RwSignal::new(None::<Result<SuggestExceptionResponse, ApiError>>);
    let suggest = {
        let name = name.clone();
        move |_| {
            let req = SuggestExceptionRequest {
                rules: text.get_untracked(),
                rule: name.clone(),
                base: Base::Live,
                window: Some(Window::LastEvents { last_events: window.get_untracked() }),
            };
            spawn_local(async move {
                suggestion.set(Some(client::post("/preview/suggest-exception", &req).await));
            });
        }
    };
    let sample_rule = name.clone();
    view! {
        <article class="preview-rule" data-testid="preview-rule" data-rule=name.clone()>
            <h3>{name.clone()}</h3>
            <dl class="counts">
                <div><dt>"Matched"</dt><dd data-testid="preview-matched">{rule.matched}</dd></div>
                <div><dt>"False positives"</dt><dd data-testid="preview-fp">{rule.false_positives}</dd></div>
                <div><dt>"True positives"</dt><dd data-testid="preview-tp">{rule.true_positives}</dd></div>
                <div><dt>"Unlabeled"</dt><dd>{rule.unlabeled}</dd></div>
                <div><dt>"Live"</dt><dd>{rule.live_matched}</dd></div>
                <div><dt>"Added"</dt><dd class="added">{format!("+{}", rule.added)}</dd></div>
                <div><dt>"Removed"</dt><dd class="removed">{format!("−{}", rule.removed)}</dd></div>
            </dl>
            {(!rule.shadowed_by.is_empty()).then(|| view! {
                <p class="warn">{format!("Shadowed under first-match by: {}", rule.shadowed_by.join(", "))}</p>
            })}
            {(!rule.histogram.is_empty()).then(|| view! { <Histogram buckets=rule.histogram.clone() /> })}
            {(!rule.groups.is_empty()).then(|| view! {
                <table class="groups">
                    <thead><tr><th scope="col">"proc.name"</th><th scope="col">"Matches"</th></tr></thead>
                    <tbody>
                        {rule.groups.iter().map(|g| view! { <tr><td>{g.key.clone()}</td><td>{g.count}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            })}
            <div class="row">
                <button on:click=suggest data-testid="suggest-exception">"Suggest exception"</button>
            </div>
            {move || suggestion.get().map(|s| match s {
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                Ok(s) => {
                    let after = format!(
                        "With it: {} matched (was {}), {} false positives (was {})",
                        s.after.matched, s.before.matched, s.after.false_positives, s.before.false_positives
                    );
                    let to_apply = s.rules.clone();
                    view! {
                        <div class="suggestion">
                            <pre>{s.yaml.clone()}</pre>
                            <p class="muted">{after}</p>
                            <button data-testid="apply-exception" on:click=move |_| on_apply.run(to_apply.clone())>"Apply"</button>
                        </div>
                    }.into_any()
                }
            })}
            <h4>"Samples"</h4>
            {if rule.samples.is_empty() { Some(view! { <p class="muted">"No matching events in this window."</p> }) } else { None }}
            <ul class="samples">
                {rule.samples.into_iter().map(|s| {
                    let rule_name = sample_rule.clone();
                    view! {
                        <li data-testid="preview-sample" data-event-id=s.event_id>
                            <span class="time">{format_ns(s.time)}</span>
                            <code class="output">{s.output.clone()}</code>
                            <LabelButtons event_id=s.event_id rule=Some(rule_name) current=None on_done=rerun />
                        </li>
                    }
                }).collect_view()}
            </ul>
        </article>
    }
}

