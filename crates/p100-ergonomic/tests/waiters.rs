//! Waiters on loopback servers that script status sequences, under a paused clock: what each
//! outcome returns, how the polls are spaced, that every kind polls its own endpoint, and the
//! stream of status changes.

mod support;

use std::time::Duration;

use futures::StreamExt;
use p100_ergonomic::types::{self, ExchangeDetails};
use p100_ergonomic::wait::{StatusClass, WaitError, WaitPolicy, Waitable};
use p100_ergonomic::{Jitter, RetryPolicy};
use serde_json::{json, Value};
use support::{client, fact, Reply, ScriptServer};

const EXCHANGE_ID: &str = "3f0aeaa7-1177-4d77-9985-0cb987809801";

/// No jitter: polls at 0, 2, 6, 14, 24, … s.
fn exact() -> WaitPolicy {
    WaitPolicy::default().with_jitter(Jitter::none())
}

fn exchange(status: &str) -> Reply {
    Reply::json(
        200,
        &json!({"id": EXCHANGE_ID, "amount": 10, "currencyFrom": "eth", "currencyTo": "eur",
                "rate": 3329.10789425, "status": status})
        .to_string(),
    )
}

/// The documented example of a facts entry's first response, as JSON.
fn documented(file: &str, title: &str, example: &str) -> Value {
    let entry = fact(file, title);
    let example = &entry["responses"][0][example];
    serde_json::to_value(example).expect("YAML example as JSON")
}

fn with(mut body: Value, fields: Value) -> Reply {
    if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
        body.extend(fields.clone());
    }
    Reply::json(200, &body.to_string())
}

