//! One error type: every error code documented in the facts maps to its `ErrorCode`, answers
//! become `Error`s with status, code, name, message and 401 reason, and no error shows the key.

mod support;

use std::collections::BTreeSet;

use httpmock::prelude::*;
use p100_ergonomic::{AuthFailure, Error, ErrorCode, ErrorKind, RetryPolicy};
use reqwest::StatusCode;
use serde_yaml::Value;
use support::{facts_files, get_balances, KEY};

/// An error entry of the facts: a mapping with `code: P…`, wherever it is (endpoint `errors:`
/// lists, guide tables, legacy tables), or a documented error body (`errorCode: P…`).
#[derive(Debug, Clone)]
struct Documented {
    file: String,
    code: String,
    http: Option<u16>,
    name: Option<String>,
    body: Option<serde_json::Value>,
}

fn collect(file: &str, value: &Value, out: &mut Vec<Documented>) {
    match value {
        Value::Mapping(map) => {
            let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_string);
            if let Some(code) = text("code").filter(|c| is_p_code(c)) {
                out.push(Documented {
                    file: file.to_string(),
                    code,
                    http: map.get("http").and_then(Value::as_u64).map(|h| h as u16),
                    name: text("name").or_else(|| text("error_name")),
                    body: None,
                });
            }
            if let Some(code) = text("errorCode").filter(|c| is_p_code(c)) {
                let body = serde_json::to_value(value).expect("example as JSON");
                out.push(Documented {
                    file: file.to_string(),
                    code,
                    http: None,
                    name: text("errorName"),
                    body: Some(body),
                });
            }
            for (_, child) in map {
                collect(file, child, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect(file, item, out)),
        _ => {}
    }
}

fn is_p_code(text: &str) -> bool {
    text.len() == 4 && text.starts_with('P') && text[1..].chars().all(|c| c.is_ascii_digit())
}

fn documented() -> Vec<Documented> {
    let mut out = Vec::new();
    for (file, value) in facts_files() {
        collect(&file, &value, &mut out);
    }
    out
}

/// The parts of a documented name: "invalid-currency (Currency not found)" is two names, and
/// "User not exist (errorName invalid-user)" names the title and the errorName.
fn name_parts(name: &str) -> Vec<String> {
    name.split(['(', ')'])
        .map(|part| {
            part.trim()
                .trim_start_matches("errorName")
                .trim()
                .to_lowercase()
        })
        .filter(|part| !part.is_empty())
        .collect()
}

#[test]
fn every_documented_code_is_a_known_error_code() {
    let documented = documented();
    let codes: BTreeSet<&str> = documented.iter().map(|d| d.code.as_str()).collect();
    // The facts mention these codes at least; if the facts lose them, this test is reading the
    // wrong files.
    for minimum in [
        "P211", "P403", "P410", "P411", "P412", "P418", "P424", "P426", "P428", "P431", "P432",
        "P433", "P434", "P440", "P445", "P447", "P451", "P454", "P455", "P457", "P459", "P460",
        "P461", "P500", "P501",
    ] {
        assert!(codes.contains(minimum), "{minimum} not found in the facts");
    }
    for entry in &documented {
        let code = ErrorCode::parse(&entry.code);
        assert!(code.is_known(), "{entry:?} maps to {code:?}");
        assert_eq!(code.as_str(), entry.code);
        assert!(ErrorCode::KNOWN.contains(&code));
    }
    assert_eq!(
        ErrorCode::KNOWN.len(),
        codes.len(),
        "codes known but not documented"
    );
}

#[test]
fn every_documented_name_matches_its_code() {
    let mut checked = 0;
    for entry in documented() {
        let Some(name) = &entry.name else { continue };
        let code = ErrorCode::parse(&entry.code);
        let known: Vec<String> = [code.title(), code.error_name()]
            .into_iter()
            .flatten()
            .map(str::to_lowercase)
            .collect();
        for part in name_parts(name) {
            assert!(
                known.contains(&part),
                "{} in {}: documented as {part:?}, the SDK knows {known:?}",
                entry.code,
                entry.file
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} names checked");
}

#[test]
fn the_issue_names_the_codes_for_what_they_mean() {
    for (code, expected) in [
        ("P211", ErrorCode::PoaPending),
        ("P403", ErrorCode::ValidationFailed),
        ("P410", ErrorCode::CurrencyNotFound),
        ("P411", ErrorCode::UserAlreadyExists),
        ("P412", ErrorCode::UserNotFound),
        ("P418", ErrorCode::PartnerNotFound),
        ("P424", ErrorCode::SourceOrDestinationRequired),
        ("P426", ErrorCode::InvalidFileType),
        ("P428", ErrorCode::SepaTransferNotFound),
        ("P431", ErrorCode::CountryNotAllowedForVirtualCard),
        ("P432", ErrorCode::InvalidExchangeLock),
        ("P433", ErrorCode::InsufficientFunds),
        ("P434", ErrorCode::CardNotFound),
        ("P440", ErrorCode::FileTooLarge),
        ("P445", ErrorCode::KycNotFound),
        ("P447", ErrorCode::PoaAlreadyVerified),
        ("P451", ErrorCode::CountryNotAllowedForCard),
        ("P454", ErrorCode::UserHasActiveCards),
        ("P455", ErrorCode::UserSuspended),
        ("P457", ErrorCode::SameCurrencies),
        ("P459", ErrorCode::UserNotVerified),
        ("P460", ErrorCode::PoaVerificationNotFound),
        ("P461", ErrorCode::UserNotExtended),
        ("P500", ErrorCode::UnknownException),
        ("P501", ErrorCode::ServiceUnavailable),
    ] {
        assert_eq!(ErrorCode::parse(code), expected);
        assert_eq!(expected.to_string(), code);
        assert_eq!(code.parse::<ErrorCode>(), Ok(expected));
    }
}

#[test]
fn unknown_codes_are_kept() {
    let code = ErrorCode::parse("P999");
    assert_eq!(code, ErrorCode::Unknown("P999".to_string()));
    assert_eq!(code.as_str(), "P999");
    assert_eq!(code.title(), None);
    assert!(!code.is_known());

    let error = Error::from_response(
        StatusCode::BAD_REQUEST,
        br#"{"errorCode":"P999","errorName":"brand-new","errorMessage":"Something new"}"#,
    );
    assert_eq!(error.code(), Some(&ErrorCode::Unknown("P999".to_string())));
    assert_eq!(error.name(), Some("brand-new"));
    assert!(!error.is_retryable() && !error.is_not_found());
    assert_eq!(
        error.to_string(),
        "P100 answered HTTP 400 Bad Request, P999 brand-new: Something new"
    );
}

#[test]
fn documented_error_bodies_become_errors() {
    let mut checked = 0;
    for entry in documented() {
        let Some(body) = &entry.body else { continue };
        let bytes = serde_json::to_vec(body).expect("JSON");
        let error = Error::from_response(StatusCode::BAD_REQUEST, &bytes);
        assert_eq!(error.kind(), ErrorKind::Api);
        assert_eq!(error.code(), Some(&ErrorCode::parse(&entry.code)), "{body}");
        assert_eq!(error.name(), body["errorName"].as_str(), "{body}");
        assert_eq!(error.message(), body["errorMessage"].as_str(), "{body}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} documented bodies");
}

#[tokio::test]
async fn every_documented_error_through_a_call() {
    let server = MockServer::start_async().await;
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let mut seen = BTreeSet::new();
    for entry in documented() {
        let Some(http) = entry.http.filter(|h| *h >= 400) else {
            continue;
        };
        if !seen.insert((entry.code.clone(), http, entry.name.clone())) {
            continue;
        }
        let mock = server
            .mock_async(|when, then| {
                when.method(GET).path("/v1/user/balances/u1");
                then.status(http).json_body(serde_json::json!({
                    "errorCode": entry.code,
                    "errorName": entry.name,
                    "errorMessage": "documented example",
                }));
            })
            .await;

        let error = get_balances(&client).await.expect_err("an error status");
        mock.delete_async().await;

        assert_eq!(error.kind(), ErrorKind::Api, "{entry:?}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(http), "{entry:?}");
        let code = ErrorCode::parse(&entry.code);
        assert_eq!(error.code(), Some(&code), "{entry:?}");
        assert_eq!(error.operation(), Some("user_get_balances"));
        assert_eq!(error.is_retryable(), code == ErrorCode::ServiceUnavailable);
        assert_eq!(
            error.is_not_found(),
            http == 404 || code.is_not_found(),
            "{entry:?}"
        );
    }
    assert!(
        seen.len() > 20,
        "only {} distinct documented errors",
        seen.len()
    );
}

/// The documented 401 messages, from the Authentication guide.
fn auth_messages() -> Vec<(String, String)> {
    let auth = support::fact("guides.yaml", "Authentication");
    let table = auth["tables"]["auth_401_messages"]
        .as_sequence()
        .expect("auth_401_messages table");
    table
        .iter()
        .map(|row| {
            (
                row["message"].as_str().expect("message").to_string(),
                row["meaning"].as_str().expect("meaning").to_string(),
            )
        })
        .collect()
}

fn expected_reason(message: &str) -> AuthFailure {
    match &message[message.len() - 3..] {
        "xo1" => AuthFailure::MissingApiKey,
        "xo2" => AuthFailure::WrongApiKey,
        "xo3" => AuthFailure::IpNotAllowed,
        other => panic!("undocumented reason {other}"),
    }
}

#[tokio::test]
async fn access_denied_keeps_status_and_reason_whatever_the_body() {
    let messages = auth_messages();
    assert_eq!(messages.len(), 3);
    let server = MockServer::start_async().await;
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .expect("client");

    for (message, meaning) in &messages {
        let reason = expected_reason(message);
        for (content_type, body) in [
            ("text/plain", message.clone()),
            (
                "application/json",
                serde_json::json!({ "message": message }).to_string(),
            ),
            (
                "application/json",
                serde_json::json!({ "errorCode": "P401", "errorMessage": message }).to_string(),
            ),
        ] {
            let mock = server
                .mock_async(|when, then| {
                    when.method(GET).path("/v1/user/balances/u1");
                    then.status(401)
                        .header("content-type", content_type)
                        .body(&body);
                })
                .await;

            let error = get_balances(&client).await.expect_err("401");
            mock.delete_async().await;

            assert!(error.is_unauthorized(), "{body}: {error:?}");
            assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED), "{body}");
            assert_eq!(error.auth_failure(), Some(reason), "{body} ({meaning})");
            assert!(!error.is_retryable());
            let text = error.to_string();
            assert!(text.contains(reason.reason_code()), "{text}");
            assert!(!text.contains(KEY) && !format!("{error:?}").contains(KEY));
        }
    }
}

#[tokio::test]
async fn plain_conversion_still_recognises_access_denied() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/user/balances/u1");
            then.status(401).body("Access Denied. xo3");
        })
        .await;
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .expect("client");

    let raw = client
        .raw()
        .user_get_balances()
        .external_user_id("u1")
        .send()
        .await
        .expect_err("401");
    assert!(
        raw.status().is_none(),
        "progenitor lost the status: {raw:?}"
    );
    let error = Error::from(raw);

    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(error.auth_failure(), Some(AuthFailure::IpNotAllowed));
}

