//! Asking before unsaved work is left: the browser's own prompt when the page is closed or
//! reloaded (`beforeunload`), and for a link inside the app, the page's own question (the
//! router would otherwise move on without one). Both are listeners on the window, removed when
//! the guard is dropped.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

pub struct LeaveGuard {
    unload: Option<WindowListenerHandle>,
    click: Option<Closure<dyn FnMut(web_sys::MouseEvent)>>,
}

/// The same-origin address (path, query and fragment) a plain click on `event` follows, if it
/// is a click on an in-app link.
fn in_app_link(event: &web_sys::MouseEvent) -> Option<String> {
    if event.default_prevented()
        || event.button() != 0
        || event.ctrl_key()
        || event.meta_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let target: web_sys::Element = event.target()?.dyn_into().ok()?;
    let link: web_sys::HtmlAnchorElement = target.closest("a[href]").ok()??.dyn_into().ok()?;
    let here = web_sys::window()?.location();
    if link.origin() != here.origin().ok()? || !link.target().is_empty() {
        return None;
    }
    let to = format!("{}{}{}", link.pathname(), link.search(), link.hash());
    let now = format!(
        "{}{}",
        here.pathname().ok()?,
        here.search().ok().unwrap_or_default()
    );
    (to != now).then_some(to)
}

impl LeaveGuard {
    /// While `dirty()` holds, asks before the page is unloaded, and hands in-app links to
    /// `ask(address)` instead of following them.
    pub fn new(dirty: impl Fn() -> bool + Clone + 'static, ask: impl Fn(String) + 'static) -> Self {
        let d = dirty.clone();
        let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if d() {
                ev.prevent_default();
                // Older browsers want a return value as well.
                ev.set_return_value("unsaved");
            }
        });
        let click =
            Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
                if let Some(to) = in_app_link(&ev).filter(|_| dirty()) {
                    ev.prevent_default();
                    ev.stop_immediate_propagation();
                    ask(to);
                }
            });
        // The capture phase on the window runs before the router's own click handler.
        let added = web_sys::window().is_some_and(|w| {
            w.add_event_listener_with_callback_and_bool(
                "click",
                click.as_ref().unchecked_ref(),
                true,
            )
            .is_ok()
        });
        LeaveGuard {
            unload: Some(unload),
            click: added.then_some(click),
        }
    }

    /// Wrapped for a Leptos cleanup (which must be `Send`; the app has one thread).
    pub fn into_cleanup(self) -> impl FnOnce() + Send + Sync + 'static {
        let guard = SendWrapper::new(self);
        move || drop(guard)
    }
}

impl Drop for LeaveGuard {
    fn drop(&mut self) {
        if let Some(h) = self.unload.take() {
            h.remove();
        }
        if let (Some(c), Some(w)) = (self.click.take(), web_sys::window()) {
            let _ = w.remove_event_listener_with_callback_and_bool(
                "click",
                c.as_ref().unchecked_ref(),
                true,
            );
        }
    }
}
