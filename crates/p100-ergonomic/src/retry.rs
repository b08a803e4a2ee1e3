//! Retries of calls that are safe to repeat: the [`RetryPolicy`] (attempts, exponential backoff
//! with full [`Jitter`], an elapsed-time budget, `Retry-After`) and the loop that applies it.
//!
//! Only operations whose spec effect is `read` or `lock` are repeated ([`is_safe_to_repeat`],
//! from `p100_api::catalog`): repeating them cannot move money. Everything else (POST, PATCH, DELETE) is sent once and its transient
//! failure is returned unchanged, because P100 may have executed it.
//!
//! Transient means: a connection error (refused, reset, closed before the answer, timeout),
//! HTTP 429, 502, 503, 504, or the `P501` error code (which P100 sends with HTTP 400).
//!
//! Waiting goes through `tokio::time`, so tests can run it under a paused clock.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

/// Whether the client may send a request again after a transient failure: the operations whose
/// effect in the spec (`x-p100-effect`, [`p100_api::catalog::Effect`]) is `read` or `lock`
/// (creating a rate lock moves no money). An operation the catalog does not know is repeated
/// only if its method is GET, HEAD or OPTIONS.
///
/// ```
/// use p100_ergonomic::retry::is_safe_to_repeat;
/// use reqwest::Method;
///
/// assert!(is_safe_to_repeat(&Method::GET, "user_get_balances"));
/// assert!(is_safe_to_repeat(&Method::POST, "order_create_lock"));
/// assert!(!is_safe_to_repeat(&Method::POST, "exchange_create"));
/// ```
pub fn is_safe_to_repeat(method: &Method, operation_id: &str) -> bool {
    match p100_api::catalog::operation(operation_id) {
        Some(op) => op.effect.is_safe_to_repeat(),
        None => matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS),
    }
}

/// How the client retries safe calls after a transient failure.
///
/// Attempt `n + 1` waits a random time between zero and `min(max_delay, initial_delay × 2ⁿ⁻¹)`
/// ("full jitter"), or exactly the `Retry-After` P100 sent. It stops after `max_attempts`
/// attempts, or when the next wait would end after `max_elapsed` since the first attempt; the
/// last answer or error is then returned.
///
/// ```
/// use std::time::Duration;
/// use p100_ergonomic::{Jitter, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(4)
///     .with_initial_delay(Duration::from_millis(100))
///     .with_max_delay(Duration::from_millis(300))
///     .with_jitter(Jitter::none()); // deterministic: always wait the full backoff
///
/// assert_eq!(policy.backoff(1), Duration::from_millis(100));
/// assert_eq!(policy.backoff(2), Duration::from_millis(200));
/// assert_eq!(policy.backoff(3), Duration::from_millis(300)); // capped by max_delay
///
/// // With jitter (the default) a wait is anywhere up to that cap.
/// let jittered = RetryPolicy::default().with_jitter(Jitter::seeded(7));
/// assert!(jittered.backoff(1) <= Duration::from_millis(500));
///
/// // No retries at all:
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    jitter: Jitter,
}

impl Default for RetryPolicy {
    /// 3 attempts, backoff from 500 ms up to 10 s, 30 s budget, full jitter.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
            jitter: Jitter::full(),
        }
    }
}

impl RetryPolicy {
    /// The default policy (see [`RetryPolicy::default`]).
    pub fn new() -> Self {
        RetryPolicy::default()
    }

    /// Never retry: every call is sent once.
    pub fn none() -> Self {
        RetryPolicy::default().with_max_attempts(1)
    }

    /// Total attempts, the first included (default 3; 0 is read as 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff cap before the first retry; it doubles for each further retry (default
    /// 500 ms).
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The largest backoff cap (default 10 s).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The time budget from the first attempt: no retry is started whose wait would end later
    /// (default 30 s). A `Retry-After` beyond it ends the retries at once.
    pub fn with_max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// How a backoff cap becomes the actual wait (default [`Jitter::full`]).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Total attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff cap before the first retry.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }

