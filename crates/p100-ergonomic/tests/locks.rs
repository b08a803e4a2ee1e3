//! Lock-then-execute on loopback servers under a paused clock: renewal after P432 and before
//! expiry, quote checks, and executes that are never sent twice.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use p100_ergonomic::lock::{ExecuteRequest, LockError, Quote};
use p100_ergonomic::{ExecuteAndWaitError, Jitter, LockPolicy, RetryPolicy, WaitPolicy};
use serde_json::{json, Value};
use support::{client, fact, Recorded, Reply, ScriptServer};

const LOCK_A: &str = "407ea838-6e41-45ed-ae0f-84fb0f5d3863";
const LOCK_B: &str = "ee7b2f0f-0ffb-4fce-8fb3-66db2ca1f461";
const EXCHANGE_ID: &str = "3f0aeaa7-1177-4d77-9985-0cb987809801";
const P432: &str =
    r#"{"errorCode":"P432","errorName":"invalid-exchange-lock","errorMessage":"Lock expired"}"#;

/// The documented user exchange lock (60 s between `createdAt` and `validUntil`), with `id`.
fn exchange_lock(id: &str) -> Value {
    let entry = fact(
        "user-money.yaml",
        "Retrieve Exchange Rate and Create a Lock",
    );
    let mut lock = serde_json::to_value(&entry["responses"][0]["example"]).expect("JSON");
    lock["id"] = json!(id);
    lock
}

fn lock_reply(id: &str) -> Reply {
    Reply::json(200, &exchange_lock(id).to_string())
}

fn created() -> Reply {
    Reply::json(201, &json!({ "exchangeId": EXCHANGE_ID }).to_string())
}

fn posts(requests: &[Recorded]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.method == "POST")
        .map(Recorded::json)
        .collect()
}

fn user_exchange(
    client: &p100_ergonomic::Client,
) -> p100_ergonomic::LockThenExecute<p100_ergonomic::lock::UserExchange> {
    client
        .lock_then_exchange()
        .external_user_id("user-42")
        .amount("0.5")
        .currency_from("eth")
        .currency_to("eur")
}

#[tokio::test(start_paused = true)]
async fn p432_once_then_success_executes_twice_with_two_lock_ids() {
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A),
        Reply::json(400, P432),
        lock_reply(LOCK_B),
        created(),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let executed = user_exchange(&client)
        .send()
        .await
        .expect("second lock executes");

    assert_eq!(executed.id(), EXCHANGE_ID);
    assert_eq!(executed.locks_taken, 2);
    assert_eq!(executed.lock.id.to_string(), LOCK_B);
    let requests = server.requests();
    let calls: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "/v1/exchange/get-lock/user-42"),
            ("POST", "/v1/exchange"),
            ("GET", "/v1/exchange/get-lock/user-42"),
            ("POST", "/v1/exchange"),
        ]
    );
    let bodies = posts(&requests);
    assert_eq!(bodies[0]["lockId"], LOCK_A);
    assert_eq!(bodies[1]["lockId"], LOCK_B);
    assert_eq!(
        bodies[1],
        json!({"sourceExternalUserId": "user-42", "amount": 0.5, "currencyFrom": "eth",
               "currencyTo": "eur", "lockId": LOCK_B})
    );
    assert_eq!(
        executed.request.lock_id().map(|l| l.to_string()).as_deref(),
        Some(LOCK_B)
    );
}

