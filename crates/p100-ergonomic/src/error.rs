//! One error type for every call: [`Error`], with the P100 error code as an [`ErrorCode`], the
//! 401 reason as an [`AuthFailure`], and predicates (`is_retryable`, `is_not_found`, …) so callers
//! branch on meaning rather than on the representation.
//!
//! What does not belong here: deciding what to retry ([`crate::retry`]) and the upload rules
//! ([`crate::upload`]); this module only describes their outcome.
//!
//! # Where the HTTP status of an unreadable error body comes from
//!
//! The generated client decodes every non-2xx body as the spec's JSON `Error`. When P100 answers
//! with something else (a plain-text `Access Denied. xo1`, a proxy's HTML 502 page), progenitor
//! reports `InvalidResponsePayload(body, _)`, which has lost the status. The SDK does not rewrite
//! bodies to hide this: [`raw`](crate::Client::raw) stays a faithful generated client. Instead
//! the client's executor records, per call, what it saw on the wire (operation, attempts, last
//! status, `Retry-After`) in a task-local slot that [`Client::call`](crate::Client::call) opens
//! around the raw future; the conversion to [`Error`] reads that record. Concurrent calls cannot
//! see each other's record, and nothing is shared between clients.
//!
//! Without that record (a plain `Error::from(raw_error)`), the conversion still recognises the
//! documented `Access Denied. xoN` body as HTTP 401 with its reason; any other undecodable body
//! becomes a [`ErrorKind::Decode`] error that keeps the raw bytes.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::client::ConfigError;
use crate::reconcile::UnknownMovement;
use crate::upload::UploadError;
use p100_api::catalog::Effect;

/// The error type of the generated client (`p100_api`), as `client.raw()` operations return it.
///
/// Turn it into an [`Error`] with [`Client::call`](crate::Client::call) (keeps everything the
/// client saw) or with `Error::from` (keeps what the error itself carries).
pub type RawError = p100_api::Error<p100_api::types::Error>;

/// A P100 error code and the 401 reasons, generated from the spec's error registry
/// (`x-p100-errors`): the variants, titles, `errorName`s and classes are the spec's, so a code
/// added there reaches this type through `cargo xtask codegen` alone. See [`ErrorCode`].
pub use p100_api::catalog::{AuthFailure, ErrorClass, ErrorCode};

/// A non-2xx answer from P100: HTTP status, error code, name, message and, for 401, the reason.
///
/// Reach it through [`Error::api`]; the common questions have predicates on [`Error`] itself.
#[derive(Clone, Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Option<ErrorCode>,
    name: Option<String>,
    message: Option<String>,
    auth_failure: Option<AuthFailure>,
    retry_after: Option<Duration>,
    operation: Option<&'static str>,
    attempts: u32,
}

/// The longest message `Display` prints; the full text stays available from
/// [`ApiError::message`].
const DISPLAY_MESSAGE_LIMIT: usize = 300;

impl ApiError {
    /// The HTTP status P100 answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code (`errorCode`), if the body carried one (a 401 does not).
    pub fn code(&self) -> Option<&ErrorCode> {
        self.code.as_ref()
    }

    /// The readable error name (`errorName`), if any (validation errors have none).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The detail message (`errorMessage`), or the body text when it was not the JSON error
    /// shape. Meant for logs, not for end users.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// For HTTP 401: why access was denied, when P100 said so.
    pub fn auth_failure(&self) -> Option<AuthFailure> {
        self.auth_failure
    }