    /// The largest backoff cap.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The time budget from the first attempt.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// The wait before retry number `retry` (1 for the wait after the first attempt), with
    /// jitter applied.
    pub fn backoff(&self, retry: u32) -> Duration {
        let doublings = 2u32.saturating_pow(retry.saturating_sub(1));
        let cap = self
            .initial_delay
            .saturating_mul(doublings)
            .min(self.max_delay);
        self.jitter.apply(cap)
    }
}

/// How a backoff cap becomes the wait: random (the default), fixed, seeded or your own function.
///
/// ```
/// use std::time::Duration;
/// use p100_ergonomic::Jitter;
///
/// let cap = Duration::from_secs(2);
/// assert_eq!(Jitter::none().apply(cap), cap);
/// assert_eq!(Jitter::seeded(42).apply(cap), Jitter::seeded(42).apply(cap)); // reproducible
/// assert_eq!(Jitter::custom(|cap| cap / 2).apply(cap), Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct Jitter(JitterKind);

#[derive(Clone)]
enum JitterKind {
    Full,
    None,
    Seeded(Arc<Mutex<fastrand::Rng>>),
    Custom(Arc<dyn Fn(Duration) -> Duration + Send + Sync>),
}

impl Jitter {
    /// Full jitter: a uniformly random wait between zero and the cap, in whole milliseconds (the
    /// default).
    pub fn full() -> Self {
        Jitter(JitterKind::Full)
    }

    /// No jitter: always wait the whole cap.
    pub fn none() -> Self {
        Jitter(JitterKind::None)
    }

    /// Full jitter from a random generator seeded with `seed`: the same sequence of waits on
    /// every run (for tests). Clones of the policy share the generator.
    pub fn seeded(seed: u64) -> Self {
        Jitter(JitterKind::Seeded(Arc::new(Mutex::new(
            fastrand::Rng::with_seed(seed),
        ))))
    }

    /// Your own function from the cap to the wait (its result is clamped to the cap).
    pub fn custom(jitter: impl Fn(Duration) -> Duration + Send + Sync + 'static) -> Self {
        Jitter(JitterKind::Custom(Arc::new(jitter)))
    }

    /// The wait for a backoff cap.
    pub fn apply(&self, cap: Duration) -> Duration {
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        match &self.0 {
            JitterKind::None => cap,
            JitterKind::Full => whole_millis(fastrand::u64(0..=nanos)),
            JitterKind::Seeded(rng) => {
                let mut rng = rng.lock().unwrap_or_else(PoisonError::into_inner);
                whole_millis(rng.u64(0..=nanos))
            }
            JitterKind::Custom(jitter) => jitter(cap).min(cap),
        }
    }
}

/// A random wait, truncated to whole milliseconds (the resolution of tokio's timers), so the
/// wait reported in logs is the wait slept.
fn whole_millis(nanos: u64) -> Duration {
    Duration::from_millis(nanos / 1_000_000)
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            JitterKind::Full => "Jitter::full",
            JitterKind::None => "Jitter::none",
            JitterKind::Seeded(_) => "Jitter::seeded",
            JitterKind::Custom(_) => "Jitter::custom",
        })
    }
}

/// HTTP statuses that say "try again later".
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Connection-level failures: refused, reset, closed early, timed out, body cut off.
pub(crate) fn is_transient_transport(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_timeout() || error.is_request() || error.is_body()
}

/// Reads `Retry-After` (delay seconds or an HTTP date).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Whether an error body carries the transient code `P501`.
fn body_is_p501(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Code {
        #[serde(rename = "errorCode")]
        error_code: String,
    }
    serde_json::from_slice::<Code>(body)
        .is_ok_and(|code| crate::ErrorCode::parse(&code.error_code).is_transient())
}

/// What the loop saw, for the call's span and error.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sent {
    pub(crate) attempts: u32,
    pub(crate) status: Option<StatusCode>,
    pub(crate) retry_after: Option<Duration>,
}

