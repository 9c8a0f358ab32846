//! The rule editor: YAML with highlighting, diagnostics from the in-browser engine as the user
//! types, completion, field docs, the compiled condition, the preview panel and "Propose".

use crate::client::{self, ApiError, FileChange, LiveSet, NewProposal, Proposal, RulesFile};
use crate::editor::complete::{self, Completion};
use crate::editor::item::{self, Used};
use crate::editor::lint::{self, LintReport, Workspace};
use crate::editor::overlay::{self, Mark};
use crate::pages::preview::PreviewPanel;
use crate::pages::ruletests::{forget_tests, stored_tests};
use crate::widgets::ErrorBox;
use crate::window_pick::WindowPick;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_url};
use rulestudio_api::diagnostic::DiagnosticJson;
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

/// UTF-16 index (what the DOM reports) → byte offset in `text`.
fn byte_offset(text: &str, utf16: u32) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        if units >= utf16 as usize {
            return i;
        }
        units += c.len_utf16();
    }
    text.len()
}

fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

fn marks(text: &str, diags: &[DiagnosticJson]) -> Vec<(std::ops::Range<usize>, Mark)> {
    diags
        .iter()
        .filter(|d| d.line > 0)
        .map(|d| {
            let start = overlay::offset_of(text, d.line, d.column);
            let end = overlay::offset_of(text, d.end_line, d.end_column).max(start);
            (
                start..end,
                if d.severity == "error" {
                    Mark::Error
                } else {
                    Mark::Warning
                },
            )
        })
        .collect()
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[component]
pub fn EditorPage() -> impl IntoView {
    let editing = edited_rule();
    let live = LocalResource::new(|| client::get::<LiveSet>("/live"));
    let text = RwSignal::new(String::new());
    let origin = RwSignal::new(None::<Origin>);
    let uses = RwSignal::new(Vec::<Used>::new());
    let open_error = RwSignal::new(None::<String>);
    let pick = WindowPick::preferred();
    let workspace = StoredValue::new(None::<Workspace>);
    let report = RwSignal::new(LintReport::default());
    let lint_ms = RwSignal::new(None::<f64>);
    let ready = RwSignal::new(false);
    let completion = RwSignal::new(None::<Completion>);
    let selected = RwSignal::new(0usize);
    let cursor = RwSignal::new(0usize);
    let scroll = RwSignal::new((0i32, 0i32));
    let show_compiled = RwSignal::new(false);
    let textarea = NodeRef::<html::Textarea>::new();
    let pending = StoredValue::new(None::<TimeoutHandle>);

    let run_lint = move || {
        let t0 = now_ms();
        let mut r = None;
        workspace.update_value(|w| r = w.as_mut().map(|w| text.with_untracked(|t| w.lint(t))));
        let Some(r) = r else { return };
        lint_ms.set(Some(now_ms() - t0));
        report.set(r);
    };
    // Lint after a short pause in typing: each keystroke costs only the textarea update, and
    // a burst of keystrokes costs one lint.
    let schedule_lint = move || {
        if let Some(h) = pending.get_value() {
            h.clear();
        }
        let h = set_timeout_with_handle(run_lint, Duration::from_millis(40)).ok();
        pending.set_value(h);
    };

    let heading = editing
        .clone()
        .map_or("New rule".to_string(), |n| format!("Edit: {n}"));
    let tests_rule = editing.clone();
    let propose_rule = editing.clone();
    Effect::new(move |_| {
        if let Some(Ok(set)) = live.get() {
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
            text.set(initial.unwrap_or_else(|| NEW_RULE.to_string()));
            workspace.set_value(Some(Workspace::new(files)));
            ready.set(true);
            run_lint();
        }
    });

    let update_cursor = move || {
        if let Some(ta) = textarea.get_untracked() {
            let pos = ta.selection_start().ok().flatten().unwrap_or(0);
            cursor.set(text.with_untracked(|t| byte_offset(t, pos)));
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        update_cursor();
        let c = text.with_untracked(|t| {
            report.with_untracked(|r| {
                complete::complete(t, cursor.get_untracked(), &r.vocabulary, 12)
            })
        });
        completion.set(c);
        selected.set(0);
        schedule_lint();
    };
    let set_text_and_cursor = move |new_text: String, caret: usize| {
        let caret16 = utf16_len(&new_text[..caret.min(new_text.len())]);
        text.set(new_text);
        if let Some(ta) = textarea.get_untracked() {
            ta.set_value(&text.get_untracked());
            let _ = ta.set_selection_range(caret16, caret16);
            let _ = ta.focus();
        }
        cursor.set(caret);
        schedule_lint();
    };
    let accept = move |i: usize| {
        let Some(c) = completion.get_untracked() else {
            return;
        };
        let Some(cand) = c.candidates.get(i) else {
            return;
        };
        let at = cursor.get_untracked();
        let mut t = text.get_untracked();
        t.replace_range(c.start..at, &cand.text);
        completion.set(None);
        set_text_and_cursor(t, c.start + cand.text.len());
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(n) = completion.with_untracked(|c| c.as_ref().map(|c| c.candidates.len())) else {
            return;
        };
        match ev.key().as_str() {
            "ArrowDown" => selected.update(|s| *s = (*s + 1) % n),
            "ArrowUp" => selected.update(|s| *s = (*s + n - 1) % n),
            "Enter" | "Tab" => accept(selected.get_untracked()),
            "Escape" => completion.set(None),
            _ => return,
        }
        ev.prevent_default();
    };
    let apply_fix = move |d: DiagnosticJson| {
        let Some(fix) = d.fix else { return };
        let t = text.get_untracked();
        if let Some(new_text) = lint::apply_edits(&t, &fix.edits) {
            let caret = fix
                .edits
                .first()
                .map_or(0, |e| e.start as usize + e.replacement.len());
            set_text_and_cursor(new_text, caret);
        }
    };
    let go_to = move |d: &DiagnosticJson| {
        let t = text.get_untracked();
        let at = overlay::offset_of(&t, d.line, d.column);
        set_text_and_cursor(t, at);
    };

    let overlay_html =
        move || text.with(|t| report.with(|r| overlay::render(t, &marks(t, &r.diagnostics))));
    let doc = move || text.with(|t| complete::field_doc(t, cursor.get()));
    let popup_style = move || {
        let (top, left) = scroll.get();
        text.with(|t| {
            let at = cursor.get().min(t.len());
            let line = t[..at].matches('\n').count();
            let col = t[..at].rsplit('\n').next().map_or(0, |l| l.chars().count());
            format!(
                "top: calc({}lh + 0.75rem - {top}px); left: calc({col}ch + 0.75rem - {left}px);",
                line + 1
            )
        })
    };

    let navigate = use_navigate();
    let title = RwSignal::new(String::new());
    let propose_error = RwSignal::new(None::<ApiError>);
    let tests_error = RwSignal::new(None::<String>);
    let propose = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Ok(set)) = live.get_untracked() else {
            return;
        };
        let files = proposed_files(
            &set.files,
            &text.get_untracked(),
            origin.get_untracked().as_ref(),
        );
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
            match client::post::<_, Proposal>("/proposals", &req).await {
                Ok(p) => {
                    // The tests went with this proposal; the next draft starts without them.
                    forget_tests(proposed_rule.as_deref());
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
                    <span class="muted" data-testid="lint-time" data-ms=move || lint_ms.get().map(|m| format!("{m:.2}"))>
                        {move || lint_ms.get().map(|m| format!("lint {m:.1} ms"))}
                    </span>
                </div>
                {move || live.get().and_then(|r| r.err()).map(|e| view! { <ErrorBox error=e /> })}
                {move || open_error.get().map(|e| view! { <p class="error" role="alert" data-testid="edit-error">{e}</p> })}
                <div class="code">
                    <pre class="overlay" aria-hidden="true" inner_html=overlay_html
                        style=move || { let (t, l) = scroll.get(); format!("transform: translate({}px, {}px)", -l, -t) }></pre>
                    <textarea
                        node_ref=textarea
                        data-testid="rule-editor"
                        aria-label="Rule YAML"
                        spellcheck="false"
                        autocapitalize="off"
                        autocomplete="off"
                        disabled=move || !ready.get()
                        prop:value=text
                        on:input=on_input
                        on:keydown=on_keydown
                        on:click=move |_| { update_cursor(); completion.set(None); }
                        on:keyup=move |ev: leptos::ev::KeyboardEvent| if ev.key().starts_with("Arrow") && completion.get_untracked().is_none() { update_cursor() }
                        on:blur=move |_| completion.set(None)
                        on:scroll=move |ev| {
                            let ta: web_sys::HtmlTextAreaElement = event_target(&ev);
                            scroll.set((ta.scroll_top(), ta.scroll_left()));
                        }
                    ></textarea>
                    {move || completion.get().map(|c| view! {
                        <ul class="completion" role="listbox" aria-label="Completions" data-testid="completion" style=popup_style>
                            {c.candidates.into_iter().enumerate().map(|(i, cand)| view! {
                                <li role="option" aria-selected=move || (selected.get() == i).to_string()
                                    on:mousedown=move |ev| { ev.prevent_default(); accept(i) }>
                                    <span class="cand">{cand.text.clone()}</span>
                                    <span class=format!("kind kind-{}", cand.kind.label().replace('.', "-"))>{cand.kind.label()}</span>
                                    <span class="detail">{cand.detail.clone()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    })}
                </div>
                <p class="field-doc" aria-live="polite">{move || doc().unwrap_or_default()}</p>
                <h2 class="sr-only">"Problems"</h2>
                <ul class="diagnostics" aria-label="Problems">
                    {move || {
                        let diags = report.with(|r| r.diagnostics.clone());
                        if diags.is_empty() {
                            return view! { <li class="ok" data-testid="no-diagnostics">"No problems."</li> }.into_any();
                        }
                        diags.into_iter().map(|d| {
                            let at = d.clone();
                            let fix = d.fix.clone().filter(|f| f.applicability != "display_only");
                            let for_fix = d.clone();
                            view! {
                                <li data-testid="diagnostic" class=format!("diag {}", d.severity) data-code=d.code.clone()>
                                    <button class="link loc" title="Go to" on:click=move |_| go_to(&at)>
                                        {format!("{}:{}", d.line, d.column)}
                                    </button>
                                    <span class="sev">{d.severity.clone()}</span>
                                    <span class="msg">{d.message.clone()}</span>
                                    <code class="code-id">{d.code.clone()}</code>
                                    {d.help.clone().map(|h| view! { <div class="help">{h}</div> })}
                                    {fix.map(|f| {
                                        let for_fix = for_fix.clone();
                                        view! {
                                            <button class="fix" data-testid="diagnostic-fix" on:click=move |_| apply_fix(for_fix.clone())>
                                                {format!("Fix: {}", f.message)}
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
                        {move || report.with(|r| r.rules.clone()).into_iter().map(|(name, cond)| view! {
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
                let len = t.len();
                set_text_and_cursor(t, len)
            }) />
        </div>
    }
}
