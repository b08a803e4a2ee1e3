//! The simulated P100: accounts, users, locks, money movements and the events that move them
//! forward in sandbox time. Everything here is synchronous and runs under one lock; the HTTP
//! layer (`api`) validates requests and calls in, the scheduler (`server`) applies due events.
//!
//! Money moves like the docs say: a create call validates, reserves the funds (debits them at
//! once) when there are enough, and answers with an id; the record stays pending for
//! `settle_after`, then reaches its final status. Without enough funds nothing is debited and the
//! record ends FAILED with P100's `P433` error object. Balances are only changed by movements.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use p100_api::types::{self, DecimalNumber, DecimalString};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::clock::{Clock, VTime};
use crate::config::{Config, KycOutcome, WebhookConfig};
use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::money;
use crate::rates::{draw, RateWalk};
use crate::webhooks::{self, Delivery, DeliveryAttempt, DeliveryState, Job};

/// Whose balance: the partner's own account or one user's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder {
    /// The partner's own account.
    Partner,
    /// The user with this external user id.
    User(String),
}

impl Holder {
    fn user_id(&self) -> Option<&str> {
        match self {
            Holder::Partner => None,
            Holder::User(id) => Some(id),
        }
    }
}

/// Where a money movement stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pending,
    Done,
    Failed(ApiError),
}

impl Outcome {
    fn error(&self) -> Option<RecordError> {
        match self {
            Outcome::Failed(e) => Some(RecordError::from(e)),
            _ => None,
        }
    }
}

/// The error object of a FAILED record or webhook: P100's `Error` fields, plus `description` /
/// `status` so that it also reads as the webhooks' `WebhookError`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordError {
    error_code: String,
    error_name: Option<String>,
    error_message: String,
    description: String,
    status: String,
}

impl From<&ApiError> for RecordError {
    fn from(e: &ApiError) -> Self {
        Self {
            error_code: e.code.clone(),
            error_name: e.name.clone(),
            error_message: e.message.clone(),
            description: e.message.clone(),
            status: e.code.clone(),
        }
    }
}

/// A generated type plus the `error` object of a failed record (allowed: the spec's objects
/// accept unknown properties).
#[derive(Serialize)]
pub(crate) struct WithError<T: Serialize> {
    #[serde(flatten)]
    pub(crate) inner: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<RecordError>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Account {
    pub(crate) balances: BTreeMap<String, Decimal>,
    ids: BTreeMap<String, Uuid>,
    wallets: BTreeMap<String, String>,
}

impl Account {
    fn new(seed: u64, owner_key: u64) -> Self {
        let mut account = Account::default();
        for (i, currency) in money::CURRENCIES.iter().enumerate() {
            account
                .balances
                .insert((*currency).to_string(), Decimal::ZERO);
            account.ids.insert(
                (*currency).to_string(),
                uuid_from(seed, owner_key, i as u64),
            );
            if *currency != "eur" {
                account.wallets.insert(
                    (*currency).to_string(),
                    wallet_address(seed, owner_key, currency),
                );
            }
        }
        account
    }

    pub(crate) fn balance(&self, currency: &str) -> Decimal {
        self.balances.get(currency).copied().unwrap_or_default()
    }

    fn debit(&mut self, currency: &str, amount: Decimal) -> bool {
        let available = self.balance(currency);
        if available < amount {
            return false;
        }
        self.balances
            .insert(currency.to_string(), available - amount);
        true
    }

    fn credit(&mut self, currency: &str, amount: Decimal) {
        let now = self.balance(currency);
        self.balances.insert(
            currency.to_string(),
            now.checked_add(amount).unwrap_or(Decimal::MAX),
        );
    }

    fn crypto_balances(&self, walk: &RateWalk, at: VTime) -> Vec<types::BalanceCrypto> {
        money::crypto_currencies()
            .map(|c| types::BalanceCrypto {
                id: self.ids.get(c).copied().unwrap_or_default(),
                amount: money::amount_string(c, self.balance(c)),
                name: c.to_string(),
                wallet: self.wallets.get(c).cloned(),
                rate: Some(DecimalNumber(walk.rate(c, at))),
                network_config: money::network_config(c),
            })
            .collect()
    }

    fn fiat_balance(
        &self,
        iban: Option<String>,
        status: types::BalanceStatus,
    ) -> types::BalanceFiat {
        types::BalanceFiat {
            id: self.ids.get("eur").copied().unwrap_or_default(),
            amount: money::amount_string("eur", self.balance("eur")),
            name: "eur".to_string(),
            rate: Some(DecimalNumber(Decimal::ONE)),
            iban,
            status: Some(status),
        }
    }
}

/// A deterministic UUID (v4 layout) from the seed and two keys.
pub(crate) fn uuid_from(seed: u64, a: u64, b: u64) -> Uuid {
    let hi = draw(seed, a, b);
    let lo = draw(seed ^ 0x5eed, b, a);
    uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
        .into_uuid()
}

fn key_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn hex(seed: u64, a: u64, len: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!("{:016x}", draw(seed, a, i)));
        i += 1;
    }
    out.truncate(len);
    out
}

fn wallet_address(seed: u64, owner_key: u64, currency: &str) -> String {
    match currency {
        // One EVM address per holder, shared by eth, pol, usdc and usdt (as in the docs).
        "eth" | "pol" | "usdc" | "usdt" => format!("0x{}", hex(seed, owner_key ^ 0xe7, 40)),
        "btc" => format!("tb1q{}", hex(seed, owner_key ^ 0xb7c, 38)),
        "ltc" => format!("tltc1q{}", hex(seed, owner_key ^ 0x17c, 38)),
        _ => format!("n{}", hex(seed, owner_key ^ 0xd06e, 33)),
    }
}

fn digits(seed: u64, a: u64, len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'0' + (draw(seed, a, i as u64) % 10) as u8))
        .collect()
}

fn iban(seed: u64, owner_key: u64) -> String {
    format!(
        "LT{}{}",
        digits(seed, owner_key ^ 0x1ba, 2),
        digits(seed, owner_key ^ 0x1bb, 16)
    )
}

/// Profile fields of a user, as sent at creation or update.
#[derive(Clone, Debug, Default)]
pub(crate) struct Profile {
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) country: Option<String>,
    pub(crate) birth_country: Option<String>,
    pub(crate) birth_date: Option<String>,
    pub(crate) document_type: Option<String>,
    pub(crate) document_number: Option<String>,
    pub(crate) pesel: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Kyc {
    verification_id: Option<String>,
    verification: types::KycVerificationStatus,
    attempt: types::KycAttemptStatus,
    rejection: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub(crate) user_id: Uuid,
    pub(crate) external_id: String,
    pub(crate) kyc_capable: bool,
    pub(crate) profile: Profile,
    pub(crate) account: Account,
    pub(crate) fiat_status: types::BalanceStatus,
    pub(crate) iban: Option<String>,
    pub(crate) suspended: bool,
    pub(crate) kyc: Option<Kyc>,
    pub(crate) poa: Option<types::PoaVerificationStatus>,
    pub(crate) poa_required: bool,
    pub(crate) deposit_reference: Uuid,
    pub(crate) deposit_iban: String,
    pub(crate) contacts: Vec<String>,
}

/// Countries where the legacy docs require proof of address.
const POA_COUNTRIES: [&str; 7] = ["AM", "AR", "AZ", "GE", "IL", "MD", "UA"];

