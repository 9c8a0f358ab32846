//! The connection loop: at most `--max-connections` at once (beyond that new ones wait in the
//! kernel's backlog), the request headers within `--header-timeout`, and a connection with no
//! request in flight and no bytes either way for `--idle-timeout` is closed. 20,000 idle
//! half-sent connections used to exhaust the process's descriptors so that `/healthz` stopped
//! answering.

use super::client::Peer;
use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// How long shutdown waits for open connections to finish their requests.
    pub drain: Duration,
}

impl Limits {
    pub fn of(config: &crate::config::ServeArgs) -> Limits {
        Limits {
            max_connections: config.max_connections as usize,
            header_timeout: config.header_timeout,
            idle_timeout: config.idle_timeout,
            drain: DRAIN,
        }
    }
}

/// How long shutdown waits for in-flight requests by default.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` over plain HTTP on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish (for at most `limits.drain`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    serve_tls(listener, app, limits, None, shutdown).await
}

/// [`serve`], over HTTPS when `tls` is given. The TLS handshake happens on the connection's
/// own task, within `--header-timeout` like the request headers that follow it, so a client
/// that never completes it holds a slot no longer than one that never sends its headers.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: not fatal, and
                    // retrying at once would spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        // The TCP stream is tracked below TLS, so a handshake counts as traffic.
        let stream = Tracked {
            inner: stream,
            activity: activity.clone(),
        };
        let connection = Connection {
            http: http.clone(),
            app: app.clone(),
            activity,
            stopping: stopping.clone(),
            idle_timeout: limits.idle_timeout,
        };
        let tls = tls.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let Some(tls) = tls else {
                return connection.run(stream, Peer { addr, tls: false }).await;
            };
            match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                Ok(Ok(stream)) => connection.run(stream, Peer { addr, tls: true }).await,
                Ok(Err(e)) => tracing::debug!(error = %e, %addr, "TLS handshake failed"),
                Err(_) => {
                    tracing::debug!(%addr, "TLS handshake not done within the header timeout")
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it ends: all slots back means all have ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open after {:?}; closing them",
            limits.drain
        );
    }
}

/// What serving one accepted connection needs, whatever its stream (TCP or TLS over TCP).
struct Connection {
    http: hyper::server::conn::http1::Builder,
    app: Router,
    activity: Arc<Activity>,
    stopping: watch::Receiver<bool>,
    idle_timeout: Duration,
}

impl Connection {
    async fn run<S>(self, stream: S, peer: Peer)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            http,
            app,
            activity,
            mut stopping,
            idle_timeout,
        } = self;
        // Each request carries the `Peer` and counts as in flight until its response head is
        // ready (a streamed body then shows as bytes moved).
        let in_flight = activity.clone();
        let service = hyper_util::service::TowerToHyperService::new(tower::service_fn(
            move |req: hyper::Request<hyper::body::Incoming>| {
                let (app, activity) = (app.clone(), in_flight.clone());
                async move {
                    let mut req: Request = req.map(axum::body::Body::new);
                    req.extensions_mut().insert(peer);
                    activity.in_flight.fetch_add(1, Relaxed);
                    let response = app.oneshot(req).await;
                    activity.in_flight.fetch_sub(1, Relaxed);
                    activity.touch();
                    response
                }
            },
        ));
        let conn = http.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        let mut closing = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, addr = %peer.addr, "connection ended");
                    }
                    break;
                }
                () = activity.idle(idle_timeout), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = stopping.wait_for(|s| *s), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are being handled.
struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
    in_flight: AtomicUsize,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Relaxed);
    }

    /// Resolves once the connection has had nothing in flight and moved nothing for `limit`.
    async fn idle(&self, limit: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last.load(Relaxed));
            let quiet = last.elapsed();
            if quiet >= limit && self.in_flight.load(Relaxed) == 0 {
                return;
            }
            tokio::time::sleep(limit.saturating_sub(quiet).max(limit / 4)).await;
        }
    }
}

/// A stream that records its activity.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
