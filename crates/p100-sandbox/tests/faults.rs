//! Injected faults, from the library handle, the configuration and the admin API: 429 with
//! `Retry-After`, P501, added latency, a connection dropped after processing, forced lock expiry.

mod common;

use std::time::Duration;

use common::{
    api_error, assert_api_error, create_user, json, manual_sandbox, partner_exchange, transfer_to,
    SETTLE,
};
use p100_api::types;
use p100_sandbox::{Config, Fault, FaultRule, Holder, Sandbox};

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_then_lets_requests_through() {
    let sandbox = manual_sandbox(Config::default()).await;
    sandbox
        .add_fault(
            FaultRule::new(Fault::RateLimit {
                retry_after_secs: 7,
            })
            .operation("exchange_get_rate")
            .times(1),
        )
        .expect("rule");
    let http = reqwest::Client::new();
    let get = || {
        http.get(format!("{}/v1/exchange/get-rate", sandbox.base_url()))
            .header("x-api-key", sandbox.api_key())
            .send()
    };
    let limited = get().await.expect("answer");
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "7");
    let error: types::Error = limited.json().await.expect("Error body");
    assert_eq!(
        error.error_code,
        p100_api::catalog::undocumented::RATE_LIMITED.code
    );
    assert_eq!(get().await.expect("answer").status(), 200);
    // Other operations were never affected, and the rule is used up.
    assert!(sandbox.faults().is_empty());
}

#[tokio::test]
async fn unavailable_answers_p501_as_documented_or_with_a_chosen_status() {
    let sandbox = manual_sandbox(
        Config::default().with_fault(
            FaultRule::new(Fault::Unavailable { status: 400 })
                .operation("partner_get_balances")
                .times(1),
        ),
    )
    .await;
    let client = sandbox.client();
    assert_api_error(client.partner_get_balances().send().await, 400, "P501");
    client
        .partner_get_balances()
        .send()
        .await
        .expect("recovered");

    sandbox
        .add_fault(FaultRule::new(Fault::Unavailable { status: 503 }).times(2))
        .expect("rule");
    assert_api_error(client.exchange_get_rate().send().await, 503, "P501");
    let (status, _) = api_error(client.partner_get_sepa_deposit_info().send().await);
    assert_eq!(status, 503);
    client.exchange_get_rate().send().await.expect("recovered");
}

#[tokio::test]
async fn latency_delays_the_answer_by_the_scaled_amount() {
    // 2 s of sandbox latency at a factor of 0.1: 200 ms.
    let sandbox = Sandbox::start_with(
        Config::default()
            .with_time_scale(0.1)
            .with_seed_examples(false)
            .with_fault(FaultRule::new(Fault::Latency { ms: 2000 }).operation("exchange_get_rate")),
    )
    .await
    .expect("start");
    let client = sandbox.client();
    let started = tokio::time::Instant::now();
    client.exchange_get_rate().send().await.expect("rates");
    let slow = started.elapsed();
    assert!(slow >= Duration::from_millis(200), "{slow:?}");
    let started = tokio::time::Instant::now();
    client
        .partner_get_balances()
        .send()
        .await
        .expect("balances");
    assert!(
        started.elapsed() < slow,
        "only the chosen operation is slowed"
    );
}

