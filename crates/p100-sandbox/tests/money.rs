//! Money movements: pending then settled after the configured delay, balances debited and
//! credited, insufficient funds ending FAILED with P433, rate locks (expiry, reuse, same
//! currencies).

mod common;

use std::time::Duration;

use common::{
    api_error, assert_api_error, create_user, dec, funded_user, json, locked_partner_exchange,
    manual_sandbox, partner_exchange, transfer_to, user_exchange, SETTLE,
};
use p100_api::types::{self, DecimalNumber, DecimalString};
use p100_sandbox::{Config, Holder, Sandbox};
use rust_decimal::Decimal;

fn user(id: &str) -> Holder {
    Holder::User(id.to_string())
}

#[tokio::test]
async fn an_internal_transfer_settles_after_the_configured_delay() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    let partner_eur = sandbox.balance(&Holder::Partner, "eur").expect("partner");
    create_user(&client, "alice").await;
    let id = transfer_to(&client, "alice", "250.00", "eur")
        .await
        .expect("accepted")
        .into_inner()
        .transfer_id;

    let status = |c: &p100_api::Client| {
        let c = c.clone();
        async move {
            c.transfer_get()
                .transfer_id(id)
                .send()
                .await
                .expect("details")
                .into_inner()
        }
    };
    // Reserved at once, pending until the delay has passed.
    assert_eq!(
        sandbox.balance(&Holder::Partner, "eur"),
        Some(partner_eur - dec("250"))
    );
    assert_eq!(sandbox.balance(&user("alice"), "eur"), Some(Decimal::ZERO));
    assert_eq!(
        status(&client).await.status,
        types::TransferStatus::Unknown("PENDING".into())
    );
    sandbox.advance(SETTLE - Duration::from_millis(1));
    assert_eq!(
        status(&client).await.status,
        types::TransferStatus::Unknown("PENDING".into())
    );
    sandbox.advance(Duration::from_millis(1));
    let details = status(&client).await;
    assert_eq!(details.status, types::TransferStatus::Successful);
    assert_eq!(
        details.destination_external_user_id.as_deref(),
        Some("alice")
    );
    assert_eq!(sandbox.balance(&user("alice"), "eur"), Some(dec("250")));

    let balances = client
        .user_get_balances()
        .external_user_id("alice")
        .send()
        .await
        .expect("balances")
        .into_inner();
    assert_eq!(balances.fiat_balances[0].amount.to_string(), "250.00");
}

#[tokio::test]
async fn an_exchange_at_a_locked_rate_completes_and_moves_both_balances() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    funded_user(&sandbox, &client, "bob", "eur", "1000.00").await;

    let lock = client
        .exchange_create_lock()
        .external_user_id("bob")
        .send()
        .await
        .expect("lock")
        .into_inner();
    assert_eq!(lock.fee_percentage.to_string(), "1.49");
    assert_eq!(
        lock.valid_until - lock.created_at,
        chrono::Duration::seconds(60)
    );
    let btc_rate = lock.rates["btc"].0;

    let created = user_exchange(&client, "bob", lock.id, "100", "eur", "btc")
        .await
        .expect("accepted");
    assert_eq!(created.status(), 201);
    let id = created.into_inner().exchange_id;
    assert_eq!(sandbox.balance(&user("bob"), "eur"), Some(dec("900")));

    assert_eq!(
        exchange_status(&client, &id).await,
        types::ExchangeStatus::Unknown("PENDING".into())
    );
    sandbox.advance(SETTLE);
    assert_eq!(
        exchange_status(&client, &id).await,
        types::ExchangeStatus::Completed
    );

    // 100 EUR at the locked rate, less the 1.49 % fee, rounded down to 8 decimals.
    let expected = (dec("100") / btc_rate * dec("0.9851"))
        .round_dp_with_strategy(8, rust_decimal::RoundingStrategy::ToZero);
    assert_eq!(sandbox.balance(&user("bob"), "btc"), Some(expected));
}