/// Why an attempt is worth repeating.
enum Transient {
    Status(StatusCode),
    Code(StatusCode),
    Transport,
}

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transient::Status(status) => write!(f, "HTTP {}", status.as_u16()),
            Transient::Code(status) => write!(f, "P501 with HTTP {}", status.as_u16()),
            Transient::Transport => f.write_str("connection error"),
        }
    }
}

/// Sends `request`, repeating it under `policy` when `repeatable` and the failure is transient.
pub(crate) async fn send(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    policy: &RetryPolicy,
    repeatable: bool,
    operation: &'static str,
) -> (reqwest::Result<reqwest::Response>, Sent) {
    // DEBUG, like the AWS SDK's `invoke` span: an application logging at INFO pays nothing per
    // call for it. Not entered around the request (that would be an `Instrument` layer, polled
    // on every wake-up): the events below name it as their parent, and its outcome fields are
    // recorded once, at the end.
    let span = tracing::debug_span!(
        target: "p100_ergonomic::client",
        "p100.call",
        operation_id = operation,
        method = %request.method(),
        attempts = tracing::field::Empty,
        status = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    let start = Instant::now();
    let mut attempt: u32 = 0;
    let (result, sent) = loop {
        attempt += 1;
        // What it takes to send the request again, but its URL (which comes back with the
        // outcome): nothing is copied for a request with no headers or body of its own, such
        // as a GET of the SDK's. A streaming body cannot be kept; such a request is sent once.
        let next = if repeatable && attempt < policy.max_attempts {
            Resend::of(&request)
        } else {
            None
        };
        let result = client.execute(request).await;
        // A success (or an outcome that cannot be retried) is decided here; anything else in
        // a boxed future of its own, so that every call's future does not carry it.
        let decided =
            next.is_none() || matches!(&result, Ok(response) if response.status().is_success());
        let (result, transient, url) = if decided {
            (result, None, None)
        } else {
            // Before `classify`, which may rebuild the response without its URL.
            let url = match &result {
                Ok(response) => Some(response.url().clone()),
                Err(error) => error.url().cloned(),
            };
            let (result, transient) = Box::pin(classify(result)).await;
            (result, transient, url)
        };
        let status = result.as_ref().ok().map(reqwest::Response::status);
        let retry_after = result
            .as_ref()
            .ok()
            .and_then(|response| retry_after(response.headers()));
        let sent = Sent {
            attempts: attempt,
            status,
            retry_after,
        };
        match &result {
            Ok(response) => tracing::debug!(
                parent: &span,
                attempt,
                status = response.status().as_u16(),
                elapsed_ms = elapsed_ms(start),
                "P100 answered"
            ),
            Err(error) => tracing::debug!(
                parent: &span,
                attempt,
                error = %error,
                elapsed_ms = elapsed_ms(start),
                "P100 request failed"
            ),
        }
        let (Some(reason), Some(next), Some(url)) = (transient, next, url) else {
            break (result, sent);
        };
        let delay = retry_after.unwrap_or_else(|| policy.backoff(attempt));
        if start.elapsed().saturating_add(delay) > policy.max_elapsed {
            tracing::debug!(
                parent: &span,
                attempt,
                delay_ms = millis(delay),
                "not retrying: the wait would exceed the retry budget"
            );
            break (result, sent);
        }
        // With its operation: the call's span is at DEBUG.
        tracing::info!(
            parent: &span,
            operation_id = operation,
            attempt,
            reason = %reason,
            delay_ms = millis(delay),
            "retrying P100 call"
        );
        drop(result);
        // Boxed, like `buffer`: a timer is no part of a call that is not retried.
        Box::pin(tokio::time::sleep(delay)).await;
        request = next.request(url);
    };
    if !span.is_disabled() {
        let elapsed_ms = elapsed_ms(start);
        span.record("attempts", sent.attempts);
        span.record("elapsed_ms", elapsed_ms);
        if let Some(status) = sent.status {
            span.record("status", status.as_u16());
        }
        tracing::debug!(
            parent: &span,
            operation_id = operation,
            attempts = sent.attempts,
            status = sent.status.map(|status| status.as_u16()),
            elapsed_ms,
            "P100 call finished"
        );
    }
    (result, sent)
}

/// A request kept to be sent again: all of it but the URL (reqwest's public API sets nothing
/// else on a request: its extensions hold only the timeout).
struct Resend {
    method: reqwest::Method,
    headers: reqwest::header::HeaderMap,
    body: Option<Bytes>,
    timeout: Option<Duration>,
    version: reqwest::Version,
}

impl Resend {
    /// `None` for a streaming body, which cannot be sent twice.
    fn of(request: &reqwest::Request) -> Option<Self> {
        let body = match request.body() {
            None => None,
            Some(body) => Some(Bytes::copy_from_slice(body.as_bytes()?)),
        };
        Some(Resend {
            method: request.method().clone(),
            // Empty (no allocation) unless the request has headers of its own.
            headers: request.headers().clone(),
            body,
            timeout: request.timeout().copied(),
            version: request.version(),
        })
    }

    /// The request again, to `url`.
    fn request(self, url: url::Url) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method, url);
        *request.headers_mut() = self.headers;
        *request.body_mut() = self.body.map(reqwest::Body::from);
        // Only a request that had one: an absent timeout is no entry (and no allocation).
        if let Some(timeout) = self.timeout {
            *request.timeout_mut() = Some(timeout);
        }
        *request.version_mut() = self.version;
        request
    }
}