/// How long a rate lock (exchange or order) can be used, and whether it was.
#[derive(Clone, Debug)]
struct Validity {
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
    fn usable(&self, now: VTime) -> bool {
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
    fn take(
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
    owner: Holder,
    rates: BTreeMap<String, Decimal>,
    fee_percentage: Decimal,
    created_at: VTime,
    validity: Validity,
}

#[derive(Clone, Debug)]
pub(crate) struct OrderLock {
    currency: String,
    network: String,
    fiat_amount: Decimal,
    crypto_amount: Decimal,
    validity: Validity,
}

#[derive(Clone, Debug)]
pub(crate) struct Exchange {
    owner: Holder,
    amount: Decimal,
    from: String,
    to: String,
    lock_id: Uuid,
    rate: Decimal,
    amount_to: Decimal,
    reserved: bool,
    outcome: Outcome,
    created_at: VTime,
}

#[derive(Clone, Debug)]
pub(crate) struct SepaTransfer {
    owner: Holder,
    amount: Decimal,
    fee: Decimal,
    currency: String,
    title: String,
    iban: String,
    first_name: Option<String>,
    last_name: Option<String>,
    reserved: bool,
    outcome: Outcome,
    created_at: VTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Withdrawal {
    owner: Holder,
    currency: String,
    amount: Decimal,
    fee: Decimal,
    address: String,
    reserved: bool,
    outcome: Outcome,
    tx_hash: Option<String>,
    created_at: VTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Transfer {
    source: Option<String>,
    destination: Option<String>,
    amount: Decimal,
    currency: String,
    reserved: bool,
    outcome: Outcome,
    created_at: VTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderPhase {
    WaitingForWalletAddress,
    WaitingForConfirmation,
    Completed,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    lock_id: Uuid,
    currency: String,
    network: String,
    fiat_amount: Decimal,
    crypto_amount: Decimal,
    phase: OrderPhase,
    wallet: Option<String>,
    tx_hash: Option<String>,
    received: Decimal,
    confirmations: i64,
    created_at: VTime,
    expires_at: Option<VTime>,
}

#[derive(Clone, Debug)]
pub(crate) struct PaymentLink {
    amount: Option<Decimal>,
    currency: String,
    outcome: Outcome,
    created_at: VTime,
}

#[derive(Clone, Debug)]
pub(crate) struct CryptoDeposit {
    user: String,
    currency: String,
    amount: Decimal,
    status: types::CryptoDepositStatus,
    tx_hash: String,
    created_at: VTime,
}

#[derive(Clone, Debug)]
pub(crate) struct SepaDeposit {
    holder: Holder,
    amount: Decimal,
    sender_iban: String,
    sender_name: String,
    status: types::IbanStatus,
    created_at: VTime,
}

#[derive(Clone, Debug)]
enum Event {
    SettleExchange(Uuid),
    SettleSepa(Uuid),
    SettleWithdrawal(Uuid),
    SettleTransfer(Uuid),
    OrderStep(Uuid),
    SettlePaymentLink(String),
    KycStep(String),
    PoaStep(String),
    DepositStep(Uuid),
    SepaDepositStep(Uuid),
    WalletCreated(Uuid),
    Deliver(u64),
}

/// The whole simulated P100.
pub(crate) struct State {
    pub(crate) seed: u64,
    settle_after: Duration,
    lock_ttl: Duration,
    kyc_outcome: KycOutcome,
    webhooks: WebhookConfig,
    pub(crate) walk: RateWalk,
    pub(crate) partner: Account,
    partner_deposit_reference: Uuid,
    partner_iban: String,
    partner_contacts: Vec<String>,
    pub(crate) users: BTreeMap<String, User>,
    locks: HashMap<Uuid, Lock>,
    order_locks: HashMap<Uuid, OrderLock>,
    exchanges: HashMap<Uuid, Exchange>,
    sepa: HashMap<Uuid, SepaTransfer>,
    withdrawals: HashMap<Uuid, Withdrawal>,
    transfers: HashMap<Uuid, Transfer>,
    orders: HashMap<Uuid, Order>,
    payment_links: HashMap<String, PaymentLink>,
    deposits: HashMap<Uuid, CryptoDeposit>,
    sepa_deposits: HashMap<Uuid, SepaDeposit>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) faults: Vec<FaultRule>,
    events: Vec<(VTime, u64, Event)>,
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

/// A money movement (exchange, SEPA transfer, crypto withdrawal, internal transfer): its funds
/// are reserved when it is created, it is pending for the settle delay, then it is final or
/// FAILED with `P433`. The record kinds differ only in what they debit and what a settlement
/// credits; this is what the shared create and settle steps need to know of them.
trait Movement: Clone {
    /// The table of records of this kind.
    fn table(state: &mut State) -> &mut HashMap<Uuid, Self>;
    /// The event that settles the record `id`.
    fn settle_event(id: Uuid) -> Event;
    /// Whose funds it takes, in which currency, and how much (amount plus fees); `None` when
    /// the record names no debited side.
    fn debit(&self) -> Option<(Holder, String, Decimal)>;
    /// Whether the funds were reserved at creation.
    fn reserved(&mut self) -> &mut bool;
    /// Where it stands.
    fn outcome(&mut self) -> &mut Outcome;
}

macro_rules! movement {
    ($record:ty, $table:ident, $event:ident, |$rec:ident| $debit:expr) => {
        impl Movement for $record {
            fn table(state: &mut State) -> &mut HashMap<Uuid, Self> {
                &mut state.$table
            }
            fn settle_event(id: Uuid) -> Event {
                Event::$event(id)
            }
            fn debit(&self) -> Option<(Holder, String, Decimal)> {
                let $rec = self;
                $debit
            }
            fn reserved(&mut self) -> &mut bool {
                &mut self.reserved
            }
            fn outcome(&mut self) -> &mut Outcome {
                &mut self.outcome
            }
        }
    };
}

movement!(Exchange, exchanges, SettleExchange, |e| Some((
    e.owner.clone(),
    e.from.clone(),
    e.amount
)));
movement!(SepaTransfer, sepa, SettleSepa, |s| Some((
    s.owner.clone(),
    s.currency.clone(),
    s.amount + s.fee
)));
movement!(Withdrawal, withdrawals, SettleWithdrawal, |w| Some((
    w.owner.clone(),
    w.currency.clone(),
    w.amount + w.fee
)));
movement!(Transfer, transfers, SettleTransfer, |t| t
    .sides()
    .map(|(from, _)| (from, t.currency.clone(), t.amount)));

impl Transfer {
    /// The debited and the credited side: a user and the partner, one way or the other.
    fn sides(&self) -> Option<(Holder, Holder)> {
        match (&self.source, &self.destination) {
            (Some(s), _) => Some((Holder::User(s.clone()), Holder::Partner)),
            (None, Some(d)) => Some((Holder::Partner, Holder::User(d.clone()))),
            (None, None) => None,
        }
    }
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

fn insufficient(currency: &str, needed: Decimal, available: Decimal) -> ApiError {
    ApiError::insufficient_funds(format!(
        "Insufficient funds: {needed} {currency} needed, {available} {currency} available"
    ))
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
            walk: RateWalk::new(seed, config.rate_step),
            partner,
            partner_deposit_reference: uuid_from(seed, key_of("partner-reference"), 0),
            partner_iban: "LT333130010135556427".to_string(),
            partner_contacts: Vec::new(),
            users: BTreeMap::new(),
            locks: HashMap::new(),
            order_locks: HashMap::new(),
            exchanges: HashMap::new(),
            sepa: HashMap::new(),
            withdrawals: HashMap::new(),
            transfers: HashMap::new(),
            orders: HashMap::new(),
            payment_links: HashMap::new(),
            deposits: HashMap::new(),
            sepa_deposits: HashMap::new(),
            deliveries: Vec::new(),
            faults: config.faults.clone(),
            events: Vec::new(),
            seq: 0,
        };
        if config.seed_examples {
            state.seed_examples(now);
        }
        state
    }

    // ----------------------------------------------------------------- events

    fn schedule(&mut self, at: VTime, event: Event) {
        self.seq += 1;
        self.events.push((at, self.seq, event));
    }

    fn settle_later(&mut self, now: VTime, event: Event) {
        let at = now.saturating_add(self.settle_after);
        self.schedule(at, event);
    }

    // ----------------------------------------------------------------- money movements

    /// A user whose funds are to move must exist and not be suspended; the partner always can.
    fn check_holder(&mut self, holder: &Holder) -> Result<(), ApiError> {
        if let Holder::User(id) = holder {
            active_user(&mut self.users, id)?;
        }
        Ok(())
    }

    /// Reserves the funds of a validated movement when there are enough, records it pending and
    /// schedules its settlement; returns its id.
    fn start_movement<R: Movement>(&mut self, mut record: R, now: VTime) -> Uuid {
        let reserved = record.debit().is_some_and(|(holder, currency, amount)| {
            self.account_mut(&holder)
                .is_some_and(|a| a.debit(&currency, amount))
        });
        *record.reserved() = reserved;
        *record.outcome() = Outcome::Pending;
        let id = Uuid::new_v4();
        R::table(self).insert(id, record);
        self.settle_later(now, R::settle_event(id));
        id
    }

    /// Settles the pending movement `id`: `complete` credits what a reserved one brings (and
    /// decides its outcome); one without reserved funds fails with `P433`. Returns the record as
    /// it was and the outcome stored, for the webhook; `None` when nothing was pending.
    fn settle_movement<R: Movement>(
        &mut self,
        id: Uuid,
        complete: impl FnOnce(&mut State, &R) -> Outcome,
    ) -> Option<(R, Outcome)> {
        let mut record = R::table(self).get(&id).cloned()?;
        if *record.outcome() != Outcome::Pending {
            return None;
        }
        let (holder, currency, needed) = record.debit()?;
        let outcome = if *record.reserved() {
            complete(self, &record)
        } else {
            let available = self.balance(&holder, &currency).unwrap_or_default();
            Outcome::Failed(insufficient(&currency, needed, available))
        };
        if let Some(stored) = R::table(self).get_mut(&id) {
            *stored.outcome() = outcome.clone();
        }
        Some((record, outcome))
    }

    /// When the next event is due.
    pub(crate) fn next_due(&self) -> Option<VTime> {
        self.events.iter().map(|(at, _, _)| *at).min()
    }

    /// Applies every event due at `now`, in order; returns the webhook attempts to send.
    pub(crate) fn run_due(&mut self, now: VTime, clock: &Clock) -> Vec<Job> {
        let mut jobs = Vec::new();
        loop {
            let next = self
                .events
                .iter()
                .enumerate()
                .filter(|(_, (at, _, _))| *at <= now)
                .min_by_key(|(_, (at, seq, _))| (*at, *seq))
                .map(|(i, _)| i);
            let Some(index) = next else { break };
            let (at, _, event) = self.events.swap_remove(index);
            self.apply(event, at, clock, &mut jobs);
        }
        jobs
    }

    fn apply(&mut self, event: Event, at: VTime, clock: &Clock, jobs: &mut Vec<Job>) {
        match event {
            Event::SettleExchange(id) => self.settle_exchange(id, at, clock),
            Event::SettleSepa(id) => self.settle_sepa(id, at, clock),
            Event::SettleWithdrawal(id) => self.settle_withdrawal(id, at, clock),
            Event::SettleTransfer(id) => self.settle_transfer(id, at, clock),
            Event::OrderStep(id) => self.order_step(id, at, clock),
            Event::SettlePaymentLink(id) => self.settle_payment_link(&id, at),
            Event::KycStep(user) => self.kyc_step(&user, at),
            Event::PoaStep(user) => self.poa_step(&user, at),
            Event::DepositStep(id) => self.deposit_step(id, at, clock),
            Event::SepaDepositStep(id) => self.sepa_deposit_step(id, at, clock),
            Event::WalletCreated(id) => {
                let body = serde_json::json!({
                    "walletId": id.to_string(),
                    "status": "CREATED",
                    "createdAt": ts_string(clock, at),
                });
                self.emit("create_wallet", body.to_string(), at);
            }
            Event::Deliver(id) => {
                if let Some(d) = self.deliveries.iter().find(|d| d.id == id) {
                    if let (Some(url), DeliveryState::Pending) = (&d.url, d.state) {
                        jobs.push(Job {
                            id,
                            url: url.clone(),
                            body: d.body.clone(),
                        });
                    }
                }
            }
        }
    }

    /// Records a webhook event and, when its kind has a URL, schedules its first attempt.
    pub(crate) fn emit(&mut self, kind: &str, body: String, at: VTime) -> u64 {
        let id = self.deliveries.len() as u64 + 1;
        let url = self.webhooks.urls.get(kind).cloned().or_else(|| {
            // `{kind}` in the default URL stands for the kind, as receivers route by it.
            self.webhooks
                .default_url
                .as_ref()
                .map(|url| url.replace("{kind}", kind))
        });
        let state = if url.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::NoUrl
        };
        self.deliveries.push(Delivery {
            id,
            kind: kind.to_string(),
            url,
            body,
            state,
            emitted_at: at,
            attempts: Vec::new(),
        });
        if state == DeliveryState::Pending {
            self.schedule(at, Event::Deliver(id));
        }
        id
    }

    fn emit_json<T: Serialize>(&mut self, kind: &str, body: &T, at: VTime) {
        match serde_json::to_string(body) {
            Ok(text) => {
                self.emit(kind, text, at);
            }
            Err(e) => tracing::error!(kind, "cannot serialize webhook: {e}"),
        }
    }

    /// Records the result of one attempt and schedules the next one if needed.
    pub(crate) fn record_attempt(
        &mut self,
        id: u64,
        sent_at: VTime,
        result: Result<u16, String>,
        now: VTime,
    ) {
        let Some(index) = self.deliveries.iter().position(|d| d.id == id) else {
            return;
        };
        let (status, error) = match result {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let next = {
            let d = &mut self.deliveries[index];
            d.attempts.push(DeliveryAttempt {
                at: sent_at,
                status,
                error,
            });
            if delivered {
                d.state = DeliveryState::Delivered;
                None
            } else {
                let next = webhooks::next_attempt(d.attempts.len(), now);
                if next.is_none() {
                    d.state = DeliveryState::Failed;
                }
                next
            }
        };
        if let Some(at) = next {
            self.schedule(at, Event::Deliver(id));
        }
    }

    pub(crate) fn webhook_token(&self) -> &str {
        &self.webhooks.token
    }

    // ----------------------------------------------------------------- users

    fn account(&self, holder: &Holder) -> Option<&Account> {
        match holder {
            Holder::Partner => Some(&self.partner),
            Holder::User(id) => self.users.get(id).map(|u| &u.account),
        }
    }

    fn account_mut(&mut self, holder: &Holder) -> Option<&mut Account> {
        match holder {
            Holder::Partner => Some(&mut self.partner),
            Holder::User(id) => self.users.get_mut(id).map(|u| &mut u.account),
        }
    }

    pub(crate) fn balance(&self, holder: &Holder, currency: &str) -> Option<Decimal> {
        self.account(holder).map(|a| a.balance(currency))
    }

    pub(crate) fn user(&self, id: &str) -> Result<&User, ApiError> {
        self.users
            .get(id)
            .ok_or_else(|| ApiError::user_not_found(id))
    }

    pub(crate) fn user_mut(&mut self, id: &str) -> Result<&mut User, ApiError> {
        self.users
            .get_mut(id)
            .ok_or_else(|| ApiError::user_not_found(id))
    }

    fn new_user(&self, external_id: &str, kyc_capable: bool, profile: Profile) -> User {
        let key = key_of(external_id) ^ (self.users.len() as u64);
        let poa_required = profile
            .country
            .as_deref()
            .is_some_and(|c| POA_COUNTRIES.contains(&c.to_ascii_uppercase().as_str()));
        User {
            user_id: Uuid::new_v4(),
            external_id: external_id.to_string(),
            kyc_capable,
            profile,
            account: Account::new(self.seed, key),
            fiat_status: if kyc_capable {
                types::BalanceStatus::WaitingToBeActivated
            } else {
                types::BalanceStatus::Active
            },
            iban: None,
            suspended: false,
            kyc: None,
            poa: None,
            poa_required,
            deposit_reference: uuid_from(self.seed, key, 77),
            deposit_iban: iban(self.seed, key),
            contacts: Vec::new(),
        }
    }

    pub(crate) fn create_user(
        &mut self,
        external_id: &str,
        kyc_capable: bool,
        profile: Profile,
    ) -> Result<&User, ApiError> {
        if external_id.trim().is_empty() {
            return Err(ApiError::validation("externalUserId should not be empty"));
        }
        if self.users.contains_key(external_id) {
            return Err(ApiError::user_exists(external_id));
        }
        let user = self.new_user(external_id, kyc_capable, profile);
        self.users.insert(external_id.to_string(), user);
        self.user(external_id)
    }

    pub(crate) fn user_balances(
        &self,
        id: &str,
        now: VTime,
    ) -> Result<types::UserBalances, ApiError> {
        let user = self.user(id)?;
        Ok(types::UserBalances {
            user_id: Some(user.user_id.to_string()),
            poa_required: Some(user.poa_required),
            fiat_balances: vec![user
                .account
                .fiat_balance(user.iban.clone(), user.fiat_status.clone())],
            crypto_balances: user.account.crypto_balances(&self.walk, now),
        })
    }

    pub(crate) fn user_balance_entries(
        &self,
        id: &str,
        now: VTime,
    ) -> Result<Vec<types::UserBalanceEntry>, ApiError> {
        let user = self.user(id)?;
        let mut entries: Vec<types::UserBalanceEntry> = user
            .account
            .crypto_balances(&self.walk, now)
            .into_iter()
            .map(|b| types::UserBalanceEntry {
                amount: b.amount,
                id: b.id,
                name: b.name,
                network_config: b.network_config,
                rate: b.rate,
                wallet: b.wallet,
            })
            .collect();
        let eur = user.account.fiat_balance(None, user.fiat_status.clone());
        entries.push(types::UserBalanceEntry {
            amount: eur.amount,
            id: eur.id,
            name: eur.name,
            network_config: HashMap::new(),
            rate: eur.rate,
            wallet: None,
        });
        Ok(entries)
    }

    pub(crate) fn partner_balances(&self, now: VTime) -> types::PartnerBalances {
        types::PartnerBalances {
            fiat_balances: vec![self.partner.fiat_balance(
                Some(self.partner_iban.clone()),
                types::BalanceStatus::Active,
            )],
            crypto_balances: self.partner.crypto_balances(&self.walk, now),
        }
    }

    pub(crate) fn sepa_deposit_info(
        &self,
        holder: &Holder,
    ) -> Result<types::SepaDepositInfo, ApiError> {
        let (reference, iban) = match holder {
            Holder::Partner => (self.partner_deposit_reference, self.partner_iban.clone()),
            Holder::User(id) => {
                let user = self.user(id)?;
                (user.deposit_reference, user.deposit_iban.clone())
            }
        };
        Ok(types::SepaDepositInfo {
            title: reference.to_string(),
            iban,
            swift: "BZENLT22".to_string(),
            account_holder: "P100 sp. z o.o.".to_string(),
            address: "Połonińska 19".to_string(),
        })
    }

    pub(crate) fn sepa_contacts(
        &self,
        holder: &Holder,
    ) -> Result<types::SepaDepositContacts, ApiError> {
        let contacts = match holder {
            Holder::Partner => &self.partner_contacts,
            Holder::User(id) => &self.user(id)?.contacts,
        };
        let list: Vec<serde_json::Value> = contacts
            .iter()
            .map(|iban| serde_json::json!({ "iban": iban }))
            .collect();
        let mut map = serde_json::Map::new();
        map.insert("contacts".into(), serde_json::Value::Array(list));
        Ok(types::SepaDepositContacts(map))
    }

    pub(crate) fn update_user(
        &mut self,
        id: &str,
        update: types::UserUpdateRequest,
    ) -> Result<(), ApiError> {
        let user = self.user_mut(id)?;
        if update.email.is_some() {
            user.profile.email = update.email;
        }
        if update.phone.is_some() {
            user.profile.phone = update.phone;
        }
        if update.address.is_some() {
            user.profile.address = update.address;
        }
        Ok(())
    }

    pub(crate) fn delete_user(&mut self, id: &str) -> Result<(), ApiError> {
        self.users
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| ApiError::user_not_found(id))
    }

    pub(crate) fn set_suspended(&mut self, id: &str, suspended: bool) -> Result<(), ApiError> {
        self.user_mut(id)?.suspended = suspended;
        Ok(())
    }

    // ----------------------------------------------------------------- KYC

    /// Method B: a P100-hosted verification; the attempt is PENDING, then VERIFICATION, then
    /// decided.
    pub(crate) fn create_kyc_verification(
        &mut self,
        id: &str,
        now: VTime,
    ) -> Result<String, ApiError> {
        let user = active_user(&mut self.users, id)?;
        if !user.kyc_capable {
            return Err(ApiError::validation(format!(
                "user {id:?} was created without KYC and can never become a KYC user"
            )));
        }
        let verification_id = Uuid::new_v4().to_string();
        user.kyc = Some(Kyc {
            verification_id: Some(verification_id.clone()),
            verification: types::KycVerificationStatus::NotVerified,
            attempt: types::KycAttemptStatus::Pending,
            rejection: None,
        });
        self.kyc_webhook(id, now);
        self.settle_later(now, Event::KycStep(id.to_string()));
        Ok(verification_id)
    }

    pub(crate) fn verification_exists(
        &self,
        id: &str,
        verification_id: &str,
    ) -> Result<bool, ApiError> {
        let user = self.user(id)?;
        Ok(user.kyc.as_ref().and_then(|k| k.verification_id.as_deref()) == Some(verification_id))
    }

    /// Add User Verification: the document data is in, the decision runs.
    pub(crate) fn add_user_verification(&mut self, id: &str, now: VTime) -> Result<(), ApiError> {
        let user = active_user(&mut self.users, id)?;
        if !user.kyc_capable {
            return Err(ApiError::validation(format!(
                "user {id:?} was created without KYC and can never become a KYC user"
            )));
        }
        let verification_id = user.kyc.as_ref().and_then(|k| k.verification_id.clone());
        user.kyc = Some(Kyc {
            verification_id,
            verification: types::KycVerificationStatus::NotVerified,
            attempt: types::KycAttemptStatus::Verification,
            rejection: None,
        });
        self.kyc_webhook(id, now);
        self.settle_later(now, Event::KycStep(id.to_string()));
        Ok(())
    }

    pub(crate) fn kyc_status(&self, id: &str) -> Result<types::KycStatus, ApiError> {
        let user = self.user(id)?;
        let kyc = user
            .kyc
            .as_ref()
            .ok_or_else(|| ApiError::kyc_not_found(id))?;
        Ok(types::KycStatus {
            external_user_id: Some(id.to_string()),
            verification_status: Some(kyc.verification.clone()),
            attempt_status: Some(kyc.attempt.clone()),
            rejection_reason: kyc.rejection.clone(),
        })
    }

    fn kyc_webhook(&mut self, id: &str, at: VTime) {
        let Some(kyc) = self.users.get(id).and_then(|u| u.kyc.clone()) else {
            return;
        };
        let body = types::KycVerificationStatusWebhook {
            external_user_id: id.to_string(),
            verification_status: kyc.verification,
            attempt_status: kyc.attempt,
            rejection_reason: kyc.rejection,
        };
        self.emit_json("kyc_verification_status", &body, at);
    }

    fn kyc_step(&mut self, id: &str, at: VTime) {
        let outcome = self.kyc_outcome;
        let seed = self.seed;
        let Some(user) = self.users.get_mut(id) else {
            return;
        };
        let Some(kyc) = user.kyc.as_mut() else {
            return;
        };
        let mut activated = false;
        match kyc.attempt {
            types::KycAttemptStatus::Pending => kyc.attempt = types::KycAttemptStatus::Verification,
            types::KycAttemptStatus::Verification => match outcome {
                KycOutcome::Approve => {
                    kyc.attempt = types::KycAttemptStatus::Successful;
                    kyc.verification = types::KycVerificationStatus::Verified;
                    kyc.rejection = None;
                    if user.fiat_status != types::BalanceStatus::Active || user.iban.is_none() {
                        user.fiat_status = types::BalanceStatus::Active;
                        user.iban = Some(iban(seed, key_of(id) ^ 0xac71));
                        activated = true;
                    }
                }
                KycOutcome::Reject => {
                    kyc.attempt = types::KycAttemptStatus::RejectedByProvider;
                    kyc.verification = types::KycVerificationStatus::NotVerified;
                    kyc.rejection = Some("NO_FACE_FOUND".to_string());
                }
            },
            _ => return,
        }
        let next = kyc.attempt == types::KycAttemptStatus::Verification;
        self.kyc_webhook(id, at);
        if activated {
            let body = types::UserBalanceGenerationWebhook {
                external_user_id: id.to_string(),
                status: types::BalanceStatus::Active,
            };
            self.emit_json("user_balance_generation", &body, at);
        }
        if next {
            self.settle_later(at, Event::KycStep(id.to_string()));
        }
    }

    /// A KYC file upload: `ADDED` when at least one file came, `ERROR` otherwise.
    pub(crate) fn kyc_files_added(
        &mut self,
        id: &str,
        files: usize,
        now: VTime,
    ) -> Result<(), ApiError> {
        active_user(&mut self.users, id)?;
        let body = types::KycFileAddedWebhook {
            external_user_id: id.to_string(),
            status: if files > 0 {
                types::KycFileStatus::Added
            } else {
                types::KycFileStatus::Error
            },
        };
        self.emit_json("kyc_file_added", &body, now);
        Ok(())
    }

    pub(crate) fn poa_files_added(&mut self, id: &str, now: VTime) -> Result<(), ApiError> {
        let user = active_user(&mut self.users, id)?;
        if user.poa == Some(types::PoaVerificationStatus::Approved) {
            return Err(ApiError::poa_already_verified(id));
        }
        user.poa = Some(types::PoaVerificationStatus::Waiting);
        self.poa_webhook(id, now);
        self.settle_later(now, Event::PoaStep(id.to_string()));
        Ok(())
    }

    fn poa_webhook(&mut self, id: &str, at: VTime) {
        let status = self.users.get(id).and_then(|u| u.poa.clone());
        let body = types::PoaVerificationStatusWebhook {
            external_user_id: Some(id.to_string()),
            status,
        };
        self.emit_json("poa_verification_status", &body, at);
    }

    fn poa_step(&mut self, id: &str, at: VTime) {
        let Some(user) = self.users.get_mut(id) else {
            return;
        };
        if user.poa != Some(types::PoaVerificationStatus::Waiting) {
            return;
        }
        user.poa = Some(types::PoaVerificationStatus::Approved);
        self.poa_webhook(id, at);
    }

    // ----------------------------------------------------------------- locks and exchanges

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

    fn settle_exchange(&mut self, id: Uuid, at: VTime, _clock: &Clock) {
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
        self.emit_json("exchange", &body, at);
    }

    pub(crate) fn exchange_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::ExchangeDetails>, ApiError> {
        let (uuid, ex) = find(&self.exchanges, id, || ApiError::not_found("exchange", id))?;
        Ok(exchange_view(uuid, ex, clock))
    }

    // ----------------------------------------------------------------- SEPA

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_sepa_transfer(
        &mut self,
        owner: Holder,
        amount: Decimal,
        currency: &str,
        iban: &str,
        title: &str,
        first_name: Option<String>,
        last_name: Option<String>,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        self.check_holder(&owner)?;
        if currency != "eur" {
            return Err(ApiError::validation(
                "currency must be one of the following values: eur",
            ));
        }
        check_amount("amount", amount, currency)?;
        let iban_ok = iban.len() >= 15
            && iban.len() <= 34
            && iban.chars().all(|c| c.is_ascii_alphanumeric())
            && iban.chars().take(2).all(|c| c.is_ascii_uppercase());
        if !iban_ok {
            return Err(ApiError::validation("destinationIban must be an IBAN"));
        }
        if title.trim().is_empty() {
            return Err(ApiError::validation("transferTitle should not be empty"));
        }
        let transfer = SepaTransfer {
            owner,
            amount,
            fee: money::sepa_fee(amount),
            currency: currency.to_string(),
            title: title.to_string(),
            iban: iban.to_string(),
            first_name,
            last_name,
            reserved: false,
            outcome: Outcome::Pending,
            created_at: now,
        };
        Ok(self.start_movement(transfer, now))
    }

    fn settle_sepa(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        // The payout leaves P100: nothing is credited.
        let Some((rec, outcome)) = self.settle_movement(id, |_, _: &SepaTransfer| Outcome::Done)
        else {
            return;
        };
        let error = outcome.error().map(|e| types::WebhookError {
            description: Some(e.description.clone()),
            status: Some(e.status.clone()),
        });
        let record_error = outcome.error();
        let done = outcome == Outcome::Done;
        let status = sepa_status(&outcome);
        let amount = DecimalString(money::quantize("eur", rec.amount));
        match rec.owner {
            Holder::Partner => {
                let body = if done {
                    types::PartnerSepaTransferWebhook {
                        id: Some(id),
                        type_: Some("external".into()),
                        amount: Some(amount),
                        transfer_title: Some(rec.title.clone()),
                        destination_iban: Some(rec.iban.clone()),
                        receiver_first_name: rec.first_name.clone(),
                        receiver_last_name: rec.last_name.clone(),
                        status: Some(status),
                        currency: Some(rec.currency.clone()),
                        fee: Some(DecimalNumber(rec.fee)),
                        created_at: Some(ts(clock, rec.created_at)),
                        error: None,
                    }
                } else {
                    types::PartnerSepaTransferWebhook {
                        id: Some(id),
                        type_: None,
                        amount: None,
                        transfer_title: None,
                        destination_iban: None,
                        receiver_first_name: None,
                        receiver_last_name: None,
                        status: Some(status),
                        currency: None,
                        fee: None,
                        created_at: None,
                        error: None,
                    }
                };
                let body = WithError {
                    inner: body,
                    error: record_error,
                };
                self.emit_json("partner_sepa_transfer", &body, at);
            }
            Holder::User(_) => {
                let body = if done {
                    types::UserSepaTransferWebhook {
                        id,
                        type_: Some("external".into()),
                        amount: Some(amount),
                        transfer_title: Some(rec.title.clone()),
                        destination_iban: Some(rec.iban.clone()),
                        receiver_first_name: rec.first_name.clone(),
                        receiver_last_name: rec.last_name.clone(),
                        status,
                        currency: Some(rec.currency.clone()),
                        fee: Some(DecimalNumber(rec.fee)),
                        created_at: Some(ts(clock, rec.created_at)),
                        error: None,
                    }
                } else {
                    types::UserSepaTransferWebhook {
                        id,
                        type_: None,
                        amount: None,
                        transfer_title: None,
                        destination_iban: None,
                        receiver_first_name: None,
                        receiver_last_name: None,
                        status,
                        currency: None,
                        fee: None,
                        created_at: None,
                        error,
                    }
                };
                // The user webhook's `error` is the typed `WebhookError`; add the P100 code too.
                let body = WithError {
                    inner: body,
                    error: None,
                };
                let mut text = serde_json::to_string(&body).unwrap_or_default();
                if let (false, Some(e)) = (done, outcome.error()) {
                    text = replace_error(&text, &e);
                }
                self.emit("user_sepa_transfer", text, at);
            }
        }
    }

    pub(crate) fn sepa_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::SepaTransferDetails>, ApiError> {
        let (uuid, rec) = find(&self.sepa, id, || ApiError::sepa_transfer_not_found(id))?;
        let user = rec
            .owner
            .user_id()
            .and_then(|u| self.users.get(u))
            .map(|u| types::SepaTransferUser {
                external_user_id: Some(u.external_id.clone()),
                email: u.profile.email.clone(),
                first_name: u.profile.first_name.clone(),
                last_name: u.profile.last_name.clone(),
                address: u.profile.address.clone(),
                city: u.profile.city.clone(),
                country: u.profile.country.clone(),
                document_type: u.profile.document_type.clone(),
                document_number: u.profile.document_number.clone(),
                pesel: u.profile.pesel.clone(),
                birth_country: u.profile.birth_country.clone(),
                birth_date: u.profile.birth_date.clone(),
            });
        Ok(WithError {
            inner: types::SepaTransferDetails {
                error: None,
                id: uuid,
                type_: "external".to_string(),
                amount: DecimalString(money::quantize("eur", rec.amount)),
                transfer_title: rec.title.clone(),
                destination_iban: rec.iban.clone(),
                receiver_first_name: rec.first_name.clone(),
                receiver_last_name: rec.last_name.clone(),
                status: sepa_status(&rec.outcome),
                currency: rec.currency.clone(),
                fee: Some(DecimalNumber(rec.fee)),
                created_at: Some(ts(clock, rec.created_at)),
                user,
            },
            error: rec.outcome.error(),
        })
    }

    // ----------------------------------------------------------------- crypto withdrawals

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_withdrawal(
        &mut self,
        owner: Holder,
        currency: &str,
        amount: Decimal,
        network: Option<&str>,
        address: &str,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        self.check_holder(&owner)?;
        let currency = crypto_currency(currency)?;
        check_amount("amount", amount, &currency)?;
        let network = money::network_for(&currency, network).map_err(ApiError::validation)?;
        if address.trim().is_empty() {
            return Err(ApiError::validation("walletAddress should not be empty"));
        }
        let fee =
            money::withdrawal_fee(&currency, network) + money::network_fee(&currency, network);
        let withdrawal = Withdrawal {
            owner,
            currency,
            amount,
            fee,
            address: address.to_string(),
            reserved: false,
            outcome: Outcome::Pending,
            tx_hash: None,
            created_at: now,
        };
        Ok(self.start_movement(withdrawal, now))
    }

    fn settle_withdrawal(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        // The funds leave P100: nothing is credited, the chain transaction gets its hash.
        let settled = self.settle_movement(id, |st, _: &Withdrawal| {
            let tx_hash = format!("0x{}", hex(st.seed, key_of(&id.to_string()), 64));
            if let Some(r) = st.withdrawals.get_mut(&id) {
                r.tx_hash = Some(tx_hash);
            }
            Outcome::Done
        });
        if settled.is_none() {
            return;
        }
        if let Ok(view) = self.withdrawal_details(&id.to_string(), clock) {
            let inner = view.inner;
            let body = WithError {
                inner: types::CryptoWithdrawalWebhook {
                    id: inner.id.unwrap_or_default(),
                    amount: inner.amount,
                    fee: inner.fee,
                    destination: inner.destination,
                    status: inner
                        .status
                        .unwrap_or_else(|| types::CryptoWithdrawalStatus("PENDING".into())),
                    transaction_hash: inner.transaction_hash,
                    currency: inner.currency,
                    created_at: inner.created_at,
                    user: inner.user,
                },
                error: view.error,
            };
            self.emit_json("crypto_withdrawal", &body, at);
        }
    }

    pub(crate) fn withdrawal_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::CryptoWithdrawalDetails>, ApiError> {
        let (uuid, rec) = find(&self.withdrawals, id, || {
            ApiError::not_found("crypto-withdrawal", id)
        })?;
        let mut user = serde_json::Map::new();
        if let Some(u) = rec.owner.user_id().and_then(|u| self.users.get(u)) {
            user.insert("externalUserId".into(), u.external_id.clone().into());
            if let Some(email) = &u.profile.email {
                user.insert("email".into(), email.clone().into());
            }
        }
        Ok(WithError {
            inner: types::CryptoWithdrawalDetails {
                error: None,
                id: Some(uuid.to_string()),
                amount: Some(DecimalNumber(rec.amount)),
                fee: Some(DecimalNumber(rec.fee)),
                destination: Some(rec.address.clone()),
                status: Some(withdrawal_status(&rec.outcome)),
                transaction_hash: rec.tx_hash.clone(),
                currency: Some(serde_json::Value::String(rec.currency.clone())),
                created_at: Some(ts_string(clock, rec.created_at)),
                user,
            },
            error: rec.outcome.error(),
        })
    }

    // ----------------------------------------------------------------- internal transfers

    pub(crate) fn create_transfer(
        &mut self,
        source: Option<String>,
        destination: Option<String>,
        amount: Decimal,
        currency: &str,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        match (&source, &destination) {
            (None, None) => return Err(ApiError::source_or_destination_required()),
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "give either sourceExternalUserId or destinationExternalUserId: user-to-user transfers are not supported",
                ))
            }
            (Some(user), None) | (None, Some(user)) => {
                active_user(&mut self.users, user)?;
            }
        }
        let currency = currency.to_ascii_lowercase();
        if !money::is_supported(&currency) {
            return Err(ApiError::validation(format!(
                "currency must be one of the following values: {}",
                money::CURRENCIES.join(", ")
            )));
        }
        check_amount("amount", amount, &currency)?;
        let transfer = Transfer {
            source,
            destination,
            amount,
            currency,
            reserved: false,
            outcome: Outcome::Pending,
            created_at: now,
        };
        Ok(self.start_movement(transfer, now))
    }

