//! Money safety of what the sandbox reads (issue 16, items 5 and 9): amounts follow the strict
//! decimal rules of `p100_api` wherever the sandbox reads one, validation is never skipped by a
//! deeply nested body, and a body over the limit is a 413 with the spec's `Error` body.

mod common;

use common::{create_user, manual_sandbox};
use p100_api::{catalog, types};
use p100_sandbox::{Config, Sandbox};

/// POSTs `body` (JSON text) to `path` with the key; the status and the `Error` body, if any.
async fn post(sandbox: &Sandbox, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.base_url()))
        .header("x-api-key", sandbox.api_key())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answer");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The answer is a P403 whose message names `field` and `value`.
fn assert_p403_naming(answer: &(u16, String), field: &str, value: &str, what: &str) {
    let (status, text) = answer;
    assert_eq!(*status, 400, "{what}: {text}");
    let error: types::Error = serde_json::from_str(text).expect("the spec's Error body");
    assert_eq!(error.error_code, "P403", "{what}: {text}");
    let message = error.error_message.unwrap_or_default();
    assert!(
        message.contains(field) && message.contains(value),
        "{what}: the message should name {field} and {value}: {message}"
    );
}

#[tokio::test]
async fn lenient_amounts_are_p403_naming_the_field_and_value() {
    let sandbox = manual_sandbox(Config::default()).await;
    create_user(&sandbox.client(), "u1").await;
    let thirty_one = format!("1.{}1", "0".repeat(30));
    // Typed request bodies (the generated request types' decimals).
    for amount in [
        "\"1_000\"".to_string(),
        "\"1__0\"".to_string(),
        "\"+5\"".to_string(),
        "\"1e3\"".to_string(),
        "\" 10\"".to_string(),
        "\"0x10\"".to_string(),
        format!("{thirty_one}e0"),
        format!("\"{thirty_one}\""),
    ] {
        let body = format!(
            r#"{{"destinationExternalUserId": "u1", "currency": "eur", "amount": {amount}}}"#
        );
        let answer = post(&sandbox, "/v1/transfer", body).await;
        let shown = amount.trim_matches('"');
        assert_p403_naming(&answer, "amount", &shown[..shown.len().min(30)], &amount);
    }
    // Payment links and checkouts: free-form bodies whose amount the sandbox reads itself.
    for path in ["/v1/payment-link", "/v1/checkout"] {
        for amount in [
            "\"1_000\"".to_string(),
            thirty_one.clone(),
            "1e-29".to_string(),
        ] {
            let body = format!(r#"{{"currency": "eur", "amount": {amount}}}"#);
            let answer = post(&sandbox, path, body).await;
            let shown = amount.trim_matches('"');
            assert_p403_naming(&answer, "amount", &shown[..shown.len().min(30)], path);
        }
    }
    // The sandbox's own deposit routes.
    let answer = post(
        &sandbox,
        "/__sandbox/crypto-deposits",
        r#"{"externalUserId": "u1", "currency": "btc", "amount": "1_000"}"#,
    )
    .await;
    assert_p403_naming(&answer, "amount", "1_000", "crypto deposit");
    let answer = post(
        &sandbox,
        "/__sandbox/sepa-deposits",
        r#"{"externalUserId": "u1", "amount": "1__0", "senderIban": "LT1", "senderName": "A"}"#,
    )
    .await;
    assert_p403_naming(&answer, "amount", "1__0", "sepa deposit");
    // Strict, not stricter: the documented forms are still accepted.
    for amount in ["\"10\"", "\"10.50\"", "10.5", "1.5e1"] {
        let body = format!(
            r#"{{"destinationExternalUserId": "u1", "currency": "eur", "amount": {amount}}}"#
        );
        let (status, text) = post(&sandbox, "/v1/transfer", body).await;
        assert_eq!(status, 201, "{amount}: {text}");
    }
    let (status, text) = post(
        &sandbox,
        "/v1/payment-link",
        r#"{"currency": "eur", "amount": 10.50}"#,
    )
    .await;
    assert!(status < 300, "{text}");
}

#[test]
fn configured_partner_balances_are_strict() {
    let mut config = Config::default();
    config
        .partner_balances
        .insert("eur".to_string(), "1_000".to_string());
    let err = config.validate().expect_err("1_000 is not an amount");
    assert!(
        err.to_string().contains("eur") && err.to_string().contains("1_000"),
        "{err}"
    );
}

/// `{"sourceExternalUserId": null, …, "x": [[[…]]]}` with `depth` levels of arrays.
fn deep_body(depth: usize) -> String {
    format!(
        r#"{{"sourceExternalUserId": null, "destinationExternalUserId": "u1", "amount": "10", "currency": "eur", "x": {}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[tokio::test]
async fn a_deeply_nested_body_does_not_skip_the_null_checks() {
    let sandbox = manual_sandbox(Config::default()).await;
    create_user(&sandbox.client(), "u1").await;
    for depth in [3, 126, 127, 128, 200, 5_000] {
        let answer = post(&sandbox, "/v1/transfer", deep_body(depth)).await;
        let (status, text) = &answer;
        assert_eq!(*status, 400, "depth {depth}: {text}");
        let error: types::Error = serde_json::from_str(text).expect("Error body");
        assert_eq!(error.error_code, "P403", "depth {depth}: {text}");
    }
    // Shallow: the null is named; deep: the nesting is.
    assert_p403_naming(
        &post(&sandbox, "/v1/transfer", deep_body(3)).await,
        "sourceExternalUserId",
        "null",
        "shallow",
    );
    assert_p403_naming(
        &post(&sandbox, "/v1/transfer", deep_body(200)).await,
        "body",
        "nested",
        "deep",
    );
    // Free-form bodies too.
    let body = format!(
        r#"{{"currency": "eur", "x": {}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let (status, text) = post(&sandbox, "/v1/payment-link", body).await;
    assert_eq!(status, 400, "{text}");
}

#[tokio::test]
async fn nulls_are_rejected_at_every_depth_naming_the_path() {
    let sandbox = manual_sandbox(Config::default()).await;
    create_user(&sandbox.client(), "u1").await;
    let body = r#"{"destinationExternalUserId": "u1", "amount": "10", "currency": "eur",
                  "extra": {"list": [{"deep": null}]}}"#;
    let answer = post(&sandbox, "/v1/transfer", body).await;
    assert_p403_naming(&answer, "extra.list[0].deep", "null", "nested null");
}

#[tokio::test]
async fn an_oversized_body_is_413_with_the_error_body() {
    let sandbox = manual_sandbox(Config::default()).await;
    // 40 MB: a valid JSON object, padded with spaces.
    let mut body =
        br#"{"destinationExternalUserId": "u1", "amount": "10", "currency": "eur"}"#.to_vec();
    body.resize(40 * 1024 * 1024, b' ');
    let (status, text) = post(&sandbox, "/v1/transfer", body).await;
    assert_eq!(status, 413, "{}", &text[..text.len().min(300)]);
    let error: types::Error = serde_json::from_str(&text).expect("the spec's Error body");
    let expected = catalog::undocumented::BODY_TOO_LARGE;
    assert_eq!(expected.http, 413);
    assert_eq!(error.error_code, expected.code);
    assert!(!error.error_code.starts_with('P'), "never a P-code: {text}");
    assert!(
        error.error_message.unwrap_or_default().contains("MiB"),
        "{text}"
    );
}
