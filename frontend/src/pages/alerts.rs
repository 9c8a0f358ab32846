//! Alerts of the live set: the latest ones, then new ones as they stream in (SSE).

use crate::client::{self, Alert, AlertPage, ApiError};
use crate::pages::editor::edit_href;
use crate::sse;
use crate::widgets::{ErrorBox, format_rfc3339};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How many alerts the page keeps; older ones fall off as new ones stream in.
const KEEP: usize = 500;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let alerts = RwSignal::new(Vec::<Alert>::new());
    let error = RwSignal::new(None::<ApiError>);
    let connected = RwSignal::new(false);
    let rule = RwSignal::new(String::new());
    let priority = RwSignal::new(String::new());
    let container = RwSignal::new(String::new());

    spawn_local(async move {
        match client::get::<AlertPage>("/alerts?limit=100").await {
            Ok(page) => alerts.update(|a| {
                // Keep anything the stream delivered meanwhile on top.
                a.extend(page.alerts);
                a.truncate(KEEP);
            }),
            Err(e) => error.set(Some(e)),
        }
    });
    sse::subscribe(
        "/api/v1/alerts/stream",
        &["alert"],
        move |_, data| {
            if let Ok(alert) = serde_json::from_str::<Alert>(&data) {
                alerts.update(|a| {
                    a.insert(0, alert);
                    a.truncate(KEEP);
                });
            }
        },
        move |up| connected.set(up),
    );

    let shown = move || {
        let (r, p, c) = (
            rule.get().to_lowercase(),
            priority.get(),
            container.get().to_lowercase(),
        );
        alerts.with(|all| {
            all.iter()
                .filter(|a| r.is_empty() || a.rule.to_lowercase().contains(&r))
                .filter(|a| p.is_empty() || a.priority.eq_ignore_ascii_case(&p))
                .filter(|a| {
                    c.is_empty()
                        || a.output_fields.iter().any(|(k, v)| {
                            k.starts_with("container.") && v.to_string().to_lowercase().contains(&c)
                        })
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="page">
            <div class="pane-head">
                <h1>"Alerts"</h1>
                <span class=move || if connected.get() { "status up" } else { "status down" } data-testid="alerts-stream-status">
                    {move || if connected.get() { "Streaming" } else { "Not connected" }}
                </span>
            </div>
            <div class="filters">
                <label for="alerts-rule">"Rule"</label>
                <input id="alerts-rule" prop:value=rule on:input=move |ev| rule.set(event_target_value(&ev)) />
                <label for="alerts-priority">"Priority"</label>
                <select id="alerts-priority" on:change=move |ev| priority.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {rulestudio_engine::rule::Priority::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> }).collect_view()}
                </select>
                <label for="alerts-container">"Container"</label>
                <input id="alerts-container" prop:value=container on:input=move |ev| container.set(event_target_value(&ev)) />
            </div>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || {
                let list = shown();
                if list.is_empty() {
                    return view! { <p class="empty">"No alerts yet. They appear here as soon as an ingested event matches the live set."</p> }.into_any();
                }
                view! {
                    <ul class="alerts" data-testid="alerts-list">
                        {list.into_iter().map(|a| view! {
                            <li data-testid="alert" data-rule=a.rule.clone()>
                                <span class="time">{format_rfc3339(&a.time)}</span>
                                <span class=format!("prio prio-{}", a.priority.to_lowercase())>{a.priority.clone()}</span>
                                <a class="rule" href=edit_href(&a.rule)>{a.rule.clone()}</a>
                                <code class="output">{a.output.clone()}</code>
                                <a href=format!("/events?id={}", client::enc(&a.event_id))>{format!("event {}", a.event_id)}</a>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