    fn settle_transfer(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let settled = self.settle_movement(id, |st, rec: &Transfer| {
            let Some((from, to)) = rec.sides() else {
                return Outcome::Pending;
            };
            match st.account_mut(&to) {
                Some(account) => {
                    account.credit(&rec.currency, rec.amount);
                    Outcome::Done
                }
                None => {
                    // The receiving user was deleted meanwhile: give the funds back.
                    if let Some(a) = st.account_mut(&from) {
                        a.credit(&rec.currency, rec.amount);
                    }
                    Outcome::Failed(ApiError::user_not_found(to.user_id().unwrap_or_default()))
                }
            }
        });
        let Some((rec, outcome)) = settled else {
            return;
        };
        let body = WithError {
            inner: types::P2pTransferWebhook {
                id,
                source_external_user_id: rec.source.clone(),
                destination_external_user_id: rec.destination.clone(),
                amount: DecimalNumber(money::quantize(&rec.currency, rec.amount)),
                currency: rec.currency.clone(),
                status: transfer_status(&outcome),
                created_at: ts(clock, rec.created_at),
                error: None,
            },
            error: outcome.error(),
        };
        self.emit_json("p2p_transfer", &body, at);
    }

    pub(crate) fn transfer_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::TransferDetails>, ApiError> {
        let (uuid, rec) = find(&self.transfers, id, || ApiError::not_found("transfer", id))?;
        let email = |user: &Option<String>| -> Option<String> {
            match user {
                None => Some("partner@sandbox.p100.invalid".to_string()),
                Some(u) => self.users.get(u).and_then(|u| u.profile.email.clone()),
            }
        };
        Ok(WithError {
            inner: types::TransferDetails {
                error: None,
                id: uuid,
                source_email: email(&rec.source),
                destination_email: email(&rec.destination),
                source_external_user_id: rec.source.clone(),
                destination_external_user_id: rec.destination.clone(),
                status: transfer_status(&rec.outcome),
                amount: DecimalNumber(money::quantize(&rec.currency, rec.amount)),
                currency: rec.currency.clone(),
                created_at: Some(ts(clock, rec.created_at)),
            },
            error: rec.outcome.error(),
        })
    }

