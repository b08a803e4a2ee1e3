//! The API surface: every operation of the spec answers, the key check, validation errors, the
//! documented error codes, the suspended card module, the binary.

mod common;

use std::collections::BTreeSet;
use std::io::BufRead;

use common::{api_error, assert_api_error, create_user, manual_sandbox};
use p100_api::{catalog, types};
use p100_sandbox::{Config, Sandbox};

fn spec() -> serde_yaml::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/p100.yaml");
    let text = std::fs::read_to_string(path).expect("spec/p100.yaml");
    serde_yaml::from_str(&text).expect("spec parses")
}

/// Every (method, path, operationId) of the spec's `paths`.
fn spec_operations() -> Vec<(String, String, String)> {
    let spec = spec();
    let mut ops = Vec::new();
    let paths = spec["paths"].as_mapping().expect("paths");
    for (path, item) in paths {
        let path = path.as_str().expect("path").to_string();
        for (method, op) in item.as_mapping().expect("path item") {
            let method = method.as_str().expect("method").to_ascii_uppercase();
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                ops.push((method, path.clone(), id.to_string()));
            }
        }
    }
    ops
}

#[test]
fn the_sandbox_serves_exactly_the_operations_of_the_spec() {
    let spec: BTreeSet<String> = spec_operations().into_iter().map(|(_, _, id)| id).collect();
    let served: BTreeSet<String> = p100_sandbox::operation_ids().map(str::to_string).collect();
    assert_eq!(spec.len(), 54);
    assert_eq!(served, spec);
}

#[tokio::test]
async fn every_operation_answers_with_the_spec_error_shape_or_success() {
    let sandbox = Sandbox::start().await.expect("start");
    let http = reqwest::Client::new();
    for (method, path, id) in spec_operations() {
        let url = format!("{}{}", sandbox.base_url(), path.replace(['{', '}'], ""));
        let request = http
            .request(method.parse().expect("method"), &url)
            .header("x-api-key", sandbox.api_key())
            .header("content-type", "application/json")
            .body("{}");
        let response = request.send().await.expect("answer");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_ne!(status.as_u16(), 405, "{id}: {text}");
        assert!(status.as_u16() < 500, "{id} answered {status}: {text}");
        if !status.is_success() {
            let error: types::Error = serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!("{id}: {status} body is not the spec's Error ({e}): {text}")
            });
            // A code of the spec's registry, or one of its undocumented answers (the sandbox's
            // own codes for what the docs never show); never an invented P-code.
            let undocumented = [
                catalog::undocumented::RATE_LIMITED,
                catalog::undocumented::UNKNOWN_RECORD,
            ];
            assert!(
                catalog::error(&error.error_code).is_some()
                    || undocumented.iter().any(|u| u.code == error.error_code),
                "{id}: {text}"
            );
            if let Some(spec) = catalog::error(&error.error_code) {
                assert_eq!(status.as_u16(), spec.http, "{id}: {text}");
                assert_eq!(error.error_name.as_deref(), spec.error_name, "{id}: {text}");
            }
        }
    }
}

#[tokio::test]
async fn a_missing_key_is_xo1_and_a_wrong_key_is_xo2() {
    let sandbox = Sandbox::start_with(Config::default().with_api_key("right"))
        .await
        .expect("start");
    let http = reqwest::Client::new();
    let url = format!("{}/v1/exchange/get-rate", sandbox.base_url());

    // The docs show plain text, not the JSON Error object.
    let missing = http.get(&url).send().await.expect("answer");
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(missing.text().await.expect("body"), "Access Denied. xo1");

    let wrong = http
        .get(&url)
        .header("x-api-key", "wrong")
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.text().await.expect("body"), "Access Denied. xo2");

    let ok = http
        .get(&url)
        .header("x-api-key", "right")
        .send()
        .await
        .expect("answer");
    assert_eq!(ok.status(), 200);
    let rates: types::ExchangeRates = ok.json().await.expect("rates");
    assert_eq!(rates["eur"].to_string(), "1");
    assert_eq!(rates.len(), 8);
}

