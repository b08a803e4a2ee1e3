//! No input makes the webhook code panic: arbitrary bytes, JSON-looking noise, valid payloads
//! with bytes mutated, and valid payloads with a field replaced by any JSON value. Whatever
//! parses also has a dedupe key and survives a serialization round trip. (Longer runs:
//! `cargo fuzz run parse` in `fuzz/`.)

mod api_answers_support;
mod mutation_support;
mod webhook_support;

use api_answers_support::same_json;
use mutation_support::{apply, mutation};
use p100_ergonomic::webhooks::{self, verify_token, DedupeKey, WebhookKind};
use proptest::prelude::*;
use serde_json::Value;
use webhook_support::all_sample_bodies;

/// Everything a receiver does with a body, for every kind and for `detect`.
fn exercise(body: &[u8]) {
    for &kind in WebhookKind::ALL {
        exercise_kind(kind, body);
    }
    match webhooks::detect(body) {
        Ok(event) => {
            let _ = DedupeKey::for_delivery(&event, body);
        }
        Err(error) => {
            let _ = (error.to_string(), error.http_status(), error.candidates());
        }
    }
}

fn exercise_kind(kind: WebhookKind, body: &[u8]) {
    match webhooks::parse(kind, body) {
        Ok(event) => {
            assert_eq!(event.kind(), kind);
            let key = DedupeKey::for_delivery(&event, body);
            assert!(key.as_str().starts_with(kind.as_str()));
            let again = serde_json::to_vec(&event).expect("a parsed event serializes");
            let reparsed = webhooks::parse(kind, &again)
                .unwrap_or_else(|e| panic!("{kind}: {e}\n{}", String::from_utf8_lossy(&again)));
            // Free-form JSON (unknown kinds, `currency`/`user` of crypto withdrawals) holds its
            // numbers as f64, which serde_json reads back to within one ulp; typed values
            // (decimals, statuses, ids, times) must come back exactly.
            assert!(
                same_json(
                    &serde_json::to_value(&reparsed).unwrap(),
                    &serde_json::to_value(&event).unwrap()
                ),
                "{kind}: round trip changed the event:\n{reparsed:?}\n{event:?}"
            );
            if serde_json::to_value(&reparsed).unwrap() == serde_json::to_value(&event).unwrap() {
                assert_eq!(reparsed.dedupe_key(), event.dedupe_key());
            }
        }
        Err(error) => {
            assert!(error.is_bad_body(), "{kind}: {error:?}");
            assert_eq!(error.kind(), Some(kind));
            let _ = (error.to_string(), error.line(), error.path());
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9 _.:+-]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop_oneof![
            Just("SUCCESSFUL"),
            Just("2025-01-20T11:04:29.719Z"),
            Just("8c394557-ba48-4ab4-9349-84d396b4a7f7"),
            Just("1e400"),
            Just("-0.000000000000000000000000000001"),
            Just("79228162514264337593543950336"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Raw JSON number texts serde_json accepts but f64 cannot hold, and other decimal edge cases.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,40}(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,5})?",
        Just("1e-400".to_owned()),
        Just("123456789012345678901234567890.5".to_owned()),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        exercise(&body);
        let _ = DedupeKey::from_body(WebhookKind::SepaDeposit, &body);
        let _ = verify_token("s3cret", Some(&body));
    }

    #[test]
    fn json_looking_noise_never_panics(body in "[{}\\[\\]\":,0-9a-zA-Z.+\\-eE \\\\]{0,160}") {
        exercise(body.as_bytes());
    }

    #[test]
    fn mutated_valid_payloads_never_panic(
        which in 0..18usize,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let (kind, body) = &all_sample_bodies()[which % all_sample_bodies().len()];
        let mut body = body.clone();
        for m in &mutations {
            apply(&mut body, m);
        }
        exercise_kind(*kind, &body);
        exercise(&body);
    }

    #[test]
    fn any_value_in_any_field_never_panics(
        which in 0..18usize,
        field_pick in any::<prop::sample::Index>(),
        value in json_value(),
    ) {
        let (kind, body) = &all_sample_bodies()[which % all_sample_bodies().len()];
        let mut object: serde_json::Map<String, Value> = serde_json::from_slice(body).unwrap();
        let mut fields: Vec<&str> = kind.known_fields().to_vec();
        fields.push("somethingNew");
        let field = fields[field_pick.index(fields.len())];
        object.insert(field.to_owned(), value);
        let body = serde_json::to_vec(&object).unwrap();
        exercise_kind(*kind, &body);
        exercise(&body);
    }

    #[test]
    fn any_number_text_as_an_amount_never_panics(number in number_text()) {
        for kind in [WebhookKind::CryptoDeposit, WebhookKind::P2pTransfer, WebhookKind::UserSepaTransfer] {
            let (_, body) = all_sample_bodies().iter().find(|(k, _)| *k == kind).unwrap();
            let mut object: serde_json::Map<String, Value> = serde_json::from_slice(body).unwrap();
            object.insert("amount".into(), Value::Null);
            let text = String::from_utf8(serde_json::to_vec(&object).unwrap()).unwrap();
            for amount in [number.clone(), format!("\"{number}\"")] {
                let body = text.replace("\"amount\":null", &format!("\"amount\":{amount}"));
                exercise_kind(kind, body.as_bytes());
            }
        }
    }
}
