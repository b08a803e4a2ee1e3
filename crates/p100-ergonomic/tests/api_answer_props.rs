//! No API answer makes the client panic (issue 16, item 10): arbitrary bytes, JSON-looking
//! noise, the documented answers with bytes mutated or a field replaced by any JSON value, and
//! decimal texts, read as every success body type of the spec, as both decimal types and as an
//! error answer. Whatever parses survives a round trip; decimals keep their value and digits.
//! The same function (`api_answers_support::exercise`) is the cargo-fuzz target
//! `fuzz/fuzz_targets/api_answers.rs`, for longer runs (see `fuzz/README.md`).

mod api_answers_support;
mod mutation_support;
mod webhook_support;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use api_answers_support::{exercise, exercise_decimals, parses_as, ANSWER_TYPES};
use mutation_support::{apply, mutation};
use proptest::prelude::*;
use serde_json::Value;
use serde_yaml::Value as Yaml;
use webhook_support::{facts, spec};

/// The component schema a `$ref` of a response's JSON body names.
fn body_schema(response: &Yaml) -> Option<String> {
    response["content"]["application/json"]["schema"]["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

/// Every operation of the spec: its id, its success body schema (if it has one) and the facts
/// entries (`file#title`) whose examples document it.
fn operations() -> Vec<(String, Option<String>, Vec<String>)> {
    let mut out = Vec::new();
    for (_, item) in spec()["paths"].as_mapping().expect("paths") {
        for (_, op) in item.as_mapping().expect("path item") {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let success = op["responses"]
                .as_mapping()
                .into_iter()
                .flatten()
                .find(|(code, _)| code.as_str().is_some_and(|c| c.starts_with('2')))
                .and_then(|(_, response)| body_schema(response));
            let refs = webhook_support::strings(&op["x-p100-source"]["facts"]);
            out.push((id.to_owned(), success, refs));
        }
    }
    out
}

#[test]
fn the_answer_types_are_every_success_body_of_the_spec() {
    let operations = operations();
    assert_eq!(operations.len(), p100_api::catalog::OPERATIONS.len());
    let in_spec: BTreeSet<String> = operations.into_iter().filter_map(|(_, s, _)| s).collect();
    let listed: BTreeSet<String> = ANSWER_TYPES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        listed.len(),
        ANSWER_TYPES.len(),
        "a type is listed twice in answer_types!"
    );
    let missing: Vec<_> = in_spec.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&in_spec).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "answer_types! in tests/api_answers_support/mod.rs must list exactly the 2xx body \
         schemas of the spec: missing {missing:?}, not an answer {extra:?}"
    );
}

/// A documented answer: the operation's success schema (`None` for an error answer) and the
/// example's JSON.
type Documented = (Option<String>, Vec<u8>);

/// Every documented answer of every operation (success and error examples of the facts entries
/// the spec points to), and an answer for every code of the error registry.
fn documented_answers() -> &'static [Documented] {
    static ANSWERS: OnceLock<Vec<Documented>> = OnceLock::new();
    ANSWERS.get_or_init(|| {
        let mut files = std::collections::BTreeMap::new();
        let mut out = Vec::new();
        for (_, success, refs) in operations() {
            for reference in refs {
                let Some((file, title)) = reference.split_once('#') else {
                    continue;
                };
                let entries = files.entry(file.to_owned()).or_insert_with(|| facts(file));
                let Some(entry) = entries
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .find(|e| e["title"].as_str() == Some(title))
                else {
                    continue;
                };
                for response in entry["responses"].as_sequence().into_iter().flatten() {
                    let status = match &response["status"] {
                        Yaml::Number(n) => n.as_u64(),
                        Yaml::String(s) => s.get(..3).and_then(|s| s.parse().ok()),
                        _ => None,
                    };
                    let ok = status.is_none_or(|s| (200..300).contains(&s));
                    for key in ["example", "example_old_github"] {
                        let example = &response[key];
                        if !example.is_mapping() && !example.is_sequence() {
                            continue;
                        }
                        let Ok(json) = serde_json::to_vec(example) else {
                            continue;
                        };
                        out.push((if ok { success.clone() } else { None }, json));
                    }
                }
            }
        }
        // The error registry's answers, as P100 shapes them, and the plain-text 401s.
        for e in &p100_api::catalog::ERRORS {
            let body = serde_json::json!({
                "errorCode": e.code, "errorName": e.error_name, "errorMessage": e.title,
            });
            out.push((None, body.to_string().into_bytes()));
        }
        for reason in p100_api::catalog::AuthFailure::ALL {
            out.push((None, reason.body().into_bytes()));
        }
        out
    })
}

