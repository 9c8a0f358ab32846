//! The Leptos studio UI, compiled to wasm: an app shell over one typed REST client, with the
//! rules engine linked in for lint-as-you-type.

#![forbid(unsafe_code)]

mod app;
pub mod client;
mod diff;
pub mod editor;
mod pages;
mod session;
mod sse;
mod storage;
mod widgets;
mod window_pick;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    // The lint worker loads this module too (`editor::worker`): no page to mount there.
    if web_sys::window().is_none() {
        return;
    }
    leptos::mount::mount_to_body(app::App);
}
