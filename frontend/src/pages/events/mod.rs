//! Stored events: search by any Falco condition within a time range, newest first, paging
//! ("older") down to the oldest stored event; columns the user chooses (kept in this browser
//! under their name); a detail drawer with every field and its labels. "Live" tails new events
//! over SSE (`/api/v1/events/stream`, filtered and sampled on the server: "sampled 1 in N")
//! while the range is open-ended, into a buffer of at most [`KEEP`] rows.
//! The search lives in the address, `/events?q=CONDITION&from=…&to=…&cols=…` (`from` a preset
//! such as `-1h`, or `from`/`to` RFC 3339 times): each search is a history entry, so a reload, a
//! shared link or Back opens it again; `/events/{id}` is an event's page (`page`).
//! Known-good periods (baselines) below.

mod page;
mod range;

pub use page::{OneEventPage, event_href};

use crate::client::calls;
use crate::client::query::{EventStreamQuery, EventsQuery};
use crate::client::{self, ApiError, EventPage, StoredEvent, TailedEvent};
use crate::pages::baselines::Baselines;
use crate::sse;
use crate::storage;
use crate::widgets::{ErrorBox, format_ns, id_order, value_text};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map, use_url};
use range::{Bounds, RangePick, RangeSelect};

const DEFAULT_COLUMNS: &str =
    "evt.time, evt.type, proc.name, proc.cmdline, fd.name, container.name";
/// Events per listing request.
const PAGE: usize = 200;
/// Events the page keeps while tailing; older ones fall off (they stay in the listing).
const KEEP: usize = 1_000;

fn cell(ev: &StoredEvent, field: &str) -> String {
    if field == "evt.time" {
        return format_ns(ev.time);
    }
    ev.fields.get(field).map(value_text).unwrap_or_default()
}

/// Adds `new` to `list` (newest first, ids unique), keeping at most `keep`.
fn merge(list: &mut Vec<StoredEvent>, new: Vec<StoredEvent>, keep: usize) {
    list.extend(new);
    list.sort_by_key(|e| std::cmp::Reverse(id_order(&e.id)));
    list.dedup_by(|a, b| a.id == b.id);
    list.truncate(keep);
}

/// What a search asks for: a condition (blank: every event) and the time bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Query {
    condition: String,
    bounds: Bounds,
}

impl Query {
    /// The search (`q`, `from`, `to`) and the columns (`cols`) the address's query `search`
    /// holds; absent parts are blank. Read with the browser's own parser, which decodes once
    /// (the router's query map decodes twice, which would turn a search's `%41` into `A`).
    fn from_address(search: &str) -> (Query, Option<String>) {
        let params = web_sys::UrlSearchParams::new_with_str(search).ok();
        let text = |k: &str| {
            params
                .as_ref()
                .and_then(|p| p.get(k))
                .filter(|v| !v.trim().is_empty())
        };
        let query = Query {
            condition: text("q").unwrap_or_default(),
            bounds: Bounds {
                since: text("from"),
                until: text("to"),
            },
        };
        (query, text("cols"))
    }

    /// The Events page's address for this search and, when given, these columns.
    fn address(&self, columns: Option<&str>) -> String {
        let mut parts = Vec::new();
        if !self.condition.trim().is_empty() {
            parts.push(format!("q={}", client::enc(&self.condition)));
        }
        for (name, value) in [("from", &self.bounds.since), ("to", &self.bounds.until)] {
            if let Some(v) = value {
                parts.push(format!("{name}={}", client::enc(v)));
            }
        }
        if let Some(c) = columns {
            parts.push(format!("cols={}", client::enc(c)));
        }
        if parts.is_empty() {
            "/events".to_string()
        } else {
            format!("/events?{}", parts.join("&"))
        }
    }
}

