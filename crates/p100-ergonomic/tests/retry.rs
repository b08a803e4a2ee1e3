//! Retries under a paused clock: which calls are repeated, how often, and how long the client
//! waits in between (measured by the scripted server on the same paused clock).

mod support;

use std::time::Duration;

use p100_ergonomic::{ErrorKind, Jitter, RetryPolicy};
use support::{client, get_balances, Reply, ScriptServer};

const BALANCES: &str = r#"{"userId":"42","fiatBalances":[]}"#;
const P501: &str = r#"{"errorCode":"P501","errorName":"service-unavailable","errorMessage":"Service temporarily unavailable"}"#;

/// Deterministic backoff: 100 ms, 200 ms, 400 ms, … capped at 1 s.
fn fixed(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_initial_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(1))
        .with_jitter(Jitter::none())
}

/// Every attempt sent the same request: method, path, headers (the key, `Accept`) and body
/// (the SDK keeps what it takes to send it again, and the URL comes back with the outcome).
fn assert_resent_alike(server: &ScriptServer, attempts: usize) {
    let requests = server.requests();
    assert_eq!(requests.len(), attempts);
    let first = &requests[0];
    let header = |r: &support::Recorded, name: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header(first, "x-api-key").as_deref(), Some(support::KEY));
    assert_eq!(header(first, "accept").as_deref(), Some("application/json"));
    for again in &requests[1..] {
        assert_eq!((&again.method, &again.path), (&first.method, &first.path));
        assert_eq!(again.headers, first.headers);
        assert_eq!(again.body, first.body);
    }
}

