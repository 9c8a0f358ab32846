//! Alerts of the live set: how many over a chosen window (a histogram with a time axis and
//! counts, and the largest groups by rule, priority, node or triage state), then the latest
//! alerts with their triage state and buttons to change it; new ones stream in (SSE).

use crate::client::Role;
use crate::client::calls;
use crate::client::query::{AlertSummaryQuery, AlertsQuery};
use crate::client::{
    self, Alert, AlertSummary, ApiError, GroupBy, Priority, TriageRequest, TriageState,
};
use crate::pages::editor::edit_href;
use crate::session;
use crate::sse;
use crate::widgets::{ErrorBox, TimeHistogram, format_rfc3339, loaded};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How many alerts the page keeps; older ones fall off as new ones stream in.
const KEEP: usize = 500;
/// The windows the counts can span: `since` as the API takes it, and its label.
const WINDOWS: [(&str, &str); 4] = [
    ("-1h", "Last hour"),
    ("-24h", "Last 24 hours"),
    ("-7d", "Last 7 days"),
    ("-30d", "Last 30 days"),
];

fn state_label(s: TriageState) -> &'static str {
    match s {
        TriageState::New => "New",
        TriageState::Acknowledged => "Acknowledged",
        TriageState::FalsePositive => "False positive",
        TriageState::Resolved => "Resolved",
    }
}

