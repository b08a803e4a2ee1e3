//! The ergonomic layer end to end against `p100-sandbox` (a stateful P100 on loopback): locks
//! that expire, executions whose answer is lost, money that settles later or fails. Unlike the
//! scripted-server tests, the server here keeps balances, so "executed exactly once" is checked
//! on the money itself.

use std::time::Duration;

use p100_ergonomic::types::{self, CreateTransferRequest, UserCreateRequest};
use p100_ergonomic::{
    Amount, Client, Currency, ExecuteAndWaitError, Jitter, LockError, LockPolicy, Network,
    RetryPolicy, WaitError, WaitPolicy,
};
use p100_sandbox::{Config, Fault, FaultRule, Holder, Sandbox};
use rust_decimal::Decimal;

/// Money settles 100 ms after it moves; waiters poll every 20–100 ms.
async fn sandbox() -> (Sandbox, Client) {
    let sandbox =
        Sandbox::start_with(Config::default().with_settle_after(Duration::from_millis(100)))
            .await
            .expect("sandbox starts");
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .api_key(sandbox.api_key())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    (sandbox, client)
}

fn fast() -> WaitPolicy {
    WaitPolicy::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_millis(100))
        .with_max_wait(Duration::from_secs(10))
        .with_jitter(Jitter::none())
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

/// A user holding `eur` EUR (funded from the partner, settled).
async fn funded_user(client: &Client, user: &str, eur: &str) {
    funded_user_with(client, user, eur, Currency::Eur).await
}

/// A user holding `amount` of `currency` (funded from the partner, settled).
async fn funded_user_with(client: &Client, user: &str, amount: &str, currency: Currency) {
    client
        .user_create()
        .body(UserCreateRequest::builder().external_user_id(user))
        .send()
        .await
        .expect("user");
    let transfer = client
        .transfer_create()
        .body(
            CreateTransferRequest::builder()
                .destination_external_user_id(user.to_string())
                .amount(Amount::try_from(amount).expect("amount"))
                .currency(currency.as_str()),
        )
        .send()
        .await
        .expect("transfer");
    client
        .wait_for_transfer(transfer.transfer_id)
        .policy(fast())
        .await
        .expect("funding settles");
}

fn eur_of(sandbox: &Sandbox, user: &str) -> Option<Decimal> {
    sandbox.balance(&Holder::User(user.into()), "eur")
}

fn exchange_events(sandbox: &Sandbox) -> usize {
    sandbox
        .deliveries()
        .iter()
        .filter(|d| d.kind == "exchange")
        .count()
}

#[tokio::test]
async fn exchange_and_wait_completes_and_moves_the_money_once() {
    let (sandbox, client) = sandbox().await;
    funded_user(&client, "ann", "500").await;

    let done = client
        .exchange_and_wait("ann", "100", "eur", "btc", fast())
        .await
        .expect("completes");

    assert_eq!(
        done.status,
        p100_ergonomic::types::ExchangeStatus::Completed
    );
    assert_eq!(eur_of(&sandbox, "ann"), Some(dec("400")));
    assert!(sandbox.balance(&Holder::User("ann".into()), "btc") > Some(Decimal::ZERO));
}

#[tokio::test]
async fn a_lock_expired_at_execution_is_renewed_and_executed_once() {
    let (sandbox, client) = sandbox().await;
    funded_user(&client, "ben", "500").await;
    sandbox
        .add_fault(
            FaultRule::new(Fault::ExpireLock)
                .operation("exchange_create")
                .times(1),
        )
        .expect("fault");

    let executed = client
        .lock_then_exchange()
        .external_user_id("ben")
        .amount("100")
        .currency_from("eur")
        .currency_to("btc")
        .send()
        .await
        .expect("the second lock executes");

    assert_eq!(executed.locks_taken, 2);
    assert_eq!(eur_of(&sandbox, "ben"), Some(dec("400")));
}