#[tokio::test]
async fn invalid_bodies_are_p403_naming_the_field() {
    let sandbox = manual_sandbox(Config::default()).await;
    let http = reqwest::Client::new();
    let post = |body: &'static str| {
        http.post(format!("{}/v1/transfer", sandbox.base_url()))
            .header("x-api-key", sandbox.api_key())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (body, field) in [
        (r#"{"currency": "eur"}"#, "amount"),
        (r#"{"amount": "ten", "currency": "eur"}"#, "amount"),
        (r#"{"amount": "10", "currency": 5}"#, "currency"),
        (
            r#"{"amount": "10", "currency": "eur", "sourceExternalUserId": null}"#,
            "sourceExternalUserId",
        ),
        ("", "body"),
        ("[1, 2]", "body"),
    ] {
        let response = post(body).await.expect("answer");
        assert_eq!(response.status(), 400, "{body}");
        let error: types::Error = response.json().await.expect("Error body");
        assert_eq!(error.error_code, "P403", "{body}");
        assert_eq!(
            error.error_name, None,
            "validation errors have no errorName"
        );
        let message = error.error_message.unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }

    let client = sandbox.client();
    // Business rule: neither side of an internal transfer.
    assert_api_error(
        client
            .transfer_create()
            .body(
                types::CreateTransferRequest::builder()
                    .amount("10".parse::<types::DecimalString>().expect("amount"))
                    .currency("eur"),
            )
            .send()
            .await,
        400,
        "P424",
    );
    // An enum value the spec does not list.
    let response = http
        .post(format!("{}/v1/kyc", sandbox.base_url()))
        .header("x-api-key", sandbox.api_key())
        .json(&serde_json::json!({
            "externalUserId": "u", "documentType": "SELFIE", "country": "PL",
            "incomeSource": "SALARY", "openAccountReason": "DAILY_USE"
        }))
        .send()
        .await
        .expect("answer");
    let error: types::Error = response.json().await.expect("Error body");
    assert_eq!(error.error_code, "P403");
    assert!(error
        .error_message
        .unwrap_or_default()
        .contains("documentType"));
}

#[tokio::test]
async fn users_answer_the_documented_codes() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();

    let get_balances =
        |user: &'static str| client.user_get_balances().external_user_id(user).send();
    let error = assert_api_error(get_balances("nobody").await, 400, "P412");
    assert_eq!(error.error_name.as_deref(), Some("invalid-user"));

    let created = client
        .user_create()
        .body(
            types::UserCreateRequest::builder()
                .external_user_id("alice")
                .country("UA".to_string())
                .has_accepted_p100_tc(true),
        )
        .send()
        .await
        .expect("created")
        .into_inner();
    assert_eq!(created.poa_required_for_extended, Some(true));

    assert_api_error(
        client
            .user_create()
            .body(types::UserCreateRequest::builder().external_user_id("alice"))
            .send()
            .await,
        400,
        "P411",
    );

    let balances = get_balances("alice").await.expect("balances").into_inner();
    assert_eq!(balances.fiat_balances.len(), 1);
    assert_eq!(
        balances.fiat_balances[0].status,
        Some(types::BalanceStatus::WaitingToBeActivated)
    );
    assert_eq!(balances.fiat_balances[0].amount.to_string(), "0.00");
    assert_eq!(balances.crypto_balances.len(), 7);
    assert!(balances.crypto_balances.iter().all(|b| b.amount.is_zero()));

    assert_api_error(
        client
            .sepa_transfer_get()
            .transfer_id(uuid::Uuid::new_v4())
            .send()
            .await,
        404,
        "P428",
    );
    assert_api_error(
        client
            .kyc_get_status()
            .external_user_id("alice")
            .send()
            .await,
        404,
        "P445",
    );

    client
        .user_suspend()
        .external_user_id("alice")
        .send()
        .await
        .expect("suspended");
    let lock = || {
        client
            .exchange_create_lock()
            .external_user_id("alice")
            .send()
    };
    assert_api_error(lock().await, 400, "P455");
    client
        .user_unsuspend()
        .external_user_id("alice")
        .send()
        .await
        .expect("unsuspended");
    lock().await.expect("lock after unsuspend");

    client
        .user_delete()
        .external_user_id("alice")
        .send()
        .await
        .expect("deleted");
    let (status, _) = api_error(get_balances("alice").await);
    assert_eq!(status, 400);

    assert_api_error(
        client
            .crypto_withdrawal_get_network_fee()
            .currency("xyz")
            .send()
            .await,
        400,
        "P410",
    );
    let fee = client
        .crypto_withdrawal_get_network_fee()
        .currency("usdt")
        .network("polygon")
        .send()
        .await
        .expect("fee")
        .into_inner();
    assert!(fee.network_fee.is_sign_positive());
}

#[tokio::test]
async fn card_endpoints_answer_that_the_card_module_is_suspended() {
    let sandbox = Sandbox::start().await.expect("start");
    let client = sandbox.client();
    let (status, error) = api_error(
        client
            .card_list()
            .external_user_id("bca65c48-df49-4831-a7b2-de7903321581")
            .send()
            .await,
    );
    assert_eq!(status, 400);
    assert_eq!(error.error_code, "P501");
    // No page shows an errorName for P501: none is invented.
    assert_eq!(error.error_name, None);
    let (status, _) = api_error(
        client
            .card_create()
            .body(
                types::CardCreateRequest::builder()
                    .external_user_id("bca65c48-df49-4831-a7b2-de7903321581")
                    .label("Shopping")
                    .pin("1234"),
            )
            .send()
            .await,
    );
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_documented_example_ids_answer() {
    let sandbox = Sandbox::start().await.expect("start");
    let client = sandbox.client();
    let exchange = client
        .exchange_get()
        .exchange_id("3f0aeaa7-1177-4d77-9985-0cb987809801")
        .send()
        .await
        .expect("example exchange")
        .into_inner();
    assert_eq!(exchange.status, types::ExchangeStatus::Completed);
    let order = client
        .order_get()
        .order_id(uuid::Uuid::parse_str("a44a0805-dd40-4dc4-80d7-8bc81783ec42").expect("uuid"))
        .send()
        .await
        .expect("example order")
        .into_inner();
    assert_eq!(order.status, types::OrderStatus::WaitingForConfirmation);
    client
        .user_get_balances()
        .external_user_id("bca65c48-df49-4831-a7b2-de7903321581")
        .send()
        .await
        .expect("example user");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_the_error_shape() {
    let sandbox = Sandbox::start().await.expect("start");
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/v1/nothing", sandbox.base_url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 404);
    let _: types::Error = response.json().await.expect("Error body");
    let response = http
        .put(format!("{}/v1/partner/balances", sandbox.base_url()))
        .header("x-api-key", sandbox.api_key())
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 405);
    assert!(response.headers().contains_key("allow"));
    let _: types::Error = response.json().await.expect("Error body");
}

#[test]
fn the_binary_prints_its_url_and_key_and_answers() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_p100-sandbox"))
        .args(["--port", "0", "--api-key", "bin-key", "--no-examples"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut base_url = None;
    let mut key = None;
    for line in lines.by_ref().take(10) {
        let line = line.expect("line");
        if let Some(url) = line.trim().strip_prefix("base URL:") {
            base_url = Some(url.trim().to_string());
        }
        if let Some(k) = line.trim().strip_prefix("API key:") {
            key = Some(k.trim().to_string());
            break;
        }
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "{}/v1/partner/balances",
                base_url.clone().expect("base URL printed")
            ))
            .header("x-api-key", key.clone().expect("key printed"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(key.as_deref(), Some("bin-key"));
    assert_eq!(status.expect("answer"), 200);
}

#[test]
fn configuration_files_parse_and_typos_are_rejected() {
    let toml = r#"
        port = 8100
        api_key = "k"
        settle_after = 0.5
        time_scale = 0.01
        [webhooks]
        token = "t"
        urls = { exchange = "http://127.0.0.1:9/exchange" }
        [[faults]]
        operation = "exchange_create"
        kind = "rate_limit"
        retry_after_secs = 3
        times = 2
    "#;
    let config = Config::from_toml_str(toml).expect("toml");
    config.validate().expect("valid");
    assert_eq!(config.settle_after, std::time::Duration::from_millis(500));
    assert_eq!(
        config.faults[0].fault,
        p100_sandbox::Fault::RateLimit {
            retry_after_secs: 3
        }
    );
    let yaml = "api_key: k\nlock_ttl: 40\nfaults:\n  - kind: drop_after_processing\n    operation: transfer_create\n";
    let config = Config::from_yaml_str(yaml).expect("yaml");
    config.validate().expect("valid");
    assert_eq!(config.lock_ttl, std::time::Duration::from_secs(40));
    assert!(Config::from_toml_str("settle_afer = 1").is_err());
    assert!(Config::default().with_time_scale(0.0).validate().is_err());
    assert!(Config::default()
        .with_webhook("no_such_kind", "http://127.0.0.1:1/")
        .validate()
        .is_err());
    assert!(Config::default()
        .with_fault(
            p100_sandbox::FaultRule::new(p100_sandbox::Fault::DropAfterProcessing)
                .operation("nope")
        )
        .validate()
        .is_err());
}

#[tokio::test]
async fn extreme_inputs_are_answered_not_panicked_on() {
    let sandbox = Sandbox::start().await.expect("start");
    let http = reqwest::Client::new();
    let key = sandbox.api_key().to_string();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", sandbox.base_url()))
            .header("x-api-key", &key)
            .json(&body)
            .send()
    };
    for (path, body) in [
        (
            "/v1/transfer",
            serde_json::json!({"destinationExternalUserId": "bca65c48-df49-4831-a7b2-de7903321581",
                               "amount": "79228162514264337593543950335", "currency": "eur"}),
        ),
        (
            "/v1/order/lock-rate",
            serde_json::json!({"currency": "usdc", "amount": "7922816251426433759354395033", "network": "polygon"}),
        ),
        ("/v1/payment-link", serde_json::json!({"amount": 1e300})),
        (
            "/v1/crypto-withdrawal",
            serde_json::json!({"sourceExternalUserId": "bca65c48-df49-4831-a7b2-de7903321581",
                               "currency": "btc", "amount": "-1e-30", "walletAddress": "x"}),
        ),
    ] {
        let response = post(path, body).await.expect("answer");
        assert_eq!(response.status(), 400, "{path}");
        let error: types::Error = response.json().await.expect("Error body");
        assert_eq!(error.error_code, "P403", "{path}");
    }
    // Sandbox time cannot be pushed past its end.
    for seconds in [1e19, 1e30, -1.0] {
        let response = post(
            "/__sandbox/advance",
            serde_json::json!({ "seconds": seconds }),
        )
        .await
        .expect("answer");
        assert!(response.status().as_u16() < 500, "{seconds}");
    }
    let rates = http
        .get(format!("{}/v1/exchange/get-rate", sandbox.base_url()))
        .header("x-api-key", &key)
        .send()
        .await
        .expect("still answering");
    assert_eq!(rates.status(), 200);
}

fn multipart(files: &[(&str, &str, usize)]) -> (String, Vec<u8>) {
    let boundary = "b0undary";
    let mut body = Vec::new();
    for (name, content_type, size) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(std::iter::repeat_n(b'x', *size));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn method_a_verification_and_proof_of_address() {
    let sandbox = manual_sandbox(Config::default()).await;
    let client = sandbox.client();
    let http = reqwest::Client::new();
    create_user(&client, "max").await;
    let mut body = serde_json::Map::new();
    body.insert("externalUserId".into(), "max".into());
    client
        .user_add_verification()
        .body(types::UserVerificationRequest::from(body))
        .send()
        .await
        .expect("verification data accepted");
    let kyc = || async {
        client
            .kyc_get_status()
            .external_user_id("max")
            .send()
            .await
            .expect("status")
            .into_inner()
    };
    assert_eq!(
        kyc().await.attempt_status,
        Some(types::KycAttemptStatus::Verification)
    );
    sandbox.advance(common::SETTLE);
    assert_eq!(
        kyc().await.verification_status,
        Some(types::KycVerificationStatus::Verified)
    );

    let upload = |files: &[(&str, &str, usize)]| {
        let (content_type, body) = multipart(files);
        http.post(format!("{}/v1/user/poa-files/max", sandbox.base_url()))
            .header("x-api-key", sandbox.api_key())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let wrong_type = upload(&[("a.gif", "image/gif", 10)]).await.expect("answer");
    let error: types::Error = wrong_type.json().await.expect("Error body");
    assert_eq!(error.error_code, "P426");
    let too_big = upload(&[("a.pdf", "application/pdf", 5 * 1024 * 1024 + 1)])
        .await
        .expect("answer");
    let error: types::Error = too_big.json().await.expect("Error body");
    assert_eq!(error.error_code, "P440");
    let too_many = upload(&[("1.png", "image/png", 1); 4])
        .await
        .expect("answer");
    let error: types::Error = too_many.json().await.expect("Error body");
    assert_eq!(error.error_code, "P403");
    let ok = upload(&[
        ("bill.pdf", "application/pdf", 100),
        ("id.png", "image/png", 100),
    ])
    .await
    .expect("answer");
    assert_eq!(ok.status(), 201);
    sandbox.advance(common::SETTLE);
    let again = upload(&[("bill.pdf", "application/pdf", 100)])
        .await
        .expect("answer");
    let error: types::Error = again.json().await.expect("Error body");
    assert_eq!(error.error_code, "P447");
    let kinds: Vec<String> = sandbox.deliveries().into_iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&"poa_verification_status".to_string()));
    assert!(kinds.contains(&"user_balance_generation".to_string()));
}
