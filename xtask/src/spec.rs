//! Reading the spec, enforcing the type rules the Rust client relies on, and preparing the
//! document progenitor sees (operations it cannot generate removed).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The component schemas that the Rust client replaces with exact decimal types, and the type
/// each becomes. The spec gives other languages one JSON type per money field where the editions
/// agree (`DecimalNumber`, `DecimalString`) and a union where they do not
/// (`DecimalNumberOrString`, `DecimalStringOrNumber`, named by the form the current docs show
/// first); in Rust every one reads both forms and writes the current docs' form.
pub const DECIMAL_SCHEMAS: [(&str, &str); 4] = [
    ("DecimalNumber", "DecimalNumber"),
    ("DecimalString", "DecimalString"),
    ("DecimalNumberOrString", "DecimalNumber"),
    ("DecimalStringOrNumber", "DecimalString"),
];

/// Whether a `$ref` names one of the decimal schemas.
pub fn is_decimal_ref(reference: &str) -> bool {
    DECIMAL_SCHEMAS
        .iter()
        .any(|(schema, _)| reference == format!("#/components/schemas/{schema}"))
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The keywords that list an enumeration's values: `enum` (closed for validators; the spec uses
/// it for values a request may carry) and `x-extensible-enum` (the known values of an open set;
/// the spec uses it for statuses P100 sends, so that generators in other languages make plain
/// strings that accept a new status). Both become the same open enum in Rust.
pub const ENUM_KEYWORDS: [&str; 2] = ["enum", "x-extensible-enum"];

/// An enumeration declared as a named component schema.
pub struct EnumSchema {
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<String>,
    /// `x-p100-spelling: lowercase`: values are read without regard to case and kept lowercase
    /// (unknown ones too), so that one code has one spelling whatever case P100 used.
    pub lowercase: bool,
    /// Doc text per value: `x-p100-values`, else the value's `x-p100-status-classes` entry.
    pub value_docs: BTreeMap<String, String>,
}

/// An operation left out of the generated client, and why.
pub struct Skipped {
    pub operation_id: String,
    pub reason: String,
}

/// An open object: a component schema with `additionalProperties: true` and no properties (its
/// fields were never seen). The Rust client reads it as `types::OpenObject`, which keeps the JSON
/// text exactly, instead of a map of `serde_json::Value`s (whose numbers pass through `f64`).
pub struct OpenObjectSchema {
    pub name: String,
    pub description: Option<String>,
}

/// The spec as progenitor will see it, plus what the pipeline learned on the way.
pub struct Prepared {
    pub document: Value,
    pub enums: Vec<EnumSchema>,
    pub open_objects: Vec<OpenObjectSchema>,
    pub generated_operations: Vec<String>,
    pub skipped: Vec<Skipped>,
}

pub fn load(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    serde_json::to_value(yaml).context("converting the spec to JSON")
}

/// The spec as YAML, which keeps the order of every mapping (the JSON form sorts keys): the
/// catalog reads the order of status values and webhook kinds from it.
pub fn load_ordered(path: &Path) -> Result<serde_yaml::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The keys of the mapping at `path` in the order the spec lists them (empty if absent).
pub fn keys_in_order(doc: &serde_yaml::Value, path: &[&str]) -> Vec<String> {
    let mut node = doc;
    for key in path {
        match node.get(*key) {
            Some(next) => node = next,
            None => return Vec::new(),
        }
    }
    node.as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the type rules (DESIGN.md, spec/CONVENTIONS.md) and strips what progenitor cannot take.
pub fn prepare(mut doc: Value) -> Result<Prepared> {
    let mut problems = Vec::new();
    lint(&doc, "#", &mut problems);
    if !problems.is_empty() {
        bail!(
            "the spec breaks {} type rule(s) the Rust client relies on:\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }

    let enums = collect_enums(&doc)?;
    let open_objects = collect_open_objects(&doc);
    let mut generated_operations = Vec::new();
    let mut skipped = Vec::new();

    let paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .context("the spec has no `paths` object")?;
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            bail!("path item {path} is not an object");
        };
        let methods: Vec<String> = item
            .keys()
            .filter(|k| METHODS.contains(&k.as_str()))
            .cloned()
            .collect();
        for method in methods {
            let op = &item[&method];
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .with_context(|| format!("{} {path} has no operationId", method.to_uppercase()))?
                .to_string();
            // P100's 401 is plain text, documented for other languages; progenitor takes one
            // error body for every non-2xx answer, and the ergonomic layer reads the 401 text.
            if let Some(responses) = item
                .get_mut(&method)
                .and_then(|op| op.get_mut("responses"))
                .and_then(Value::as_object_mut)
            {
                responses.remove("401");
            }
            let op = &item[&method];
            if let Some(reason) = skip_reason(op) {
                skipped.push(Skipped {
                    operation_id: id,
                    reason,
                });
                item.remove(&method);
            } else {
                generated_operations.push(id);
            }
        }
    }
    paths.retain(|_, item| {
        item.as_object()
            .is_some_and(|o| o.keys().any(|k| METHODS.contains(&k.as_str())))
    });
    generated_operations.sort();
    skipped.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));

    Ok(Prepared {
        document: doc,
        enums,
        open_objects,
        generated_operations,
        skipped,
    })
}

