//! Who is signed in. One signal for the whole app: the REST client clears it on any 401, and
//! the shell then shows the login page.

use crate::client::{self, ApiResult, LoginRequest, Role, SessionInfo, calls};
use crate::storage;
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The start-up check (`GET /api/v1/session`) has not answered yet.
    Unknown,
    SignedOut,
    SignedIn,
}

thread_local! {
    static USER: RwSignal<Option<SessionInfo>> = RwSignal::new(None);
    static STATUS: RwSignal<Status> = RwSignal::new(Status::Unknown);
}

pub fn user() -> RwSignal<Option<SessionInfo>> {
    USER.with(|u| *u)
}

pub fn status() -> RwSignal<Status> {
    STATUS.with(|s| *s)
}

/// Whether the signed-in user's role is `min` (a user role) or higher, as the server judges
/// it ([`Role::at_least`]); a collector is none of these.
pub fn at_least(min: Role) -> bool {
    user().with(|u| u.as_ref().is_some_and(|u| u.role.at_least(min)))
}

/// Called by the client on 401.
pub fn expired() {
    // Only on a change: re-setting would re-render the login page and drop its error message.
    if status().get_untracked() != Status::SignedOut {
        user().set(None);
        status().set(Status::SignedOut);
    }
}

/// Asks the server whether the cookie still holds a session.
pub async fn restore() {
    match client::call::<calls::GetSession>(&(), &(), &()).await {
        Ok(info) => {
            user().set(Some(info));
            status().set(Status::SignedIn);
        }
        Err(_) => expired(),
    }
}

/// Signs in; `go` is called, before any page renders for the new user, with where they should
/// land instead of the current address (see [`landing`]).
pub async fn login(
    username: String,
    password: String,
    go: impl FnOnce(&'static str),
) -> ApiResult<()> {
    let info =
        client::call::<calls::SignIn>(&(), &(), &LoginRequest { username, password }).await?;
    user().set(Some(info));
    let path = web_sys::window().and_then(|w| w.location().pathname().ok());
    if let Some(to) = path.as_deref().and_then(landing) {
        go(to);
    }
    status().set(Status::SignedIn);
    Ok(())
}

/// Signs out and starts the page afresh: the next person at this browser finds none of the
/// previous user's page state (a fresh load drops every component and signal) nor their drafts,
/// and signs in at `/`, a page every role may see.
pub async fn logout() {
    // Signing out locally is what matters; a failed DELETE only leaves a cookie that expires.
    let _ = client::call::<calls::SignOut>(&(), &(), &()).await;
    storage::clear_drafts();
    expired();
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign("/");
    }
}

/// Where the signed-in user may go from `path`: `path` itself, or the rules page when it is a
/// page their role may not see (the previous user's admin page, say).
pub fn landing(path: &str) -> Option<&'static str> {
    let admin_only = ["/admin", "/audit"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    (admin_only && !at_least(Role::Admin)).then_some("/rules")
}