#[tokio::test]
async fn insufficient_funds_end_failed_with_p433_and_balances_unchanged() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    funded_user(&sandbox, &client, "carol", "eur", "50.00").await;
    let before_eur = sandbox.balance(&user("carol"), "eur");
    let before_partner = sandbox.balance(&Holder::Partner, "eur");

    // Exchange more than the balance: accepted, then FAILED.
    let lock = client
        .exchange_create_lock()
        .external_user_id("carol")
        .send()
        .await
        .expect("lock")
        .into_inner();
    let id = user_exchange(&client, "carol", lock.id, "500", "eur", "eth")
        .await
        .expect("accepted: business failures are not synchronous")
        .into_inner()
        .exchange_id;
    // SEPA payout and collection beyond the balance too.
    let sepa = client
        .sepa_transfer_create()
        .body(
            types::CreateSepaTransferRequest::builder()
                .source_external_user_id(Some("carol".to_string()))
                .amount(DecimalString(dec("49.50")))
                .currency("eur")
                .destination_iban("LT601010012345678901")
                .transfer_title("rent"),
        )
        .send()
        .await
        .expect("accepted")
        .into_inner()
        .transfer_id;
    let collect = client
        .transfer_create()
        .body(
            types::CreateTransferRequest::builder()
                .source_external_user_id("carol".to_string())
                .amount(DecimalString(dec("1")))
                .currency("btc"),
        )
        .send()
        .await
        .expect("accepted")
        .into_inner()
        .transfer_id;
    sandbox.advance(SETTLE);

    let http = reqwest::Client::new();
    let raw = |path: &str| {
        json(
            http.get(format!("{}{path}", sandbox.base_url()))
                .header("x-api-key", sandbox.api_key()),
        )
    };
    for (path, failed) in [
        (format!("/v1/exchange/details/{id}"), "FAILED"),
        (format!("/v1/sepa-transfer/details/{sepa}"), "FAILED"),
        (format!("/v1/transfer/details/{collect}"), "FAILED"),
    ] {
        let record = raw(&path).await;
        assert_eq!(record["status"], failed, "{path}: {record}");
        assert_eq!(record["error"]["errorCode"], "P433", "{path}: {record}");
        assert_eq!(record["error"]["errorName"], "insufficient-funds", "{path}");
        // Also readable as the webhooks' {description, status} error.
        assert_eq!(record["error"]["status"], "P433", "{path}");
    }
    // The typed client reads the failed record too (open enums).
    assert_eq!(
        exchange_status(&client, &id).await,
        types::ExchangeStatus::Failed
    );
    // SEPA fee (0.1 %, min 1.00) made 49.50 + 1.00 > 50.00; nothing moved.
    assert_eq!(sandbox.balance(&user("carol"), "eur"), before_eur);
    assert_eq!(sandbox.balance(&user("carol"), "eth"), Some(Decimal::ZERO));
    assert_eq!(sandbox.balance(&Holder::Partner, "eur"), before_partner);
    assert_eq!(sandbox.balance(&Holder::Partner, "btc"), Some(dec("100")));
}

#[tokio::test]
async fn withdrawals_and_payouts_debit_amount_and_fees() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    funded_user(&sandbox, &client, "dave", "usdt", "100.000000").await;
    let id = client
        .crypto_withdrawal_create()
        .body(
            types::CreateCryptoWithdrawalRequest::builder()
                .source_external_user_id("dave")
                .currency("USDT")
                .amount(DecimalNumber(dec("50")))
                .network(Some("POLYGON".to_string()))
                .wallet_address("0x2e90ca5bbe46d5ae23f2df90457d020391b92673".to_string())
                .name("Dave".to_string())
                .wallet_type(types::WalletType::NonCustodial)
                .receiver_type(types::ReceiverType::Natural),
        )
        .send()
        .await
        .expect("accepted")
        .into_inner()
        .withdrawal_id;
    // 50 + 0.5 service fee + 0.05 network fee on polygon.
    assert_eq!(sandbox.balance(&user("dave"), "usdt"), Some(dec("49.45")));
    sandbox.advance(SETTLE);
    let details = client
        .crypto_withdrawal_get()
        .withdrawal_id(id)
        .send()
        .await
        .expect("details")
        .into_inner();
    assert_eq!(details.status.0, "SUCCESSFUL");
    assert!(details.transaction_hash.is_some());

    let partner_eur = sandbox.balance(&Holder::Partner, "eur").expect("eur");
    let sepa = client
        .partner_create_sepa_transfer()
        .body(
            types::PartnerCreateSepaTransferRequest::builder()
                .amount(DecimalString(dec("2000")))
                .currency("eur")
                .destination_iban("PL09102044050000210205531111")
                .transfer_title("payout"),
        )
        .send()
        .await
        .expect("accepted")
        .into_inner()
        .transfer_id;
    sandbox.advance(SETTLE);
    let details = client
        .sepa_transfer_get()
        .transfer_id(sepa)
        .send()
        .await
        .expect("details")
        .into_inner();
    assert_eq!(details.status, types::SepaTransferStatus::Successful);
    assert_eq!(details.fee.map(|f| f.to_string()), Some("2.00".to_string()));
    assert_eq!(
        sandbox.balance(&Holder::Partner, "eur"),
        Some(partner_eur - dec("2002.00"))
    );
}

