//! [`WebhookReceiver`]: a ready `axum::Router` receiving every kind of P100 webhook.
//!
//! Per delivery: check the token (401, the handler is not called), read and parse the body (400
//! with the reason), recognise retries through a [`DedupeStore`], then, in one of two modes:
//!
//! - at most once ([`WebhookReceiver::new`], the default): answer 200 at once and run the handler
//!   on a spawned task, so slow handling never makes P100 time out and retry. Because the answer
//!   comes first, a handler that fails cannot make P100 deliver again: persist the event (or
//!   queue it) before doing slow or fallible work.
//! - at least once ([`WebhookReceiver::acknowledging`]): run the handler first, within a time
//!   limit, and answer 200 only if it succeeded; otherwise forget the event's key and answer 500,
//!   so that P100 delivers it again and the retry reaches the handler.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures_util::FutureExt;
use tokio::sync::watch;
use tracing::{Instrument, Span};

use super::{
    detect, parse, BoxError, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting, WebhookError,
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

/// The time an [acknowledging receiver](WebhookReceiver::acknowledging) gives its handler by
/// default before answering 500: 10 seconds.
///
/// P100 asks for a 200 "immediately" and counts a timeout as a failure, but does not say how
/// long it waits. An answer it no longer waits for is lost: it retries anyway, and the handler
/// may run again. 10 s is a guess that leaves a database insert or a queue push ample room
/// while staying under the 30 s or more that HTTP clients commonly wait; it is not a documented
/// figure. Change it with [`handler_time_limit`](WebhookReceiver::handler_time_limit).
pub const DEFAULT_HANDLER_TIME_LIMIT: Duration = Duration::from_secs(10);

/// What an [acknowledging receiver](WebhookReceiver::acknowledging) calls for each event, before
/// answering P100: `Ok` makes the answer 200; an error, a panic or running out of time makes it
/// 500 and lets P100's retry reach the handler again.
///
/// Any `Fn(WebhookEvent) -> impl Future<Output = Result<(), E>>` with `E: Into<BoxError>` is one
/// (an `async fn` too); implement it on your own type to keep state (a database pool, a queue).
///
/// It may be called again for an event it already handled (at least once): when it failed,
/// or succeeded but the answer did not reach P100 in time, so make it idempotent (an upsert, a
/// unique constraint on the event's [`DedupeKey`]). It is never called twice at the same time
/// for the same event by one receiver.
///
/// ```
/// use p100_ergonomic::webhooks::{AcknowledgingHandler, BoxError, WebhookEvent};
///
/// struct Enqueue(tokio::sync::mpsc::Sender<WebhookEvent>);
///
/// impl AcknowledgingHandler for Enqueue {
///     async fn handle(&self, event: WebhookEvent) -> Result<(), BoxError> {
///         // A full or closed queue answers 500: P100 delivers the event again later.
///         self.0.try_send(event)?;
///         Ok(())
///     }
/// }
/// ```
pub trait AcknowledgingHandler: Send + Sync + 'static {
    /// Handles one event; `Ok` once it is safely kept, since P100 then stops retrying it.
    fn handle(&self, event: WebhookEvent) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl<F, Fut, E> AcknowledgingHandler for F
where
    F: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Into<BoxError>,
{
    fn handle(&self, event: WebhookEvent) -> impl Future<Output = Result<(), BoxError>> + Send {
        self(event).map(|result| result.map_err(Into::into))
    }
}

/// The handler of an [acknowledging receiver](WebhookReceiver::acknowledging), with its time
/// limit: the `H` of `WebhookReceiver<Acknowledging<H>, S>`. You name it only to write that type.
///
/// ```
/// use p100_ergonomic::webhooks::{
///     Acknowledging, AcknowledgingHandler, BoxError, WebhookEvent, WebhookReceiver,
/// };
///
/// struct Save;
///
/// impl AcknowledgingHandler for Save {
///     async fn handle(&self, _event: WebhookEvent) -> Result<(), BoxError> {
///         Ok(())
///     }
/// }
///
/// fn receiver(token: String) -> WebhookReceiver<Acknowledging<Save>> {
///     WebhookReceiver::acknowledging(token, Save)
/// }
/// ```
pub struct Acknowledging<H> {
    handler: H,
    time_limit: Duration,
}

impl<H> std::fmt::Debug for Acknowledging<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acknowledging")
            .field("time_limit", &self.time_limit)
            .finish_non_exhaustive()
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
/// p100_ergonomic::webhooks::serve(listener, app, Default::default()).await
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
        Self::with_defaults(token.into(), handler)
    }
}

