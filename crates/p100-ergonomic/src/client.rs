//! The configured client: [`Client`], its [`ClientBuilder`], the [`Environment`]s, and the
//! executor that gives every generated operation the API key, the user agent, the timeout,
//! retries and a tracing span.
//!
//! What does not belong here: the retry rules ([`crate::retry`]), the error type
//! ([`crate::error`]) and uploads ([`crate::upload`]).
//!
//! # Secrets
//!
//! The API key lives only in an `x-api-key` header value marked sensitive. No `Debug`,
//! `Display`, log event or error of this crate prints it; configuration errors about it say what
//! is wrong, never the value.
//!
//! # Observability
//!
//! Every request runs in a `p100.call` span at DEBUG (target `p100_ergonomic::client`; DEBUG
//! like the AWS SDK's per-call span, so that an application logging at INFO pays nothing for it)
//! with the fields `operation_id` and `method`, and `attempts`, `status` and `elapsed_ms`
//! recorded once when the call ends; each attempt emits a DEBUG event in it, each retry an INFO
//! event that names its `operation_id` itself. Headers and bodies are never logged.

use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::FutureExt as _;
use p100_api::{ClientInfo, Execute, ExecuteFuture, Executor, OperationInfo, ResponseValue};
use progenitor_client::ClientHooks;
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};
use reqwest::StatusCode;
use url::{Host, Url};

use crate::error::{self, ApiError, CallRecord, Error, RawError};
use crate::retry::{self, RetryPolicy};

/// The user agent sent when none is configured.
pub const DEFAULT_USER_AGENT: &str = concat!("p100-ergonomic/", env!("CARGO_PKG_VERSION"));

/// The whole-request timeout when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest time to wait for a connection when the SDK builds the HTTP client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The header that carries the API key.
const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// A P100 environment, with its base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://partner-api-stage.p100.io`: test data, testnets, no real money (the default).
    #[default]
    Staging,
    /// `https://partner-api.p100.io`: live funds.
    Production,
}

impl Environment {
    /// The environment's base URL.
    pub const fn base_url(self) -> &'static str {
        match self {
            Environment::Staging => "https://partner-api-stage.p100.io",
            Environment::Production => "https://partner-api.p100.io",
        }
    }

    /// The name `P100_ENV` uses: `staging` or `production`.
    pub const fn name(self) -> &'static str {
        match self {
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Environment {
    type Err = ConfigError;

    /// Reads `staging` (or `stage`) and `production` (or `prod`), in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "staging" | "stage" => Ok(Environment::Staging),
            "production" | "prod" => Ok(Environment::Production),
            _ => Err(ConfigError::UnknownEnvironment(s.to_string())),
        }
    }
}

/// Why a client could not be configured. Never contains the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No API key was given.
    #[error("no API key: call `.api_key(..)` or set P100_API_KEY")]
    MissingApiKey,
    /// The API key cannot be sent as a header value.
    #[error("the API key is not usable: {0}")]
    InvalidApiKey(&'static str),
    /// A required environment variable is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// An environment variable has an unusable value.
    #[error("environment variable {var} {reason}")]
    InvalidEnv {
        /// The variable's name.
        var: &'static str,
        /// What is wrong with it (never the value of the API key).
        reason: String,
    },
    /// An environment name other than `staging` or `production`.
    #[error("unknown P100 environment {0:?}: expected `staging` or `production`")]
    UnknownEnvironment(String),
    /// The base URL cannot be used.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL, without any credentials it contained.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain `http://` base URL whose host is not loopback.
    #[error(
        "refusing plain http:// for {host:?}: the API key would travel unencrypted; use https:// \
         (http:// is allowed only for loopback hosts: 127.0.0.0/8, ::1, localhost)"
    )]
    InsecureBaseUrl {
        /// The host of the refused URL.
        host: String,
    },
    /// A zero timeout: every request would fail before it was sent.
    #[error("the timeout is zero: every request would time out at once; give a positive duration, or `None` for no timeout")]
    ZeroTimeout,
    /// The user agent cannot be sent as a header value.
    #[error("the user agent is not a valid header value")]
    InvalidUserAgent,
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

