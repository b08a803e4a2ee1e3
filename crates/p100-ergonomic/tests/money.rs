//! Issue 12, item 2: typed money values. One `Amount` that every money setter and flow takes,
//! refusing zero, negative and malformed amounts before sending with the same words everywhere;
//! `Currency` and `Network` from the spec's value sets, one spelling whatever case P100 used;
//! named lock flows (end to end in `sandbox_flows.rs`, with a create answer's id that goes
//! straight into its waiter).

mod support;

use p100_ergonomic::types::{self, CreateSepaTransferRequest};
use p100_ergonomic::{Amount, Currency, ErrorKind, LockError, Network, RetryPolicy};
use serde_json::json;
use support::{client, fact, Reply, ScriptServer};

const SEPA: &str = r#"{"transferId": "7fb02323-969a-4936-94ea-86b8773ff1a2"}"#;

fn sepa_body(amount: &str) -> types::builder::CreateSepaTransferRequest {
    CreateSepaTransferRequest::builder()
        .source_external_user_id("u-1".to_string())
        .amount(amount.parse::<types::DecimalString>().expect("a decimal"))
        .currency("eur")
        .destination_iban("DE89370400440532013000")
        .transfer_title("rent")
        .receiver_type(types::ReceiverType::Natural)
}

#[tokio::test]
async fn a_negative_or_zero_amount_is_refused_before_sending_with_the_lock_flows_words() {
    let server = ScriptServer::start(vec![Reply::json(200, SEPA)]).await;
    let client = client(&server.url(), RetryPolicy::none());

    // The raw decimal type reads "-5" (P100 sends such values in histories), so the generated
    // body takes it; the operation method refuses it before anything leaves.
    for amount in ["-5", "0", "0.00"] {
        let refused = client
            .sepa_transfer_create()
            .body(sepa_body(amount))
            .send()
            .await
            .err();
        assert_eq!(
            refused.as_ref().map(|e| e.kind()),
            Some(ErrorKind::InvalidRequest),
            "{amount}: {refused:?}"
        );
        assert_eq!(
            refused.map(|e| e.to_string()).unwrap_or_default(),
            format!("invalid request: amount {amount} refused: it must be more than zero"),
        );
    }
    // The same through `body_map`.
    let refused = client
        .sepa_transfer_create()
        .body_map(|_| sepa_body("-1"))
        .send()
        .await;
    assert!(refused.is_err_and(|e| e.to_string().contains("amount -1 refused")));
    assert!(server.requests().is_empty(), "nothing may be sent");

    // The lock flows refuse it with the same words (their error adds "nothing was sent").
    let flow = client
        .lock_then_exchange()
        .user("u-1")
        .amount("-5")
        .currency_from("eur")
        .currency_to("btc")
        .send()
        .await;
    match flow {
        Err(LockError::InvalidRequest(reason)) => {
            assert_eq!(reason, "amount -5 refused: it must be more than zero")
        }
        other => panic!("expected an invalid request, got {other:?}"),
    }
    assert!(server.requests().is_empty(), "nothing may be sent");

    // A positive amount goes out, as written.
    let sent = client
        .sepa_transfer_create()
        .body(sepa_body("12.50"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        sent.transfer_id.to_string(),
        "7fb02323-969a-4936-94ea-86b8773ff1a2"
    );
    assert_eq!(server.requests()[0].json()["amount"], json!("12.50"));
}

#[tokio::test]
async fn malformed_amounts_are_refused_where_they_are_given() {
    let server = ScriptServer::start(vec![]).await;
    let client = client(&server.url(), RetryPolicy::none());
    for (text, words) in [
        ("1e3", "not a decimal in plain notation"),
        ("1_000", "not a decimal in plain notation"),
        (" 5", "not a decimal in plain notation"),
        (
            "12345678901234567890123456789",
            "29 significant digits, at most 28",
        ),
    ] {
        let flow = client
            .partner_exchange()
            .amount(text)
            .currency_from(Currency::Usdt)
            .currency_to(Currency::Eur)
            .send()
            .await;
        let reason = match flow {
            Err(LockError::InvalidRequest(reason)) => reason,
            other => panic!("{text:?}: expected an invalid request, got {other:?}"),
        };
        assert!(
            reason.contains(&format!("{text:?}")) && reason.contains(words),
            "{reason}"
        );
        assert_eq!(
            Amount::try_from(text).map_err(|e| e.to_string()),
            Err(reason)
        );
    }
    assert!(server.requests().is_empty());
}

#[test]
fn every_documented_currency_and_network_is_known_in_one_spelling() {
    // The "Supported Currencies" facts table: every code and network it lists is a known value.
    let table = fact("guides.yaml", "Supported Currencies")["tables"]["currencies"].clone();
    let rows = table.as_sequence().cloned().unwrap_or_default();
    assert!(rows.len() >= 8, "{rows:?}");
    for row in rows {
        let code = row["code"].as_str().unwrap_or_default();
        let upper = code.to_uppercase();
        assert!(!Currency::from(code).is_unknown(), "{code}");
        assert_eq!(
            Currency::from(upper.as_str()),
            Currency::from(code),
            "{upper}"
        );
        assert_eq!(Currency::from(upper.as_str()).as_str(), code);
        for network in row["networks"].as_sequence().into_iter().flatten() {
            let network = network.as_str().unwrap_or_default();
            if network != "sepa" {
                assert!(!Network::from(network).is_unknown(), "{network}");
            }
        }
    }
    // An unknown code is kept, in one spelling.
    assert_eq!(Currency::from("XRP"), Currency::Unknown("xrp".into()));
    assert_eq!(Currency::from("XRP"), Currency::from("xrp"));
    assert_eq!(Network::from("POLYGON").as_str(), "polygon");
    let read: Currency = serde_json::from_value(json!("BTC")).expect("reads");
    assert_eq!(
        (read.clone(), serde_json::to_value(read).ok()),
        (Currency::Btc, Some(json!("btc")))
    );
}
