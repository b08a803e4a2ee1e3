//! Waiting until P100 has finished with something: poll its details endpoint until its status
//! is final, with a [`WaitPolicy`] (minimum and maximum delay, exponential backoff with jitter,
//! a maximum total wait), and get one of four distinct results.
//!
//! P100 confirms money movement asynchronously: a create call returns an id at once and the
//! outcome arrives later, by webhook or on the details endpoint. A [`Waiter`] is that polling
//! loop, written once for the seven kinds that have a details endpoint ([`Waitable`]):
//!
//! | kind | polled operation | success | failure |
//! |---|---|---|---|
//! | [`types::ExchangeDetails`] | `exchange_get` | `COMPLETED` | `FAILED` |
//! | [`types::SepaTransferDetails`] | `sepa_transfer_get` | `SUCCESSFUL` | `FAILED`, `UNSUCCESSFUL` |
//! | [`types::CryptoWithdrawalDetails`] | `crypto_withdrawal_get` | `SUCCESSFUL`, `COMPLETED` (inferred) | `FAILED`, `UNSUCCESSFUL` (inferred) |
//! | [`types::TransferDetails`] | `transfer_get` | `SUCCESSFUL` | `FAILED`, `UNSUCCESSFUL` |
//! | [`types::OrderDetails`] | `order_get` | `COMPLETED`, `SUCCESSFUL` (inferred) | `FAILED`, `UNSUCCESSFUL`, `EXPIRED` (inferred) |
//! | [`types::PaymentLinkDetails`] | `payment_link_get` | `COMPLETED`, `SUCCESSFUL`, `PAID` (inferred) | `FAILED`, `UNSUCCESSFUL`, `EXPIRED` (inferred) |
//! | [`types::KycStatus`] | `kyc_get_status` | `VERIFIED`, or attempt `SUCCESSFUL` | attempt `REJECTED_BY_PROVIDER`, or `EXPIRED` with no attempt |
//!
//! Statuses are compared without regard to case (the oldest exchange page wrote `completed`).
//! Orders' `WAITING_FOR_WALLET_ADDRESS` and `WAITING_FOR_CONFIRMATION` and KYC's `PENDING` and
//! `VERIFICATION` attempts are known to be in progress; so are `PENDING`, `PROCESSING` and
//! `IN_PROGRESS` for the other money movements (*inferred*: P100's in-flight word elsewhere; the
//! docs never show an in-flight exchange or transfer). Where the docs name no final status
//! (crypto withdrawals, orders, payment links), the table uses the words P100 uses for its other
//! money movements; they are marked *inferred*. Any other status is not final: the waiter keeps
//! polling and reports it once per wait as a `tracing` warning. If you know better, say so with
//! [`Waiter::treat`].
//!
//! # Results
//!
//! [`Waiter::wait`] returns `Ok(`[`Settled`]`)` only for a success state. Everything else is an
//! `Err(`[`WaitError`]`)` whose variants keep the distinctions: [`WaitError::Failed`] (a failed
//! final state, with the record and P100's error object), [`WaitError::TimedOut`] (the last
//! record and the poll count) and [`WaitError::CallFailed`] (a poll failed even after the
//! client's retries). So `?` propagates anything but success, and a `match` sees each case.
//!
//! # Time
//!
//! Waiting uses `tokio::time` — the clock the client's retries and timeouts already use — so a
//! test under `#[tokio::test(start_paused = true)]` (or `tokio::time::pause()`) runs a
//! ten-minute wait instantly and exactly. A separate clock trait would have left the retry waits
//! and request timeouts on another clock.
//!
//! What does not belong here: taking rate locks and executing ([`crate::lock`]); webhooks, the
//! push alternative to polling ([`crate::webhooks`]).

use std::borrow::Cow;
use std::fmt;
use std::future::IntoFuture;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, Stream};
use p100_api::ClientInfo;
use reqwest::header::{HeaderValue, ACCEPT};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::error::Error;
use crate::retry::Jitter;
use crate::{types, Client};

/// How a [`Waiter`] spaces its polls: smithy-style exponential backoff with jitter between a
/// minimum and a maximum delay, within a maximum total wait.
///
/// The first poll is sent at once. The wait before poll `n + 1` has the cap
/// `min(max_delay, min_delay × 2ⁿ⁻¹)` and is drawn between `100 % − jitter_percent` and 100 % of
/// that cap (never below `min_delay`). Each poll's own time (and the client's retries of a
/// transient failure) counts towards `max_wait`; the last wait is shortened so that the last
/// poll happens at `max_wait` at the latest, and the waiter then gives up.
///
/// # Defaults: 2 s, 10 s, 15 % jitter, 10 minutes
///
/// P100 documents no settlement times and no polling interval, so the defaults are tuned for a
/// transaction that settles about a minute after it was created. Starting at 2 s notices a fast
/// settlement quickly; doubling reaches the 10 s cap after four polls, so a slow one costs one
/// request per 10 s. For a transaction that settles 60 s after it was created, the polls fall at
/// 0, 2, 6, 14, 24, …, 64 s without jitter: 9 polls, noticed 4 s late. Jitter only shortens
/// waits, by at most 15 %, which spreads the polls of many waiters without breaking that budget:
/// even if every wait were the shortest, the 10th poll falls at 63.2 s, so the settlement is
/// noticed in at most 10 polls and always within one `max_delay`. (Smithy's own jitter, anywhere
/// between `min_delay` and the cap, would take about 13 polls on average for the same
/// transaction.) After ten minutes the waiter gives up; a SEPA transfer, or an order waiting for
/// its payer, can take far longer: raise `max_wait`, or use the webhook.
///
/// ```
/// use std::time::Duration;
/// use p100_ergonomic::{Jitter, WaitPolicy};
///
/// let policy = WaitPolicy::default().with_jitter(Jitter::none());
/// let waits: Vec<u64> = (1..=5).map(|n| policy.delay(n).as_secs()).collect();
/// assert_eq!(waits, [2, 4, 8, 10, 10]);
///
/// // A quick, bounded wait, e.g. in a request handler:
/// let short = WaitPolicy::default()
///     .with_min_delay(Duration::from_millis(500))
///     .with_max_delay(Duration::from_secs(2))
///     .with_max_wait(Duration::from_secs(20));
/// assert!(short.max_polls() <= 20);
/// ```
#[derive(Clone, Debug)]
pub struct WaitPolicy {
    min_delay: Duration,
    max_delay: Duration,
    max_wait: Duration,
    jitter: Jitter,
    jitter_percent: u32,
}