/// A P100 client: cheap to clone (clones share one connection pool), safe to share between
/// tasks.
///
/// [`Client::raw`] gives every generated operation, already authenticated and with retries and
/// tracing; [`Client::call`] turns its result into the SDK's one [`Error`] type.
///
/// ```
/// # use httpmock::prelude::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), p100_ergonomic::Error> {
/// # let server = MockServer::start_async().await;
/// # server.mock(|when, then| {
/// #     when.method(GET).path("/v1/user/balances/user-1").header("x-api-key", "my-secret-key");
/// #     then.status(200).json_body(serde_json::json!({"userId": "42", "fiatBalances": []}));
/// # });
/// # let base_url = server.base_url();
/// use p100_ergonomic::{Client, Environment};
///
/// // In production code: `Client::from_env()?`, or the builder with
/// // `.environment(Environment::Production)`. Here: a local mock of P100.
/// let client = Client::builder()
///     .api_key("my-secret-key")
///     .base_url(base_url)
///     .build()?;
/// assert!(!format!("{client:?}").contains("my-secret-key"));
///
/// let balances = client
///     .user_get_balances()
///     .external_user_id("user-1")
///     .send()
///     .await?;
/// assert_eq!(balances.user_id.as_deref(), Some("42"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    raw: p100_api::Client,
    transport: Arc<Transport>,
    settings: Arc<Settings>,
}

struct Settings {
    base_url: String,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    custom_http_client: bool,
}

impl Client {
    /// A builder with the defaults: staging, 30 s timeout, [`RetryPolicy::default`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment: `P100_API_KEY` (required), then
    /// `P100_BASE_URL` or else `P100_ENV` (`staging` or `production`; staging when unset).
    /// See [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The generated client, with every operation of the spec. Its requests carry the API key,
    /// the user agent and the timeout, are retried when safe, and are traced.
    pub fn raw(&self) -> &p100_api::Client {
        &self.raw
    }

    /// The base URL requests go to (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// The whole-request timeout (`None`: no timeout).
    pub fn timeout(&self) -> Option<Duration> {
        self.settings.timeout
    }

    /// The retry policy of safe calls.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.settings.retry
    }

    /// Awaits a generated operation (`client.raw().….send()`) and returns its body, or the
    /// SDK's [`Error`].
    ///
    /// Unlike `Error::from(raw_error)`, the error keeps what only the client saw: the HTTP
    /// status of an error body that was not JSON (such as a proxy's 502 page), the operation id
    /// and the number of attempts.
    #[inline]
    pub fn call<T, F>(&self, request: F) -> impl Future<Output = Result<T, Error>>
    where
        F: Future<Output = Result<ResponseValue<T>, RawError>>,
    {
        self.send_body(None, request)
    }
}

impl Client {
    /// [`Client::call`] for a generated operation method, which knows its operation's effect.
    #[inline]
    pub(crate) fn send_body<T, F>(
        &self,
        effect: Option<p100_api::catalog::Effect>,
        request: F,
    ) -> impl Future<Output = Result<T, Error>>
    where
        F: Future<Output = Result<ResponseValue<T>, RawError>>,
    {
        self.send_raw(effect, request)
            .map(|result| result.map(ResponseValue::into_inner))
    }

    /// Awaits a raw request (the generated operation methods of [`crate::operations`] that do
    /// not move money come through here) and keeps what the client saw on the wire.
    #[inline]
    pub(crate) fn send_raw<T, F>(
        &self,
        effect: Option<p100_api::catalog::Effect>,
        request: F,
    ) -> impl Future<Output = Result<ResponseValue<T>, Error>>
    where
        F: Future<Output = Result<ResponseValue<T>, RawError>>,
    {
        // Combinators rather than an `async` block, which would hold `request` twice.
        error::run_recorded(effect, request)
            .map(|(result, record)| result.map_err(|raw| Error::from_raw(raw, record)))
    }

