//! The rule editor page: CodeMirror (through `editor::bridge`) with diagnostics from the
//! in-browser engine after each pause in typing, completion and hover help, fixes (each one
//! undo step; "Fix all safe fixes"), the problems panel, the draft kept in this browser, the
//! compiled condition, the preview panel and "Propose".

use crate::client::calls;
use crate::client::query::LiveQuery;
use crate::client::{self, ApiError, FileChange, NewProposal, RulesFile};
use crate::editor::bridge::Editor;
use crate::editor::complete::Vocabulary;
use crate::editor::item::{self, Used};
use crate::editor::leave::LeaveGuard;
use crate::editor::lint::{self, LintReport, Workspace};
use crate::editor::worker::{LintClient, Reply};
use crate::pages::preview::PreviewPanel;
use crate::pages::ruletests::{forget_tests, stored_tests};
use crate::widgets::ErrorBox;
use crate::window_pick::WindowPick;
use crate::{session, storage};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_url};
use rulestudio_api::diagnostic::{Applicability, DiagnosticJson};
use rulestudio_api::ruletest;
use rulestudio_engine::loader::{LoadOptions, SourceFile, load};
use std::time::Duration;

const NEW_RULE: &str = "- rule: My new rule\n  desc: Describe what this detects and why it matters\n  condition: spawned_process and proc.name = \"\"\n  output: \"%proc.name started by %user.name (command=%proc.cmdline container=%container.name)\"\n  priority: WARNING\n  tags: [custom]\n";

/// The file a new rule is proposed into when it does not replace a live rule.
const CUSTOM_FILE: &str = "custom_rules.yaml";

/// Where the edited rule came from in the live set, to write it back on "Propose".
#[derive(Debug, Clone, PartialEq)]
struct Origin {
    file: String,
    range: std::ops::Range<usize>,
}

/// A live rule opened for editing: its whole item, where it is, and what it uses.
struct Found {
    text: String,
    origin: Origin,
    uses: Vec<Used>,
}

/// The live rule `name` (its defining item, as written), or why it cannot be edited here.
fn find_rule(files: &[SourceFile], name: &str) -> Result<Found, String> {
    let loaded = load(files, &LoadOptions::default());
    let rule = loaded
        .rules
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| format!("The live set has no rule named \"{name}\"."))?;
    let file = files
        .get(rule.span.file.0 as usize)
        .ok_or_else(|| format!("The rule \"{name}\" is in no live file."))?;
    let range = item::item_range(&file.text, rule.span.range().start).ok_or_else(|| {
        format!(
            "The rule \"{name}\" in {} is not a block item (`- rule: …` over several lines), so it cannot be edited here.",
            file.name
        )
    })?;
    let texts: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.name.as_str(), f.text.as_str()))
        .collect();
    Ok(Found {
        text: format!("{}\n", &file.text[range.clone()]),
        origin: Origin {
            file: file.name.clone(),
            range,
        },
        uses: item::uses(&loaded, &texts, name),
    })
}

/// Where "Edit" opens live rule `name`. The name travels in the query: in a path segment the
/// router's link handling decodes part of it (`%25` but not `%2F`), which loses names holding
/// `%` or `/`.
pub fn edit_href(name: &str) -> String {
    format!("/rules/edit?rule={}", client::enc(name))
}

/// The rule named by the address ([`edit_href`]), decoded once: the router's own query map
/// decodes values twice, which would turn a name's `%41` into `A`.
fn edited_rule() -> Option<String> {
    let search = use_url().with_untracked(|u| u.search().to_string());
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get("rule")
}

/// The live set's files with the draft written in: replacing the edited rule, or appended to
/// the custom rules file.
/// Brings the draft signal up to the editor's text now (see [`crate::pages::preview`] and
/// [`crate::pages::ruletests`], which read the draft at a click).
#[derive(Clone, Copy)]
pub struct SyncDraft(pub Callback<()>);

