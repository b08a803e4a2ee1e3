//! The configured client: one-line setup, the key on every request and nowhere else, loopback-only
//! plain HTTP, environment variables, timeouts and tracing.

mod support;

use std::time::Duration;

use httpmock::prelude::*;
use p100_ergonomic::upload::UploadFile;
use p100_ergonomic::{Client, ConfigError, Environment, ErrorKind, RetryPolicy};
use support::{get_balances, Captured, Reply, ScriptServer, KEY};

#[test]
fn builds_for_loopback_and_hides_the_key() {
    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:8080/")
        .build()
        .expect("loopback http is allowed");

    assert_eq!(client.base_url(), "http://127.0.0.1:8080");
    let debug = format!("{client:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
    let cloned = client.clone();
    assert!(!format!("{cloned:?} {:?}", cloned.raw()).contains(KEY));
    let builder = Client::builder().api_key(KEY);
    assert!(!format!("{builder:?}").contains(KEY));
}

#[test]
fn defaults_and_environments() {
    let client = Client::builder().api_key("k").build().expect("client");
    assert_eq!(client.base_url(), "https://partner-api-stage.p100.io");
    assert_eq!(client.timeout(), Some(Duration::from_secs(30)));
    assert_eq!(client.retry_policy().max_attempts(), 3);

    let production = Client::builder()
        .api_key("k")
        .environment(Environment::Production)
        .build()
        .expect("client");
    assert_eq!(production.base_url(), "https://partner-api.p100.io");

    // The last of `environment` / `base_url` wins.
    let custom = Client::builder()
        .api_key("k")
        .environment(Environment::Production)
        .base_url("https://sandbox.example.com/p100/")
        .build()
        .expect("client");
    assert_eq!(custom.base_url(), "https://sandbox.example.com/p100");
    assert_eq!(
        "PRODUCTION".parse::<Environment>().ok(),
        Some(Environment::Production)
    );
    assert!("live".parse::<Environment>().is_err());
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    for allowed in [
        "http://localhost:3000",
        "http://[::1]:3000",
        "http://127.8.9.10",
    ] {
        assert!(
            Client::builder()
                .api_key(KEY)
                .base_url(allowed)
                .build()
                .is_ok(),
            "{allowed}"
        );
    }
    for refused in [
        "http://partner-api.p100.io",
        "http://192.168.1.10:8080",
        "http://0.0.0.0",
    ] {
        let error = Client::builder()
            .api_key(KEY)
            .base_url(refused)
            .build()
            .expect_err(refused);
        assert_eq!(error.kind(), ErrorKind::Config);
        assert!(matches!(
            error.config_error(),
            Some(ConfigError::InsecureBaseUrl { .. })
        ));
        let text = format!("{error} {error:?}");
        assert!(text.contains("refusing plain http://"), "{text}");
        assert!(!text.contains(KEY), "{text}");
    }
}

#[test]
fn unusable_keys_are_refused_without_printing_them() {
    let missing = Client::builder().build().expect_err("no key");
    assert_eq!(
        missing.to_string(),
        "no API key: call `.api_key(..)` or set P100_API_KEY"
    );
    let empty = Client::builder().api_key("  ").build().expect_err("empty");
    assert_eq!(empty.to_string(), "the API key is not usable: it is empty");
    let broken = Client::builder()
        .api_key("secret-with-newline\nX")
        .build()
        .expect_err("newline");
    let text = format!("{broken} {broken:?}");
    assert!(!text.contains("secret-with-newline"), "{text}");
}

#[test]
fn from_env_reads_the_process_environment() {
    // The only test of this binary that touches these variables.
    std::env::set_var("P100_API_KEY", KEY);
    std::env::set_var("P100_ENV", "production");
    std::env::remove_var("P100_BASE_URL");
    let production = Client::from_env().expect("configured");
    assert_eq!(production.base_url(), "https://partner-api.p100.io");
    assert!(!format!("{production:?}").contains(KEY));

    std::env::set_var("P100_BASE_URL", "http://localhost:4010");
    let local = Client::from_env().expect("configured");
    assert_eq!(local.base_url(), "http://localhost:4010");

    std::env::remove_var("P100_API_KEY");
    let error = Client::from_env().expect_err("no key");
    assert_eq!(
        error.to_string(),
        "environment variable P100_API_KEY is not set"
    );
    std::env::remove_var("P100_ENV");
    std::env::remove_var("P100_BASE_URL");
}

#[tokio::test]
async fn the_key_goes_on_every_request() {
    let server = MockServer::start_async().await;
    let user_agent = format!("p100-ergonomic/{}", env!("CARGO_PKG_VERSION"));
    let mut mocks = Vec::new();
    for (method, path) in [
        (GET, "/v1/user/balances/u1"),
        (GET, "/v1/exchange/get-rate"),
        (POST, "/v1/exchange"),
        (PATCH, "/v1/user/suspend/u1"),
        (DELETE, "/v1/user/u1"),
        (POST, "/v1/user/poa-files/u1"),
    ] {
        let user_agent = user_agent.clone();
        mocks.push(
            server
                .mock_async(move |when, then| {
                    when.method(method)
                        .path(path)
                        .header("x-api-key", KEY)
                        .header("user-agent", user_agent);
                    then.status(200).json_body(serde_json::json!({}));
                })
                .await,
        );
    }
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .expect("client");
    let raw = client.raw();

    client
        .call(raw.user_get_balances().external_user_id("u1").send())
        .await
        .expect("balances");
    let _ = raw.exchange_get_rate().send().await;
    let _ = raw
        .exchange_create()
        .body(
            serde_json::from_value::<p100_ergonomic::types::CreateExchangeRequest>(
                serde_json::json!({"sourceExternalUserId": "u1", "amount": 1, "currencyFrom": "eur",
                    "currencyTo": "btc", "lockId": "407ea838-6e41-45ed-ae0f-84fb0f5d3863"}),
            )
            .expect("body"),
        )
        .send()
        .await;
    let _ = raw.user_suspend().external_user_id("u1").send().await;
    let _ = raw.user_delete().external_user_id("u1").send().await;
    client
        .user_add_poa_files()
        .external_user_id("u1")
        .file(UploadFile::new("bill.pdf", b"%PDF-1.7".to_vec()))
        .send()
        .await
        .expect("upload");

    for mock in &mocks {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn a_configured_user_agent_replaces_the_default() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/user/balances/u1")
                .header("user-agent", "acme-wallet/2.1")
                .header("x-api-key", KEY);
            then.status(200).json_body(serde_json::json!({}));
        })
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .user_agent("acme-wallet/2.1")
        .reqwest_builder(reqwest::Client::builder())
        .build()
        .expect("client");

    get_balances(&client).await.expect("balances");
    mock.assert_async().await;
}