/// The columns the user chose last in this browser, or the defaults.
fn saved_columns() -> String {
    storage::get(storage::PREF_COLUMNS, "events")
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_COLUMNS.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    Paused,
    Connecting,
    Up,
    Down,
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let address = use_url();
    let navigate = use_navigate();
    let (linked, linked_columns) = address.with_untracked(|u| Query::from_address(u.search()));
    let filter = RwSignal::new(linked.condition.clone());
    let range = RangePick::new();
    range.show(&linked.bounds);
    let range_error = RwSignal::new(None::<String>);
    let applied = RwSignal::new(linked);
    let columns = RwSignal::new(linked_columns.unwrap_or_else(saved_columns));
    // The address changed (Back, Forward, a link to another search): show and run its search.
    Effect::new(move |_| {
        let (q, cols) = address.with(|u| Query::from_address(u.search()));
        if let Some(c) = cols {
            columns.set(c);
        }
        if applied.get_untracked() != q {
            filter.set(q.condition.clone());
            range.show(&q.bounds);
            range_error.set(None);
            applied.set(q);
        }
    });
    // Columns go into the address only once the user chose them (the saved choice needs none).
    let address_columns = move || address.with_untracked(|u| Query::from_address(u.search()).1);
    let events = RwSignal::new(Vec::<StoredEvent>::new());
    let loaded = RwSignal::new(None::<Result<EventPage, ApiError>>);
    let next_cursor = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<StoredEvent>);
    let live = RwSignal::new(true);
    let tail = RwSignal::new(Tail::Connecting);
    let lagged = RwSignal::new(0u64);
    // What the newest tailed event stands for: the server sends 1 in N when events come fast.
    let sampled = RwSignal::new(1u64);
    // Answers of an older filter are dropped when they arrive late.
    let generation = StoredValue::new(0u64);

    let load = move |cursor: Option<String>| {
        let q = applied.get_untracked();
        let gen_at_start = generation.get_value();
        spawn_local(async move {
            let query = EventsQuery {
                filter: (!q.condition.trim().is_empty()).then(|| q.condition.clone()),
                since: q.bounds.since.clone(),
                until: q.bounds.until.clone(),
                limit: Some(PAGE),
                cursor: cursor.clone(),
            };
            let page = client::call::<calls::ListEvents>(&(), &query, &()).await;
            if generation.get_value() != gen_at_start {
                return;
            }
            if let Ok(p) = &page {
                // The first page leaves room for what the tail brings; older pages add to it.
                let keep = if cursor.is_some() { usize::MAX } else { KEEP };
                events.update(|list| merge(list, p.events.clone(), keep));
                next_cursor.set(p.next_cursor.clone());
            }
            loaded.set(Some(page));
        });
    };

    // Subscribe, then list: an event stored in between arrives on the stream, and merging by
    // id keeps it once.
    Effect::new(move |_| {
        let q = applied.get();
        let on = live.get();
        generation.update_value(|g| *g += 1);
        events.set(Vec::new());
        loaded.set(None);
        lagged.set(0);
        sampled.set(1);
        let f = q.condition;
        // A range that ended cannot gain events: nothing to tail.
        if on && q.bounds.open_ended() {
            tail.set(Tail::Connecting);
            let query = EventStreamQuery {
                filter: (!f.trim().is_empty()).then_some(f),
            };
            let url = client::url::<calls::StreamEvents>(&(), &query);
            sse::subscribe(
                &url,
                &["event", "lagged"],
                move |name, data| match name {
                    "event" => {
                        if let Ok(t) = serde_json::from_str::<TailedEvent>(&data) {
                            sampled.set(t.stands_for.max(1));
                            events.update(|list| merge(list, vec![t.event], KEEP));
                        }
                    }
                    _ => lagged.update(|n| *n += data.trim().parse::<u64>().unwrap_or(0)),
                },
                move |up| tail.set(if up { Tail::Up } else { Tail::Down }),
            );
        } else {
            tail.set(Tail::Paused);
        }
        load(None);
    });

    // `/events?id=NODE:INCARNATION:SEQ` (links from alerts) opens that event's detail.
    if let Some(id) = use_query_map()
        .with_untracked(|q| q.get("id"))
        .filter(|id| !id.is_empty())
    {
        spawn_local(async move {
            match client::call::<calls::GetEvent>(&id, &(), &()).await {
                Ok(ev) => selected.set(Some(ev)),
                Err(e) => loaded.set(Some(Err(e))),
            }
        });
    }

    let cols = move || {
        columns.with(|c| {
            c.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
    };
    let status = move || match tail.get() {
        Tail::Paused => ("status", "Paused"),
        Tail::Connecting => ("status", "Connecting…"),
        Tail::Up => ("status up", "Streaming"),
        Tail::Down => ("status down", "Not connected"),
    };
    view! {
        <div class="with-drawer">
            <section class="page" aria-labelledby="events-title">
                <div class="pane-head">
                    <h1 id="events-title">"Events"</h1>
                    <span class=move || status().0 data-testid="events-stream-status" role="status">{move || status().1}</span>
                    {move || (tail.get() == Tail::Up && sampled.get() > 1).then(|| view! {
                        <span class="status" data-testid="events-sampled" data-n=sampled.get()
                            title="Events come faster than a page can read: the server sends one of every N matching events (all are stored)">
                            {format!("sampled 1 in {}", sampled.get())}
                        </span>
                    })}
                    <label class="check">
                        <input type="checkbox" data-testid="events-live" prop:checked=live on:change=move |ev| live.set(event_target_checked(&ev)) />
                        "Live tail (untick to pause)"
                    </label>
                </div>
                <form class="filters" on:submit={
                    let navigate = navigate.clone();
                    move |ev| {
                        ev.prevent_default();
                        match range.bounds() {
                            Ok(bounds) => {
                                range_error.set(None);
                                let q = Query { condition: filter.get_untracked(), bounds };
                                // A new history entry: Back returns to the previous search.
                                navigate(&q.address(address_columns().as_deref()), NavigateOptions::default());
                                applied.set(q);
                            }
                            Err(e) => range_error.set(Some(e)),
                        }
                    }
                }>
                    <label for="events-search">"Search (Falco condition)"</label>
                    <input id="events-search" data-testid="events-search" class="mono" placeholder="evt.type = execve and proc.name = bash"
                        prop:value=filter on:input=move |ev| filter.set(event_target_value(&ev)) />
                    <RangeSelect pick=range />
                    <button type="submit" class="primary" data-testid="events-search-go">"Search"</button>
                </form>
                <div class="filters">
                    <label for="events-columns">"Columns"</label>
                    <input id="events-columns" data-testid="events-columns" class="mono" prop:value=columns
                        on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            storage::set(storage::PREF_COLUMNS, "events", &chosen);
                            let here = applied.get_untracked().address(Some(&chosen));
                            navigate(&here, NavigateOptions { replace: true, ..Default::default() });
                            columns.set(chosen);
                        }
                        title="Falco field names, separated by commas; remembered in this browser and kept in the address" />
                </div>
                {move || range_error.get().map(|e| view! { <p class="error" role="alert" data-testid="events-range-error">{e}</p> })}
                {move || (lagged.get() > 0).then(|| view! {
                    <p class="warn" role="status" data-testid="events-lagged">
                        {format!("{} events arrived faster than this page could show them and were skipped; they are stored, and the listing has them.", lagged.get())}
                    </p>
                })}
                {move || match loaded.get() {
                    None if events.with(Vec::is_empty) => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
                    _ if events.with(Vec::is_empty) => {
                        let text = if applied.with(|q| q.condition.trim().is_empty() && q.bounds == Bounds::default()) {
                            "No events yet. Start a collector (rulestudio serve --collector, or the DaemonSet), or POST events to /api/v1/events; they appear here as they arrive."
                        } else {
                            "No stored event matches this search yet. New matching events appear here as they arrive while the range is open-ended."
                        };
                        view! { <p class="empty" data-testid="events-empty">{text}</p> }.into_any()
                    }
                    _ => view! { <EventsTable events=events columns=Signal::derive(cols) selected=selected /> }.into_any(),
                }}
                <Show when=move || next_cursor.get().is_some() && !events.with(Vec::is_empty)>
                    <div class="row">
                        <button data-testid="events-older" on:click=move |_| {
                            let oldest = events.with_untracked(|l| l.last().map(|e| e.id.clone()));
                            load(oldest.or(next_cursor.get_untracked()));
                        }>"Load older events"</button>
                    </div>
                </Show>
                <Baselines />
            </section>
            {move || selected.get().map(|ev| view! { <Detail ev=ev selected=selected /> })}
        </div>
    }
}