#[tokio::test]
async fn a_lock_expires_after_its_ttl_and_cannot_be_reused() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    let exchange = |lock: uuid::Uuid, from: &'static str, to: &'static str| {
        partner_exchange(&client, lock, "1", from, to)
    };
    let lock = || client.partner_create_exchange_lock().send();

    // Expired: 60 s and a moment later.
    let old = lock().await.expect("lock").into_inner().id;
    sandbox.advance(Duration::from_secs(60));
    let still_valid = lock().await.expect("lock").into_inner().id;
    sandbox.advance(Duration::from_millis(1));
    let error = assert_api_error(exchange(old, "eth", "eur").await, 400, "P432");
    assert!(error.error_message.unwrap_or_default().contains("expired"));

    // Valid until its validUntil, then used once only.
    exchange(still_valid, "eth", "eur")
        .await
        .expect("valid lock");
    let error = assert_api_error(exchange(still_valid, "eth", "eur").await, 400, "P432");
    assert!(error
        .error_message
        .unwrap_or_default()
        .contains("already used"));

    // Unknown lock, and a user's lock used for the partner.
    let (_, error) = api_error(exchange(uuid::Uuid::new_v4(), "eth", "eur").await);
    assert_eq!(error.error_code, "P432");
    create_user(&client, "erin").await;
    let users_lock = client
        .exchange_create_lock()
        .external_user_id("erin")
        .send()
        .await
        .expect("lock")
        .into_inner()
        .id;
    let (_, error) = api_error(exchange(users_lock, "eth", "eur").await);
    assert_eq!(error.error_code, "P432");

    // Same currency on both sides.
    let fresh = lock().await.expect("lock").into_inner().id;
    assert_api_error(exchange(fresh, "eth", "eth").await, 400, "P457");
}

#[tokio::test]
async fn a_configured_lock_ttl_applies() {
    let sandbox = manual_sandbox(Config::default().with_lock_ttl(Duration::from_secs(40))).await;
    let lock = sandbox
        .client()
        .partner_create_exchange_lock()
        .send()
        .await
        .expect("lock")
        .into_inner();
    assert_eq!(
        lock.valid_until - lock.created_at,
        chrono::Duration::seconds(40)
    );
}

#[tokio::test]
async fn rates_follow_a_seeded_walk() {
    let a = manual_sandbox(Config::default().with_seed(7)).await;
    let b = manual_sandbox(Config::default().with_seed(7)).await;
    let c = manual_sandbox(Config::default().with_seed(8)).await;
    let rates = |s: &Sandbox| {
        let client = s.client();
        async move {
            client
                .exchange_get_rate()
                .send()
                .await
                .expect("rates")
                .into_inner()
        }
    };
    assert_eq!(rates(&a).await, rates(&b).await);
    assert_ne!(rates(&a).await, rates(&c).await);
    let before = rates(&a).await;
    a.advance(Duration::from_secs(600));
    assert_ne!(rates(&a).await, before, "the walk moves with sandbox time");
}

