//! The live set's rules, as the in-browser engine loads them, with how often each matched
//! recently (its alerts, `/api/v1/alerts/counts`) and links to edit each.

use crate::client::calls;
use crate::client::query::AlertCountsQuery;
use crate::client::query::LiveQuery;
use crate::client::{self, LiveSet};
use crate::editor::lint;
use crate::pages::editor::edit_href;
use crate::widgets::{action_badge, loaded};
use leptos::prelude::*;
use rulestudio_api::action::Action;
use rulestudio_engine::loader::{LoadOptions, load};

/// Match-count windows: `(since, label)`.
const COUNT_WINDOWS: [(&str, &str); 3] = [
    ("-1h", "last hour"),
    ("-24h", "last 24 hours"),
    ("-7d", "last 7 days"),
];

#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: String,
    priority: &'static str,
    tags: Vec<String>,
    /// What its matches do, from its tags.
    action: Action,
    enabled: bool,
    file: String,
}

fn rows(set: &LiveSet) -> Vec<Row> {
    let files = lint::source_files(&set.files);
    let loaded = load(&files, &LoadOptions::default());
    loaded
        .rules
        .iter()
        .map(|r| Row {
            name: r.name.clone(),
            priority: r.priority.as_str(),
            tags: r.tags.clone(),
            action: Action::of_tags(&r.tags),
            enabled: r.enabled,
            file: files
                .get(r.span.file.0 as usize)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
        })
        .collect()
}

#[component]
pub fn RulesPage() -> impl IntoView {
    let live = LocalResource::new(|| async {
        client::call::<calls::GetLive>(&(), &LiveQuery::default(), &()).await
    });
    let query = RwSignal::new(String::new());
    let busiest_first = RwSignal::new(false);
    let since = RwSignal::new(COUNT_WINDOWS[1].0);
    let counts = LocalResource::new(move || {
        let since = since.get();
        async move {
            let query = AlertCountsQuery {
                since: Some(since.to_string()),
            };
            client::call::<calls::CountAlerts>(&(), &query, &()).await
        }
    });
    // Rule name → matches; None while loading or when the counts failed (the table still shows).
    let count_of = move |rule: &str| -> Option<u64> {
        counts.with(|c| match c {
            Some(Ok(c)) => Some(
                c.rules
                    .iter()
                    .find(|r| r.rule == rule)
                    .map_or(0, |r| r.count),
            ),
            _ => None,
        })
    };
    view! {
        <section class="page">
            <div class="pane-head">
                <h1>"Rules"</h1>
                <input type="search" aria-label="Filter rules" placeholder="Filter by name or tag"
                    prop:value=query on:input=move |ev| query.set(event_target_value(&ev)) />
                <label for="rules-count-window">"Matches in the"</label>
                <select id="rules-count-window" data-testid="rules-count-window"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(&(s, _)) = COUNT_WINDOWS.iter().find(|(s, _)| *s == v) { since.set(s) }
                    }>
                    {COUNT_WINDOWS.iter().map(|&(s, label)| view! { <option value=s selected=move || since.get() == s>{label}</option> }).collect_view()}
                </select>
                <label class="check">
                    <input type="checkbox" data-testid="rules-busiest-first" prop:checked=busiest_first
                        on:change=move |ev| busiest_first.set(event_target_checked(&ev)) />
                    "Most matches first"
                </label>
                <a class="button primary" href="/rules/new" data-testid="rule-new">"New rule"</a>
            </div>
            {move || counts.get().and_then(|c| c.err()).map(|e| view! {
                <p class="warn" role="status">{format!("Match counts are unavailable: {e}")}</p>
            })}
            {move || loaded(live.get(), |set| {
                let all = rows(&set);
                let version = set.version;
                view! {
                    <p class="muted">{format!("Live set version {version}: {} rules.", all.len())}</p>
                    <table class="list">
                        <thead><tr>
                            <th scope="col">"Rule"</th><th scope="col">"Priority"</th><th scope="col" title="What its matches do, from its tags (rulestudio.audit, rulestudio.enforce.dry_run, rulestudio.enforce)">"Action"</th><th scope="col">"Tags"</th>
                            <th scope="col" class="num" title="Alerts the rule raised on ingested events in the chosen window">"Matches"</th>
                            <th scope="col">"File"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {move || {
                                let q = query.get().to_lowercase();
                                let mut shown: Vec<Row> = all.iter().filter(|r| q.is_empty()
                                    || r.name.to_lowercase().contains(&q)
                                    || r.tags.iter().any(|t| t.to_lowercase().contains(&q))).cloned().collect();
                                if busiest_first.get() {
                                    // Stable: rules with equal counts keep load order.
                                    shown.sort_by_key(|r| std::cmp::Reverse(count_of(&r.name).unwrap_or(0)));
                                }
                                if shown.is_empty() {
                                    return view! { <tr><td colspan="7" class="muted">"No rule matches."</td></tr> }.into_any();
                                }
                                shown.into_iter().map(|r| {
                                    let href = edit_href(&r.name);
                                    view! {
                                        <tr class:disabled=!r.enabled data-testid="rule-row" data-rule=r.name.clone()>
                                            <td>{r.name.clone()}{(!r.enabled).then_some(view! { <small class="muted">" (disabled)"</small> })}</td>
                                            <td><span class=format!("prio prio-{}", r.priority.to_lowercase())>{r.priority}</span></td>
                                            <td data-testid="rule-action" data-action=r.action.as_str()>{action_badge(r.action)}</td>
                                            <td class="tags">{r.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}</td>
                                            <td class="num" data-testid="rule-matches">{
                                                let name = r.name.clone();
                                                move || count_of(&name).map_or_else(|| "…".to_string(), |n| n.to_string())
                                            }</td>
                                            <td class="muted">{r.file.clone()}</td>
                                            <td><a href=href data-testid="live-edit" data-rule=r.name.clone() aria-label=format!("Edit {}", r.name)>"Edit"</a></td>
                                        </tr>
                                    }
                                }).collect_view().into_any()
                            }}
                        </tbody>
                    </table>
                }
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rulestudio_api::live::{RuleMatching, RulesFile};

    #[test]
    fn each_rule_shows_the_action_its_tags_give_it() {
        let rule = |name: &str, tags: &str| {
            format!(
                "- rule: {name}\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: NOTICE\n  tags: [{tags}]\n"
            )
        };
        let content = [
            rule("Plain", "mitre"),
            rule("Quiet", "rulestudio.audit"),
            rule("Trial", "rulestudio.enforce, rulestudio.enforce.dry_run"),
            rule("Stop", "rulestudio.enforce"),
        ]
        .concat();
        let set = LiveSet {
            version: 1,
            files: vec![RulesFile {
                name: "rules.yaml".into(),
                content,
            }],
            rule_matching: RuleMatching::First,
            promoted_at: 0,
            promoted_by: String::new(),
            proposal: None,
            engine_changes: Vec::new(),
        };
        let actions: Vec<(String, &str)> = rows(&set)
            .into_iter()
            .map(|r| (r.name, r.action.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("Plain".to_string(), "alert"),
                ("Quiet".to_string(), "audit"),
                ("Trial".to_string(), "dry_run"),
                ("Stop".to_string(), "enforce"),
            ]
        );
    }
}
