//! Exchanges at a locked rate: the `Exchange` record, its create step (the currencies and the
//! amount checked, the lock taken, the exchange priced) and its settlement, which credits the
//! target currency and sends the `exchange` webhook. The lock itself belongs to `locks`, the
//! details answer to `views`.

use p100_api::types;
use p100_api::webhooks::kind;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::Holder;
use super::movement::{movement, Movement, Outcome};
use super::scheduler::Event;
use super::views::{exchange_status, WithError};
use super::{check_amount, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Debug)]
pub(crate) struct Exchange {
    pub(super) owner: Holder,
    pub(super) amount: Decimal,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) lock_id: Uuid,
    pub(super) rate: Decimal,
    pub(super) amount_to: Decimal,
    pub(super) reserved: bool,
    pub(super) outcome: Outcome,
    pub(super) created_at: VTime,
}

movement!(Exchange, exchanges, SettleExchange, |e| Some((
    e.owner.clone(),
    e.from.clone(),
    e.amount
)));

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_exchange(
        &mut self,
        owner: Holder,
        amount: Decimal,
        from: &str,
        to: &str,
        lock_id: Uuid,
        force_expired: bool,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        self.check_holder(&owner)?;
        if from == to {
            return Err(ApiError::same_currencies());
        }
        for (field, currency) in [("currencyFrom", from), ("currencyTo", to)] {
            if !money::is_supported(currency) {
                return Err(ApiError::validation(format!(
                    "{field} must be one of the following values: {}",
                    money::CURRENCIES.join(", ")
                )));
            }
        }
        check_amount("amount", amount, from)?;
        let lock = self
            .locks
            .get_mut(&lock_id)
            .ok_or_else(|| ApiError::invalid_lock(format!("Lock {lock_id} does not exist")))?;
        if lock.owner != owner {
            return Err(ApiError::invalid_lock(format!(
                "Lock {lock_id} belongs to another account"
            )));
        }
        lock.validity.take("Lock", lock_id, force_expired, now)?;
        let rate_from = lock.rates.get(from).copied().unwrap_or(Decimal::ONE);
        let rate_to = lock.rates.get(to).copied().unwrap_or(Decimal::ONE);
        let fee = lock.fee_percentage;
        let rate = if rate_to.is_zero() {
            Decimal::ZERO
        } else {
            (rate_from / rate_to).round_dp(16)
        };
        let gross = if rate_to.is_zero() {
            Decimal::ZERO
        } else {
            amount * rate_from / rate_to
        };
        let amount_to = money::quantize(to, gross * (Decimal::ONE - fee / Decimal::ONE_HUNDRED));
        let exchange = Exchange {
            owner,
            amount,
            from: from.to_string(),
            to: to.to_string(),
            lock_id,
            rate,
            amount_to,
            reserved: false,
            outcome: Outcome::Pending,
            created_at: now,
        };
        Ok(self.start_movement(exchange, now))
    }

    pub(super) fn settle_exchange(&mut self, id: Uuid, at: VTime, _clock: &Clock) {
        let settled =
            self.settle_movement(id, |st, ex: &Exchange| match st.account_mut(&ex.owner) {
                Some(account) => {
                    account.credit(&ex.to, ex.amount_to);
                    Outcome::Done
                }
                None => Outcome::Failed(ApiError::user_not_found(
                    ex.owner.user_id().unwrap_or_default(),
                )),
            });
        let Some((_, outcome)) = settled else {
            return;
        };
        let error = outcome.error();
        let status = exchange_status(&outcome);
        let body = WithError {
            inner: types::ExchangeWebhook {
                exchange_id: Some(id.to_string()),
                status: Some(status),
            },
            error,
        };
        self.emit_json(kind::EXCHANGE, &body, at);
    }
}
