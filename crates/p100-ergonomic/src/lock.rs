//! Lock-then-execute: take a rate lock, let the caller accept or refuse its quote, execute before
//! the lock expires, and never move money twice.
//!
//! Three P100 operations execute at a rate locked for about 60 seconds: the user exchange
//! (`exchange_create_lock` → `exchange_create`), the partner exchange
//! (`partner_create_exchange_lock` → `partner_create_exchange`) and the order
//! (`order_create_lock` → `order_create`). [`LockThenExecute`] runs that sequence once for all
//! three:
//!
//! 1. take a lock (lock creation moves no money, so the client retries it on transient errors);
//! 2. check the quote: a worst acceptable rate ([`min_rate`](LockThenExecute::min_rate)), a
//!    largest amount to pay ([`max_amount`](LockThenExecute::max_amount)) and/or your own
//!    [`accept`](LockThenExecute::accept) closure; a refused quote ends the flow
//!    ([`LockError::QuoteRefused`]), nothing executed;
//! 3. if less than the [safety margin](LockPolicy::with_safety_margin) of the lock's validity is
//!    left, take a new lock instead of executing;
//! 4. execute once. A rejection as an invalid or expired lock (`P432`) moved nothing: take a
//!    new lock and execute again, within [`LockPolicy::with_max_locks`].
//!
//! The execute call is never sent twice with the same lock, and never re-sent when its outcome
//! is unknown: a timeout or lost connection after the request left, an HTTP 5xx, `P500` or
//! `P501`, or a 2xx answer that could not be read. That is [`LockError::UnknownOutcome`], which
//! carries the lock id, the request that was sent and what to call to reconcile. Every other
//! error says that nothing moved.
//!
//! # Lock validity
//!
//! An exchange lock's validity is `validUntil − createdAt` (P100's own clock on both sides),
//! counted from the moment the lock was *requested*, so that a slow answer shortens it instead
//! of extending it. An order lock has only `expiresAt`, which is compared with this machine's
//! clock when the lock arrives.
//!
//! What does not belong here: polling the outcome ([`crate::wait`]); retry rules
//! ([`crate::retry`]).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rust_decimal::Decimal;
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::{Error, ErrorCode, ErrorKind};
use crate::types::{self, DecimalNumber, DecimalString};
use crate::wait::{Settled, WaitError, WaitPolicy, Waitable};
use crate::Client;
use sealed::RateLock;

/// How [`LockThenExecute`] treats locks: the safety margin before expiry and how many locks it
/// may take.
///
/// ```
/// use std::time::Duration;
/// use p100_ergonomic::LockPolicy;
///
/// let policy = LockPolicy::default()                 // 5 s margin, 3 locks
///     .with_safety_margin(Duration::from_secs(10))
///     .with_max_locks(5);
/// assert_eq!(policy.max_locks(), 5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockPolicy {
    safety_margin: Duration,
    max_locks: u32,
}

impl Default for LockPolicy {
    /// A 5 s safety margin (a lock is used only while more than 5 s of it are left) and at most
    /// 3 locks per execution.
    fn default() -> Self {
        LockPolicy {
            safety_margin: Duration::from_secs(5),
            max_locks: 3,
        }
    }
}

impl LockPolicy {
    /// The default policy (see [`LockPolicy::default`]).
    pub fn new() -> Self {
        LockPolicy::default()
    }

    /// How much of the lock's validity must be left when the execute is sent (default 5 s): room
    /// for the request's trip and for clock differences. A lock with less left is replaced.
    pub fn with_safety_margin(mut self, margin: Duration) -> Self {
        self.safety_margin = margin;
        self
    }

    /// How many locks one execution may take, the first included (default 3; 0 is read as 1).
    /// A new lock is taken after a `P432` answer or when a lock is too close to expiry.
    pub fn with_max_locks(mut self, locks: u32) -> Self {
        self.max_locks = locks.max(1);
        self
    }

    /// The safety margin.
    pub fn safety_margin(&self) -> Duration {
        self.safety_margin
    }

    /// The most locks one execution may take.
    pub fn max_locks(&self) -> u32 {
        self.max_locks
    }
}

/// The quote of an exchange lock, for the acceptance check.
///
/// `rates` are against EUR (`eur` = 1), so the rate of `currency_from` in `currency_to` is
/// `rates[from] / rates[to]`, computed exactly.
///
/// ```
/// use p100_ergonomic::lock::ExchangeQuote;
/// use p100_ergonomic::types::ExchangeLock;
///
/// let lock: ExchangeLock = serde_json::from_str(r#"{
///     "id": "407ea838-6e41-45ed-ae0f-84fb0f5d3863",
///     "rates": {"eth": 3329.10789425, "eur": 1, "usdt": 0.8582865811608077},
///     "feePercentage": 1.49,
///     "createdAt": "2025-07-28T11:24:46.312Z",
///     "validUntil": "2025-07-28T11:25:46.310Z"
/// }"#)?;
/// let quote = ExchangeQuote::new(lock, "2".parse()?, "eth", "eur");
/// assert_eq!(quote.rate(), Some("3329.10789425".parse()?));
/// // 2 × 3329.10789425 less 1.49 %:
/// assert_eq!(quote.estimated_amount_to(), Some("6559.00837325135".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExchangeQuote {
    /// The lock as P100 sent it.
    pub lock: types::ExchangeLock,
    /// The amount of `currency_from` to exchange.
    pub amount: Decimal,
    /// The currency sold.
    pub currency_from: String,
    /// The currency bought.
    pub currency_to: String,
}

impl ExchangeQuote {
    /// The quote of `lock` for exchanging `amount` of `currency_from` into `currency_to`.
    pub fn new(
        lock: types::ExchangeLock,
        amount: Decimal,
        currency_from: impl Into<String>,
        currency_to: impl Into<String>,
    ) -> Self {
        ExchangeQuote {
            lock,
            amount,
            currency_from: currency_from.into(),
            currency_to: currency_to.into(),
        }
    }

