//! The proposal's changes: each file's diff side by side, old on the left and new on the right,
//! with line comments under the lines they are about and a form to comment on any new line.

use super::Action;
use crate::client::{Comment, FileDiff, FileStatus, NewComment};
use crate::diff::{self, Row, RowKind};
use crate::widgets::format_ns;
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Each changed file's rows, and which lines of its new content they show.
#[derive(Clone)]
pub struct DiffRows(Arc<Vec<FileRows>>);

struct FileRows {
    diff: FileDiff,
    rows: Vec<Row>,
    shown: BTreeSet<u32>,
}

impl DiffRows {
    pub fn new(diffs: &[FileDiff]) -> DiffRows {
        let files = diffs
            .iter()
            .map(|d| {
                let rows = diff::side_by_side(&d.hunks);
                let shown = rows
                    .iter()
                    .filter(|r| r.kind != RowKind::Hunk)
                    .filter_map(|r| r.new.as_ref().map(|(n, _)| *n))
                    .collect();
                FileRows {
                    diff: d.clone(),
                    rows,
                    shown,
                }
            })
            .collect();
        DiffRows(Arc::new(files))
    }

    /// The element id of line `line` of `file`'s new content, when the diff shows that line.
    pub fn anchor(&self, file: &str, line: u32) -> Option<String> {
        let index = self.0.iter().position(|f| f.diff.file == file)?;
        self.0[index]
            .shown
            .contains(&line)
            .then(|| line_id(index, line))
    }

    /// Whether `c` is shown under its line in the diff (a line comment on the current revision
    /// whose line the diff shows); the others are listed with their place.
    pub fn shows(&self, c: &Comment, revision: i64) -> bool {
        match (&c.file, c.line) {
            (Some(file), Some(line)) => c.revision == revision && self.anchor(file, line).is_some(),
            _ => false,
        }
    }
}

fn line_id(file_index: usize, line: u32) -> String {
    format!("diff-{file_index}-L{line}")
}

