//! The live set: current files, version history, rollback and download.

use crate::client::{self, ApiError, LiveHistory, LiveSet, LiveVersionCreated, RollbackRequest};
use crate::session;
use crate::widgets::{ErrorBox, format_ns, loaded};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn LivePage() -> impl IntoView {
    let live = LocalResource::new(|| client::get::<LiveSet>("/live"));
    let history = LocalResource::new(|| client::get::<LiveHistory>("/live/history"));
    let error = RwSignal::new(None::<ApiError>);
    let is_admin = move || session::user().with(|u| u.as_ref().is_some_and(|u| u.role == "admin"));
    let rollback = move |version: i64| {
        spawn_local(async move {
            match client::post::<_, LiveVersionCreated>(
                "/live/rollback",
                &RollbackRequest { version },
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    live.refetch();
                    history.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="page">
            <div class="pane-head">
                <h1>"Live set"</h1>
                <a class="button" href="/api/v1/live/rules.yaml" download="rules.yaml" data-testid="live-download">
                    "Download as Falco rules file"
                </a>
            </div>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || loaded(live.get(), |set| view! {
                <p data-testid="live-version">
                    {format!("Version {}", set.version)}
                    {format!(", promoted by {} at {}", set.promoted_by, format_ns(set.promoted_at))}
                    {set.proposal.map(|p| view! { " from " <a href=format!("/proposals/{p}")>{format!("proposal #{p}")}</a> })}
                </p>
                {set.files.into_iter().map(|f| view! {
                    <details class="file">
                        <summary>{format!("{} ({} lines)", f.name, f.content.lines().count())}</summary>
                        <pre class="source">{f.content}</pre>
                    </details>
                }).collect_view()}
            })}
            <h2>"History"</h2>
            {move || loaded(history.get(), |h| view! {
                <table class="list" data-testid="live-history">
                    <thead><tr>
                        <th scope="col">"Version"</th><th scope="col">"Promoted"</th><th scope="col">"By"</th><th scope="col">"Note"</th>
                        <th scope="col">"Proposal"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {h.versions.into_iter().map(|v| {
                            let version = v.version;
                            view! {
                                <tr>
                                    <td>{version}</td>
                                    <td>{format_ns(v.promoted_at)}</td>
                                    <td>{v.promoted_by.clone()}</td>
                                    <td>{v.note.clone()}</td>
                                    <td>{v.proposal.map(|p| view! { <a href=format!("/proposals/{p}")>{format!("#{p}")}</a> })}</td>
                                    <td>
                                        <Show when=is_admin>
                                            <button on:click=move |_| rollback(version) aria-label=format!("Roll back to version {version}")>
                                                "Roll back to this"
                                            </button>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}