    // ----------------------------------------------------------------- orders

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

    pub(crate) fn create_order(
        &mut self,
        lock_id: Uuid,
        force_expired: bool,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        let lock = self.order_locks.get_mut(&lock_id).ok_or_else(|| {
            ApiError::invalid_lock(format!("Order lock {lock_id} does not exist"))
        })?;
        lock.validity
            .take("Order lock", lock_id, force_expired, now)?;
        let lock = lock.clone();
        let id = Uuid::new_v4();
        self.orders.insert(
            id,
            Order {
                lock_id,
                currency: lock.currency,
                network: lock.network,
                fiat_amount: lock.fiat_amount,
                crypto_amount: lock.crypto_amount,
                phase: OrderPhase::WaitingForWalletAddress,
                wallet: None,
                tx_hash: None,
                received: Decimal::ZERO,
                confirmations: 0,
                created_at: now,
                expires_at: None,
            },
        );
        self.order_webhook(id, now);
        self.settle_later(now, Event::OrderStep(id));
        Ok(id)
    }

    fn order_webhook(&mut self, id: Uuid, at: VTime) {
        let Some(order) = self.orders.get(&id) else {
            return;
        };
        let body = types::OrderStatusWebhook {
            order_id: Some(id.to_string()),
            status: Some(order_status(order.phase)),
        };
        self.emit_json("order_status", &body, at);
    }