    /// The locked rate of one `currency_from` in `currency_to`, before the fee; `None` when the
    /// lock lists either currency without a usable rate.
    pub fn rate(&self) -> Option<Decimal> {
        let from = rate_of(&self.lock.rates, &self.currency_from)?;
        let to = rate_of(&self.lock.rates, &self.currency_to)?;
        from.checked_div(to)
    }

    /// The exchange fee in percent (1.49 means 1.49 %).
    pub fn fee_percentage(&self) -> Decimal {
        self.lock.fee_percentage.0
    }

    /// `amount × rate`, less the fee: an estimate, since the docs do not say whether the fee is
    /// taken from the proceeds (assumed here) or on top.
    pub fn estimated_amount_to(&self) -> Option<Decimal> {
        let gross = self.amount.checked_mul(self.rate()?)?;
        let kept = Decimal::ONE_HUNDRED.checked_sub(self.fee_percentage())?;
        gross.checked_mul(kept)?.checked_div(Decimal::ONE_HUNDRED)
    }
}

/// A currency's rate in a lock, by its lowercase code (any case accepted).
fn rate_of(rates: &types::ExchangeRates, currency: &str) -> Option<Decimal> {
    rates
        .get(currency)
        .or_else(|| {
            rates
                .iter()
                .find(|(code, _)| code.eq_ignore_ascii_case(currency))
                .map(|(_, rate)| rate)
        })
        .map(|rate| rate.0)
}

/// The quote of an order lock, for the acceptance check.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OrderQuote {
    /// The lock as P100 sent it.
    pub lock: types::OrderLock,
    /// The settlement (fiat) amount that was asked for.
    pub requested_amount: Decimal,
}

impl OrderQuote {
    /// The crypto amount the payer must send (`amount` of the lock).
    pub fn amount_to_pay(&self) -> Decimal {
        self.lock.amount.0
    }

    /// The locked rate (`rate` of the lock).
    pub fn rate(&self) -> Decimal {
        self.lock.rate.0
    }
}

/// The quote of any lock: what [`LockError::QuoteRefused`] carries.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Quote {
    /// An exchange lock (user or partner).
    Exchange(ExchangeQuote),
    /// An order lock.
    Order(OrderQuote),
}

impl From<ExchangeQuote> for Quote {
    fn from(quote: ExchangeQuote) -> Self {
        Quote::Exchange(quote)
    }
}

impl From<OrderQuote> for Quote {
    fn from(quote: OrderQuote) -> Self {
        Quote::Order(quote)
    }
}

/// The execute request that was sent, exactly as sent.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExecuteRequest {
    /// `exchange_create`.
    Exchange(types::CreateExchangeRequest),
    /// `partner_create_exchange`.
    PartnerExchange(types::PartnerCreateExchangeRequest),
    /// `order_create`.
    Order(types::CreateOrderRequest),
}

impl ExecuteRequest {
    /// The spec's `operationId` of the execute call.
    pub fn operation_id(&self) -> &'static str {
        match self {
            ExecuteRequest::Exchange(_) => "exchange_create",
            ExecuteRequest::PartnerExchange(_) => "partner_create_exchange",
            ExecuteRequest::Order(_) => "order_create",
        }
    }

    /// The lock id the request carries.
    pub fn lock_id(&self) -> Option<Uuid> {
        match self {
            ExecuteRequest::Exchange(request) => Some(request.lock_id),
            ExecuteRequest::PartnerExchange(request) => Some(request.lock_id),
            ExecuteRequest::Order(request) => Some(request.lock_id),
        }
    }

    /// The JSON body that was sent.
    pub fn to_json(&self) -> serde_json::Value {
        let json = match self {
            ExecuteRequest::Exchange(request) => serde_json::to_value(request),
            ExecuteRequest::PartnerExchange(request) => serde_json::to_value(request),
            ExecuteRequest::Order(request) => serde_json::to_value(request),
        };
        json.unwrap_or(serde_json::Value::Null)
    }
}

impl From<types::CreateExchangeRequest> for ExecuteRequest {
    fn from(request: types::CreateExchangeRequest) -> Self {
        ExecuteRequest::Exchange(request)
    }
}

impl From<types::PartnerCreateExchangeRequest> for ExecuteRequest {
    fn from(request: types::PartnerCreateExchangeRequest) -> Self {
        ExecuteRequest::PartnerExchange(request)
    }
}

impl From<types::CreateOrderRequest> for ExecuteRequest {
    fn from(request: types::CreateOrderRequest) -> Self {
        ExecuteRequest::Order(request)
    }
}

/// How to find out what happened to an execute whose outcome is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconcile {
    operations: &'static [&'static str],
    advice: &'static str,
}

impl Reconcile {
    /// The operations (spec `operationId`s) that can tell.
    pub fn operations(&self) -> &'static [&'static str] {
        self.operations
    }

    /// What to do, in words.
    pub fn advice(&self) -> &'static str {
        self.advice
    }
}

impl fmt::Display for Reconcile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (operations: {})",
            self.advice,
            self.operations.join(", ")
        )
    }
}

/// An execute that may or may not have moved money: it must not be sent again before you know.
#[derive(Debug)]
#[non_exhaustive]
pub struct UnknownOutcome {
    /// The lock the execute used.
    pub lock_id: Uuid,
    /// The request that was sent.
    pub request: ExecuteRequest,
    /// What went wrong (a timeout, a lost connection, HTTP 5xx, `P500`, `P501`, an unreadable
    /// 2xx answer).
    pub error: Error,
    /// How to find out what happened.
    pub reconcile: Reconcile,
    /// How many locks were taken, this one included.
    pub locks_taken: u32,
}

