//! What the UI keeps in this browser's `localStorage`, always under the signed-in user's name:
//! drafts (a rule's text in the editor, a rule's tests) until they are proposed or the user
//! signs out, and preferences (the preview window, the Events page's columns) for as long as
//! the browser keeps them.

use crate::session;
use leptos::prelude::*;

const PREFIX: &str = "rulestudio.";
/// Kinds of entries; drafts are cleared on sign-out, preferences are kept.
pub const TESTS: &str = "tests";
/// The editor's text of a rule (by its name; the empty name for a new rule).
pub const DRAFT: &str = "draft";
pub const PREF_WINDOW: &str = "pref.window";
/// The Events page's columns.
pub const PREF_COLUMNS: &str = "pref.columns";
const DRAFT_KINDS: [&str; 2] = [TESTS, DRAFT];

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// `rulestudio.KIND:USER:NAME`, or `None` when nobody is signed in.
fn key(kind: &str, name: &str) -> Option<String> {
    session::user().with_untracked(|u| {
        u.as_ref()
            .map(|u| format!("{PREFIX}{kind}:{}:{name}", u.username))
    })
}

pub fn get(kind: &str, name: &str) -> Option<String> {
    storage()?.get_item(&key(kind, name)?).ok().flatten()
}

pub fn set(kind: &str, name: &str, value: &str) {
    if let (Some(s), Some(k)) = (storage(), key(kind, name)) {
        // A full or disabled storage only loses persistence; the page keeps its state.
        let _ = s.set_item(&k, value);
    }
}

pub fn remove(kind: &str, name: &str) {
    if let (Some(s), Some(k)) = (storage(), key(kind, name)) {
        let _ = s.remove_item(&k);
    }
}

/// Removes every draft kept in this browser, whoever wrote it (on sign-out: the next person at
/// this browser must not find them, nor have them attached to their proposals).
pub fn clear_drafts() {
    let Some(s) = storage() else { return };
    let n = s.length().unwrap_or(0);
    let drafts: Vec<String> = (0..n)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| {
            k.strip_prefix(PREFIX).is_some_and(|rest| {
                DRAFT_KINDS
                    .iter()
                    .any(|kind| rest.starts_with(&format!("{kind}:")))
            })
        })
        .collect();
    for k in drafts {
        let _ = s.remove_item(&k);
    }
}