/// The shortest delay a policy allows, so that no setting makes a busy loop.
const SHORTEST_DELAY: Duration = Duration::from_millis(1);

impl Default for WaitPolicy {
    /// 2 s doubling to 10 s, waits shortened by up to 15 % at random, 10 minutes in total.
    fn default() -> Self {
        WaitPolicy {
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
            max_wait: Duration::from_secs(600),
            jitter: Jitter::full(),
            jitter_percent: 15,
        }
    }
}

impl WaitPolicy {
    /// The default policy (see [`WaitPolicy::default`]).
    pub fn new() -> Self {
        WaitPolicy::default()
    }

    /// The first wait, and the floor of every wait (default 2 s; at least 1 ms).
    pub fn with_min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay.max(SHORTEST_DELAY);
        self
    }

    /// The largest wait between two polls (default 10 s). A value below `min_delay` is read as
    /// `min_delay`.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How long to wait in total, from the first poll (default 10 minutes).
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Where in its jitter range each wait falls (default [`Jitter::full`]: at random;
    /// [`Jitter::none`]: always the whole backoff; [`Jitter::seeded`]: reproducible).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// By how much jitter may shorten a wait, in percent of its backoff (default 15; at most
    /// 100).
    pub fn with_jitter_percent(mut self, percent: u32) -> Self {
        self.jitter_percent = percent.min(100);
        self
    }

    /// The first wait and floor of every wait.
    pub fn min_delay(&self) -> Duration {
        self.min_delay
    }

    /// The largest wait between two polls.
    pub fn max_delay(&self) -> Duration {
        self.max_delay.max(self.min_delay)
    }

    /// The total time budget.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The backoff cap of wait number `wait` (1 before the second poll), before jitter.
    fn cap(&self, wait: u32) -> Duration {
        let doublings = 2u32.saturating_pow(wait.saturating_sub(1));
        self.min_delay
            .saturating_mul(doublings)
            .min(self.max_delay())
            .max(self.min_delay)
    }

    /// The part of a cap that jitter may take away.
    fn jitter_span(&self, cap: Duration) -> Duration {
        cap.saturating_mul(self.jitter_percent) / 100
    }

    /// The wait before poll `wait + 1` (so `delay(1)` is the wait after the first poll), with
    /// jitter applied.
    pub fn delay(&self, wait: u32) -> Duration {
        let cap = self.cap(wait);
        let span = self.jitter_span(cap);
        (cap - span + self.jitter.apply(span)).max(self.min_delay)
    }

    /// The most polls a wait under this policy can make: every wait as short as jitter allows,
    /// the last one cut at `max_wait`. (Polls that take time make fewer.)
    ///
    /// ```
    /// use p100_ergonomic::WaitPolicy;
    ///
    /// assert_eq!(WaitPolicy::default().max_polls(), 74);
    /// ```
    pub fn max_polls(&self) -> u32 {
        let mut polls: u32 = 1;
        let mut waited = Duration::ZERO;
        let mut wait: u32 = 1;
        loop {
            if waited >= self.max_wait {
                return polls;
            }
            let cap = self.cap(wait);
            let shortest = (cap - self.jitter_span(cap)).max(self.min_delay);
            if self.cap(wait.saturating_add(1)) == cap {
                // Every further wait is the same: count them at once.
                let left = (self.max_wait - waited).as_nanos();
                let more = left.div_ceil(shortest.as_nanos().max(1));
                return polls.saturating_add(u32::try_from(more).unwrap_or(u32::MAX));
            }
            waited = waited.saturating_add(shortest);
            polls = polls.saturating_add(1);
            wait = wait.saturating_add(1);
        }
    }
}

/// What a status means to a waiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusClass {
    /// Not final yet, and a status the SDK knows: keep polling.
    InProgress,
    /// A final success state: the wait is over.
    Succeeded,
    /// A final failed state: the wait is over.
    Failed,
    /// A status the SDK does not know (or no status at all): not final, keep polling, and
    /// report it through `tracing` once per wait.
    Unrecognized,
}

impl StatusClass {
    /// Whether the wait ends on this status.
    pub fn is_final(self) -> bool {
        matches!(self, StatusClass::Succeeded | StatusClass::Failed)
    }
}

/// The status words of one kind, compared without regard to case.
struct Statuses {
    succeeded: &'static [&'static str],
    failed: &'static [&'static str],
    in_progress: &'static [&'static str],
}