impl fmt::Display for UnknownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the outcome of {} with lock {} is unknown ({}); it was not sent again. To reconcile: {}",
            self.request.operation_id(),
            self.lock_id,
            self.error,
            self.reconcile
        )
    }
}

/// Why [`LockThenExecute`] did not execute, or does not know whether it did.
///
/// Only [`LockError::UnknownOutcome`] may have moved money ([`LockError::may_have_executed`]);
/// after any other error nothing was executed and the whole flow may be started again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The request is incomplete or invalid; nothing was sent.
    #[error("invalid request: {0}; nothing was sent")]
    InvalidRequest(String),
    /// The lock could not be taken (after the client's retries); nothing was executed.
    #[error("could not take a rate lock: {0}")]
    Lock(#[source] Error),
    /// The quote was refused by the acceptance check; nothing was executed.
    #[error("the quote of lock {lock_id} was refused: {reason}")]
    QuoteRefused {
        /// The refused lock.
        lock_id: Uuid,
        /// Its quote.
        quote: Box<Quote>,
        /// Why it was refused.
        reason: String,
    },
    /// Every lock was rejected as invalid or expired (`P432`) or was too close to expiry to be
    /// used; nothing was executed.
    #[error("no usable rate lock after {locks} locks{}", match last { Some(e) => format!(": {e}"), None => String::new() })]
    LocksExhausted {
        /// How many locks were taken.
        locks: u32,
        /// The last `P432` answer, if the last lock was rejected.
        #[source]
        last: Option<Error>,
    },
    /// P100 refused the execute with a definite answer (validation, insufficient funds, same
    /// currencies, authentication, rate limit, …); nothing was executed.
    #[error("P100 refused to execute with lock {lock_id}: {error}")]
    Rejected {
        /// The lock the execute used.
        lock_id: Uuid,
        /// The request that was sent.
        request: Box<ExecuteRequest>,
        /// P100's answer.
        #[source]
        error: Error,
    },
    /// The execute could not be sent at all (no connection); nothing was executed.
    #[error("the execute with lock {lock_id} could not be sent: {error}")]
    NotSent {
        /// The lock the execute would have used.
        lock_id: Uuid,
        /// The connection error.
        #[source]
        error: Error,
    },
    /// The execute may have moved money: it was not sent again. Reconcile before retrying.
    #[error("{0}")]
    UnknownOutcome(Box<UnknownOutcome>),
}

impl LockError {
    /// Whether money may have moved: only for [`LockError::UnknownOutcome`].
    pub fn may_have_executed(&self) -> bool {
        matches!(self, LockError::UnknownOutcome(_))
    }

    /// The unknown outcome, if that is what this is.
    pub fn unknown_outcome(&self) -> Option<&UnknownOutcome> {
        match self {
            LockError::UnknownOutcome(unknown) => Some(unknown),
            _ => None,
        }
    }
}

/// An executed lock: P100 accepted the execute and returned the new id; the outcome comes later
/// (see [`Executed::id`] and [`crate::wait`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Executed<F: LockFlow> {
    /// The lock that was used.
    pub lock: F::Lock,
    /// P100's answer to the execute.
    pub created: F::Created,
    /// The request that was sent.
    pub request: ExecuteRequest,
    /// How many locks were taken, this one included.
    pub locks_taken: u32,
}

impl<F: LockFlow> Executed<F> {
    /// The id of what was created (exchange id, order id), for the details endpoint or a
    /// waiter.
    pub fn id(&self) -> String {
        sealed::Created::created_id(&self.created)
    }
}

/// A lock-then-execute flow failed, or its outcome did not end in a success state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecuteAndWaitError<T: Waitable> {
    /// Locking or executing failed (see [`LockError`]); only
    /// [`LockError::UnknownOutcome`] may have moved money.
    #[error(transparent)]
    Execute(LockError),
    /// P100 accepted the execute, but waiting for its outcome did not end in success: a failed
    /// state, a timeout or a failed poll (the id is [`WaitError::id`]).
    #[error(transparent)]
    Wait(WaitError<T>),
}

mod sealed {
    use std::time::Duration;

    pub trait Sealed {}

    /// A rate lock: its id, and how long it can still be used.
    pub trait RateLock {
        fn lock_id(&self) -> uuid::Uuid;
        fn validity_left(&self, since_requested: Duration) -> Duration;
    }

    /// P100's answer to an execute: the id of what it created.
    pub trait Created {
        fn created_id(&self) -> String;
    }
}

/// An exchange lock's own window (`validUntil − createdAt`), counted from the request.
impl sealed::RateLock for types::ExchangeLock {
    fn lock_id(&self) -> Uuid {
        self.id
    }

    fn validity_left(&self, since_requested: Duration) -> Duration {
        (self.valid_until - self.created_at)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .saturating_sub(since_requested)
    }
}

/// An order lock has only `expiresAt`: compared with this machine's clock.
impl sealed::RateLock for types::OrderLock {
    fn lock_id(&self) -> Uuid {
        self.lock_id
    }

    fn validity_left(&self, _since_requested: Duration) -> Duration {
        SystemTime::from(self.expires_at)
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }
}

impl sealed::Created for types::ExchangeCreated {
    fn created_id(&self) -> String {
        self.exchange_id.to_string()
    }
}

impl sealed::Created for types::OrderCreated {
    fn created_id(&self) -> String {
        self.order_id.to_string()
    }
}