    fn order_step(&mut self, id: Uuid, at: VTime, _clock: &Clock) {
        let seed = self.seed;
        let Some(order) = self.orders.get_mut(&id) else {
            return;
        };
        let key = key_of(&id.to_string());
        match order.phase {
            OrderPhase::WaitingForWalletAddress => {
                order.phase = OrderPhase::WaitingForConfirmation;
                order.wallet = Some(wallet_address(seed, key, &order.currency));
                order.expires_at = Some(at.saturating_add(Duration::from_secs(30 * 60)));
            }
            OrderPhase::WaitingForConfirmation => {
                // The simulated payer pays the full amount; it is confirmed and settled in EUR.
                order.phase = OrderPhase::Completed;
                order.received = order.crypto_amount;
                order.confirmations = 3;
                order.tx_hash = Some(format!("0x{}", hex(seed, key ^ 0x7a, 64)));
                let fiat = order.fiat_amount;
                self.partner.credit("eur", fiat);
            }
            OrderPhase::Completed => return,
        }
        let again = self
            .orders
            .get(&id)
            .is_some_and(|o| o.phase != OrderPhase::Completed);
        self.order_webhook(id, at);
        if again {
            self.settle_later(at, Event::OrderStep(id));
        }
    }

    pub(crate) fn order_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<types::OrderDetails, ApiError> {
        let (uuid, o) = find(&self.orders, id, || ApiError::not_found("order", id))?;
        Ok(types::OrderDetails {
            order_id: uuid,
            lock_id: o.lock_id,
            status: order_status(o.phase),
            created_at: ts(clock, o.created_at),
            expires_at: o.expires_at.map(|t| ts(clock, t)),
            confirmations: Some(o.confirmations),
            required_confirmations: Some(3),
            received_amount: Some(DecimalNumber(o.received)),
            total_amount_required: DecimalNumber(o.crypto_amount),
            cryptocurrency: o.currency.clone(),
            wallet_address: o.wallet.clone(),
            transaction_hash: o.tx_hash.clone(),
            network: o.network.to_ascii_uppercase(),
        })
    }

