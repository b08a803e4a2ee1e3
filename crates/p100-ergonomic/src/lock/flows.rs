//! The three lock-then-execute operations, all in one place: the user exchange, the partner
//! exchange and the order, each with its terms and their validation, the lock and execute calls
//! it makes, its quote check and how to reconcile an unknown outcome; the execute request as it
//! was sent; and what the SDK reads of their locks (id, validity left) and answers (the created
//! id). The builder that sets the terms is in `builder`, the loop that runs a flow in `run`.

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use rust_decimal::Decimal;
use uuid::Uuid;

use super::outcome::Reconcile;
use super::quote::{ExchangeQuote, OrderQuote, Quote};
use super::sealed;
use crate::error::Error;
use crate::types::{self, DecimalNumber, DecimalString};
use crate::wait::Waitable;
use crate::Client;

/// The execute request that was sent, exactly as sent (it serializes as that body).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
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

    /// The JSON body that was sent, exactly as sent (amounts with every digit).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The JSON body that was sent, as a `serde_json::Value`: its numbers go through `f64`, so a
    /// JSON-number amount with more than about 15 significant digits is rounded; use
    /// [`ExecuteRequest::to_json_string`] to show or store it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
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
pub(super) struct ExchangeTerms {
    pub(super) amount: Option<DecimalNumber>,
    pub(super) currency_from: Option<String>,
    pub(super) currency_to: Option<String>,
    pub(super) min_rate: Option<Decimal>,
    pub(super) problems: Vec<String>,
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
    pub(super) external_user_id: Option<String>,
    pub(super) terms: ExchangeTerms,
}

/// The exchange of the partner's own balance: `partner_create_exchange_lock` →
/// `partner_create_exchange`.
#[derive(Clone, Debug, Default)]
pub struct PartnerExchange {
    pub(super) terms: ExchangeTerms,
}

/// An order (a crypto payment settled in fiat): `order_create_lock` → `order_create`.
#[derive(Clone, Debug, Default)]
pub struct Order {
    pub(super) currency: Option<String>,
    pub(super) amount: Option<DecimalString>,
    pub(super) network: Option<String>,
    pub(super) max_amount: Option<Decimal>,
    pub(super) problems: Vec<String>,
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
        client
            .exchange_create_lock()
            .external_user_id(terms.source_external_user_id.clone())
            .send()
            .await
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
        client.exchange_create().body(request).send().await
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
        client.partner_create_exchange_lock().send().await
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
        client.partner_create_exchange().body(request).send().await
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
        client.order_create_lock().body(terms.clone()).send().await
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
        client.order_create().body(request).send().await
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
