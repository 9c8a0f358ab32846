//! The window of stored events a preview or a proposal's evidence is computed over: the newest
//! N events, a span before now, or a time range; one picker for both pages.

use crate::client::Window;
use crate::storage;
use crate::widgets::local_input_to_rfc3339;
use leptos::prelude::*;
use rulestudio_api::time::Timestamp;

/// The choices: `(value, label)`; `last:N` the newest N events, `ago:D` since D before now (the
/// API's relative times), `range` the since/until inputs.
const WINDOWS: [(&str, &str); 8] = [
    ("last:1000", "Last 1,000 events"),
    ("last:10000", "Last 10,000 events"),
    ("last:100000", "Last 100,000 events"),
    ("last:1000000", "Last 1,000,000 events"),
    ("ago:15m", "Last 15 minutes"),
    ("ago:1h", "Last hour"),
    ("ago:24h", "Last 24 hours"),
    ("range", "Time range…"),
];
/// A span of time rather than a count of events: on a busy host the newest 10,000 events are a
/// few seconds, in which a new rule rarely matches anything.
const DEFAULT_WINDOW: &str = "ago:15m";
/// The choice that keeps the window something was computed on (the picker's `keep` option).
pub const KEEP: &str = "";

/// The window to send, from the choice and the range inputs; `None` for [`KEEP`].
fn window_of(choice: &str, since: &str, until: &str) -> Result<Option<Window>, &'static str> {
    if choice == KEEP {
        return Ok(None);
    }
    if let Some(n) = choice.strip_prefix("last:").and_then(|n| n.parse().ok()) {
        return Ok(Some(Window::LastEvents { last_events: n }));
    }
    if let Some(ago) = choice.strip_prefix("ago:") {
        return Ok(Some(Window::Range {
            since: Some(Timestamp::Text(format!("-{ago}"))),
            until: None,
        }));
    }
    let (since, until) = (local_input_to_rfc3339(since), local_input_to_rfc3339(until));
    if since.is_none() && until.is_none() {
        return Err("Give the start or the end of the time range (or both).");
    }
    Ok(Some(Window::Range {
        since: since.map(Timestamp::Text),
        until: until.map(Timestamp::Text),
    }))
}

/// The picker's state.
#[derive(Clone, Copy)]
pub struct WindowPick {
    choice: RwSignal<String>,
    since: RwSignal<String>,
    until: RwSignal<String>,
    /// Whether the choice is the user's preference, kept in this browser under their name.
    remembered: bool,
}

impl WindowPick {
    pub fn new(choice: &str) -> WindowPick {
        WindowPick {
            choice: RwSignal::new(choice.to_string()),
            since: RwSignal::new(String::new()),
            until: RwSignal::new(String::new()),
            remembered: false,
        }
    }

    /// The signed-in user's preferred preview window ([`DEFAULT_WINDOW`] until they pick one);
    /// picking another one remembers it.
    pub fn preferred() -> WindowPick {
        let saved = storage::get(storage::PREF_WINDOW, "preview")
            .filter(|c| WINDOWS.iter().any(|(value, _)| value == c));
        WindowPick {
            remembered: true,
            ..WindowPick::new(saved.as_deref().unwrap_or(DEFAULT_WINDOW))
        }
    }

    fn choose(&self, choice: String) {
        if self.remembered {
            storage::set(storage::PREF_WINDOW, "preview", &choice);
        }
        self.choice.set(choice);
    }

    /// The chosen window (`None`: keep the current one).
    pub fn window(&self) -> Result<Option<Window>, &'static str> {
        window_of(
            &self.choice.get_untracked(),
            &self.since.get_untracked(),
            &self.until.get_untracked(),
        )
    }
}

/// The choice list, labelled "Window"; `keep` adds a first option that keeps the current window.
/// Test ids are `{prefix}-window`.
#[component]
pub fn WindowSelect(
    pick: WindowPick,
    prefix: &'static str,
    #[prop(optional)] keep: Option<&'static str>,
) -> impl IntoView {
    let id = format!("{prefix}-window");
    view! {
        <label for=id.clone()>"Window"</label>
        <select id=id.clone() data-testid=id on:change=move |ev| pick.choose(event_target_value(&ev))>
            {keep.map(|label| view! { <option value=KEEP selected=move || pick.choice.with(|c| c == KEEP)>{label}</option> })}
            {WINDOWS.iter().map(|&(value, label)| view! {
                <option value=value selected=move || pick.choice.with(|c| c == value)>{label}</option>
            }).collect_view()}
        </select>
    }
}

/// The from/to inputs, shown while "Time range…" is chosen. Test ids `{prefix}-since/until`.
#[component]
pub fn WindowRange(pick: WindowPick, prefix: &'static str) -> impl IntoView {
    view! {
        <Show when=move || pick.choice.with(|c| c == "range")>
            <div class="range-fields">
                <label>
                    "From"
                    <input data-testid=format!("{prefix}-since") type="datetime-local" step="1"
                        prop:value=pick.since on:input=move |ev| pick.since.set(event_target_value(&ev)) />
                </label>
                <label>
                    "To"
                    <input data-testid=format!("{prefix}-until") type="datetime-local" step="1"
                        prop:value=pick.until on:input=move |ev| pick.until.set(event_target_value(&ev)) />
                </label>
                <span class="muted">"Either end may be left open."</span>
            </div>
        </Show>
    }
}