    pub(crate) fn order_rates(&self, now: VTime) -> types::OrderRates {
        let mut map = serde_json::Map::new();
        for c in money::crypto_currencies() {
            map.insert(
                c.to_string(),
                serde_json::Value::String(self.walk.rate(c, now).to_string()),
            );
        }
        types::OrderRates(map)
    }

    // ----------------------------------------------------------------- payment links

    pub(crate) fn create_payment_link(
        &mut self,
        request: &serde_json::Map<String, serde_json::Value>,
        now: VTime,
    ) -> Result<String, ApiError> {
        let amount = match request.get("amount") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(
                money::parse_amount(s).map_err(|e| ApiError::validation(format!("amount: {e}")))?,
            ),
            Some(serde_json::Value::Number(n)) => Some(
                money::parse_amount(&n.to_string())
                    .map_err(|e| ApiError::validation(format!("amount: {e}")))?,
            ),
            Some(_) => return Err(ApiError::validation("amount must be a decimal number")),
        };
        let currency = match request.get("currency") {
            Some(serde_json::Value::String(c)) => c.to_ascii_lowercase(),
            _ => "eur".to_string(),
        };
        if let Some(amount) = amount {
            let precision_of = if money::is_supported(&currency) {
                currency.as_str()
            } else {
                "btc"
            };
            check_amount("amount", amount, precision_of)?;
        }
        let id = Uuid::new_v4().to_string();
        self.payment_links.insert(
            id.clone(),
            PaymentLink {
                amount,
                currency,
                outcome: Outcome::Pending,
                created_at: now,
            },
        );
        self.payment_link_webhook(&id, now);
        self.settle_later(now, Event::SettlePaymentLink(id.clone()));
        Ok(id)
    }

    fn payment_link_webhook(&mut self, id: &str, at: VTime) {
        let Some(link) = self.payment_links.get(id) else {
            return;
        };
        let body = types::PaymentLinkWebhook {
            payment_link_id: Some(id.to_string()),
            status: Some(payment_link_status(&link.outcome)),
        };
        self.emit_json("payment_link", &body, at);
    }

    fn settle_payment_link(&mut self, id: &str, at: VTime) {
        let Some(link) = self.payment_links.get_mut(id) else {
            return;
        };
        if link.outcome != Outcome::Pending {
            return;
        }
        link.outcome = Outcome::Done;
        if let Some(amount) = link.amount {
            if money::is_supported(&link.currency) {
                let currency = link.currency.clone();
                self.partner.credit(&currency, amount);
            }
        }
        self.payment_link_webhook(id, at);
    }

    pub(crate) fn payment_link_details(
        &self,
        id: &str,
    ) -> Result<types::PaymentLinkDetails, ApiError> {
        let link = self
            .payment_links
            .get(id)
            .ok_or_else(|| ApiError::not_found("payment-link", id))?;
        Ok(types::PaymentLinkDetails {
            payment_link_id: Some(id.to_string()),
            status: Some(payment_link_status(&link.outcome)),
        })
    }

    // ----------------------------------------------------------------- deposits

    /// A crypto deposit arrives for a user (admin API): `WAITING_FOR_TR_DATA` when travel-rule
    /// data is needed, else `WAITING_FOR_VERIFICATION`, then `SUCCESSFUL` and credited.
    pub(crate) fn crypto_deposit(
        &mut self,
        user: &str,
        currency: &str,
        amount: Decimal,
        travel_rule: bool,
        now: VTime,
        clock: &Clock,
    ) -> Result<Uuid, ApiError> {
        self.user(user)?;
        let currency = currency.to_ascii_lowercase();
        if currency == "eur" || !money::is_supported(&currency) {
            return Err(ApiError::invalid_currency(&currency));
        }
        check_amount("amount", amount, &currency)?;
        let id = Uuid::new_v4();
        self.deposits.insert(
            id,
            CryptoDeposit {
                user: user.to_string(),
                currency,
                amount,
                status: if travel_rule {
                    types::CryptoDepositStatus::WaitingForTrData
                } else {
                    types::CryptoDepositStatus::WaitingForVerification
                },
                tx_hash: format!("0x{}", hex(self.seed, key_of(&id.to_string()), 64)),
                created_at: now,
            },
        );
        self.deposit_webhook(id, now, clock);
        if !travel_rule {
            self.settle_later(now, Event::DepositStep(id));
        }
        Ok(id)
    }

    pub(crate) fn update_travel_rule(
        &mut self,
        id: &str,
        now: VTime,
        clock: &Clock,
    ) -> Result<(), ApiError> {
        let uuid = Uuid::parse_str(id)
            .ok()
            .filter(|u| self.deposits.contains_key(u))
            .ok_or_else(|| ApiError::not_found("crypto-deposit", id))?;
        let Some(deposit) = self.deposits.get_mut(&uuid) else {
            return Err(ApiError::not_found("crypto-deposit", id));
        };
        if deposit.status != types::CryptoDepositStatus::WaitingForTrData {
            return Err(ApiError::validation(format!(
                "crypto deposit {id} is not waiting for travel-rule data (status {})",
                deposit.status
            )));
        }
        deposit.status = types::CryptoDepositStatus::WaitingForVerification;
        self.deposit_webhook(uuid, now, clock);
        self.settle_later(now, Event::DepositStep(uuid));
        Ok(())
    }

    fn deposit_webhook(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let Some(d) = self.deposits.get(&id) else {
            return;
        };
        let body = types::CryptoDepositWebhook {
            external_user_id: d.user.clone(),
            crypto_deposit_id: id,
            amount: DecimalNumber(d.amount),
            currency: d.currency.clone(),
            status: d.status.clone(),
            transaction_hash: d.tx_hash.clone(),
            created_at: ts(clock, d.created_at),
        };
        self.emit_json("crypto_deposit", &body, at);
    }

    fn deposit_step(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let Some(d) = self.deposits.get(&id).cloned() else {
            return;
        };
        if d.status != types::CryptoDepositStatus::WaitingForVerification {
            return;
        }
        let status = match self.users.get_mut(&d.user) {
            Some(user) => {
                user.account.credit(&d.currency, d.amount);
                types::CryptoDepositStatus::Successful
            }
            None => types::CryptoDepositStatus::Unsuccessful,
        };
        if let Some(rec) = self.deposits.get_mut(&id) {
            rec.status = status;
        }
        self.deposit_webhook(id, at, clock);
    }

    /// A SEPA deposit arrives (admin API): IBAN status `PENDING`, then `APPROVED`, credited,
    /// the sender IBAN saved as a contact, and a SEPA Deposit webhook.
    pub(crate) fn sepa_deposit(
        &mut self,
        holder: Holder,
        amount: Decimal,
        sender_iban: String,
        sender_name: String,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        if let Holder::User(id) = &holder {
            self.user(id)?;
        }
        check_amount("amount", amount, "eur")?;
        let id = Uuid::new_v4();
        self.sepa_deposits.insert(
            id,
            SepaDeposit {
                holder,
                amount,
                sender_iban,
                sender_name,
                status: types::IbanStatus::Pending,
                created_at: now,
            },
        );
        self.sepa_deposit_webhooks(id, now, false, None);
        self.settle_later(now, Event::SepaDepositStep(id));
        Ok(id)
    }

    fn sepa_deposit_webhooks(&mut self, id: Uuid, at: VTime, deposit: bool, clock: Option<&Clock>) {
        let Some(d) = self.sepa_deposits.get(&id).cloned() else {
            return;
        };
        let iban_body = WithIds {
            inner: types::IbanStatusWebhook {
                status: Some(d.status.clone()),
            },
            external_user_id: d.holder.user_id().map(str::to_string),
            sepa_deposit_id: id.to_string(),
        };
        self.emit_json("iban_status", &iban_body, at);
        if deposit {
            let mut body = serde_json::json!({
                "sepaDepositId": id.to_string(),
                "amount": money::quantize("eur", d.amount).to_string(),
                "currency": "eur",
                "senderIban": d.sender_iban,
                "senderName": d.sender_name,
            });
            if let Some(user) = d.holder.user_id() {
                body["externalUserId"] = user.into();
            }
            if let Some(clock) = clock {
                body["createdAt"] = ts_string(clock, d.created_at).into();
            }
            self.emit("sepa_deposit", body.to_string(), at);
        }
    }

    fn sepa_deposit_step(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let Some(d) = self.sepa_deposits.get(&id).cloned() else {
            return;
        };
        if d.status != types::IbanStatus::Pending {
            return;
        }
        let status = match self.account_mut(&d.holder) {
            Some(account) => {
                account.credit("eur", d.amount);
                types::IbanStatus::Approved
            }
            None => types::IbanStatus::Rejected,
        };
        if status == types::IbanStatus::Approved {
            let contacts = match &d.holder {
                Holder::Partner => Some(&mut self.partner_contacts),
                Holder::User(u) => self.users.get_mut(u).map(|u| &mut u.contacts),
            };
            if let Some(contacts) = contacts {
                if !contacts.contains(&d.sender_iban) {
                    contacts.push(d.sender_iban.clone());
                }
            }
        }
        let approved = status == types::IbanStatus::Approved;
        if let Some(rec) = self.sepa_deposits.get_mut(&id) {
            rec.status = status;
        }
        self.sepa_deposit_webhooks(id, at, approved, Some(clock));
    }

    // ----------------------------------------------------------------- partner wallet

    pub(crate) fn create_wallet(&mut self, now: VTime) -> Uuid {
        let id = Uuid::new_v4();
        self.settle_later(now, Event::WalletCreated(id));
        id
    }

    // ----------------------------------------------------------------- history

    pub(crate) fn history(
        &self,
        holder: &Holder,
        month: i64,
        year: i64,
        clock: &Clock,
    ) -> types::TransactionHistory {
        use chrono::Datelike;
        let mut items: Vec<(VTime, types::TransactionHistoryItem)> = Vec::new();
        let mut push = |at: VTime, kind: &str, amount: Decimal, currency: &str, status: String| {
            let when = clock.wall(at);
            if i64::from(when.month()) == month && i64::from(when.year()) == year {
                items.push((
                    at,
                    types::TransactionHistoryItem {
                        type_: Some(kind.to_string()),
                        amount: Some(money::amount_string(currency, amount)),
                        currency: Some(currency.to_string()),
                        status: Some(status),
                        created_at: Some(ts_string(clock, at)),
                    },
                ));
            }
        };
        for e in self.exchanges.values().filter(|e| &e.owner == holder) {
            push(
                e.created_at,
                "EXCHANGE",
                e.amount,
                &e.from,
                exchange_status(&e.outcome).to_string(),
            );
        }
        for s in self.sepa.values().filter(|s| &s.owner == holder) {
            push(
                s.created_at,
                "SEPA_TRANSFER",
                s.amount,
                &s.currency,
                sepa_status(&s.outcome).to_string(),
            );
        }
        for w in self.withdrawals.values().filter(|w| &w.owner == holder) {
            push(
                w.created_at,
                "CRYPTO_WITHDRAWAL",
                w.amount,
                &w.currency,
                withdrawal_status(&w.outcome).0,
            );
        }
        for t in self.transfers.values() {
            let involved = match holder {
                Holder::Partner => true,
                Holder::User(u) => {
                    t.source.as_ref() == Some(u) || t.destination.as_ref() == Some(u)
                }
            };
            if involved {
                push(
                    t.created_at,
                    "INTERNAL_TRANSFER",
                    t.amount,
                    &t.currency,
                    transfer_status(&t.outcome).to_string(),
                );
            }
        }
        for d in self.deposits.values() {
            if holder.user_id() == Some(d.user.as_str()) {
                push(
                    d.created_at,
                    "CRYPTO_DEPOSIT",
                    d.amount,
                    &d.currency,
                    d.status.to_string(),
                );
            }
        }
        for d in self.sepa_deposits.values().filter(|d| &d.holder == holder) {
            push(
                d.created_at,
                "SEPA_DEPOSIT",
                d.amount,
                "eur",
                d.status.to_string(),
            );
        }
        if *holder == Holder::Partner {
            for o in self.orders.values() {
                push(
                    o.created_at,
                    "ORDER",
                    o.fiat_amount,
                    "eur",
                    order_status(o.phase).to_string(),
                );
            }
            for l in self.payment_links.values() {
                if let Some(amount) = l.amount {
                    push(
                        l.created_at,
                        "PAYMENT_LINK",
                        amount,
                        &l.currency,
                        payment_link_status(&l.outcome).0,
                    );
                }
            }
        }
        items.sort_by_key(|(at, _)| *at);
        let list: Vec<serde_json::Value> = items
            .into_iter()
            .filter_map(|(_, item)| serde_json::to_value(item).ok())
            .collect();
        let mut map = serde_json::Map::new();
        map.insert("month".into(), month.into());
        map.insert("year".into(), year.into());
        map.insert("transactions".into(), serde_json::Value::Array(list));
        types::TransactionHistory(map)
    }

    // ----------------------------------------------------------------- admin view

    pub(crate) fn snapshot(&self, now: VTime, clock: &Clock) -> Snapshot {
        let balances = |a: &Account| -> BTreeMap<String, String> {
            a.balances
                .iter()
                .map(|(c, v)| (c.clone(), money::quantize(c, *v).to_string()))
                .collect()
        };
        let mut exchanges: Vec<_> = self.exchanges.iter().collect();
        exchanges.sort_by_key(|(_, e)| e.created_at);
        Snapshot {
            now_secs: now.as_secs_f64(),
            partner: AccountView {
                external_user_id: None,
                balances: balances(&self.partner),
                fiat_status: None,
                suspended: None,
                kyc: None,
            },
            users: self
                .users
                .values()
                .map(|u| AccountView {
                    external_user_id: Some(u.external_id.clone()),
                    balances: balances(&u.account),
                    fiat_status: Some(u.fiat_status.to_string()),
                    suspended: Some(u.suspended),
                    kyc: u
                        .kyc
                        .as_ref()
                        .map(|k| format!("{}/{}", k.verification, k.attempt)),
                })
                .collect(),
            locks: self
                .locks
                .values()
                .map(|l| &l.validity)
                .chain(self.order_locks.values().map(|l| &l.validity))
                .filter(|v| v.usable(now))
                .count(),
            exchanges: exchanges
                .into_iter()
                .map(|(id, e)| exchange_view(*id, e, clock))
                .collect(),
            sepa_transfers: self
                .sepa
                .keys()
                .filter_map(|id| self.sepa_details(&id.to_string(), clock).ok())
                .collect(),
            crypto_withdrawals: self
                .withdrawals
                .keys()
                .filter_map(|id| self.withdrawal_details(&id.to_string(), clock).ok())
                .collect(),
            transfers: self
                .transfers
                .keys()
                .filter_map(|id| self.transfer_details(&id.to_string(), clock).ok())
                .collect(),
            orders: self
                .orders
                .keys()
                .filter_map(|id| self.order_details(&id.to_string(), clock).ok())
                .collect(),
            pending_events: self.events.len(),
            deliveries: self.deliveries.len(),
        }
    }

    // ----------------------------------------------------------------- documented examples

    /// The ids the docs use in their examples answer: users, an exchange, internal and SEPA
    /// transfers, an order (all settled), so a newcomer can call the documented URLs as shown.
    fn seed_examples(&mut self, now: VTime) {
        let users = [
            (
                "bca65c48-df49-4831-a7b2-de7903321581",
                "johndoe@gmail.com",
                "John",
                "Doe",
            ),
            (
                "f9b430dc-7e1a-42a0-bbb4-9003935ea9f9",
                "jan.kowalski@example.pl",
                "Jan",
                "Kowalski",
            ),
            (
                "8bdd8c8a-e9b7-475e-9690-8a34e8b78dab",
                "Giovani34@yahoo.com",
                "Will",
                "Hahn",
            ),
            (
                "1d3c8a13-a2bf-4f0a-9631-723dfe892675",
                "kyc@example.com",
                "Kim",
                "Yates",
            ),
            (
                "f47ac10b-58cc-4372-a567-0e02b2c3d479",
                "poa@example.com",
                "Paula",
                "Owens",
            ),
        ];
        for (id, email, first, last) in users {
            let profile = Profile {
                email: Some(email.into()),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                country: Some("PL".into()),
                ..Profile::default()
            };
            let mut user = self.new_user(id, true, profile);
            user.fiat_status = types::BalanceStatus::Active;
            user.iban = Some(iban(self.seed, key_of(id) ^ 0xac71));
            user.kyc = Some(Kyc {
                verification_id: Some(uuid_from(self.seed, key_of(id), 5).to_string()),
                verification: types::KycVerificationStatus::Verified,
                attempt: types::KycAttemptStatus::Successful,
                rejection: None,
            });
            self.users.insert(id.to_string(), user);
        }
        let uuid = |s: &str| Uuid::parse_str(s).unwrap_or_default();
        let lock_id = uuid("ee7b2f0f-0ffb-4fce-8fb3-66db2ca1f461");
        self.exchanges.insert(
            uuid("3f0aeaa7-1177-4d77-9985-0cb987809801"),
            Exchange {
                owner: Holder::Partner,
                amount: money::dec("10"),
                from: "eth".into(),
                to: "eur".into(),
                lock_id,
                rate: money::base_rate("eth"),
                amount_to: money::quantize("eur", money::base_rate("eth") * money::dec("9.851")),
                reserved: true,
                outcome: Outcome::Done,
                created_at: now,
            },
        );
        self.transfers.insert(
            uuid("7fb02323-969a-4936-94ea-86b8773ff1a2"),
            Transfer {
                source: None,
                destination: Some("bca65c48-df49-4831-a7b2-de7903321581".into()),
                amount: money::dec("100"),
                currency: "btc".into(),
                reserved: true,
                outcome: Outcome::Done,
                created_at: now,
            },
        );
        self.sepa.insert(
            uuid("7fb02323-969a-4936-94ea-86b8773ff1a2"),
            SepaTransfer {
                owner: Holder::User("8bdd8c8a-e9b7-475e-9690-8a34e8b78dab".into()),
                amount: money::dec("16.02"),
                fee: money::dec("1.00"),
                currency: "eur".into(),
                title: "Bank Transfer".into(),
                iban: "PL09102044050000210205531111".into(),
                first_name: Some("John".into()),
                last_name: Some("Doe".into()),
                reserved: true,
                outcome: Outcome::Done,
                created_at: now,
            },
        );
        self.orders.insert(
            uuid("a44a0805-dd40-4dc4-80d7-8bc81783ec42"),
            Order {
                lock_id: uuid("8b94a8f6-1c9d-4a6f-92c8-5f6d9e72a123"),
                currency: "usdc".into(),
                network: "polygon".into(),
                fiat_amount: money::dec("858.24"),
                crypto_amount: money::dec("1000"),
                phase: OrderPhase::WaitingForConfirmation,
                wallet: Some("0xE353464eBa01d651c16D8879cbCaE1C80568705C".into()),
                tx_hash: Some(
                    "0x84a1234b3b251ab02f1735c634eacab43a282dcbdebf22c1eb0634f5678695cd".into(),
                ),
                received: money::dec("849.39"),
                confirmations: 1,
                created_at: now,
                expires_at: Some(now.saturating_add(Duration::from_secs(30 * 60))),
            },
        );
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

/// Replaces the typed `error` of a serialized webhook by the full error object.
fn replace_error(text: &str, error: &RecordError) -> String {
    #[derive(Serialize)]
    struct Patch<'a> {
        error: &'a RecordError,
    }
    // The user SEPA body has no decimals when FAILED (minimal body), so a Value round trip is exact.
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(mut map) => {
            if let Ok(serde_json::Value::Object(patch)) = serde_json::to_value(Patch { error }) {
                map.extend(patch);
            }
            serde_json::Value::Object(map).to_string()
        }
        Err(_) => text.to_string(),
    }
}

