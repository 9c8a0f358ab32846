//! Proposals: the list, and one proposal with its evidence (what the changed rules match on
//! stored events, lint, rule tests), its side-by-side diff with line comments, reviews, and the
//! promote button, which says why it cannot be pressed yet.

mod changes;
mod discussion;
mod evidence;

use crate::client::ApiResult;
use crate::client::Role;
use crate::client::calls;
use crate::client::query::ProposalsQuery;
use crate::client::{
    self, ApiError, NewComment, NewReview, PromoteRequest, Promoted, Proposal, RefreshEvidence,
    Status, Verdict, Window,
};
use crate::session;
use crate::widgets::{ConfirmReason, ErrorBox, format_ns, loaded};
use changes::{Changes, DiffRows};
use discussion::{Comments, Reviews};
use evidence::EvidenceView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

const STATUSES: [&str; 4] = ["open", "approved", "promoted", "closed"];

#[component]
pub fn ProposalsPage() -> impl IntoView {
    let status = RwSignal::new("open".to_string());
    let list = LocalResource::new(move || {
        let s = status.get();
        async move {
            let query = ProposalsQuery {
                status: Some(s),
                limit: None,
            };
            client::call::<calls::ListProposals>(&(), &query, &())
                .await
                .map(|l| l.proposals)
        }
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
                    let empty = format!("No {} proposals. Write or edit a rule in the editor and press Propose.", status.get_untracked());
                    return view! { <p class="empty">{empty}</p> }.into_any();
                }
                view! {
                    <table class="list" data-testid="proposals-table">
                        <thead><tr>
                            <th scope="col">"#"</th><th scope="col">"Title"</th><th scope="col">"Author"</th><th scope="col">"Status"</th>
                            <th scope="col" class="num">"Revision"</th><th scope="col" class="num">"Approvals"</th><th scope="col">"Updated"</th>
                        </tr></thead>
                        <tbody>
                            {ps.into_iter().map(|p| view! {
                                <tr data-testid="proposal-row">
                                    <td>{p.id}</td>
                                    <td><a href=format!("/proposals/{}", p.id)>{p.title.clone()}</a></td>
                                    <td>{p.author.clone()}</td>
                                    <td><span class=format!("badge {}", p.status.as_str())>{p.status.as_str()}</span></td>
                                    <td class="num">{p.revision}</td>
                                    <td class="num">{format!("{} of {}", p.approvals, p.required_approvals)}</td>
                                    <td>{format_ns(p.updated_at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// What the page asks the server to do with the proposal.
#[derive(Debug, Clone)]
pub enum Action {
    Comment(NewComment),
    Review(NewReview),
    /// With the reason for the audit trail.
    Promote(String),
    /// Over another window (`None`: the one it was computed on).
    RefreshEvidence(Option<Window>),
    Rebase,
    Close,
}

/// What the server answered an [`Action`] with.
enum Outcome {
    /// The live version a promotion made.
    Promoted(Promoted),
    /// The proposal as it now is.
    Updated(Box<Proposal>),
}

impl Action {
    /// Sends the action on proposal `id`.
    async fn send(&self, id: i64) -> ApiResult<Outcome> {
        use calls::*;
        let updated = match self {
            Action::Comment(c) => client::call::<CommentOnProposal>(&id, &(), c).await,
            Action::Review(r) => client::call::<ReviewProposal>(&id, &(), r).await,
            Action::Promote(reason) => {
                let why = Some(PromoteRequest {
                    reason: reason.clone(),
                });
                return client::call::<PromoteProposal>(&id, &(), &why)
                    .await
                    .map(Outcome::Promoted);
            }
            Action::RefreshEvidence(window) => {
                let over = Some(RefreshEvidence {
                    window: window.clone(),
                });
                client::call::<RefreshProposalEvidence>(&id, &(), &over).await
            }
            Action::Rebase => client::call::<RebaseProposal>(&id, &(), &()).await,
            Action::Close => client::call::<CloseProposal>(&id, &(), &()).await,
        };
        updated.map(|p| Outcome::Updated(Box::new(p)))
    }

    /// What the page says once the server did it, given the proposal it answered with.
    fn done(&self, p: &Proposal) -> String {
        match self {
            Action::Comment(_) => "Comment added.".into(),
            Action::Review(r) => match r.verdict {
                Verdict::Approve => format!("You approved revision {}.", p.revision),
                Verdict::RequestChanges => {
                    format!("You requested changes to revision {}.", p.revision)
                }
            },
            Action::RefreshEvidence(_) => format!(
                "Evidence computed again at {}.",
                format_ns(p.evidence.computed_at)
            ),
            Action::Rebase => format!(
                "Revision {} is based on live version {}; the diff and the evidence are new.",
                p.revision, p.base_version
            ),
            Action::Close => format!("Proposal #{} is closed.", p.id),
            Action::Promote(_) => String::new(),
        }
    }
}

#[component]
pub fn ProposalPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let proposal = RwSignal::new(None::<Result<Proposal, ApiError>>);
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let reload = move |id: String| {
        spawn_local(async move {
            let answer = match id.parse::<i64>() {
                Ok(id) => client::call::<calls::GetProposal>(&id, &(), &()).await,
                Err(_) => Err(ApiError::Address(format!(
                    "`{id}` is not a proposal number"
                ))),
            };
            proposal.set(Some(answer))
        });
    };
    Effect::new(move |_| {
        proposal.set(None);
        reload(id());
    });
    let act = Callback::new(move |action: Action| {
        let Some(Ok(p)) = proposal.get_untracked() else {
            return;
        };
        busy.set(true);
        notice.set(None);
        spawn_local(async move {
            let outcome = match action.send(p.id).await {
                Ok(Outcome::Promoted(done)) => {
                    notice.set(Some(format!(
                        "Promoted: the live set is now version {}.",
                        done.live_version
                    )));
                    reload(p.id.to_string());
                    Ok(())
                }
                Ok(Outcome::Updated(updated)) => {
                    notice.set(Some(action.done(&updated)));
                    proposal.set(Some(Ok(*updated)));
                    Ok(())
                }
                Err(e) => Err(e),
            };
            error.set(outcome.err());
            busy.set(false);
        });
    });
    view! {
        <section class="page proposal-page">
            {move || error.get().map(|e| {
                let reasons = e.reasons();
                let head = match &e {
                    ApiError::Server { message, .. } if reasons.len() > 1 || reasons.first() != Some(message) => Some(message.clone()),
                    _ => None,
                };
                view! {
                    <div class="error" role="alert" data-testid="proposal-error">
                        {head.map(|h| view! { <strong>{h}</strong> })}
                        <ul>{reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                    </div>
                }
            })}
            {move || notice.get().map(|n| view! { <p class="ok" role="status" data-testid="proposal-notice">{n}</p> })}
            {move || match proposal.get() {
                Some(Err(e)) => view! { <ErrorBox error=e /> <p><a href="/proposals">"All proposals"</a></p> }.into_any(),
                state => loaded(state, |p| view! { <ProposalView p=p act=act busy=busy /> }),
            }}
        </section>
    }
}

#[component]
fn ProposalView(
    /// The proposal as the server reports it.
    p: Proposal,
    /// Asks the server to do something with the proposal.
    act: Callback<Action>,
    /// An action is running: its buttons wait.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let me = session::user().get_untracked();
    let is_author = me.as_ref().is_some_and(|u| u.username == p.author);
    let active = p.status.is_active();
    let rows = DiffRows::new(&p.diff);
    let status_line = match (p.status, p.live_version) {
        (Status::Promoted, Some(v)) => {
            let later = p.rolled_back.clone().map(|r| {
                let why = if r.reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.reason)
                };
                format!(
                    ", rolled back by {} at {}{why}: live set version {} restored version {}",
                    r.by,
                    format_ns(r.at),
                    r.live_version,
                    r.to
                )
            });
            let class = if later.is_some() { "warn" } else { "ok" };
            Some(
                view! { <p class=class data-testid="proposal-fate">"Promoted as live set version "<a href="/live">{v}</a>{later}"."</p> }
                    .into_any(),
            )
        }
        (Status::Closed, _) => {
            Some(view! { <p class="muted">"Closed without being promoted."</p> }.into_any())
        }
        _ => None,
    };
    view! {
        <div class="pane-head">
            <h1>{format!("#{} {}", p.id, p.title)}</h1>
            <span class=format!("badge {}", p.status.as_str()) data-testid="proposal-status">{p.status.as_str()}</span>
        </div>
        <p class="muted">
            {format!("by {} · revision {} · based on live version {} · updated {}", p.author, p.revision, p.base_version, format_ns(p.updated_at))}
        </p>
        {(!p.description.is_empty()).then(|| view! { <p class="description">{p.description.clone()}</p> })}
        {status_line}
        {active.then(|| view! { <Gate p=p.clone() is_author=is_author act=act busy=busy /> })}
        <nav class="jump" aria-label="On this page">
            <a href="#evidence">"Evidence"</a>
            <a href="#changes">{match p.diff.len() { 1 => "Changes (1 file)".to_string(), n => format!("Changes ({n} files)") }}</a>
            <a href="#reviews">{format!("Reviews ({})", p.reviews.len())}</a>
            <a href="#comments">{format!("Comments ({})", p.comments.len())}</a>
        </nav>
        <EvidenceView evidence=p.evidence.clone() rows=rows.clone() can_refresh=active && session::at_least(Role::Author) act=act busy=busy />
        <Changes rows=rows.clone() comments=p.comments.clone() revision=p.revision can_comment=session::at_least(Role::Author) act=act busy=busy />
        <Reviews p=p.clone() is_author=is_author act=act busy=busy />
        <Comments comments=p.comments.clone() rows=rows revision=p.revision can_comment=session::at_least(Role::Author) act=act busy=busy />
    }
}

/// Promote, with the server's reasons when it would refuse; rebase and close.
#[component]
fn Gate(
    /// The proposal (open or approved).
    p: Proposal,
    /// The signed-in user wrote it.
    is_author: bool,
    /// Asks the server to do something with the proposal.
    act: Callback<Action>,
    /// An action is running.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let may_promote = session::at_least(Role::Reviewer);
    let may_manage = is_author || may_promote;
    // The server's own list of what promotion would refuse for, and the caller's role.
    let mut why = p.blockers.clone();
    if !may_promote {
        let role = session::user()
            .get_untracked()
            .map_or("signed out", |u| u.role.as_str());
        why.push(format!(
            "promoting needs the reviewer role (you are {role})"
        ));
    }
    let blocked = !why.is_empty();
    let confirm_close = RwSignal::new(false);
    let confirm_promote = RwSignal::new(false);
    let promote_title = "Promote this proposal?".to_string();
    let promote_detail = format!(
        "Proposal #{} \"{}\" becomes the next live set version; alerts follow it at once.",
        p.id, p.title
    );
    let approvals = format!(
        "{} of {} approvals on revision {}",
        p.approvals, p.required_approvals, p.revision
    );
    view! {
        <div class="gate card" aria-label="Promotion">
            <div class="actions">
                <button class="primary" data-testid="proposal-promote" disabled=move || blocked || busy.get()
                    aria-describedby="promote-why" on:click=move |_| confirm_promote.set(true)>"Promote"</button>
                <span class="muted" data-testid="proposal-approvals">{approvals}</span>
                <span class="spacer"></span>
                {may_manage.then(|| view! {
                    <button data-testid="proposal-rebase" disabled=busy title="Carry the changes onto the current live set and compute diff and evidence anew"
                        on:click=move |_| act.run(Action::Rebase)>"Rebase"</button>
                    <Show when=move || !confirm_close.get()
                        fallback=move || view! {
                            <span class="confirm" role="group" aria-label="Confirm closing">
                                "Close without promoting?"
                                <button data-testid="proposal-close-confirm" disabled=busy on:click=move |_| act.run(Action::Close)>"Close proposal"</button>
                                <button class="link" on:click=move |_| confirm_close.set(false)>"Keep open"</button>
                            </span>
                        }>
                        <button data-testid="proposal-close" on:click=move |_| confirm_close.set(true)>"Close"</button>
                    </Show>
                })}
            </div>
            <ConfirmReason open=confirm_promote title=promote_title detail=promote_detail
                confirm="Promote" testid="promote-confirm" on_confirm=Callback::new(move |reason| act.run(Action::Promote(reason))) />
            <div id="promote-why">
                {if blocked {
                    view! {
                        <p class="why-head">"Promote is disabled because:"</p>
                        <ul class="why" data-testid="promote-blockers">{why.into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}</ul>
                    }.into_any()
                } else {
                    view! { <p class="ok" data-testid="promote-ready">"Nothing blocks promotion."</p> }.into_any()
                }}
            </div>
        </div>
    }
}
