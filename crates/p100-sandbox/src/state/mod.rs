//! The simulated P100: accounts, users, locks, money movements and the events that move them
//! forward in sandbox time. Everything here is synchronous and runs under one lock; the HTTP
//! layer (`api`) validates requests and calls in, the scheduler (`server`) applies due events.
//!
//! Money moves like the docs say: a create call validates, reserves the funds (debits them at
//! once) when there are enough, and answers with an id; the record stays pending for
//! `settle_after`, then reaches its final status. Without enough funds nothing is debited and the
//! record ends FAILED with P100's `P433` error object. Balances are only changed by movements.
//!
//! This file holds the `State` itself, its construction and the checks several parts share
//! (an active user, a record by id, a crypto currency, an amount, timestamps). Each part adds
//! its own `impl State` block in its module: the domain (`accounts`, `users`, `kyc`, `locks`,
//! `movement` and one module per money movement: `exchange`, `sepa`, `withdrawal`, `transfer`,
//! `orders`, `payment_links`, `deposits`), the `scheduler`, the wire `views` and `history`,
//! `retention` (how many settled movements and deliveries are kept) and `seed` (deterministic
//! ids and the documented examples). HTTP parsing and validation of
//! request shapes belong to `api`, the clock and the delivery loop to `server`.

mod accounts;
mod deposits;
mod exchange;
mod history;
mod kyc;
mod locks;
mod movement;
mod orders;
mod payment_links;
mod retention;
mod scheduler;
mod seed;
mod sepa;
mod transfer;
mod users;
mod views;
mod withdrawal;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::clock::{Clock, VTime};
use crate::config::{Config, KycOutcome, Retention, WebhookConfig};
use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::money;
use crate::rates::RateWalk;

pub use accounts::Holder;
pub(crate) use users::Profile;

use accounts::Account;
use deposits::{CryptoDeposit, SepaDeposit};
use exchange::Exchange;
use locks::{Lock, OrderLock};
use orders::Order;
use payment_links::PaymentLink;
use retention::{Deliveries, Records};
use scheduler::Event;
use seed::{key_of, uuid_from};
use sepa::SepaTransfer;
use transfer::Transfer;
use users::User;
use withdrawal::Withdrawal;

/// The whole simulated P100.
pub(crate) struct State {
    pub(crate) seed: u64,
    settle_after: Duration,
    lock_ttl: Duration,
    kyc_outcome: KycOutcome,
    webhooks: WebhookConfig,
    retention: Retention,
    pub(crate) walk: RateWalk,
    pub(crate) partner: Account,
    partner_deposit_reference: Uuid,
    partner_iban: String,
    partner_contacts: Vec<String>,
    pub(crate) users: BTreeMap<String, User>,
    locks: HashMap<Uuid, Lock>,
    order_locks: HashMap<Uuid, OrderLock>,
    exchanges: Records<Exchange>,
    sepa: Records<SepaTransfer>,
    withdrawals: Records<Withdrawal>,
    transfers: Records<Transfer>,
    orders: HashMap<Uuid, Order>,
    payment_links: HashMap<String, PaymentLink>,
    deposits: HashMap<Uuid, CryptoDeposit>,
    sepa_deposits: HashMap<Uuid, SepaDeposit>,
    pub(crate) deliveries: Deliveries,
    pub(crate) faults: Vec<FaultRule>,
    /// Pending events by due time, then by scheduling order.
    events: BTreeMap<(VTime, u64), Event>,
    seq: u64,
}

/// A user must exist and not be suspended for money to move.
fn active_user<'a>(
    users: &'a mut BTreeMap<String, User>,
    id: &str,
) -> Result<&'a mut User, ApiError> {
    let user = users
        .get_mut(id)
        .ok_or_else(|| ApiError::user_not_found(id))?;
    if user.suspended {
        return Err(ApiError::user_suspended(id));
    }
    Ok(user)
}

/// The record `id` (a UUID) of a table, or the error `missing` when there is none.
fn find<'a, R>(
    table: &'a HashMap<Uuid, R>,
    id: &str,
    missing: impl FnOnce() -> ApiError,
) -> Result<(Uuid, &'a R), ApiError> {
    Uuid::parse_str(id)
        .ok()
        .and_then(|u| table.get(&u).map(|r| (u, r)))
        .ok_or_else(missing)
}

/// A crypto currency the sandbox supports, lower-cased; `eur` and unknown ones are a `P403`.
fn crypto_currency(currency: &str) -> Result<String, ApiError> {
    let currency = currency.to_ascii_lowercase();
    if currency == "eur" || !money::is_supported(&currency) {
        return Err(ApiError::validation(format!(
            "currency must be one of the following values: {}",
            money::crypto_currencies().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(currency)
}

fn ts(clock: &Clock, at: VTime) -> chrono::DateTime<chrono::Utc> {
    clock.wall(at)
}

fn ts_string(clock: &Clock, at: VTime) -> String {
    clock
        .wall(at)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl State {
    pub(crate) fn new(config: &Config, now: VTime) -> Self {
        let seed = config.seed;
        let mut partner = Account::new(seed, key_of("partner"));
        for (currency, amount) in &config.partner_balances {
            if let Ok(amount) = money::parse_amount(amount) {
                partner.balances.insert(currency.clone(), amount);
            }
        }
        let mut state = Self {
            seed,
            settle_after: config.settle_after,
            lock_ttl: config.lock_ttl,
            kyc_outcome: config.kyc_outcome,
            webhooks: config.webhooks.clone(),
            retention: config.retention,
            walk: RateWalk::new(seed, config.rate_step),
            partner,
            partner_deposit_reference: uuid_from(seed, key_of("partner-reference"), 0),
            partner_iban: "LT333130010135556427".to_string(),
            partner_contacts: Vec::new(),
            users: BTreeMap::new(),
            locks: HashMap::new(),
            order_locks: HashMap::new(),
            exchanges: Records::default(),
            sepa: Records::default(),
            withdrawals: Records::default(),
            transfers: Records::default(),
            orders: HashMap::new(),
            payment_links: HashMap::new(),
            deposits: HashMap::new(),
            sepa_deposits: HashMap::new(),
            deliveries: Deliveries::default(),
            faults: config.faults.clone(),
            events: BTreeMap::new(),
            seq: 0,
        };
        if config.seed_examples {
            state.seed_examples(now);
        }
        state
    }
}

/// Rejects non-positive amounts and more decimals than the currency has.
fn check_amount(field: &str, amount: Decimal, currency: &str) -> Result<(), ApiError> {
    if amount <= Decimal::ZERO {
        return Err(ApiError::validation(format!(
            "{field} must be a positive number"
        )));
    }
    if amount > money::max_amount() {
        return Err(ApiError::validation(format!(
            "{field} must be at most {}",
            money::max_amount()
        )));
    }
    let dp = money::precision(currency);
    if amount.normalize().scale() > dp {
        return Err(ApiError::validation(format!(
            "{field} can have at most {dp} decimal places"
        )));
    }
    Ok(())
}