/// One of the three lock-then-execute operations: [`UserExchange`], [`PartnerExchange`],
/// [`Order`]. Sealed; its methods are the SDK's own.
pub trait LockFlow: sealed::Sealed + Clone + fmt::Debug + Send + Sync + Sized + 'static {
    /// The validated request terms: the generated request type, without the lock id.
    type Terms: Clone + fmt::Debug + Send + Sync + 'static;
    /// The lock P100 returns.
    type Lock: sealed::RateLock + Clone + fmt::Debug + Send + Sync + 'static;
    /// What the acceptance check sees.
    type Quote: Clone + fmt::Debug + Send + Sync + Into<Quote> + 'static;
    /// The execute request.
    type Request: Clone + fmt::Debug + Send + Sync + Into<ExecuteRequest> + 'static;
    /// P100's answer to the execute.
    type Created: sealed::Created + Clone + fmt::Debug + Send + Sync + 'static;
    /// The record whose status tells the outcome.
    type Record: Waitable;

    #[doc(hidden)]
    fn terms(&self) -> Result<Self::Terms, String>;
    #[doc(hidden)]
    fn take_lock(
        client: &Client,
        terms: &Self::Terms,
    ) -> impl Future<Output = Result<Self::Lock, Error>> + Send;
    #[doc(hidden)]
    fn quote(terms: &Self::Terms, lock: &Self::Lock) -> Self::Quote;
    #[doc(hidden)]
    fn check_quote(&self, quote: &Self::Quote) -> Result<(), String>;
    #[doc(hidden)]
    fn request(terms: &Self::Terms, lock_id: Uuid) -> Self::Request;
    #[doc(hidden)]
    fn execute(
        client: &Client,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Created, Error>> + Send;
    #[doc(hidden)]
    fn reconcile() -> Reconcile;
}

/// Converts a setter's value, keeping the error for `send()` like the generated builders do.
fn convert<T, V>(value: V, field: &str, problems: &mut Vec<String>) -> Option<T>
where
    V: TryInto<T>,
    V::Error: fmt::Display,
{
    match value.try_into() {
        Ok(value) => Some(value),
        Err(error) => {
            problems.push(format!("{field}: {error}"));
            None
        }
    }
}

/// The first conversion problem, or the first missing field.
fn check(problems: &[String], required: &[(&str, bool)]) -> Result<(), String> {
    if let Some(problem) = problems.first() {
        return Err(problem.clone());
    }
    match required.iter().find(|(_, present)| !present) {
        Some((field, _)) => Err(format!("`{field}` is required")),
        None => Ok(()),
    }
}

/// Amount, currencies and worst acceptable rate: what both exchanges ask.
#[derive(Clone, Debug, Default)]
struct ExchangeTerms {
    amount: Option<DecimalNumber>,
    currency_from: Option<String>,
    currency_to: Option<String>,
    min_rate: Option<Decimal>,
    problems: Vec<String>,
}

impl ExchangeTerms {
    /// The validated amount and currencies.
    fn validated(&self, extra: &[(&str, bool)]) -> Result<(DecimalNumber, String, String), String> {
        let mut required = extra.to_vec();
        required.extend([
            ("amount", self.amount.is_some()),
            ("currency_from", self.currency_from.is_some()),
            ("currency_to", self.currency_to.is_some()),
        ]);
        check(&self.problems, &required)?;
        let (Some(amount), Some(from), Some(to)) = (
            self.amount,
            self.currency_from.clone(),
            self.currency_to.clone(),
        ) else {
            return Err("amount and currencies are required".into());
        };
        if amount.0 <= Decimal::ZERO {
            return Err(format!("the amount must be positive, not {amount}"));
        }
        if from.eq_ignore_ascii_case(&to) {
            return Err(format!(
                "currency_from and currency_to are both {from:?} (P100 would answer P457)"
            ));
        }
        Ok((amount, from, to))
    }

    fn check_quote(&self, quote: &ExchangeQuote) -> Result<(), String> {
        let Some(min_rate) = self.min_rate else {
            return Ok(());
        };
        match quote.rate() {
            Some(rate) if rate >= min_rate => Ok(()),
            Some(rate) => Err(format!(
                "the rate {rate} of {} in {} is below the minimum {min_rate}",
                quote.currency_from, quote.currency_to
            )),
            None => Err(format!(
                "the lock has no rate for {} or {}",
                quote.currency_from, quote.currency_to
            )),
        }
    }
}

fn exchange_quote(
    amount: DecimalNumber,
    from: &str,
    to: &str,
    lock: &types::ExchangeLock,
) -> ExchangeQuote {
    ExchangeQuote::new(lock.clone(), amount.0, from, to)
}

/// The exchange of a user's balance: `exchange_create_lock` → `exchange_create`.
#[derive(Clone, Debug, Default)]
pub struct UserExchange {
    external_user_id: Option<String>,
    terms: ExchangeTerms,
}

/// The exchange of the partner's own balance: `partner_create_exchange_lock` →
/// `partner_create_exchange`.
#[derive(Clone, Debug, Default)]
pub struct PartnerExchange {
    terms: ExchangeTerms,
}

/// An order (a crypto payment settled in fiat): `order_create_lock` → `order_create`.
#[derive(Clone, Debug, Default)]
pub struct Order {
    currency: Option<String>,
    amount: Option<DecimalString>,
    network: Option<String>,
    max_amount: Option<Decimal>,
    problems: Vec<String>,
}

impl sealed::Sealed for UserExchange {}
impl sealed::Sealed for PartnerExchange {}
impl sealed::Sealed for Order {}

impl LockFlow for UserExchange {
    type Terms = types::CreateExchangeRequest;
    type Lock = types::ExchangeLock;
    type Quote = ExchangeQuote;
    type Request = types::CreateExchangeRequest;
    type Created = types::ExchangeCreated;
    type Record = types::ExchangeDetails;

