//! Shared by the webhook tests: the spec's `x-webhooks`, the documented examples the spec points
//! to (`x-p100-source.facts`, read from the facts files by title), and a valid body per kind.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use p100_ergonomic::webhooks::WebhookKind;
use serde_json::{json, Value};
use serde_yaml::Value as Yaml;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load_yaml(path: PathBuf) -> Yaml {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// `spec/p100.yaml`.
pub fn spec() -> &'static Yaml {
    static SPEC: OnceLock<Yaml> = OnceLock::new();
    SPEC.get_or_init(|| load_yaml(root().join("spec/p100.yaml")))
}

/// A facts file of `tests/facts`.
pub fn facts(file: &str) -> Yaml {
    load_yaml(root().join("tests/facts").join(file))
}

/// The spec's `x-webhooks.<kind>.post`.
pub fn spec_webhook(kind: WebhookKind) -> &'static Yaml {
    &spec()["x-webhooks"][kind.as_str()]["post"]
}

/// The component schema of a kind's body (the `$ref` of its request body, resolved).
pub fn spec_schema(kind: WebhookKind) -> &'static Yaml {
    let reference = spec_webhook(kind)["requestBody"]["content"]["application/json"]["schema"]
        ["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind}: request body is not a $ref"));
    let name = reference
        .strip_prefix("#/components/schemas/")
        .unwrap_or_else(|| panic!("{kind}: unexpected $ref {reference}"));
    &spec()["components"]["schemas"][name]
}

/// A list of strings in YAML.
pub fn strings(value: &Yaml) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// One documented example payload.
#[derive(Debug, Clone)]
pub struct Example {
    pub kind: WebhookKind,
    /// The spec's facts reference it came from (`webhooks.yaml#Crypto Deposit Webhook`).
    pub source: String,
    /// The example's name, or its index for the bare examples of the legacy docs.
    pub name: String,
    pub payload: Value,
    /// The docs cut the example short (`_truncated` in the facts).
    pub truncated: bool,
}

impl Example {
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.payload).expect("JSON")
    }
}

/// The facts references of a kind (`x-p100-source.facts`), each checked to name an entry that
/// exists, with the entry.
pub fn fact_entries(kind: WebhookKind) -> Vec<(String, Yaml)> {
    strings(&spec_webhook(kind)["x-p100-source"]["facts"])
        .into_iter()
        .map(|reference| {
            let (file, title) = reference
                .split_once('#')
                .unwrap_or_else(|| panic!("{kind}: facts reference {reference:?} has no '#'"));
            let entries = facts(file);
            let entry = entries
                .as_sequence()
                .and_then(|entries| entries.iter().find(|e| e["title"].as_str() == Some(title)))
                .unwrap_or_else(|| panic!("{kind}: no entry titled {title:?} in {file}"))
                .clone();
            (reference, entry)
        })
        .collect()
}

/// Every example the spec's facts references of `kind` hold, in the order the spec lists them
/// (the current and legacy docs may show the same payload; both are kept, with their source).
pub fn documented_examples(kind: WebhookKind) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    for (source, entry) in fact_entries(kind) {
        let Some(examples) = entry["examples"].as_sequence() else {
            continue;
        };
        for (i, example) in examples.iter().enumerate() {
            // Current docs: {name, payload}; legacy docs: the bare payload.
            let (name, payload) = match (&example["name"], &example["payload"]) {
                (Yaml::String(name), payload @ Yaml::Mapping(_)) => (name.clone(), payload),
                _ => (format!("#{i}"), example),
            };
            let mut payload: Value = serde_yaml::from_value(payload.clone()).expect("JSON-able");
            let truncated = payload
                .as_object_mut()
                .and_then(|o| o.remove("_truncated"))
                .is_some();
            out.push(Example {
                kind,
                source: source.clone(),
                name,
                payload,
                truncated,
            });
        }
    }
    out
}

/// Every documented example of every kind.
pub fn all_documented_examples() -> Vec<Example> {
    WebhookKind::ALL
        .iter()
        .flat_map(|kind| documented_examples(*kind))
        .collect()
}

/// A valid body per kind: the first complete documented example, else the spec schema's
/// `example`, else a body made up here from the spec's field names (marked by `"madeUp": true`
/// where the kind keeps unknown fields, so no one mistakes it for P100's).
pub fn sample(kind: WebhookKind) -> Value {
    if let Some(example) = documented_examples(kind).into_iter().find(|e| !e.truncated) {
        return example.payload;
    }
    let schema_example = &spec_schema(kind)["example"];
    if !schema_example.is_null() {
        return serde_yaml::from_value(schema_example.clone()).expect("JSON-able");
    }
    use WebhookKind as K;
    match kind {
        K::PoaVerificationStatus => json!({"externalUserId": "user-7", "status": "QUESTIONED"}),
        K::CreateWallet => json!({"madeUp": true, "walletId": "w-1", "currency": "usdc"}),
        K::SepaDeposit => {
            json!({"madeUp": true, "amount": "25.00", "senderIban": "DE89370400440532013000"})
        }
        K::IbanStatus => json!({"status": "APPROVED"}),
        K::CryptoWithdrawal => json!({
            "id": "8c394557-ba48-4ab4-9349-84d396b4a7f7", "amount": 0.1, "fee": 0.003,
            "destination": "0x2e90ca5bbe46d5ae23f2df90457d020391b92673", "status": "COMPLETED",
            "transactionHash": "0x10d5bd43", "currency": "eth", "createdAt": "2025-01-20T11:04:29.719Z"
        }),
        K::Exchange => {
            json!({"exchangeId": "3f0aeaa7-1177-4d77-9985-0cb987809801", "status": "COMPLETED"})
        }
        K::CardTransaction => json!({"madeUp": true, "merchant": "Coffee Bar", "amount": 3.5}),
        K::OrderStatus => json!({"orderId": "o-1", "status": "WAITING_FOR_CONFIRMATION"}),
        K::PaymentLink => json!({"paymentLinkId": "pl-1", "status": "PAID"}),
        K::Card3dsCode => json!({"externalUserId": "user-7", "code": "123456"}),
        K::CardActivationCode => {
            json!({"externalUserId": "user-7", "cardId": "c-1", "code": "654321"})
        }
        other => panic!("{other}: no sample"),
    }
}

/// [`sample`] as bytes.
pub fn sample_body(kind: WebhookKind) -> Vec<u8> {
    serde_json::to_vec(&sample(kind)).expect("JSON")
}

/// `sample(kind)` with one field set (or added).
pub fn sample_with(kind: WebhookKind, field: &str, value: Value) -> Vec<u8> {
    let mut sample = sample(kind);
    sample
        .as_object_mut()
        .expect("an object")
        .insert(field.to_owned(), value);
    serde_json::to_vec(&sample).expect("JSON")
}

/// [`sample_body`] of every kind, computed once.
pub fn all_sample_bodies() -> &'static [(WebhookKind, Vec<u8>)] {
    static SAMPLES: OnceLock<Vec<(WebhookKind, Vec<u8>)>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        WebhookKind::ALL
            .iter()
            .map(|&kind| (kind, sample_body(kind)))
            .collect()
    })
}
