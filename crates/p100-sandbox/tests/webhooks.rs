//! Webhooks: delivered to the URL of their kind with the token in `Authorization`, the spec's
//! payload, retried 8/16/32/64 s after failures until acknowledged, given up after 5 attempts.

mod common;

use std::time::Duration;

use common::{
    create_user, funded_user, locked_partner_exchange, manual_sandbox, transfer_to, Receiver,
    SETTLE,
};
use p100_api::types;
use p100_sandbox::{Config, DeliveryState, Sandbox};

#[tokio::test]
async fn a_webhook_is_retried_on_the_schedule_until_acknowledged() {
    let mut receiver = Receiver::start(3).await;
    let sandbox = manual_sandbox(
        Config::default()
            .with_webhook("p2p_transfer", format!("{}/p100/p2p", receiver.base_url))
            .with_webhook_token("secret-token"),
    )
    .await;
    let client = sandbox.client();
    create_user(&client, "alice").await;
    let transfer = transfer_to(&client, "alice", "10", "eur")
        .await
        .expect("accepted")
        .into_inner()
        .transfer_id;
    assert!(
        receiver.try_next().is_none(),
        "nothing before the settlement"
    );

    sandbox.advance(SETTLE);
    let first = receiver.next().await;
    assert_eq!(first.path, "/p100/p2p");
    assert_eq!(first.authorization.as_deref(), Some("secret-token"));
    // The spec's payload for this kind.
    let payload: types::P2pTransferWebhook =
        serde_json::from_value(first.body.clone()).expect("P2pTransferWebhook");
    assert_eq!(payload.id, transfer);
    assert_eq!(payload.status, types::TransferStatus::Successful);
    assert_eq!(
        payload.destination_external_user_id.as_deref(),
        Some("alice")
    );
    assert_eq!(payload.source_external_user_id, None);

    // Failed (500): the next attempt comes 8 s later, not before.
    let attempts = |n: usize| {
        sandbox.wait_for_deliveries(Duration::from_secs(10), move |d| {
            d.iter()
                .any(|d| d.kind == "p2p_transfer" && d.attempts.len() >= n)
        })
    };
    attempts(1).await.expect("first attempt recorded");
    for (n, delay) in [(2, 8), (3, 16), (4, 32)] {
        sandbox.advance(Duration::from_secs(delay) - Duration::from_millis(1));
        // Give a premature attempt every chance to show up.
        tokio::task::yield_now().await;
        assert!(receiver.try_next().is_none(), "attempt {n} came early");
        sandbox.advance(Duration::from_millis(1));
        let hit = receiver.next().await;
        assert_eq!(hit.body, first.body, "a retry repeats the event");
        assert_eq!(hit.authorization.as_deref(), Some("secret-token"));
        attempts(n).await.expect("attempt recorded");
    }

    let deliveries = sandbox
        .wait_for_deliveries(Duration::from_secs(10), |d| {
            d.iter()
                .any(|d| d.kind == "p2p_transfer" && d.state == DeliveryState::Delivered)
        })
        .await
        .expect("acknowledged");
    let delivery = deliveries
        .iter()
        .find(|d| d.kind == "p2p_transfer")
        .expect("delivery");
    let times: Vec<Duration> = delivery.attempts.iter().map(|a| a.at).collect();
    let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, [8, 16, 32]);
    let statuses: Vec<Option<u16>> = delivery.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(500), Some(200)]);

    // Acknowledged: nothing more, however long we wait.
    sandbox.advance(Duration::from_secs(3600));
    tokio::task::yield_now().await;
    assert!(receiver.try_next().is_none());
}

#[tokio::test]
async fn p100_gives_up_after_five_attempts() {
    let mut receiver = Receiver::start(usize::MAX).await;
    let sandbox = manual_sandbox(
        Config::default().with_default_webhook_url(format!("{}/all", receiver.base_url)),
    )
    .await;
    let client = sandbox.client();
    locked_partner_exchange(&client, "2", "eth", "eur").await;
    sandbox.advance(SETTLE);
    let waits = [8, 16, 32, 64, 3600];
    for n in 1..=5 {
        let hit = receiver.next().await;
        assert_eq!(hit.body["status"], "COMPLETED");
        sandbox
            .wait_for_deliveries(Duration::from_secs(10), |d| {
                d.iter()
                    .any(|d| d.kind == "exchange" && d.attempts.len() >= n)
            })
            .await
            .expect("attempt recorded");
        sandbox.advance(Duration::from_secs(waits[n - 1]));
    }
    let deliveries = sandbox.deliveries();
    let exchange = deliveries
        .iter()
        .find(|d| d.kind == "exchange")
        .expect("exchange");
    assert_eq!(exchange.state, DeliveryState::Failed);
    assert_eq!(exchange.attempts.len(), 5);
    let offsets: Vec<u64> = exchange
        .attempts
        .iter()
        .map(|a| (a.at - exchange.attempts[0].at).as_secs())
        .collect();
    assert_eq!(offsets, [0, 8, 24, 56, 120]);
    sandbox.advance(Duration::from_secs(3600));
    tokio::task::yield_now().await;
    assert!(receiver.try_next().is_none(), "no sixth attempt");
}