    fn terms(&self) -> Result<Self::Terms, String> {
        let (amount, from, to) = self
            .terms
            .validated(&[("external_user_id", self.external_user_id.is_some())])?;
        Ok(types::CreateExchangeRequest {
            amount,
            currency_from: from,
            currency_to: to,
            // Replaced by the lock's id in `request`; terms are never sent as they are.
            lock_id: Uuid::nil(),
            source_external_user_id: self.external_user_id.clone().unwrap_or_default(),
        })
    }

    async fn take_lock(client: &Client, terms: &Self::Terms) -> Result<Self::Lock, Error> {
        let request = client
            .raw()
            .exchange_create_lock()
            .external_user_id(terms.source_external_user_id.clone());
        client.call(request.send()).await
    }

    fn quote(terms: &Self::Terms, lock: &Self::Lock) -> Self::Quote {
        exchange_quote(terms.amount, &terms.currency_from, &terms.currency_to, lock)
    }

    fn check_quote(&self, quote: &Self::Quote) -> Result<(), String> {
        self.terms.check_quote(quote)
    }

    fn request(terms: &Self::Terms, lock_id: Uuid) -> Self::Request {
        types::CreateExchangeRequest {
            lock_id,
            ..terms.clone()
        }
    }

    async fn execute(client: &Client, request: Self::Request) -> Result<Self::Created, Error> {
        client
            .call(client.raw().exchange_create().body(request).send())
            .await
    }

    fn reconcile() -> Reconcile {
        Reconcile {
            operations: &["user_get_transaction_history", "exchange_get"],
            advice: "no exchangeId came back: look for an exchange with this lockId in the \
                     user's transaction history of this month, or wait for the Exchange webhook; \
                     with its exchangeId, exchange_get (Client::wait_for_exchange) tells the \
                     outcome. Do not execute again until you know this one did not happen",
        }
    }
}

impl LockFlow for PartnerExchange {
    type Terms = types::PartnerCreateExchangeRequest;
    type Lock = types::ExchangeLock;
    type Quote = ExchangeQuote;
    type Request = types::PartnerCreateExchangeRequest;
    type Created = types::ExchangeCreated;
    type Record = types::ExchangeDetails;

    fn terms(&self) -> Result<Self::Terms, String> {
        let (amount, currency_from, currency_to) = self.terms.validated(&[])?;
        Ok(types::PartnerCreateExchangeRequest {
            amount,
            currency_from,
            currency_to,
            lock_id: Uuid::nil(),
        })
    }

    async fn take_lock(client: &Client, _terms: &Self::Terms) -> Result<Self::Lock, Error> {
        client
            .call(client.raw().partner_create_exchange_lock().send())
            .await
    }

    fn quote(terms: &Self::Terms, lock: &Self::Lock) -> Self::Quote {
        exchange_quote(terms.amount, &terms.currency_from, &terms.currency_to, lock)
    }

    fn check_quote(&self, quote: &Self::Quote) -> Result<(), String> {
        self.terms.check_quote(quote)
    }

    fn request(terms: &Self::Terms, lock_id: Uuid) -> Self::Request {
        types::PartnerCreateExchangeRequest {
            lock_id,
            ..terms.clone()
        }
    }

    async fn execute(client: &Client, request: Self::Request) -> Result<Self::Created, Error> {
        client
            .call(client.raw().partner_create_exchange().body(request).send())
            .await
    }

    fn reconcile() -> Reconcile {
        Reconcile {
            operations: &["partner_get_transaction_history", "exchange_get"],
            advice: "no exchangeId came back: look for an exchange with this lockId in the \
                     partner's transaction history of this month, or wait for the Exchange \
                     webhook; with its exchangeId, exchange_get (Client::wait_for_exchange) tells \
                     the outcome. Do not execute again until you know this one did not happen",
        }
    }
}

impl LockFlow for Order {
    type Terms = types::CreateOrderLockRequest;
    type Lock = types::OrderLock;
    type Quote = OrderQuote;
    type Request = types::CreateOrderRequest;
    type Created = types::OrderCreated;
    type Record = types::OrderDetails;

    fn terms(&self) -> Result<Self::Terms, String> {
        check(
            &self.problems,
            &[
                ("currency", self.currency.is_some()),
                ("amount", self.amount.is_some()),
                ("network", self.network.is_some()),
            ],
        )?;
        let (Some(currency), Some(amount), Some(network)) =
            (self.currency.clone(), self.amount, self.network.clone())
        else {
            return Err("currency, amount and network are required".into());
        };
        if amount.0 <= Decimal::ZERO {
            return Err(format!("the amount must be positive, not {amount}"));
        }
        Ok(types::CreateOrderLockRequest {
            amount,
            currency,
            network,
        })
    }

    async fn take_lock(client: &Client, terms: &Self::Terms) -> Result<Self::Lock, Error> {
        client
            .call(client.raw().order_create_lock().body(terms.clone()).send())
            .await
    }

    fn quote(terms: &Self::Terms, lock: &Self::Lock) -> Self::Quote {
        OrderQuote {
            lock: lock.clone(),
            requested_amount: terms.amount.0,
        }
    }

    fn check_quote(&self, quote: &Self::Quote) -> Result<(), String> {
        match self.max_amount {
            Some(max) if quote.amount_to_pay() > max => Err(format!(
                "the amount to pay {} is above the maximum {max}",
                quote.amount_to_pay()
            )),
            _ => Ok(()),
        }
    }

    fn request(_terms: &Self::Terms, lock_id: Uuid) -> Self::Request {
        types::CreateOrderRequest { lock_id }
    }

    async fn execute(client: &Client, request: Self::Request) -> Result<Self::Created, Error> {
        client
            .call(client.raw().order_create().body(request).send())
            .await
    }

    fn reconcile() -> Reconcile {
        Reconcile {
            operations: &["partner_get_transaction_history", "order_get"],
            advice: "no orderId came back: wait for the Order status webhook, or look for the \
                     order in the partner's transaction history; order_get with its orderId \
                     shows the lockId it used. Do not place the order again until you know this \
                     one did not happen",
        }
    }
}