    /// Sends a request the generated code built (`build_request`) through this client's
    /// transport and reads the answer with the generated `decode`: the operation methods of
    /// [`crate::operations`] that do not move money. No executor, boxed future or task-local
    /// scope is involved: the record of the call is at hand.
    ///
    /// `request` is what the method's checks left (a refused request is returned as it is);
    /// `finish` turns the answer into what the method returns (its body, or all of it).
    pub(crate) fn send_op<'a, T, R, D, A>(
        &'a self,
        effect: p100_api::catalog::Effect,
        operation: &'static str,
        request: Result<reqwest::Request, Error>,
        decode: D,
        finish: fn(ResponseValue<T>) -> R,
    ) -> impl Future<Output = Result<R, Error>> + 'a
    where
        T: serde::de::DeserializeOwned + Send + 'static,
        R: 'a,
        D: FnOnce(reqwest::Response) -> A + 'a,
        A: Future<Output = Result<ResponseValue<T>, RawError>> + 'a,
    {
        self.op_send(
            operation,
            request,
            effect.is_safe_to_repeat(),
            false,
            decode,
            finish,
        )
    }

    /// [`Client::send_op`] for a money movement (`x-p100-effect: moves-money`, decided by the
    /// generator): sent once; an answer that is lost or cannot be read is an unknown outcome,
    /// and the error carries the [`UnknownMovement`](crate::reconcile::UnknownMovement)
    /// (operation, request body, time sent, and the id and body of a 2xx answer when there was
    /// one). A 2xx the spec does not declare is read as the documented body when it is one.
    ///
    /// The failure handling is boxed and runs only on failure, so that a successful call's
    /// future holds none of it.
    pub(crate) fn send_money_op<'a, T, R, D, A>(
        &'a self,
        operation: &'static str,
        request: Result<reqwest::Request, Error>,
        decode: D,
        finish: fn(ResponseValue<T>) -> R,
    ) -> impl Future<Output = Result<R, Error>> + 'a
    where
        T: serde::de::DeserializeOwned + Send + 'static,
        R: 'a,
        D: FnOnce(reqwest::Response) -> A + 'a,
        A: Future<Output = Result<ResponseValue<T>, RawError>> + 'a,
    {
        self.op_send(operation, request, false, true, decode, finish)
    }

    /// [`Client::send_op`]'s and [`Client::send_money_op`]'s future: `movement` keeps what is
    /// sent, for an unknown outcome.
    fn op_send<'a, T, R, D, A>(
        &'a self,
        operation: &'static str,
        request: Result<reqwest::Request, Error>,
        repeatable: bool,
        movement: bool,
        decode: D,
        finish: fn(ResponseValue<T>) -> R,
    ) -> OpSend<
        impl Future<Output = (reqwest::Result<reqwest::Response>, CallRecord)> + 'a,
        D,
        A,
        T,
        R,
    > {
        let (state, movement) = match request {
            Ok(request) => {
                let movement = movement.then(|| (operation, sent_request(&request)));
                let sending =
                    self.transport
                        .send(self.raw.client(), request, operation, repeatable);
                (OpState::Sending { sending }, movement)
            }
            Err(error) => (OpState::Refused { error: Some(error) }, None),
        };
        OpSend {
            state,
            decode: Some(decode),
            finish,
            movement,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of an operation method, written as a state machine rather than an `async fn`
    /// (which keeps its arguments beside the futures it makes of them): the request on its way
    /// (retries included), then its answer being read, then (a money movement's failure only)
    /// the boxed handling of an unknown outcome.
    struct OpSend<S, D, A, T, R> {
        #[pin]
        state: OpState<S, A, T>,
        decode: Option<D>,
        finish: fn(ResponseValue<T>) -> R,
        // A money movement's operation and what was sent of it.
        movement: Option<(&'static str, error::SentRequest)>,
    }
}

pin_project_lite::pin_project! {
    #[project = OpStateProj]
    enum OpState<S, A, T> {
        Refused { error: Option<Error> },
        Sending { #[pin] sending: S },
        Decoding { #[pin] decoding: A, record: CallRecord },
        Failing { failure: MoneyFailure<T> },
    }
}

impl<S, D, A, T, R> Future for OpSend<S, D, A, T, R>
where
    S: Future<Output = (reqwest::Result<reqwest::Response>, CallRecord)>,
    D: FnOnce(reqwest::Response) -> A,
    A: Future<Output = Result<ResponseValue<T>, RawError>>,
    T: serde::de::DeserializeOwned + Send + 'static,
{
    type Output = Result<R, Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        let mut this = self.project();
        loop {
            let (raw, record) = match this.state.as_mut().project() {
                OpStateProj::Refused { error } => {
                    return Poll::Ready(Err(error
                        .take()
                        .unwrap_or_else(|| Error::invalid_request("polled after completion"))));
                }
                OpStateProj::Sending { sending } => {
                    let (result, record) = std::task::ready!(sending.poll(cx));
                    match (result, this.decode.take()) {
                        (Ok(response), Some(decode)) => {
                            this.state.set(OpState::Decoding {
                                decoding: decode(response),
                                record,
                            });
                            continue;
                        }
                        (Ok(_), None) => {
                            return Poll::Ready(Err(Error::invalid_request(
                                "polled after completion",
                            )))
                        }
                        (Err(error), _) => (RawError::from(error), record),
                    }
                }
                OpStateProj::Decoding { decoding, record } => {
                    let record = *record;
                    match std::task::ready!(decoding.poll(cx)) {
                        Ok(value) => return Poll::Ready(Ok((this.finish)(value))),
                        Err(raw) => (raw, record),
                    }
                }
                OpStateProj::Failing { failure } => {
                    return failure.as_mut().poll(cx).map(|r| r.map(*this.finish));
                }
            };
            match this.movement.take() {
                Some((operation, sent)) => this.state.set(OpState::Failing {
                    failure: Box::pin(money_failure(operation, raw, Some(record), Some(sent))),
                }),
                None => return Poll::Ready(Err(Error::from_raw(raw, Some(record)))),
            }
        }
    }
}

/// The type-erased failure handling of a money movement ([`money_failure`]).
type MoneyFailure<T> =
    std::pin::Pin<Box<dyn Future<Output = Result<ResponseValue<T>, Error>> + Send>>;

/// What a failed money movement returns: the documented body after all (an undeclared 2xx),
/// or the error, with an unknown movement attached when the money may have moved.
async fn money_failure<T: serde::de::DeserializeOwned>(
    operation: &'static str,
    raw: RawError,
    record: Option<CallRecord>,
    sent: Option<error::SentRequest>,
) -> Result<ResponseValue<T>, Error> {
    // The body of a 2xx answer: the movement happened, whatever the answer looks like.
    let (error, answer) = match raw {
        p100_api::Error::UnexpectedResponse(response) if response.status().is_success() => {
            let status = response.status();
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(bytes) => match serde_json::from_slice::<T>(&bytes) {
                    Ok(body) => return Ok(ResponseValue::new(body, status, headers)),
                    Err(source) => (
                        Error::decode(
                            Some(status),
                            bytes.clone(),
                            format!("HTTP {status} is not a documented answer of {operation}"),
                            Some(source),
                            record,
                        ),
                        Some(bytes),
                    ),
                },
                Err(source) => (Error::transport(source, record), None),
            }
        }
        p100_api::Error::InvalidResponsePayload(bytes, source)
            if record
                .and_then(|r| r.status)
                .is_some_and(|s| s.is_success()) =>
        {
            let status = record.and_then(|r| r.status);
            (
                Error::decode(
                    status,
                    bytes.clone(),
                    "the body does not match the documented response type",
                    Some(source),
                    record,
                ),
                Some(bytes),
            )
        }
        other => (Error::from_raw(other, record), None),
    };
    if !error.may_have_executed() {
        return Err(error);
    }
    let movement = crate::reconcile::UnknownMovement::new(operation, sent, answer.as_deref());
    tracing::warn!(
        operation,
        error = %error,
        "money movement outcome unknown; reconcile before sending it again"
    );
    Err(error.with_movement(movement))
}

/// The URL of an operation's path template (`/v1/transfer/details/{transferId}`) on the
/// client's base URL, its one parameter (if any) set to `parameter`, which is refused like any
/// path parameter ([`check_path_value`]) and escaped as one path segment.
pub(crate) fn operation_url(
    raw: &p100_api::Client,
    template: &str,
    parameter: Option<&str>,
    query: &[(&str, &str)],
) -> Result<Url, Error> {
    if let Some(value) = parameter {
        let name = template
            .split_once('{')
            .and_then(|(_, rest)| rest.split_once('}'))
            .map_or("id", |(name, _)| name);
        check_path_value(name, value)?;
    }
    let mut url = Url::parse(raw.baseurl())
        .map_err(|e| Error::invalid_request(format!("the client's base URL is invalid: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| Error::invalid_request("the client's base URL cannot take a path"))?
        .pop_if_empty()
        .extend(
            template
                .split('/')
                .filter(|segment| !segment.is_empty())
                .map(|segment| match (segment.starts_with('{'), parameter) {
                    (true, Some(value)) => value,
                    _ => segment,
                }),
        );
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// Refuses a path parameter that would make the request go to another path than its
/// operation's: empty (`/v1/user/balances/`), `.` or `..` (which HTTP clients and servers
/// resolve as path segments: `user_delete("..")` would be `DELETE /v1/`).
pub(crate) fn check_path_value(field: &str, value: &str) -> Result<(), Error> {
    let problem = match value {
        "" => "is empty",
        "." | ".." => "is a relative path segment (`.` or `..`)",
        _ => return Ok(()),
    };
    Err(Error::invalid_request(format!(
        "the path parameter `{field}` {problem}: it would send the request to another path; nothing was sent"
    )))
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.settings;
        f.debug_struct("Client")
            .field("base_url", &settings.base_url)
            .field("api_key", &"[redacted]")
            .field("timeout", &settings.timeout)
            .field("user_agent", &settings.user_agent)
            .field("retry", &settings.retry)
            .field("custom_http_client", &settings.custom_http_client)
            .finish()
    }
}

#[derive(Clone, Debug)]
enum Target {
    Environment(Environment),
    Url(String),
}

/// Configures a [`Client`]; [`ClientBuilder::build`] checks everything once.
///
/// Not `Clone`: it may hold a `reqwest::ClientBuilder`, which is not.
pub struct ClientBuilder {
    api_key: Option<String>,
    target: Target,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    http: Option<reqwest::ClientBuilder>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("reqwest_builder", &self.http.is_some())
            .finish()
    }
}

impl ClientBuilder {
    /// A builder with the defaults (see each setter).
    pub fn new() -> Self {
        ClientBuilder {
            api_key: None,
            target: Target::Environment(Environment::Staging),
            timeout: Some(DEFAULT_TIMEOUT),
            user_agent: None,
            retry: RetryPolicy::default(),
            http: None,
        }
    }

    /// A builder filled from the environment; change anything before `build()`.
    ///
    /// - `P100_API_KEY`: the API key (required).
    /// - `P100_BASE_URL`: a custom base URL; it wins over `P100_ENV`.
    /// - `P100_ENV`: `staging` or `production` (default staging). Checked even when
    ///   `P100_BASE_URL` is set, so a typo does not go unnoticed.
    ///
    /// Empty variables count as unset.
    pub fn from_env() -> Result<ClientBuilder, Error> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<OsString>,
    ) -> Result<ClientBuilder, Error> {
        let read = |var: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(var) {
                None => Ok(None),
                Some(value) => match value.into_string() {
                    Ok(value) if value.trim().is_empty() => Ok(None),
                    Ok(value) => Ok(Some(value.trim().to_string())),
                    Err(_) => Err(ConfigError::InvalidEnv {
                        var,
                        reason: "is not valid Unicode".to_string(),
                    }),
                },
            }
        };
        let api_key = read("P100_API_KEY")?.ok_or(ConfigError::MissingEnv("P100_API_KEY"))?;
        check_api_key(&api_key).map_err(|error| ConfigError::InvalidEnv {
            var: "P100_API_KEY",
            reason: error.to_string(),
        })?;
        let environment = read("P100_ENV")?
            .map(|name| {
                name.parse::<Environment>()
                    .map_err(|_| ConfigError::InvalidEnv {
                        var: "P100_ENV",
                        reason: format!("is {name:?}; expected `staging` or `production`"),
                    })
            })
            .transpose()?;
        let mut builder = ClientBuilder::new().api_key(api_key);
        if let Some(url) = read("P100_BASE_URL")? {
            validate_base_url(&url).map_err(|error| ConfigError::InvalidEnv {
                var: "P100_BASE_URL",
                reason: format!("is unusable: {error}"),
            })?;
            builder = builder.base_url(url);
        } else if let Some(environment) = environment {
            builder = builder.environment(environment);
        }
        Ok(builder)
    }

    /// The API key, sent as `x-api-key` on every request (required). Surrounding whitespace is
    /// removed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sends requests to a P100 environment (default [`Environment::Staging`]). Replaces any
    /// [`base_url`](Self::base_url).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.target = Target::Environment(environment);
        self
    }

    /// Sends requests to a custom base URL, such as a local sandbox. It must be `https://`,
    /// or `http://` with a loopback host (127.0.0.0/8, `::1`, `localhost`). Replaces any
    /// [`environment`](Self::environment).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.target = Target::Url(url.into());
        self
    }

    /// The whole-request timeout of each attempt, from sending to the end of the body (default
    /// 30 s; `None` disables it). Zero is refused by [`build`](Self::build)
    /// ([`ConfigError::ZeroTimeout`]).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// The `User-Agent` of every request (default `p100-ergonomic/<version>`, unless a
    /// [`reqwest_builder`](Self::reqwest_builder) with its own is given).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// How safe calls are retried (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Builds the HTTP client from this `reqwest::ClientBuilder` (proxies, TLS roots, pools,
    /// its own user agent). The SDK sets its redirect policy to *none* whatever it was: a
    /// followed redirect would carry the API key (and a POST's body) to wherever the `Location`
    /// points, and reqwest strips only its standard credentials headers, not `x-api-key`. A
    /// redirect answer is returned as an error instead. An already built `reqwest::Client` is
    /// not accepted for that reason: its redirect policy cannot be read or changed.
    pub fn reqwest_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(builder);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        install_crypto_provider();
        let key = self.api_key.ok_or(ConfigError::MissingApiKey)?;
        let api_key = check_api_key(&key)?;
        if self.timeout.is_some_and(|timeout| timeout.is_zero()) {
            return Err(ConfigError::ZeroTimeout.into());
        }
        let base_url = match &self.target {
            Target::Environment(environment) => environment.base_url().to_string(),
            Target::Url(url) => validate_base_url(url)?,
        };
        let user_agent = self
            .user_agent
            .as_deref()
            .map(HeaderValue::from_str)
            .transpose()
            .map_err(|_| ConfigError::InvalidUserAgent)?;
        let custom_http_client = self.http.is_some();
        let mut http = match self.http {
            // The user's settings, but never a redirect (see `reqwest_builder`).
            Some(builder) => builder.redirect(reqwest::redirect::Policy::none()),
            None => {
                let mut builder = reqwest::Client::builder()
                    .user_agent(DEFAULT_USER_AGENT)
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(timeout) = self.timeout {
                    builder = builder.connect_timeout(timeout.min(CONNECT_TIMEOUT));
                }
                builder
            }
        };
        // The whole-request timeout lives on the reqwest client, not on each request (which
        // would allocate its extensions on every call); a request's own timeout still wins.
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        // The key, `Accept: application/json` (every answer the SDK reads is JSON) and a
        // configured user agent as default headers of the reqwest client: set once here
        // rather than on every request. A user's builder keeps its other headers.
        let mut headers = reqwest::header::HeaderMap::with_capacity(3);
        headers.insert(API_KEY_HEADER, api_key);
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        if let Some(user_agent) = user_agent {
            headers.insert(USER_AGENT, user_agent);
        }
        let http = http
            .default_headers(headers)
            .build()
            .map_err(ConfigError::HttpClient)?;
        let transport = Arc::new(Transport {
            retry: self.retry.clone(),
        });
        let raw = p100_api::Client::new_with_client(
            &base_url,
            http,
            Executor::new(Executing(Arc::clone(&transport))),
        );
        Ok(Client {
            raw,
            transport,
            settings: Arc::new(Settings {
                base_url,
                timeout: self.timeout,
                user_agent: self.user_agent,
                retry: self.retry,
                custom_http_client,
            }),
        })
    }
}

