//! [`WebhookReceiver`]: a ready `axum::Router` receiving every kind of P100 webhook.
//!
//! Per delivery: check the token (401, the handler is not called), read and parse the body (400
//! with the reason), recognise retries through a [`DedupeStore`], answer 200 at once and run the
//! handler on a spawned task, so slow handling never makes P100 time out and retry. Because the
//! answer comes first, a handler that fails cannot make P100 deliver again: persist the event
//! (or queue it) before doing slow or fallible work.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tracing::Instrument;

use super::{
    detect, parse, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting, WebhookError,
    WebhookEvent, WebhookKind, WebhookToken,
};

/// The default path template: every kind at `/webhooks/p100/{kind}`
/// (`/webhooks/p100/crypto_deposit`, …).
pub const DEFAULT_PATH: &str = "/webhooks/p100/{kind}";

/// What the receiver calls once per event. Any `Fn(WebhookEvent) -> impl Future<Output = ()>`
/// is one; implement it on your own type to keep state (a database pool, a queue).
///
/// It runs on a spawned tokio task after P100 has had its 200, so its outcome cannot reach P100.
///
/// ```
/// use p100_ergonomic::webhooks::{WebhookEvent, WebhookHandler};
///
/// struct Enqueue(tokio::sync::mpsc::Sender<WebhookEvent>);
///
/// impl WebhookHandler for Enqueue {
///     async fn handle(&self, event: WebhookEvent) {
///         let _ = self.0.send(event).await;
///     }
/// }
/// ```
pub trait WebhookHandler: Send + Sync + 'static {
    /// Handles one event (not called again for P100's retries of it).
    fn handle(&self, event: WebhookEvent) -> impl Future<Output = ()> + Send;
}

impl<F, Fut> WebhookHandler for F
where
    F: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    fn handle(&self, event: WebhookEvent) -> impl Future<Output = ()> + Send {
        self(event)
    }
}

/// Builds an `axum::Router` that receives P100's webhooks and calls a handler once per event.
///
/// ```no_run
/// use p100_ergonomic::webhooks::{WebhookEvent, WebhookReceiver};
///
/// # async fn run() -> std::io::Result<()> {
/// let token = std::env::var("P100_WEBHOOK_TOKEN").unwrap_or_default();
/// let app = WebhookReceiver::new(token, |event: WebhookEvent| async move {
///     println!("{} {:?}", event.kind(), event.dedupe_key());
/// })
/// .into_router();
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
pub struct WebhookReceiver<H, S = InMemoryDedupeStore> {
    token: WebhookToken,
    handler: H,
    store: S,
    path: String,
    kinds: Vec<WebhookKind>,
    undeduped: Vec<WebhookKind>,
    body_limit: usize,
}

impl<H: WebhookHandler> WebhookReceiver<H> {
    /// A receiver checking `token` and calling `handler`, with the defaults: every kind at
    /// [`DEFAULT_PATH`], an [`InMemoryDedupeStore`], bodies up to 1 MiB.
    pub fn new(token: impl Into<WebhookToken>, handler: H) -> Self {
        Self {
            token: token.into(),
            handler,
            store: InMemoryDedupeStore::new(),
            path: DEFAULT_PATH.to_owned(),
            kinds: WebhookKind::ALL.to_vec(),
            undeduped: Vec::new(),
            body_limit: 1 << 20,
        }
    }
}

impl<H: WebhookHandler, S: DedupeStore> WebhookReceiver<H, S> {
    /// Where to mount: a path with `{kind}` mounts each kind at its own path (default
    /// [`DEFAULT_PATH`]). A path without `{kind}` mounts one route for every kind, which reads
    /// the kind from the body with [`detect`] (400 when ambiguous): use it only if P100 was given
    /// one URL for all kinds.
    pub fn path(mut self, template: impl Into<String>) -> Self {
        let template = template.into();
        self.path = if template.starts_with('/') {
            template
        } else {
            format!("/{template}")
        };
        self
    }

