//! Every operation is a method of `Client` (generated): the setters of the raw builder, `send()`
//! returning the body or the SDK's error, `send_with_response()` with the status; a path
//! parameter that would change the path (empty, `.`, `..`) is refused before anything is sent.

mod support;

use p100_ergonomic::types::{CreateTransferRequest, DecimalString, UserCreateRequest};
use p100_ergonomic::{ErrorCode, ErrorKind, RetryPolicy};
use p100_sandbox::Sandbox;
use support::{client, Reply, ScriptServer};

#[tokio::test]
async fn operations_on_the_client_send_and_return_the_sdks_types() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = p100_ergonomic::Client::builder()
        .api_key(sandbox.api_key())
        .base_url(sandbox.base_url())
        .build()
        .expect("client");

    let user = "operations-test-user";
    client
        .user_create()
        .body(UserCreateRequest::builder().external_user_id(user))
        .send()
        .await
        .expect("user created");
    let created = client
        .transfer_create()
        .body(
            CreateTransferRequest::builder()
                .destination_external_user_id(user.to_string())
                .amount("12.34".parse::<DecimalString>().expect("amount"))
                .currency("eur"),
        )
        .send_with_response()
        .await
        .expect("transfer");
    assert_eq!(created.status(), 201);
    let transfer = client
        .transfer_get()
        .transfer_id(created.into_inner().transfer_id.to_string())
        .send()
        .await
        .expect("details");
    assert_eq!(transfer.amount.to_string(), "12.34");

    let missing = client
        .user_get_balances()
        .external_user_id("nobody-has-this-id")
        .send()
        .await
        .expect_err("no such user");
    assert_eq!(missing.code(), Some(&ErrorCode::UserNotFound));
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn a_path_parameter_that_changes_the_path_is_refused_before_sending() {
    let server = ScriptServer::start(vec![Reply::json(200, "{}"); 8]).await;
    let client = client(&server.url(), RetryPolicy::none());
    for bad in ["", ".", ".."] {
        let error = client
            .user_delete()
            .external_user_id(bad)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{bad:?}: {error}");
        assert!(
            error.to_string().contains("external_user_id"),
            "{bad:?}: {error}"
        );
        let error = client
            .transfer_get()
            .transfer_id(bad)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{bad:?}: {error}");
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // A dot inside an id is an ordinary character, escaped and sent.
    client
        .user_delete()
        .external_user_id("a.b")
        .send()
        .await
        .expect("sent");
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/user/a.b");
}

#[tokio::test]
async fn a_waiter_refuses_an_id_that_changes_the_path() {
    let server = ScriptServer::start(vec![Reply::json(200, "{}"); 4]).await;
    let client = client(&server.url(), RetryPolicy::none());
    for bad in ["", ".", ".."] {
        let error = client
            .wait_for_transfer(bad)
            .wait()
            .await
            .expect_err("refused");
        let p100_ergonomic::WaitError::CallFailed(call) = &error else {
            panic!("expected a failed call, got {error:?}");
        };
        assert_eq!(call.error.kind(), ErrorKind::InvalidRequest, "{bad:?}");
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}