impl Statuses {
    fn classify(&self, status: Option<&str>) -> StatusClass {
        let Some(status) = status else {
            return StatusClass::Unrecognized;
        };
        let listed = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(status));
        if listed(self.succeeded) {
            StatusClass::Succeeded
        } else if listed(self.failed) {
            StatusClass::Failed
        } else if listed(self.in_progress) {
            StatusClass::InProgress
        } else {
            StatusClass::Unrecognized
        }
    }
}

/// Exchanges: COMPLETED or FAILED (Create and Finalize an Exchange, both editions).
const EXCHANGE: Statuses = Statuses {
    succeeded: &["COMPLETED"],
    failed: &["FAILED"],
    in_progress: IN_FLIGHT,
};

/// The words P100 uses elsewhere for something under way (KYC attempts and IBAN checks are
/// `PENDING`), taken as "not final yet" for the money movements whose in-flight status the docs
/// never show, so that a normal wait does not log a warning on every poll. Inferred.
const IN_FLIGHT: &[&str] = &["PENDING", "PROCESSING", "IN_PROGRESS"];

/// SEPA transfers: SUCCESSFUL in the details examples, FAILED in the transfer webhooks;
/// UNSUCCESSFUL is P100's other failure word (deposits).
const SEPA_TRANSFER: Statuses = Statuses {
    succeeded: &["SUCCESSFUL"],
    failed: &["FAILED", "UNSUCCESSFUL"],
    in_progress: IN_FLIGHT,
};

/// Internal transfers: SUCCESSFUL documented; the failure value "presumably FAILED".
const TRANSFER: Statuses = SEPA_TRANSFER;

/// Crypto withdrawals: no value was ever documented; P100's money-movement words.
const CRYPTO_WITHDRAWAL: Statuses = Statuses {
    succeeded: &["SUCCESSFUL", "COMPLETED"],
    failed: &["FAILED", "UNSUCCESSFUL"],
    in_progress: IN_FLIGHT,
};

/// Orders: the two waiting states are documented, the final ones are not.
const ORDER: Statuses = Statuses {
    succeeded: &["COMPLETED", "SUCCESSFUL"],
    failed: &["FAILED", "UNSUCCESSFUL", "EXPIRED"],
    in_progress: &["WAITING_FOR_WALLET_ADDRESS", "WAITING_FOR_CONFIRMATION"],
};

/// Payment links: no value was ever documented.
const PAYMENT_LINK: Statuses = Statuses {
    succeeded: &["COMPLETED", "SUCCESSFUL", "PAID"],
    failed: &["FAILED", "UNSUCCESSFUL", "EXPIRED"],
    in_progress: IN_FLIGHT,
};

mod sealed {
    pub trait Sealed {}
}

/// A record with a status that P100 settles asynchronously, and the details operation that
/// reads it: what a [`Waiter`] can wait for.
///
/// Implemented for the seven kinds in the [module table](self); sealed, so that new methods can
/// be added. Most callers never name it: they call [`Client::wait_for_exchange`] and friends.
pub trait Waitable:
    DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// What is waited for, in messages (`"exchange"`, `"SEPA transfer"`, …).
    const KIND: &'static str;
    /// The spec's `operationId` of the details operation that is polled.
    const OPERATION_ID: &'static str;
    /// The spec's path of that operation, with its one parameter in braces.
    const PATH: &'static str;

    /// The status as P100 sent it (for KYC: `verificationStatus/attemptStatus`), if any.
    fn status(&self) -> Option<Cow<'_, str>>;

    /// What the status means.
    fn classify(&self) -> StatusClass;

    /// P100's explanation of a failed state, read from the record's JSON: by default its
    /// `error` object (`description`, `status`).
    fn failure_reason(raw: &serde_json::Value) -> Option<FailureReason> {
        FailureReason::from_error_field(raw)
    }
}

/// The text of the status types the details records use.
trait StatusText {
    fn status_text(&self) -> Option<&str>;
}

impl<T: StatusText> StatusText for Option<T> {
    fn status_text(&self) -> Option<&str> {
        self.as_ref().and_then(StatusText::status_text)
    }
}

macro_rules! status_text {
    ($($status:ty => |$s:ident| $text:expr;)*) => {$(
        impl StatusText for $status {
            fn status_text(&self) -> Option<&str> {
                let $s = self;
                Some($text)
            }
        }
    )*};
}

status_text! {
    types::ExchangeStatus => |s| s.as_str();
    types::SepaTransferStatus => |s| s.as_str();
    types::TransferStatus => |s| s.as_str();
    types::OrderStatus => |s| s.as_str();
    types::CryptoWithdrawalStatus => |s| s.0.as_str();
    types::PaymentLinkStatus => |s| s.0.as_str();
}

macro_rules! waitable {
    ($($record:ty: $kind:literal, $operation:literal, $path:literal, $statuses:ident;)*) => {$(
        impl sealed::Sealed for $record {}

        impl Waitable for $record {
            const KIND: &'static str = $kind;
            const OPERATION_ID: &'static str = $operation;
            const PATH: &'static str = $path;

            fn status(&self) -> Option<Cow<'_, str>> {
                self.status.status_text().map(Cow::Borrowed)
            }

            fn classify(&self) -> StatusClass {
                $statuses.classify(self.status.status_text())
            }
        }
    )*};
}

