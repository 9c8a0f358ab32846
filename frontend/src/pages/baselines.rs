//! Baselines: known-good periods (`/api/v1/baselines`). Preview counts a match inside one as a
//! false positive unless it is labelled malicious, so marking a quiet, trusted hour here labels
//! everything a draft matched in it at once.

use crate::client::Role;
use crate::client::{self, ApiError, CreateBaseline, calls};
use crate::session;
use crate::widgets::{ErrorBox, format_ns, loaded, local_input_to_rfc3339, ns_to_local_input};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rulestudio_api::time::Timestamp;

const HOUR_NS: i64 = 3_600_000_000_000;

fn now_ns() -> i64 {
    (js_sys::Date::now() * 1e6) as i64
}

#[component]
pub fn Baselines() -> impl IntoView {
    let list = LocalResource::new(|| client::call::<calls::ListBaselines>(&(), &(), &()));
    let since = RwSignal::new(ns_to_local_input(now_ns() - HOUR_NS));
    let until = RwSignal::new(ns_to_local_input(now_ns()));
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let problem = RwSignal::new(None::<&'static str>);
    let can_edit = move || session::at_least(Role::Author);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(s), Some(u)) = (
            local_input_to_rfc3339(&since.get_untracked()),
            local_input_to_rfc3339(&until.get_untracked()),
        ) else {
            problem.set(Some(
                "Give both the start and the end of the known-good period.",
            ));
            return;
        };
        problem.set(None);
        let req = CreateBaseline {
            since: Timestamp::Text(s),
            until: Timestamp::Text(u),
            note: note.get_untracked(),
        };
        spawn_local(async move {
            match client::call::<calls::AddBaseline>(&(), &(), &req).await {
                Ok(_) => {
                    error.set(None);
                    note.set(String::new());
                    list.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove = move |id: i64| {
        spawn_local(async move {
            match client::call::<calls::DeleteBaseline>(&id, &(), &()).await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            list.refetch();
        });
    };

    view! {
        <section class="card baselines" aria-labelledby="baselines-title" data-testid="baselines">
            <h2 id="baselines-title">"Known-good periods (baselines)"</h2>
            <p class="muted">"Preview counts a match inside one of these periods as a false positive, unless the event is labelled malicious."</p>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            {move || loaded(list.get(), |l| {
                if l.baselines.is_empty() {
                    return view! { <p class="empty" data-testid="baselines-empty">"No baselines yet."</p> }.into_any();
                }
                view! {
                    <table class="list">
                        <thead><tr>
                            <th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Note"</th><th scope="col">"By"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {l.baselines.into_iter().map(|b| {
                                let id = b.id;
                                let span = format!("{} to {}", format_ns(b.since), format_ns(b.until));
                                view! {
                                    <tr data-testid="baseline-row" data-baseline-id=id>
                                        <td>{format_ns(b.since)}</td><td>{format_ns(b.until)}</td><td>{b.note}</td><td>{b.author}</td>
                                        <td>
                                            <Show when=can_edit>
                                                <button class="link" data-testid="baseline-delete" aria-label=format!("Delete the baseline {span}")
                                                    on:click=move |_| remove(id)>"Delete"</button>
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
            <Show when=can_edit>
                <form class="inline-form" on:submit=create>
                    <label for="baseline-since">"From"</label>
                    <input id="baseline-since" data-testid="baseline-since" type="datetime-local" step="1" required
                        prop:value=since on:input=move |ev| since.set(event_target_value(&ev)) />
                    <label for="baseline-until">"To"</label>
                    <input id="baseline-until" data-testid="baseline-until" type="datetime-local" step="1" required
                        prop:value=until on:input=move |ev| until.set(event_target_value(&ev)) />
                    <label for="baseline-note">"Note"</label>
                    <input id="baseline-note" data-testid="baseline-note" placeholder="Why this period is known-good"
                        prop:value=note on:input=move |ev| note.set(event_target_value(&ev)) />
                    <button type="submit" data-testid="baseline-add">"Add baseline"</button>
                </form>
            </Show>
        </section>
    }
}
