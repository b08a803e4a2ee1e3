//! Every documented example in the facts that belongs to a generated operation or webhook parses
//! into the generated type the spec names for it; current-edition request examples serialize back
//! to equal JSON.
//!
//! Which examples belong where comes from the spec itself: each operation's (and webhook's)
//! `x-p100-source.facts` lists the facts entries ("file#title") whose examples document it, the
//! same list `tests/spec/check_examples.py` validates against the schemas.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use p100_api::types;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(yaml).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `json` as the generated type named `schema` and serializes it back.
/// `None` when the schema is not in the list below (the test then fails, asking for it).
macro_rules! body_types {
    ($($name:ident),* $(,)?) => {
        fn reparse(schema: &str, json: &str) -> Option<Result<Value, String>> {
            match schema {
                $(stringify!($name) => Some(
                    serde_json::from_str::<types::$name>(json)
                        .map_err(|e| e.to_string())
                        .and_then(|v| serde_json::to_value(&v).map_err(|e| e.to_string())),
                ),)*
                _ => None,
            }
        }
    };
}

body_types!(
    Card3dsCodeWebhook,
    CardActionResult,
    CardActivationCodeWebhook,
    CardBlockRequest,
    CardCreateRequest,
    CardCreated,
    CardDeleteRequest,
    CardDetails,
    CardLimits,
    CardLimitsUpdateRequest,
    CardList,
    CardPinUpdateRequest,
    CardTransactionWebhook,
    CardUnblockRequest,
    CheckoutCreated,
    CreateCheckoutRequest,
    CreateCryptoWithdrawalRequest,
    CreateExchangeRequest,
    CreateOrderLockRequest,
    CreateOrderRequest,
    CreatePaymentLinkRequest,
    CreateSepaTransferRequest,
    CreateTransferRequest,
    CreateWalletWebhook,
    CryptoDepositWebhook,
    CryptoWithdrawalCreated,
    CryptoWithdrawalDetails,
    CryptoWithdrawalWebhook,
    ExchangeCreated,
    ExchangeDetails,
    ExchangeLock,
    ExchangeRates,
    ExchangeWebhook,
    IbanStatusWebhook,
    KycFileAddedWebhook,
    KycStatus,
    KycVerificationCreated,
    KycVerificationRequest,
    KycVerificationStatusWebhook,
    NetworkFeeQuote,
    OrderCreated,
    OrderDetails,
    OrderLock,
    OrderRates,
    OrderStatusWebhook,
    P2pTransferWebhook,
    PartnerBalances,
    PartnerCreateCryptoWithdrawalRequest,
    PartnerCreateExchangeRequest,
    PartnerCreateSepaTransferRequest,
    PartnerCreateWalletRequest,
    PartnerSepaTransferWebhook,
    PartnerWalletCreated,
    PaymentLinkCreated,
    PaymentLinkDetails,
    PaymentLinkWebhook,
    PoaVerificationStatusWebhook,
    SepaDepositContacts,
    SepaDepositInfo,
    SepaDepositWebhook,
    SepaTransferCreated,
    SepaTransferDetails,
    TransactionHistory,
    TransferCreated,
    TransferDetails,
    TravelRuleUpdated,
    UpdateTravelRuleRequest,
    UserBalanceGenerationWebhook,
    UserBalances,
    UserCreateRequest,
    UserCreateWithoutKycRequest,
    UserCreated,
    UserCreatedWithoutKyc,
    UserDeleted,
    UserExtendRequest,
    UserExtended,
    UserSepaTransferWebhook,
    UserSuspended,
    UserUnsuspended,
    UserUpdateRequest,
    UserUpdated,
    UserVerificationAdded,
    UserVerificationRequest,
    Error,
);

fn body_schema(node: Option<&Value>) -> Option<String> {
    node?
        .pointer("/content/application~1json/schema/$ref")?
        .as_str()?
        .rsplit('/')
        .next()
        .map(str::to_string)
}

/// Absent and `null` mean the same to P100; the generated types omit `None`.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

struct Check {
    label: String,
    schema: String,
    example: Value,
    round_trip: bool,
    /// The docs cut the example off (`example_truncated` in the facts): the fields it shows must
    /// parse, the required ones after the cut may be missing. serde reports a missing field only
    /// once every field present has parsed, so "missing field" is then the expected answer.
    cut_off: bool,
}

struct Report {
    checked: usize,
    round_trips: usize,
    failures: Vec<String>,
}

impl Report {
    fn run(&mut self, c: Check) {
        let text = c.example.to_string();
        match reparse(&c.schema, &text) {
            None => self.failures.push(format!(
                "{}: schema {} is not in body_types! of this test",
                c.label, c.schema
            )),
            Some(Err(e)) if c.cut_off && e.to_string().starts_with("missing field") => {
                self.checked += 1;
            }
            Some(Err(e)) => self
                .failures
                .push(format!("{}: does not parse as {}: {e}", c.label, c.schema)),
            Some(Ok(back)) => {
                self.checked += 1;
                if c.round_trip {
                    self.round_trips += 1;
                    if without_nulls(&back) != without_nulls(&c.example) {
                        self.failures.push(format!(
                            "{}: {} serializes back differently:\n  documented: {}\n  serialized: {}",
                            c.label, c.schema, c.example, back
                        ));
                    }
                }
            }
        }
    }
}