impl<H> WebhookReceiver<H> {
    pub(crate) fn with_defaults(token: WebhookToken, handler: H) -> Self {
        Self {
            token,
            handler,
            store: InMemoryDedupeStore::new(),
            path: DEFAULT_PATH.to_owned(),
            kinds: WebhookKind::ALL.to_vec(),
            undeduped: Vec::new(),
            body_limit: 1 << 20,
        }
    }
}

impl<H: AcknowledgingHandler> WebhookReceiver<Acknowledging<H>> {
    /// A receiver that answers P100 only once `handler` has handled the event (at least once),
    /// with the same defaults as [`new`](WebhookReceiver::new) and a
    /// [`DEFAULT_HANDLER_TIME_LIMIT`] of 10 s.
    ///
    /// P100 asks for a 200 at once, with the work done afterwards; this mode trades that for
    /// not losing an event whose handling failed. Keep the handler to quick, durable work
    /// (store or enqueue the event) so that the answer still comes promptly.
    ///
    /// Per event: the handler runs before the answer. `Ok` → 200, and P100's retries of the
    /// event are answered 200 without calling it again. An error, a panic, or no answer within
    /// the [time limit](Self::handler_time_limit) (the handler is then cancelled) → the event's
    /// key is forgotten ([`DedupeStore::forget`], which a store of your own must implement) and
    /// the answer is 500, so P100 delivers it again and the retry reaches the handler; each
    /// failure is logged (`warn`) with the kind and the key. After P100's last attempt (about
    /// 2 minutes) it stops: log or alert on the failures.
    ///
    /// A retry that arrives while the same event is still being handled (P100 gave up waiting
    /// for the first answer) does not run the handler a second time: it waits for the first and
    /// is answered like it, 200 or 500. Answering it 200 at once would stop P100's retries
    /// while the first attempt may still fail, and nobody would hear of it again. This holds
    /// within one receiver; with a store shared by several instances, such a retry reaching
    /// another instance is answered 200 (the store only knows the key was recorded), so keep
    /// the time limit short enough for P100 not to give up first. For the same reason, an
    /// instance that dies while handling leaves the key in a shared store, and P100's retries
    /// are then taken as handled (with the in-memory store the key dies with the process).
    ///
    /// Kinds marked [`without_dedupe`](WebhookReceiver::without_dedupe) are handled for every
    /// delivery and answered by their own outcome.
    ///
    /// ```no_run
    /// use p100_ergonomic::webhooks::{WebhookEvent, WebhookReceiver};
    ///
    /// async fn save(event: WebhookEvent) -> std::io::Result<()> {
    ///     // Write the event to your database; an error makes P100 deliver it again.
    ///     println!("{} {:?}", event.kind(), event.dedupe_key());
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let token = std::env::var("P100_WEBHOOK_TOKEN").unwrap_or_default();
    /// let app = WebhookReceiver::acknowledging(token, save).into_router();
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    /// p100_ergonomic::webhooks::serve(listener, app, Default::default()).await
    /// # }
    /// ```
    pub fn acknowledging(token: impl Into<WebhookToken>, handler: H) -> Self {
        let handler = Acknowledging {
            handler,
            time_limit: DEFAULT_HANDLER_TIME_LIMIT,
        };
        Self::with_defaults(token.into(), handler)
    }
}

impl<H, S> WebhookReceiver<H, S> {
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