#[tokio::test]
async fn redirects_are_not_followed_so_the_key_stays_home() {
    let server = MockServer::start_async().await;
    let elsewhere = server
        .mock_async(|when, then| {
            when.path("/elsewhere");
            then.status(200).json_body(serde_json::json!({}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/user/balances/u1");
            then.status(302).header("location", "/elsewhere");
        })
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .expect("client");

    let error = get_balances(&client)
        .await
        .expect_err("a redirect is not an answer");

    assert_eq!(error.status().map(|s| s.as_u16()), Some(302));
    assert_eq!(elsewhere.calls_async().await, 0);
}

/// A user's HTTP client set to follow redirects still follows none: `x-api-key` and a POST's
/// body would go wherever `Location` points (reqwest strips only its standard credentials).
#[tokio::test]
async fn a_users_client_never_follows_a_redirect_with_the_key_or_a_body() {
    let elsewhere = MockServer::start_async().await;
    let stolen = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(201).json_body(
                serde_json::json!({"transferId": "7fb02323-969a-4936-94ea-86b8773ff1a2"}),
            );
        })
        .await;
    let server = MockServer::start_async().await;
    for (is_get, path) in [(true, "/v1/user/balances/u1"), (false, "/v1/transfer")] {
        for status in [302, 307, 308] {
            let location = elsewhere.url("/captured");
            let redirect = server
                .mock_async(|when, then| {
                    let when = if is_get {
                        when.method(GET)
                    } else {
                        when.method(httpmock::Method::POST)
                    };
                    when.path(path);
                    then.status(status).header("location", location);
                })
                .await;
            let client = Client::builder()
                .api_key(KEY)
                .base_url(server.base_url())
                .retry(RetryPolicy::none())
                .reqwest_builder(
                    reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10)),
                )
                .build()
                .expect("client");
            let error = if is_get {
                get_balances(&client)
                    .await
                    .expect_err("a redirect is not an answer")
            } else {
                client
                    .transfer_create()
                    .body(
                        p100_ergonomic::types::CreateTransferRequest::builder()
                            .destination_external_user_id("u1".to_string())
                            .amount(
                                "1.00"
                                    .parse::<p100_ergonomic::types::DecimalString>()
                                    .expect("amount"),
                            )
                            .currency("eur"),
                    )
                    .send()
                    .await
                    .expect_err("a redirect is not an answer")
            };
            assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{error}");
            redirect.delete_async().await;
        }
    }
    assert_eq!(
        stolen.calls_async().await,
        0,
        "the key and body reached another host"
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_reported_as_such() {
    let server = ScriptServer::start(vec![Reply::Hang]).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.url())
        .timeout(Duration::from_secs(2))
        .retry(RetryPolicy::none())
        .reqwest_builder(reqwest::Client::builder().pool_max_idle_per_host(0))
        .build()
        .expect("client");
    let start = tokio::time::Instant::now();

    let error = get_balances(&client).await.expect_err("no answer");

    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(error.is_timeout() && error.is_retryable());
    assert_eq!(
        error.to_string(),
        "P100 did not answer in time (user_get_balances)"
    );
}

