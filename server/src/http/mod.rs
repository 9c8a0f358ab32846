//! The HTTP edge: the connection loop (limits and timeouts on every connection), who the
//! client is (address, TLS, trusted proxies), HTTPS (`tls`), and what every response and every cookie-signed
//! change must carry (security headers, same-origin).

pub mod client;
mod conn;
pub mod headers;
pub mod origin;
pub mod tls;

pub use client::Peer;
pub use conn::{Limits, serve, serve_tls};
