//! `parse`, `detect`, the dedupe keys and `WebhookKind`: what P100 may send beyond the documented
//! examples (unknown statuses, new fields, amounts in the other JSON form) parses, and what is not
//! a webhook is an error that says what was wrong.

mod webhook_support;

use std::collections::HashSet;

use p100_ergonomic::types::{
    BalanceStatus, CryptoDepositStatus, DecimalNumber, DecimalString, KycAttemptStatus,
    SepaTransferStatus,
};
use p100_ergonomic::webhooks::{self, DedupeKey, WebhookError, WebhookEvent, WebhookKind};
use serde_json::{json, Value};
use webhook_support::{sample, sample_body, sample_with};

// ---- WebhookKind ---------------------------------------------------------------------------

#[test]
fn kind_names_round_trip_and_are_unique() {
    let mut seen = HashSet::new();
    for &kind in WebhookKind::ALL {
        assert!(seen.insert(kind.as_str()));
        assert_eq!(kind.to_string(), kind.as_str());
        assert_eq!(kind.as_str().parse::<WebhookKind>().unwrap(), kind);
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{kind}\""));
        assert_eq!(serde_json::from_str::<WebhookKind>(&json).unwrap(), kind);
    }
    assert_eq!(seen.len(), 18);
}

#[test]
fn an_unknown_kind_name_is_an_error() {
    let error = "Crypto_Deposit".parse::<WebhookKind>().unwrap_err();
    assert!(matches!(error, WebhookError::UnknownKind { .. }));
    assert_eq!(
        error.to_string(),
        r#"unknown webhook kind "Crypto_Deposit""#
    );
    assert_eq!(error.http_status(), 404);
    assert!(serde_json::from_str::<WebhookKind>("\"nope\"").is_err());
}

// ---- what must parse -----------------------------------------------------------------------

#[test]
fn every_kind_parses_its_sample() {
    for &kind in WebhookKind::ALL {
        let event = webhooks::parse(kind, &sample_body(kind)).unwrap();
        assert_eq!(event.kind(), kind);
    }
}

#[test]
fn unknown_status_values_are_kept() {
    for &kind in WebhookKind::ALL {
        let fields = kind.known_fields();
        for field in ["status", "verificationStatus", "attemptStatus"] {
            if !fields.contains(&field) {
                continue;
            }
            let body = sample_with(kind, field, json!("SOMETHING_NEW"));
            let event =
                webhooks::parse(kind, &body).unwrap_or_else(|e| panic!("{kind}.{field}: {e}"));
            // The raw value survives a round trip (so it reaches logs and stores as sent).
            let out: Value = serde_json::to_value(&event).unwrap();
            assert_eq!(out[field], "SOMETHING_NEW", "{kind}.{field}");
        }
    }
    let event = webhooks::parse(
        WebhookKind::CryptoDeposit,
        &sample_with(WebhookKind::CryptoDeposit, "status", json!("REFUNDED")),
    )
    .unwrap();
    let WebhookEvent::CryptoDeposit(deposit) = event else {
        panic!()
    };
    assert_eq!(
        deposit.status,
        CryptoDepositStatus::Unknown("REFUNDED".into())
    );
}

#[test]
fn new_fields_are_ignored_or_kept() {
    for &kind in WebhookKind::ALL {
        let body = sample_with(
            kind,
            "addedLater",
            json!({"nested": [1, "two", null], "deep": {"x": 1.5}}),
        );
        let event = webhooks::parse(kind, &body).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(event.kind(), kind);
    }
    // The kinds whose fields are unknown keep everything.
    let body = sample_with(WebhookKind::CardTransaction, "addedLater", json!(7));
    let WebhookEvent::CardTransaction(card) =
        webhooks::parse(WebhookKind::CardTransaction, &body).unwrap()
    else {
        panic!()
    };
    assert_eq!(card.get::<i64>("addedLater").transpose().unwrap(), Some(7));
}

