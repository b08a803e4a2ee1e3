//! The checked-in snapshot, and what the change report says for changes made to copies of the
//! spec (each run through the whole pipeline: load, prepare, progenitor, syn).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::{snapshot_file, Surface, Views};
use crate::report::{classify, Lens};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn views_of(spec_path: &Path) -> Views {
    let raw = crate::spec::load(spec_path).expect("the spec loads");
    let prepared = crate::spec::prepare(raw.clone()).expect("the spec follows the type rules");
    let outputs =
        crate::codegen::generate(Path::new("."), &prepared, &raw).expect("progenitor runs");
    Views::new(&raw, &outputs[0].contents).expect("the surface is read")
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| crate::spec::load(&root().join("spec/p100.yaml")).expect("the spec loads"))
}

/// The views of the real spec, read back from the snapshot form as `cargo xtask codegen` reads
/// the checked-in file.
fn baseline() -> &'static Views {
    static BASE: OnceLock<Views> = OnceLock::new();
    BASE.get_or_init(|| {
        let views = views_of(&root().join("spec/p100.yaml"));
        let text = views.stored().expect("the views combine").render();
        Views::from_stored(&Surface::parse(&text).expect("the snapshot parses"))
            .expect("the snapshot splits")
    })
}

/// The report lines, Rust and spec, for a copy of the spec changed by `edit`.
fn report_for(name: &str, edit: impl FnOnce(&mut Value)) -> (Vec<String>, Vec<String>) {
    let mut copy = spec().clone();
    edit(&mut copy);
    let path =
        std::env::temp_dir().join(format!("p100-surface-{}-{name}.yaml", std::process::id()));
    std::fs::write(&path, serde_yaml::to_string(&copy).expect("YAML")).expect("temp dir");
    let changed = views_of(&path);
    let _ = std::fs::remove_file(&path);
    let base = baseline();
    let lines = |lens, old, new| {
        classify(lens, old, new)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    (
        lines(Lens::Rust, &base.rust, &changed.rust),
        lines(Lens::Spec, &base.spec, &changed.spec),
    )
}

fn schema<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    doc.pointer_mut(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("the spec has no schema {name}"))
}

#[test]
fn api_surface_snapshot() {
    let stored = views_of(&root().join("spec/p100.yaml"))
        .stored()
        .expect("the views combine");
    insta::with_settings!({
        snapshot_path => root().join("tests/snapshots"),
        prepend_module_to_snapshot => false,
        description => super::DESCRIPTION,
    }, {
        insta::assert_snapshot!("api_surface", stored.render());
    });
}

#[test]
fn codegen_writes_the_snapshot_as_insta_does() {
    // The file `cargo xtask codegen` writes is the file insta compares: same header layout, same
    // body, so either tool can accept a change.
    let path = super::snapshot_path(&root());
    let checked_in = std::fs::read_to_string(&path).expect("the snapshot is checked in");
    let stored = super::read_snapshot(&path)
        .expect("it parses")
        .expect("it exists");
    assert_eq!(checked_in, snapshot_file(&stored));
}

#[test]
fn the_snapshot_holds_both_views_exactly() {
    let views = views_of(&root().join("spec/p100.yaml"));
    let back = Views::from_stored(&views.stored().expect("combine")).expect("split");
    assert_eq!(back.rust, views.rust);
    assert_eq!(back.spec, views.spec);
    // The rules read most of the spec view: only a few `spec` lines are stored.
    let stored = views.stored().expect("combine");
    let spec_lines = stored
        .items
        .keys()
        .filter(|k| k.starts_with("spec "))
        .count();
    assert!(
        spec_lines * 10 < views.spec.items.len(),
        "{spec_lines} of {} spec items stored",
        views.spec.items.len()
    );
}

#[test]
fn an_unchanged_spec_reports_nothing() {
    let (rust, spec) = report_for("unchanged", |_| {});
    assert_eq!(rust, Vec::<String>::new());
    assert_eq!(spec, Vec::<String>::new());
}