    /// How long P100 asked to wait before trying again (`Retry-After`), if it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The operation id (e.g. `user_get_balances`), when known.
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// How many times the request was sent (more than one when it was retried); 0 when unknown.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub(crate) fn from_typed(
        status: StatusCode,
        headers: &HeaderMap,
        body: p100_api::types::Error,
        record: Option<CallRecord>,
    ) -> Self {
        let mut error = ApiError::bare(status, record);
        error.code = Some(ErrorCode::parse(&body.error_code));
        error.name = body.error_name;
        error.message = body.error_message;
        error.retry_after = crate::retry::retry_after(headers).or(error.retry_after);
        error.find_auth_failure();
        error
    }

    /// Reads any error body: the JSON error shape (also `{"message": …}`), or plain text.
    pub(crate) fn from_body(
        status: StatusCode,
        headers: Option<&HeaderMap>,
        body: &[u8],
        record: Option<CallRecord>,
    ) -> Self {
        let mut error = ApiError::bare(status, record);
        if let Some(retry_after) = headers.and_then(crate::retry::retry_after) {
            error.retry_after = Some(retry_after);
        }
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(fields)) => {
                let text = |key: &str| fields.get(key).and_then(|v| v.as_str()).map(String::from);
                error.code = text("errorCode").map(|code| ErrorCode::parse(&code));
                error.name = text("errorName");
                error.message = text("errorMessage").or_else(|| text("message"));
            }
            _ => {
                let text = String::from_utf8_lossy(body).trim().to_string();
                if !text.is_empty() {
                    error.message = Some(text);
                }
            }
        }
        error.find_auth_failure();
        error
    }

    fn bare(status: StatusCode, record: Option<CallRecord>) -> Self {
        ApiError {
            status,
            code: None,
            name: None,
            message: None,
            auth_failure: None,
            retry_after: record.and_then(|r| r.retry_after),
            operation: record.map(|r| r.operation),
            attempts: record.map_or(0, |r| r.attempts),
        }
    }

    fn find_auth_failure(&mut self) {
        if self.status == StatusCode::UNAUTHORIZED {
            self.auth_failure = [self.message.as_deref(), self.name.as_deref()]
                .into_iter()
                .flatten()
                .find_map(AuthFailure::from_reason);
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation {
            Some(operation) => write!(f, "P100 rejected {operation} with HTTP {}", self.status)?,
            None => write!(f, "P100 answered HTTP {}", self.status)?,
        }
        if let Some(code) = &self.code {
            write!(f, ", {code}")?;
            if let Some(title) = code.title() {
                write!(f, " ({title})")?;
            }
        }
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        if let Some(reason) = self.auth_failure {
            write!(f, ", access denied: {reason}")?;
        }
        if let Some(message) = &self.message {
            if message.chars().count() > DISPLAY_MESSAGE_LIMIT {
                let short: String = message.chars().take(DISPLAY_MESSAGE_LIMIT).collect();
                write!(f, ": {short}…")?;
            } else {
                write!(f, ": {message}")?;
            }
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// What kind of failure an [`Error`] is. Match on it, or use the predicates on [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration is invalid (see [`ConfigError`]); nothing was sent.
    Config,
    /// The request could not be built (e.g. a required parameter is missing); nothing was sent.
    InvalidRequest,
    /// An upload breaks one of P100's file rules (see [`UploadError`]); nothing was sent.
    InvalidUpload,
    /// The connection failed, was reset, or the body could not be read.
    Transport,
    /// No answer within the configured timeout.
    Timeout,
    /// P100 answered with a non-2xx status (see [`ApiError`]).
    Api,
    /// P100 answered 2xx but the body is not what the operation documents.
    Decode,
}

/// The SDK's one error type, for every call.
///
/// It never contains the API key: not in `Display`, not in `Debug`.
///
/// ```
/// use p100_ergonomic::{Error, ErrorCode, ErrorKind};
///
/// // What a `client.call(...)` returns when P100 rejects an expired rate lock.
/// let error = Error::from_response(
///     http::StatusCode::BAD_REQUEST,
///     br#"{"errorCode":"P432","errorName":"invalid-exchange-lock","errorMessage":"Lock expired"}"#,
/// );
/// assert_eq!(error.kind(), ErrorKind::Api);
/// assert_eq!(error.code(), Some(&ErrorCode::InvalidExchangeLock));
/// assert_eq!(error.status(), Some(http::StatusCode::BAD_REQUEST));
/// assert!(!error.is_retryable());
///
/// match error.code() {
///     Some(ErrorCode::InvalidExchangeLock) => { /* take a new lock and execute again */ }
///     Some(ErrorCode::InsufficientFunds) => { /* tell the user */ }
///     _ => { /* log error.to_string() */ }
/// }
///
/// // A 401 keeps its reason even when the body is plain text.
/// let denied = Error::from_response(http::StatusCode::UNAUTHORIZED, b"Access Denied. xo2");
/// assert!(denied.is_unauthorized());
/// assert_eq!(denied.auth_failure(), Some(p100_ergonomic::AuthFailure::WrongApiKey));
/// ```
pub struct Error(Box<Inner>);

struct Inner {
    repr: Repr,
    /// What the operation does (`x-p100-effect`), when the call was made through the client.
    effect: Option<Effect>,
    /// A money movement whose answer was lost: what is needed to reconcile it.
    movement: Option<UnknownMovement>,
}

#[derive(Debug, thiserror::Error)]
enum Repr {
    #[error(transparent)]
    Config(ConfigError),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error(transparent)]
    InvalidUpload(UploadError),
    #[error("the connection to P100 failed{ctx}")]
    Transport {
        ctx: CallContext,
        #[source]
        source: reqwest::Error,
    },
    #[error("P100 did not answer in time{ctx}")]
    Timeout {
        ctx: CallContext,
        #[source]
        source: reqwest::Error,
    },
    #[error(transparent)]
    Api(ApiError),
    #[error("could not decode P100's answer{ctx}: {reason}")]
    Decode {
        ctx: CallContext,
        status: Option<StatusCode>,
        body: Bytes,
        reason: String,
        #[source]
        source: Option<serde_json::Error>,
    },
}

/// Operation and attempt count, printed after the message of transport-level errors.
#[derive(Clone, Copy, Debug, Default)]
struct CallContext {
    operation: Option<&'static str>,
    attempts: u32,
}

impl CallContext {
    fn from_record(record: Option<CallRecord>) -> Self {
        CallContext {
            operation: record.map(|r| r.operation),
            attempts: record.map_or(0, |r| r.attempts),
        }
    }
}

impl fmt::Display for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.operation, self.attempts) {
            (Some(op), n) if n > 1 => write!(f, " ({op}, after {n} attempts)"),
            (Some(op), _) => write!(f, " ({op})"),
            (None, n) if n > 1 => write!(f, " (after {n} attempts)"),
            (None, _) => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.repr, f)?;
        if let Some(movement) = &self.0.movement {
            write!(f, " [{movement:?}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.repr, f)?;
        if let Some(movement) = &self.0.movement {
            write!(
                f,
                "; {} may have moved money: reconcile before sending it again",
                movement.operation
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0.repr)
    }
}

impl Error {
    fn new(repr: Repr) -> Self {
        Error(Box::new(Inner {
            repr,
            effect: None,
            movement: None,
        }))
    }

    /// The same error, for a call of an operation whose effect is `effect`.
    pub(crate) fn with_effect(mut self, effect: Option<Effect>) -> Self {
        self.0.effect = effect;
        self
    }

    /// The same error, carrying the lost movement.
    pub(crate) fn with_movement(mut self, movement: UnknownMovement) -> Self {
        self.0.movement = Some(movement);
        self
    }

    /// For a money movement whose answer was lost (a timeout or a connection reset after the
    /// request was sent, a 5xx, `P500`/`P501`, or a 2xx the SDK could not read): what is needed
    /// to find out whether it happened, with [`Client::reconcile`](crate::Client::reconcile).
    /// Such an error is never [retryable](Error::is_retryable).
    pub fn unknown_movement(&self) -> Option<&UnknownMovement> {
        self.0.movement.as_ref()
    }

    /// Whether the request may have been executed by P100 although the call failed: it was
    /// sent and no definite refusal came back (a timeout or a connection lost after sending, a
    /// 5xx, `P500` or `P501`, or a 2xx answer the SDK could not read). `false` when nothing was
    /// sent (configuration, invalid request, a refused connection) or P100 refused the request
    /// (any other 4xx).
    ///
    /// For a money movement this means the outcome is unknown: reconcile before sending again
    /// ([`Error::unknown_movement`]).
    pub fn may_have_executed(&self) -> bool {
        if self.0.movement.is_some() {
            return true;
        }
        match &self.0.repr {
            Repr::Config(_) | Repr::InvalidRequest(_) | Repr::InvalidUpload(_) => false,
            // A connect timeout is a timeout *and* a connect error: nothing was sent.
            Repr::Transport { source, .. } | Repr::Timeout { source, .. } => !source.is_connect(),
            Repr::Api(error) => {
                let unknown_code = matches!(
                    error.code.as_ref().and_then(ErrorCode::class),
                    Some(ErrorClass::Internal | ErrorClass::Transient)
                );
                !error.status.is_client_error() || unknown_code
            }
            Repr::Decode { .. } => true,
        }
    }

    /// Builds the error a non-2xx answer of P100 means, from its status and body (the JSON
    /// error shape, or the plain text P100 sends with some 401s). Useful in tests of your own
    /// error handling.
    pub fn from_response(status: StatusCode, body: &[u8]) -> Self {
        Error::new(Repr::Api(ApiError::from_body(status, None, body, None)))
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Error::new(Repr::InvalidRequest(message.into()))
    }

    pub(crate) fn from_api(error: ApiError) -> Self {
        Error::new(Repr::Api(error))
    }

    pub(crate) fn transport(source: reqwest::Error, record: Option<CallRecord>) -> Self {
        let ctx = CallContext::from_record(record);
        let error = if source.is_timeout() {
            Error::new(Repr::Timeout { ctx, source })
        } else {
            Error::new(Repr::Transport { ctx, source })
        };
        error.with_effect(effect_of(record))
    }

    pub(crate) fn decode(
        status: Option<StatusCode>,
        body: Bytes,
        reason: impl Into<String>,
        source: Option<serde_json::Error>,
        record: Option<CallRecord>,
    ) -> Self {
        Error::new(Repr::Decode {
            ctx: CallContext::from_record(record),
            status,
            body,
            reason: reason.into(),
            source,
        })
        .with_effect(effect_of(record))
    }

    /// Converts a generated-client error, using what the client recorded about the call.
    pub(crate) fn from_raw(error: RawError, record: Option<CallRecord>) -> Self {
        Self::from_raw_inner(error, record).with_effect(effect_of(record))
    }

    fn from_raw_inner(error: RawError, record: Option<CallRecord>) -> Self {
        match error {
            p100_api::Error::InvalidRequest(message) | p100_api::Error::Custom(message) => {
                Error::invalid_request(message)
            }
            p100_api::Error::CommunicationError(source)
            | p100_api::Error::InvalidUpgrade(source)
            | p100_api::Error::ResponseBodyError(source) => Error::transport(source, record),
            p100_api::Error::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                Error::from_api(ApiError::from_typed(
                    status,
                    &headers,
                    response.into_inner(),
                    record,
                ))
            }
            p100_api::Error::InvalidResponsePayload(body, source) => {
                match record.and_then(|r| r.status) {
                    Some(status) if !status.is_success() => {
                        Error::from_api(ApiError::from_body(status, None, &body, record))
                    }
                    Some(status) => Error::decode(
                        Some(status),
                        body,
                        "the body does not match the documented response type",
                        Some(source),
                        record,
                    ),
                    None => {
                        let text = String::from_utf8_lossy(&body);
                        if text.contains("Access Denied")
                            && AuthFailure::from_reason(&text).is_some()
                        {
                            Error::from_api(ApiError::from_body(
                                StatusCode::UNAUTHORIZED,
                                None,
                                &body,
                                record,
                            ))
                        } else {
                            Error::decode(
                                None,
                                body,
                                "the body is not the documented JSON",
                                Some(source),
                                record,
                            )
                        }
                    }
                }
            }
            p100_api::Error::UnexpectedResponse(response) => {
                let status = response.status();
                if status.is_success() {
                    Error::decode(
                        Some(status),
                        Bytes::new(),
                        format!("HTTP {status} is not a documented answer of this operation"),
                        None,
                        record,
                    )
                } else {
                    let mut error = ApiError::bare(status, record);
                    error.retry_after = crate::retry::retry_after(response.headers());
                    Error::from_api(error)
                }
            }
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &self.0.repr {
            Repr::Config(_) => ErrorKind::Config,
            Repr::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Repr::InvalidUpload(_) => ErrorKind::InvalidUpload,
            Repr::Transport { .. } => ErrorKind::Transport,
            Repr::Timeout { .. } => ErrorKind::Timeout,
            Repr::Api(_) => ErrorKind::Api,
            Repr::Decode { .. } => ErrorKind::Decode,
        }
    }

    /// The P100 answer, for [`ErrorKind::Api`] errors.
    pub fn api(&self) -> Option<&ApiError> {
        match &self.0.repr {
            Repr::Api(error) => Some(error),
            _ => None,
        }
    }

    /// The configuration problem, for [`ErrorKind::Config`] errors.
    pub fn config_error(&self) -> Option<&ConfigError> {
        match &self.0.repr {
            Repr::Config(error) => Some(error),
            _ => None,
        }
    }

    /// The broken upload rule, for [`ErrorKind::InvalidUpload`] errors.
    pub fn upload_error(&self) -> Option<&UploadError> {
        match &self.0.repr {
            Repr::InvalidUpload(error) => Some(error),
            _ => None,
        }
    }

    /// The HTTP status of P100's answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.0.repr {
            Repr::Api(error) => Some(error.status),
            Repr::Decode { status, .. } => *status,
            _ => None,
        }
    }

    /// The P100 error code, when the answer carried one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.api().and_then(ApiError::code)
    }

    /// The P100 error name (`errorName`), when the answer carried one.
    pub fn name(&self) -> Option<&str> {
        self.api().and_then(ApiError::name)
    }

    /// The P100 error message (`errorMessage`, or the text of a non-JSON answer).
    pub fn message(&self) -> Option<&str> {
        self.api().and_then(ApiError::message)
    }

    /// For HTTP 401: why access was denied (`xo1`, `xo2`, `xo3`).
    pub fn auth_failure(&self) -> Option<AuthFailure> {
        self.api().and_then(ApiError::auth_failure)
    }

    /// How long P100 asked to wait before trying again, if it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(ApiError::retry_after)
    }

    /// The raw body of an answer that could not be decoded ([`ErrorKind::Decode`]).
    pub fn body(&self) -> Option<&[u8]> {
        match &self.0.repr {
            Repr::Decode { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The operation id (e.g. `user_get_balances`), when known.
    pub fn operation(&self) -> Option<&'static str> {
        match &self.0.repr {
            Repr::Api(error) => error.operation,
            Repr::Transport { ctx, .. } | Repr::Timeout { ctx, .. } | Repr::Decode { ctx, .. } => {
                ctx.operation
            }
            _ => None,
        }
    }

    /// How many times the request was sent; 0 when nothing was sent or it is unknown.
    pub fn attempts(&self) -> u32 {
        match &self.0.repr {
            Repr::Api(error) => error.attempts,
            Repr::Transport { ctx, .. } | Repr::Timeout { ctx, .. } | Repr::Decode { ctx, .. } => {
                ctx.attempts
            }
            _ => 0,
        }
    }

    /// Whether the failure is transient: connection errors, timeouts, HTTP 429/502/503/504 and
    /// `P501`.
    ///
    /// Safe calls (reads, lock creation) have already been retried by the client when this is
    /// returned. For any other operation it is true only when the request surely did not
    /// execute (a refused connection, HTTP 429): an error whose request
    /// [may have executed](Error::may_have_executed) is never retryable unless the operation is
    /// safe to repeat, so a caller that retries exactly when this says so cannot move money twice.
    pub fn is_retryable(&self) -> bool {
        // Repeating a request that may have executed repeats its effect: never advised for an
        // operation that is not safe to repeat (or whose effect is not known).
        let safe = self.0.effect.is_some_and(Effect::is_safe_to_repeat);
        if !safe && self.may_have_executed() {
            return false;
        }
        match &self.0.repr {
            Repr::Transport { source, .. } => crate::retry::is_transient_transport(source),
            Repr::Timeout { .. } => true,
            Repr::Api(error) => {
                crate::retry::is_transient_status(error.status)
                    || error.code.as_ref().is_some_and(ErrorCode::is_transient)
            }
            _ => false,
        }
    }

    /// Whether the thing the call names does not exist: HTTP 404, or a "not found" code such as
    /// `P412` (user) that P100 sends with HTTP 400.
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(|error| {
            error.status == StatusCode::NOT_FOUND
                || error.code.as_ref().is_some_and(ErrorCode::is_not_found)
        })
    }

    /// Whether P100 denied access (HTTP 401; see [`Error::auth_failure`] for the reason).
    pub fn is_unauthorized(&self) -> bool {
        self.api()
            .is_some_and(|error| error.status == StatusCode::UNAUTHORIZED)
    }

    /// Whether no answer came within the configured timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Whether the connection could not be established (so the request was not sent).
    pub fn is_connect(&self) -> bool {
        matches!(&self.0.repr, Repr::Transport { source, .. } if source.is_connect())
    }
}

