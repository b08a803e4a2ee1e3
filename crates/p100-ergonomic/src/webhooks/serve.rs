//! [`serve`]: runs a webhook router on a listener with the timeouts a public endpoint needs.
//! `axum::serve` sets none, so a client that opens a connection and sends nothing, or sends its
//! headers or body a byte a minute, holds a connection (and a file descriptor) for ever; enough of
//! them exhaust the process. Here a connection must finish its headers within
//! [`ServeLimits::header_read`] (also when idle between requests: keep-alive connections are
//! closed after it), each request (body and handler) must finish within
//! [`ServeLimits::request`] (else 408), and at most [`ServeLimits::max_connections`] are served
//! at once.
//!
//! What does not belong here: the routes themselves ([`super::WebhookReceiver`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The limits [`serve`] applies. [`Default`]: 10 s to read a request's headers (and the longest
/// idle time of a kept-alive connection), 30 s per request, 1 024 connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeLimits {
    /// The longest time to receive a request's headers, and to wait for the next request on a
    /// kept-alive connection.
    pub header_read: Duration,
    /// The longest time for a request once its headers arrived: reading the body and handling
    /// it (an acknowledging handler's own limit should be shorter). After it: 408.
    pub request: Duration,
    /// The most connections served at once; further ones wait to be accepted.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl ServeLimits {
    /// These limits with another header-read (and idle) timeout.
    pub fn with_header_read(mut self, timeout: Duration) -> Self {
        self.header_read = timeout;
        self
    }

    /// These limits with another per-request timeout.
    pub fn with_request(mut self, timeout: Duration) -> Self {
        self.request = timeout;
        self
    }

    /// These limits with another connection limit (at least 1).
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }
}

/// Serves `router` on `listener` under `limits` until the listener fails; use it instead of
/// `axum::serve` for a receiver reachable from the internet.
///
/// ```no_run
/// use p100_ergonomic::webhooks::{self, ServeLimits, WebhookEvent, WebhookReceiver};
///
/// # async fn run() -> std::io::Result<()> {
/// let app = WebhookReceiver::new("webhook-token", |event: WebhookEvent| async move {
///     println!("{:?}", event.kind());
/// })
/// .into_router();
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
/// webhooks::serve(listener, app, ServeLimits::default()).await
/// # }
/// ```
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
) -> std::io::Result<()> {
    let request_limit = limits.request;
    let app = router.layer(middleware::from_fn(move |req: Request, next: Next| {
        time_limited(request_limit, req, next)
    }));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let (socket, peer) = listener.accept().await?;
        let service = TowerToHyperService::new(app.clone());
        let header_read = limits.header_read;
        tokio::spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .serve_connection(TokioIo::new(socket), service);
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "webhook connection closed");
            }
        });
    }
}

async fn time_limited(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                ?limit,
                "a webhook request took too long (slow body or handler)"
            );
            (StatusCode::REQUEST_TIMEOUT, "request took too long").into_response()
        }
    }
}