#[tokio::test]
async fn orders_and_payment_links_reach_their_final_status() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    let partner_eur = sandbox.balance(&Holder::Partner, "eur").expect("eur");
    let lock = client
        .order_create_lock()
        .body(
            types::CreateOrderLockRequest::builder()
                .currency("usdc")
                .amount(DecimalString(dec("346.59")))
                .network("polygon"),
        )
        .send()
        .await
        .expect("order lock")
        .into_inner();
    let order_id = client
        .order_create()
        .body(types::CreateOrderRequest::builder().lock_id(lock.lock_id))
        .send()
        .await
        .expect("order")
        .into_inner()
        .order_id;
    let get = || client.order_get().order_id(order_id).send();
    let first = get().await.expect("order").into_inner();
    assert_eq!(first.status, types::OrderStatus::WaitingForWalletAddress);
    assert_eq!(first.wallet_address, None);
    sandbox.advance(SETTLE);
    let second = get().await.expect("order").into_inner();
    assert_eq!(second.status, types::OrderStatus::WaitingForConfirmation);
    assert!(second.wallet_address.is_some());
    sandbox.advance(SETTLE);
    let done = get().await.expect("order").into_inner();
    assert_eq!(done.status, types::OrderStatus::Unknown("COMPLETED".into()));
    assert_eq!(done.received_amount, Some(lock.amount));
    assert_eq!(
        sandbox.balance(&Holder::Partner, "eur"),
        Some(partner_eur + dec("346.59"))
    );
    // The lock was used.
    let (_, error) = api_error(
        client
            .order_create()
            .body(types::CreateOrderRequest::builder().lock_id(lock.lock_id))
            .send()
            .await,
    );
    assert_eq!(error.error_code, "P432");

    let mut request = serde_json::Map::new();
    request.insert("amount".into(), "25.00".into());
    let link = client
        .payment_link_create()
        .body(types::CreatePaymentLinkRequest::from(request))
        .send()
        .await
        .expect("link")
        .into_inner()
        .payment_link_id
        .expect("id");
    let status = |c: &p100_api::Client| {
        let c = c.clone();
        let link = link.clone();
        async move {
            c.payment_link_get()
                .payment_link_id(link)
                .send()
                .await
                .expect("link")
                .into_inner()
                .status
                .0
        }
    };
    assert_eq!(status(&client).await, "PENDING");
    sandbox.advance(SETTLE);
    assert_eq!(status(&client).await, "COMPLETED");
}

#[tokio::test]
async fn settlement_happens_by_itself_on_a_scaled_real_clock() {
    // 2 s of sandbox time take 2 ms.
    let sandbox = Sandbox::start_with(
        Config::default()
            .with_time_scale(0.001)
            .with_settle_after(SETTLE)
            .with_seed_examples(false)
            .with_unsent_webhook_bodies(),
    )
    .await
    .expect("start");
    let client = sandbox.client();
    let id = locked_partner_exchange(&client, "1", "eth", "eur").await;
    // The Exchange webhook is emitted (recorded even without a URL) when it settles.
    let deliveries = sandbox
        .wait_for_deliveries(Duration::from_secs(10), |d| {
            d.iter().any(|d| d.kind == "exchange")
        })
        .await
        .expect("settled in time");
    assert_eq!(deliveries[0].json()["exchangeId"], id.to_string());
    assert_eq!(
        exchange_status(&client, &id).await,
        types::ExchangeStatus::Completed
    );
}

#[tokio::test(start_paused = true)]
async fn tokio_s_paused_clock_drives_the_sandbox_too() {
    // Sandbox time reads tokio's clock: under a paused clock, a sleep of the settle delay
    // passes at once and exactly.
    let sandbox = Sandbox::start_with(
        Config::default()
            .with_settle_after(SETTLE)
            .with_seed_examples(false),
    )
    .await
    .expect("start");
    let client = sandbox.client();
    let id = locked_partner_exchange(&client, "1", "eth", "eur").await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(
        exchange_status(&client, &id).await,
        types::ExchangeStatus::Completed
    );
}

/// The status of the exchange `id`, as the typed client reads it.
async fn exchange_status(client: &p100_api::Client, id: &str) -> types::ExchangeStatus {
    client
        .exchange_get()
        .exchange_id(id)
        .send()
        .await
        .expect("details")
        .into_inner()
        .status
}
