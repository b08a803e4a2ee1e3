//! The webhook module against the spec and the documented examples: the kinds, their fields and
//! dedupe keys are the spec's, and every example the spec's `x-p100-source.facts` points to
//! parses into its kind's variant.

mod webhook_support;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use p100_ergonomic::webhooks::{self, DedupeKey, WebhookKind};
use webhook_support::{
    documented_examples, fact_entries, facts, spec, spec_schema, spec_webhook, strings,
};

#[test]
fn kinds_are_the_specs_and_the_catalogs_in_order() {
    let ours: Vec<&str> = WebhookKind::ALL.iter().map(|k| k.as_str()).collect();
    let spec_kinds: Vec<String> = spec()["x-webhooks"]
        .as_mapping()
        .expect("x-webhooks")
        .keys()
        .map(|k| k.as_str().expect("kind name").to_owned())
        .collect();
    assert_eq!(ours, spec_kinds);

    let catalog = facts("catalog.yaml");
    let catalog: Vec<(String, String)> = catalog["webhooks"]
        .as_sequence()
        .expect("catalog webhooks")
        .iter()
        .map(|w| {
            (
                w["kind"].as_str().unwrap().to_owned(),
                w["page"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ours: Vec<(String, String)> = WebhookKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.title().to_owned()))
        .collect();
    assert_eq!(ours, catalog);
    assert_eq!(WebhookKind::ALL.len(), 18);
}

#[test]
fn dedupe_fields_are_the_specs() {
    for &kind in WebhookKind::ALL {
        let spec_key = strings(&spec_webhook(kind)["x-p100-dedupe-key"]);
        assert_eq!(kind.dedupe_fields(), spec_key, "{kind}");
        // A key field must be a field of the body.
        for field in kind.dedupe_fields() {
            assert!(kind.known_fields().contains(field), "{kind}: {field}");
        }
    }
}

#[test]
fn known_and_required_fields_are_the_spec_schemas() {
    for &kind in WebhookKind::ALL {
        let schema = spec_schema(kind);
        let properties: BTreeSet<String> = schema["properties"]
            .as_mapping()
            .map(|p| p.keys().map(|k| k.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        let ours: BTreeSet<String> = kind.known_fields().iter().map(|f| f.to_string()).collect();
        assert_eq!(ours, properties, "{kind}: known fields");
        let required: BTreeSet<String> = strings(&schema["required"]).into_iter().collect();
        let ours: BTreeSet<String> = kind
            .required_fields()
            .iter()
            .map(|f| f.to_string())
            .collect();
        assert_eq!(ours, required, "{kind}: required fields");
    }
}

#[test]
fn every_facts_reference_of_the_spec_names_an_existing_entry() {
    for &kind in WebhookKind::ALL {
        // `fact_entries` panics on a reference to a missing file or title.
        assert!(!fact_entries(kind).is_empty(), "{kind}: no facts reference");
    }
}

/// The guard of the "Done when": every documented example parses into its kind's variant, keeps
/// its values through a serialization round trip, has a dedupe key, and what `detect` makes of it
/// is recorded. Kinds without any documented example are listed as such.
#[test]
fn every_documented_example_parses_into_its_kind() {
    let mut report = String::new();
    let mut parsed = 0;
    for &kind in WebhookKind::ALL {
        let examples = documented_examples(kind);
        writeln!(report, "## {kind}").unwrap();
        if examples.is_empty() {
            writeln!(report, "no documented example\n").unwrap();
            continue;
        }
        for example in examples {
            writeln!(report, "### {} / {}", example.source, example.name).unwrap();
            let body = example.body();
            if example.truncated {
                // The docs cut this example short; it must fail cleanly, naming what is missing.
                let error = webhooks::parse(kind, &body).expect_err("a truncated example");
                writeln!(report, "truncated in the docs: {error}\n").unwrap();
                continue;
            }
            let event = webhooks::parse(kind, &body)
                .unwrap_or_else(|e| panic!("{} / {}: {e}", example.source, example.name));
            assert_eq!(event.kind(), kind);

            let again = serde_json::to_vec(&event).unwrap();
            assert_eq!(
                webhooks::parse(kind, &again).unwrap(),
                event,
                "{kind}: round trip"
            );

            let key = DedupeKey::for_delivery(&event, &body);
            let detected = match webhooks::detect(&body) {
                Ok(detected) => {
                    assert_eq!(detected, event, "{kind}: detect read it differently");
                    detected.kind().to_string()
                }
                Err(error) => {
                    assert!(error.candidates().contains(&kind), "{kind}: {error}");
                    format!("ambiguous: {:?}", error.candidates())
                }
            };
            writeln!(
                report,
                "{event:#?}\ndedupe key: {key}\ndetect: {detected}\n"
            )
            .unwrap();
            parsed += 1;
        }
    }
    assert!(parsed >= 8, "only {parsed} documented examples parsed");
    insta::assert_snapshot!("documented_webhook_examples", report);
}

/// The other direction of `WebhookKind::spec` (which fails to compile for a kind the spec lacks):
/// every kind of the spec's `x-webhooks` is a `WebhookKind`, with the generated payload type.
#[test]
fn every_kind_of_the_spec_is_a_webhook_kind() {
    assert_eq!(p100_api::webhooks::ALL.len(), WebhookKind::ALL.len());
    for spec in &p100_api::webhooks::ALL {
        let kind: WebhookKind = spec.kind.parse().expect(spec.kind);
        assert_eq!(kind.spec(), spec);
    }
}