#[tokio::test]
async fn locks_expiring_every_time_exhaust_the_budget_and_move_nothing() {
    let (sandbox, client) = sandbox().await;
    funded_user(&client, "cat", "500").await;
    sandbox
        .add_fault(FaultRule::new(Fault::ExpireLock).operation("exchange_create"))
        .expect("fault");

    let error = client
        .lock_then_exchange()
        .external_user_id("cat")
        .amount("100")
        .currency_from("eur")
        .currency_to("btc")
        .policy(LockPolicy::default().with_max_locks(2))
        .send()
        .await
        .expect_err("every lock expires");

    assert!(
        matches!(error, LockError::LocksExhausted { locks: 2, .. }),
        "{error:?}"
    );
    assert!(!error.may_have_executed());
    assert_eq!(eur_of(&sandbox, "cat"), Some(dec("500")));
}

#[tokio::test]
async fn an_execution_whose_answer_is_lost_is_not_sent_again() {
    let (sandbox, client) = sandbox().await;
    funded_user(&client, "dan", "500").await;
    sandbox
        .add_fault(
            FaultRule::new(Fault::DropAfterProcessing)
                .operation("exchange_create")
                .times(1),
        )
        .expect("fault");

    let error = client
        .lock_then_exchange()
        .external_user_id("dan")
        .amount("100")
        .currency_from("eur")
        .currency_to("btc")
        .send()
        .await
        .expect_err("the answer never came");

    let LockError::UnknownOutcome(unknown) = &error else {
        panic!("{error:?}");
    };
    assert!(error.may_have_executed());
    assert_eq!(unknown.locks_taken, 1);
    assert!(unknown.request.lock_id().is_some());
    // It did execute, once: the money moved once, and one exchange settles.
    assert_eq!(eur_of(&sandbox, "dan"), Some(dec("400")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(exchange_events(&sandbox), 1);
}

#[tokio::test]
async fn an_exchange_without_the_funds_fails_with_p100s_error() {
    let (sandbox, client) = sandbox().await;
    funded_user(&client, "eve", "50").await;

    let error = client
        .exchange_and_wait("eve", "100", "eur", "btc", fast())
        .await
        .expect_err("not enough EUR");

    let ExecuteAndWaitError::Wait(WaitError::Failed(failed)) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(failed.status, p100_ergonomic::types::ExchangeStatus::Failed);
    let reason = failed.reason.as_ref().expect("the error object");
    assert_eq!(reason.raw["errorCode"], "P433", "{reason:?}");
    assert_eq!(eur_of(&sandbox, "eve"), Some(dec("50")));
}

// ---- Issue 12, item 2: named flows, typed values, ids straight into waiters ----------------

#[tokio::test]
async fn the_named_exchange_sends_the_documented_spelling_and_succeeds_typed() {
    let (sandbox, client) = sandbox().await;
    funded_user_with(&client, "ann2", "500", Currency::Eur).await;

    let done = client
        .exchange()
        .user("ann2")
        .sell(Amount::try_from(100).expect("amount"), Currency::Eur)
        .buy(Currency::Btc)
        .send_and_wait(fast())
        .await
        .expect("completes");

    assert_eq!(done.status, types::ExchangeStatus::Completed);
    assert_eq!(done.record.currency_from.as_deref(), Some("eur"));
    assert_eq!(done.record.currency_to.as_deref(), Some("btc"));
    let eur = sandbox.balance(&Holder::User("ann2".into()), "eur");
    assert_eq!(eur, Some(Decimal::from(400)));
}

#[tokio::test]
async fn a_withdrawal_id_goes_straight_into_its_waiter() {
    let (_sandbox, client) = sandbox().await;
    funded_user_with(&client, "dora", "50", Currency::Usdt).await;

    let created = client
        .crypto_withdrawal_create()
        .body(
            types::CreateCryptoWithdrawalRequest::builder()
                .source_external_user_id("dora".to_string())
                .currency(Currency::Usdt.as_str())
                .amount(Amount::try_from("10").expect("amount"))
                .wallet_address("0x742d35Cc6634C0532925a3b844Bc454e4438f44e".to_string())
                .network(Some(Network::Polygon.as_str().to_string()))
                .name("Dora".to_string())
                .wallet_type(types::WalletType::Custodial)
                .receiver_type(types::ReceiverType::Natural),
        )
        .send()
        .await
        .expect("accepted");
    // `withdrawal_id` is a `String` (required by the spec), not an `Option` to unwrap.
    let done = client
        .wait_for_crypto_withdrawal(created.withdrawal_id)
        .policy(fast())
        .await
        .expect("succeeds");
    assert!(!done.status.as_str().is_empty());
}
