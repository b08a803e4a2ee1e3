//! [`Delivery`]: an axum extractor for webhook handlers you write yourself, with the checks the
//! ready receiver makes: the token (401, the body is not read), a body limit (413), the parse
//! (400 with the reason; 404 for a `{kind}` that is no kind) and the event's dedupe key. What it
//! does not do is decide what a repeat means for your handler: record [`Delivery::key`] in your
//! store (or in your database transaction) and answer as you see fit.
//!
//! The token and the limit come from your app's state, through `FromRef`:
//!
//! ```
//! use axum::extract::FromRef;
//! use axum::routing::post;
//! use axum::Router;
//! use p100_ergonomic::webhooks::{Delivery, DeliveryConfig, WebhookEvent};
//!
//! #[derive(Clone)]
//! struct AppState {
//!     webhooks: DeliveryConfig,
//!     // your database pool, …
//! }
//!
//! impl FromRef<AppState> for DeliveryConfig {
//!     fn from_ref(state: &AppState) -> Self {
//!         state.webhooks.clone()
//!     }
//! }
//!
//! async fn on_webhook(delivery: Delivery) -> &'static str {
//!     if let WebhookEvent::CryptoDeposit(deposit) = &delivery.event {
//!         println!("deposit {} ({})", deposit.crypto_deposit_id, delivery.key);
//!     }
//!     "ok"
//! }
//!
//! let app: Router = Router::new()
//!     .route("/p100/{kind}", post(on_webhook))  // the kind from the path; without it, detected
//!     .with_state(AppState { webhooks: DeliveryConfig::new("s3cret") });
//! # let _ = app;
//! ```

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{detect, parse, DedupeKey, WebhookError, WebhookEvent, WebhookKind, WebhookToken};

/// The default body limit of [`DeliveryConfig`]: 1 MiB, as the receiver's.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// What the [`Delivery`] extractor checks against: the partner's webhook token and the largest
/// body accepted. Put one in your app's state and implement `FromRef` for it (see the
/// [module docs](self)).
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    token: WebhookToken,
    body_limit: usize,
}

impl DeliveryConfig {
    /// Checks deliveries against `token`, with the default body limit (1 MiB).
    pub fn new(token: impl Into<WebhookToken>) -> Self {
        DeliveryConfig {
            token: token.into(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The largest body accepted (default [`DEFAULT_BODY_LIMIT`]); larger ones are answered 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }
}

/// One accepted webhook delivery: its token checked, its body read within the limit and parsed
/// (by the `{kind}` path parameter when the route has one, else [`detect`]ed), with the event's
/// dedupe key. An axum extractor; the rejection is a [`DeliveryRejection`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Delivery {
    /// The typed event.
    pub event: WebhookEvent,
    /// Its dedupe key ([`DedupeKey::for_delivery`]): the same for P100's retries of one event.
    pub key: DedupeKey,
    /// The body as received.
    pub body: Bytes,
}

/// Why [`Delivery`] refused a request; answered with [`http_status`](Self::http_status) and
/// the message (which never contains the token).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryRejection {
    /// The token is missing or wrong, the kind unknown, or the body not a webhook.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The body is larger than the configured limit.
    #[error("the webhook body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read (the connection failed), or went past the limit while read.
    #[error("the webhook body could not be read within {limit} bytes: {reason}")]
    BodyUnreadable {
        /// The limit.
        limit: usize,
        /// What went wrong.
        reason: String,
    },
}

impl DeliveryRejection {
    /// The answer's status: 401 (token), 404 (unknown kind), 413 (too large), 400 (otherwise).
    pub fn http_status(&self) -> StatusCode {
        match self {
            DeliveryRejection::Webhook(error) => error.http_status(),
            DeliveryRejection::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DeliveryRejection::BodyUnreadable { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for DeliveryRejection {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "P100 webhook rejected");
        (self.http_status(), self.to_string()).into_response()
    }
}

impl<S> FromRequest<S> for Delivery
where
    S: Send + Sync,
    DeliveryConfig: FromRef<S>,
{
    type Rejection = DeliveryRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = DeliveryConfig::from_ref(state);
        // The token first: an unauthenticated body is not even read.
        config
            .token
            .verify(request.headers().get(header::AUTHORIZATION))?;
        let limit = config.body_limit;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(DeliveryRejection::BodyTooLarge { limit });
        }
        let (mut parts, body) = request.into_parts();
        let kind = match RawPathParams::from_request_parts(&mut parts, state).await {
            Ok(params) => params
                .iter()
                .find(|(name, _)| *name == "kind")
                .map(|(_, value)| WebhookKind::from_str(value))
                .transpose()?,
            // A route without path parameters: the kind is detected from the body.
            Err(_) => None,
        };
        let body = axum::body::to_bytes(body, limit)
            .await
            .map_err(|error| read_error(error, limit))?;
        let event = match kind {
            Some(kind) => parse(kind, &body)?,
            None => detect(&body)?,
        };
        let key = DedupeKey::for_delivery(&event, &body);
        Ok(Delivery { event, key, body })
    }
}

/// Over the limit (413), or unreadable (400).
fn read_error(error: axum::Error, limit: usize) -> DeliveryRejection {
    let inner = error.into_inner();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return DeliveryRejection::BodyTooLarge { limit };
        }
        cause = error.source();
    }
    DeliveryRejection::BodyUnreadable {
        limit,
        reason: inner.to_string(),
    }
}