/// Extra ids on a webhook whose documented body has none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithIds<T: Serialize> {
    #[serde(flatten)]
    inner: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user_id: Option<String>,
    sepa_deposit_id: String,
}

// Status values. Final ones are the documented values; the pending value `PENDING` (and
// `FAILED` for internal transfers, `COMPLETED` for orders) are not in the spec's enums (the
// docs never show them; the spec says other values exist) and arrive as `Unknown` in Rust.

fn exchange_status(o: &Outcome) -> types::ExchangeStatus {
    match o {
        Outcome::Pending => types::ExchangeStatus::Unknown("PENDING".into()),
        Outcome::Done => types::ExchangeStatus::Completed,
        Outcome::Failed(_) => types::ExchangeStatus::Failed,
    }
}

fn sepa_status(o: &Outcome) -> types::SepaTransferStatus {
    match o {
        Outcome::Pending => types::SepaTransferStatus::Unknown("PENDING".into()),
        Outcome::Done => types::SepaTransferStatus::Successful,
        Outcome::Failed(_) => types::SepaTransferStatus::Failed,
    }
}

fn withdrawal_status(o: &Outcome) -> types::CryptoWithdrawalStatus {
    types::CryptoWithdrawalStatus(
        match o {
            Outcome::Pending => "PENDING",
            Outcome::Done => "SUCCESSFUL",
            Outcome::Failed(_) => "FAILED",
        }
        .to_string(),
    )
}