waitable! {
    types::ExchangeDetails: "exchange", "exchange_get", "/v1/exchange/details/{exchangeId}", EXCHANGE;
    types::SepaTransferDetails: "SEPA transfer", "sepa_transfer_get",
        "/v1/sepa-transfer/details/{transferId}", SEPA_TRANSFER;
    types::CryptoWithdrawalDetails: "crypto withdrawal", "crypto_withdrawal_get",
        "/v1/crypto-withdrawal/details/{withdrawalId}", CRYPTO_WITHDRAWAL;
    types::TransferDetails: "transfer", "transfer_get", "/v1/transfer/details/{transferId}", TRANSFER;
    types::OrderDetails: "order", "order_get", "/v1/order/details/{orderId}", ORDER;
    types::PaymentLinkDetails: "payment link", "payment_link_get",
        "/v1/payment-link/details/{paymentLinkId}", PAYMENT_LINK;
}

impl sealed::Sealed for types::KycStatus {}

/// KYC: the overall `verificationStatus` and the current `attemptStatus` (KYC Verification
/// Status webhook; the status endpoint's body was never seen and is assumed to mirror it).
impl Waitable for types::KycStatus {
    const KIND: &'static str = "KYC verification";
    const OPERATION_ID: &'static str = "kyc_get_status";
    const PATH: &'static str = "/v1/kyc/status/{externalUserId}";

    fn status(&self) -> Option<Cow<'_, str>> {
        let verification = self.verification_status.as_ref().map(|s| s.as_str());
        let attempt = self.attempt_status.as_ref().map(|s| s.as_str());
        match (verification, attempt) {
            (Some(v), Some(a)) => Some(Cow::Owned(format!("{v}/{a}"))),
            (Some(one), None) | (None, Some(one)) => Some(Cow::Borrowed(one)),
            (None, None) => None,
        }
    }

    fn classify(&self) -> StatusClass {
        use types::{KycAttemptStatus as Attempt, KycVerificationStatus as Verification};
        match (&self.verification_status, &self.attempt_status) {
            (Some(Verification::Verified), _) | (_, Some(Attempt::Successful)) => {
                StatusClass::Succeeded
            }
            (_, Some(Attempt::RejectedByProvider)) | (Some(Verification::Expired), None) => {
                StatusClass::Failed
            }
            (_, Some(Attempt::Pending | Attempt::Verification))
            | (Some(Verification::NotVerified), None) => StatusClass::InProgress,
            _ => StatusClass::Unrecognized,
        }
    }

    /// The provider's `rejectionReason` (e.g. `NO_FACE_FOUND`).
    fn failure_reason(raw: &serde_json::Value) -> Option<FailureReason> {
        let reason = raw.get("rejectionReason")?;
        Some(FailureReason {
            description: None,
            code: reason.as_str().map(String::from),
            raw: reason.clone(),
        })
    }
}

/// P100's explanation of a failed state: the record's `error` object (`description`, `status`;
/// the shape the transfer webhooks show), or the KYC `rejectionReason`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FailureReason {
    /// A readable description (`error.description`).
    pub description: Option<String>,
    /// An error status or code (`error.status`, or the KYC rejection reason).
    pub code: Option<String>,
    /// The value exactly as P100 sent it.
    pub raw: serde_json::Value,
}

impl FailureReason {
    fn from_error_field(raw: &serde_json::Value) -> Option<FailureReason> {
        let error = raw.get("error")?;
        let text = |key: &str| error.get(key).and_then(|v| v.as_str()).map(String::from);
        match error {
            serde_json::Value::Null => None,
            serde_json::Value::String(description) => Some(FailureReason {
                description: Some(description.clone()),
                code: None,
                raw: error.clone(),
            }),
            _ => Some(FailureReason {
                description: text("description").or_else(|| text("message")),
                code: text("status").or_else(|| text("code")),
                raw: error.clone(),
            }),
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.description) {
            (Some(code), Some(description)) => write!(f, "{code}: {description}"),
            (Some(text), None) | (None, Some(text)) => f.write_str(text),
            (None, None) => write!(f, "{}", self.raw),
        }
    }
}

/// A success state, the result of [`Waiter::wait`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settled<T> {
    /// The id that was polled.
    pub id: String,
    /// The record in its final state.
    pub record: T,
    /// Its status, as P100 sent it.
    pub status: Option<String>,
    /// How many polls it took.
    pub polls: u32,
    /// How long it took, from the first poll.
    pub elapsed: Duration,
}

/// A change of status seen while polling: an item of [`Waiter::status_changes`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StatusChange<T> {
    /// The id that is polled.
    pub id: String,
    /// The record as this poll read it.
    pub record: T,
    /// Its status, as P100 sent it.
    pub status: Option<String>,
    /// What the status means; the last item of a successful wait is
    /// [`StatusClass::Succeeded`].
    pub class: StatusClass,
    /// Polls so far, this one included.
    pub polls: u32,
    /// Time since the first poll.
    pub elapsed: Duration,
}

/// The record reached a failed final state: [`WaitError::Failed`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FailedState<T> {
    /// The id that was polled.
    pub id: String,
    /// The record in its failed state.
    pub record: T,
    /// Its status, as P100 sent it.
    pub status: Option<String>,
    /// P100's explanation, when the record carries one.
    pub reason: Option<FailureReason>,
    /// How many polls it took.
    pub polls: u32,
    /// How long it took, from the first poll.
    pub elapsed: Duration,
}

/// No final status within the policy's `max_wait`: [`WaitError::TimedOut`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimedOut<T> {
    /// The id that was polled.
    pub id: String,
    /// The last record read.
    pub last: T,
    /// Its status, as P100 sent it.
    pub status: Option<String>,
    /// How many polls were made.
    pub polls: u32,
    /// How long the waiter waited.
    pub elapsed: Duration,
}

