//! The Leptos studio UI, compiled to wasm.