fn transfer_status(o: &Outcome) -> types::TransferStatus {
    match o {
        Outcome::Pending => types::TransferStatus::Unknown("PENDING".into()),
        Outcome::Done => types::TransferStatus::Successful,
        Outcome::Failed(_) => types::TransferStatus::Unknown("FAILED".into()),
    }
}

fn order_status(phase: OrderPhase) -> types::OrderStatus {
    match phase {
        OrderPhase::WaitingForWalletAddress => types::OrderStatus::WaitingForWalletAddress,
        OrderPhase::WaitingForConfirmation => types::OrderStatus::WaitingForConfirmation,
        OrderPhase::Completed => types::OrderStatus::Unknown("COMPLETED".into()),
    }
}

fn payment_link_status(o: &Outcome) -> types::PaymentLinkStatus {
    types::PaymentLinkStatus(
        match o {
            Outcome::Pending => "PENDING",
            Outcome::Done => "COMPLETED",
            Outcome::Failed(_) => "FAILED",
        }
        .to_string(),
    )
}

fn exchange_view(id: Uuid, e: &Exchange, clock: &Clock) -> WithError<types::ExchangeDetails> {
    WithError {
        inner: types::ExchangeDetails {
            error: None,
            id: Some(id.to_string()),
            amount: Some(DecimalNumber(e.amount)),
            currency_from: Some(e.from.clone()),
            currency_to: Some(e.to.clone()),
            lock_id: Some(e.lock_id.to_string()),
            rate: Some(DecimalNumber(e.rate)),
            status: Some(exchange_status(&e.outcome)),
            created_at: Some(ts_string(clock, e.created_at)),
        },
        error: e.outcome.error(),
    }
}

/// What `GET /__sandbox/state` shows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Snapshot {
    now_secs: f64,
    partner: AccountView,
    users: Vec<AccountView>,
    locks: usize,
    exchanges: Vec<WithError<types::ExchangeDetails>>,
    sepa_transfers: Vec<WithError<types::SepaTransferDetails>>,
    crypto_withdrawals: Vec<WithError<types::CryptoWithdrawalDetails>>,
    transfers: Vec<WithError<types::TransferDetails>>,
    orders: Vec<types::OrderDetails>,
    pending_events: usize,
    deliveries: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountView {
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user_id: Option<String>,
    balances: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fiat_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suspended: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kyc: Option<String>,
}
