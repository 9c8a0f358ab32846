//! Reviews (approve or request changes) and the comments that are not shown in the diff: on the
//! proposal as a whole, on an earlier revision, or on a line the diff does not show.

use super::Action;
use super::changes::DiffRows;
use crate::client::Role;
use crate::client::{Comment, NewComment, NewReview, Proposal, Verdict};
use crate::session;
use crate::widgets::format_ns;
use leptos::prelude::*;

#[component]
pub fn Reviews(
    /// The proposal.
    p: Proposal,
    /// The signed-in user wrote it (and so may not review it).
    is_author: bool,
    /// Asks the server to record the review.
    act: Callback<Action>,
    /// An action is running.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let body = RwSignal::new(String::new());
    let review = move |verdict: Verdict| {
        act.run(Action::Review(NewReview {
            verdict,
            body: body.get_untracked(),
        }))
    };
    let revision = p.revision;
    let form = if !p.status.is_active() {
        view! { <p class="muted">{format!("Reviews are over: the proposal is {}.", p.status.as_str())}</p> }.into_any()
    } else if is_author {
        view! { <p class="muted" data-testid="review-self">"You wrote this proposal, so someone else must review it."</p> }.into_any()
    } else if !session::at_least(Role::Reviewer) {
        view! { <p class="muted">"Reviewing needs the reviewer role."</p> }.into_any()
    } else {
        view! {
            <div class="review-form">
                <label for="review-body">{format!("Your review of revision {revision} (optional comment)")}</label>
                <textarea id="review-body" data-testid="review-body" prop:value=body on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                <div class="row">
                    <button class="primary" data-testid="review-approve" disabled=busy on:click=move |_| review(Verdict::Approve)>"Approve"</button>
                    <button data-testid="review-request-changes" disabled=busy on:click=move |_| review(Verdict::RequestChanges)>"Request changes"</button>
                </div>
            </div>
        }
        .into_any()
    };
    view! {
        <section id="reviews" aria-labelledby="reviews-h">
            <h2 id="reviews-h">"Reviews"</h2>
            {p.reviews.is_empty().then(|| view! { <p class="muted">"No reviews yet."</p> })}
            <ul class="reviews">
                {p.reviews.iter().map(|r| {
                    let verdict = r.verdict.as_str();
                    let earlier = (r.revision != revision).then(|| format!(" (of revision {}: an approval of an earlier revision no longer counts)", r.revision));
                    view! {
                        <li data-testid="review" data-verdict=verdict>
                            <strong>{r.reviewer.clone()}</strong>" "
                            <span class=format!("badge {verdict}")>{verdict.replace('_', " ")}</span>" "
                            <span class="muted">{format_ns(r.created_at)}{earlier}</span>
                            {(!r.body.is_empty()).then(|| view! { <p>{r.body.clone()}</p> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {form}
        </section>
    }
}

#[component]
pub fn Comments(
    /// Every comment of the proposal.
    comments: Vec<Comment>,
    /// The diff, which shows some of them under their lines.
    rows: DiffRows,
    /// The current revision.
    revision: i64,
    /// The signed-in user may comment (author or higher).
    can_comment: bool,
    /// Asks the server to add the comment.
    act: Callback<Action>,
    /// An action is running.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let in_diff = comments.iter().filter(|c| rows.shows(c, revision)).count();
    let listed: Vec<Comment> = comments
        .into_iter()
        .filter(|c| !rows.shows(c, revision))
        .collect();
    let body = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        act.run(Action::Comment(NewComment {
            body: body.get_untracked(),
            file: None,
            line: None,
        }));
    };
    view! {
        <section id="comments" aria-labelledby="comments-h">
            <h2 id="comments-h">"Comments"</h2>
            {(in_diff > 0).then(|| view! { <p class="muted">{format!("{in_diff} on lines of the diff, shown under their lines.")}</p> })}
            {(listed.is_empty() && in_diff == 0).then(|| view! { <p class="muted">"No comments yet."</p> })}
            <ul class="comments">
                {listed.into_iter().map(|c| {
                    let place = match (&c.file, c.line) {
                        (Some(f), Some(l)) => format!(" on {f} line {l}"),
                        (Some(f), None) => format!(" on {f}"),
                        _ => String::new(),
                    };
                    let earlier = (c.revision != revision).then(|| format!(" (revision {})", c.revision));
                    view! {
                        <li data-testid="comment">
                            <strong>{c.author}</strong>{place}{earlier}" "<span class="muted">{format_ns(c.created_at)}</span>
                            <p>{c.body}</p>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {can_comment.then(|| view! {
                <form class="comment-form" on:submit=submit>
                    <label for="comment-body">"Comment on the proposal"</label>
                    <textarea id="comment-body" data-testid="comment-body" required prop:value=body on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                    <button type="submit" disabled=busy>"Add comment"</button>
                </form>
            })}
        </section>
    }
}