impl From<RawError> for Error {
    /// Converts a generated-client error with what it carries. Prefer
    /// [`Client::call`](crate::Client::call), which also knows the HTTP status of non-JSON
    /// error bodies, the operation and the attempt count.
    fn from(error: RawError) -> Self {
        Error::from_raw(error, None)
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::new(Repr::Config(error))
    }
}

impl From<UploadError> for Error {
    fn from(error: UploadError) -> Self {
        Error::new(Repr::InvalidUpload(error))
    }
}

/// What the client's executor saw during one call: filled in by the executor, read when the
/// call's error is converted (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallRecord {
    pub(crate) operation: &'static str,
    pub(crate) attempts: u32,
    pub(crate) status: Option<StatusCode>,
    pub(crate) retry_after: Option<Duration>,
}

tokio::task_local! {
    static CALL: CallSlot;
}

/// What was sent of a request that is not safe to repeat: the body and the time, kept so that a
/// money movement whose answer is lost can be reconciled.
#[derive(Clone, Debug)]
pub(crate) struct SentRequest {
    pub(crate) body: Option<Bytes>,
    pub(crate) at: std::time::SystemTime,
}

/// The task-local slot of one call through the executor: what the executor saw, and the
/// operation's effect when the caller declared it (the executor otherwise looks it up by
/// operation id).
pub(crate) struct CallSlot {
    record: Cell<Option<CallRecord>>,
    effect: Option<Effect>,
}

