//! The audit trail (admins): every change, newest first, filtered by who, what and when, a
//! page at a time.

use crate::client::calls;
use crate::client::query::AuditQuery;
use crate::client::{self, ApiError};
use crate::widgets::{ErrorBox, format_rfc3339};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rulestudio_api::audit::AuditEntry;

/// Entries per page.
const PAGE: u32 = 50;

#[component]
pub fn AuditPage() -> impl IntoView {
    let (actor, action, since, until) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<ApiError>);
    let loading = RwSignal::new(false);
    // The filters as a query, empty ones left out.
    let query = move || {
        let given = |value: RwSignal<String>| {
            let v = value.get_untracked();
            (!v.trim().is_empty()).then(|| v.trim().to_string())
        };
        AuditQuery {
            actor: given(actor),
            action: given(action),
            since: given(since),
            until: given(until),
            limit: Some(PAGE),
            cursor: None,
        }
    };
    // A first page replaces the list; a later one (`cursor`) extends it.
    let load = move |cursor: Option<i64>| {
        let q = AuditQuery { cursor, ..query() };
        loading.set(true);
        spawn_local(async move {
            match client::call::<calls::ListAudit>(&(), &q, &()).await {
                Ok(log) => {
                    error.set(None);
                    next.set(log.next_cursor);
                    entries.update(|all| {
                        if cursor.is_none() {
                            all.clear();
                        }
                        all.extend(log.entries);
                    });
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    load(None);
    let field = |id: &'static str,
                 label: &'static str,
                 hint: &'static str,
                 value: RwSignal<String>| {
        view! {
            <label for=id>{label}</label>
            <input id=id data-testid=id placeholder=hint prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
        }
    };
    view! {
        <section class="page">
            <h1>"Audit trail"</h1>
            <form class="filters" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); load(None) }>
                {field("audit-actor", "Who", "username", actor)}
                {field("audit-action", "What", "user, or user.delete", action)}
                {field("audit-since", "Since", "-24h or 2025-01-31T12:00:00Z", since)}
                {field("audit-until", "Until", "now", until)}
                <button type="submit" class="primary" data-testid="audit-apply">"Show"</button>
            </form>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            <table class="list" data-testid="audit-list">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Target"</th><th scope="col">"Details"</th></tr></thead>
                <tbody>
                    {move || entries.get().into_iter().map(|e| view! {
                        <tr data-testid="audit-row" data-action=e.action.clone()>
                            <td>{format_rfc3339(&e.time)}</td>
                            <td>{e.actor.clone()}</td>
                            <td><code>{e.action.clone()}</code></td>
                            <td>{e.target.clone()}</td>
                            <td><code class="details">{e.details.to_string()}</code></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {move || (!loading.get() && entries.with(Vec::is_empty)).then(|| view! { <p class="empty">"No changes match."</p> })}
            {move || next.get().map(|c| view! {
                <button data-testid="audit-more" disabled=move || loading.get() on:click=move |_| load(Some(c))>"Older changes"</button>
            })}
        </section>
    }
}