/// A caller's acceptance check of a quote.
type AcceptCheck<Q> = dyn Fn(&Q) -> bool + Send + Sync;
type AcceptFn<Q> = Arc<AcceptCheck<Q>>;

/// Takes a rate lock, checks its quote, executes before it expires, renews it after `P432`, and
/// never sends an execute twice. Made by [`Client::lock_then_exchange`],
/// [`Client::lock_then_partner_exchange`] and [`Client::lock_then_order`].
///
/// Setters keep conversion errors until [`send`](Self::send), like the generated builders.
///
/// ```no_run
/// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use p100_ergonomic::lock::LockError;
///
/// match client
///     .lock_then_exchange()
///     .external_user_id("user-42")
///     .amount("0.5")
///     .currency_from("eth")
///     .currency_to("eur")
///     .min_rate("3300")               // refuse a worse rate (EUR per ETH)
///     .send()
///     .await
/// {
///     Ok(executed) => println!("exchange {} accepted", executed.id()),
///     Err(LockError::QuoteRefused { reason, .. }) => println!("not now: {reason}"),
///     Err(error) if error.may_have_executed() => {
///         // Never retry blindly: find out first.
///         let unknown = error.unknown_outcome().map(|u| u.reconcile.to_string());
///         eprintln!("{error}; {unknown:?}");
///     }
///     Err(error) => println!("nothing happened: {error}"),
/// }
/// # Ok(()) }
/// ```
#[must_use = "nothing is locked or executed until `send` is awaited"]
pub struct LockThenExecute<F: LockFlow> {
    client: Client,
    flow: F,
    accept: Option<AcceptFn<F::Quote>>,
    policy: LockPolicy,
}

