//! [`WebhookReceiver::transactional`]: the receiver whose handler's writes commit with the
//! event's key (features `postgres` and `axum`).

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tracing::{Instrument, Span};

use super::{HandleOnceError, Handled, PgDedupeStore, TransactionalHandler};
use crate::webhooks::receiver::{Dispatch, Shared};
use crate::webhooks::{
    DedupeKey, DedupeStore, WebhookEvent, WebhookReceiver, WebhookToken, DEFAULT_HANDLER_TIME_LIMIT,
};

/// The handler of a [transactional receiver](WebhookReceiver::transactional), with its time
/// limit: the `H` of `WebhookReceiver<Transactional<H>, PgDedupeStore>`. You name it only to
/// write that type.
pub struct Transactional<H> {
    handler: H,
    time_limit: Duration,
}

impl<H> std::fmt::Debug for Transactional<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transactional")
            .field("time_limit", &self.time_limit)
            .finish_non_exhaustive()
    }
}

impl<H: TransactionalHandler> WebhookReceiver<Transactional<H>, PgDedupeStore> {
    /// A receiver that handles each event exactly once across every instance sharing `store`'s
    /// table: the handler gets the transaction that records the event's key
    /// ([`PgDedupeStore::handle_once`]), and the answer is 200 only once it has committed.
    ///
    /// Per delivery, after the token and the parse: a transaction records the key (waiting, if
    /// another delivery of the same event is being handled anywhere, for it to end), the handler
    /// writes through it, and the commit makes both durable. `Ok` → commit → 200; a key already
    /// committed → 200 without calling the handler; a handler error or panic, no commit within
    /// the [time limit](Self::handler_time_limit), a full pool, a slow or unreachable database →
    /// everything rolled back, 500, and a log line saying why (`warn` for the handler, `error`
    /// for the database), so P100 delivers the event again and the retry is handled. Nothing is
    /// answered 200 that is not committed, and a crash at any point leaves the key and the
    /// effects together, or neither. The other settings are those of
    /// [`new`](WebhookReceiver::new).
    ///
    /// ```no_run
    /// use p100_ergonomic::webhooks::postgres::{EventTransaction, PgDedupeStore, TransactionalHandler};
    /// use p100_ergonomic::webhooks::{BoxError, WebhookEvent, WebhookReceiver};
    ///
    /// struct Save;
    ///
    /// impl TransactionalHandler for Save {
    ///     async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
    ///         let body = serde_json::to_string(&event)?;
    ///         tx.execute(
    ///             "INSERT INTO p100_events (kind, body) VALUES ($1, $2::text::jsonb)",
    ///             &[&event.kind().as_str(), &body],
    ///         )
    ///         .await?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = PgDedupeStore::builder().url(&std::env::var("DATABASE_URL")?).build()?;
    /// store.migrate().await?;
    /// let token = std::env::var("P100_WEBHOOK_TOKEN")?;
    /// let app = WebhookReceiver::transactional(token, store, Save).into_router();
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    /// p100_ergonomic::webhooks::serve(listener, app, Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn transactional(token: impl Into<WebhookToken>, store: PgDedupeStore, handler: H) -> Self {
        let handler = Transactional {
            handler,
            time_limit: DEFAULT_HANDLER_TIME_LIMIT,
        };
        WebhookReceiver::with_defaults(token.into(), handler).dedupe_store(store)
    }

    /// How long one delivery may take, from waiting for a connection to the commit, before it
    /// is rolled back and answered 500 (default [`DEFAULT_HANDLER_TIME_LIMIT`], 10 s). It also
    /// bounds the wait for a concurrent delivery of the same event.
    pub fn handler_time_limit(mut self, limit: Duration) -> Self {
        self.handler_mut().time_limit = limit;
        self
    }

    /// The router: `POST` only, at the configured path(s), with no state of its own. Merge it
    /// into your app (`app.merge(router)`, once your app's state is applied) or serve it alone.
    ///
    /// # Panics
    ///
    /// Like `axum::Router::route`, if the path is not a valid route (e.g. unbalanced braces).
    pub fn into_router(self) -> Router {
        self.transactional_router()
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
        app.merge(self.transactional_router())
    }

    fn transactional_router<AppState>(self) -> Router<AppState>
    where
        AppState: Clone + Send + Sync + 'static,
    {
        let store = self.store_ref().clone();
        self.route(move |transactional| InTransaction {
            handler: transactional.handler,
            time_limit: transactional.time_limit,
            store,
        })
    }
}

/// Exactly once: the handler inside the transaction that records the key, the answer from the
/// commit.
struct InTransaction<H> {
    handler: H,
    time_limit: Duration,
    store: PgDedupeStore,
}

impl<H: TransactionalHandler> Dispatch for InTransaction<H> {
    async fn deliver<S: DedupeStore>(
        shared: Arc<Shared<Self, S>>,
        event: WebhookEvent,
        key: Option<DedupeKey>,
        span: Span,
    ) -> Response {
        // Its own task, so that it ends (commit or rollback) even if P100 hangs up.
        let task = async move {
            let this = &shared.dispatch;
            let kind = event.kind();
            let key = key.as_ref();
            let handling = this.store.handle_once(key, event, &this.handler);
            let key = key.map(DedupeKey::as_str);
            match tokio::time::timeout(this.time_limit, handling).await {
                Ok(Ok(Handled::Now)) => {
                    tracing::debug!(%kind, key, "P100 webhook handled and committed");
                    StatusCode::OK.into_response()
                }
                Ok(Ok(Handled::Earlier)) => {
                    tracing::debug!(%kind, key, "P100 webhook repeated; already handled");
                    StatusCode::OK.into_response()
                }
                Ok(Err(error)) => {
                    let reason = error.reason();
                    match &error {
                        HandleOnceError::Store(_) => tracing::error!(
                            %kind, key, %error,
                            "{reason}; rolled back, answering 500 so that P100 delivers it again"
                        ),
                        _ => tracing::warn!(
                            %kind, key, %error,
                            "{reason}; rolled back, answering 500 so that P100 delivers it again"
                        ),
                    }
                    (StatusCode::INTERNAL_SERVER_ERROR, reason).into_response()
                }
                Err(_elapsed) => {
                    let reason = "P100 webhook not handled within the time limit";
                    tracing::warn!(
                        %kind, key, limit = ?this.time_limit,
                        "{reason} (slow handler or database, or a concurrent delivery of the same event); rolled back, answering 500 so that P100 delivers it again"
                    );
                    (StatusCode::INTERNAL_SERVER_ERROR, reason).into_response()
                }
            }
        };
        match tokio::spawn(task.instrument(span)).await {
            Ok(response) => response,
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "P100 webhook handling was interrupted",
            )
                .into_response(),
        }
    }
}