#[tokio::test(start_paused = true)]
async fn pending_then_completed_returns_the_record() {
    let server = ScriptServer::start(vec![
        exchange("PENDING"),
        exchange("PENDING"),
        exchange("COMPLETED"),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let settled = client
        .wait_for_exchange(EXCHANGE_ID)
        .policy(exact())
        .wait()
        .await
        .expect("completed");

    assert_eq!(settled.record.status, types::ExchangeStatus::Completed);
    assert_eq!(
        settled.record.rate.map(|r| r.to_string()).as_deref(),
        Some("3329.10789425")
    );
    assert_eq!(settled.status, types::ExchangeStatus::Completed);
    assert_eq!(settled.id, EXCHANGE_ID);
    assert_eq!(
        (settled.polls, settled.elapsed),
        (3, Duration::from_secs(6))
    );
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.method == "GET"
        && r.path == format!("/v1/exchange/details/{EXCHANGE_ID}")
        && r.header("x-api-key") == Some(support::KEY)));
    assert_eq!(server.gaps_ms(), vec![2000, 4000]);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_can_be_awaited_directly() {
    let server = ScriptServer::start(vec![exchange("completed")]).await;
    let client = client(&server.url(), RetryPolicy::none());

    // The oldest exchange page wrote the final statuses in lowercase.
    let settled = client
        .wait_for_exchange(EXCHANGE_ID)
        .await
        .expect("completed");

    assert_eq!(settled.polls, 1);
    // Success, with the status typed and its text kept as P100 sent it.
    assert_eq!(
        settled.status,
        types::ExchangeStatus::Unknown("completed".into())
    );
}

#[tokio::test(start_paused = true)]
async fn failed_state_returns_the_record_with_p100s_error() {
    // The documented SEPA transfer, as P100 would show it after the bank refused it.
    let transfer = documented(
        "partner-operations.yaml",
        "Get SEPA Transfer Details",
        "example",
    );
    let id = transfer["id"].as_str().unwrap_or_default().to_string();
    let server = ScriptServer::start(vec![
        with(transfer.clone(), json!({"status": "PROCESSING"})),
        with(
            transfer,
            json!({"status": "FAILED",
                   "error": {"description": "IBAN is closed", "status": "REJECTED_BY_BANK"}}),
        ),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = client
        .wait_for_sepa_transfer(&id)
        .policy(exact())
        .wait()
        .await
        .expect_err("failed state");

    let WaitError::Failed(failed) = &error else {
        panic!("expected a failed state, got {error:?}");
    };
    assert_eq!(failed.record.status, types::SepaTransferStatus::Failed);
    assert_eq!(failed.record.amount.to_string(), "16.02");
    assert_eq!(failed.status, types::SepaTransferStatus::Failed);
    let reason = failed.reason.as_ref().expect("P100's error object");
    assert_eq!(reason.description.as_deref(), Some("IBAN is closed"));
    assert_eq!(reason.code_text.as_deref(), Some("REJECTED_BY_BANK"));
    assert_eq!(
        reason.code,
        Some(p100_ergonomic::ErrorCode::Unknown(
            "REJECTED_BY_BANK".into()
        ))
    );
    assert_eq!(reason.raw["status"], "REJECTED_BY_BANK");
    assert_eq!(failed.polls, 2);
    assert!(error.is_failed() && !error.is_timeout());
    assert_eq!(
        error.to_string(),
        format!("SEPA transfer {id} failed with status FAILED: REJECTED_BY_BANK: IBAN is closed")
    );
    assert!(server.requests()[0]
        .path
        .ends_with(&format!("/v1/sepa-transfer/details/{id}")));
}

#[tokio::test(start_paused = true)]
async fn a_never_final_status_times_out_within_the_bound() {
    let server = ScriptServer::start_with(|_| exchange("PENDING")).await;
    let client = client(&server.url(), RetryPolicy::none());
    let policy = WaitPolicy::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(4))
        .with_max_wait(Duration::from_secs(30))
        .with_jitter(Jitter::seeded(42));
    let start = tokio::time::Instant::now();

    let error = client
        .wait_for_exchange(EXCHANGE_ID)
        .policy(policy.clone())
        .wait()
        .await
        .expect_err("never final");

    let WaitError::TimedOut(late) = &error else {
        panic!("expected a timeout, got {error:?}");
    };
    let requests = server.requests();
    assert_eq!(late.polls as usize, requests.len());
    assert!(
        late.polls <= policy.max_polls(),
        "{} > {}",
        late.polls,
        policy.max_polls()
    );
    assert!(
        late.polls >= 9,
        "at least 30 s / 4 s polls, got {}",
        late.polls
    );
    assert_eq!(late.status.as_ref().map(|s| s.as_str()), Some("PENDING"));
    assert_eq!(
        late.last.status,
        types::ExchangeStatus::Unknown("PENDING".into())
    );
    // The last poll happens at the end of the budget, not after it.
    assert_eq!(late.elapsed, Duration::from_secs(30));
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert_eq!(
        requests[requests.len() - 1].at - requests[0].at,
        Duration::from_secs(30)
    );
    let gaps = server.gaps_ms();
    assert!(gaps.iter().all(|gap| *gap <= 4000), "{gaps:?}");
    assert!(
        gaps[..gaps.len() - 1].iter().all(|gap| *gap >= 1000),
        "{gaps:?}"
    );
    assert!(error.is_timeout());
}

#[tokio::test(start_paused = true)]
async fn the_default_policy_notices_a_60_second_settlement_in_at_most_ten_polls() {
    for _ in 0..20 {
        let server = ScriptServer::start_with({
            let start = tokio::time::Instant::now();
            move |request| {
                if request.at - start >= Duration::from_secs(60) {
                    exchange("COMPLETED")
                } else {
                    exchange("PENDING")
                }
            }
        })
        .await;
        let client = client(&server.url(), RetryPolicy::none());

        let settled = client
            .wait_for_exchange(EXCHANGE_ID)
            .await
            .expect("settles");

        assert!(settled.polls <= 10, "{} polls", settled.polls);
        let lag = settled.elapsed - Duration::from_secs(60);
        assert!(lag <= WaitPolicy::default().max_delay(), "{lag:?} late");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_poll_ends_the_wait_with_the_last_record() {
    let server = ScriptServer::start(vec![
        exchange("PENDING"),
        Reply::json(
            404,
            r#"{"errorCode":"P412","errorName":"invalid-user","errorMessage":"gone"}"#,
        ),
        exchange("COMPLETED"),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = client
        .wait_for_exchange(EXCHANGE_ID)
        .policy(exact())
        .wait()
        .await
        .expect_err("call failed");

    let WaitError::CallFailed(call) = &error else {
        panic!("expected a failed call, got {error:?}");
    };
    assert!(call.error.is_not_found());
    assert_eq!(call.error.operation(), Some("exchange_get"));
    assert_eq!(call.polls, 2);
    assert_eq!(
        call.last.as_ref().map(|r| r.status.clone()),
        Some(types::ExchangeStatus::Unknown("PENDING".into()))
    );
    assert!(std::error::Error::source(&error).is_some());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn each_poll_is_retried_by_the_client_policy() {
    let server = ScriptServer::start(vec![
        Reply::text(503, "busy"),
        Reply::Close,
        exchange("COMPLETED"),
    ])
    .await;
    let retry = RetryPolicy::default()
        .with_initial_delay(Duration::from_millis(100))
        .with_jitter(Jitter::none());
    let client = client(&server.url(), retry);

    let settled = client
        .wait_for_exchange(EXCHANGE_ID)
        .await
        .expect("third attempt");

    assert_eq!(settled.polls, 1);
    assert_eq!(server.gaps_ms(), vec![100, 200]);
}

#[tokio::test(start_paused = true)]
async fn status_changes_stream_each_new_status_then_the_final_one() {
    let order = documented("partner-operations.yaml", "Get Order Details", "example");
    let id = order["orderId"].as_str().unwrap_or_default().to_string();
    let waiting = json!({"status": "WAITING_FOR_WALLET_ADDRESS", "walletAddress": null});
    let server = ScriptServer::start(vec![
        with(order.clone(), waiting.clone()),
        with(order.clone(), waiting),
        with(order.clone(), json!({"status": "WAITING_FOR_CONFIRMATION"})),
        with(order.clone(), json!({"status": "WAITING_FOR_CONFIRMATION"})),
        with(order, json!({"status": "COMPLETED", "confirmations": 3})),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let changes: Vec<_> = client
        .wait_for_order(&id)
        .policy(exact())
        .status_changes()
        .collect()
        .await;

    let seen: Vec<(Option<String>, StatusClass, u32)> = changes
        .iter()
        .map(|change| {
            let change = change.as_ref().expect("no error");
            (
                change.status.as_ref().map(ToString::to_string),
                change.class,
                change.polls,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                Some("WAITING_FOR_WALLET_ADDRESS".into()),
                StatusClass::InProgress,
                1
            ),
            (
                Some("WAITING_FOR_CONFIRMATION".into()),
                StatusClass::InProgress,
                3
            ),
            (Some("COMPLETED".into()), StatusClass::Succeeded, 5),
        ]
    );
    let first = changes[0].as_ref().expect("first");
    assert_eq!(first.record.wallet_address, None);
    let last = changes[2].as_ref().expect("last");
    assert_eq!(last.record.confirmations, Some(3));
    assert!(last.class.is_final());
}

#[tokio::test(start_paused = true)]
async fn status_changes_end_with_the_error() {
    let server = ScriptServer::start_with(|_| exchange("QUEUED")).await;
    let client = client(&server.url(), RetryPolicy::none());

    let changes: Vec<_> = client
        .wait_for_exchange(EXCHANGE_ID)
        .max_wait(Duration::from_secs(20))
        .status_changes()
        .collect()
        .await;

    assert_eq!(changes.len(), 2, "one change, then the timeout");
    assert!(changes[0].is_ok());
    assert!(matches!(&changes[1], Err(WaitError::TimedOut(late)) if late.polls > 1));
}

#[tokio::test(start_paused = true)]
async fn treat_gives_an_unlisted_status_a_meaning() {
    let server = ScriptServer::start(vec![exchange("PROCESSING"), exchange("SETTLED")]).await;
    let client = client(&server.url(), RetryPolicy::none());

    let settled = client
        .wait_for_exchange(EXCHANGE_ID)
        .treat("settled", StatusClass::Succeeded)
        .treat("PROCESSING", StatusClass::InProgress)
        .await
        .expect("settled counts as success");

    assert_eq!(settled.status.as_str(), "SETTLED");
    assert!(settled.status.is_unknown());
}

#[tokio::test(start_paused = true)]
async fn kyc_rejection_carries_the_providers_reason() {
    let entry = fact("webhooks.yaml", "KYC Verification Status Webhook");
    let rejected = serde_json::to_value(&entry["examples"][0]["payload"]).expect("JSON");
    let user = rejected["externalUserId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let server = ScriptServer::start(vec![
        Reply::json(
            200,
            &json!({"externalUserId": user, "verificationStatus": "NOT_VERIFIED",
                    "attemptStatus": "VERIFICATION"})
            .to_string(),
        ),
        Reply::json(200, &rejected.to_string()),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = client
        .wait_for_kyc(&user)
        .policy(exact())
        .wait()
        .await
        .expect_err("rejected");

    let WaitError::Failed(failed) = error else {
        panic!("expected a failed state");
    };
    assert_eq!(
        failed.status.to_string(),
        "NOT_VERIFIED/REJECTED_BY_PROVIDER"
    );
    assert_eq!(
        failed.reason.and_then(|r| r.code_text).as_deref(),
        Some("NO_FACE_FOUND")
    );
    assert_eq!(server.requests()[0].path, format!("/v1/kyc/status/{user}"));
}

/// Waits for one record that is final at once and returns the path that was polled.
async fn polled_path<T: Waitable>(id: &str, body: Value) -> String {
    let server = ScriptServer::start(vec![Reply::json(200, &body.to_string())]).await;
    let client = client(&server.url(), RetryPolicy::none());
    let settled = client
        .wait_until_final::<T>(id)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", T::KIND));
    assert_eq!(settled.polls, 1, "{}", T::KIND);
    server.requests()[0].path.clone()
}

#[tokio::test(start_paused = true)]
async fn every_kind_polls_its_details_endpoint() {
    let id = "7fb02323-969a-4936-94ea-86b8773ff1a2";
    let sepa = documented(
        "user-money.yaml",
        "Get SEPA Transfer Details",
        "example_old_github",
    );
    let transfer = documented(
        "user-money.yaml",
        "Get Transfer Details",
        "example_partial_github",
    );
    let mut order = documented("partner-operations.yaml", "Get Order Details", "example");
    order["status"] = json!("COMPLETED");
    let paths = [
        polled_path::<ExchangeDetails>(id, json!({"status": "COMPLETED"})).await,
        polled_path::<types::SepaTransferDetails>(id, sepa).await,
        polled_path::<types::CryptoWithdrawalDetails>(
            id,
            json!({"id": id, "status": "SUCCESSFUL"}),
        )
        .await,
        polled_path::<types::TransferDetails>(id, transfer).await,
        polled_path::<types::OrderDetails>(id, order).await,
        polled_path::<types::PaymentLinkDetails>(
            id,
            json!({"paymentLinkId": id, "status": "PAID"}),
        )
        .await,
        polled_path::<types::KycStatus>("user 42/x", json!({"verificationStatus": "VERIFIED"}))
            .await,
    ];
    assert_eq!(
        paths,
        [
            format!("/v1/exchange/details/{id}"),
            format!("/v1/sepa-transfer/details/{id}"),
            format!("/v1/crypto-withdrawal/details/{id}"),
            format!("/v1/transfer/details/{id}"),
            format!("/v1/order/details/{id}"),
            format!("/v1/payment-link/details/{id}"),
            // Path parameters are percent-encoded, as the generated client does.
            "/v1/kyc/status/user%2042%2Fx".to_string(),
        ]
    );
}

/// The waiters build their requests themselves (to keep the raw JSON): their paths must be the
/// spec's.
#[test]
fn waiter_paths_are_the_specs() {
    let spec_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/p100.yaml");
    let spec: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(spec_path).expect("spec")).expect("YAML");
    let get_path = |operation: &str| -> Option<String> {
        spec["paths"].as_mapping()?.iter().find_map(|(path, item)| {
            (item["get"]["operationId"].as_str() == Some(operation))
                .then(|| path.as_str().map(String::from))
                .flatten()
        })
    };
    fn kind<T: Waitable>() -> (&'static str, &'static str) {
        (T::OPERATION_ID, T::PATH)
    }
    for (operation, path) in [
        kind::<ExchangeDetails>(),
        kind::<types::SepaTransferDetails>(),
        kind::<types::CryptoWithdrawalDetails>(),
        kind::<types::TransferDetails>(),
        kind::<types::OrderDetails>(),
        kind::<types::PaymentLinkDetails>(),
        kind::<types::KycStatus>(),
    ] {
        assert_eq!(get_path(operation).as_deref(), Some(path), "{operation}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_is_not_the_record_is_a_decode_error() {
    let server = ScriptServer::start(vec![Reply::json(
        200,
        r#"{"id": 42, "status": "SUCCESSFUL"}"#,
    )])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = client
        .wait_for_transfer("t-1")
        .await
        .expect_err("not a transfer");

    let call = error.call_error().expect("call failed");
    assert_eq!(call.kind(), p100_ergonomic::ErrorKind::Decode);
    assert!(call.body().is_some_and(|b| b.starts_with(b"{\"id\": 42")));
}

/// A poll that fails transiently even after the client's retries (429, 429, 429) does not end
/// the wait while time is left: the waiter polls on, as the AWS SDK's waiters do.
#[tokio::test(start_paused = true)]
async fn transient_poll_failures_are_ridden_out_until_max_wait() {
    let limited = || Reply::text(429, "slow down").header("retry-after", "1");
    let server = ScriptServer::start(vec![
        exchange("PENDING"),
        limited(),
        limited(),
        limited(),
        exchange("COMPLETED"),
    ])
    .await;
    let retry = RetryPolicy::default()
        .with_max_attempts(3)
        .with_jitter(Jitter::none());
    let waiting = client(&server.url(), retry);

    let done = waiting
        .wait_for_exchange(EXCHANGE_ID)
        .policy(exact())
        .wait()
        .await
        .expect("completed after the failed poll");
    assert_eq!(done.status, types::ExchangeStatus::Completed);
    assert_eq!(server.requests().len(), 5);

    // When no poll answers before max_wait, the wait ends with the failure, not a hang.
    let server = ScriptServer::start(vec![limited(); 64]).await;
    let impatient = client(&server.url(), RetryPolicy::none());
    let error = impatient
        .wait_for_exchange(EXCHANGE_ID)
        .policy(exact().with_max_wait(Duration::from_secs(30)))
        .wait()
        .await
        .expect_err("never answered");
    let WaitError::CallFailed(call) = &error else {
        panic!("expected a failed call, got {error:?}");
    };
    assert_eq!(call.error.status().map(|s| s.as_u16()), Some(429));
    assert!(call.polls > 1, "polled on: {}", call.polls);
}
