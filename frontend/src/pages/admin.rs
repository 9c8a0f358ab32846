//! Administration: users and their API tokens, and the collectors reporting to this server.

use crate::client::{
    self, ApiError, CollectorList, CreateToken, CreateUser, CreatedToken, TokenList, UserList,
};
use crate::widgets::{ErrorBox, format_ns, loaded};
use leptos::prelude::*;
use leptos::task::spawn_local;
use rulestudio_api::auth::User;

const ROLES: [&str; 5] = ["viewer", "author", "reviewer", "admin", "collector"];

#[component]
pub fn AdminPage() -> impl IntoView {
    let users = LocalResource::new(|| client::get::<UserList>("/users"));
    let collectors = LocalResource::new(|| client::get::<CollectorList>("/collectors"));
    let error = RwSignal::new(None::<ApiError>);
    let (name, password, role) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("author".to_string()),
    );
    let tokens_of = RwSignal::new(None::<String>);
    let create_user = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pw = password.get_untracked();
        let req = CreateUser {
            username: name.get_untracked(),
            password: (!pw.is_empty()).then_some(pw),
            role: role.get_untracked(),
        };
        spawn_local(async move {
            match client::post::<_, User>("/users", &req).await {
                Ok(_) => {
                    error.set(None);
                    name.set(String::new());
                    password.set(String::new());
                    users.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="page">
            <h1>"Admin"</h1>
            {move || error.get().map(|e| view! { <ErrorBox error=e /> })}
            <h2>"Users"</h2>
            {move || loaded(users.get(), |list| view! {
                <table class="list">
                    <thead><tr><th scope="col">"User"</th><th scope="col">"Role"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                        {list.users.into_iter().map(|u| {
                            let n = u.username.clone();
                            view! { <tr><td>{u.username.clone()}</td><td>{u.role.clone()}</td>
                                <td><button class="link" aria-label=format!("Tokens of {}", u.username) on:click=move |_| tokens_of.set(Some(n.clone()))>"Tokens"</button></td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <form class="inline-form" on:submit=create_user>
                <label for="new-user">"Username"</label>
                <input id="new-user" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                <label for="new-password">"Password"</label>
                <input id="new-password" type="password" prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
                <label for="new-role">"Role"</label>
                <select id="new-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {ROLES.iter().map(|&r| view! { <option value=r selected=r == "author">{r}</option> }).collect_view()}
                </select>
                <button type="submit" class="primary">"Add user"</button>
            </form>
            {move || tokens_of.get().map(|u| view! { <Tokens username=u /> })}
            <h2>"Collectors"</h2>
            {move || loaded(collectors.get(), |list| {
                let list = list.collectors;
                if list.is_empty() {
                    return view! { <p class="empty">"No collector has reported yet."</p> }.into_any();
                }
                view! {
                    <table class="list">
                        <thead><tr><th scope="col">"Node"</th><th scope="col">"Last seen"</th><th scope="col">"Events/s"</th><th scope="col">"Dropped"</th><th scope="col">"Lost in kernel"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|c| view! {
                                <tr data-testid="collector-row"><td>{c.heartbeat.node.clone()}</td><td>{format_ns(c.last_seen)}</td>
                                <td>{c.events_per_sec.map(|r| format!("{r:.0}"))}</td><td>{c.heartbeat.dropped}</td><td>{c.heartbeat.lost_kernel}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn Tokens(
    /// Whose tokens to show.
    username: String,
) -> impl IntoView {
    let base = format!("/users/{}/tokens", client::enc(&username));
    let list = {
        let base = base.clone();
        LocalResource::new(move || {
            let base = base.clone();
            async move { client::get::<TokenList>(&base).await }
        })
    };
    let name = RwSignal::new(String::new());
    // Days until the token expires; empty: until revoked.
    let days = RwSignal::new(String::new());
    let created = RwSignal::new(None::<Result<CreatedToken, ApiError>>);
    let create = {
        let base = base.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let base = base.clone();
            let req = CreateToken {
                name: name.get_untracked(),
                expires_in: days
                    .get_untracked()
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .map(|d| d.saturating_mul(86_400)),
            };
            spawn_local(async move {
                created.set(Some(client::post(&base, &req).await));
                list.refetch();
            });
        }
    };
    let revoke = move |path: String| {
        spawn_local(async move {
            if let Err(e) = client::delete(&path).await {
                created.set(Some(Err(e)));
            }
            list.refetch();
        });
    };
    view! {
        <div class="card">
            <h3>{format!("Tokens of {username}")}</h3>
            {move || loaded(list.get(), |ts| {
                let base = base.clone();
                view! {
                    <ul>
                        {ts.tokens.into_iter().map(|t| {
                            let path = format!("{base}/{}", client::enc(&t.name));
                            let expiry = t.expires_at.map_or_else(|| "no expiry".to_string(), |at| format!("expires {}", format_ns(at)));
                            view! { <li>{t.name.clone()}" "<span class="muted" data-testid="token-expiry">{expiry}</span>" "<button class="link" on:click=move |_| revoke(path.clone())>"Revoke"</button></li> }
                        }).collect_view()}
                    </ul>
                }
            })}
            <form class="inline-form" on:submit=create>
                <label for="token-name">"Token name"</label>
                <input id="token-name" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                <label for="token-days">"Expires in (days, empty: never)"</label>
                <input id="token-days" type="number" min="1" prop:value=days on:input=move |ev| days.set(event_target_value(&ev)) />
                <button type="submit">"Create token"</button>
            </form>
            {move || created.get().map(|r| match r {
                Ok(t) => view! { <p class="ok">"New token (shown once): "<code>{t.token}</code></p> }.into_any(),
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            })}
        </div>
    }
}
