//! Administration: users (create, change role, set password, delete) and their API tokens,
//! and the collectors reporting to this server (refreshed every few seconds).

use crate::client::Role;
use crate::client::calls;
use crate::client::{
    self, ApiError, CreateToken, CreateUser, CreatedToken, SetPassword, UpdateUser,
};
use crate::session;
use crate::widgets::{ErrorBox, format_ns, loaded};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The roles offered, user roles by rank, then the collector's.
const ROLES: [Role; 5] = [
    Role::Viewer,
    Role::Author,
    Role::Reviewer,
    Role::Admin,
    Role::Collector,
];
/// How often the collectors table refreshes.
const COLLECTORS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn AdminPage() -> impl IntoView {
    let users = LocalResource::new(|| client::call::<calls::ListUsers>(&(), &(), &()));
    let collectors = LocalResource::new(|| client::call::<calls::ListCollectors>(&(), &(), &()));
    let error = RwSignal::new(None::<ApiError>);
    let (name, password, role) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(Role::Author),
    );
    let tokens_of = RwSignal::new(None::<String>);
    let password_of = RwSignal::new(None::<String>);
    let me = session::user()
        .get_untracked()
        .map(|u| u.username)
        .unwrap_or_default();
    // The interval ends with the page.
    if let Ok(h) = set_interval_with_handle(move || collectors.refetch(), COLLECTORS_EVERY) {
        on_cleanup(move || h.clear());
    }
    let change_role = move |username: String, role: Role| {
        spawn_local(async move {
            match client::call::<calls::ChangeUser>(&username, &(), &UpdateUser { role }).await {
                Ok(_) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            users.refetch();
        });
    };
    let remove = move |username: String| {
        let sure = window()
            .confirm_with_message(&format!("Delete the user {username} and their API tokens?"))
            .unwrap_or(false);
        if !sure {
            return;
        }
        spawn_local(async move {
            match client::call::<calls::DeleteUser>(&username, &(), &()).await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            users.refetch();
        });
    };
    let create_user = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pw = password.get_untracked();
        let req = CreateUser {
            username: name.get_untracked(),
            password: (!pw.is_empty()).then_some(pw),
            role: role.get_untracked(),
        };
        spawn_local(async move {
            match client::call::<calls::AddUser>(&(), &(), &req).await {
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
                            let (n, r, d, p) = (u.username.clone(), u.username.clone(), u.username.clone(), u.username.clone());
                            let own = u.username == me;
                            view! { <tr data-testid="user-row" data-user=u.username.clone()><td>{u.username.clone()}</td>
                                <td><select aria-label=format!("Role of {}", u.username) data-testid="user-role" disabled=own
                                    title=if own { "You cannot change your own role" } else { "" }
                                    on:change=move |ev| if let Some(role) = Role::parse(&event_target_value(&ev)) { change_role(r.clone(), role) }>
                                    {ROLES.iter().map(|&role| view! { <option value=role.as_str() selected=role == u.role>{role.as_str()}</option> }).collect_view()}
                                </select></td>
                                <td class="row">
                                    <button class="link" aria-label=format!("Tokens of {}", u.username) on:click=move |_| tokens_of.set(Some(n.clone()))>"Tokens"</button>
                                    <button class="link" data-testid="user-password" aria-label=format!("Set the password of {}", u.username) on:click=move |_| password_of.set(Some(p.clone()))>"Set password"</button>
                                    {(!own).then(|| view! { <button class="link danger" data-testid="user-delete" aria-label=format!("Delete {}", u.username) on:click=move |_| remove(d.clone())>"Delete"</button> })}
                                </td></tr> }
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
                <select id="new-role" on:change=move |ev| if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }>
                    {ROLES.iter().map(|&r| view! { <option value=r.as_str() selected=r == Role::Author>{r.as_str()}</option> }).collect_view()}
                </select>
                <button type="submit" class="primary">"Add user"</button>
            </form>
            {move || password_of.get().map(|u| view! { <Password username=u /> })}
            {move || tokens_of.get().map(|u| view! { <Tokens username=u /> })}
            <h2>"Collectors"</h2>
            {move || loaded(collectors.get(), |list| {
                let list = list.collectors;
                if list.is_empty() {
                    return view! { <p class="empty">"No collector has reported yet."</p> }.into_any();
                }
                view! {
                    <table class="list">
                        <thead><tr><th scope="col">"Node"</th><th scope="col">"Last seen"</th><th scope="col">"Events/s"</th>
                            <th scope="col" title="Events its filters left out on purpose">"Filtered"</th>
                            <th scope="col" title="The kernel's ring buffer was full">"Lost in kernel"</th>
                            <th scope="col" title="Waiting in its spool for the server">"Spooled"</th>
                            <th scope="col" title="Its spool was full: oldest events dropped">"Dropped"</th>
                            <th scope="col" title="Kernel records that did not decode (lost events), and threads its table forgot (state re-read from /proc)">"Other losses"</th>
                            <th scope="col" title="The node–studio protocol version of its last heartbeat">"Protocol"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|c| view! {
                                <tr data-testid="collector-row" data-node=c.heartbeat.node.clone()><td>{c.heartbeat.node.clone()}</td><td>{format_ns(c.last_seen)}</td>
                                <td>{c.events_per_sec.map(|r| format!("{r:.0}"))}</td><td>{c.heartbeat.filtered}</td><td>{c.heartbeat.lost_kernel}</td>
                                <td>{c.heartbeat.spooled}</td><td>{c.heartbeat.dropped}</td>
                                <td data-testid="collector-losses">{other_losses(&c.heartbeat)}</td>
                                <td data-testid="collector-protocol">{c.heartbeat.version.unwrap_or_default().0}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// Sets a user's password; the server ends their sign-in sessions.
#[component]
fn Password(
    /// Whose password to set.
    username: String,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<(), ApiError>>);
    let whose = username.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (whose, req) = (
            whose.clone(),
            SetPassword {
                password: password.get_untracked(),
            },
        );
        spawn_local(async move {
            let r = client::call::<calls::SetUserPassword>(&whose, &(), &req).await;
            if r.is_ok() {
                password.set(String::new());
            }
            result.set(Some(r));
        });
    };
    view! {
        <div class="card">
            <h3>{format!("Password of {username}")}</h3>
            <form class="inline-form" on:submit=submit>
                <label for="set-password">"New password (at least 8 characters)"</label>
                <input id="set-password" data-testid="set-password" type="password" required minlength="8" autocomplete="new-password"
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
                <button type="submit" data-testid="set-password-submit">"Set password"</button>
            </form>
            {move || result.get().map(|r| match r {
                Ok(()) => view! { <p class="ok" data-testid="set-password-done">"Password set; their sessions were signed out."</p> }.into_any(),
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn Tokens(
    /// Whose tokens to show.
    username: String,
) -> impl IntoView {
    let list = {
        let whose = username.clone();
        LocalResource::new(move || {
            let whose = whose.clone();
            async move { client::call::<calls::ListTokens>(&whose, &(), &()).await }
        })
    };
    let name = RwSignal::new(String::new());
    // Days until the token expires; empty: until revoked.
    let days = RwSignal::new(String::new());
    let created = RwSignal::new(None::<Result<CreatedToken, ApiError>>);
    let create = {
        let whose = username.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let whose = whose.clone();
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
                created.set(Some(
                    client::call::<calls::AddToken>(&whose, &(), &req).await,
                ));
                list.refetch();
            });
        }
    };
    let revoke = move |token: (String, String)| {
        spawn_local(async move {
            if let Err(e) = client::call::<calls::DeleteToken>(&token, &(), &()).await {
                created.set(Some(Err(e)));
            }
            list.refetch();
        });
    };
    view! {
        <div class="card">
            <h3>{format!("Tokens of {username}")}</h3>
            {move || loaded(list.get(), |ts| {
                let whose = username.clone();
                view! {
                    <ul>
                        {ts.tokens.into_iter().map(|t| {
                            let token = (whose.clone(), t.name.clone());
                            let expiry = t.expires_at.map_or_else(|| "no expiry".to_string(), |at| format!("expires {}", format_ns(at)));
                            view! { <li>{t.name.clone()}" "<span class="muted" data-testid="token-expiry">{expiry}</span>" "<button class="link" on:click=move |_| revoke(token.clone())>"Revoke"</button></li> }
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

/// A node's losses beyond the kernel's and the spool's, by reason, or "none".
fn other_losses(hb: &rulestudio_api::collector::Heartbeat) -> String {
    let parts: Vec<String> = [
        ("truncated", hb.records_truncated),
        ("malformed", hb.records_malformed),
        ("threads evicted", hb.threads_evicted),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| format!("{what} {n}"))
    .collect();
    match parts.is_empty() {
        true => "none".into(),
        false => parts.join(", "),
    }
}
