//! The builder users hold: `LockThenExecute`, its setters (which keep conversion errors until
//! `send`, like the generated builders), `send` and `send_and_wait`, and the `Client` methods
//! that make one or run the common exchange-and-wait case. What a flow sends is in `flows`, the
//! loop `send` runs is in `run`.

use std::fmt;
use std::sync::Arc;

use tracing::Instrument;

use super::flows::{LockFlow, Order, PartnerExchange, UserExchange};
use super::outcome::{ExecuteAndWaitError, Executed, LockError};
use super::policy::LockPolicy;
#[cfg(doc)]
use super::quote::ExchangeQuote;
use super::run::run;
use crate::money::{Amount, Currency, Network};
use crate::types::{self, DecimalNumber, DecimalString};
use crate::wait::{Succeeded, WaitPolicy, Waitable};
use crate::Client;

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

/// Converts an amount setter's value; its error (which names the value) is kept for `send()` as
/// it is, so that every path refuses a bad amount with the same words.
fn convert_amount<V>(value: V, problems: &mut Vec<String>) -> Option<Amount>
where
    V: TryInto<Amount>,
    V::Error: fmt::Display,
{
    match value.try_into() {
        Ok(amount) => Some(amount),
        Err(error) => {
            problems.push(error.to_string());
            None
        }
    }
}