    /// The handler in its mode (for the modes defined in other modules).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The dedupe store (for the modes defined in other modules).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn store_ref(&self) -> &S {
        &self.store
    }

    /// Mounts `dispatch` (the handler in its mode) at the configured path(s), in a router of
    /// any state type (its routes use none), so that it merges into the caller's app.
    pub(crate) fn route<D: Dispatch, AppState>(
        self,
        dispatch: impl FnOnce(H) -> D,
    ) -> Router<AppState>
    where
        S: DedupeStore,
        AppState: Clone + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            token: self.token,
            dispatch: dispatch(self.handler),
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

impl<H: WebhookHandler, S: DedupeStore> WebhookReceiver<H, S> {
    /// The router: `POST` only, at the configured path(s), with no state of its own: serve it
    /// alone, or see [`merge_into`](Self::merge_into) for an app with state.
    ///
    /// # Panics
    ///
    /// Like `axum::Router::route`, if the path is not a valid route (e.g. unbalanced braces).
    pub fn into_router(self) -> Router {
        self.route(Spawned)
    }

    /// Adds the receiver's routes to your app, whatever its state type (`Router<AppState>`,
    /// before or after your own routes, before `.with_state(..)`).
    ///
    /// ```
    /// use axum::{extract::State, routing::get, Router};
    /// use p100_ergonomic::webhooks::{WebhookEvent, WebhookReceiver};
    ///
    /// #[derive(Clone)]
    /// struct AppState { name: &'static str }
    ///
    /// async fn hello(State(state): State<AppState>) -> &'static str { state.name }
    ///
    /// let app: Router = WebhookReceiver::new("s3cret", |event: WebhookEvent| async move {
    ///     println!("{} webhook", event.kind());
    /// })
    /// .merge_into(Router::new().route("/", get(hello)))
    /// .with_state(AppState { name: "acme" });
    /// # let _ = app;
    /// ```
    ///
    /// # Panics
    ///
    /// Like `axum::Router::merge`, if a path of the receiver is already a route of `app`.
    pub fn merge_into<AppState>(self, app: Router<AppState>) -> Router<AppState>
    where
        AppState: Clone + Send + Sync + 'static,
    {
        app.merge(self.route(Spawned))
    }
}

impl<H: AcknowledgingHandler, S: DedupeStore> WebhookReceiver<Acknowledging<H>, S> {
    /// How long the handler may take before the delivery is answered 500 and the handler is
    /// cancelled (default [`DEFAULT_HANDLER_TIME_LIMIT`], 10 s): past it P100 may have stopped
    /// waiting, and retries anyway. Storing the event and answering is usually far quicker;
    /// longer work belongs behind a queue.
    ///
    /// ```
    /// use std::time::Duration;
    /// use p100_ergonomic::webhooks::{BoxError, WebhookEvent, WebhookReceiver};
    ///
    /// let receiver = WebhookReceiver::acknowledging("s3cret", |_event: WebhookEvent| async {
    ///     Ok::<(), BoxError>(())
    /// })
    /// .handler_time_limit(Duration::from_secs(5));
    /// # let _ = receiver;
    /// ```
    pub fn handler_time_limit(mut self, limit: Duration) -> Self {
        self.handler.time_limit = limit;
        self
    }

    /// The router: `POST` only, at the configured path(s), with no state of its own. Merge it
    /// into your app (`app.merge(router)`, once your app's state is applied) or serve it alone.
    ///
    /// # Panics
    ///
    /// Like `axum::Router::route`, if the path is not a valid route (e.g. unbalanced braces).
    pub fn into_router(self) -> Router {
        self.route(Self::awaited)
    }

    /// Adds the receiver's routes to your app, whatever its state type: see
    /// [`WebhookReceiver::merge_into`](WebhookReceiver#method.merge_into).
    ///
    /// # Panics
    ///
    /// Like `axum::Router::merge`, if a path of the receiver is already a route of `app`.
    pub fn merge_into<AppState>(self, app: Router<AppState>) -> Router<AppState>
    where
        AppState: Clone + Send + Sync + 'static,
    {
        app.merge(self.route(Self::awaited))
    }