#[test]
fn the_documented_answers_are_there_and_parse() {
    let answers = documented_answers();
    let successes = answers.iter().filter(|(s, _)| s.is_some()).count();
    let errors = answers.len() - successes;
    assert!(
        successes >= 20,
        "only {successes} documented success answers"
    );
    assert!(errors >= 5, "only {errors} documented error answers");
    let mut parsed = 0;
    for (schema, body) in answers {
        exercise(body);
        if let Some(schema) = schema {
            if parses_as(schema, body) == Some(true) {
                parsed += 1;
            }
        }
    }
    // A few documented examples are cut off in the docs (`example_truncated`).
    eprintln!(
        "{} documented answers ({errors} errors); {parsed} of {successes} successes parse",
        answers.len()
    );
    assert!(
        parsed * 10 >= successes * 8,
        "{parsed} of {successes} parse"
    );
}

/// Writes the documented answers as the seed corpus of the fuzz target
/// (`fuzz/corpus/api_answers/`): `cargo test -p p100-ergonomic --test api_answer_props --
/// --ignored write_fuzz_corpus`.
#[test]
#[ignore = "writes files: run by hand before fuzzing"]
fn write_fuzz_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/api_answers");
    std::fs::create_dir_all(&dir).expect("corpus folder");
    for (i, (_, body)) in documented_answers().iter().enumerate() {
        std::fs::write(dir.join(format!("documented-{i:03}.json")), body).expect("write");
    }
    for (i, text) in ["0.8582865811608077", "\"500.00\"", "4.69e-4", "\"1_000\""]
        .iter()
        .enumerate()
    {
        std::fs::write(dir.join(format!("decimal-{i}.json")), text).expect("write");
    }
}

/// Raw number texts: plain, with exponents, past what a decimal holds.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,5})?",
        "[-+]?[0-9_.eE]{1,20}",
        Just("1e-400".to_owned()),
        Just("79228162514264337593543950336".to_owned()),
        Just("-0.000".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9 _.:+-]{0,12}".prop_map(Value::from),
        number_text().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `value` put at a field of `body` (a documented answer), at any depth.
fn replace_field(body: &mut Value, pick: &prop::sample::Index, value: Value) {
    // Every field and item, as a JSON pointer.
    fn paths(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, child)| {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                paths(child, p, out);
            }),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, child)| {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                paths(child, p, out);
            }),
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(body, String::new(), &mut all);
    if all.is_empty() {
        *body = value;
        return;
    }
    if let Some(slot) = body.pointer_mut(&all[pick.index(all.len())]) {
        *slot = value;
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        exercise(&body);
    }

    #[test]
    fn json_looking_noise_never_panics(body in "[{}\\[\\]\":,0-9a-zA-Z.+\\-eE_ \\\\]{0,160}") {
        exercise(body.as_bytes());
    }

    #[test]
    fn mutated_documented_answers_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let answers = documented_answers();
        let (_, body) = &answers[which.index(answers.len())];
        let mut body = body.clone();
        for m in &mutations {
            apply(&mut body, m);
        }
        exercise(&body);
    }

    #[test]
    fn any_value_in_any_field_of_a_documented_answer_never_panics(
        which in any::<prop::sample::Index>(),
        field in any::<prop::sample::Index>(),
        value in json_value(),
    ) {
        let answers = documented_answers();
        let (_, body) = &answers[which.index(answers.len())];
        // The plain-text 401s have no fields.
        let Ok(mut json) = serde_json::from_slice::<Value>(body) else {
            return Ok(());
        };
        replace_field(&mut json, &field, value);
        exercise(&serde_json::to_vec(&json).unwrap());
    }

    #[test]
    fn any_number_text_in_both_wire_forms_keeps_the_decimal_invariants(number in number_text()) {
        exercise_decimals(number.as_bytes());
        exercise_decimals(serde_json::to_string(&number).unwrap().as_bytes());
        // And inside a documented answer with decimals (the lock: rates and fee).
        let lock = format!(
            r#"{{"id": "407ea838-6e41-45ed-ae0f-84fb0f5d3863", "rates": {{"usdt": {number}}},
               "feePercentage": "{number}", "createdAt": "2025-07-28T11:24:46.312Z",
               "validUntil": "2025-07-28T11:25:46.310Z"}}"#
        );
        exercise(lock.as_bytes());
    }
}