#[test]
fn amounts_parse_as_number_or_string_exactly() {
    // Documented as a number, sent as a string (the FAQ's form).
    let deposit = |amount: Value| {
        let body = sample_with(WebhookKind::CryptoDeposit, "amount", amount);
        match webhooks::parse(WebhookKind::CryptoDeposit, &body).unwrap() {
            WebhookEvent::CryptoDeposit(d) => d.amount,
            _ => unreachable!(),
        }
    };
    assert_eq!(deposit(json!("0.05")), deposit(json!(0.05)));
    assert_eq!(
        deposit(json!("0.05")),
        "0.05".parse::<DecimalNumber>().unwrap()
    );

    // Documented as a string, sent as a number.
    let sepa = |amount: &str| {
        let mut body = String::from_utf8(sample_body(WebhookKind::UserSepaTransfer)).unwrap();
        body = body.replace(r#""amount":"3.8""#, &format!(r#""amount":{amount}"#));
        assert!(body.contains(amount));
        match webhooks::parse(WebhookKind::UserSepaTransfer, body.as_bytes()).unwrap() {
            WebhookEvent::UserSepaTransfer(t) => t.amount.unwrap(),
            _ => unreachable!(),
        }
    };
    assert_eq!(sepa("3.8"), "3.8".parse::<DecimalString>().unwrap());
    assert_eq!(sepa(r#""3.8""#), sepa("3.8"));

    // Every digit survives, from the raw number text (never through f64).
    let body = br#"{"id":"8c394557-ba48-4ab4-9349-84d396b4a7f7","sourceExternalUserId":null,
        "destinationExternalUserId":"u-1","amount":0.8582865811608077,"currency":"eur",
        "status":"SUCCESSFUL","createdAt":"2025-01-20T11:04:29.719Z"}"#;
    let event = webhooks::parse(WebhookKind::P2pTransfer, body).unwrap();
    let WebhookEvent::P2pTransfer(transfer) = &event else {
        panic!()
    };
    assert_eq!(transfer.amount.to_string(), "0.8582865811608077");
    // And each is written back in the form the docs show for it.
    let out = serde_json::to_string(&event).unwrap();
    assert!(out.contains(r#""amount":0.8582865811608077"#), "{out}");
    let sepa_out = serde_json::to_string(
        &webhooks::parse(
            WebhookKind::UserSepaTransfer,
            &sample_body(WebhookKind::UserSepaTransfer),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(sepa_out.contains(r#""amount":"3.8""#), "{sepa_out}");
}

#[test]
fn a_minimal_failed_sepa_transfer_parses() {
    // The docs describe the FAILED body as minimal with an `error` object (never shown).
    let body = br#"{"id":"123f6603-5a71-45c3-a222-1de369bb1c4d","status":"FAILED",
        "error":{"description":"Insufficient funds","status":"ERROR"}}"#;
    for kind in [
        WebhookKind::UserSepaTransfer,
        WebhookKind::PartnerSepaTransfer,
    ] {
        let event = webhooks::parse(kind, body).unwrap();
        let (status, error) = match event {
            WebhookEvent::UserSepaTransfer(t) => (Some(t.status), t.error),
            WebhookEvent::PartnerSepaTransfer(t) => (t.status, t.error),
            _ => unreachable!(),
        };
        assert_eq!(status, Some(SepaTransferStatus::Failed));
        assert_eq!(
            error.unwrap().description.as_deref(),
            Some("Insufficient funds")
        );
    }
}

#[test]
fn known_values_stay_typed() {
    let WebhookEvent::UserBalanceGeneration(b) = webhooks::parse(
        WebhookKind::UserBalanceGeneration,
        br#"{"externalUserId":"x","status":"ACTIVE"}"#,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(b.status, BalanceStatus::Active);
    let WebhookEvent::KycVerificationStatus(k) = webhooks::parse(
        WebhookKind::KycVerificationStatus,
        &sample_body(WebhookKind::KycVerificationStatus),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(k.attempt_status, KycAttemptStatus::RejectedByProvider);
}

// ---- what must not parse -------------------------------------------------------------------

#[test]
fn empty_bodies_are_errors() {
    for &kind in WebhookKind::ALL {
        for body in [&b""[..], b"   \r\n\t "] {
            let error = webhooks::parse(kind, body).unwrap_err();
            assert!(
                matches!(error, WebhookError::EmptyBody { kind: Some(k) } if k == kind),
                "{error:?}"
            );
            assert_eq!(error.to_string(), format!("empty {kind} webhook body"));
            assert!(error.is_bad_body());
            assert_eq!(error.http_status(), 400);
        }
    }
    assert!(matches!(
        webhooks::detect(b""),
        Err(WebhookError::EmptyBody { kind: None })
    ));
}

#[test]
fn every_truncation_of_every_sample_fails_cleanly() {
    for &kind in WebhookKind::ALL {
        let body = sample_body(kind);
        for end in 1..body.len() {
            // A cut inside a number reads as "invalid number", elsewhere as EOF.
            let error = webhooks::parse(kind, &body[..end]).unwrap_err();
            assert_eq!(error.kind(), Some(kind));
            assert_eq!(error.line(), Some(1));
        }
        let error = webhooks::parse(kind, &body[..body.len() - 1]).unwrap_err();
        assert!(error.is_truncated(), "{kind}: {error}");
    }
}

#[test]
fn wrong_types_are_errors_naming_the_field() {
    let cases: &[(WebhookKind, &str, Value)] = &[
        (WebhookKind::CryptoDeposit, "cryptoDepositId", json!(5)),
        (WebhookKind::CryptoDeposit, "amount", json!(true)),
        (WebhookKind::CryptoDeposit, "amount", json!("ten")),
        (WebhookKind::CryptoDeposit, "createdAt", json!("yesterday")),
        (WebhookKind::CryptoDeposit, "status", json!(7)),
        (WebhookKind::P2pTransfer, "error", json!("oops")),
        (WebhookKind::UserSepaTransfer, "id", json!("not-a-uuid")),
        (WebhookKind::KycFileAdded, "externalUserId", json!(["a"])),
        (WebhookKind::Exchange, "exchangeId", json!({"id": 1})),
    ];
    for (kind, field, value) in cases {
        let error = webhooks::parse(*kind, &sample_with(*kind, field, value.clone())).unwrap_err();
        assert_eq!(error.path(), Some(*field), "{kind}.{field}: {error}");
        assert!(error.line().is_some() && error.column().is_some());
        assert!(!error.is_truncated());
    }
}

#[test]
fn error_messages_say_which_kind_what_and_where() {
    let mut messages = Vec::new();
    let mut record = |label: &str, kind: WebhookKind, body: &[u8]| {
        let error = webhooks::parse(kind, body).unwrap_err();
        messages.push(format!("{label}: {error}"));
    };
    record("empty", WebhookKind::CryptoDeposit, b"");
    record("not JSON", WebhookKind::CryptoDeposit, b"status=SUCCESSFUL");
    record(
        "truncated",
        WebhookKind::CryptoDeposit,
        &sample_body(WebhookKind::CryptoDeposit)[..40],
    );
    record("an array", WebhookKind::KycFileAdded, b"[1, 2]");
    record("a string", WebhookKind::CardTransaction, br#""hello""#);
    record(
        "missing field",
        WebhookKind::KycFileAdded,
        br#"{"externalUserId":"u-1"}"#,
    );
    record(
        "wrong type",
        WebhookKind::CryptoDeposit,
        &sample_with(WebhookKind::CryptoDeposit, "cryptoDepositId", json!(5)),
    );
    record(
        "bad decimal",
        WebhookKind::CryptoDeposit,
        &sample_with(WebhookKind::CryptoDeposit, "amount", json!("ten")),
    );
    record(
        "nested",
        WebhookKind::P2pTransfer,
        &sample_with(WebhookKind::P2pTransfer, "error", json!({"status": 5})),
    );
    record(
        "second line",
        WebhookKind::UserBalanceGeneration,
        b"{\n  \"externalUserId\": \"u-1\",\n  \"status\": false\n}",
    );
    insta::assert_snapshot!("webhook_parse_error_messages", messages.join("\n"));
}

// ---- detect --------------------------------------------------------------------------------

fn detected(body: Value) -> Result<WebhookKind, Vec<WebhookKind>> {
    match webhooks::detect(&serde_json::to_vec(&body).unwrap()) {
        Ok(event) => Ok(event.kind()),
        Err(WebhookError::Ambiguous { candidates }) => Err(candidates),
        Err(other) => panic!("{body}: {other}"),
    }
}

#[test]
fn detect_decides_by_shape_where_shapes_differ() {
    use WebhookKind as K;
    for kind in [
        K::KycVerificationStatus,
        K::P2pTransfer,
        K::CryptoWithdrawal,
        K::CryptoDeposit,
        K::Exchange,
        K::OrderStatus,
        K::PaymentLink,
        K::CardActivationCode,
    ] {
        assert_eq!(detected(sample(kind)), Ok(kind), "{kind}");
    }
    // Documented status values tell the {externalUserId, status} kinds apart.
    let user = |status: &str| json!({"externalUserId": "u-1", "status": status});
    assert_eq!(detected(user("ACTIVE")), Ok(K::UserBalanceGeneration));
    assert_eq!(detected(user("ADDED")), Ok(K::KycFileAdded));
    assert_eq!(detected(user("ERROR")), Ok(K::KycFileAdded));
    assert_eq!(detected(user("QUESTIONED")), Ok(K::PoaVerificationStatus));
    // A kind that adds generic fields the spec does not list is still found.
    assert_eq!(
        detected(json!({"exchangeId": "e-1", "status": "COMPLETED", "amount": 10, "fee": 0.1})),
        Ok(K::Exchange)
    );
    // A crypto withdrawal without the fields it shares with no one else.
    assert_eq!(
        detected(json!({"id": "w-1", "status": "DONE", "transactionHash": "0x1"})),
        Ok(K::CryptoWithdrawal)
    );
}

#[test]
fn detect_says_ambiguous_where_shapes_coincide() {
    use WebhookKind as K;
    let user_kinds = vec![
        K::UserBalanceGeneration,
        K::KycFileAdded,
        K::PoaVerificationStatus,
    ];
    assert_eq!(
        detected(json!({"externalUserId": "u-1", "status": "SOMETHING_NEW"})),
        Err(user_kinds)
    );
    let sepa = vec![K::PartnerSepaTransfer, K::UserSepaTransfer];
    assert_eq!(detected(sample(K::UserSepaTransfer)), Err(sepa.clone()));
    assert_eq!(
        detected(
            json!({"id": "123f6603-5a71-45c3-a222-1de369bb1c4d", "status": "FAILED",
                        "error": {"description": "x"}})
        ),
        Err(sepa.clone())
    );
    // A user id added to the SEPA body (as the newest User SEPA page may do) changes nothing.
    let mut with_user = sample(K::UserSepaTransfer);
    with_user["externalUserId"] = json!("u-1");
    assert_eq!(detected(with_user), Err(sepa));
    assert_eq!(
        detected(json!({"externalUserId": "u-1", "code": "123456"})),
        Err(vec![K::Card3dsCode, K::CardActivationCode])
    );
    assert_eq!(
        detected(json!({"status": "APPROVED"})),
        Err(vec![K::PoaVerificationStatus, K::IbanStatus])
    );

    let error = webhooks::detect(br#"{"externalUserId":"u","status":"X"}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "ambiguous webhook body: it fits user_balance_generation, kyc_file_added, \
         poa_verification_status; give each of these kinds its own URL"
    );
    assert_eq!(error.http_status(), 400);
}

#[test]
fn detect_gives_up_on_unknown_shapes() {
    for body in [
        json!({}),
        json!({"walletId": "w"}),
        sample(WebhookKind::CardTransaction),
    ] {
        let error = webhooks::detect(&serde_json::to_vec(&body).unwrap()).unwrap_err();
        assert!(matches!(error, WebhookError::Undetected { .. }), "{error}");
    }
    let error = webhooks::detect(br#"{"merchant":"Coffee","amount":3}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"no webhook kind has this shape (fields: "amount", "merchant"); create_wallet, sepa_deposit and card_transaction cannot be detected and need their own URL"#
    );
    // Not an object at all.
    let error = webhooks::detect(b"[1]").unwrap_err();
    assert!(matches!(
        error,
        WebhookError::InvalidBody { kind: None, .. }
    ));
    // One candidate by shape that does not parse: its parse error.
    let body = sample_with(WebhookKind::CryptoDeposit, "cryptoDepositId", json!(5));
    let error = webhooks::detect(&body).unwrap_err();
    assert_eq!(error.kind(), Some(WebhookKind::CryptoDeposit));
    assert_eq!(error.path(), Some("cryptoDepositId"));
}

// ---- dedupe keys ---------------------------------------------------------------------------

fn key(kind: WebhookKind, body: &[u8]) -> DedupeKey {
    let event = webhooks::parse(kind, body).unwrap();
    DedupeKey::for_delivery(&event, body)
}

#[test]
fn dedupe_keys_are_business_id_and_status() {
    let kind = WebhookKind::CryptoDeposit;
    let first = key(kind, &sample_body(kind));
    assert_eq!(
        first.as_str(),
        r#"crypto_deposit:["facc5951-bdc8-46bc-a01c-9b36f25be6af","WAITING_FOR_TR_DATA"]"#
    );
    // A retry, even re-serialized with other key order and whitespace, has the same key.
    let pretty = serde_json::to_vec_pretty(&sample(kind)).unwrap();
    assert_eq!(key(kind, &pretty), first);
    // Another status of the same deposit is another event.
    let next = key(kind, &sample_with(kind, "status", json!("SUCCESSFUL")));
    assert_ne!(next, first);
    // Fields outside the key do not matter.
    assert_eq!(key(kind, &sample_with(kind, "amount", json!(2))), first);
}

#[test]
fn every_kind_has_a_key_and_the_kind_is_part_of_it() {
    let mut keys = HashSet::new();
    for &kind in WebhookKind::ALL {
        let k = key(kind, &sample_body(kind));
        assert!(k.as_str().starts_with(&format!("{kind}:")), "{k}");
        keys.insert(k);
    }
    assert_eq!(keys.len(), WebhookKind::ALL.len());
    // Same business fields, different kinds: different keys.
    let body = br#"{"externalUserId":"u-1","status":"ACTIVE"}"#;
    assert_ne!(
        key(WebhookKind::UserBalanceGeneration, body),
        key(WebhookKind::PoaVerificationStatus, body)
    );
}

#[test]
fn a_kyc_rejection_for_another_reason_is_another_event() {
    let kind = WebhookKind::KycVerificationStatus;
    let body = |reason: Option<&str>| {
        let mut v = json!({"externalUserId": "u-1", "verificationStatus": "NOT_VERIFIED",
            "attemptStatus": "REJECTED_BY_PROVIDER"});
        if let Some(reason) = reason {
            v["rejectionReason"] = json!(reason);
        }
        serde_json::to_vec(&v).unwrap()
    };
    let no_face = key(kind, &body(Some("NO_FACE_FOUND")));
    assert_eq!(
        no_face.as_str(),
        r#"kyc_verification_status:["u-1","NOT_VERIFIED","REJECTED_BY_PROVIDER","NO_FACE_FOUND"]"#
    );
    assert_eq!(key(kind, &body(Some("NO_FACE_FOUND"))), no_face);
    assert_ne!(key(kind, &body(Some("DOCUMENT_EXPIRED"))), no_face);
    assert_ne!(key(kind, &body(None)), no_face);
}

#[test]
fn dedupe_keys_cannot_collide_through_punctuation() {
    let kind = WebhookKind::Card3dsCode;
    let a = key(kind, br#"{"externalUserId":"a\",\"b","code":"c"}"#);
    let b = key(kind, br#"{"externalUserId":"a","code":"b\",\"c"}"#);
    assert_ne!(a, b);
}

#[test]
fn kinds_without_a_business_key_use_the_whole_body() {
    // create_wallet keeps the whole body: its own key is the body digest, order-insensitive.
    let kind = WebhookKind::CreateWallet;
    let a = webhooks::parse(kind, br#"{"walletId":"w-1","currency":"usdc"}"#).unwrap();
    let b = webhooks::parse(kind, br#"{ "currency": "usdc", "walletId": "w-1" }"#).unwrap();
    assert_eq!(a.dedupe_key(), b.dedupe_key());
    let a_key = a.dedupe_key().unwrap();
    assert!(
        a_key.as_str().starts_with("create_wallet:sha256:"),
        "{a_key}"
    );
    assert_eq!(
        DedupeKey::for_delivery(&a, br#"{"walletId":"w-1","currency":"usdc"}"#),
        a_key
    );
    assert_eq!(
        DedupeKey::from_body(kind, br#"{"currency":"usdc","walletId":"w-1"}"#),
        a_key
    );

    // iban_status types only `status`: the event cannot name itself, the raw body can.
    let kind = WebhookKind::IbanStatus;
    let one = br#"{"status":"APPROVED","iban":"DE89370400440532013000"}"#;
    let two = br#"{"status":"APPROVED","iban":"LT333130010135556427"}"#;
    assert_eq!(webhooks::parse(kind, one).unwrap().dedupe_key(), None);
    assert_ne!(key(kind, one), key(kind, two));

    // An inferred kind without its id field falls back to the body too.
    let kind = WebhookKind::Exchange;
    let one = br#"{"status":"COMPLETED","exchangeRef":"a"}"#;
    let two = br#"{"status":"COMPLETED","exchangeRef":"b"}"#;
    assert_eq!(webhooks::parse(kind, one).unwrap().dedupe_key(), None);
    assert_ne!(key(kind, one), key(kind, two));
    assert_eq!(
        key(kind, one),
        key(kind, br#"{ "exchangeRef": "a", "status": "COMPLETED" }"#)
    );
}

#[test]
fn a_body_that_is_not_json_still_has_a_key() {
    let a = DedupeKey::from_body(WebhookKind::SepaDeposit, b"\xff\x00");
    let b = DedupeKey::from_body(WebhookKind::SepaDeposit, b"\xff\x01");
    assert!(a.as_str().starts_with("sepa_deposit:sha256-raw:"));
    assert_ne!(a, b);
}

/// Large payloads are boxed so that every event stays small (moving a ~300-byte event cost as
/// much as parsing a small body; see the `Carrier` note in `webhooks/mod.rs`). A spec change
/// that grows an unboxed payload fails here rather than silently slowing every event down.
#[test]
fn events_stay_small() {
    assert!(
        std::mem::size_of::<WebhookEvent>() <= 56,
        "WebhookEvent is {} bytes; box the payload that grew",
        std::mem::size_of::<WebhookEvent>()
    );
}