/// The button that moves an alert to `s`.
fn action_label(s: TriageState) -> &'static str {
    match s {
        TriageState::New => "Reopen",
        TriageState::Acknowledged => "Acknowledge",
        TriageState::FalsePositive => "False positive",
        TriageState::Resolved => "Resolve",
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let alerts = RwSignal::new(Vec::<Alert>::new());
    let error = RwSignal::new(None::<ApiError>);
    let connected = RwSignal::new(false);
    let rule = RwSignal::new(String::new());
    let priority = RwSignal::new(None::<Priority>);
    let container = RwSignal::new(String::new());
    // None: any state.
    let state = RwSignal::new(None::<TriageState>);
    let window = RwSignal::new("-24h".to_string());
    let group_by = RwSignal::new(GroupBy::Rule);
    // Bumped after a triage, so that the counts by state follow.
    let changes = RwSignal::new(0u32);
    let can_triage = session::at_least(Role::Author);

    let summary = LocalResource::new(move || {
        let (since, by) = (window.get(), group_by.get());
        changes.track();
        async move {
            let query = AlertSummaryQuery {
                since: Some(since),
                group_by: Some(by.as_str().to_string()),
                ..Default::default()
            };
            client::call::<calls::SummariseAlerts>(&(), &query, &()).await
        }
    });
    // The listing follows the state filter; the other filters apply to what is loaded.
    Effect::new(move |_| {
        let wanted = state.get();
        spawn_local(async move {
            let query = AlertsQuery {
                limit: Some(100),
                state: wanted.map(|s| s.as_str().to_string()),
                ..Default::default()
            };
            match client::call::<calls::ListAlerts>(&(), &query, &()).await {
                Ok(page) => {
                    error.set(None);
                    alerts.set(page.alerts);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    sse::subscribe(
        &client::url::<calls::StreamAlerts>(&(), &()),
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
    let set_triage = move |id: i64, to: TriageState| {
        let req = TriageRequest {
            state: to,
            note: None,
        };
        spawn_local(async move {
            match client::call::<calls::TriageAlert>(&id, &(), &req).await {
                Ok(updated) => {
                    error.set(None);
                    alerts.update(|all| {
                        if let Some(a) = all.iter_mut().find(|a| a.id == id) {
                            *a = updated;
                        }
                    });
                    changes.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let shown = move || {
        let (r, p, c, s) = (
            rule.get().to_lowercase(),
            priority.get(),
            container.get().to_lowercase(),
            state.get(),
        );
        alerts.with(|all| {
            all.iter()
                .filter(|a| r.is_empty() || a.rule.to_lowercase().contains(&r))
                .filter(|a| p.is_none_or(|p| a.priority == p))
                .filter(|a| s.is_none_or(|s| a.triage.state == s))
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
    // Clicking a group filters the list by it (a node has no list filter).
    let pick_group = move |by: GroupBy, key: String| match by {
        GroupBy::Rule => rule.set(key),
        GroupBy::Priority => priority.set(Priority::parse(&key)),
        GroupBy::State => state.set(TriageState::parse(&key)),
        GroupBy::Node => {}
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
                <label for="alerts-window">"Counts over"</label>
                <select id="alerts-window" data-testid="alerts-window" on:change=move |ev| window.set(event_target_value(&ev))>
                    {WINDOWS.iter().map(|&(since, label)| view! { <option value=since selected=since == "-24h">{label}</option> }).collect_view()}
                </select>
                <label for="alerts-group-by">"Group by"</label>
                <select id="alerts-group-by" data-testid="alerts-group-by"
                    on:change=move |ev| group_by.set(GroupBy::parse(&event_target_value(&ev)).unwrap_or_default())>
                    {GroupBy::ALL.iter().map(|g| view! { <option value=g.as_str()>{g.as_str()}</option> }).collect_view()}
                </select>
            </div>
            {move || loaded(summary.get(), move |s| view! { <Summary summary=s pick=pick_group /> })}
            <div class="filters">
                <label for="alerts-rule">"Rule"</label>
                <input id="alerts-rule" prop:value=rule on:input=move |ev| rule.set(event_target_value(&ev)) />
                <label for="alerts-priority">"Priority"</label>
                <select id="alerts-priority" prop:value=move || priority.get().map_or("", Priority::as_str) on:change=move |ev| priority.set(Priority::parse(&event_target_value(&ev)))>
                    <option value="">"Any"</option>
                    {Priority::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> }).collect_view()}
                </select>
                <label for="alerts-state">"State"</label>
                <select id="alerts-state" data-testid="alerts-state-filter" prop:value=move || state.get().map_or("", TriageState::as_str) on:change=move |ev| state.set(TriageState::parse(&event_target_value(&ev)))>
                    <option value="">"Any"</option>
                    {TriageState::ALL.iter().map(|&s| view! { <option value=s.as_str()>{state_label(s)}</option> }).collect_view()}
                </select>
                <label for="alerts-container">"Container"</label>
                <input id="alerts-container" prop:value=container on:input=move |ev| container.set(event_target_value(&ev)) />
            </div>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || {
                let list = shown();
                if list.is_empty() {
                    return view! { <p class="empty">"No alerts here. They appear as soon as an ingested event matches the live set."</p> }.into_any();
                }
                view! {
                    <ul class="alerts" data-testid="alerts-list">
                        {list.into_iter().map(|a| {
                            let id = a.id;
                            let current = a.triage.state;
                            let who = a.triage.by.clone().map(|by| format!("{} by {by}", state_label(current)));
                            view! {
                                <li data-testid="alert" data-rule=a.rule.clone() data-id=id data-state=current.as_str()>
                                    <span class="time">{format_rfc3339(&a.time)}</span>
                                    <span class=format!("prio prio-{}", a.priority.as_str().to_lowercase())>{a.priority.as_str()}</span>
                                    <a class="rule" href=edit_href(&a.rule)>{a.rule.clone()}</a>
                                    <code class="output">{a.output.clone()}</code>
                                    <span class="alert-actions">
                                        <span class=format!("triage triage-{}", current.as_str()) data-testid="alert-state" title=who>{state_label(current)}</span>
                                        <a href=format!("/events?id={}", client::enc(&a.event_id))>{format!("event {}", a.event_id)}</a>
                                        <a href=edit_href(&a.rule) data-testid="alert-tune" title="Open this rule in the workbench to tune it">"Tune"</a>
                                        {can_triage.then(|| TriageState::ALL.into_iter().filter(|&s| s != current).map(|s| view! {
                                            <button class="link" data-testid=format!("triage-{}", s.as_str())
                                                aria-label=format!("{} alert {id}", action_label(s))
                                                on:click=move |_| set_triage(id, s)>{action_label(s)}</button>
                                        }).collect_view())}
                                    </span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// The window's counts: a histogram over time and the largest groups.
#[component]
fn Summary(
    summary: AlertSummary,
    /// Called with a group's kind and key when the user picks it.
    pick: impl Fn(GroupBy, String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let by = summary.group_by;
    let max = summary
        .groups
        .iter()
        .map(|g| g.count)
        .max()
        .unwrap_or(0)
        .max(1);
    view! {
        <div class="alerts-summary" data-testid="alerts-summary" data-total=summary.total>
            <TimeHistogram buckets=summary.buckets.iter().map(|b| (b.start, b.count)).collect() until=summary.until prefix="alerts" what="Alerts" />
            <p class="muted">{format!("{} alerts, {} per bar", summary.total, bucket_text(summary.bucket))}</p>
            <table class="list groups">
                <thead><tr><th scope="col">{by.as_str()}</th><th scope="col" class="num">"Alerts"</th><th scope="col"><span class="sr-only">"Share"</span></th></tr></thead>
                <tbody>
                    {summary.groups.into_iter().map(|g| {
                        let key = g.key.clone();
                        let shown = if g.key.is_empty() { "(none)".to_string() } else { g.key.clone() };
                        let width = format!("width: {:.1}%", g.count as f64 * 100.0 / max as f64);
                        view! {
                            <tr data-testid="alerts-group" data-key=g.key.clone() data-count=g.count>
                                <td>{if by == GroupBy::Node {
                                    view! { <span>{shown}</span> }.into_any()
                                } else {
                                    view! { <button class="link" title="Show only these alerts" on:click=move |_| pick(by, key.clone())>{shown}</button> }.into_any()
                                }}</td>
                                <td class="num">{g.count}</td>
                                <td class="share"><span class="bar" style=width></span></td>
                            </tr>
                        }
                    }).collect_view()}
                    {(summary.other > 0).then(|| view! { <tr><td class="muted">"Other groups"</td><td class="num">{summary.other}</td><td></td></tr> })}
                </tbody>
            </table>
        </div>
    }
}

/// `5m`, `1h`, `1d`: a bucket's width.
fn bucket_text(ns: i64) -> String {
    let s = ns / 1_000_000_000;
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
