//! One event's page, `/events/{id}` (`NODE:INCARNATION:SEQ`, its stable id): every field, each
//! value a link to the search for it; its labels; the live rules it matches, each with "Tune";
//! its process tree (the ancestors the event names in `proc.aname[N]`/`proc.apid[N]`, nearest
//! last, then the process itself) and the events of the same process around it.

use crate::client::calls;
use crate::client::query::EventsQuery;
use crate::client::{
    self, ApiError, EventMatches, EventPage, Label, LabelRequest, Role, RuleMatch, StoredEvent,
};
use crate::pages::editor::edit_href;
use crate::session;
use crate::widgets::{
    ErrorBox, LabelButtons, effective_label, fetch_labels, format_ns, loaded, value_text,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use rulestudio_engine::syntax::quoted;
use serde_json::Value;

/// The events of the same process listed around this one: this far before and after it.
const NEARBY_NS: i64 = 5 * 60 * 1_000_000_000;
/// At most this many of them.
const NEARBY: usize = 50;
/// Ancestors are read up to this depth (libs' `proc.aname[N]` goes as far as the table does).
const MAX_DEPTH: usize = 64;

/// `FIELD = VALUE` as a condition: strings quoted (libs' escapes), numbers and booleans as is.
fn equals(field: &str, value: &Value) -> String {
    match value {
        Value::String(s) => format!("{field} = {}", quoted(s)),
        other => format!("{field} = {}", value_text(other)),
    }
}

/// The Events page searching for `condition`.
pub fn search_href(condition: &str) -> String {
    format!("/events?q={}", client::enc(condition))
}

/// This event's page.
pub fn event_href(id: &str) -> String {
    format!("/events/{}", client::enc(id))
}

/// One process of the tree: its name and pid as the event gives them.
#[derive(Debug, Clone, PartialEq)]
struct Process {
    name: Option<String>,
    pid: Option<Value>,
}

/// The event's process tree, the farthest ancestor first and the process itself last.
fn tree(ev: &StoredEvent) -> Vec<Process> {
    let text = |k: &str| ev.fields.get(k).map(value_text);
    let mut chain = vec![Process {
        name: text("proc.name"),
        pid: ev.fields.get("proc.pid").cloned(),
    }];
    for n in 1..=MAX_DEPTH {
        let p = Process {
            name: text(&format!("proc.aname[{n}]")),
            pid: ev.fields.get(&format!("proc.apid[{n}]")).cloned(),
        };
        // The parent also comes as `proc.pname`/`proc.ppid` when no ancestor fields are sent.
        let p = match (n, p) {
            (
                1,
                Process {
                    name: None,
                    pid: None,
                },
            ) => Process {
                name: text("proc.pname"),
                pid: ev.fields.get("proc.ppid").cloned(),
            },
            (_, p) => p,
        };
        if p.name.is_none() && p.pid.is_none() {
            break;
        }
        chain.push(p);
    }
    chain.reverse();
    chain
}

/// The page of the event the route names.
#[component]
pub fn OneEventPage() -> impl IntoView {
    let id = use_params_map()
        .with_untracked(|p| p.get("id"))
        .unwrap_or_default();
    let event = RwSignal::new(None::<Result<StoredEvent, ApiError>>);
    {
        let id = id.clone();
        spawn_local(async move {
            event.set(Some(client::call::<calls::GetEvent>(&id, &(), &()).await));
        });
    }
    view! {
        <section class="page" aria-labelledby="event-title" data-testid="event-page">
            <div class="pane-head">
                <h1 id="event-title">{format!("Event {id}")}</h1>
                <a href="/events">"All events"</a>
            </div>
            {move || loaded(event.get(), |ev| view! { <EventBody ev=ev /> })}
        </section>
    }
}

#[component]
fn EventBody(ev: StoredEvent) -> impl IntoView {
    let chain = tree(&ev);
    let nearby = RwSignal::new(None::<Result<EventPage, ApiError>>);
    let same_process = ev.fields.get("proc.pid").map(|pid| {
        let mut c = equals("proc.pid", pid);
        if let Some(host) = ev.fields.get("evt.hostname") {
            c.push_str(&format!(" and {}", equals("evt.hostname", host)));
        }
        c
    });
    if let Some(c) = same_process.clone() {
        let query = EventsQuery {
            filter: Some(c),
            since: Some(ev.time.saturating_sub(NEARBY_NS).to_string()),
            until: Some(ev.time.saturating_add(NEARBY_NS).to_string()),
            limit: Some(NEARBY),
            cursor: None,
        };
        spawn_local(async move {
            nearby.set(Some(
                client::call::<calls::ListEvents>(&(), &query, &()).await,
            ))
        });
    }
    let this = ev.id.clone();
    let depth = chain.len();
    view! {
        <EventLabels id=ev.id.clone() />
        {ev.unreadable.clone().map(|why| view! { <p class="error" data-testid="event-unreadable">{why}</p> })}
        <MatchedRules id=ev.id.clone() />
        <h2>"Process tree"</h2>
        <ol class="tree" data-testid="event-tree">
            {chain.into_iter().enumerate().map(|(i, p)| {
                let label = format!("{} ({})", p.name.clone().unwrap_or_else(|| "?".into()),
                    p.pid.as_ref().map(value_text).unwrap_or_else(|| "pid ?".into()));
                let href = p.pid.as_ref().map(|pid| search_href(&equals("proc.pid", pid)));
                let own = i + 1 == depth;
                view! {
                    <li data-testid="event-tree-node" class:own=own style=format!("margin-left: {}rem", i)
                        data-pid=p.pid.as_ref().map(value_text)>
                        {match href {
                            Some(h) => view! { <a href=h title="Search this process's events">{label}</a> }.into_any(),
                            None => view! { <span>{label}</span> }.into_any(),
                        }}
                        {own.then_some(" ← this event")}
                    </li>
                }
            }).collect_view()}
        </ol>
        <h2>"Events of this process around it"</h2>
        {move || match (same_process.is_some(), nearby.get()) {
            (false, _) => view! { <p class="muted">"The event has no proc.pid."</p> }.into_any(),
            (true, None) => view! { <p class="muted">"Loading…"</p> }.into_any(),
            (true, Some(Err(e))) => view! { <ErrorBox error=e /> }.into_any(),
            (true, Some(Ok(page))) => {
                let this = this.clone();
                view! {
                    <table class="list" data-testid="event-nearby">
                        <caption class="sr-only">"Events of the same process within five minutes, newest first"</caption>
                        <thead><tr><th scope="col">"evt.time"</th><th scope="col">"evt.type"</th><th scope="col">"fd.name"</th><th scope="col">"event"</th></tr></thead>
                        <tbody>
                            {page.events.into_iter().map(|e| {
                                let cell = |k: &str| e.fields.get(k).map(value_text).unwrap_or_default();
                                view! {
                                    <tr data-testid="event-nearby-row" data-event-id=e.id.clone() class:selected=e.id == this>
                                        <td>{format_ns(e.time)}</td><td>{cell("evt.type")}</td><td>{cell("fd.name")}</td>
                                        <td><a href=event_href(&e.id)>{e.id.clone()}</a></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        }}
        <h2>"Fields"</h2>
        <p class="muted">"Each value links to the search for events with the same value."</p>
        <dl class="fields" data-testid="event-fields">
            <dt>"evt.time"</dt><dd>{format_ns(ev.time)}</dd>
            {ev.node.clone().map(|n| view! { <dt>"node"</dt><dd>{n}</dd> })}
            {ev.fields.iter().filter(|(k, _)| k.as_str() != "evt.time").map(|(k, v)| view! {
                <dt>{k.clone()}</dt>
                <dd><a data-testid="event-field-search" data-field=k.clone() href=search_href(&equals(k, v))>{value_text(v)}</a></dd>
            }).collect_view()}
        </dl>
    }
}

/// The live-set rules the event matches (`GET /events/{id}/matches`), each linked to its draft
/// in the workbench; for authors, "Tune" labels the event a false positive of the rule (as
/// triaging an alert `false_positive` does) and opens that draft, where the preview counts it.
#[component]
fn MatchedRules(id: String) -> impl IntoView {
    let found = RwSignal::new(None::<Result<EventMatches, ApiError>>);
    {
        let id = id.clone();
        spawn_local(async move {
            found.set(Some(
                client::call::<calls::GetEventMatches>(&id, &(), &()).await,
            ))
        });
    }
    let can_tune = session::at_least(Role::Author);
    view! {
        <h2>"Rules it matches"</h2>
        {move || match found.get() {
            None => view! { <p class="muted">"Judging the event with the live set…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
            Some(Ok(m)) if m.matches.is_empty() => view! {
                <p class="muted" data-testid="event-rules-none">{format!("No rule of live set version {} matches this event.", m.live_version)}</p>
            }.into_any(),
            Some(Ok(m)) => {
                let first = m.rule_matching == rulestudio_api::live::RuleMatching::First;
                view! {
                    <table class="list" data-testid="event-rules" data-live-version=m.live_version>
                        <caption class="sr-only">{format!("Rules of live set version {} that match this event, in load order", m.live_version)}</caption>
                        <thead><tr>
                            <th scope="col">"Rule"</th><th scope="col">"Priority"</th><th scope="col">"Action"</th>
                            {first.then(|| view! { <th scope="col" title="The server evaluates rules like Falco's rule_matching: first; only the first match raises an alert">"Alerts"</th> })}
                            {can_tune.then(|| view! { <th scope="col"><span class="sr-only">"Tune"</span></th> })}
                        </tr></thead>
                        <tbody>
                            {m.matches.into_iter().map(|r| view! { <MatchedRule id=id.clone() rule=r first=first can_tune=can_tune /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        }}
    }
}

#[component]
fn MatchedRule(id: String, rule: RuleMatch, first: bool, can_tune: bool) -> impl IntoView {
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let name = rule.rule.clone();
    let tune = move |_| {
        let (id, name, navigate) = (id.clone(), name.clone(), navigate.clone());
        busy.set(true);
        spawn_local(async move {
            let req = LabelRequest {
                label: "benign".into(),
                rule: Some(name.clone()),
                note: None,
            };
            match client::call::<calls::LabelEvent>(&id, &(), &req).await {
                Ok(_) => navigate(&edit_href(&name), Default::default()),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <tr data-testid="event-rule" data-rule=rule.rule.clone() data-action=rule.action.as_str()>
            <td><a href=edit_href(&rule.rule) title="Open this rule in the workbench">{rule.rule.clone()}</a></td>
            <td><span class=format!("prio prio-{}", rule.priority.to_lowercase())>{rule.priority.clone()}</span></td>
            <td title=rule.action.describe()>{rule.action.as_str()}</td>
            {first.then(|| view! { <td>{if rule.reported { "yes" } else { "no (an earlier rule matched)" }}</td> })}
            {can_tune.then(|| view! {
                <td>
                    <button data-testid="event-rule-tune" disabled=busy on:click=tune
                        aria-label=format!("Tune {}: label this event a false positive of it and open it in the workbench", rule.rule)>
                        "Tune"
                    </button>
                    {move || error.get().map(|e| view! { <span class="error-inline">{e.to_string()}</span> })}
                </td>
            })}
        </tr>
    }
}

/// An event's labels: buttons for the label about every rule, and those for single rules.
#[component]
pub fn EventLabels(id: String) -> impl IntoView {
    let labels = RwSignal::new(None::<Result<Vec<Label>, ApiError>>);
    let reload = {
        let id = id.clone();
        move || {
            let id = id.clone();
            spawn_local(async move { labels.set(Some(fetch_labels(&[id]).await)) })
        }
    };
    reload();
    move || match labels.get() {
        None => view! { <p class="muted">"Loading labels…"</p> }.into_any(),
        Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
        Some(Ok(ls)) => {
            let current = effective_label(&ls, &id, None);
            let for_rules: Vec<String> = ls
                .iter()
                .filter_map(|l| l.rule.as_ref().map(|r| format!("{} for “{r}”", l.label)))
                .collect();
            let reload = reload.clone();
            view! {
                <LabelButtons event_id=id.clone() rule=None current=current on_done=Callback::new(move |_| reload()) />
                {(!for_rules.is_empty()).then(|| view! { <p class="muted" data-testid="event-rule-labels">{format!("Also labelled {}.", for_rules.join(", "))}</p> })}
            }
            .into_any()
        }
    }
}
