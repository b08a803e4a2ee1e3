//! The fault matrix: 240 concurrent money movements of four kinds (internal transfers, SEPA
//! payouts, crypto withdrawals, exchanges at a locked rate) against the sandbox, with injected
//! 429s, P501s (HTTP 400 and 503), latency, answers dropped after processing and expired locks,
//! sent by a caller that follows the SDK's advice literally: it repeats a call exactly when
//! `is_retryable()` says so, reconciles every unknown outcome and re-sends only on `NotFound`.
//!
//! Every movement has its own amount, so the sandbox's ledger (the partner's transaction
//! history) says how many times each one happened. Expected: none twice, none lost, every
//! unknown outcome reconciled, and the balances the ledger implies are the sandbox's.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use p100_ergonomic::reconcile::Reconciliation;
use p100_ergonomic::types::{
    CreateTransferRequest, DecimalNumber, DecimalString, PartnerCreateCryptoWithdrawalRequest,
    PartnerCreateSepaTransferRequest, ReceiverType, UserCreateRequest, WalletType,
};
use p100_ergonomic::{Client, Error, LockError, RetryPolicy};
use p100_sandbox::{Config, Fault, FaultRule, Holder, Sandbox};
use rust_decimal::Decimal;

const PER_KIND: u32 = 60;
const USERS: u32 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Transfer,
    Sepa,
    Withdrawal,
    Exchange,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Transfer, Kind::Sepa, Kind::Withdrawal, Kind::Exchange];

    fn operation(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer_create",
            Kind::Sepa => "partner_create_sepa_transfer",
            Kind::Withdrawal => "partner_create_crypto_withdrawal",
            Kind::Exchange => "partner_create_exchange",
        }
    }

    /// The movement's own amount, unique across the matrix.
    fn amount(self, i: u32) -> Decimal {
        match self {
            Kind::Transfer => Decimal::new(100 + i64::from(i), 2), // 1.00, 1.01, … eur
            Kind::Sepa => Decimal::new(200 + i64::from(i), 2),     // 2.00, … eur
            Kind::Withdrawal => Decimal::new(100_000 + i64::from(i), 8), // 0.001… btc
            Kind::Exchange => Decimal::new(300 + i64::from(i), 2), // 3.00, … usdt
        }
    }
}

/// What the caller ended with for one movement.
#[derive(Debug, Default)]
struct Tally {
    /// Executed, by an answer or by reconciliation.
    executed: bool,
    /// Refused by P100 (a definite answer: nothing moved).
    refused: Option<String>,
    /// Unknown outcomes met, and how they reconciled.
    unknown: u32,
    found: u32,
    not_found: u32,
    cannot_tell: u32,
}

/// The caller's loop around one send: repeat exactly when the SDK says the error is retryable;
/// on an unknown outcome reconcile and re-send only when P100 has no such movement.
async fn follow_the_advice<F, Fut, T>(client: &Client, send: F, retries: &AtomicU32) -> Tally
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut tally = Tally::default();
    for _ in 0..50 {
        let error = match send().await {
            Ok(_) => {
                tally.executed = true;
                return tally;
            }
            Err(error) => error,
        };
        if error.is_retryable() {
            retries.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let Some(movement) = error.unknown_movement() else {
            tally.refused = Some(error.to_string());
            return tally;
        };
        tally.unknown += 1;
        match client.reconcile(movement).await {
            Ok(Reconciliation::Found { .. }) => {
                tally.found += 1;
                tally.executed = true;
                return tally;
            }
            Ok(Reconciliation::NotFound { .. }) => tally.not_found += 1,
            Ok(Reconciliation::CannotTell { reason }) => {
                tally.cannot_tell += 1;
                tally.refused = Some(format!("cannot tell: {reason}"));
                return tally;
            }
            Err(error) => {
                tally.refused = Some(format!("reconcile failed: {error}"));
                return tally;
            }
        }
    }
    tally.refused = Some("gave up after 50 sends".into());
    tally
}

