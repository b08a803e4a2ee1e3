//! Money safety: a money movement whose answer is lost is an unknown outcome that is never
//! "retryable", carries what is needed to reconcile it, and reconciles correctly against the
//! sandbox; a 2xx the spec does not declare keeps the movement's id.

mod support;

use p100_ergonomic::reconcile::{Basis, Reconciliation};
use p100_ergonomic::types::{CreateTransferRequest, DecimalString, UserCreateRequest};
use p100_ergonomic::{Client, Error, ErrorKind, RetryPolicy};
use p100_sandbox::{Config, Fault, FaultRule, Holder, Sandbox};
use rust_decimal::Decimal;
use support::{client as test_client, Reply, ScriptServer};

async fn sandbox_client(sandbox: &Sandbox) -> Client {
    Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client")
}

async fn create_user(client: &Client, user: &str) {
    client
        .user_create()
        .body(UserCreateRequest::builder().external_user_id(user))
        .send()
        .await
        .expect("user");
}

async fn fund(client: &Client, user: &str, amount: &str) -> Result<String, Error> {
    client
        .transfer_create()
        .body(
            CreateTransferRequest::builder()
                .destination_external_user_id(user.to_string())
                .amount(amount.parse::<DecimalString>().expect("amount"))
                .currency("eur"),
        )
        .send()
        .await
        .map(|created| created.transfer_id.to_string())
}