    fn awaited(acknowledging: Acknowledging<H>) -> Awaited<H> {
        Awaited {
            handler: acknowledging.handler,
            time_limit: acknowledging.time_limit,
            in_flight: Mutex::default(),
        }
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

pub(crate) struct Shared<D, S> {
    token: WebhookToken,
    pub(crate) dispatch: D,
    store: S,
    undeduped: Vec<WebhookKind>,
}

async fn receive<D: Dispatch, S: DedupeStore>(
    shared: Arc<Shared<D, S>>,
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

    let key =
        (!shared.undeduped.contains(&event.kind())).then(|| DedupeKey::for_delivery(&event, &body));
    D::deliver(shared, event, key, span).await
}

/// How a receiver runs its handler once the delivery is accepted: spawned after a 200
/// ([`Spawned`]), awaited before the answer ([`Awaited`]), or in a database transaction
/// (`postgres::receiver`).
pub(crate) trait Dispatch: Send + Sync + Sized + 'static {
    /// Deduplicates by `key` (`None`: every delivery is handled), runs the handler, answers.
    fn deliver<S: DedupeStore>(
        shared: Arc<Shared<Self, S>>,
        event: WebhookEvent,
        key: Option<DedupeKey>,
        span: Span,
    ) -> impl Future<Output = Response> + Send;
}

/// At most once: 200 first, then the handler on its own task.
struct Spawned<H>(H);

impl<H: WebhookHandler> Dispatch for Spawned<H> {
    async fn deliver<S: DedupeStore>(
        shared: Arc<Shared<Self, S>>,
        event: WebhookEvent,
        key: Option<DedupeKey>,
        span: Span,
    ) -> Response {
        if let Some(key) = key {
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

        tracing::debug!(parent: &span, kind = %event.kind(), "P100 webhook accepted");
        tokio::spawn(
            async move {
                shared.dispatch.0.handle(event).await;
            }
            .instrument(span),
        );
        StatusCode::OK.into_response()
    }
}

/// At least once: the handler first, the answer from its outcome.
struct Awaited<H> {
    handler: H,
    time_limit: Duration,
    /// The events being handled, by key, with their outcome once known: a repeat arriving
    /// meanwhile waits for it instead of running the handler again.
    in_flight: Mutex<HashMap<DedupeKey, watch::Receiver<Option<Outcome>>>>,
}

/// What P100 is told about one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 200: handled (now, or by an earlier delivery).
    Handled,
    /// 500 with this reason: not handled, P100 should deliver again.
    NotHandled(&'static str),
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        match self {
            Outcome::Handled => StatusCode::OK.into_response(),
            Outcome::NotHandled(reason) => {
                (StatusCode::INTERNAL_SERVER_ERROR, reason).into_response()
            }
        }
    }
}

impl<H: AcknowledgingHandler> Dispatch for Awaited<H> {
    async fn deliver<S: DedupeStore>(
        shared: Arc<Shared<Self, S>>,
        event: WebhookEvent,
        key: Option<DedupeKey>,
        span: Span,
    ) -> Response {
        // The work runs on its own task, so that it completes (and forgets the key of a failed
        // event) even if P100 hangs up and this request is dropped.
        let Some(key) = key else {
            let task = async move { shared.dispatch.run(event, None).await };
            return finish(tokio::spawn(task.instrument(span))).await;
        };

        let entry = {
            let mut in_flight = lock(&shared.dispatch.in_flight);
            match in_flight.get(&key) {
                Some(outcome) => Err(outcome.clone()),
                None => {
                    let (sender, outcome) = watch::channel(None);
                    in_flight.insert(key.clone(), outcome.clone());
                    Ok((sender, outcome))
                }
            }
        };
        match entry {
            Ok((sender, outcome)) => {
                let task = async move {
                    // Removes the entry however the task ends, panic included, and only after
                    // the key was forgotten: a delivery that no longer finds the entry must find
                    // the store up to date.
                    let _entry = InFlight {
                        shared: Arc::clone(&shared),
                        key: key.clone(),
                        outcome,
                    };
                    let result = handle_once(&shared, event, &key).await;
                    sender.send_replace(Some(result));
                    result
                };
                finish(tokio::spawn(task.instrument(span))).await
            }
            Err(mut outcome) => {
                tracing::debug!(parent: &span, %key, "P100 webhook repeated while being handled; answering as the first delivery");
                let result = outcome
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|o| *o);
                result
                    .unwrap_or(Outcome::NotHandled("P100 webhook handling was interrupted"))
                    .into_response()
            }
        }
    }
}