impl SyncDraft {
    /// The page's, captured when a component is created (event handlers run without an owner).
    pub fn here() -> Option<SyncDraft> {
        use_context::<SyncDraft>()
    }

    pub fn run(this: Option<SyncDraft>) {
        if let Some(SyncDraft(cb)) = this {
            cb.run(());
        }
    }
}

fn proposed_files(live: &[RulesFile], draft: &str, origin: Option<&Origin>) -> Vec<FileChange> {
    match origin {
        Some(o) => live
            .iter()
            .filter(|f| f.name == o.file)
            .filter_map(|f| {
                let mut content = f.content.clone();
                content.get(o.range.clone())?;
                content.replace_range(o.range.clone(), draft.trim_end());
                Some(FileChange::write(f.name.clone(), content))
            })
            .collect(),
        None => {
            let existing = live
                .iter()
                .find(|f| f.name == CUSTOM_FILE)
                .map(|f| f.content.clone())
                .unwrap_or_default();
            let sep = if existing.is_empty() || existing.ends_with("\n\n") {
                ""
            } else if existing.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            vec![FileChange::write(
                CUSTOM_FILE,
                format!("{existing}{sep}{draft}"),
            )]
        }
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// How long typing pauses before the draft is linted (and saved): a burst of keystrokes costs
/// one lint, and no lint runs on a keystroke's path.
const LINT_PAUSE: Duration = Duration::from_millis(30);

#[component]
pub fn EditorPage() -> impl IntoView {
    let editing = edited_rule();
    let live = LocalResource::new(|| async {
        client::call::<calls::GetLive>(&(), &LiveQuery::default(), &()).await
    });
    // The draft as last read from the editor (for the preview, the tests and proposing).
    let text = RwSignal::new(String::new());
    // What the draft started from: the live rule, or the new-rule template.
    let original = StoredValue::new(String::new());
    let origin = RwSignal::new(None::<Origin>);
    let uses = RwSignal::new(Vec::<Used>::new());
    let open_error = RwSignal::new(None::<String>);
    let pick = WindowPick::preferred();
    let workspace = StoredValue::new(None::<Workspace>);
    let report = RwSignal::new(LintReport::default());
    let lint_ms = RwSignal::new(None::<f64>);
    // Lint passes so far, and the length of the text the last one saw (tests and the benchmark
    // wait on them).
    let lints = RwSignal::new(0u32);
    let linted_bytes = RwSignal::new(0usize);
    // Lints started (in the page or posted to the worker).
    let lints_started = RwSignal::new(0u32);
    let ready = RwSignal::new(false);
    let restored = RwSignal::new(false);
    let fixed_count = RwSignal::new(None::<usize>);
    let show_compiled = RwSignal::new(false);
    let host = NodeRef::<html::Div>::new();
    let editor = StoredValue::new_local(None::<Editor>);
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let leave_to = RwSignal::new(None::<String>);
    let draft_name = editing.clone().unwrap_or_default();

    let current = move || editor.with_value(|e| e.as_ref().map(Editor::text));
    // The preview, the tests and the exception suggestion act on the text as it is at their
    // click, which may come within the lint's pause, before `text` has caught up.
    provide_context(SyncDraft(Callback::new(move |()| {
        if let Some(t) = current()
            && text.with_untracked(|x| *x != t)
        {
            text.set(t);
        }
    })));
    let dirty = move || current().is_some_and(|t| original.with_value(|o| t != *o));
    let save_draft = {
        let name = draft_name.clone();
        move || {
            if dirty() {
                text.with_untracked(|t| storage::set(storage::DRAFT, &name, t));
            } else {
                storage::remove(storage::DRAFT, &name);
            }
        }
    };
    // The lint runs in a worker once it is ready (`editor::worker`), in the page until then.
    let lint_client = StoredValue::new_local(None::<LintClient>);
    let worker_ready = StoredValue::new(false);
    // The number and text of the last text posted to the worker: only its report is shown.
    let posted = StoredValue::new((0u32, String::new()));
    let accept_report = {
        let save_draft = save_draft.clone();
        move |linted: String, r: LintReport, ms: f64| {
            linted_bytes.set(linted.len());
            text.set(linted);
            lint_ms.set(Some(ms));
            lints.update(|n| *n += 1);
            // Most pauses in typing change no diagnostic: the marks CodeMirror already shows
            // have followed the edits, and re-drawing them (or the problems panel) would put
            // the page's work for hundreds of diagnostics in front of the next keystroke.
            if report.with_untracked(|old| old.diagnostics != r.diagnostics) {
                editor.with_value(|e| {
                    if let Some(e) = e {
                        e.show(&r.diagnostics);
                    }
                });
            }
            if report.with_untracked(|old| *old != r) {
                report.set(r);
            }
            save_draft();
        }
    };
    let run_lint = {
        let accept_report = accept_report.clone();
        move || {
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let Some(t) = current() else { return };
            lints_started.update(|n| *n += 1);
            if worker_ready.get_value() {
                let seq = posted.with_value(|(s, _)| s.wrapping_add(1));
                let sent = lint_client.with_value(|c| c.as_ref().map(|c| c.post(seq, &t)));
                if let Some(Ok(())) = sent {
                    posted.set_value((seq, t));
                    return;
                }
                worker_ready.set_value(false);
            }
            let t0 = now_ms();
            let mut r = None;
            workspace.update_value(|w| r = w.as_mut().map(|w| w.lint(&t)));
            if let Some(r) = r {
                accept_report(t, r, now_ms() - t0);
            }
        }
    };
    // A change only re-arms the timer: reading the text, the lint and the draft's saving wait
    // for a pause in typing.
    let changed = {
        let run_lint = run_lint.clone();
        move || {
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let h = set_timeout_with_handle(run_lint.clone(), LINT_PAUSE).ok();
            pending.set_value(h);
        }
    };
    // Replaces the text as one undoable step, and lints it at once.
    let replace = {
        let run_lint = run_lint.clone();
        move |new_text: &str, user_event: &str| {
            editor.with_value(|e| {
                if let Some(e) = e {
                    e.replace(new_text, user_event);
                }
            });
            run_lint();
        }
    };

    let heading = editing
        .clone()
        .map_or("New rule".to_string(), |n| format!("Edit: {n}"));
    let tests_rule = editing.clone();
    let propose_rule = editing.clone();
    let start_editor = {
        let run_lint = run_lint.clone();
        let changed = changed.clone();
        let name = draft_name.clone();
        move |live_files: Vec<RulesFile>, initial: String| {
            original.set_value(initial.clone());
            let draft = storage::get(storage::DRAFT, &name).filter(|d| *d != initial);
            restored.set(draft.is_some());
            let start = draft.unwrap_or(initial);
            text.set(start.clone());
            workspace.set_value(Some(Workspace::new(lint::source_files(&live_files))));
            let on_reply = {
                let run_lint = run_lint.clone();
                let accept_report = accept_report.clone();
                move |reply| match reply {
                    Reply::Ready => {
                        worker_ready.set_value(true);
                        run_lint();
                    }
                    Reply::Report { seq, report, ms } => {
                        let linted = posted.with_value(|(s, t)| (*s == seq).then(|| t.clone()));
                        if let Some(t) = linted {
                            accept_report(t, report, ms);
                        }
                    }
                    // The page keeps linting by itself.
                    Reply::Failed(why) => {
                        worker_ready.set_value(false);
                        leptos::logging::warn!("lint worker: {why}");
                    }
                }
            };
            match LintClient::start(&live_files, on_reply) {
                Ok(c) => lint_client.set_value(Some(c)),
                Err(why) => leptos::logging::warn!("{why}"),
            }
            let Some(parent) = host.get_untracked() else {
                return;
            };
            let vocab = move |f: &dyn Fn(&Vocabulary) -> Option<String>| {
                report.with_untracked(|r| f(&r.vocabulary))
            };
            match Editor::new(&parent, &start, changed.clone(), vocab) {
                Ok(e) => editor.set_value(Some(e)),
                Err(why) => open_error.set(Some(why)),
            }
            ready.set(true);
            run_lint();
        }
    };
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let Some(Ok(set)) = live.get() else {
            return false;
        };
        let files = lint::source_files(&set.files);
        let initial = match &editing {
            Some(name) => match find_rule(&files, name) {
                Ok(found) => {
                    origin.set(Some(found.origin));
                    uses.set(found.uses);
                    Some(found.text)
                }
                Err(why) => {
                    open_error.set(Some(why));
                    None
                }
            },
            None => None,
        };
        start_editor(set.files, initial.unwrap_or_else(|| NEW_RULE.to_string()));
        true
    });
    on_cleanup(move || {
        if let Some(h) = pending.get_value() {
            h.clear();
        }
    });

    let guard = LeaveGuard::new(
        move || ready.get_untracked() && session::user().with_untracked(Option::is_some) && dirty(),
        move |to| leave_to.set(Some(to)),
    );
    on_cleanup(guard.into_cleanup());

    let apply_fix = {
        let replace = replace.clone();
        move |d: DiagnosticJson| {
            let Some(fix) = d.fix else { return };
            // A fix is computed on the text its lint saw: applied only to that text.
            if current().as_deref() != Some(text.get_untracked().as_str()) {
                return;
            }
            if let Some(new_text) = text.with_untracked(|t| lint::apply_edits(t, &fix.edits)) {
                replace(&new_text, "input.fix");
            }
        }
    };
    let fix_all = {
        let replace = replace.clone();
        move |_| {
            let mut out = None;
            workspace.update_value(|w| {
                out = w.as_mut().map(|w| text.with_untracked(|t| w.fix_all(t)));
            });
            let Some((new_text, n)) = out else { return };
            fixed_count.set(Some(n));
            if n > 0 {
                replace(&new_text, "input.fix");
            }
        }
    };
    // The panels below follow only their own part of the report.
    let diagnostics = Memo::new(move |_| report.with(|r| r.diagnostics.clone()));
    let compiled = Memo::new(move |_| report.with(|r| r.rules.clone()));
    let safe_fixes = move || {
        diagnostics.with(|ds| {
            ds.iter()
                .filter(|d| {
                    d.fix
                        .as_ref()
                        .is_some_and(|f| f.applicability == Applicability::Safe)
                })
                .count()
        })
    };
    let go_to = move |d: &DiagnosticJson| {
        editor.with_value(|e| {
            if let Some(e) = e {
                e.go_to(d.line, d.column);
            }
        })
    };
    let discard_draft = {
        let replace = replace.clone();
        move |_| {
            let o = original.get_value();
            restored.set(false);
            replace(&o, "input.discard");
        }
    };

    let navigate = use_navigate();
    let navigate_away = navigate.clone();
    let title = RwSignal::new(String::new());
    let propose_error = RwSignal::new(None::<ApiError>);
    let tests_error = RwSignal::new(None::<String>);
    let propose = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Ok(set)) = live.get_untracked() else {
            return;
        };
        // The text as it is now, even within the pause before its lint.
        let draft = current().unwrap_or_else(|| text.get_untracked());
        let files = proposed_files(&set.files, &draft, origin.get_untracked().as_ref());
        // The Tests tab's tests travel with the proposal: promotion waits until they pass.
        let tests = match ruletest::parse(&stored_tests(propose_rule.as_deref())) {
            Ok(tests) => tests,
            Err(e) => {
                tests_error.set(Some(format!(
                    "The Tests tab does not parse, so nothing was proposed: {e}"
                )));
                return;
            }
        };
        tests_error.set(None);
        // The evidence is computed over the window the author previewed on.
        let window = match pick.window() {
            Ok(w) => w,
            Err(why) => {
                tests_error.set(Some(format!("The preview window is incomplete: {why}")));
                return;
            }
        };
        let title_text = title.get_untracked();
        let req = NewProposal {
            title: if title_text.trim().is_empty() {
                "Rule change".to_string()
            } else {
                title_text
            },
            description: String::new(),
            files,
            tests,
            window,
        };
        let navigate = navigate.clone();
        let proposed_rule = propose_rule.clone();
        spawn_local(async move {
            match client::call::<calls::OpenProposal>(&(), &(), &req).await {
                Ok(p) => {
                    // The tests and the text went with this proposal; the next draft starts
                    // without them, and leaving now loses nothing.
                    forget_tests(proposed_rule.as_deref());
                    storage::remove(storage::DRAFT, proposed_rule.as_deref().unwrap_or_default());
                    original.set_value(draft);
                    navigate(&format!("/proposals/{}", p.id), Default::default())
                }
                Err(e) => propose_error.set(Some(e)),
            }
        });
    };

    view! {
        <div class="editor-page">
            <section class="editor-pane" aria-label="Rule editor">
                <div class="pane-head">
                    <h1>{heading}</h1>
                    <span class="muted" data-testid="lint-time" data-ms=move || lint_ms.get().map(|m| format!("{m:.2}")) data-lints=move || lints.get() data-bytes=move || linted_bytes.get() data-started=move || lints_started.get()>
                        {move || lint_ms.get().map(|m| format!("lint {m:.1} ms"))}
                    </span>
                </div>
                {move || live.get().and_then(|r| r.err()).map(|e| view! { <ErrorBox error=e /> })}
                {move || open_error.get().map(|e| view! { <p class="error" role="alert" data-testid="edit-error">{e}</p> })}
                <Show when=move || restored.get()>
                    <p class="notice" data-testid="draft-restored">
                        "Your unsaved draft of this rule was restored from this browser. "
                        <button class="link" data-testid="draft-discard" on:click=discard_draft.clone()>"Discard it"</button>
                    </p>
                </Show>
                <div class="code" node_ref=host data-ready=move || ready.get().to_string()></div>
                <div class="problems-head">
                    <h2>"Problems"
                        <span class="muted" data-testid="problem-count">{move || format!(" ({})", diagnostics.with(Vec::len))}</span>
                    </h2>
                    <button data-testid="fix-all" disabled=move || safe_fixes() == 0 on:click=fix_all>
                        {move || format!("Fix all safe fixes ({})", safe_fixes())}
                    </button>
                    <span class="muted" data-testid="fix-all-count" aria-live="polite">
                        {move || fixed_count.get().map(|n| format!("{n} fixed"))}
                    </span>
                </div>
                <ul class="diagnostics" aria-label="Problems">
                    {move || {
                        let diags = diagnostics.get();
                        if diags.is_empty() {
                            return view! { <li class="ok" data-testid="no-diagnostics">"No problems."</li> }.into_any();
                        }
                        diags.into_iter().map(|d| {
                            let at = d.clone();
                            let fix = d.fix.clone().filter(|f| f.applicability != Applicability::DisplayOnly);
                            let for_fix = d.clone();
                            let apply_fix = apply_fix.clone();
                            view! {
                                <li data-testid="diagnostic" class=format!("diag {}", d.severity.as_str()) data-code=d.code.clone()>
                                    <button class="link loc" title="Go to" on:click=move |_| go_to(&at)>
                                        {format!("{}:{}", d.line, d.column)}
                                    </button>
                                    <span class="sev">{d.severity.as_str()}</span>
                                    <span class="msg">{d.message.clone()}</span>
                                    <code class="code-id">{d.code.clone()}</code>
                                    {d.help.clone().map(|h| view! { <div class="help">{h}</div> })}
                                    {fix.map(|f| {
                                        let for_fix = for_fix.clone();
                                        let apply_fix = apply_fix.clone();
                                        // An unsafe fix may change what the rule means: marked,
                                        // and never part of "Fix all".
                                        let label = if f.applicability == Applicability::Unsafe {
                                            format!("Fix (unsafe): {}", f.message)
                                        } else {
                                            format!("Fix: {}", f.message)
                                        };
                                        view! {
                                            <button class=format!("fix {}", f.applicability.as_str()) data-testid="diagnostic-fix"
                                                data-applicability=f.applicability.as_str()
                                                on:click=move |_| apply_fix(for_fix.clone())>
                                                {label}
                                            </button>
                                        }
                                    })}
                                </li>
                            }
                        }).collect_view().into_any()
                    }}
                </ul>
                <div class="row">
                    <button on:click=move |_| show_compiled.update(|s| *s = !*s) aria-expanded=move || show_compiled.get().to_string()>
                        "Effective condition"
                    </button>
                </div>
                <Show when=move || show_compiled.get()>
                    <dl class="compiled" data-testid="compiled-condition">
                        {move || compiled.get().into_iter().map(|(name, cond)| view! {
                            <dt>{name}</dt>
                            <dd><code>{cond.unwrap_or_else(|| "(does not compile)".to_string())}</code></dd>
                        }).collect_view()}
                    </dl>
                </Show>
                <Show when=move || uses.with(|u| !u.is_empty())>
                    <section class="rule-uses" data-testid="rule-uses" aria-label="Macros and lists this rule uses">
                        <h2>"Uses"</h2>
                        {move || uses.get().into_iter().map(|u| view! {
                            <details data-testid="rule-use" data-kind=u.kind data-name=u.name.clone()>
                                <summary>{format!("{} {}", u.kind, u.name)}<small class="muted">{format!(" ({})", u.file)}</small></summary>
                                <pre class="source">{u.text}</pre>
                            </details>
                        }).collect_view()}
                    </section>
                </Show>
                <form class="propose" on:submit=propose>
                    <label for="proposal-title">"Proposal title"</label>
                    <input id="proposal-title" data-testid="proposal-title" placeholder="What this change does"
                        prop:value=title on:input=move |ev| title.set(event_target_value(&ev)) />
                    <button type="submit" class="primary" data-testid="propose" disabled=move || !ready.get()>"Propose"</button>
                </form>
                {move || propose_error.get().map(|e| view! { <ErrorBox error=e /> })}
                {move || tests_error.get().map(|e| view! { <p class="error" role="alert" data-testid="propose-tests-error">{e}</p> })}
            </section>
            <PreviewPanel text=text workspace=workspace rule=tests_rule pick=pick on_apply=Callback::new(move |t: String| {
                replace(&t, "input.exception")
            }) />
            {move || leave_to.get().map(|to| {
                let navigate = navigate_away.clone();
                view! {
                    <div class="modal-backdrop">
                        <div class="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-leave-title" data-testid="confirm-leave">
                            <h2 id="confirm-leave-title">"Leave this rule?"</h2>
                            <p>"Your changes are not proposed. They stay saved as a draft in this browser until you sign out."</p>
                            <div class="row">
                                <button data-testid="confirm-leave-stay" on:click=move |_| leave_to.set(None)>"Stay"</button>
                                <button class="primary" data-testid="confirm-leave-go" on:click=move |_| {
                                    leave_to.set(None);
                                    // What is left is the saved draft: leaving asks no more.
                                    original.set_value(text.get_untracked());
                                    navigate(&to, Default::default());
                                }>"Leave"</button>
                            </div>
                        </div>
                    </div>
                }
            })}
        </div>
    }
}