async fn send_one(client: &Client, kind: Kind, i: u32, retries: &AtomicU32) -> Tally {
    let amount = kind.amount(i);
    match kind {
        Kind::Transfer => {
            let user = format!("matrix-{}", i % USERS);
            follow_the_advice(
                client,
                || {
                    client
                        .transfer_create()
                        .body(
                            CreateTransferRequest::builder()
                                .destination_external_user_id(user.clone())
                                .amount(DecimalString(amount))
                                .currency("eur"),
                        )
                        .send()
                },
                retries,
            )
            .await
        }
        Kind::Sepa => {
            follow_the_advice(
                client,
                || {
                    client
                        .partner_create_sepa_transfer()
                        .body(
                            PartnerCreateSepaTransferRequest::builder()
                                .amount(DecimalString(amount))
                                .currency("eur")
                                .destination_iban("PL09102044050000210205531111")
                                .transfer_title(format!("matrix payout {i}")),
                        )
                        .send()
                },
                retries,
            )
            .await
        }
        Kind::Withdrawal => {
            follow_the_advice(
                client,
                || {
                    client
                        .partner_create_crypto_withdrawal()
                        .body(
                            PartnerCreateCryptoWithdrawalRequest::builder()
                                .currency("btc".to_string())
                                .amount(DecimalNumber(amount))
                                .wallet_address(
                                    "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx".to_string(),
                                )
                                .name("Matrix".to_string())
                                .wallet_type(WalletType::NonCustodial)
                                .receiver_type(ReceiverType::Natural),
                        )
                        .send()
                },
                retries,
            )
            .await
        }
        Kind::Exchange => {
            // The lock flow renews an expired lock itself and never re-sends an execute whose
            // outcome is unknown; the caller reconciles those like any movement.
            let mut tally = Tally::default();
            for _ in 0..50 {
                let result = client
                    .lock_then_partner_exchange()
                    .amount(amount)
                    .currency_from("usdt")
                    .currency_to("eur")
                    .send()
                    .await;
                let error = match result {
                    Ok(_) => {
                        tally.executed = true;
                        return tally;
                    }
                    Err(LockError::UnknownOutcome(unknown)) => unknown.error,
                    Err(LockError::Lock(error)) | Err(LockError::NotSent { error, .. })
                        if error.is_retryable() =>
                    {
                        retries.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(LockError::Rejected { error, .. }) if error.is_retryable() => {
                        retries.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(LockError::LocksExhausted { .. }) => {
                        // Every lock expired before its execute (injected): nothing moved.
                        retries.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(other) => {
                        tally.refused = Some(other.to_string());
                        return tally;
                    }
                };
                let Some(movement) = error.unknown_movement() else {
                    tally.refused = Some(format!("unknown outcome without a movement: {error}"));
                    return tally;
                };
                tally.unknown += 1;
                match client.reconcile(movement).await {
                    Ok(Reconciliation::Found { .. }) => {
                        tally.found += 1;
                        tally.executed = true;
                        return tally;
                    }
                    Ok(Reconciliation::NotFound { .. }) => tally.not_found += 1,
                    other => {
                        tally.cannot_tell += 1;
                        tally.refused = Some(format!("{other:?}"));
                        return tally;
                    }
                }
            }
            tally.refused = Some("gave up".into());
            tally
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_retries_and_reconciliation_never_move_money_twice_or_lose_it() {
    let sandbox = Sandbox::start_with(
        Config::default()
            // Nothing settles during the test: every movement's funds are reserved when it is
            // created, so the balances are the ledger's from the start.
            .with_settle_after(Duration::from_secs(3600))
            .with_seed_examples(false)
            .with_partner_balance("eur", "1000000.00")
            .with_partner_balance("btc", "100.00000000")
            .with_partner_balance("usdt", "1000000.000000"),
    )
    .await
    .expect("sandbox");
    let client = Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .retry(
            RetryPolicy::default()
                .with_initial_delay(Duration::from_millis(5))
                .with_max_delay(Duration::from_millis(20)),
        )
        .build()
        .expect("client");
    for u in 0..USERS {
        client
            .user_create()
            .body(UserCreateRequest::builder().external_user_id(format!("matrix-{u}")))
            .send()
            .await
            .expect("user");
    }
    let before = |currency: &str| {
        sandbox
            .balance(&Holder::Partner, currency)
            .expect("balance")
    };
    let (eur_before, btc_before, usdt_before) = (before("eur"), before("btc"), before("usdt"));

    let mut injected = 0;
    for kind in Kind::ALL {
        // Spread over the requests (every n-th), so that most faults meet a request alone.
        let faults = [
            (
                Fault::RateLimit {
                    retry_after_secs: 0,
                },
                5,
                8,
            ),
            (Fault::Unavailable { status: 400 }, 7, 6),
            (Fault::Unavailable { status: 503 }, 11, 4),
            (Fault::Latency { ms: 30 }, 3, 8),
            (Fault::DropAfterProcessing, 4, 10),
        ];
        for (fault, every, times) in faults {
            sandbox
                .add_fault(
                    FaultRule::new(fault)
                        .operation(kind.operation())
                        .every(every)
                        .times(times),
                )
                .expect("rule");
            injected += times;
        }
    }
    for (operation, fault, times) in [
        ("partner_create_exchange", Fault::ExpireLock, 8),
        (
            "partner_create_exchange_lock",
            Fault::RateLimit {
                retry_after_secs: 0,
            },
            6,
        ),
    ] {
        sandbox
            .add_fault(
                FaultRule::new(fault)
                    .operation(operation)
                    .every(2)
                    .times(times),
            )
            .expect("rule");
        injected += times;
    }

    let retries = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for kind in Kind::ALL {
        for i in 0..PER_KIND {
            let client = client.clone();
            let retries = retries.clone();
            tasks.push(tokio::spawn(async move {
                (kind, i, send_one(&client, kind, i, &retries).await)
            }));
        }
    }
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await.expect("task"));
    }

    // The ledger: the partner's history of this month, every movement once per execution.
    let now = chrono::Utc::now();
    let history = client
        .partner_get_transaction_history()
        .month(i64::from(chrono::Datelike::month(&now)))
        .year(i64::from(chrono::Datelike::year(&now)))
        .send()
        .await
        .expect("history");
    let history = serde_json::to_value(&history).expect("json");
    let mut executed_in_ledger: BTreeMap<(String, Decimal), u32> = BTreeMap::new();
    for item in history["transactions"].as_array().expect("transactions") {
        let amount: Decimal = item["amount"]
            .as_str()
            .unwrap_or("0")
            .parse()
            .expect("amount");
        let currency = item["currency"].as_str().unwrap_or("").to_string();
        *executed_in_ledger.entry((currency, amount)).or_default() += 1;
    }

    let (mut doubled, mut lost, mut phantom, mut refused) = (0, 0, 0, Vec::new());
    let (mut unknown, mut found, mut not_found, mut cannot_tell) = (0, 0, 0, 0);
    let (mut eur_out, mut btc_count, mut usdt_out) = (Decimal::ZERO, 0u32, Decimal::ZERO);
    for (kind, i, tally) in &tallies {
        unknown += tally.unknown;
        found += tally.found;
        not_found += tally.not_found;
        cannot_tell += tally.cannot_tell;
        let currency = match kind {
            Kind::Transfer | Kind::Sepa => "eur",
            Kind::Withdrawal => "btc",
            Kind::Exchange => "usdt",
        };
        let times = executed_in_ledger
            .get(&(currency.to_string(), kind.amount(*i)))
            .copied()
            .unwrap_or(0);
        match (tally.executed, times) {
            (true, 1) => match kind {
                Kind::Transfer => eur_out += kind.amount(*i),
                // The sandbox's SEPA fee: 0.1 %, at least 1.00.
                Kind::Sepa => eur_out += kind.amount(*i) + Decimal::ONE,
                Kind::Withdrawal => btc_count += 1,
                Kind::Exchange => usdt_out += kind.amount(*i),
            },
            (true, 0) => lost += 1,
            (false, 0) => refused.push(format!("{kind:?} {i}: {:?}", tally.refused)),
            (false, _) => phantom += 1,
            (true, _) => doubled += 1,
        }
    }
    let movements = tallies.len();
    eprintln!(
        "fault matrix: {movements} movements, {injected} faults injected, {} retries advised, \
         {unknown} unknown outcomes ({found} found, {not_found} not found and re-sent, \
         {cannot_tell} cannot tell), {doubled} doubled, {lost} lost, {phantom} executed while \
         reported refused, {} refused",
        retries.load(Ordering::Relaxed),
        refused.len()
    );
    assert_eq!(doubled, 0, "a movement happened twice");
    assert_eq!(
        lost, 0,
        "a movement the caller counts as done is not in the ledger"
    );
    assert_eq!(
        phantom, 0,
        "a movement happened although the caller was told it did not"
    );
    assert!(refused.is_empty(), "refused: {refused:#?}");
    assert_eq!(cannot_tell, 0);
    assert!(
        unknown > 0,
        "the matrix produced no unknown outcome to reconcile"
    );
    assert!(
        found > 0 && not_found > 0,
        "found {found}, not found {not_found}"
    );

    // The balances the ledger implies are the sandbox's.
    assert_eq!(before("eur"), eur_before - eur_out, "eur");
    assert_eq!(before("usdt"), usdt_before - usdt_out, "usdt");
    assert_eq!(btc_count, PER_KIND);
    assert!(before("btc") < btc_before);
}