impl<F: LockFlow> fmt::Debug for LockThenExecute<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockThenExecute")
            .field("flow", &self.flow)
            .field(
                "accept",
                &self.accept.as_ref().map(|_| "Fn(&Quote) -> bool"),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

impl<F: LockFlow + Default> LockThenExecute<F> {
    fn new(client: &Client) -> Self {
        LockThenExecute {
            client: client.clone(),
            flow: F::default(),
            accept: None,
            policy: LockPolicy::default(),
        }
    }
}

impl<F: LockFlow> LockThenExecute<F> {
    /// Your own acceptance check: it sees each lock's quote and returns whether to execute at it
    /// (default: accept). Runs after the built-in limits.
    pub fn accept(mut self, check: impl Fn(&F::Quote) -> bool + Send + Sync + 'static) -> Self {
        self.accept = Some(Arc::new(check));
        self
    }

    /// The safety margin and lock budget (default [`LockPolicy::default`]).
    pub fn policy(mut self, policy: LockPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Locks, checks the quote and executes. `Ok` when P100 accepted the execute; its outcome
    /// comes later ([`send_and_wait`](Self::send_and_wait) waits for it).
    pub async fn send(self) -> Result<Executed<F>, LockError> {
        let span = tracing::info_span!("p100.lock_then_execute", kind = F::Record::KIND);
        run(
            &self.client,
            &self.flow,
            self.accept.as_deref(),
            &self.policy,
        )
        .instrument(span)
        .await
    }

    /// [`send`](Self::send), then waits for the outcome under `policy`.
    pub async fn send_and_wait(
        self,
        policy: WaitPolicy,
    ) -> Result<Settled<F::Record>, ExecuteAndWaitError<F::Record>> {
        let client = self.client.clone();
        let executed = self.send().await.map_err(ExecuteAndWaitError::Execute)?;
        client
            .wait_until_final::<F::Record>(executed.id())
            .policy(policy)
            .wait()
            .await
            .map_err(ExecuteAndWaitError::Wait)
    }
}

macro_rules! exchange_setters {
    ($($flow:ty),*) => {$(
        impl LockThenExecute<$flow> {
            /// The amount of `currency_from` to exchange (required; a decimal, or text such as
            /// `"0.5"`).
            pub fn amount<V>(mut self, amount: V) -> Self
            where
                V: TryInto<DecimalNumber>,
                V::Error: fmt::Display,
            {
                self.flow.terms.amount = convert(amount, "amount", &mut self.flow.terms.problems);
                self
            }

            /// The currency to sell, lowercase (required).
            pub fn currency_from(mut self, currency: impl Into<String>) -> Self {
                self.flow.terms.currency_from = Some(currency.into());
                self
            }

            /// The currency to buy, lowercase (required).
            pub fn currency_to(mut self, currency: impl Into<String>) -> Self {
                self.flow.terms.currency_to = Some(currency.into());
                self
            }

            /// The worst acceptable rate: how much `currency_to` one `currency_from` must at
            /// least fetch, before the fee (see [`ExchangeQuote::rate`]). A lock below it is
            /// refused ([`LockError::QuoteRefused`]). Default: no limit.
            pub fn min_rate<V>(mut self, rate: V) -> Self
            where
                V: TryInto<DecimalNumber>,
                V::Error: fmt::Display,
            {
                self.flow.terms.min_rate =
                    convert::<DecimalNumber, V>(rate, "min_rate", &mut self.flow.terms.problems)
                        .map(DecimalNumber::value);
                self
            }
        }
    )*};
}

exchange_setters!(UserExchange, PartnerExchange);

impl LockThenExecute<UserExchange> {
    /// The partner's id of the user whose balance is exchanged (required).
    pub fn external_user_id(mut self, user: impl Into<String>) -> Self {
        self.flow.external_user_id = Some(user.into());
        self
    }
}

impl LockThenExecute<Order> {
    /// The crypto the order is paid in, lowercase (required), e.g. `usdc`.
    pub fn currency(mut self, currency: impl Into<String>) -> Self {
        self.flow.currency = Some(currency.into());
        self
    }

    /// The settlement (fiat) amount (required; a decimal, or text such as `"346.59"`).
    pub fn amount<V>(mut self, amount: V) -> Self
    where
        V: TryInto<DecimalString>,
        V::Error: fmt::Display,
    {
        self.flow.amount = convert(amount, "amount", &mut self.flow.problems);
        self
    }

    /// The blockchain network of the payment, lowercase (required), e.g. `polygon`.
    pub fn network(mut self, network: impl Into<String>) -> Self {
        self.flow.network = Some(network.into());
        self
    }

    /// The most crypto the payer may be asked to send: a lock quoting more is refused
    /// ([`LockError::QuoteRefused`]). Default: no limit.
    pub fn max_amount<V>(mut self, amount: V) -> Self
    where
        V: TryInto<DecimalNumber>,
        V::Error: fmt::Display,
    {
        self.flow.max_amount =
            convert::<DecimalNumber, V>(amount, "max_amount", &mut self.flow.problems)
                .map(DecimalNumber::value);
        self
    }
}

/// The one lock-then-execute loop, shared by the three flows.
async fn run<F: LockFlow>(
    client: &Client,
    flow: &F,
    accept: Option<&AcceptCheck<F::Quote>>,
    policy: &LockPolicy,
) -> Result<Executed<F>, LockError> {
    let terms = flow.terms().map_err(LockError::InvalidRequest)?;
    let mut last_rejection = None;
    for locks_taken in 1..=policy.max_locks {
        let requested = Instant::now();
        let lock = F::take_lock(client, &terms)
            .await
            .map_err(LockError::Lock)?;
        let lock_id = lock.lock_id();
        let left = lock.validity_left(requested.elapsed());
        let usable_until = Instant::now() + left.saturating_sub(policy.safety_margin);
        tracing::debug!(%lock_id, validity_left = ?left, "rate lock taken");

        let quote = F::quote(&terms, &lock);
        let refusal = match flow.check_quote(&quote) {
            Err(reason) => Some(reason),
            Ok(()) if accept.is_some_and(|accept| !accept(&quote)) => {
                Some("refused by the acceptance check".to_string())
            }
            Ok(()) => None,
        };
        if let Some(reason) = refusal {
            tracing::info!(%lock_id, %reason, "quote refused; nothing executed");
            return Err(LockError::QuoteRefused {
                lock_id,
                quote: Box::new(quote.into()),
                reason,
            });
        }

        if Instant::now() >= usable_until {
            tracing::warn!(
                %lock_id,
                safety_margin = ?policy.safety_margin,
                "rate lock too close to expiry; taking a new one instead of executing"
            );
            last_rejection = None;
            continue;
        }

        let request = F::request(&terms, lock_id);
        let sent: ExecuteRequest = request.clone().into();
        match F::execute(client, request).await {
            Ok(created) => {
                tracing::info!(%lock_id, locks_taken, "executed at the locked rate");
                return Ok(Executed {
                    lock,
                    created,
                    request: sent,
                    locks_taken,
                });
            }
            Err(error) if error.code() == Some(&ErrorCode::InvalidExchangeLock) => {
                tracing::info!(%lock_id, "P432: lock invalid or expired, nothing executed; taking a new one");
                last_rejection = Some(error);
            }
            Err(error) => return Err(failed_execute::<F>(lock_id, sent, error, locks_taken)),
        }
    }
    Err(LockError::LocksExhausted {
        locks: policy.max_locks,
        last: last_rejection,
    })
}

/// Sorts a failed execute into "nothing moved" and "unknown".
fn failed_execute<F: LockFlow>(
    lock_id: Uuid,
    request: ExecuteRequest,
    error: Error,
    locks_taken: u32,
) -> LockError {
    if never_sent(&error) {
        return LockError::NotSent { lock_id, error };
    }
    if refused_before_executing(&error) {
        return LockError::Rejected {
            lock_id,
            request: Box::new(request),
            error,
        };
    }
    tracing::warn!(
        %lock_id,
        operation = request.operation_id(),
        error = %error,
        "execute outcome unknown; not sending it again"
    );
    LockError::UnknownOutcome(Box::new(UnknownOutcome {
        lock_id,
        request,
        error,
        reconcile: F::reconcile(),
        locks_taken,
    }))
}

/// The request never left: it could not be built, or no connection was made.
fn never_sent(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Config | ErrorKind::InvalidRequest | ErrorKind::InvalidUpload => true,
        // A connect timeout is a timeout *and* a connect error: still nothing was sent.
        ErrorKind::Transport | ErrorKind::Timeout => std::error::Error::source(error)
            .and_then(|source| source.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_connect),
        _ => false,
    }
}

/// P100 answered with a definite refusal: a 4xx other than `P500`/`P501`. A 5xx (a gateway's
/// 502 or 504 may come after P100 executed), `P500` ("unknown exception") and `P501` are not.
fn refused_before_executing(error: &Error) -> bool {
    let Some(api) = error.api() else {
        return false;
    };
    let unknown_code = matches!(
        api.code(),
        Some(ErrorCode::UnknownException | ErrorCode::ServiceUnavailable)
    );
    api.status().is_client_error() && !unknown_code
}

impl Client {
    /// Exchanges a user's balance at a locked rate (`exchange_create_lock` →
    /// `exchange_create`): see [`LockThenExecute`].
    pub fn lock_then_exchange(&self) -> LockThenExecute<UserExchange> {
        LockThenExecute::new(self)
    }

    /// Exchanges the partner's own balance at a locked rate (`partner_create_exchange_lock` →
    /// `partner_create_exchange`): see [`LockThenExecute`].
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let executed = client
    ///     .lock_then_partner_exchange()
    ///     .amount("100")
    ///     .currency_from("usdt")
    ///     .currency_to("eur")
    ///     .accept(|quote| quote.fee_percentage() <= "1.5".parse().unwrap_or_default())
    ///     .send()
    ///     .await?;
    /// println!("exchange {} (lock {})", executed.id(), executed.lock.id);
    /// # Ok(()) }
    /// ```
    pub fn lock_then_partner_exchange(&self) -> LockThenExecute<PartnerExchange> {
        LockThenExecute::new(self)
    }

    /// Places an order at a locked rate (`order_create_lock` → `order_create`): see
    /// [`LockThenExecute`].
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let order = client
    ///     .lock_then_order()
    ///     .currency("usdc")
    ///     .amount("346.59")          // EUR to receive
    ///     .network("polygon")
    ///     .max_amount("420")         // USDC the payer may be asked for, at most
    ///     .send()
    ///     .await?;
    /// println!("order {}: pay {} usdc", order.id(), order.lock.amount);
    /// # Ok(()) }
    /// ```
    pub fn lock_then_order(&self) -> LockThenExecute<Order> {
        LockThenExecute::new(self)
    }

    /// One call for the common case: exchange `amount` of a user's `from` into `to` at a locked
    /// rate (default [`LockPolicy`]), then wait for the exchange to be `COMPLETED` under
    /// `policy`. Use [`lock_then_exchange`](Self::lock_then_exchange) for a rate limit or your
    /// own checks.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use p100_ergonomic::{ExecuteAndWaitError, WaitPolicy};
    ///
    /// match client.exchange_and_wait("user-42", "0.5", "eth", "eur", WaitPolicy::default()).await {
    ///     Ok(done) => println!("exchanged: {:?}", done.record),
    ///     Err(ExecuteAndWaitError::Wait(error)) => {
    ///         // Executed: the exchange exists, its id is error.id(); it did not complete (yet).
    ///         println!("exchange {}: {error}", error.id())
    ///     }
    ///     Err(ExecuteAndWaitError::Execute(error)) => println!("{error}"),
    ///     Err(other) => println!("{other}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn exchange_and_wait<A>(
        &self,
        external_user_id: impl Into<String>,
        amount: A,
        from: impl Into<String>,
        to: impl Into<String>,
        policy: WaitPolicy,
    ) -> Result<Settled<types::ExchangeDetails>, ExecuteAndWaitError<types::ExchangeDetails>>
    where
        A: TryInto<DecimalNumber>,
        A::Error: fmt::Display,
    {
        self.lock_then_exchange()
            .external_user_id(external_user_id)
            .amount(amount)
            .currency_from(from)
            .currency_to(to)
            .send_and_wait(policy)
            .await
    }

    /// [`exchange_and_wait`](Self::exchange_and_wait) for the partner's own balance.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let done = client
    ///     .partner_exchange_and_wait("100", "usdt", "eur", p100_ergonomic::WaitPolicy::default())
    ///     .await?;
    /// println!("{:?} after {} polls", done.status, done.polls);
    /// # Ok(()) }
    /// ```
    pub async fn partner_exchange_and_wait<A>(
        &self,
        amount: A,
        from: impl Into<String>,
        to: impl Into<String>,
        policy: WaitPolicy,
    ) -> Result<Settled<types::ExchangeDetails>, ExecuteAndWaitError<types::ExchangeDetails>>
    where
        A: TryInto<DecimalNumber>,
        A::Error: fmt::Display,
    {
        self.lock_then_partner_exchange()
            .amount(amount)
            .currency_from(from)
            .currency_to(to)
            .send_and_wait(policy)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_checked_before_anything_is_sent() {
        let mut flow = UserExchange::default();
        assert_eq!(
            flow.terms().err().as_deref(),
            Some("`external_user_id` is required")
        );
        flow.external_user_id = Some("u".into());
        flow.terms.amount = Some(DecimalNumber::from(1i64));
        flow.terms.currency_from = Some("eth".into());
        flow.terms.currency_to = Some("ETH".into());
        assert!(flow.terms().is_err_and(|e| e.contains("P457")));
        flow.terms.currency_to = Some("eur".into());
        assert!(flow.terms().is_ok());
        flow.terms
            .problems
            .push("amount: \"x\" is not a decimal number".into());
        assert!(flow.terms().is_err_and(|e| e.starts_with("amount")));
    }

    #[tokio::test]
    async fn a_refused_connection_was_not_sent() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port());
        let client = closed.ok().and_then(|port| {
            Client::builder()
                .api_key("k")
                .base_url(format!("http://127.0.0.1:{port}"))
                .retry(crate::RetryPolicy::none())
                .build()
                .ok()
        });
        let Some(client) = client else {
            panic!("no loopback client");
        };
        let request = types::CreateOrderRequest {
            lock_id: Uuid::nil(),
        };
        let result = client
            .call(client.raw().order_create().body(request.clone()).send())
            .await;
        let Err(error) = result else {
            panic!("nothing listens there");
        };
        assert!(never_sent(&error), "{error:?}");
        let outcome = failed_execute::<Order>(Uuid::nil(), request.into(), error, 1);
        assert!(matches!(outcome, LockError::NotSent { .. }), "{outcome:?}");
        assert!(!outcome.may_have_executed());
    }

    #[test]
    fn request_carries_the_lock() {
        let mut flow = PartnerExchange::default();
        flow.terms.amount = Some(DecimalNumber::from(10i64));
        flow.terms.currency_from = Some("eth".into());
        flow.terms.currency_to = Some("eur".into());
        let lock = Uuid::from_u128(7);
        let request = flow
            .terms()
            .map(|terms| PartnerExchange::request(&terms, lock));
        assert_eq!(request.map(|r| r.lock_id), Ok(lock));
    }
}