/// With the `rustls-ring` feature alone, reqwest has no crypto provider of its own: ring becomes
/// the process's default rustls provider unless the application installed one already.
fn install_crypto_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing a provider is fine: one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        tracing::debug!("installed ring as the process's default rustls crypto provider");
    }
}

fn check_api_key(key: &str) -> Result<HeaderValue, ConfigError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(ConfigError::InvalidApiKey("it is empty"));
    }
    let mut value = HeaderValue::from_str(key).map_err(|_| {
        ConfigError::InvalidApiKey("it contains characters an HTTP header cannot carry")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Checks a custom base URL and returns it without a trailing slash.
fn validate_base_url(raw: &str) -> Result<String, ConfigError> {
    let trimmed = raw.trim();
    let invalid = |url: &Url, reason: &str| ConfigError::InvalidBaseUrl {
        url: without_credentials(url),
        reason: reason.to_string(),
    };
    let url = Url::parse(trimmed).map_err(|error| ConfigError::InvalidBaseUrl {
        // An unparsable URL may still hold credentials (`user:secret@`): do not echo those.
        // A query or fragment may hold a secret too (`?key=…`): never echoed.
        url: if trimmed.contains('@') {
            "[not shown: it contains '@']".to_string()
        } else {
            trimmed
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .to_string()
        },
        reason: error.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(&url, "it must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(&url, "it must not have a query or a fragment"));
    }
    let Some(host) = url.host() else {
        return Err(invalid(&url, "it has no host"));
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(ConfigError::InsecureBaseUrl {
                host: host.to_string(),
            })
        }
        _ => return Err(invalid(&url, "the scheme must be https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(name) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            name.eq_ignore_ascii_case("localhost")
        }
    }
}

fn without_credentials(url: &Url) -> String {
    let mut url = url.clone();
    // Setting these fails only for URLs that cannot have credentials at all.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    // A query or fragment may carry a secret (`?api_key=…`): not echoed either.
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// A 2xx answer to a request the SDK built itself, with what the executor recorded.
pub(crate) struct RawAnswer {
    pub(crate) status: StatusCode,
    pub(crate) bytes: Bytes,
    pub(crate) record: Option<CallRecord>,
}

/// Sends a request the generator could not build (uploads) or whose raw body the SDK needs
/// (waiters) through the client's executor, like a generated operation named `operation`: same
/// key, timeout, retry rules and tracing. A non-2xx answer becomes an [`Error`].
pub(crate) async fn send_through_executor(
    client: &p100_api::Client,
    request: reqwest::Request,
    operation: &'static str,
) -> Result<RawAnswer, Error> {
    let info = OperationInfo {
        operation_id: operation,
    };
    let (result, record) = error::run_recorded(None, client.exec(request, &info)).await;
    let response = result.map_err(|e| Error::transport(e, record))?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::transport(e, record))?;
    if !status.is_success() {
        return Err(
            Error::from_api(ApiError::from_body(status, Some(&headers), &bytes, record))
                .with_effect(error::effect_of(record)),
        );
    }
    Ok(RawAnswer {
        status,
        bytes,
        record,
    })
}

/// How every request is sent: through the generated client's executor ([`Execute`], for
/// `client.raw()`, `Client::call` and the SDK's own requests) or directly by the operation
/// methods ([`Client::send_op`]). The API key and the user agent are default headers of the
/// reqwest client, so a request needs nothing added here.
pub(crate) struct Transport {
    retry: RetryPolicy,
}

impl Transport {
    /// Sends `request` (retried under the policy when `repeatable`) in a `p100.call` span and
    /// returns the outcome with what the client saw. No `async` layer of its own: the retry
    /// loop's future is the whole of it.
    pub(crate) fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: &'static str,
        repeatable: bool,
    ) -> impl Future<Output = (reqwest::Result<reqwest::Response>, CallRecord)> + 'a {
        Recorded {
            sending: retry::send(client, request, &self.retry, repeatable, operation),
            operation,
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Transport::send`]'s future: the retry loop's, its outcome turned into a [`CallRecord`].
    /// Not `FutureExt::map`, which moves the whole finished future out of its place to take
    /// the closure back.
    struct Recorded<F> {
        #[pin]
        sending: F,
        operation: &'static str,
    }
}

impl<F> Future for Recorded<F>
where
    F: Future<Output = (reqwest::Result<reqwest::Response>, retry::Sent)>,
{
    type Output = (reqwest::Result<reqwest::Response>, CallRecord);

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let (result, sent) = std::task::ready!(this.sending.poll(cx));
        let record = CallRecord {
            operation: this.operation,
            attempts: sent.attempts,
            status: sent.status,
            retry_after: sent.retry_after,
        };
        std::task::Poll::Ready((result, record))
    }
}

/// The executor plugged into the generated client: what the caller's scope declared (the
/// operation's effect, whether to keep the body) comes in through the task-local slot of
/// [`error::run_recorded`], and the record goes back out through it.
struct Executing(Arc<Transport>);

impl Execute for Executing {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        info: &'a OperationInfo,
    ) -> ExecuteFuture<'a> {
        Box::pin(async move {
            let operation = info.operation_id;
            let repeatable = match error::declared_effect() {
                Some(effect) => effect.is_safe_to_repeat(),
                None => retry::is_safe_to_repeat(request.method(), operation),
            };
            let (result, record) = self.0.send(client, request, operation, repeatable).await;
            error::record_call(record);
            result
        })
    }
}

/// What is kept of a request that is not safe to repeat: its body and the time.
pub(crate) fn sent_request(request: &reqwest::Request) -> error::SentRequest {
    error::SentRequest {
        body: request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(Bytes::copy_from_slice),
        at: std::time::SystemTime::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    fn config_error(result: Result<ClientBuilder, Error>) -> String {
        match result {
            Ok(builder) => panic!("expected an error, got {builder:?}"),
            Err(error) => {
                assert!(error.config_error().is_some(), "{error:?}");
                error.to_string()
            }
        }
    }

    #[test]
    fn env_requires_the_api_key() {
        let message = config_error(ClientBuilder::from_lookup(lookup(&[])));
        assert_eq!(message, "environment variable P100_API_KEY is not set");
        let message = config_error(ClientBuilder::from_lookup(lookup(&[(
            "P100_API_KEY",
            "  ",
        )])));
        assert_eq!(message, "environment variable P100_API_KEY is not set");
    }

    #[test]
    fn env_defaults_to_staging() {
        let client = ClientBuilder::from_lookup(lookup(&[("P100_API_KEY", "k-1")]))
            .and_then(ClientBuilder::build)
            .map_err(|e| e.to_string());
        assert_eq!(
            client.as_ref().map(Client::base_url),
            Ok(Environment::Staging.base_url())
        );
    }

    #[test]
    fn env_selects_production() {
        let client = ClientBuilder::from_lookup(lookup(&[
            ("P100_API_KEY", "k-1"),
            ("P100_ENV", "Production"),
        ]))
        .and_then(ClientBuilder::build)
        .map_err(|e| e.to_string());
        assert_eq!(
            client.as_ref().map(Client::base_url),
            Ok("https://partner-api.p100.io")
        );
    }

    #[test]
    fn env_base_url_wins_and_is_checked() {
        let client = ClientBuilder::from_lookup(lookup(&[
            ("P100_API_KEY", "k-1"),
            ("P100_ENV", "production"),
            ("P100_BASE_URL", "http://127.0.0.1:8080/"),
        ]))
        .and_then(ClientBuilder::build)
        .map_err(|e| e.to_string());
        assert_eq!(
            client.as_ref().map(Client::base_url),
            Ok("http://127.0.0.1:8080")
        );

        let message = config_error(ClientBuilder::from_lookup(lookup(&[
            ("P100_API_KEY", "k-1"),
            ("P100_BASE_URL", "http://example.com"),
        ])));
        assert!(
            message.starts_with(
                "environment variable P100_BASE_URL is unusable: refusing plain http://"
            ),
            "{message}"
        );
    }

    #[test]
    fn env_rejects_unknown_environment() {
        let message = config_error(ClientBuilder::from_lookup(lookup(&[
            ("P100_API_KEY", "k-1"),
            ("P100_ENV", "prod-eu"),
        ])));
        assert_eq!(
            message,
            "environment variable P100_ENV is \"prod-eu\"; expected `staging` or `production`"
        );
    }

    #[test]
    fn env_key_errors_do_not_print_the_key() {
        let message = config_error(ClientBuilder::from_lookup(lookup(&[(
            "P100_API_KEY",
            "secret\u{7}bell",
        )])));
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("P100_API_KEY"), "{message}");
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "http://127.0.0.1:1",
            "http://127.1.2.3",
            "http://[::1]:8080",
            "http://localhost:3000/",
            "http://LOCALHOST",
            "https://partner-api-stage.p100.io/",
            "https://proxy.example.com/p100/",
        ] {
            assert!(validate_base_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.1",
            "http://localhost.example.com",
            "http://[::ffff:127.0.0.1]",
            "http://partner-api.p100.io",
        ] {
            assert!(
                matches!(
                    validate_base_url(refused),
                    Err(ConfigError::InsecureBaseUrl { .. })
                ),
                "{refused}"
            );
        }
        for invalid in [
            "ftp://127.0.0.1",
            "not a url",
            "https://user:pw@host.example",
            "https://host.example/?a=b",
        ] {
            let error = validate_base_url(invalid).err().map(|e| e.to_string());
            assert!(
                matches!(&error, Some(m) if m.starts_with("invalid base URL") && !m.contains("pw")),
                "{invalid}: {error:?}"
            );
        }
    }
}
