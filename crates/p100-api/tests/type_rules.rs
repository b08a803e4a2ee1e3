//! The type rules users rely on (DESIGN.md "Type rules"), through the generated types and the
//! generated client: exact decimals, open enums, unknown fields ignored.

use p100_api::types::{self, DecimalNumber, DecimalString, ExchangeStatus};
use p100_api_httpmock::MockServerExt;

/// The documented lock example (user lock page), with the rate that needs 16 significant digits.
const LOCK: &str = r#"{
  "id": "407ea838-6e41-45ed-ae0f-84fb0f5d3863",
  "rates": {"btc": 101970.17793043, "eur": 1, "usdt": 0.8582865811608077},
  "feePercentage": 1.49,
  "createdAt": "2025-07-28T11:24:46.312Z",
  "validUntil": "2025-07-28T11:25:46.310Z"
}"#;

#[test]
fn documented_rate_round_trips_digit_for_digit() {
    let lock: types::ExchangeLock = serde_json::from_str(LOCK).unwrap();
    assert_eq!(lock.rates["usdt"].to_string(), "0.8582865811608077");
    let back = serde_json::to_string(&lock).unwrap();
    assert!(back.contains("\"usdt\":0.8582865811608077"), "{back}");
    assert!(back.contains("\"btc\":101970.17793043"), "{back}");
    assert!(back.contains("\"feePercentage\":1.49"), "{back}");
}

#[test]
fn twenty_significant_digits_survive_as_number_and_as_string() {
    let twenty = "98765432109.876543210";
    let json = LOCK.replace("0.8582865811608077", twenty);
    let lock: types::ExchangeLock = serde_json::from_str(&json).unwrap();
    assert_eq!(lock.rates["usdt"].to_string(), twenty);
    assert!(serde_json::to_string(&lock).unwrap().contains(twenty));

    let as_string = LOCK.replace("0.8582865811608077", &format!("\"{twenty}\""));
    let lock: types::ExchangeLock = serde_json::from_str(&as_string).unwrap();
    assert_eq!(lock.rates["usdt"].to_string(), twenty);
    // DecimalNumber fields are written as numbers whatever form they were read from.
    assert!(serde_json::to_string(&lock)
        .unwrap()
        .contains(&format!(":{twenty}")));

    let s: DecimalString = serde_json::from_str(twenty).unwrap();
    assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{twenty}\""));
    let n: DecimalNumber = twenty.parse().unwrap();
    assert_eq!(serde_json::to_string(&n).unwrap(), twenty);
}

#[test]
fn unknown_status_parses_and_keeps_its_text() {
    let details: types::ExchangeDetails =
        serde_json::from_str(r#"{"status": "PARTIALLY_SETTLED", "somethingNew": {"x": 1}}"#)
            .unwrap();
    let status = details.status;
    assert_eq!(status, ExchangeStatus::Unknown("PARTIALLY_SETTLED".into()));
    assert!(status.is_unknown());
    assert_eq!(
        serde_json::to_string(&status).unwrap(),
        "\"PARTIALLY_SETTLED\""
    );

    let known: ExchangeStatus = serde_json::from_str("\"COMPLETED\"").unwrap();
    assert_eq!(known, ExchangeStatus::Completed);
    assert!(ExchangeStatus::KNOWN.contains(&known));
}

#[test]
fn malformed_amount_is_an_error_not_a_default() {
    let json = LOCK.replace("1.49", "\"one and a half\"");
    let err = serde_json::from_str::<types::ExchangeLock>(&json).unwrap_err();
    assert!(err.to_string().contains("not a decimal number"), "{err}");
}

#[tokio::test]
async fn generated_client_decodes_exact_amounts_from_the_wire() {
    let server = httpmock::MockServer::start_async().await;
    let lock: types::ExchangeLock = serde_json::from_str(LOCK).unwrap();
    let mock = server.exchange_create_lock(|when, then| {
        when.external_user_id("user-1");
        then.ok(&lock);
    });
    let client = p100_api::Client::new(&server.base_url(), p100_api::Executor::default());
    let got = client
        .exchange_create_lock()
        .external_user_id("user-1")
        .send()
        .await
        .unwrap()
        .into_inner();
    mock.assert();
    assert_eq!(got.rates["usdt"].to_string(), "0.8582865811608077");
    assert_eq!(got, lock);
}