#[tokio::test]
async fn a_dropped_connection_hides_an_outcome_that_happened() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    create_user(&client, "ann").await;
    let partner_before = sandbox.balance(&Holder::Partner, "eur").expect("eur");
    sandbox
        .add_fault(
            FaultRule::new(Fault::DropAfterProcessing)
                .operation("transfer_create")
                .times(1),
        )
        .expect("rule");

    let outcome = transfer_to(&client, "ann", "75.00", "eur").await;
    // The client sees a transport error, not an answer...
    match outcome {
        Err(p100_api::Error::CommunicationError(e)) => {
            assert!(!e.is_timeout(), "{e}");
            assert!(e.status().is_none(), "{e}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    // ...but the transfer was made: reserved now, credited after the delay.
    assert_eq!(
        sandbox.balance(&Holder::Partner, "eur"),
        Some(partner_before - rust_decimal::Decimal::from(75))
    );
    sandbox.advance(SETTLE);
    assert_eq!(
        sandbox.balance(&Holder::User("ann".into()), "eur"),
        Some(rust_decimal::Decimal::from(75))
    );
    let deliveries = sandbox.deliveries();
    assert!(deliveries.iter().any(|d| d.kind == "p2p_transfer"));
    // The next request goes through on a new connection.
    client.partner_get_balances().send().await.expect("answer");
}

#[tokio::test]
async fn forced_lock_expiry_by_rule_and_by_admin_call() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    let exchange = |lock: uuid::Uuid| partner_exchange(&client, lock, "1", "eth", "eur");
    let lock = || client.partner_create_exchange_lock().send();

    // A rule: the next execution finds its (fresh) lock expired; a new lock then works.
    sandbox
        .add_fault(
            FaultRule::new(Fault::ExpireLock)
                .operation("partner_create_exchange")
                .times(1),
        )
        .expect("rule");
    let fresh = lock().await.expect("lock").into_inner().id;
    assert_api_error(exchange(fresh).await, 400, "P432");
    let next = lock().await.expect("lock").into_inner().id;
    exchange(next).await.expect("re-locked and executed");

    // The admin call: every lock taken so far expires now.
    let a = lock().await.expect("lock").into_inner().id;
    let b = lock().await.expect("lock").into_inner().id;
    assert_eq!(sandbox.expire_locks(), 2);
    for id in [a, b] {
        let (_, error) = api_error(exchange(id).await);
        assert_eq!(error.error_code, "P432");
    }
}

#[tokio::test]
async fn the_admin_api_drives_the_same_controls_over_http() {
    let sandbox = manual_sandbox(Config::default().with_unsent_webhook_bodies()).await;
    let http = reqwest::Client::new();
    let admin = |path: &str| format!("{}/__sandbox/{path}", sandbox.base_url());

    let added = http
        .post(admin("faults"))
        .json(&serde_json::json!({
            "operation": "partner_get_balances", "kind": "rate_limit", "retry_after_secs": 2, "times": 1
        }))
        .send()
        .await
        .expect("answer");
    assert_eq!(added.status(), 201);
    let listed = json(http.get(admin("faults"))).await;
    assert_eq!(listed[0]["kind"], "rate_limit");
    let (status, _) = api_error(sandbox.client().partner_get_balances().send().await);
    assert_eq!(status, 429);

    let bad = http
        .post(admin("faults"))
        .json(&serde_json::json!({"kind": "meteor"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(bad.status(), 400);

    let lock = sandbox
        .client()
        .partner_create_exchange_lock()
        .send()
        .await
        .expect("lock")
        .into_inner();
    let expired = json(http.post(admin("expire-locks"))).await;
    assert_eq!(expired["expired"], 1);
    let _ = lock;

    let before = sandbox.now();
    let advanced = http
        .post(admin("advance"))
        .json(&serde_json::json!({"seconds": 90}))
        .send()
        .await
        .expect("answer");
    assert_eq!(advanced.status(), 200);
    assert_eq!(sandbox.now() - before, Duration::from_secs(90));

    let emitted = http
        .post(admin("webhooks/card_3ds_code"))
        .json(&serde_json::json!({"externalUserId": "u", "code": "123456"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(emitted.status(), 201);
    let deliveries = json(http.get(admin("deliveries"))).await;
    assert_eq!(deliveries[0]["kind"], "card_3ds_code");
    assert_eq!(deliveries[0]["body"]["code"], "123456");
    assert_eq!(deliveries[0]["state"], "no_url");

    let state = json(http.get(admin("state"))).await;
    assert_eq!(state["partner"]["balances"]["eur"], "1000000.00");

    let cleared = http.delete(admin("faults")).send().await.expect("answer");
    assert_eq!(cleared.status(), 204);
    assert!(sandbox.faults().is_empty());
}
