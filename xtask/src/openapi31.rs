//! The OpenAPI 3.1 rendering of the spec (`spec/p100.openapi-3.1.json`), for generators that
//! read webhooks only from 3.1's top-level `webhooks:` (openapi-typescript makes one typed payload
//! per kind from it). Generated from the 3.0.3 source, which progenitor needs, and never edited:
//! `nullable: true` becomes a type list with `"null"`, `x-webhooks` becomes `webhooks`, and
//! everything else is carried over as it is, in the source's order. It is JSON, not YAML: a YAML
//! writer leaves strings such as `0xE353…` unquoted, which YAML 1.2 readers take for numbers.

use anyhow::{bail, Context, Result};
use serde_yaml::{Mapping, Value};

/// Where the rendering lives, relative to the workspace root.
pub const PATH: &str = "spec/p100.openapi-3.1.json";

/// Said in the document itself (JSON has no comments), as its first key.
const GENERATED: &str =
    "by `cargo xtask codegen` from spec/p100.yaml (OpenAPI 3.0.3, the source); \
do not edit: change spec/p100.yaml and run `cargo xtask codegen`. The same API as OpenAPI 3.1: \
`nullable` as type lists, the webhooks under `webhooks` (3.0's `x-webhooks`).";

fn key(text: &str) -> Value {
    Value::String(text.to_string())
}

/// The 3.1 document of the 3.0.3 spec `source` (as parsed, order kept), as JSON text.
pub fn render(source: &Value) -> Result<String> {
    let mut doc = source.clone();
    let root = doc
        .as_mapping_mut()
        .context("the spec is not a YAML mapping")?;
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => {}
        other => bail!("the source spec must be OpenAPI 3.0.x, not {other:?}"),
    }
    root.insert(key("openapi"), key("3.1.0"));
    // `webhooks:` takes the place of `x-webhooks:`, so the order of the top-level keys stays.
    let renamed: Mapping = [(key("x-generated"), key(GENERATED))]
        .into_iter()
        .chain(std::mem::take(root))
        .map(|(k, v)| {
            if k.as_str() == Some("x-webhooks") {
                (key("webhooks"), v)
            } else {
                (k, v)
            }
        })
        .collect();
    *root = renamed;
    let mut at = String::new();
    convert(&mut doc, &mut at)?;
    // serde_json writes the mapping in the YAML's order (a `serde_json::Value` would sort it).
    let body = serde_json::to_string_pretty(&doc).context("writing the 3.1 rendering")?;
    Ok(format!("{body}\n"))
}

/// 3.0 → 3.1 schema keywords, everywhere below `node`.
fn convert(node: &mut Value, at: &mut String) -> Result<()> {
    match node {
        Value::Mapping(map) => {
            if map.get("nullable").and_then(Value::as_bool) == Some(true) {
                map.remove("nullable");
                nullable(map, at)?;
            } else if map.get("nullable").is_some() {
                map.remove("nullable");
            }
            for (k, v) in map.iter_mut() {
                let len = at.len();
                at.push('/');
                at.push_str(k.as_str().unwrap_or("?"));
                convert(v, at)?;
                at.truncate(len);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                convert(v, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// A schema that also admits `null`: its `type` becomes a list with `"null"` (and a listed
/// `enum` gains `null`), or, without a `type`, the schema becomes one branch of an `anyOf`.
fn nullable(map: &mut Mapping, at: &str) -> Result<()> {
    match map.get("type").cloned() {
        Some(Value::String(ty)) => {
            map.insert(
                key("type"),
                Value::Sequence(vec![Value::String(ty), key("null")]),
            );
            if let Some(Value::Sequence(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
        }
        Some(other) => bail!("{at}: nullable with a `type` that is not one word: {other:?}"),
        None => {
            let doc_keys = ["description", "example", "title", "deprecated"];
            let (docs, rest): (Mapping, Mapping) = std::mem::take(map)
                .into_iter()
                .partition(|(k, _)| k.as_str().is_some_and(|k| doc_keys.contains(&k)));
            let mut null = Mapping::new();
            null.insert(key("type"), key("null"));
            *map = docs;
            map.insert(
                key("anyOf"),
                Value::Sequence(vec![Value::Mapping(rest), Value::Mapping(null)]),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(yaml: &str) -> Value {
        let text = render(&serde_yaml::from_str(yaml).unwrap()).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn nullable_becomes_a_type_list_and_webhooks_move_to_the_top_level() {
        let doc = rendered(
            "openapi: 3.0.3\nx-webhooks: {a: {post: {}}}\ncomponents:\n  schemas:\n    A:\n      \
             type: object\n      properties:\n        s: {type: string, nullable: true}\n        \
             r: {$ref: '#/components/schemas/B', nullable: true, description: d}\n",
        );
        assert_eq!(doc["openapi"], key("3.1.0"));
        assert!(doc.get("x-webhooks").is_none());
        assert!(doc["webhooks"]["a"]["post"].is_mapping());
        let props = &doc["components"]["schemas"]["A"]["properties"];
        assert_eq!(
            serde_json::to_string(&props["s"]).unwrap(),
            r#"{"type":["string","null"]}"#
        );
        assert_eq!(props["r"]["description"], key("d"));
        assert_eq!(
            props["r"]["anyOf"][0]["$ref"],
            key("#/components/schemas/B")
        );
        assert_eq!(props["r"]["anyOf"][1]["type"], key("null"));
    }

    #[test]
    fn order_and_hex_looking_strings_are_kept() {
        let source =
            serde_yaml::from_str("openapi: 3.0.3\npaths: {}\ninfo: {example: '0xE353'}\n").unwrap();
        let text = render(&source).unwrap();
        let keys: Vec<&str> = ["x-generated", "openapi", "paths", "info"]
            .into_iter()
            .filter(|k| text.contains(&format!("\"{k}\"")))
            .collect();
        assert_eq!(keys.len(), 4);
        let at = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
        assert!(
            at("x-generated") < at("openapi")
                && at("openapi") < at("paths")
                && at("paths") < at("info")
        );
        assert!(text.contains(r#""example": "0xE353""#));
    }

    /// The YAML reader holds numbers as f64: every decimal example of the real spec must still be
    /// written with the digits the source has (a literal such as `500.00` would not be).
    #[test]
    fn the_real_specs_decimal_literals_are_written_as_in_the_source() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let source = std::fs::read_to_string(root.join("spec/p100.yaml")).unwrap();
        let text = render(&serde_yaml::from_str(&source).unwrap()).unwrap();
        let mut checked = 0;
        for line in source.lines() {
            let value = line.trim().rsplit(": ").next().unwrap_or_default();
            let value = value.strip_prefix("- ").unwrap_or(value);
            let is_decimal = value.split_once('.').is_some_and(|(i, f)| {
                !i.is_empty()
                    && i.trim_start_matches('-')
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                    && !f.is_empty()
                    && f.bytes().all(|b| b.is_ascii_digit())
            });
            if is_decimal {
                checked += 1;
                assert!(
                    text.contains(&format!(": {value}")) || text.contains(&format!(" {value}\n")),
                    "{value} is not written as in the source"
                );
            }
        }
        assert!(checked > 10, "only {checked} decimal literals found");
    }

    #[test]
    fn a_source_that_is_not_3_0_is_refused() {
        let source = serde_yaml::from_str("openapi: 3.1.0\n").unwrap();
        assert!(render(&source).is_err());
    }
}
