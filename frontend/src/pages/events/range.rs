//! The time range of an events search: a preset span before now, the whole store, or from/to
//! times. Presets are the API's relative times (`since=-1h`), so the server reads "now" when it
//! answers, not when the page was opened.

use crate::widgets::{local_input_to_rfc3339, ns_to_local_input};
use leptos::prelude::*;

/// `(value, label)`: `all` has no bounds, `-D` is since D before now, `range` the inputs.
const PRESETS: [(&str, &str); 7] = [
    ("all", "All stored events"),
    ("-15m", "Last 15 minutes"),
    ("-1h", "Last hour"),
    ("-24h", "Last 24 hours"),
    ("-7d", "Last 7 days"),
    ("-30d", "Last 30 days"),
    ("range", "From… to…"),
];
const CUSTOM: &str = "range";

/// The bounds a search sends, as `since`/`until` query values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounds {
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Bounds {
    /// New events can fall inside: the range has no end.
    pub fn open_ended(&self) -> bool {
        self.until.is_none()
    }
}

/// The picker's state: the choice and the custom inputs (local `datetime-local` values).
#[derive(Clone, Copy)]
pub struct RangePick {
    pub choice: RwSignal<String>,
    pub since: RwSignal<String>,
    pub until: RwSignal<String>,
}

impl RangePick {
    pub fn new() -> RangePick {
        RangePick {
            choice: RwSignal::new("all".into()),
            since: RwSignal::new(String::new()),
            until: RwSignal::new(String::new()),
        }
    }

    /// Shows `bounds` (from the address): a preset when `since` is one and there is no end,
    /// otherwise the custom range with the times it names.
    pub fn show(&self, bounds: &Bounds) {
        let preset = PRESETS
            .iter()
            .map(|&(value, _)| value)
            .find(|&v| v != "all" && v != CUSTOM && bounds.since.as_deref() == Some(v));
        let choice = match (&bounds.since, &bounds.until, preset) {
            (None, None, _) => "all",
            (_, None, Some(p)) => p,
            _ => CUSTOM,
        };
        self.choice.set(choice.to_string());
        if choice == CUSTOM {
            let local = |t: &Option<String>| {
                t.as_deref()
                    .and_then(rfc3339_to_local_input)
                    .unwrap_or_default()
            };
            self.since.set(local(&bounds.since));
            self.until.set(local(&bounds.until));
        }
    }

    /// The bounds chosen; an error names what is missing or wrong in the custom range.
    pub fn bounds(&self) -> Result<Bounds, String> {
        let choice = self.choice.get_untracked();
        match choice.as_str() {
            "all" => Ok(Bounds::default()),
            CUSTOM => {
                let read = |what: &str, v: String| match v.trim() {
                    "" => Ok(None),
                    t => local_input_to_rfc3339(t)
                        .map(Some)
                        .ok_or(format!("“{what}” is not a date and time")),
                };
                let since = read("From", self.since.get_untracked())?;
                let until = read("To", self.until.get_untracked())?;
                if since.is_none() && until.is_none() {
                    return Err("Give the start or the end of the time range (or both).".into());
                }
                Ok(Bounds { since, until })
            }
            ago => Ok(Bounds {
                since: Some(ago.to_string()),
                until: None,
            }),
        }
    }
}

/// The preset list (`events-range`) and, for a custom range, the from/to inputs
/// (`events-since`, `events-until`).
#[component]
pub fn RangeSelect(pick: RangePick) -> impl IntoView {
    view! {
        <label for="events-range">"Time"</label>
        <select id="events-range" data-testid="events-range" prop:value=pick.choice on:change=move |ev| pick.choice.set(event_target_value(&ev))>
            {PRESETS.iter().map(|&(value, label)| view! {
                <option value=value selected=move || pick.choice.with(|c| c == value)>{label}</option>
            }).collect_view()}
        </select>
        <Show when=move || pick.choice.with(|c| c == CUSTOM)>
            <label>
                "From"
                <input data-testid="events-since" type="datetime-local" step="1"
                    prop:value=pick.since on:input=move |ev| pick.since.set(event_target_value(&ev)) />
            </label>
            <label>
                "To"
                <input data-testid="events-until" type="datetime-local" step="1"
                    prop:value=pick.until on:input=move |ev| pick.until.set(event_target_value(&ev)) />
            </label>
        </Show>
    }
}

/// An RFC 3339 time (as the address holds it) as a `datetime-local` value; None when it is
/// not one.
fn rfc3339_to_local_input(text: &str) -> Option<String> {
    let ms = js_sys::Date::parse(text);
    ms.is_finite().then(|| ns_to_local_input((ms * 1e6) as i64))
}