/// The user exchange page never showed its success code (the partner page says 201): an
/// execute answered 200 is a success too, not an unknown outcome with a lost id.
#[tokio::test(start_paused = true)]
async fn an_execute_answered_200_or_201_is_a_success() {
    for status in [200, 201] {
        let server = ScriptServer::start(vec![
            lock_reply(LOCK_A),
            Reply::json(status, &json!({ "exchangeId": EXCHANGE_ID }).to_string()),
        ])
        .await;
        let client = client(&server.url(), RetryPolicy::none());
        let executed = user_exchange(&client)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(executed.id(), EXCHANGE_ID, "{status}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_after_the_execute_was_received_is_not_resent() {
    let server =
        ScriptServer::start(vec![lock_reply(LOCK_A), Reply::Hang, created(), created()]).await;
    let client = support::client_with_timeout(
        &server.url(),
        Some(Duration::from_secs(5)),
        RetryPolicy::default().with_max_attempts(5),
    );

    let error = user_exchange(&client)
        .send()
        .await
        .expect_err("outcome unknown");
    tokio::time::sleep(Duration::from_secs(120)).await;

    assert!(error.may_have_executed());
    let LockError::UnknownOutcome(unknown) = &error else {
        panic!("expected an unknown outcome, got {error:?}");
    };
    assert_eq!(unknown.lock_id.to_string(), LOCK_A);
    assert!(unknown.error.is_timeout(), "{}", unknown.error);
    assert_eq!(unknown.error.operation(), Some("exchange_create"));
    assert_eq!(unknown.locks_taken, 1);
    // The request it carries is the one P100 received.
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "sent once, never again");
    assert_eq!(unknown.request.to_json(), requests[1].json());
    assert!(
        matches!(&unknown.request, ExecuteRequest::Exchange(r) if r.source_external_user_id == "user-42")
    );
    assert_eq!(
        unknown.reconcile.operations(),
        ["user_get_transaction_history", "exchange_get"]
    );
    let message = error.to_string();
    assert!(message.contains(LOCK_A), "{message}");
    assert!(message.contains("was not sent again"), "{message}");
    assert!(
        message.contains("user_get_transaction_history"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn unclear_answers_to_an_execute_are_unknown_outcomes() {
    for reply in [
        Reply::Close,
        Reply::text(502, "Bad Gateway"),
        Reply::text(504, "Gateway Timeout"),
        Reply::json(
            400,
            r#"{"errorCode":"P500","errorName":"unknown-exception"}"#,
        ),
        Reply::json(
            400,
            r#"{"errorCode":"P501","errorName":"service-unavailable"}"#,
        ),
        Reply::json(201, r#"{"exchange": "unreadable"}"#),
    ] {
        let server = ScriptServer::start(vec![lock_reply(LOCK_A), reply.clone(), created()]).await;
        let client = client(&server.url(), RetryPolicy::default().with_max_attempts(5));

        let error = user_exchange(&client).send().await.expect_err("unknown");

        assert!(
            matches!(&error, LockError::UnknownOutcome(u) if u.lock_id.to_string() == LOCK_A),
            "{reply:?}: {error:?}"
        );
        assert_eq!(server.requests().len(), 2, "{reply:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_definite_refusal_moved_nothing() {
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A),
        Reply::json(
            400,
            r#"{"errorCode":"P433","errorName":"insufficient-funds","errorMessage":"Insufficient funds"}"#,
        ),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = user_exchange(&client).send().await.expect_err("refused");

    assert!(!error.may_have_executed());
    let LockError::Rejected {
        lock_id,
        error: cause,
        request,
    } = &error
    else {
        panic!("expected a rejection, got {error:?}");
    };
    assert_eq!(lock_id.to_string(), LOCK_A);
    assert_eq!(
        cause.code(),
        Some(&p100_ergonomic::ErrorCode::InsufficientFunds)
    );
    assert_eq!(request.operation_id(), "exchange_create");
}

#[tokio::test(start_paused = true)]
async fn a_lock_about_to_expire_is_renewed_before_executing() {
    // The first lock arrives 57 s after it was asked for: 3 s of its 60 s are left, less than
    // the 5 s safety margin.
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A).after(Duration::from_secs(57)),
        lock_reply(LOCK_B),
        created(),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let executed = user_exchange(&client)
        .send()
        .await
        .expect("renewed, then executed");

    assert_eq!(executed.locks_taken, 2);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let bodies = posts(&requests);
    assert_eq!(bodies.len(), 1, "the stale lock was never used");
    assert_eq!(bodies[0]["lockId"], LOCK_B);
}

#[tokio::test(start_paused = true)]
async fn a_short_lived_lock_is_renewed_and_the_budget_holds() {
    // A lock valid for 4 s can never leave the 5 s margin: every lock is replaced, none used.
    let mut short = exchange_lock(LOCK_A);
    short["createdAt"] = json!("2025-07-28T11:24:46.000Z");
    short["validUntil"] = json!("2025-07-28T11:24:50.000Z");
    let server = ScriptServer::start_with(move |_| Reply::json(200, &short.to_string())).await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = user_exchange(&client)
        .policy(LockPolicy::default().with_max_locks(4))
        .send()
        .await
        .expect_err("no usable lock");

    assert!(
        matches!(
            error,
            LockError::LocksExhausted {
                locks: 4,
                last: None
            }
        ),
        "{error:?}"
    );
    assert!(server.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(server.requests().len(), 4);

    // With a smaller margin the same lock is usable.
    let server = ScriptServer::start(vec![lock_reply(LOCK_A), created()]).await;
    let client = client_for(&server);
    let executed = user_exchange(&client)
        .policy(LockPolicy::default().with_safety_margin(Duration::from_secs(1)))
        .send()
        .await;
    assert!(executed.is_ok());
}

fn client_for(server: &ScriptServer) -> p100_ergonomic::Client {
    client(&server.url(), RetryPolicy::none())
}

#[tokio::test(start_paused = true)]
async fn repeated_p432_ends_within_the_lock_budget() {
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A),
        Reply::json(400, P432),
        lock_reply(LOCK_B),
        Reply::json(400, P432),
        lock_reply(LOCK_A),
        created(),
    ])
    .await;
    let client = client_for(&server);

    let error = user_exchange(&client)
        .policy(LockPolicy::default().with_max_locks(2))
        .send()
        .await
        .expect_err("budget of two locks");

    let LockError::LocksExhausted { locks, last } = &error else {
        panic!("expected an exhausted budget, got {error:?}");
    };
    assert_eq!(*locks, 2);
    assert_eq!(
        last.as_ref().and_then(|e| e.code()),
        Some(&p100_ergonomic::ErrorCode::InvalidExchangeLock)
    );
    assert_eq!(server.requests().len(), 4);
    assert!(!error.may_have_executed());
}

#[tokio::test(start_paused = true)]
async fn a_rate_below_the_minimum_is_refused_without_executing() {
    let server = ScriptServer::start(vec![lock_reply(LOCK_A), created()]).await;
    let client = client_for(&server);

    // The documented lock quotes 3329.10789425 EUR per ETH.
    let error = user_exchange(&client)
        .min_rate("3400")
        .send()
        .await
        .expect_err("refused");

    let LockError::QuoteRefused {
        lock_id,
        quote,
        reason,
    } = &error
    else {
        panic!("expected a refused quote, got {error:?}");
    };
    assert_eq!(lock_id.to_string(), LOCK_A);
    assert!(
        reason.contains("3329.10789425") && reason.contains("3400"),
        "{reason}"
    );
    assert!(matches!(quote.as_ref(), Quote::Exchange(q) if q.amount.to_string() == "0.5"));
    assert_eq!(server.requests().len(), 1, "nothing executed");

    let server = ScriptServer::start(vec![lock_reply(LOCK_A), created()]).await;
    let client = client_for(&server);
    let executed = user_exchange(&client).min_rate("3300").send().await;
    assert!(executed.is_ok(), "{executed:?}");
}

#[tokio::test(start_paused = true)]
async fn the_acceptance_check_sees_each_quote() {
    let server = ScriptServer::start(vec![lock_reply(LOCK_A), created()]).await;
    let client = client_for(&server);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();

    let executed = user_exchange(&client)
        .accept(move |quote| {
            record.lock().expect("lock").push((
                quote.rate().map(|r| r.to_string()),
                quote.estimated_amount_to().map(|a| a.to_string()),
            ));
            quote.fee_percentage() < "2".parse().unwrap_or_default()
        })
        .send()
        .await
        .expect("accepted");

    assert_eq!(executed.locks_taken, 1);
    assert_eq!(
        *seen.lock().expect("lock"),
        [(
            Some("3329.10789425".to_string()),
            // 0.5 × 3329.10789425 × (100 − 1.49) / 100
            Some("1639.7520933128375".to_string())
        )]
    );

    let server = ScriptServer::start(vec![lock_reply(LOCK_A), created()]).await;
    let client = client_for(&server);
    let refused = user_exchange(&client).accept(|_| false).send().await;
    assert!(matches!(refused, Err(LockError::QuoteRefused { .. })));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_incomplete_request_sends_nothing() {
    let server = ScriptServer::start(vec![lock_reply(LOCK_A), created()]).await;
    let client = client_for(&server);

    let missing = client
        .lock_then_exchange()
        .external_user_id("user-42")
        .currency_from("eth")
        .currency_to("eur")
        .send()
        .await;
    let malformed = user_exchange(&client).amount("ten").send().await;
    let same = user_exchange(&client).currency_to("ETH").send().await;

    assert!(matches!(&missing, Err(LockError::InvalidRequest(m)) if m.contains("amount")));
    assert!(matches!(&malformed, Err(LockError::InvalidRequest(m)) if m.contains("ten")));
    assert!(matches!(&same, Err(LockError::InvalidRequest(m)) if m.contains("P457")));
    assert!(server.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_lock_moved_nothing() {
    let server = ScriptServer::start(vec![Reply::json(
        400,
        r#"{"errorCode":"P412","errorName":"invalid-user","errorMessage":"User not exist"}"#,
    )])
    .await;
    let client = client_for(&server);

    let error = user_exchange(&client)
        .send()
        .await
        .expect_err("no such user");

    assert!(
        matches!(&error, LockError::Lock(e) if e.is_not_found()),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_partner_exchange_uses_the_partner_operations() {
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A),
        Reply::json(400, P432),
        lock_reply(LOCK_B),
        created(),
    ])
    .await;
    let client = client_for(&server);

    let executed = client
        .lock_then_partner_exchange()
        .amount(10i64)
        .currency_from("eth")
        .currency_to("eur")
        .send()
        .await
        .expect("executed");

    assert_eq!(executed.id(), EXCHANGE_ID);
    let requests = server.requests();
    let calls: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "/v1/partner/exchange/get-lock"),
            ("POST", "/v1/partner/exchange"),
            ("GET", "/v1/partner/exchange/get-lock"),
            ("POST", "/v1/partner/exchange"),
        ]
    );
    assert_eq!(
        posts(&requests)[1],
        json!({"amount": 10, "currencyFrom": "eth", "currencyTo": "eur", "lockId": LOCK_B})
    );
}

#[tokio::test(start_paused = true)]
async fn exchange_and_wait_returns_the_final_exchange() {
    let details = |status: &str| {
        Reply::json(
            200,
            &json!({"id": EXCHANGE_ID, "lockId": LOCK_A, "status": status}).to_string(),
        )
    };
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A),
        created(),
        details("PENDING"),
        details("COMPLETED"),
    ])
    .await;
    let client = client_for(&server);

    let done = client
        .exchange_and_wait(
            "user-42",
            "0.5",
            "eth",
            "eur",
            WaitPolicy::default().with_jitter(Jitter::none()),
        )
        .await
        .expect("completed");

    assert_eq!(done.id, EXCHANGE_ID);
    assert_eq!(done.record.lock_id.as_deref(), Some(LOCK_A));
    assert_eq!(done.polls, 2);
    let requests = server.requests();
    assert_eq!(
        requests[2].path,
        format!("/v1/exchange/details/{EXCHANGE_ID}")
    );
    assert_eq!(requests[3].at - requests[2].at, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn exchange_and_wait_reports_a_failed_exchange_with_its_id() {
    let server = ScriptServer::start(vec![
        lock_reply(LOCK_A),
        created(),
        Reply::json(
            200,
            &json!({"id": EXCHANGE_ID, "status": "FAILED",
                    "error": {"description": "Insufficient funds", "status": "P433"}})
            .to_string(),
        ),
    ])
    .await;
    let client = client_for(&server);

    let error = client
        .exchange_and_wait("user-42", "0.5", "eth", "eur", WaitPolicy::default())
        .await
        .expect_err("failed");

    let ExecuteAndWaitError::Wait(wait) = &error else {
        panic!("expected a failed wait, got {error:?}");
    };
    assert!(wait.is_failed());
    assert_eq!(wait.id(), EXCHANGE_ID);
    assert!(error.to_string().contains("Insufficient funds"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn an_order_is_placed_at_its_lock_and_waited_for() {
    let entry = fact(
        "partner-operations.yaml",
        "Retrieve Order Rate and Create a Lock",
    );
    let mut lock = serde_json::to_value(&entry["responses"][0]["example"]).expect("JSON");
    // `expiresAt` is compared with this machine's clock.
    lock["expiresAt"] = json!((chrono::Utc::now() + chrono::TimeDelta::seconds(60)).to_rfc3339());
    let lock_id = lock["lockId"].as_str().unwrap_or_default().to_string();
    let order_id = "663318af-7ea1-4c5a-8545-e433a2d43d5c";
    let details = fact("partner-operations.yaml", "Get Order Details");
    let mut order = serde_json::to_value(&details["responses"][0]["example"]).expect("JSON");
    order["orderId"] = json!(order_id);
    order["lockId"] = json!(lock_id);
    let mut paid = order.clone();
    paid["status"] = json!("COMPLETED");
    let server = ScriptServer::start(vec![
        Reply::json(200, &lock.to_string()),
        Reply::json(200, &json!({ "orderId": order_id }).to_string()),
        Reply::json(200, &order.to_string()),
        Reply::json(200, &paid.to_string()),
    ])
    .await;
    let client = client_for(&server);

    let done = client
        .lock_then_order()
        .currency("usdc")
        .amount("346.59")
        .network("polygon")
        .max_amount("413")
        .send_and_wait(WaitPolicy::default())
        .await
        .expect("paid");

    assert_eq!(done.record.order_id.to_string(), order_id);
    assert_eq!(done.status.as_str(), "COMPLETED");
    let requests = server.requests();
    assert_eq!(requests[0].path, "/v1/order/lock-rate");
    assert_eq!(
        requests[0].json(),
        json!({"currency": "usdc", "amount": "346.59", "network": "polygon"})
    );
    assert_eq!(requests[1].path, "/v1/order");
    assert_eq!(requests[1].json(), json!({ "lockId": lock_id }));
    assert_eq!(requests[2].path, format!("/v1/order/details/{order_id}"));

    // The documented lock asks for 412.607142 USDC: above a 400 limit.
    let server = ScriptServer::start(vec![Reply::json(200, &lock.to_string())]).await;
    let client = client_for(&server);
    let refused = client
        .lock_then_order()
        .currency("usdc")
        .amount("346.59")
        .network("polygon")
        .max_amount("400")
        .send()
        .await;
    assert!(
        matches!(&refused, Err(LockError::QuoteRefused { reason, .. }) if reason.contains("412.607142")),
        "{refused:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_expired_order_lock_is_not_used() {
    let entry = fact(
        "partner-operations.yaml",
        "Retrieve Order Rate and Create a Lock",
    );
    let mut lock = serde_json::to_value(&entry["responses"][0]["example"]).expect("JSON");
    lock["expiresAt"] = json!((chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339());
    let server = ScriptServer::start_with(move |_| Reply::json(200, &lock.to_string())).await;
    let client = client_for(&server);

    let error = client
        .lock_then_order()
        .currency("usdc")
        .amount("346.59")
        .network("polygon")
        .send()
        .await
        .expect_err("every lock too close to expiry");

    assert!(
        matches!(error, LockError::LocksExhausted { locks: 3, .. }),
        "{error:?}"
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| r.path == "/v1/order/lock-rate"));
}