#[tokio::test]
async fn the_retry_schedule_is_scaled_by_the_time_factor() {
    // 8/16/32 s at a factor of 0.005: 40, 80, 160 ms of real time.
    let scale = 0.005;
    let mut receiver = Receiver::start(3).await;
    let sandbox = Sandbox::start_with(
        Config::default()
            .with_time_scale(scale)
            .with_settle_after(Duration::ZERO)
            .with_seed_examples(false)
            .with_webhook("exchange", format!("{}/exchange", receiver.base_url)),
    )
    .await
    .expect("start");
    let client = sandbox.client();
    locked_partner_exchange(&client, "2", "eth", "eur").await;
    let mut arrivals = Vec::new();
    for _ in 0..4 {
        arrivals.push(receiver.next().await.at);
    }
    for (i, nominal) in [8.0, 16.0, 32.0].into_iter().enumerate() {
        let gap = arrivals[i + 1] - arrivals[i];
        let expected = Duration::from_secs_f64(nominal * scale);
        assert!(gap >= expected, "gap {i}: {gap:?} < {expected:?}");
        assert!(
            gap < expected * 4 + Duration::from_secs(1),
            "gap {i}: {gap:?} much later than {expected:?}"
        );
    }
}

#[tokio::test]
async fn kyc_and_balance_webhooks_follow_the_onboarding() {
    let mut receiver = Receiver::start(0).await;
    let sandbox = manual_sandbox(
        Config::default().with_default_webhook_url(format!("{}/hooks", receiver.base_url)),
    )
    .await;
    let client = sandbox.client();
    create_user(&client, "kim").await;
    let verification = client
        .kyc_create_verification()
        .body(common::kyc_request("kim"))
        .send()
        .await
        .expect("verification")
        .into_inner();
    assert!(verification.verification_id.is_some());

    let first: types::KycVerificationStatusWebhook = receiver.next_payload().await;
    assert_eq!(first.attempt_status, types::KycAttemptStatus::Pending);
    let status = || client.kyc_get_status().external_user_id("kim").send();
    assert_eq!(
        status()
            .await
            .expect("status")
            .into_inner()
            .verification_status,
        Some(types::KycVerificationStatus::NotVerified)
    );
    sandbox.advance(SETTLE);
    let second: types::KycVerificationStatusWebhook = receiver.next_payload().await;
    assert_eq!(second.attempt_status, types::KycAttemptStatus::Verification);
    sandbox.advance(SETTLE);
    let third: types::KycVerificationStatusWebhook = receiver.next_payload().await;
    assert_eq!(
        third.verification_status,
        types::KycVerificationStatus::Verified
    );
    let activated: types::UserBalanceGenerationWebhook = receiver.next_payload().await;
    assert_eq!(activated.status, types::BalanceStatus::Active);

    let balances = client
        .user_get_balances()
        .external_user_id("kim")
        .send()
        .await
        .expect("balances")
        .into_inner();
    assert_eq!(
        balances.fiat_balances[0].status,
        Some(types::BalanceStatus::Active)
    );
    assert!(balances.fiat_balances[0].iban.is_some());

    // Method A: a KYC file upload reports ADDED at once.
    let boundary = "sandbox-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"front.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\nJPEGDATA\r\n--{boundary}--\r\n"
    );
    let response = reqwest::Client::new()
        .post(format!("{}/v1/user/kyc-files/kim", sandbox.base_url()))
        .header("x-api-key", sandbox.api_key())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 200);
    let added: types::KycFileAddedWebhook = receiver.next_payload().await;
    assert_eq!(added.status, types::KycFileStatus::Added);
}

#[tokio::test]
async fn a_crypto_deposit_waits_for_travel_rule_data() {
    let mut receiver = Receiver::start(0).await;
    let sandbox = manual_sandbox(
        Config::default().with_webhook("crypto_deposit", format!("{}/deposit", receiver.base_url)),
    )
    .await;
    let client = sandbox.client();
    funded_user(&sandbox, &client, "lee", "eur", "1.00").await;
    let id = sandbox
        .simulate_crypto_deposit("lee", "eth", "0.001".parse().expect("amount"), true)
        .expect("deposit");
    let waiting: types::CryptoDepositWebhook = receiver.next_payload().await;
    assert_eq!(waiting.status, types::CryptoDepositStatus::WaitingForTrData);
    assert_eq!(waiting.crypto_deposit_id, id);
    client
        .crypto_deposit_update_travel_rule()
        .crypto_deposit_id(id.to_string())
        .body(types::UpdateTravelRuleRequest::default())
        .send()
        .await
        .expect("travel rule");
    let verifying: types::CryptoDepositWebhook = receiver.next_payload().await;
    assert_eq!(
        verifying.status,
        types::CryptoDepositStatus::WaitingForVerification
    );
    sandbox.advance(SETTLE);
    let done: types::CryptoDepositWebhook = receiver.next_payload().await;
    assert_eq!(done.status, types::CryptoDepositStatus::Successful);
    assert_eq!(
        sandbox.balance(&p100_sandbox::Holder::User("lee".into()), "eth"),
        Some("0.001".parse().expect("amount"))
    );
}

#[tokio::test]
async fn kind_in_the_default_url_is_replaced_by_the_kind() {
    let mut receiver = Receiver::start(0).await;
    let sandbox = manual_sandbox(
        Config::default().with_default_webhook_url(format!("{}/hooks/{{kind}}", receiver.base_url)),
    )
    .await;
    funded_user(&sandbox, &sandbox.client(), "ana", "eur", "10").await;
    let received = receiver.next().await;
    assert_eq!(received.path, "/hooks/p2p_transfer");
    let deliveries = sandbox.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].url.as_deref(),
        Some(format!("{}/hooks/p2p_transfer", receiver.base_url).as_str())
    );
}