/// Why an operation cannot be generated, if it cannot.
pub fn skip_reason(op: &Value) -> Option<String> {
    let marker = op.get("x-p100-codegen").and_then(Value::as_str);
    if marker != Some("skip") {
        return None;
    }
    let content_types = |v: Option<&Value>| -> Vec<String> {
        v.and_then(|c| c.get("content"))
            .and_then(Value::as_object)
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    };
    let request = content_types(op.get("requestBody"));
    if request.iter().any(|c| c.starts_with("multipart/")) {
        return Some("multipart/form-data upload (p100-ergonomic implements it)".into());
    }
    let responses: Vec<String> = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .filter(|(code, _)| code.starts_with('2'))
                .flat_map(|(_, resp)| content_types(Some(resp)))
                .collect()
        })
        .unwrap_or_default();
    if let Some(ct) = responses.iter().find(|c| *c != "application/json") {
        return Some(format!("answers {ct}, not JSON (a browser page)"));
    }
    Some("marked x-p100-codegen: skip".into())
}

fn lint(node: &Value, at: &str, problems: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            let in_decimal = DECIMAL_SCHEMAS.iter().any(|(d, _)| {
                at == format!("#/components/schemas/{d}")
                    || at.starts_with(&format!("#/components/schemas/{d}/"))
            });
            if map.get("type").and_then(Value::as_str) == Some("number") && !in_decimal {
                problems.push(format!(
                    "{at}: `type: number` would become f64; use DecimalNumber / DecimalString, or integer"
                ));
            }
            for keyword in ENUM_KEYWORDS {
                if map.contains_key(keyword) && !is_component_schema(at) {
                    problems.push(format!(
                        "{at}: inline `{keyword}`; make it a named component schema so it can be an open enum"
                    ));
                }
            }
            if ENUM_KEYWORDS.iter().all(|k| map.contains_key(*k)) {
                problems.push(format!(
                    "{at}: both `enum` and `x-extensible-enum`; a set is closed or open, not both"
                ));
            }
            if map.get("type").and_then(Value::as_str) == Some("object")
                && map
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_none_or(|p| p.is_empty())
                && !map.contains_key("additionalProperties")
            {
                problems.push(format!(
                    "{at}: an object with no properties; list its fields, or say `additionalProperties: true` (an open object)"
                ));
            }
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                problems.push(format!(
                    "{at}: `additionalProperties: false` would reject fields P100 adds"
                ));
            }
            for (k, v) in map {
                lint(v, &format!("{at}/{}", k.replace('/', "~1")), problems);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                lint(v, &format!("{at}/{i}"), problems);
            }
        }
        _ => {}
    }
}

fn is_component_schema(at: &str) -> bool {
    at.strip_prefix("#/components/schemas/")
        .is_some_and(|rest| !rest.contains('/'))
}

/// Whether a schema is an open object: `type: object`, `additionalProperties: true`, no properties.
pub fn is_open_object(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        && schema.get("additionalProperties") == Some(&Value::Bool(true))
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(|p| p.is_empty())
}

fn collect_open_objects(doc: &Value) -> Vec<OpenObjectSchema> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, schema)| is_open_object(schema))
        .map(|(name, schema)| OpenObjectSchema {
            name: name.clone(),
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
        .collect()
}

fn collect_enums(doc: &Value) -> Result<Vec<EnumSchema>> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, schema) in schemas {
        let Some(values) = ENUM_KEYWORDS
            .iter()
            .find_map(|keyword| schema.get(*keyword).and_then(Value::as_array))
        else {
            continue;
        };
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            bail!("#/components/schemas/{name}: enums must be `type: string`");
        }
        let values = values
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).with_context(|| {
                    format!("#/components/schemas/{name}: non-string enum value {v}")
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut seen = BTreeMap::new();
        for v in &values {
            if seen.insert(v.clone(), ()).is_some() {
                bail!("#/components/schemas/{name}: value {v:?} listed twice");
            }
        }
        let lowercase = match schema.get("x-p100-spelling").and_then(Value::as_str) {
            None => false,
            Some("lowercase") => {
                if let Some(v) = values.iter().find(|v| v.to_lowercase() != **v) {
                    bail!(
                        "#/components/schemas/{name}: x-p100-spelling lowercase, but {v:?} is not"
                    );
                }
                true
            }
            Some(other) => bail!("#/components/schemas/{name}: unknown x-p100-spelling {other:?}"),
        };
        let value_docs = value_docs(&name, &schema, &values)?;
        out.push(EnumSchema {
            name,
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            values,
            lowercase,
            value_docs,
        });
    }
    Ok(out)
}

/// One line of documentation per value: the set's `x-p100-values`, else what its
/// `x-p100-status-classes` entry says the value means.
fn value_docs(name: &str, schema: &Value, values: &[String]) -> Result<BTreeMap<String, String>> {
    let mut docs = BTreeMap::new();
    if let Some(described) = schema.get("x-p100-values").and_then(Value::as_object) {
        for (value, text) in described {
            if !values.contains(value) {
                bail!("#/components/schemas/{name}: x-p100-values describes {value:?}, which is not listed");
            }
            let text = text.as_str().with_context(|| {
                format!("#/components/schemas/{name}: x-p100-values.{value} is not text")
            })?;
            docs.insert(value.clone(), text.trim().to_string());
        }
    }
    if let Some(classes) = schema
        .get("x-p100-status-classes")
        .and_then(Value::as_object)
    {
        for (value, entry) in classes {
            if docs.contains_key(value) || !values.contains(value) {
                continue;
            }
            let class = entry
                .get("class")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let meaning = match class {
                "succeeded" => "Final: succeeded.",
                "failed" => "Final: failed.",
                "in-progress" => "Not final: in progress.",
                "state" => "A state of the record (not the outcome of an operation).",
                _ => continue,
            };
            docs.insert(value.clone(), meaning.to_string());
        }
    }
    Ok(docs)
}
