//! Sign in with username and password; the server answers with a session cookie.

use crate::client::ApiError;
use crate::session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

#[component]
pub fn LoginPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            // The address may be the previous user's (a session that expired on /admin).
            let go = move |to: &str| navigate(to, Default::default());
            let result =
                session::login(username.get_untracked(), password.get_untracked(), go).await;
            busy.set(false);
            error.set(result.err());
        });
    };
    view! {
        <section class="login">
            <h1>"Sign in to Rulestudio"</h1>
            <form on:submit=submit>
                <label for="login-username">"Username"</label>
                <input id="login-username" data-testid="login-username" autocomplete="username" required
                    prop:value=username on:input=move |ev| username.set(event_target_value(&ev)) />
                <label for="login-password">"Password"</label>
                <input id="login-password" data-testid="login-password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
                <button type="submit" class="primary" data-testid="login-submit" disabled=busy>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
                {move || error.get().map(|e| {
                    let msg = match e {
                        ApiError::Unauthorized => "Wrong username or password.".to_string(),
                        other => other.to_string(),
                    };
                    view! { <p class="error" role="alert" data-testid="login-error">{msg}</p> }
                })}
            </form>
        </section>
    }
}
