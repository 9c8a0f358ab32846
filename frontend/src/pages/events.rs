//! Stored events: filter by a Falco condition, user-chosen columns, a detail drawer with every
//! field and label buttons. "Live" re-queries every few seconds to tail new events.

use crate::client::{self, ApiError, EventPage, StoredEvent};
use crate::widgets::{ErrorBox, LabelButtons, format_ns, value_text};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use std::time::Duration;

const DEFAULT_COLUMNS: &str = "evt.time, evt.type, proc.name, proc.cmdline, fd.name, container.name";
const TAIL_EVERY: Duration = Duration::from_secs(3);

fn cell(ev: &StoredEvent, field: &str) -> String {
    if field == "evt.time" {
        return format_ns(ev.time);
    }
    ev.fields.get(field).map(value_text).unwrap_or_default()
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    let columns = RwSignal::new(DEFAULT_COLUMNS.to_string());
    let events = RwSignal::new(None::<Result<Vec<StoredEvent>, ApiError>>);
    let selected = RwSignal::new(None::<StoredEvent>);
    let live = RwSignal::new(true);

    let fetch = move || {
        let f = applied.get_untracked();
        spawn_local(async move {
            let mut path = "/events?limit=200".to_string();
            if !f.trim().is_empty() {
                path.push_str(&format!("&filter={}", client::enc(&f)));
            }
            events.set(Some(client::get::<EventPage>(&path).await.map(|p| p.events)));
        });
    };
    fetch();
    // `/events?id=N` (links from alerts) opens that event's detail.
    if let Some(id) = use_query_map().with_untracked(|q| q.get("id")).and_then(|id| id.parse::<i64>().ok()) {
        spawn_local(async move {
            match client::get::<StoredEvent>(&format!("/events/{id}")).await {
                Ok(ev) => selected.set(Some(ev)),
                Err(e) => events.set(Some(Err(e))),
            }
        });
    }
    let tail = set_interval_with_handle(move || if live.get_untracked() { fetch() }, TAIL_EVERY).ok();
    on_cleanup(move || if let Some(h) = tail { h.clear() });

    let cols = move || columns.with(|c| c.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>());
    view! {
        <div class="with-drawer">
            <section class="page">
                <div class="pane-head">
                    <h1>"Events"</h1>
                    <label class="check"><input type="checkbox" prop:checked=live on:change=move |ev| live.set(event_target_checked(&ev)) />"Live"</label>
                </div>
                <form class="filters" on:submit=move |ev| { ev.prevent_default(); applied.set(filter.get_untracked()); fetch(); }>
                    <label for="events-filter">"Filter (Falco condition)"</label>
                    <input id="events-filter" data-testid="events-filter" class="mono" placeholder="evt.type = execve and proc.name = bash"
                        prop:value=filter on:input=move |ev| filter.set(event_target_value(&ev)) />
                    <label for="events-columns">"Columns"</label>
                    <input id="events-columns" class="mono" prop:value=columns on:change=move |ev| columns.set(event_target_value(&ev)) />
                    <button type="submit" class="primary">"Apply"</button>
                </form>
                {move || match events.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="empty">"No events yet. Start a collector, or ingest events with POST /api/v1/events."</p>
                    }.into_any(),
                    Some(Ok(list)) => {
                        let cols = cols();
                        view! {
                            <table class="list events" data-testid="events-table">
                                <thead><tr>{cols.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view()}</tr></thead>
                                <tbody>
                                    {list.into_iter().map(|ev| {
                                        let cells = cols.iter().map(|c| view! { <td>{cell(&ev, c)}</td> }).collect_view();
                                        let id = ev.id;
                                        let open = ev.clone();
                                        view! {
                                            <tr data-testid="event-row" data-event-id=id tabindex="0"
                                                class:selected=move || selected.with(|s| s.as_ref().is_some_and(|s| s.id == id))
                                                on:click={ let open = open.clone(); move |_| selected.set(Some(open.clone())) }
                                                on:keydown=move |k: leptos::ev::KeyboardEvent| if k.key() == "Enter" { selected.set(Some(open.clone())) }>
                                                {cells}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }}
            </section>
            {move || selected.get().map(|ev| view! {
                <aside class="drawer" aria-label="Event detail" data-testid="event-detail">
                    <div class="pane-head">
                        <h2>{format!("Event {}", ev.id)}</h2>
                        <button class="link" on:click=move |_| selected.set(None) aria-label="Close detail">"Close"</button>
                    </div>
                    <LabelButtons event_id=ev.id rule=None current=None />
                    <dl class="fields">
                        <dt>"evt.time"</dt><dd>{format_ns(ev.time)}</dd>
                        {ev.node.clone().map(|n| view! { <dt>"node"</dt><dd>{n}</dd> })}
                        {ev.fields.iter().filter(|(k, _)| k.as_str() != "evt.time").map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{value_text(v)}</dd> }).collect_view()}
                    </dl>
                </aside>
            })}
        </div>
    }
}