/// A caller's acceptance check of a quote.
pub(super) type AcceptCheck<Q> = dyn Fn(&Q) -> bool + Send + Sync;
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
    ) -> Result<Succeeded<F::Record>, ExecuteAndWaitError<F::Record>> {
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
            /// What to sell: `amount` of `currency` (required). Sets what
            /// [`amount`](Self::amount) and [`currency_from`](Self::currency_from) set, with
            /// the types that keep them apart.
            pub fn sell(mut self, amount: Amount, currency: Currency) -> Self {
                self.flow.terms.amount = Some(DecimalNumber::from(amount));
                self.flow.terms.currency_from = Some(currency.as_str().to_string());
                self
            }

            /// The currency to buy (required); what [`currency_to`](Self::currency_to) sets.
            pub fn buy(mut self, currency: Currency) -> Self {
                self.flow.terms.currency_to = Some(currency.as_str().to_string());
                self
            }

            /// The amount of `currency_from` to exchange (required): an [`Amount`], or what
            /// makes one (text such as `"0.5"`, a `Decimal`, an integer). Zero, negative and
            /// malformed amounts are refused by `send`, before anything is sent.
            pub fn amount<V>(mut self, amount: V) -> Self
            where
                V: TryInto<Amount>,
                V::Error: fmt::Display,
            {
                self.flow.terms.amount =
                    convert_amount(amount, &mut self.flow.terms.problems).map(DecimalNumber::from);
                self
            }

            /// The currency to sell (required): a [`Currency`], or its code in any case.
            pub fn currency_from(mut self, currency: impl Into<Currency>) -> Self {
                self.flow.terms.currency_from = Some(currency.into().as_str().to_string());
                self
            }

            /// The currency to buy (required): a [`Currency`], or its code in any case.
            pub fn currency_to(mut self, currency: impl Into<Currency>) -> Self {
                self.flow.terms.currency_to = Some(currency.into().as_str().to_string());
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

    /// The user whose balance is exchanged (required): the partner's id of the user, as
    /// [`external_user_id`](Self::external_user_id).
    pub fn user(self, external_user_id: impl Into<String>) -> Self {
        self.external_user_id(external_user_id)
    }
}

impl LockThenExecute<Order> {
    /// The settlement (fiat) amount to receive (required); what [`amount`](Self::amount) sets.
    pub fn receive(mut self, amount: Amount) -> Self {
        self.flow.amount = Some(DecimalString::from(amount));
        self
    }

    /// The crypto the payer pays in and its network (required); what
    /// [`currency`](Self::currency) and [`network`](Self::network) set.
    pub fn paid_in(mut self, currency: Currency, network: Network) -> Self {
        self.flow.currency = Some(currency.as_str().to_string());
        self.flow.network = Some(network.as_str().to_string());
        self
    }

    /// The crypto the order is paid in (required): a [`Currency`], or its code in any case.
    pub fn currency(mut self, currency: impl Into<Currency>) -> Self {
        self.flow.currency = Some(currency.into().as_str().to_string());
        self
    }

    /// The settlement (fiat) amount (required): an [`Amount`], or what makes one (text such as
    /// `"346.59"`, a `Decimal`, an integer).
    pub fn amount<V>(mut self, amount: V) -> Self
    where
        V: TryInto<Amount>,
        V::Error: fmt::Display,
    {
        self.flow.amount = convert_amount(amount, &mut self.flow.problems).map(DecimalString::from);
        self
    }

    /// The blockchain network of the payment (required): a [`Network`], or its name in any
    /// case.
    pub fn network(mut self, network: impl Into<Network>) -> Self {
        self.flow.network = Some(network.into().as_str().to_string());
        self
    }

    /// The most crypto the payer may be asked to send: a lock quoting more is refused
    /// ([`LockError::QuoteRefused`]). Default: no limit. An [`Amount`], or what makes one.
    pub fn max_amount<V>(mut self, amount: V) -> Self
    where
        V: TryInto<Amount>,
        V::Error: fmt::Display,
    {
        self.flow.max_amount = convert_amount(amount, &mut self.flow.problems).map(Amount::value);
        self
    }
}

impl Client {
    /// Exchanges a user's balance at a locked rate (`exchange_create_lock` →
    /// `exchange_create`), with named terms: see [`LockThenExecute`].
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use p100_ergonomic::{Amount, Currency, WaitPolicy};
    ///
    /// let done = client
    ///     .exchange()
    ///     .user("user-42")
    ///     .sell(Amount::try_from("100")?, Currency::Eur)
    ///     .buy(Currency::Btc)
    ///     .min_rate("0.0000095")      // at least this much BTC per EUR, before the fee
    ///     .send_and_wait(WaitPolicy::default())
    ///     .await?;
    /// println!("exchange {} is {}", done.id, done.status);
    /// # Ok(()) }
    /// ```
    pub fn exchange(&self) -> LockThenExecute<UserExchange> {
        LockThenExecute::new(self)
    }

    /// Exchanges the partner's own balance at a locked rate (`partner_create_exchange_lock` →
    /// `partner_create_exchange`), with named terms: see [`LockThenExecute`].
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use p100_ergonomic::{Amount, Currency};
    ///
    /// let executed = client
    ///     .partner_exchange()
    ///     .sell(Amount::try_from(100)?, Currency::Usdt)
    ///     .buy(Currency::Eur)
    ///     .send()
    ///     .await?;
    /// println!("exchange {}", executed.id());
    /// # Ok(()) }
    /// ```
    pub fn partner_exchange(&self) -> LockThenExecute<PartnerExchange> {
        LockThenExecute::new(self)
    }

    /// Places an order at a locked rate (`order_create_lock` → `order_create`), with named
    /// terms: see [`LockThenExecute`].
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use p100_ergonomic::{Amount, Currency, Network};
    ///
    /// let order = client
    ///     .order()
    ///     .receive(Amount::try_from("346.59")?)           // EUR
    ///     .paid_in(Currency::Usdc, Network::Polygon)
    ///     .max_amount(Amount::try_from(420)?)              // USDC the payer may be asked for
    ///     .send()
    ///     .await?;
    /// println!("order {}: pay {} usdc", order.id(), order.lock.amount);
    /// # Ok(()) }
    /// ```
    pub fn order(&self) -> LockThenExecute<Order> {
        LockThenExecute::new(self)
    }

    /// Exchanges a user's balance at a locked rate (`exchange_create_lock` →
    /// `exchange_create`): see [`LockThenExecute`]. The same builder as
    /// [`exchange`](Self::exchange).
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
        from: impl Into<Currency>,
        to: impl Into<Currency>,
        policy: WaitPolicy,
    ) -> Result<Succeeded<types::ExchangeDetails>, ExecuteAndWaitError<types::ExchangeDetails>>
    where
        A: TryInto<Amount>,
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
    /// println!("{} after {} polls", done.status, done.polls);
    /// # Ok(()) }
    /// ```
    pub async fn partner_exchange_and_wait<A>(
        &self,
        amount: A,
        from: impl Into<Currency>,
        to: impl Into<Currency>,
        policy: WaitPolicy,
    ) -> Result<Succeeded<types::ExchangeDetails>, ExecuteAndWaitError<types::ExchangeDetails>>
    where
        A: TryInto<Amount>,
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