/// A poll failed (after the client's retries of transient failures): [`WaitError::CallFailed`].
#[derive(Debug)]
#[non_exhaustive]
pub struct CallFailed<T> {
    /// The id that was polled.
    pub id: String,
    /// Why the poll failed.
    pub error: Error,
    /// The last record read before, if any.
    pub last: Option<T>,
    /// How many polls were made, the failed one included.
    pub polls: u32,
    /// Time since the first poll.
    pub elapsed: Duration,
}

/// Why a wait did not end in a success state. Each case keeps what a caller needs to act on it.
///
/// ```
/// # async fn example(client: p100_ergonomic::Client) {
/// use p100_ergonomic::wait::WaitError;
///
/// match client.wait_for_sepa_transfer("7fb02323-969a-4936-94ea-86b8773ff1a2").wait().await {
///     Ok(done) => println!("sent {} {}", done.record.amount, done.record.currency),
///     Err(WaitError::Failed(failed)) => {
///         println!("bounced: {:?}", failed.reason.map(|r| r.to_string()))
///     }
///     Err(WaitError::TimedOut(late)) => {
///         println!("still {:?} after {} polls; the webhook will tell", late.status, late.polls)
///     }
///     Err(WaitError::CallFailed(call)) => println!("could not ask P100: {}", call.error),
///     Err(other) => println!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitError<T> {
    /// The record reached a failed final state.
    Failed(Box<FailedState<T>>),
    /// No final state within the time budget.
    TimedOut(Box<TimedOut<T>>),
    /// A poll failed; P100's state is unknown.
    CallFailed(Box<CallFailed<T>>),
}

impl<T> WaitError<T> {
    /// The id that was polled.
    pub fn id(&self) -> &str {
        match self {
            WaitError::Failed(failed) => &failed.id,
            WaitError::TimedOut(late) => &late.id,
            WaitError::CallFailed(call) => &call.id,
        }
    }

    /// How many polls were made.
    pub fn polls(&self) -> u32 {
        match self {
            WaitError::Failed(failed) => failed.polls,
            WaitError::TimedOut(late) => late.polls,
            WaitError::CallFailed(call) => call.polls,
        }
    }

    /// The last record read, if any.
    pub fn last_record(&self) -> Option<&T> {
        match self {
            WaitError::Failed(failed) => Some(&failed.record),
            WaitError::TimedOut(late) => Some(&late.last),
            WaitError::CallFailed(call) => call.last.as_ref(),
        }
    }

    /// Whether the record reached a failed final state.
    pub fn is_failed(&self) -> bool {
        matches!(self, WaitError::Failed(_))
    }

    /// Whether the time budget ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::TimedOut(_))
    }

    /// The failed call, for [`WaitError::CallFailed`].
    pub fn call_error(&self) -> Option<&Error> {
        match self {
            WaitError::CallFailed(call) => Some(&call.error),
            _ => None,
        }
    }
}

impl<T: Waitable> fmt::Display for WaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = T::KIND;
        let shown = |status: &Option<String>| status.clone().unwrap_or_else(|| "none".into());
        match self {
            WaitError::Failed(failed) => {
                write!(
                    f,
                    "{kind} {} failed with status {}",
                    failed.id,
                    shown(&failed.status)
                )?;
                if let Some(reason) = &failed.reason {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            WaitError::TimedOut(late) => write!(
                f,
                "{kind} {} is not final after {:?} ({} polls); last status {}",
                late.id,
                late.elapsed,
                late.polls,
                shown(&late.status)
            ),
            WaitError::CallFailed(call) => write!(
                f,
                "could not read {kind} {} (poll {}): {}",
                call.id, call.polls, call.error
            ),
        }
    }
}

impl<T: Waitable> std::error::Error for WaitError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::CallFailed(call) => Some(&call.error),
            _ => None,
        }
    }
}

/// The stream [`Waiter::status_changes`] returns.
pub type StatusChanges<T> =
    Pin<Box<dyn Stream<Item = Result<StatusChange<T>, WaitError<T>>> + Send + 'static>>;

