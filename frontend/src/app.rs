//! The application shell: navigation, routes and the sign-in gate.

use crate::client::Role;
use crate::pages::{admin, alerts, audit, editor, events, live, login, proposals, rules};
use crate::session::{self, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    spawn_local(session::restore());
    view! {
        <Router>
            <Shell />
        </Router>
    }
}

/// One navigation entry; `testid` is part of the end-to-end test contract.
#[component]
fn NavLink(
    /// Target path; the entry is marked current for this path and everything below it.
    href: &'static str,
    /// The `data-testid` of the link.
    testid: &'static str,
    /// Visible text.
    label: &'static str,
) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let p = location.pathname.get();
        (p == href || p.starts_with(&format!("{href}/"))).then_some("page")
    };
    view! {
        <a href=href data-testid=testid aria-current=current>
            {label}
        </a>
    }
}

#[component]
fn Shell() -> impl IntoView {
    let user = session::user();
    let status = session::status();
    view! {
        <header class="topbar">
            <a class="brand" href="/rules">
                <img src="/favicon.svg" alt="" width="22" height="22" />
                "Rulestudio"
            </a>
            <nav aria-label="Main">
                <NavLink href="/events" testid="nav-events" label="Events" />
                <NavLink href="/rules" testid="nav-rules" label="Rules" />
                <NavLink href="/proposals" testid="nav-proposals" label="Proposals" />
                <NavLink href="/live" testid="nav-live" label="Live set" />
                <NavLink href="/alerts" testid="nav-alerts" label="Alerts" />
                <Show when=move || user.with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))>
                    <NavLink href="/admin" testid="nav-admin" label="Admin" />
                    <NavLink href="/audit" testid="nav-audit" label="Audit" />
                </Show>
            </nav>
            <div class="who">
                {move || {
                    user.get()
                        .map(|u| {
                            view! {
                                <span class="user" data-testid="current-user">
                                    {u.username}
                                    <small>{u.role.as_str()}</small>
                                </span>
                                <button class="link" on:click=move |_| spawn_local(session::logout())>
                                    "Sign out"
                                </button>
                            }
                        })
                }}
            </div>
        </header>
        <main>
            {move || match status.get() {
                Status::Unknown => view! { <p class="muted pad">"Connecting…"</p> }.into_any(),
                Status::SignedOut => view! { <login::LoginPage /> }.into_any(),
                Status::SignedIn => view! { <AppRoutes /> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <p class="pad">"No such page."</p> }>
            <Route path=path!("/") view=rules::RulesPage />
            <Route path=path!("/login") view=rules::RulesPage />
            <Route path=path!("/events") view=events::EventsPage />
            <Route path=path!("/events/:id") view=events::OneEventPage />
            <Route path=path!("/rules") view=rules::RulesPage />
            <Route path=path!("/rules/new") view=editor::EditorPage />
            <Route path=path!("/rules/edit") view=editor::EditorPage />
            <Route path=path!("/proposals") view=proposals::ProposalsPage />
            <Route path=path!("/proposals/:id") view=proposals::ProposalPage />
            <Route path=path!("/live") view=live::LivePage />
            <Route path=path!("/alerts") view=alerts::AlertsPage />
            <Route path=path!("/admin") view=admin::AdminPage />
            <Route path=path!("/audit") view=audit::AuditPage />
        </Routes>
    }
}