/// In the executor: the effect the caller declared, if any.
pub(crate) fn declared_effect() -> Option<Effect> {
    CALL.try_with(|slot| slot.effect).ok().flatten()
}

/// Stores the record of the call in progress, if a [`run_recorded`] scope is open.
pub(crate) fn record_call(record: CallRecord) {
    // Outside a scope there is nobody to read the record: nothing to do.
    let _ = CALL.try_with(|slot| slot.record.set(Some(record)));
}

pin_project_lite::pin_project! {
    /// A future run with a fresh record slot: its output, with what the executor recorded.
    ///
    /// Written by hand rather than as an `async` block: an `async` block that awaits a future it
    /// was given keeps that future twice (once as its argument, once while awaiting it), and every
    /// layer so written doubles what each call moves in memory.
    pub(crate) struct Scoped<F: Future> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<CallSlot, F>,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = (F::Output, Option<CallRecord>);

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let mut inner = self.project().inner;
        let output = std::task::ready!(inner.as_mut().poll(cx));
        let record = inner.take_value().and_then(|slot| slot.record.get());
        std::task::Poll::Ready((output, record))
    }
}

/// Runs `future` (a request through the executor) with a fresh record slot and returns its
/// output with what was recorded; `effect` is the operation's, when the caller knows it.
#[inline]
pub(crate) fn run_recorded<F: Future>(effect: Option<Effect>, future: F) -> Scoped<F> {
    Scoped {
        inner: CALL.scope(
            CallSlot {
                record: Cell::new(None),
                effect,
            },
            future,
        ),
    }
}

/// The effect (`x-p100-effect`) of the recorded call's operation.
pub(crate) fn effect_of(record: Option<CallRecord>) -> Option<Effect> {
    record
        .and_then(|r| p100_api::catalog::operation(r.operation))
        .map(|op| op.effect)
}