/// Polls one record until its status is final. Made by [`Client::wait_for_exchange`] and the
/// other `wait_for_*` methods, or [`Client::wait_until_final`].
///
/// `.await` it directly (with the default [`WaitPolicy`]), call [`wait`](Self::wait), or turn it
/// into a [`Stream`] of status changes with [`status_changes`](Self::status_changes).
///
/// ```no_run
/// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use p100_ergonomic::wait::{StatusClass, WaitPolicy};
///
/// // Default policy: 2 s doubling to 10 s, for at most 10 minutes.
/// let exchange = client.wait_for_exchange("3f0aeaa7-1177-4d77-9985-0cb987809801").await?;
/// println!("{:?} after {} polls", exchange.status, exchange.polls);
///
/// let order = client
///     .wait_for_order("663318af-7ea1-4c5a-8545-e433a2d43d5c")
///     .policy(WaitPolicy::default().with_max_wait(Duration::from_secs(3600)))
///     .treat("PAID", StatusClass::Succeeded) // a status you know the docs do not list
///     .wait()
///     .await?;
/// println!("order {} is {:?}", order.record.order_id, order.status);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a waiter does nothing until awaited or streamed"]
pub struct Waiter<T> {
    client: Client,
    id: String,
    policy: WaitPolicy,
    overrides: Vec<(String, StatusClass)>,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: Waitable> Waiter<T> {
    pub(crate) fn new(client: Client, id: String) -> Self {
        Waiter {
            client,
            id,
            policy: WaitPolicy::default(),
            overrides: Vec::new(),
            kind: std::marker::PhantomData,
        }
    }

    /// How to space the polls (default [`WaitPolicy::default`]).
    pub fn policy(mut self, policy: WaitPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Shorthand for a policy with this total wait.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.policy = self.policy.with_max_wait(wait);
        self
    }

    /// Gives a status a meaning that overrides the SDK's (compared without regard to case; for
    /// KYC the status is `verificationStatus/attemptStatus`, e.g. `NOT_VERIFIED/PENDING`).
    pub fn treat(mut self, status: impl Into<String>, class: StatusClass) -> Self {
        self.overrides.push((status.into(), class));
        self
    }

    /// Polls until a final status or the end of the time budget.
    ///
    /// `Ok` only for a success state; see [`WaitError`] for the other three outcomes.
    pub async fn wait(self) -> Result<Settled<T>, WaitError<T>> {
        let mut polling = Polling::new(self);
        let span = polling.span();
        async move {
            loop {
                if let Step::Done(result) = polling.step().await {
                    return result;
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The same polling as [`wait`](Self::wait), as a stream that yields the record each time its
    /// status changes (the first poll always counts as a change).
    ///
    /// A successful wait ends with an item whose class is [`StatusClass::Succeeded`]; any other
    /// outcome ends the stream with one `Err`.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) {
    /// use futures::StreamExt;
    ///
    /// let mut changes = client.wait_for_order("663318af-7ea1-4c5a-8545-e433a2d43d5c").status_changes();
    /// while let Some(change) = changes.next().await {
    ///     match change {
    ///         Ok(change) => match &change.record.wallet_address {
    ///             Some(address) => println!("{:?}: pay to {address}", change.status),
    ///             None => println!("{:?}", change.status),
    ///         },
    ///         Err(error) => println!("{error}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn status_changes(self) -> StatusChanges<T> {
        let polling = Polling::new(self);
        let span = polling.span();
        Box::pin(stream::unfold(Some(polling), move |state| {
            let span = span.clone();
            async move {
                let mut polling = state?;
                loop {
                    match polling.step().instrument(span.clone()).await {
                        Step::Changed(change) => return Some((Ok(change), Some(polling))),
                        Step::Unchanged => continue,
                        Step::Done(Ok(settled)) => {
                            let change = StatusChange {
                                id: settled.id,
                                record: settled.record,
                                status: settled.status,
                                class: StatusClass::Succeeded,
                                polls: settled.polls,
                                elapsed: settled.elapsed,
                            };
                            return Some((Ok(change), None));
                        }
                        Step::Done(Err(error)) => return Some((Err(error), None)),
                    }
                }
            }
        }))
    }
}

impl<T: Waitable> IntoFuture for Waiter<T> {
    type Output = Result<Settled<T>, WaitError<T>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}

/// What one step of the loop produced.
enum Step<T> {
    Changed(StatusChange<T>),
    Unchanged,
    Done(Result<Settled<T>, WaitError<T>>),
}

/// The one polling loop, shared by every kind, by `wait` and by `status_changes`.
struct Polling<T> {
    client: Client,
    id: String,
    policy: WaitPolicy,
    overrides: Arc<[(String, StatusClass)]>,
    started: Option<Instant>,
    polls: u32,
    last: Option<T>,
    last_status: Option<Option<String>>,
    warned: Vec<Option<String>>,
}

impl<T: Waitable> Polling<T> {
    fn new(waiter: Waiter<T>) -> Self {
        Polling {
            client: waiter.client,
            id: waiter.id,
            policy: waiter.policy,
            overrides: waiter.overrides.into(),
            started: None,
            polls: 0,
            last: None,
            last_status: None,
            warned: Vec::new(),
        }
    }

    fn span(&self) -> tracing::Span {
        tracing::info_span!("p100.wait", kind = T::KIND, id = %self.id)
    }

    fn classify(&self, record: &T, status: Option<&str>) -> StatusClass {
        status
            .and_then(|status| {
                self.overrides
                    .iter()
                    .find(|(known, _)| known.eq_ignore_ascii_case(status))
                    .map(|(_, class)| *class)
            })
            .unwrap_or_else(|| record.classify())
    }

    async fn step(&mut self) -> Step<T> {
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.polls > 0 {
            let elapsed = started.elapsed();
            match self.policy.max_wait.checked_sub(elapsed) {
                Some(left) if !left.is_zero() => {
                    let delay = self.policy.delay(self.polls).min(left);
                    tracing::trace!(delay = ?delay, "waiting before the next poll");
                    tokio::time::sleep(delay).await;
                }
                // Every poll so far kept its record (a failed one ends the wait), so there is
                // always a last record to report.
                _ => {
                    if let Some(last) = self.last.take() {
                        return Step::Done(Err(self.timed_out(last, elapsed)));
                    }
                }
            }
        }
        self.polls += 1;
        let fetched = fetch::<T>(&self.client, &self.id).await;
        let elapsed = started.elapsed();
        let (record, raw) = match fetched {
            Ok(fetched) => fetched,
            Err(error) => {
                tracing::debug!(poll = self.polls, error = %error, "poll failed");
                return Step::Done(Err(WaitError::CallFailed(Box::new(CallFailed {
                    id: self.id.clone(),
                    error,
                    last: self.last.take(),
                    polls: self.polls,
                    elapsed,
                }))));
            }
        };
        let status = record.status().map(Cow::into_owned);
        let class = self.classify(&record, status.as_deref());
        tracing::debug!(
            poll = self.polls,
            status = status.as_deref(),
            ?class,
            "polled"
        );
        match class {
            StatusClass::Succeeded => Step::Done(Ok(Settled {
                id: self.id.clone(),
                record,
                status,
                polls: self.polls,
                elapsed,
            })),
            StatusClass::Failed => {
                let reason = serde_json::from_slice::<serde_json::Value>(&raw)
                    .ok()
                    .and_then(|raw| T::failure_reason(&raw));
                Step::Done(Err(WaitError::Failed(Box::new(FailedState {
                    id: self.id.clone(),
                    record,
                    status,
                    reason,
                    polls: self.polls,
                    elapsed,
                }))))
            }
            StatusClass::InProgress | StatusClass::Unrecognized => {
                if class == StatusClass::Unrecognized && !self.warned.contains(&status) {
                    tracing::warn!(
                        kind = T::KIND,
                        id = %self.id,
                        status = status.as_deref().unwrap_or("<none>"),
                        "P100 sent a status this SDK does not know; treating it as not final \
                         (use `Waiter::treat` to give it a meaning)"
                    );
                    self.warned.push(status.clone());
                }
                let changed = self.last_status.as_ref() != Some(&status);
                self.last_status = Some(status.clone());
                if changed {
                    self.last = Some(record.clone());
                    Step::Changed(StatusChange {
                        id: self.id.clone(),
                        record,
                        status,
                        class,
                        polls: self.polls,
                        elapsed,
                    })
                } else {
                    self.last = Some(record);
                    Step::Unchanged
                }
            }
        }
    }

    fn timed_out(&self, last: T, elapsed: Duration) -> WaitError<T> {
        tracing::debug!(polls = self.polls, "gave up waiting");
        WaitError::TimedOut(Box::new(TimedOut {
            id: self.id.clone(),
            last,
            status: self.last_status.clone().flatten(),
            polls: self.polls,
            elapsed,
        }))
    }
}

/// Reads one record through the client's executor (key, retries of transient failures,
/// tracing, as for the generated operation `T::OPERATION_ID`) and keeps its raw JSON, which
/// holds fields the spec does not describe yet (the `error` object of failed records).
async fn fetch<T: Waitable>(client: &Client, id: &str) -> Result<(T, bytes::Bytes), Error> {
    let raw = client.raw();
    let mut url = Url::parse(raw.baseurl())
        .map_err(|e| Error::invalid_request(format!("the client's base URL is invalid: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| Error::invalid_request("the client's base URL cannot take a path"))?
        .pop_if_empty()
        .extend(
            T::PATH
                .split('/')
                .filter(|segment| !segment.is_empty())
                .map(|segment| {
                    if segment.starts_with('{') {
                        id
                    } else {
                        segment
                    }
                }),
        );
    let request = raw
        .client()
        .get(url)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(
            "api-version",
            HeaderValue::from_static(p100_api::Client::api_version()),
        )
        .build()
        .map_err(|e| Error::invalid_request(format!("could not build the request: {e}")))?;
    let answer = crate::client::send_through_executor(raw, request, T::OPERATION_ID).await?;
    match serde_json::from_slice::<T>(&answer.bytes) {
        Ok(record) => Ok((record, answer.bytes)),
        Err(source) => Err(Error::decode(
            Some(answer.status),
            answer.bytes.clone(),
            format!("the body is not the documented {} record", T::KIND),
            Some(source),
            answer.record,
        )),
    }
}

impl Client {
    /// A waiter for any [`Waitable`] kind: `client.wait_until_final::<types::OrderDetails>(id)`.
    /// The `wait_for_*` methods name the kind for you.
    pub fn wait_until_final<T: Waitable>(&self, id: impl fmt::Display) -> Waiter<T> {
        Waiter::new(self.clone(), id.to_string())
    }

    /// Waits for an exchange (`exchange_get`) to be `COMPLETED` or `FAILED`.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_exchange("3f0aeaa7-1177-4d77-9985-0cb987809801").await?;
    /// println!("exchanged at {:?}", done.record.rate);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_exchange(
        &self,
        exchange_id: impl fmt::Display,
    ) -> Waiter<types::ExchangeDetails> {
        self.wait_until_final(exchange_id)
    }

    /// Waits for a SEPA transfer (`sepa_transfer_get`) to be `SUCCESSFUL` or `FAILED`.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let sent = client
    ///     .wait_for_sepa_transfer("7fb02323-969a-4936-94ea-86b8773ff1a2")
    ///     .max_wait(Duration::from_secs(3600))
    ///     .await?;
    /// println!("{} {} to {}", sent.record.amount, sent.record.currency, sent.record.destination_iban);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_sepa_transfer(
        &self,
        transfer_id: impl fmt::Display,
    ) -> Waiter<types::SepaTransferDetails> {
        self.wait_until_final(transfer_id)
    }

    /// Waits for a crypto withdrawal (`crypto_withdrawal_get`) to reach a final status (inferred:
    /// see the [module table](crate::wait)).
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_crypto_withdrawal("8c394557-ba48-4ab4-9349-84d396b4a7f7").await?;
    /// println!("on chain: {:?}", done.record.transaction_hash);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_crypto_withdrawal(
        &self,
        withdrawal_id: impl fmt::Display,
    ) -> Waiter<types::CryptoWithdrawalDetails> {
        self.wait_until_final(withdrawal_id)
    }

    /// Waits for an internal transfer (`transfer_get`) to be `SUCCESSFUL` or failed.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_transfer("7fb02323-969a-4936-94ea-86b8773ff1a2").await?;
    /// println!("moved {} {}", done.record.amount, done.record.currency);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_transfer(
        &self,
        transfer_id: impl fmt::Display,
    ) -> Waiter<types::TransferDetails> {
        self.wait_until_final(transfer_id)
    }

    /// Waits for an order (`order_get`) to leave its waiting states (final states inferred: see
    /// the [module table](crate::wait)).
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_order("663318af-7ea1-4c5a-8545-e433a2d43d5c").await?;
    /// println!("received {:?}", done.record.received_amount);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_order(&self, order_id: impl fmt::Display) -> Waiter<types::OrderDetails> {
        self.wait_until_final(order_id)
    }

    /// Waits for a payment link (`payment_link_get`) to reach a final status (inferred: see the
    /// [module table](crate::wait)).
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client.wait_for_payment_link("pl-1").await?;
    /// println!("payment link {:?}", done.status);
    /// # Ok(()) }
    /// ```
    pub fn wait_for_payment_link(
        &self,
        payment_link_id: impl fmt::Display,
    ) -> Waiter<types::PaymentLinkDetails> {
        self.wait_until_final(payment_link_id)
    }

    /// Waits for a user's KYC (`kyc_get_status`) to be verified or rejected.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use p100_ergonomic::wait::WaitError;
    ///
    /// match client.wait_for_kyc("user-42").await {
    ///     Ok(_) => println!("verified"),
    ///     Err(WaitError::Failed(rejected)) => println!("rejected: {:?}", rejected.reason),
    ///     Err(other) => return Err(other.into()),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn wait_for_kyc(&self, external_user_id: impl fmt::Display) -> Waiter<types::KycStatus> {
        self.wait_until_final(external_user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_for_a_60_second_settlement() {
        // The worst case of the default policy: every wait as short as jitter allows.
        let policy = WaitPolicy::default().with_jitter(Jitter::custom(|_| Duration::ZERO));
        let mut at = Duration::ZERO;
        let mut polls = 1;
        while at < Duration::from_secs(60) {
            at += policy.delay(polls);
            polls += 1;
        }
        assert!(polls <= 10, "{polls} polls");
        assert!(at - Duration::from_secs(60) <= policy.max_delay());
    }

    #[test]
    fn max_polls_counts_the_shortest_waits() {
        let policy = WaitPolicy::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(4))
            .with_max_wait(Duration::from_secs(20))
            .with_jitter_percent(0);
        // Polls at 0, 1, 3, 7, 11, 15, 19, 20.
        assert_eq!(policy.max_polls(), 8);
        assert_eq!(
            WaitPolicy::default()
                .with_max_wait(Duration::ZERO)
                .max_polls(),
            1
        );
    }

    #[test]
    fn statuses_are_compared_without_case() {
        assert_eq!(EXCHANGE.classify(Some("completed")), StatusClass::Succeeded);
        assert_eq!(EXCHANGE.classify(Some("FAILED")), StatusClass::Failed);
        assert_eq!(EXCHANGE.classify(Some("pending")), StatusClass::InProgress);
        assert_eq!(EXCHANGE.classify(Some("REVIEW")), StatusClass::Unrecognized);
        assert_eq!(EXCHANGE.classify(None), StatusClass::Unrecognized);
        assert_eq!(
            ORDER.classify(Some("WAITING_FOR_CONFIRMATION")),
            StatusClass::InProgress
        );
    }

    #[test]
    fn kyc_states() {
        let kyc = |v: Option<&str>, a: Option<&str>| types::KycStatus {
            verification_status: v.map(types::KycVerificationStatus::from),
            attempt_status: a.map(types::KycAttemptStatus::from),
            ..Default::default()
        };
        let cases = [
            (Some("VERIFIED"), None, StatusClass::Succeeded),
            (
                Some("NOT_VERIFIED"),
                Some("SUCCESSFUL"),
                StatusClass::Succeeded,
            ),
            (
                Some("NOT_VERIFIED"),
                Some("REJECTED_BY_PROVIDER"),
                StatusClass::Failed,
            ),
            (Some("EXPIRED"), None, StatusClass::Failed),
            (Some("EXPIRED"), Some("PENDING"), StatusClass::InProgress),
            (
                Some("NOT_VERIFIED"),
                Some("VERIFICATION"),
                StatusClass::InProgress,
            ),
            (Some("NOT_VERIFIED"), None, StatusClass::InProgress),
            (
                Some("NOT_VERIFIED"),
                Some("ON_HOLD"),
                StatusClass::Unrecognized,
            ),
            (None, None, StatusClass::Unrecognized),
        ];
        for (v, a, class) in cases {
            assert_eq!(kyc(v, a).classify(), class, "{v:?}/{a:?}");
        }
        assert_eq!(
            kyc(Some("NOT_VERIFIED"), Some("PENDING"))
                .status()
                .as_deref(),
            Some("NOT_VERIFIED/PENDING")
        );
    }

    #[test]
    fn failure_reasons() {
        let raw = serde_json::json!({"status": "FAILED", "error": {"description": "Insufficient funds", "status": "INSUFFICIENT_FUNDS"}});
        let reason = FailureReason::from_error_field(&raw);
        assert_eq!(
            reason.as_ref().and_then(|r| r.description.as_deref()),
            Some("Insufficient funds")
        );
        assert_eq!(
            reason.map(|r| r.to_string()).as_deref(),
            Some("INSUFFICIENT_FUNDS: Insufficient funds")
        );
        assert_eq!(
            FailureReason::from_error_field(&serde_json::json!({"error": null})),
            None
        );
        let kyc = types::KycStatus::failure_reason(
            &serde_json::json!({"rejectionReason": "NO_FACE_FOUND"}),
        );
        assert_eq!(kyc.and_then(|r| r.code).as_deref(), Some("NO_FACE_FOUND"));
    }
}