/// Decides whether an attempt's outcome is transient; called only when a retry is possible (the
/// loop decides the other outcomes itself), so reading an error body (and rebuilding the
/// response) to find `P501` happens only then.
async fn classify(
    result: reqwest::Result<reqwest::Response>,
) -> (reqwest::Result<reqwest::Response>, Option<Transient>) {
    match result {
        Ok(response) if response.status().is_success() => (Ok(response), None),
        Ok(response) if is_transient_status(response.status()) => {
            let status = response.status();
            (Ok(response), Some(Transient::Status(status)))
        }
        Ok(response) => match buffer(response).await {
            Ok((response, body)) => {
                let status = response.status();
                let transient = body_is_p501(&body).then_some(Transient::Code(status));
                (Ok(response), transient)
            }
            Err(error) => {
                let transient = is_transient_transport(&error).then_some(Transient::Transport);
                (Err(error), transient)
            }
        },
        Err(error) => {
            let transient = is_transient_transport(&error).then_some(Transient::Transport);
            (Err(error), transient)
        }
    }
}

/// Reads the whole body and returns an equivalent response that can still be decoded.
async fn buffer(response: reqwest::Response) -> reqwest::Result<(reqwest::Response, Bytes)> {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    let mut rebuilt = http::Response::new(body.clone());
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok((reqwest::Response::from(rebuilt), body))
}

fn elapsed_ms(start: Instant) -> u64 {
    millis(start.elapsed())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = value.parse() {
            headers.insert(RETRY_AFTER, value);
        }
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&headers(" 0 ")), Some(Duration::ZERO));
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        assert_eq!(retry_after(&headers(&past)), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
        let wait = retry_after(&headers(&later)).unwrap_or_default();
        assert!(wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600));
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&headers("-1")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_without_overflow() {
        let policy = RetryPolicy::default()
            .with_initial_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(10))
            .with_jitter(Jitter::none());
        let waits: Vec<u128> = (1..=7).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(waits, vec![500, 1000, 2000, 4000, 8000, 10000, 10000]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(10));
        assert_eq!(policy.backoff(0), Duration::from_millis(500));
    }

    #[test]
    fn full_jitter_stays_within_the_cap() {
        let cap = Duration::from_millis(300);
        for _ in 0..200 {
            assert!(Jitter::full().apply(cap) <= cap);
        }
        assert_eq!(
            Jitter::custom(|cap| cap * 2).apply(cap),
            cap,
            "custom jitter is clamped"
        );
    }

    #[test]
    fn p501_is_found_in_error_bodies() {
        assert!(body_is_p501(br#"{"errorCode":"P501"}"#));
        assert!(!body_is_p501(br#"{"errorCode":"P500"}"#));
        assert!(!body_is_p501(b"P501"));
    }
}
