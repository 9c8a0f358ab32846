//! The live set: current files, which version each node runs (for admins), version history,
//! rollback (confirmed, with a reason; not offered for the current version) and download.

use crate::client::Role;
use crate::client::calls;
use crate::client::query::LiveQuery;
use crate::client::{self, ApiError, LiveSet, RollbackRequest};
use crate::session;
use crate::widgets::{ConfirmReason, ErrorBox, format_ns, loaded};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn LivePage() -> impl IntoView {
    let live = LocalResource::new(|| async {
        client::call::<calls::GetLive>(&(), &LiveQuery::default(), &()).await
    });
    let history = LocalResource::new(|| client::call::<calls::GetLiveHistory>(&(), &(), &()));
    let error = RwSignal::new(None::<ApiError>);
    let is_admin =
        move || session::user().with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin));
    // The version a rollback was asked for, awaiting confirmation.
    let target = RwSignal::new(None::<i64>);
    let confirming = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let rollback = move |version: i64, reason: String| {
        spawn_local(async move {
            match client::call::<calls::RollbackLive>(
                &(),
                &(),
                &RollbackRequest { version, reason },
            )
            .await
            {
                Ok(created) => {
                    notice.set(Some(format!(
                        "Rolled back: live set version {} has the files of version {version}.",
                        created.version
                    )));
                    error.set(None);
                    live.refetch();
                    history.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let rules_yaml = client::url::<calls::GetLiveRulesYaml>(&(), &());
    view! {
        <section class="page">
            <div class="pane-head">
                <h1>"Live set"</h1>
                <a class="button" href=rules_yaml download="rules.yaml" data-testid="live-download">
                    "Download as Falco rules file"
                </a>
            </div>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            {move || notice.get().map(|n| view! { <p class="ok" role="status" data-testid="live-notice">{n}</p> })}
            {move || target.get().map(|v| view! {
                <ConfirmReason open=confirming title=format!("Roll back to version {v}?")
                    detail=format!("A new live set version is created with the files of version {v}; alerts follow it at once.")
                    confirm="Roll back" testid="rollback-confirm"
                    on_confirm=Callback::new(move |reason| rollback(v, reason)) />
            })}
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
            <Show when=is_admin>
                <NodeVersions live=live />
            </Show>
            <h2>"History"</h2>
            {move || loaded(history.get(), |h| view! {
                <table class="list" data-testid="live-history">
                    <thead><tr>
                        <th scope="col">"Version"</th><th scope="col">"Promoted"</th><th scope="col">"By"</th><th scope="col">"Note"</th><th scope="col">"Reason"</th>
                        <th scope="col">"Proposal"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {h.versions.into_iter().enumerate().map(|(i, v)| {
                            let version = v.version;
                            // Newest first: the first row is the current version.
                            let current = i == 0;
                            view! {
                                <tr data-testid="live-version-row" data-version=version>
                                    <td>{version}</td>
                                    <td>{format_ns(v.promoted_at)}</td>
                                    <td>{v.promoted_by.clone()}</td>
                                    <td>{v.note.clone()}</td>
                                    <td>{v.reason.clone()}</td>
                                    <td>{v.proposal.map(|p| view! { <a href=format!("/proposals/{p}")>{format!("#{p}")}</a> })}</td>
                                    <td>
                                        {current.then(|| view! { <span class="muted">"current"</span> })}
                                        <Show when=move || is_admin() && !current>
                                            <button data-testid="live-rollback" on:click=move |_| { target.set(Some(version)); confirming.set(true) }
                                                aria-label=format!("Roll back to version {version}")>
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

/// Which live version each node evaluates, and why a node cannot compile the newest.
#[component]
fn NodeVersions(live: LocalResource<Result<LiveSet, ApiError>>) -> impl IntoView {
    let nodes = LocalResource::new(|| client::call::<calls::ListCollectors>(&(), &(), &()));
    let current = move || live.get().and_then(|r| r.ok()).map(|s| s.version);
    view! {
        <h2>"Nodes"</h2>
        {move || loaded(nodes.get(), move |list| {
            if list.collectors.is_empty() {
                return view! { <p class="muted">"No node has reported yet."</p> }.into_any();
            }
            view! {
                <table class="list" data-testid="live-nodes">
                    <thead><tr>
                        <th scope="col">"Node"</th><th scope="col">"Runs version"</th>
                        <th scope="col">"Engine"</th><th scope="col">"Problem"</th>
                    </tr></thead>
                    <tbody>
                        {list.collectors.into_iter().map(|c| {
                            let hb = c.heartbeat;
                            let state = match (hb.live_version, current()) {
                                (None, _) => "none yet".to_string(),
                                (Some(v), Some(cur)) if v == cur => format!("{v} (current)"),
                                (Some(v), _) => format!("{v} (behind)"),
                            };
                            let (node, name) = (hb.node.clone(), hb.node);
                            view! {
                                <tr data-testid="live-node-row" data-node=node>
                                    <td>{name}</td>
                                    <td>{state}</td>
                                    <td>{hb.engine_version.unwrap_or_default()}</td>
                                    <td class="error-inline">{hb.compile_error.unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
    }
}