#[test]
fn adding_an_optional_response_field() {
    let (rust, spec) = report_for("optional-response-field", |doc| {
        schema(doc, "ExchangeDetails")["properties"]["note"] =
            json!({"type": "string", "description": "A note."});
    });
    assert_eq!(
        rust,
        ["additive: field `ExchangeDetails.note` added (response): Option<String>, optional"]
    );
    assert_eq!(
        spec,
        ["additive: property `ExchangeDetails.note` added (response): string, optional"]
    );
}

#[test]
fn removing_an_operation() {
    let (rust, spec) = report_for("remove-operation", |doc| {
        doc["paths"]["/v1/card"]
            .as_object_mut()
            .expect("the path exists")
            .remove("delete")
            .expect("card_delete exists");
    });
    assert_eq!(
        rust,
        ["breaking: operation `card_delete` removed: was DELETE /v1/card, effect changes-state, answer CardActionResult, error Error"]
    );
    assert_eq!(
        spec,
        ["breaking: operation `card_delete` removed: was DELETE /v1/card, effect changes-state"]
    );
}

#[test]
fn making_a_request_field_required() {
    let (rust, spec) = report_for("request-field-required", |doc| {
        schema(doc, "CreateSepaTransferRequest")["required"]
            .as_array_mut()
            .expect("a required list")
            .push(json!("sourceExternalUserId"));
    });
    assert_eq!(
        rust,
        ["breaking: field `CreateSepaTransferRequest.source_external_user_id` (request): optional → required, Option<String> → String"]
    );
    assert_eq!(
        spec,
        ["breaking: property `CreateSepaTransferRequest.sourceExternalUserId` (request): optional → required"]
    );
}

#[test]
fn adding_an_enum_value() {
    let (rust, spec) = report_for("enum-value", |doc| {
        let status = schema(doc, "ExchangeStatus");
        status["x-extensible-enum"]
            .as_array_mut()
            .expect("values")
            .push(json!("REFUNDED"));
        status["x-p100-status-classes"]["REFUNDED"] =
            json!({"class": "succeeded", "knowledge": "documented"});
    });
    assert_eq!(
        rust,
        ["additive: variant `ExchangeStatus::Refunded` added (response): reads \"REFUNDED\", which was `Unknown` before"]
    );
    assert_eq!(
        spec,
        ["additive: `ExchangeStatus` value \"REFUNDED\" added (response): P100 may send it"]
    );
}

#[test]
fn changing_a_money_fields_form() {
    let (rust, spec) = report_for("money-form", |doc| {
        schema(doc, "ExchangeDetails")["properties"]["amount"]["allOf"] =
            json!([{"$ref": "#/components/schemas/DecimalString"}]);
    });
    assert_eq!(
        rust,
        ["breaking: field `ExchangeDetails.amount` (response): Option<DecimalNumber> → Option<DecimalString> (money form: the docs now show a JSON string)"]
    );
    assert_eq!(
        spec,
        ["breaking: property `ExchangeDetails.amount` (response): DecimalNumber → DecimalString (money form: the docs now show a JSON string)"]
    );
}

#[test]
fn a_change_only_other_languages_see() {
    // `nullable` changes no Rust type of an optional field, but a generated client in another
    // language may now receive null.
    let (rust, spec) = report_for("nullable", |doc| {
        schema(doc, "ExchangeDetails")["properties"]["currencyTo"]["nullable"] = json!(true);
    });
    assert_eq!(rust, Vec::<String>::new());
    assert_eq!(
        spec,
        ["breaking: property `ExchangeDetails.currencyTo` (response): now nullable"]
    );
}

#[test]
fn an_error_answer_added_to_one_operation() {
    // The generated client reads every error the same way; other languages see a new code.
    let (rust, spec) = report_for("answer-code", |doc| {
        doc["paths"]["/v1/exchange"]["post"]["responses"]["409"] =
            json!({"$ref": "#/components/responses/Error"});
    });
    assert_eq!(rust, Vec::<String>::new());
    assert_eq!(
        spec,
        ["additive: `exchange_create` answers: 409 response Error added"]
    );
}