#[tokio::test(start_paused = true)]
async fn get_429_waits_exactly_retry_after() {
    let server = ScriptServer::start(vec![
        Reply::text(429, "slow down").header("retry-after", "2"),
        Reply::json(200, BALANCES),
    ])
    .await;
    let client = client(&server.url(), fixed(3));

    let balances = get_balances(&client)
        .await
        .expect("second attempt succeeds");

    assert_eq!(balances.user_id.as_deref(), Some("42"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.gaps_ms(), vec![2000]);
}

#[tokio::test(start_paused = true)]
async fn get_503_backs_off_exponentially() {
    let server = ScriptServer::start(vec![
        Reply::text(503, "unavailable"),
        Reply::text(503, "unavailable"),
        Reply::json(200, BALANCES),
    ])
    .await;
    let client = client(&server.url(), fixed(3));

    get_balances(&client).await.expect("third attempt succeeds");
    assert_resent_alike(&server, 3);

    assert_eq!(server.gaps_ms(), vec![100, 200]);
}

#[tokio::test(start_paused = true)]
async fn get_502_504_are_transient_too() {
    let server = ScriptServer::start(vec![
        Reply::text(502, "bad gateway"),
        Reply::text(504, "gateway timeout"),
        Reply::json(200, BALANCES),
    ])
    .await;
    let client = client(&server.url(), fixed(3));

    get_balances(&client).await.expect("third attempt succeeds");

    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn get_p501_is_retried() {
    let server =
        ScriptServer::start(vec![Reply::json(400, P501), Reply::json(200, BALANCES)]).await;
    let client = client(&server.url(), fixed(3));

    get_balances(&client)
        .await
        .expect("second attempt succeeds");

    assert_eq!(server.gaps_ms(), vec![100]);
    // The first answer was read (for its code) before the retry: the URL still came back.
    assert_resent_alike(&server, 2);
}

#[tokio::test(start_paused = true)]
async fn get_connection_reset_is_retried() {
    let server = ScriptServer::start(vec![Reply::Close, Reply::json(200, BALANCES)]).await;
    let client = client(&server.url(), fixed(3));

    get_balances(&client)
        .await
        .expect("second attempt succeeds");

    assert_eq!(server.requests().len(), 2);
    assert_resent_alike(&server, 2);
    assert_eq!(server.gaps_ms(), vec![100]);
}

#[tokio::test(start_paused = true)]
async fn get_gives_up_after_max_attempts_with_the_last_answer() {
    let server = ScriptServer::start(vec![
        Reply::text(503, "one"),
        Reply::text(503, "two"),
        Reply::text(503, "three"),
        Reply::json(200, BALANCES),
    ])
    .await;
    let client = client(&server.url(), fixed(3));

    let error = get_balances(&client).await.expect_err("all attempts fail");

    assert_eq!(server.requests().len(), 3);
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.message(), Some("three"));
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.operation(), Some("user_get_balances"));
    assert!(error.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn get_gives_up_on_p501_with_its_code() {
    let server = ScriptServer::start(vec![Reply::json(400, P501), Reply::json(400, P501)]).await;
    let client = client(&server.url(), fixed(2));

    let error = get_balances(&client).await.expect_err("all attempts fail");

    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        error.code(),
        Some(&p100_ergonomic::ErrorCode::ServiceUnavailable)
    );
    assert_eq!(error.message(), Some("Service temporarily unavailable"));
    assert!(error.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn get_connection_errors_end_as_transport_errors() {
    let server = ScriptServer::start(vec![Reply::Close, Reply::Close]).await;
    let client = client(&server.url(), fixed(2));

    let error = get_balances(&client).await.expect_err("all attempts fail");

    assert_eq!(server.requests().len(), 2);
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(error.attempts(), 2);
    assert!(error.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn get_business_errors_are_not_retried() {
    for (status, body) in [
        (400, r#"{"errorCode":"P412","errorName":"invalid-user"}"#),
        (
            404,
            r#"{"errorCode":"P428","errorName":"sepa-transfer-not-found"}"#,
        ),
        (
            400,
            r#"{"errorCode":"P500","errorName":"unknown-exception"}"#,
        ),
        (
            401,
            r#"{"errorCode":"P401","errorMessage":"Access Denied. xo2"}"#,
        ),
    ] {
        let server =
            ScriptServer::start(vec![Reply::json(status, body), Reply::json(200, BALANCES)]).await;
        let client = client(&server.url(), fixed(3));

        let error = get_balances(&client).await.expect_err("not retried");

        assert_eq!(server.requests().len(), 1, "{body}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert!(!error.is_retryable(), "{body}");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_budget_ends_retries_at_once() {
    let server = ScriptServer::start(vec![
        Reply::text(429, "come back in two minutes").header("retry-after", "120"),
        Reply::json(200, BALANCES),
    ])
    .await;
    let client = client(
        &server.url(),
        fixed(5).with_max_elapsed(Duration::from_secs(30)),
    );
    let start = tokio::time::Instant::now();

    let error = get_balances(&client).await.expect_err("not retried");

    assert_eq!(server.requests().len(), 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
}

#[tokio::test(start_paused = true)]
async fn elapsed_budget_limits_backoff() {
    // Waits would be 100, 200, 400, 800 ms; a 700 ms budget allows three of them
    // (100 + 200 + 400 = 700 ≤ 700, then 700 + 800 > 700).
    let server = ScriptServer::start(vec![Reply::text(503, "x"); 6]).await;
    let client = client(
        &server.url(),
        fixed(6).with_max_elapsed(Duration::from_millis(700)),
    );

    let error = get_balances(&client).await.expect_err("budget exhausted");

    assert_eq!(server.gaps_ms(), vec![100, 200, 400]);
    assert_eq!(error.attempts(), 4);
}

#[tokio::test(start_paused = true)]
async fn seeded_jitter_is_deterministic_and_below_the_cap() {
    let expected_policy = fixed(4).with_jitter(Jitter::seeded(2024));
    let expected: Vec<u128> = (1..=3)
        .map(|retry| expected_policy.backoff(retry).as_millis())
        .collect();
    let server = ScriptServer::start(vec![
        Reply::text(503, "x"),
        Reply::text(503, "x"),
        Reply::text(503, "x"),
        Reply::json(200, BALANCES),
    ])
    .await;
    let client = client(&server.url(), fixed(4).with_jitter(Jitter::seeded(2024)));

    get_balances(&client)
        .await
        .expect("fourth attempt succeeds");

    let gaps = server.gaps_ms();
    assert_eq!(gaps, expected);
    for (gap, cap) in gaps.iter().zip([100, 200, 400]) {
        assert!(*gap <= cap, "{gap} > {cap}");
    }
    assert_ne!(gaps, vec![100, 200, 400], "jitter was not applied");
}

#[tokio::test(start_paused = true)]
async fn timeouts_of_gets_are_retried() {
    let server = ScriptServer::start(vec![Reply::Hang, Reply::json(200, BALANCES)]).await;
    let client =
        support::client_with_timeout(&server.url(), Some(Duration::from_secs(5)), fixed(3));

    get_balances(&client)
        .await
        .expect("second attempt succeeds");

    assert_eq!(server.gaps_ms(), vec![5100]);
    assert_resent_alike(&server, 2);
}

#[tokio::test(start_paused = true)]
async fn posts_are_never_retried() {
    let body = serde_json::json!({
        "sourceExternalUserId": "u1",
        "lockId": "3f0aeaa7-0000-4000-8000-000000000001",
        "amount": 10,
        "currencyFrom": "eth",
        "currencyTo": "eur"
    });
    for reply in [
        Reply::text(503, "unavailable"),
        Reply::text(429, "slow down").header("retry-after", "1"),
        Reply::json(400, P501),
        Reply::Close,
    ] {
        let server = ScriptServer::start(vec![reply.clone(), Reply::json(200, "{}")]).await;
        let client = client(&server.url(), fixed(5));
        let start = tokio::time::Instant::now();

        let request =
            serde_json::from_value::<p100_ergonomic::types::CreateExchangeRequest>(body.clone())
                .expect("request body");
        let error = client
            .exchange_create()
            .body(request)
            .send()
            .await
            .expect_err("sent once, failure returned");

        assert_eq!(server.requests().len(), 1, "{reply:?}");
        assert_eq!(server.requests()[0].method, "POST");
        assert_eq!(start.elapsed(), Duration::ZERO, "{reply:?}");
        assert_eq!(error.attempts(), 1, "{reply:?}");
        assert_eq!(error.operation(), Some("exchange_create"));
        // A money movement that may have executed is never called retryable (the caller
        // reconciles first); a 429 means it was not taken, so repeating it is safe.
        let limited = matches!(&reply, Reply::Http { status: 429, .. });
        assert_eq!(error.may_have_executed(), !limited, "{reply:?}: {error}");
        assert_eq!(error.is_retryable(), limited, "{reply:?}: {error}");
    }
}

#[tokio::test(start_paused = true)]
async fn patch_and_delete_are_never_retried() {
    let server = ScriptServer::start(vec![
        Reply::text(503, "x"),
        Reply::text(503, "x"),
        Reply::json(200, "{}"),
    ])
    .await;
    let client = client(&server.url(), fixed(5));

    let suspend = client.user_suspend().external_user_id("u1").send().await;
    let delete = client.user_delete().external_user_id("u1").send().await;

    assert!(suspend.is_err() && delete.is_err());
    let methods: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, vec!["PATCH", "DELETE"]);
}

#[tokio::test(start_paused = true)]
async fn lock_creation_is_retried_even_as_post() {
    let server = ScriptServer::start(vec![
        Reply::text(503, "x"),
        Reply::json(200, r#"{"lockId":"l-1"}"#),
    ])
    .await;
    let client = client(&server.url(), fixed(3));

    let request = serde_json::from_value::<p100_ergonomic::types::CreateOrderLockRequest>(
        serde_json::json!({
            "currency": "usdc",
            "amount": "346.59",
            "network": "polygon"
        }),
    )
    .expect("request body");
    let _ = client.order_create_lock().body(request).send().await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.method == "POST"));
    assert_eq!(server.gaps_ms(), vec![100]);
}

#[tokio::test(start_paused = true)]
async fn no_retry_policy_sends_once() {
    let server = ScriptServer::start(vec![Reply::text(503, "x"), Reply::json(200, BALANCES)]).await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = get_balances(&client).await.expect_err("sent once");

    assert_eq!(server.requests().len(), 1);
    assert_eq!(error.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_apply_to_raw_calls_too() {
    let server = ScriptServer::start(vec![Reply::text(503, "x"), Reply::json(200, BALANCES)]).await;
    let client = client(&server.url(), fixed(3));

    let balances = client
        .raw()
        .user_get_balances()
        .external_user_id("u1")
        .send()
        .await
        .expect("retried by the executor");

    assert_eq!(balances.user_id.as_deref(), Some("42"));
    assert_eq!(server.requests().len(), 2);
}