#[tokio::test]
async fn a_proxy_error_page_keeps_its_status() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/user/balances/u1");
            then.status(502)
                .header("content-type", "text/html")
                .body("<html><body>502 Bad Gateway</body></html>");
        })
        .await;
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");

    let error = get_balances(&client).await.expect_err("502");

    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(error.code(), None);
    assert_eq!(
        error.message(),
        Some("<html><body>502 Bad Gateway</body></html>")
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_undecodable_success_keeps_the_raw_body() {
    let server = MockServer::start_async().await;
    let body = r#"{"fiatBalances": "not a list"}"#;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/user/balances/u1");
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url(server.base_url())
        .build()
        .expect("client");

    let error = get_balances(&client).await.expect_err("decode error");

    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!(error.status(), Some(StatusCode::OK));
    assert_eq!(error.body(), Some(body.as_bytes()));
    assert!(std::error::Error::source(&error).is_some());
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn transport_errors_do_not_show_the_key() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");

    let error = get_balances(&client).await.expect_err("connection refused");

    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_connect() && error.is_retryable());
    let mut chain = format!("{error} {error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        chain.push_str(&format!(" {inner} {inner:?}"));
        source = inner.source();
    }
    assert!(!chain.contains(KEY), "{chain}");
}

#[test]
fn invalid_requests_are_reported_before_sending() {
    let client = p100_ergonomic::Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let error = runtime
        .block_on(client.call(client.raw().user_get_balances().send()))
        .expect_err("missing parameter");

    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        error.to_string(),
        "invalid request: external_user_id was not initialized"
    );
}