#[tokio::test]
async fn a_lost_answer_is_an_unknown_outcome_that_is_never_retryable() {
    // The request is read, then the connection closes without an answer.
    let server = ScriptServer::start(vec![Reply::Close, Reply::Close]).await;
    let client = test_client(&server.url(), RetryPolicy::default());
    let error = fund(&client, "u-1", "10.50").await.expect_err("no answer");
    assert!(error.may_have_executed(), "{error:?}");
    assert!(!error.is_retryable(), "{error:?}");
    let movement = error.unknown_movement().expect("unknown movement");
    assert_eq!(movement.operation, "transfer_create");
    let request = movement.request.as_ref().expect("request body kept");
    assert_eq!(request["destinationExternalUserId"], "u-1");
    assert_eq!(request["amount"], "10.50");
    assert!(movement.sent_at.is_some());
    // Sent once: the client's retry policy does not repeat a money movement.
    assert_eq!(server.requests().len(), 1);

    // A read that fails the same way is retried by the client and called retryable.
    let server = ScriptServer::start(vec![Reply::Close, Reply::Close, Reply::Close]).await;
    let client = test_client(&server.url(), RetryPolicy::none());
    let error = client
        .user_get_balances()
        .external_user_id("u-1")
        .send()
        .await
        .expect_err("no answer");
    assert!(error.unknown_movement().is_none());
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn a_refused_request_is_not_an_unknown_outcome() {
    let server = ScriptServer::start(vec![Reply::json(
        400,
        r#"{"errorCode":"P433","errorName":"insufficient-funds","errorMessage":"no"}"#,
    )])
    .await;
    let client = test_client(&server.url(), RetryPolicy::none());
    let error = fund(&client, "u-1", "10").await.expect_err("refused");
    assert!(!error.may_have_executed());
    assert!(error.unknown_movement().is_none());
    assert!(!error.is_retryable());

    // A rate limit means P100 did not take it: retrying is safe.
    let server = ScriptServer::start(vec![Reply::json(429, "{}")]).await;
    let client = test_client(&server.url(), RetryPolicy::none());
    let error = fund(&client, "u-1", "10").await.expect_err("limited");
    assert!(!error.may_have_executed());
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn an_undocumented_2xx_keeps_the_movement_and_its_id() {
    // transfer_create declares 201: a 200 with the documented body is read as it.
    let id = "7fb02323-969a-4936-94ea-86b8773ff1a2";
    let server = ScriptServer::start(vec![Reply::json(
        200,
        &format!(r#"{{"transferId":"{id}"}}"#),
    )])
    .await;
    let client = test_client(&server.url(), RetryPolicy::none());
    assert_eq!(
        fund(&client, "u-1", "10")
            .await
            .expect("read as documented"),
        id
    );

    // A 2xx that is not the documented body (the id is not a UUID): an unknown outcome that
    // keeps the body and the id.
    let server = ScriptServer::start(vec![Reply::json(202, r#"{"transferId":"tr-123"}"#)]).await;
    let client = test_client(&server.url(), RetryPolicy::none());
    let error = fund(&client, "u-1", "10").await.expect_err("undocumented");
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(!error.is_retryable());
    let movement = error.unknown_movement().expect("kept");
    assert_eq!(movement.id.as_deref(), Some("tr-123"));
    assert!(movement.answer.as_ref().is_some_and(|b| !b.is_empty()));
}

#[tokio::test]
async fn dropped_answers_reconcile_to_what_happened_and_a_resend_on_not_found_moves_once() {
    let sandbox = Sandbox::start_with(Config::default())
        .await
        .expect("sandbox");
    let client = sandbox_client(&sandbox).await;
    create_user(&client, "reconcile-1").await;
    let user = Holder::User("reconcile-1".into());

    // Processed, then the answer dropped: it happened.
    sandbox
        .add_fault(
            FaultRule::new(Fault::DropAfterProcessing)
                .operation("transfer_create")
                .times(1),
        )
        .expect("rule");
    let error = fund(&client, "reconcile-1", "31.17")
        .await
        .expect_err("dropped");
    let movement = error.unknown_movement().expect("unknown").clone();
    match client.reconcile(&movement).await.expect("reconcile") {
        Reconciliation::Found { record, basis } => {
            assert_eq!(record["amount"], "31.17", "{record}");
            assert!(matches!(basis, Basis::History { .. }), "{basis:?}");
        }
        other => panic!("expected Found, got {other:?}"),
    }

    // Refused before processing with a code whose outcome the SDK cannot know: not there.
    sandbox
        .add_fault(
            FaultRule::new(Fault::Unavailable { status: 503 })
                .operation("transfer_create")
                .times(1),
        )
        .expect("rule");
    let error = fund(&client, "reconcile-1", "12.01")
        .await
        .expect_err("unavailable");
    let movement = error.unknown_movement().expect("unknown").clone();
    assert!(!error.is_retryable());
    let verdict = client.reconcile(&movement).await.expect("reconcile");
    assert!(
        matches!(verdict, Reconciliation::NotFound { .. }),
        "{verdict:?}"
    );
    // The caller re-sends only on NotFound.
    fund(&client, "reconcile-1", "12.01")
        .await
        .expect("sent again");

    sandbox.advance(std::time::Duration::from_secs(3600));
    assert_eq!(
        sandbox.balance(&user, "eur"),
        Some(Decimal::new(3117, 2) + Decimal::new(1201, 2)),
        "each movement happened exactly once"
    );

    // With the id known, the details operation answers.
    let id = fund(&client, "reconcile-1", "1.00").await.expect("sent");
    let by_id = p100_ergonomic::reconcile::UnknownMovement::described(
        "transfer_create",
        serde_json::json!({"amount": "1.00"}),
        std::time::SystemTime::now(),
    )
    .with_id(id);
    assert!(matches!(
        client.reconcile(&by_id).await.expect("reconcile"),
        Reconciliation::Found {
            basis: Basis::Details { .. },
            ..
        }
    ));
}

#[tokio::test]
async fn reconciliation_compares_amounts_exactly_not_through_f64() {
    // A crypto withdrawal's amount is a JSON number: 18 decimals, more than an f64 keeps. The
    // answer is lost (a 503), then the partner's history lists two withdrawals a second apart:
    // one of 0.12345678901234568 (what the amount becomes through f64) and the real one.
    let now = chrono::Utc::now().to_rfc3339();
    let history = format!(
        r#"{{"transactions":[
            {{"id":"other","amount":"0.12345678901234568","currency":"eth","createdAt":"{now}"}},
            {{"id":"mine","amount":0.123456789012345678,"currency":"eth","createdAt":"{now}"}}
        ]}}"#
    );
    let server =
        ScriptServer::start(vec![Reply::text(503, "busy"), Reply::json(200, &history)]).await;
    let client = test_client(&server.url(), RetryPolicy::none());
    let request: p100_ergonomic::types::PartnerCreateCryptoWithdrawalRequest =
        serde_json::from_str(
            r#"{"amount":0.123456789012345678,"currency":"eth","network":"ethereum",
                "walletAddress":"0x2e90ca5bbe46d5ae23f2df90457d020391b92673"}"#,
        )
        .expect("request");
    let error = client
        .partner_create_crypto_withdrawal()
        .body(request)
        .send()
        .await
        .expect_err("503");
    let movement = error.unknown_movement().expect("unknown").clone();
    let sent = String::from_utf8(server.requests()[0].body.clone()).expect("UTF-8");
    assert!(
        sent.contains(r#""amount":0.123456789012345678"#),
        "sent as written: {sent}"
    );
    match client.reconcile(&movement).await.expect("reconcile") {
        Reconciliation::Found { record, .. } => assert_eq!(record["id"], "mine", "{record}"),
        other => panic!("expected the real withdrawal, got {other:?}"),
    }
}
