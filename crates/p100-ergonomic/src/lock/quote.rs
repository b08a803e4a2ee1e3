//! What the acceptance check sees of a lock: the quote of an exchange lock (its exact rate and
//! an estimate of the proceeds), of an order lock, and of either. Checking a quote against the
//! caller's limits belongs to `flows`.

use rust_decimal::Decimal;

#[cfg(doc)]
use super::outcome::LockError;
use crate::types;

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