#[component]
fn EventsTable(
    /// Newest first.
    events: RwSignal<Vec<StoredEvent>>,
    /// Field names, one column each.
    columns: Signal<Vec<String>>,
    /// The event whose detail is open.
    selected: RwSignal<Option<StoredEvent>>,
) -> impl IntoView {
    view! {
        <table class="list events" data-testid="events-table">
            <caption class="sr-only">"Stored events, newest first; Enter opens an event's detail"</caption>
            <thead><tr>{move || columns.get().into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr></thead>
            <tbody>
                <For each=move || events.get() key=|ev| ev.id.clone() let:ev>
                    {
                        let id = ev.id.clone();
                        let row_id = id.clone();
                        let open = ev.clone();
                        let cells = move || columns.get().iter().map(|c| view! { <td>{cell(&ev, c)}</td> }).collect_view();
                        view! {
                            <tr data-testid="events-row" data-event-id=row_id tabindex="0"
                                class:selected=move || selected.with(|s| s.as_ref().is_some_and(|s| s.id == id))
                                on:click={ let open = open.clone(); move |_| selected.set(Some(open.clone())) }
                                on:keydown=move |k: leptos::ev::KeyboardEvent| if k.key() == "Enter" { selected.set(Some(open.clone())) }>
                                {cells}
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
    }
}

/// The drawer: every field of one event and its labels.
#[component]
fn Detail(
    /// The event shown.
    ev: StoredEvent,
    /// Cleared by "Close".
    selected: RwSignal<Option<StoredEvent>>,
) -> impl IntoView {
    let id = ev.id.clone();
    view! {
        <aside class="drawer" aria-label="Event detail" data-testid="event-detail">
            <div class="pane-head">
                <h2>{format!("Event {id}")}</h2>
                <button class="link" on:click=move |_| selected.set(None) aria-label="Close detail">"Close"</button>
            </div>
            <p><a href=page::event_href(&id) data-testid="event-open">"Open the event's page (process tree, nearby events)"</a></p>
            <page::EventLabels id=id.clone() />
            {ev.unreadable.clone().map(|why| view! { <p class="error" data-testid="event-unreadable">{why}</p> })}
            <dl class="fields">
                <dt>"evt.time"</dt><dd>{format_ns(ev.time)}</dd>
                {ev.node.clone().map(|n| view! { <dt>"node"</dt><dd>{n}</dd> })}
                {ev.fields.iter().filter(|(k, _)| k.as_str() != "evt.time").map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{value_text(v)}</dd> }).collect_view()}
            </dl>
        </aside>
    }
}