#[component]
pub fn Changes(
    /// The diff, file by file.
    rows: DiffRows,
    /// Every comment of the proposal; those on a shown line of this revision appear under it.
    comments: Vec<Comment>,
    /// The current revision.
    revision: i64,
    /// The signed-in user may comment (author or higher).
    can_comment: bool,
    /// Asks the server to add the comment.
    act: Callback<Action>,
    /// An action is running.
    busy: RwSignal<bool>,
) -> impl IntoView {
    // The line being commented on: (file, line of its new content).
    let comment_at = RwSignal::new(None::<(String, u32)>);
    // The router scrolls to a `#diff-…` line (a diagnostic's place) with history.pushState, so
    // `:target` never applies: mark the line for the eye instead.
    let hash = use_location().hash;
    Effect::new(move |_| {
        let doc = document();
        if let Ok(Some(old)) = doc.query_selector("tr[data-target]") {
            let _ = old.remove_attribute("data-target");
        }
        let id = hash.get();
        if let Some(el) = id
            .strip_prefix('#')
            .filter(|id| id.starts_with("diff-"))
            .and_then(|id| doc.get_element_by_id(id))
        {
            let _ = el.set_attribute("data-target", "");
        }
    });
    let files = rows.0.clone();
    view! {
        <section id="changes" aria-labelledby="changes-h">
            <h2 id="changes-h">"Changes"</h2>
            {files.is_empty().then(|| view! { <p class="empty">"This revision changes no file."</p> })}
            {can_comment.then(|| view! {
                <p class="muted hint">"Press a line number of the proposal's side to comment on that line."</p>
            })}
            {files.iter().enumerate().map(|(index, f)| {
                let file = f.diff.file.clone();
                let sides = Sides::of(f.diff.status);
                let here: Vec<Comment> = comments.iter().filter(|c| rows.shows(c, revision) && c.file.as_deref() == Some(&file)).cloned().collect();
                view! {
                    <div class="diff" data-testid="proposal-diff" data-file=file.clone()>
                        <h3>
                            <span class=format!("badge {}", file_status(f.diff.status))>{file_status(f.diff.status)}</span>
                            " "{file.clone()}
                        </h3>
                        <table>
                            <caption class="sr-only">{sides.caption(&file)}</caption>
                            <colgroup>
                                {sides.old.then(|| view! { <col class="ln" /><col /> })}
                                {sides.new.then(|| view! { <col class="ln" /><col /> })}
                            </colgroup>
                            <tbody>
                                {f.rows.iter().map(|r| row(index, &file, sides, r, &here, comment_at, can_comment, act, busy)).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            }).collect_view()}
        </section>
    }
}

/// Which sides a file's table shows: an added file has no old side, a deleted one no new side.
#[derive(Clone, Copy)]
struct Sides {
    old: bool,
    new: bool,
}

impl Sides {
    fn of(status: FileStatus) -> Sides {
        Sides {
            old: status != FileStatus::Added,
            new: status != FileStatus::Deleted,
        }
    }

    fn columns(self) -> u8 {
        2 * (u8::from(self.old) + u8::from(self.new))
    }

    fn caption(self, file: &str) -> String {
        match (self.old, self.new) {
            (true, true) => format!(
                "Changes to {file}: the base version on the left, the proposal on the right"
            ),
            (false, _) => format!("{file}, which the proposal adds"),
            (true, false) => format!("{file}, which the proposal deletes"),
        }
    }
}

fn file_status(s: FileStatus) -> &'static str {
    match s {
        FileStatus::Added => "added",
        FileStatus::Modified => "modified",
        FileStatus::Deleted => "deleted",
    }
}

/// One row of the side-by-side table, and under it the comments on its new line and, when the
/// user chose that line, the comment form.
#[allow(clippy::too_many_arguments)]
fn row(
    index: usize,
    file: &str,
    sides: Sides,
    r: &Row,
    comments: &[Comment],
    comment_at: RwSignal<Option<(String, u32)>>,
    can_comment: bool,
    act: Callback<Action>,
    busy: RwSignal<bool>,
) -> AnyView {
    if r.kind == RowKind::Hunk {
        let text = r.new.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
        return view! { <tr class="hunk"><td colspan=sides.columns()><pre>{text}</pre></td></tr> }
            .into_any();
    }
    let changed = r.kind == RowKind::Changed;
    let line = r.new.as_ref().map(|(n, _)| *n);
    let on_line: Vec<Comment> = comments
        .iter()
        .filter(|c| line.is_some() && c.line == line)
        .cloned()
        .collect();
    let file = file.to_string();
    let number = line.map(|n| {
        if !can_comment {
            return view! { <span>{n}</span> }.into_any();
        }
        let (f, label) = (file.clone(), format!("Comment on line {n} of {file}"));
        view! {
            <button class="ln-btn" data-testid="diff-line" data-line=n aria-label=label title="Comment on this line"
                on:click=move |_| comment_at.set(Some((f.clone(), n)))>{n}</button>
        }
        .into_any()
    });
    let thread = line.map(|n| {
        let target = (file.clone(), n);
        let chosen = Signal::derive(move || comment_at.with(|c| c.as_ref() == Some(&target)));
        let has_comments = !on_line.is_empty();
        let file = file.clone();
        view! {
            <Show when=move || has_comments || chosen.get()>
                <tr class="comment-row">
                    <td colspan=sides.columns()>
                        <ul class="line-comments">
                            {on_line.iter().map(|c| view! {
                                <li data-testid="line-comment" data-file=file.clone() data-line=n>
                                    <strong>{c.author.clone()}</strong>" "<span class="muted">{format_ns(c.created_at)}</span>
                                    <p>{c.body.clone()}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                        {
                            let file = file.clone();
                            move || chosen.get().then(|| view! { <LineCommentForm file=file.clone() line=n comment_at=comment_at act=act busy=busy /> })
                        }
                    </td>
                </tr>
            </Show>
        }
    });
    view! {
        <tr class:changed=changed id=line.map(|n| line_id(index, n))>
            {sides.old.then(|| view! {
                <td class="ln">{r.old.as_ref().map(|(n, _)| *n)}</td>
                <td class:del=changed && r.old.is_some()><pre>{r.old.as_ref().map(|(_, t)| t.clone())}</pre></td>
            })}
            {sides.new.then(|| view! {
                <td class="ln">{number}</td>
                <td class:add=changed && r.new.is_some()><pre>{r.new.as_ref().map(|(_, t)| t.clone())}</pre></td>
            })}
        </tr>
        {thread}
    }
    .into_any()
}

#[component]
fn LineCommentForm(
    /// The file commented on.
    file: String,
    /// The line of its new content.
    line: u32,
    /// Cleared on cancel.
    comment_at: RwSignal<Option<(String, u32)>>,
    /// Asks the server to add the comment.
    act: Callback<Action>,
    /// An action is running.
    busy: RwSignal<bool>,
) -> impl IntoView {
    let body = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Textarea>::new();
    // The form opens where the user pressed; typing can start at once.
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    let label = format!("Comment on line {line} of {file}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let comment = NewComment {
            body: body.get_untracked(),
            file: Some(file.clone()),
            line: Some(line),
        };
        act.run(Action::Comment(comment));
    };
    view! {
        <form class="comment-form line" data-testid="line-comment-form" on:submit=submit
            on:keydown=move |ev| if ev.key() == "Escape" { comment_at.set(None) }>
            <label for="line-comment-body">{label}</label>
            <textarea id="line-comment-body" data-testid="line-comment-body" required node_ref=input
                prop:value=body on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            <div class="row">
                <button type="submit" class="primary" data-testid="line-comment-submit" disabled=busy>"Add comment"</button>
                <button type="button" on:click=move |_| comment_at.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_api::proposals::{DiffLine, Hunk, LineKind};

    fn line(kind: LineKind, text: &str, old: Option<u32>, new: Option<u32>) -> DiffLine {
        DiffLine {
            kind,
            text: text.into(),
            old,
            new,
            no_newline: false,
        }
    }

    fn comment(line: u32, revision: i64) -> Comment {
        Comment {
            id: 1,
            author: "a".into(),
            body: "b".into(),
            file: Some("x.yaml".into()),
            line: Some(line),
            revision,
            created_at: 0,
        }
    }

    #[test]
    fn comments_sit_under_lines_the_diff_shows_of_the_current_revision() {
        let diff = FileDiff {
            file: "x.yaml".into(),
            status: FileStatus::Modified,
            diff: "--- a/x.yaml\n+++ b/x.yaml\n@@ -10,3 +10,3 @@\n keep\n-old\n+new\n tail\n"
                .into(),
            hunks: vec![Hunk {
                header: "@@ -10,3 +10,3 @@".into(),
                lines: vec![
                    line(LineKind::Context, "keep", Some(10), Some(10)),
                    line(LineKind::Removed, "old", Some(11), None),
                    line(LineKind::Added, "new", None, Some(11)),
                    line(LineKind::Context, "tail", Some(12), Some(12)),
                ],
            }],
        };
        let rows = DiffRows::new(&[diff]);
        assert_eq!(rows.anchor("x.yaml", 11).as_deref(), Some("diff-0-L11"));
        assert_eq!(rows.anchor("x.yaml", 13), None, "outside the hunk");
        assert_eq!(rows.anchor("y.yaml", 11), None, "not a changed file");
        assert!(rows.shows(&comment(11, 2), 2));
        assert!(
            !rows.shows(&comment(11, 1), 2),
            "line numbers of an earlier revision"
        );
        assert!(!rows.shows(&comment(40, 2), 2));
    }
}
