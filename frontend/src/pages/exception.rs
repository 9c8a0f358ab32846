//! A suggested exception the user shapes before applying it: the fields and values of the
//! rule's labelled (benign) matches, each with a checkbox, exact or generalised (a directory
//! instead of a file, an image instead of a container); the exception they make, what it
//! removes (matches before → after, and samples of the removed ones), then Apply.

use crate::client::{ApiError, ExceptionCandidate, ExceptionPick, SuggestExceptionResponse};
use crate::pages::preview::ChangeSamples;
use crate::widgets::ErrorBox;
use leptos::prelude::*;
use std::collections::BTreeSet;

/// The user's choice for one candidate field.
#[derive(Clone, Copy)]
struct Choice {
    on: RwSignal<bool>,
    general: RwSignal<bool>,
    values: RwSignal<BTreeSet<String>>,
}

impl Choice {
    /// As the answer's `picks` have it: a field it picked is checked with its form and values;
    /// another starts unchecked with every value, so ticking the field alone covers them all.
    fn of(c: &ExceptionCandidate, picks: &[ExceptionPick]) -> Choice {
        let pick = picks.iter().find(|p| p.field == c.field);
        Choice {
            on: RwSignal::new(pick.is_some()),
            general: RwSignal::new(pick.is_some_and(|p| p.general)),
            values: RwSignal::new(match pick {
                Some(p) => p.values.iter().cloned().collect(),
                None => c.values.iter().map(|v| v.value.clone()).collect(),
            }),
        }
    }

    fn pick(&self, field: &str) -> Option<ExceptionPick> {
        let values: Vec<String> = self.values.get_untracked().into_iter().collect();
        (self.on.get_untracked() && !values.is_empty()).then(|| ExceptionPick {
            field: field.to_string(),
            general: self.general.get_untracked(),
            values,
        })
    }
}

#[component]
pub fn Suggestion(
    /// The server's answer.
    s: SuggestExceptionResponse,
    /// Names the radio groups apart from another rule's.
    scope: String,
    /// Asks again with these picks.
    on_pick: Callback<Vec<ExceptionPick>>,
    /// Why the server refused the last picks.
    pick_error: RwSignal<Option<ApiError>>,
    /// Replaces the draft text.
    on_apply: Callback<String>,
) -> impl IntoView {
    let choices: Vec<(ExceptionCandidate, Choice)> = s
        .candidates
        .iter()
        .map(|c| (c.clone(), Choice::of(c, &s.picks)))
        .collect();
    // No picks would ask for the server's own suggestion again: said here instead.
    let nothing = RwSignal::new(false);
    let picked = {
        let choices = choices.clone();
        move |_| {
            let picks: Vec<ExceptionPick> = choices
                .iter()
                .filter_map(|(c, ch)| ch.pick(&c.field))
                .collect();
            nothing.set(picks.is_empty());
            if !picks.is_empty() {
                on_pick.run(picks);
            }
        }
    };
    let removed = s.before.matched.saturating_sub(s.after.matched);
    let after = format!(
        "With it: {} matched (was {}), {} false positives (was {})",
        s.after.matched, s.before.matched, s.after.false_positives, s.before.false_positives
    );
    let to_apply = s.rules.clone();
    view! {
        <div class="suggestion" data-testid="exception-suggestion">
            <fieldset class="exception-candidates" data-testid="exception-candidates">
                <legend>"Fields and values of the benign matches"</legend>
                {choices.into_iter().map(|(c, ch)| view! { <CandidateField c=c ch=ch scope=scope.clone() /> }).collect_view()}
                <button data-testid="exception-update" on:click=picked>"Suggest with these picks"</button>
                {move || nothing.get().then(|| view! {
                    <p class="error" role="alert" data-testid="exception-pick-nothing">"Tick at least one field and one of its values."</p>
                })}
                {move || pick_error.get().map(|e| view! { <ErrorBox error=e /> })}
            </fieldset>
            <pre data-testid="exception-yaml">{s.yaml.clone()}</pre>
            <p class="muted">{after}</p>
            <p data-testid="exception-delta" data-before=s.before.matched data-after=s.after.matched data-removed=removed>
                {format!("Matches in the window: {} → {} ({removed} removed)", s.before.matched, s.after.matched)}
            </p>
            <ChangeSamples title="Samples of the matches it removes" testid="exception-removed-sample" samples=s.removed_samples.clone() />
            <button data-testid="apply-exception" on:click=move |_| on_apply.run(to_apply.clone())>"Apply"</button>
        </div>
    }
}

#[component]
fn CandidateField(c: ExceptionCandidate, ch: Choice, scope: String) -> impl IntoView {
    let field = c.field.clone();
    let group = format!("exception-form-{scope}-{field}");
    view! {
        <div class="exception-field" data-testid="exception-field" data-field=field.clone()>
            <label class="check">
                <input type="checkbox" data-testid="exception-field-pick" prop:checked=ch.on
                    on:change=move |ev| ch.on.set(event_target_checked(&ev)) />
                <code>{field.clone()}</code>
            </label>
            {c.general.clone().map(|g| view! {
                <span role="radiogroup" aria-label=format!("How {field} is written")>
                    <label class="check">
                        <input type="radio" name=group.clone() data-testid="exception-form-exact" prop:checked=move || !ch.general.get()
                            on:change=move |_| ch.general.set(false) />
                        "exact"
                    </label>
                    <label class="check">
                        <input type="radio" name=group.clone() data-testid="exception-form-general" prop:checked=ch.general
                            on:change=move |_| ch.general.set(true) />
                        {format!("generalised: {}", g.text)}
                    </label>
                </span>
            })}
            <ul class="exception-values">
                {c.values.into_iter().map(|v| {
                    let value = v.value.clone();
                    let checked = {
                        let value = value.clone();
                        move || ch.values.with(|s| s.contains(&value))
                    };
                    let toggle = {
                        let value = value.clone();
                        move |ev| {
                            let on = event_target_checked(&ev);
                            ch.values.update(|s| {
                                if on { s.insert(value.clone()); } else { s.remove(&value); }
                            });
                        }
                    };
                    view! {
                        <li data-testid="exception-value" data-value=value.clone() data-general=v.general.clone()>
                            <label class="check">
                                <input type="checkbox" data-testid="exception-value-pick" prop:checked=checked on:change=toggle />
                                <code>{value.clone()}</code>
                                {v.general.clone().map(|g| view! { " → " <code>{g}</code> })}
                                <span class="muted">{format!(" {} benign", v.benign)}</span>
                            </label>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
