//! Proposals: the list, and one proposal with its side-by-side diff, evidence, line comments,
//! reviews and the promote button (which says why it cannot be pressed yet).

use crate::client::{self, ApiError, NewComment, NewReview, Promoted, Proposal, ProposalList, Verdict};
use crate::diff::{self, RowKind};
use crate::session;
use crate::widgets::loaded;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

const STATUSES: [&str; 4] = ["open", "approved", "promoted", "closed"];

#[component]
pub fn ProposalsPage() -> impl IntoView {
    let status = RwSignal::new("open".to_string());
    let list = LocalResource::new(move || {
        let s = status.get();
        async move { client::get::<ProposalList>(&format!("/proposals?status={s}")).await.map(|l| l.proposals) }
    });
    view! {
        <section class="page">
            <div class="pane-head">
                <h1>"Proposals"</h1>
                <div role="tablist" aria-label="Status" class="tabs">
                    {STATUSES.iter().map(|&s| view! {
                        <button role="tab" aria-selected=move || (status.get() == s).to_string() on:click=move |_| status.set(s.to_string())>{s}</button>
                    }).collect_view()}
                </div>
                <a class="button primary" href="/rules/new">"New rule"</a>
            </div>
            {move || loaded(list.get(), |ps| {
                if ps.is_empty() {
                    return view! { <p class="empty">"No proposals with this status. Write a rule in the editor and press Propose."</p> }.into_any();
                }
                view! {
                    <table class="list" data-testid="proposals-table">
                        <thead><tr><th scope="col">"#"</th><th scope="col">"Title"</th><th scope="col">"Author"</th><th scope="col">"Status"</th><th scope="col">"Revision"</th></tr></thead>
                        <tbody>
                            {ps.into_iter().map(|p| view! {
                                <tr data-testid="proposal-row">
                                    <td>{p.id}</td>
                                    <td><a href=format!("/proposals/{}", p.id)>{p.title.clone()}</a></td>
                                    <td>{p.author.clone()}</td>
                                    <td><span class=format!("badge {}", p.status.as_str())>{p.status.as_str()}</span></td>
                                    <td>{p.revision}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

#[component]
pub fn ProposalPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let proposal = LocalResource::new(move || {
        let id = id();
        async move { client::get::<Proposal>(&format!("/proposals/{id}")).await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let act = Callback::new(move |(path, body): (String, Value)| {
        spawn_local(async move {
            match client::post::<_, Value>(&path, &body).await {
                Ok(v) => {
                    error.set(None);
                    if let Ok(p) = serde_json::from_value::<Promoted>(v) {
                        notice.set(Some(format!("Promoted: live set version {}.", p.live_version)));
                    }
                    proposal.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    view! {
        <section class="page">
            {move || error.get().map(|e| {
                let reasons = e.reasons();
                view! { <div class="error" role="alert" data-testid="proposal-error"><ul>{reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul></div> }
            })}
            {move || notice.get().map(|n| view! { <p class="ok" role="status" data-testid="proposal-notice">{n}</p> })}
            {move || loaded(proposal.get(), |p| view! { <ProposalView p=p act=act /> })}
        </section>
    }
}

#[component]
fn ProposalView(
    /// The proposal as the server reports it.
    p: Proposal,
    /// Posts `(path, body)` and reloads the proposal.
    act: Callback<(String, Value)>,
) -> impl IntoView {
    let id = p.id;
    let me = session::user().get_untracked().map(|u| u.username).unwrap_or_default();
    let is_author = me == p.author;
    // The server's own list of what promotion would refuse for.
    let blockers = p.blockers.clone();
    let review_body = RwSignal::new(String::new());
    let comment_body = RwSignal::new(String::new());
    let comment_at = RwSignal::new(None::<(String, u32)>);
    let review = move |verdict: Verdict| {
        act.run((format!("/proposals/{id}/reviews"), serde_json::to_value(NewReview { verdict, body: review_body.get_untracked() }).unwrap_or_default()))
    };
    let comment = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (file, line) = comment_at.get_untracked().map_or((None, None), |(f, l)| (Some(f), Some(l)));
        act.run((format!("/proposals/{id}/comments"), serde_json::to_value(NewComment { body: comment_body.get_untracked(), file, line }).unwrap_or_default()));
        comment_body.set(String::new());
    };
    let files: Vec<(String, String)> = p.diff.iter().map(|d| (d.file.clone(), d.diff.clone())).collect();
    let evidence = serde_json::to_string_pretty(&p.evidence).unwrap_or_default();
    let blocked = !blockers.is_empty();
    view! {
        <div class="pane-head">
            <h1>{format!("#{} {}", p.id, p.title)}</h1>
            <span class=format!("badge {}", p.status.as_str()) data-testid="proposal-status">{p.status.as_str()}</span>
        </div>
        <p class="muted">{format!("by {} · revision {} · based on live version {}", p.author, p.revision, p.base_version)}</p>
        {(!p.description.is_empty()).then(|| view! { <p>{p.description.clone()}</p> })}
        <div class="actions">
            <button class="primary" data-testid="proposal-promote" disabled=blocked
                aria-describedby="promote-why" on:click=move |_| act.run((format!("/proposals/{id}/promote"), Value::Null))>"Promote"</button>
            <ul id="promote-why" class="why" data-testid="promote-blockers">{blockers.into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}</ul>
            <button on:click=move |_| act.run((format!("/proposals/{id}/rebase"), Value::Null))>"Rebase"</button>
            <button on:click=move |_| act.run((format!("/proposals/{id}/close"), Value::Null))>"Close"</button>
        </div>
        <h2>"Changes"</h2>
        {if files.is_empty() { Some(view! { <p class="muted">"No changes."</p> }) } else { None }}
        {files.into_iter().map(|(file, d)| {
            let rows = diff::side_by_side(&d);
            view! {
                <div class="diff" data-testid="proposal-diff">
                    <h3>{file.clone()}</h3>
                    <table>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let class = match r.kind { RowKind::Same => "same", RowKind::Changed => "changed", RowKind::Hunk => "hunk" };
                                let line = r.new.as_ref().map(|(n, _)| *n).filter(|_| r.kind != RowKind::Hunk);
                                let f = file.clone();
                                view! {
                                    <tr class=class>
                                        <td class="ln">{r.old.as_ref().map(|(n, _)| *n)}</td>
                                        <td class:del=r.kind == RowKind::Changed && r.old.is_some()><pre>{r.old.clone().map(|(_, t)| t)}</pre></td>
                                        <td class="ln">
                                            {line.map(|n| view! {
                                                <button class="link" title="Comment on this line" on:click=move |_| comment_at.set(Some((f.clone(), n)))>{n}</button>
                                            })}
                                        </td>
                                        <td class:add=r.kind == RowKind::Changed && r.new.is_some()><pre>{r.new.clone().map(|(_, t)| t)}</pre></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
        }).collect_view()}
        <h2>"Evidence"</h2>
        <pre class="source" data-testid="proposal-evidence">{evidence}</pre>
        <h2>"Reviews"</h2>
        <ul class="reviews">
            {p.reviews.iter().map(|r| view! { <li><strong>{r.reviewer.clone()}</strong>" "<span class=format!("badge {}", r.verdict.as_str())>{r.verdict.as_str().replace('_', " ")}</span>{format!(" (revision {}) ", r.revision)}{r.body.clone()}</li> }).collect_view()}
        </ul>
        <Show when=move || !is_author fallback=|| view! { <p class="muted">"You wrote this proposal, so someone else must review it."</p> }>
            <div class="review-form">
                <label for="review-body">"Review"</label>
                <textarea id="review-body" prop:value=review_body on:input=move |ev| review_body.set(event_target_value(&ev))></textarea>
                <button class="primary" data-testid="review-approve" on:click=move |_| review(Verdict::Approve)>"Approve"</button>
                <button data-testid="review-request-changes" on:click=move |_| review(Verdict::RequestChanges)>"Request changes"</button>
            </div>
        </Show>
        <h2>"Comments"</h2>
        <ul class="comments">
            {p.comments.iter().map(|c| view! {
                <li><strong>{c.author.clone()}</strong>{c.file.clone().map(|f| format!(" on {f}:{}", c.line.unwrap_or(0)))}": "{c.body.clone()}</li>
            }).collect_view()}
        </ul>
        <form class="comment-form" on:submit=comment>
            <label for="comment-body">{move || comment_at.get().map_or("Comment".to_string(), |(f, l)| format!("Comment on {f}:{l}"))}</label>
            <textarea id="comment-body" required prop:value=comment_body on:input=move |ev| comment_body.set(event_target_value(&ev))></textarea>
            <button type="submit">"Add comment"</button>
        </form>
    }
}