    /// Mounts only these kinds (default: all of [`WebhookKind::ALL`]); the others' paths answer
    /// 404. A single detecting path (see [`path`](Self::path)) accepts every kind.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = WebhookKind>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self.kinds.sort_unstable();
        self.kinds.dedup();
        self
    }

    /// Remembers handled events in `store` instead of the default in-memory one (e.g. a store
    /// shared by several instances).
    pub fn dedupe_store<S2: DedupeStore>(self, store: S2) -> WebhookReceiver<H, S2> {
        WebhookReceiver {
            token: self.token,
            handler: self.handler,
            store,
            path: self.path,
            kinds: self.kinds,
            undeduped: self.undeduped,
            body_limit: self.body_limit,
        }
    }

    /// Calls the handler for every delivery of `kind`, retries included. For kinds where
    /// distinct events can look identical: two KYC files added for the same user in a row give
    /// the same `{externalUserId, status: ADDED}` body, which deduplication would merge.
    pub fn without_dedupe(mut self, kind: WebhookKind) -> Self {
        if !self.undeduped.contains(&kind) {
            self.undeduped.push(kind);
        }
        self
    }

    /// The largest body accepted (default 1 MiB; P100's bodies are far smaller); larger ones are
    /// answered 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The router: `POST` only, at the configured path(s), with no state of its own. Merge it
    /// into your app (`app.merge(router)`, once your app's state is applied) or serve it alone.
    ///
    /// # Panics
    ///
    /// Like `axum::Router::route`, if the path is not a valid route (e.g. unbalanced braces).
    pub fn into_router(self) -> Router {
        let shared = Arc::new(Shared {
            token: self.token,
            handler: self.handler,
            store: self.store,
            undeduped: self.undeduped,
        });
        let mut router = Router::new();
        if self.path.contains("{kind}") {
            for &kind in &self.kinds {
                let path = self.path.replace("{kind}", kind.as_str());
                let shared = Arc::clone(&shared);
                router = router.route(
                    &path,
                    post(move |request: Request| receive(shared, Some(kind), request)),
                );
            }
        } else {
            let shared = Arc::clone(&shared);
            router = router.route(
                &self.path,
                post(move |request: Request| receive(shared, None, request)),
            );
        }
        router.layer(DefaultBodyLimit::max(self.body_limit))
    }
}

impl<H, S> std::fmt::Debug for WebhookReceiver<H, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("token", &self.token)
            .field("path", &self.path)
            .field("kinds", &self.kinds)
            .field("undeduped", &self.undeduped)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

struct Shared<H, S> {
    token: WebhookToken,
    handler: H,
    store: S,
    undeduped: Vec<WebhookKind>,
}

async fn receive<H: WebhookHandler, S: DedupeStore>(
    shared: Arc<Shared<H, S>>,
    kind: Option<WebhookKind>,
    request: Request,
) -> Response {
    let route = kind.map_or("detect", WebhookKind::as_str);
    let span = tracing::info_span!("p100_webhook", route);

    // The token first: an unauthenticated body is not even read.
    if let Err(error) = shared
        .token
        .verify(request.headers().get(header::AUTHORIZATION))
    {
        tracing::warn!(parent: &span, %error, "P100 webhook rejected");
        return reject(&error);
    }
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) => {
            tracing::warn!(parent: &span, error = %rejection, "P100 webhook body unreadable");
            return rejection.into_response();
        }
    };
    let event = match kind {
        Some(kind) => parse(kind, &body),
        None => detect(&body),
    };
    let event = match event {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(parent: &span, %error, "P100 webhook rejected");
            return reject(&error);
        }
    };

    let kind = event.kind();
    if !shared.undeduped.contains(&kind) {
        let key = DedupeKey::for_delivery(&event, &body);
        match shared.store.record(&key).await {
            Ok(Sighting::First) => {}
            Ok(Sighting::Repeat) => {
                tracing::debug!(parent: &span, %key, "P100 webhook repeated; already handled");
                return StatusCode::OK.into_response();
            }
            Err(error) => {
                // Handle it anyway: a possible duplicate is better than a lost event.
                tracing::error!(parent: &span, %key, %error, "dedupe store failed; handling the event");
            }
        }
    }

    tracing::debug!(parent: &span, %kind, "P100 webhook accepted");
    tokio::spawn(
        async move {
            shared.handler.handle(event).await;
        }
        .instrument(span),
    );
    StatusCode::OK.into_response()
}

fn reject(error: &WebhookError) -> Response {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, error.to_string()).into_response()
}
