//! Rate locks: the exchange lock and the order lock, their `Validity` (usable once, until
//! `lock_ttl` has passed or an expiry was forced), creating them and forcing every lock to
//! expire. Using a lock is the job of the movement that takes it (`exchange`, `orders`).

use std::collections::BTreeMap;
use std::time::Duration;

use p100_api::types::{self, DecimalNumber, DecimalString};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::Holder;
use super::{check_amount, crypto_currency, ts, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

/// How long a rate lock (exchange or order) can be used, and whether it was.
#[derive(Clone, Debug)]
pub(super) struct Validity {
    valid_until: VTime,
    used: bool,
    forced_expired: bool,
}

impl Validity {
    fn new(now: VTime, ttl: Duration) -> Self {
        Self {
            valid_until: now.saturating_add(ttl),
            used: false,
            forced_expired: false,
        }
    }

    /// Unused and not past its time (a forced expiry aside).
    pub(super) fn usable(&self, now: VTime) -> bool {
        !self.used && self.valid_until >= now
    }

    /// Forces the expiry; whether the lock was still valid.
    fn expire(&mut self, now: VTime) -> bool {
        let valid = !self.forced_expired && self.usable(now);
        self.forced_expired = true;
        valid
    }

    /// Uses the lock `what id` once (`P432` when used or expired); `force_expired` expires it
    /// first (injected fault).
    pub(super) fn take(
        &mut self,
        what: &str,
        id: Uuid,
        force_expired: bool,
        now: VTime,
    ) -> Result<(), ApiError> {
        if self.used {
            return Err(ApiError::invalid_lock(format!(
                "{what} {id} was already used"
            )));
        }
        if force_expired || self.forced_expired || now > self.valid_until {
            self.forced_expired |= force_expired;
            return Err(ApiError::invalid_lock(format!("{what} {id} has expired")));
        }
        self.used = true;
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Lock {
    pub(super) owner: Holder,
    pub(super) rates: BTreeMap<String, Decimal>,
    pub(super) fee_percentage: Decimal,
    pub(super) created_at: VTime,
    pub(super) validity: Validity,
}

#[derive(Clone, Debug)]
pub(crate) struct OrderLock {
    pub(super) currency: String,
    pub(super) network: String,
    pub(super) fiat_amount: Decimal,
    pub(super) crypto_amount: Decimal,
    pub(super) validity: Validity,
}

impl State {
    pub(crate) fn create_lock(
        &mut self,
        owner: Holder,
        now: VTime,
        clock: &Clock,
    ) -> Result<types::ExchangeLock, ApiError> {
        self.check_holder(&owner)?;
        let id = Uuid::new_v4();
        let lock = Lock {
            owner,
            rates: self.walk.rates(now),
            fee_percentage: money::exchange_fee_percentage(),
            created_at: now,
            validity: Validity::new(now, self.lock_ttl),
        };
        let body = types::ExchangeLock {
            id,
            rates: types::ExchangeRates(
                lock.rates
                    .iter()
                    .map(|(c, r)| (c.clone(), DecimalNumber(*r)))
                    .collect(),
            ),
            fee_percentage: DecimalNumber(lock.fee_percentage),
            created_at: ts(clock, lock.created_at),
            valid_until: ts(clock, lock.validity.valid_until),
        };
        self.locks.insert(id, lock);
        Ok(body)
    }

    /// Marks every lock (exchange and order) as expired; returns how many were still valid.
    pub(crate) fn expire_locks(&mut self, now: VTime) -> usize {
        let exchange = self.locks.values_mut().map(|l| &mut l.validity);
        let order = self.order_locks.values_mut().map(|l| &mut l.validity);
        exchange
            .chain(order)
            .map(|v| v.expire(now))
            .filter(|valid| *valid)
            .count()
    }

    pub(crate) fn create_order_lock(
        &mut self,
        currency: &str,
        fiat_amount: Decimal,
        network: &str,
        now: VTime,
        clock: &Clock,
    ) -> Result<types::OrderLock, ApiError> {
        let currency = crypto_currency(currency)?;
        let network = money::network_for(&currency, Some(network)).map_err(ApiError::validation)?;
        check_amount("amount", fiat_amount, "eur")?;
        let rate = self.walk.rate(&currency, now);
        let crypto_amount = if rate.is_zero() {
            Decimal::ZERO
        } else {
            money::quantize(&currency, fiat_amount / rate)
        };
        let id = Uuid::new_v4();
        let lock = OrderLock {
            currency: currency.clone(),
            network: network.to_string(),
            fiat_amount,
            crypto_amount,
            validity: Validity::new(now, self.lock_ttl),
        };
        let body = types::OrderLock {
            lock_id: id,
            amount: DecimalNumber(crypto_amount),
            rate: DecimalString(rate),
            expires_at: ts(clock, lock.validity.valid_until),
            currency: Some(currency),
            cryptocurrency: None,
            destination_currency: Some("eur".to_string()),
            network: network.to_string(),
        };
        self.order_locks.insert(id, lock);
        Ok(body)
    }
}