fn facts_entries() -> BTreeMap<String, Value> {
    let mut entries = BTreeMap::new();
    let dir = root().join("tests/facts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "catalog.yaml"))
        .collect();
    files.sort();
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if let Value::Array(list) = yaml_file(&file) {
            for e in list {
                if let Some(title) = e.get("title").and_then(Value::as_str) {
                    entries
                        .entry(format!("{name}#{title}"))
                        .or_insert(e.clone());
                }
            }
        }
    }
    entries
}

fn fact_refs(node: &Value) -> Vec<String> {
    node.pointer("/x-p100-source/facts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn is_success(status: Option<&Value>) -> bool {
    match status {
        None | Some(Value::Null) => true, // the page's response, status not shown
        Some(Value::Number(n)) => n.as_u64().is_some_and(|n| (200..300).contains(&n)),
        Some(Value::String(s)) => s.starts_with('2'),
        Some(_) => false,
    }
}

fn is_payload(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|m| !m.keys().any(|k| k.starts_with("_truncated")))
}

#[test]
fn documented_examples_parse_into_generated_types() {
    let spec = yaml_file(&root().join("spec/p100.yaml"));
    let entries = facts_entries();
    let mut report = Report {
        checked: 0,
        round_trips: 0,
        failures: Vec::new(),
    };
    let mut checks = Vec::new();

    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (path, item) in &paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if op.get("x-p100-codegen").and_then(Value::as_str) == Some("skip") {
                continue;
            }
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let request = body_schema(op.get("requestBody"));
            let success = op
                .get("responses")
                .and_then(Value::as_object)
                .and_then(|r| r.iter().find(|(code, _)| code.starts_with('2')))
                .and_then(|(_, resp)| body_schema(Some(resp)));
            for r in fact_refs(op) {
                let Some(e) = entries.get(&r) else {
                    report
                        .failures
                        .push(format!("{id}: facts entry {r:?} not found"));
                    continue;
                };
                let label =
                    |what: &str| format!("{id} ({} {path}) {what} <- {r}", method.to_uppercase());
                // The GitHub-pages docs are the oldest edition: their request examples must parse,
                // but the form we send follows the current edition.
                let legacy = r.starts_with("legacy-github-docs.yaml#");
                for (key, current) in [("example", !legacy), ("example_old_github", false)] {
                    if let Some(ex) = e
                        .pointer(&format!("/request_body/{key}"))
                        .filter(|v| is_payload(v))
                    {
                        match &request {
                            Some(schema) => checks.push(Check {
                                label: label(&format!("request {key}")),
                                schema: schema.clone(),
                                example: ex.clone(),
                                round_trip: current,
                                cut_off: e.pointer("/request_body/example_truncated")
                                    == Some(&Value::Bool(true)),
                            }),
                            None => report
                                .failures
                                .push(label("request example, but no JSON body in the spec")),
                        }
                    }
                }
                for resp in e
                    .get("responses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for key in ["example", "example_old_github"] {
                        let Some(ex) = resp.get(key).filter(|v| is_payload(v)) else {
                            continue;
                        };
                        let schema = if is_success(resp.get("status")) {
                            success.clone()
                        } else {
                            Some("Error".to_string())
                        };
                        match schema {
                            Some(schema) => checks.push(Check {
                                label: label(&format!("response {key}")),
                                schema,
                                example: ex.clone(),
                                round_trip: false,
                                cut_off: false,
                            }),
                            None => report
                                .failures
                                .push(label("response example, but no success body in the spec")),
                        }
                    }
                }
                for err in e
                    .get("errors")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(ex) = err.get("example").filter(|v| is_payload(v)) {
                        checks.push(Check {
                            label: label("error example"),
                            schema: "Error".into(),
                            example: ex.clone(),
                            round_trip: false,
                            cut_off: false,
                        });
                    }
                }
            }
        }
    }

    let webhooks = spec
        .get("x-webhooks")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (kind, item) in &webhooks {
        let post = item.get("post").unwrap_or(&Value::Null);
        let Some(schema) = body_schema(post.get("requestBody")) else {
            report
                .failures
                .push(format!("webhook {kind}: no JSON body schema"));
            continue;
        };
        for r in fact_refs(post) {
            let Some(e) = entries.get(&r) else {
                report
                    .failures
                    .push(format!("webhook {kind}: facts entry {r:?} not found"));
                continue;
            };
            for (i, ex) in e
                .get("examples")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let payload = ex.get("payload").unwrap_or(ex);
                if is_payload(payload) {
                    checks.push(Check {
                        label: format!("webhook {kind} example {i} <- {r}"),
                        schema: schema.clone(),
                        example: payload.clone(),
                        round_trip: false,
                        cut_off: false,
                    });
                }
            }
        }
    }

    for (r, e) in &entries {
        if e.get("title").and_then(Value::as_str) == Some("Error Handling") {
            for (name, ex) in e
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                checks.push(Check {
                    label: format!("error guide {name} <- {r}"),
                    schema: "Error".into(),
                    example: ex.clone(),
                    round_trip: true,
                    cut_off: false,
                });
            }
        }
    }

    for c in checks {
        report.run(c);
    }
    println!(
        "{} documented examples parsed, {} request examples round-tripped",
        report.checked, report.round_trips
    );
    assert!(
        report.failures.is_empty(),
        "{} failure(s):\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
    // The facts hold dozens of examples for generated operations and webhooks; a sudden drop means
    // the lookup broke, not that the examples went away.
    assert!(
        report.checked >= 50,
        "only {} examples found",
        report.checked
    );
    assert!(
        report.round_trips >= 8,
        "only {} round trips",
        report.round_trips
    );
}
