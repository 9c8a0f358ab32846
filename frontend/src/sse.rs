//! Server-Sent Events with the session cookie, closed when the owning view (or effect) goes
//! away.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

/// Subscribes to `url`, calling `on_message(name, data)` for each of the named `events`;
/// `on_state` gets `true` when connected, `false` on error (the browser reconnects by itself).
pub fn subscribe(
    url: &str,
    events: &'static [&'static str],
    on_message: impl Fn(&str, String) + 'static,
    on_state: impl Fn(bool) + 'static,
) {
    let Ok(source) = EventSource::new(url) else {
        on_state(false);
        return;
    };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(data) = ev.data().as_string() {
            on_message(&ev.type_(), data);
        }
    });
    for name in events {
        let _ = source.add_event_listener_with_callback(name, on_message.as_ref().unchecked_ref());
    }
    let on_state = std::rc::Rc::new(on_state);
    let on_open = {
        let s = on_state.clone();
        Closure::<dyn Fn()>::new(move || s(true))
    };
    let on_error = Closure::<dyn Fn()>::new(move || on_state(false));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let source = send_wrapper::SendWrapper::new((source, on_message, on_open, on_error));
    on_cleanup(move || source.0.close());
}