#[tokio::test(start_paused = true)]
async fn each_call_is_traced_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = ScriptServer::start(vec![
        Reply::text(503, "busy"),
        Reply::json(200, r#"{"userId":"42"}"#),
    ])
    .await;
    let client = support::client(
        &server.url(),
        RetryPolicy::default().with_jitter(p100_ergonomic::Jitter::none()),
    );

    get_balances(&client)
        .await
        .expect("second attempt succeeds");

    let logs = captured.text();
    assert!(!logs.contains(KEY), "{logs}");
    assert!(!logs.contains("x-api-key"), "{logs}");
    let retry = logs
        .lines()
        .find(|line| line.contains("retrying P100 call"))
        .unwrap_or_else(|| panic!("no retry event in {logs}"));
    assert!(
        retry.contains("p100.call{operation_id=\"user_get_balances\" method=GET}"),
        "{retry}"
    );
    assert!(
        retry.contains("attempt=1 reason=HTTP 503 delay_ms=500"),
        "{retry}"
    );
    let close = logs
        .lines()
        .find(|line| line.contains("close"))
        .unwrap_or_else(|| panic!("no span close in {logs}"));
    for field in [
        "operation_id=\"user_get_balances\"",
        "attempts=2",
        "status=200",
        "elapsed_ms=500",
    ] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

fn assert_shareable<T: Send + Sync + Clone + 'static>() {}

#[test]
fn client_errors_and_futures_can_cross_tasks() {
    assert_shareable::<Client>();
    assert_shareable::<RetryPolicy>();
    fn error_is_send_sync<T: std::error::Error + Send + Sync + 'static>() {}
    error_is_send_sync::<p100_ergonomic::Error>();

    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("client");
    // Not awaited: only their types matter (e.g. for `tokio::spawn` or axum handlers).
    drop(assert_send(
        client.call(
            client
                .raw()
                .user_get_balances()
                .external_user_id("u1")
                .send(),
        ),
    ));
    drop(assert_send(
        client
            .user_add_poa_files()
            .external_user_id("u1")
            .file(UploadFile::new("a.pdf", b"%PDF-".to_vec()))
            .send(),
    ));
    drop(assert_send(
        client.user_add_kyc_files().external_user_id("u1").send(),
    ));
}

/// A base URL that carries the key in its query or fragment is refused without echoing it.
#[test]
fn a_base_url_with_a_secret_in_its_query_or_fragment_is_not_echoed() {
    for url in [
        "https://partner-api.p100.io/?x-api-key=SECRET-123",
        "https://partner-api.p100.io/#SECRET-123",
        "ht tp://partner-api.p100.io/?key=SECRET-123",
    ] {
        let error = Client::builder()
            .api_key(KEY)
            .base_url(url)
            .build()
            .expect_err("refused");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SECRET-123"), "{url}: {shown}");
    }
}