impl<H: AcknowledgingHandler> Awaited<H> {
    /// Runs the handler within the time limit, a panic caught; logs a failure.
    async fn run(&self, event: WebhookEvent, key: Option<&DedupeKey>) -> Outcome {
        let kind = event.kind();
        let key = key.map(DedupeKey::as_str);
        // The call inside the block, so that a panic before the handler's first await is caught.
        let handling = AssertUnwindSafe(async { self.handler.handle(event).await }).catch_unwind();
        let (reason, error) = match tokio::time::timeout(self.time_limit, handling).await {
            Ok(Ok(Ok(()))) => {
                tracing::debug!(%kind, key, "P100 webhook handled");
                return Outcome::Handled;
            }
            Ok(Ok(Err(error))) => ("P100 webhook handler failed", error),
            Ok(Err(_panic)) => (
                "P100 webhook handler panicked",
                "the handler panicked".into(),
            ),
            Err(_elapsed) => (
                "P100 webhook handler exceeded its time limit",
                format!("no answer within {:?}", self.time_limit).into(),
            ),
        };
        tracing::warn!(%kind, key, %error, "{reason}; answering 500 so that P100 delivers it again");
        Outcome::NotHandled(reason)
    }
}

/// The first delivery of `key` (as far as this receiver knows): recorded, handled, and forgotten
/// again if handling failed.
async fn handle_once<H: AcknowledgingHandler, S: DedupeStore>(
    shared: &Shared<Awaited<H>, S>,
    event: WebhookEvent,
    key: &DedupeKey,
) -> Outcome {
    match shared.store.record(key).await {
        Ok(Sighting::First) => {}
        Ok(Sighting::Repeat) => {
            tracing::debug!(%key, "P100 webhook repeated; already handled");
            return Outcome::Handled;
        }
        Err(error) => {
            // Handle it anyway: a possible duplicate is better than a lost event.
            tracing::error!(%key, %error, "dedupe store failed; handling the event");
        }
    }
    let outcome = shared.dispatch.run(event, Some(key)).await;
    if outcome != Outcome::Handled {
        if let Err(error) = shared.store.forget(key).await {
            tracing::error!(%key, %error, "dedupe store could not forget a failed event: P100's retries of it will be taken as handled");
        }
    }
    outcome
}

/// The entry of [`Awaited::in_flight`] a task owns, removed when the task ends.
struct InFlight<H: AcknowledgingHandler, S: DedupeStore> {
    shared: Arc<Shared<Awaited<H>, S>>,
    key: DedupeKey,
    outcome: watch::Receiver<Option<Outcome>>,
}

impl<H: AcknowledgingHandler, S: DedupeStore> Drop for InFlight<H, S> {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.shared.dispatch.in_flight);
        // Only this task's own entry (a later delivery may have made a new one).
        if in_flight
            .get(&self.key)
            .is_some_and(|outcome| outcome.same_channel(&self.outcome))
        {
            in_flight.remove(&self.key);
        }
    }
}

/// The answer from a handling task; 500 if the task itself did not finish.
async fn finish(task: tokio::task::JoinHandle<Outcome>) -> Response {
    task.await
        .unwrap_or(Outcome::NotHandled("P100 webhook handling was interrupted"))
        .into_response()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while the map is locked; if something did, the map is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn reject(error: &WebhookError) -> Response {
    (error.http_status(), error.to_string()).into_response()
}
