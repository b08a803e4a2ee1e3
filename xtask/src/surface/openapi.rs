//! The spec view: `spec/p100.yaml` as a client generated in another language sees it, in OpenAPI
//! terms (no Rust types).
//!
//! Lines:
//! - `op <id>: <METHOD> <path>, effect <effect>`;
//! - `op <id> <in> <name>: <schema>` for each parameter (`?`: not required);
//! - `op <id> body: <schema>` (the media type first when it is not JSON; `?`: not required);
//! - `op <id> answers: <code> <schema>, …` (`<code> response <Name>` for a shared response);
//! - `response <Name>: <schema>`: a shared response (`components/responses`);
//! - `schema <S>: <shape>` (`object`, `string, open enum` for `x-extensible-enum`, `string,
//!   closed enum` for `enum`, `map<T>`, `anyOf<…>`, …);
//! - `schema <S>.<property>: <schema>[, nullable]` (`?`: not in `required`; inline objects
//!   continue the path: `schema S.user.name`, `schema S.items[].id`);
//! - `schema <S> = "VALUE"`: one line per enum value;
//! - `webhook <kind>: <Payload>, dedupe [<field>, …]`.
//!
//! A schema is written as its component name (`$ref`, or `allOf` of one `$ref`), else
//! `string(format)`, `integer(format)`, `array<T>`, `map<T>`, `object`.

use anyhow::{Context, Result};
use serde_json::Value;

use super::Surface;

pub fn surface(spec: &Value) -> Result<Surface> {
    let mut surface = Surface::default();
    let doc = Doc { spec };
    add_operations(&mut surface, &doc)?;
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .context("the spec has no components/schemas")?;
    for (name, schema) in schemas {
        surface.add(format!("schema {name}"), false, shape(schema))?;
        let values = crate::spec::ENUM_KEYWORDS
            .iter()
            .find_map(|k| schema.get(*k).and_then(Value::as_array));
        for value in values.into_iter().flatten() {
            let text = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or(value.to_string());
            surface.add(format!("schema {name} = {text:?}"), false, "")?;
        }
        add_properties(&mut surface, &format!("schema {name}"), schema)?;
    }
    let responses = spec
        .pointer("/components/responses")
        .and_then(Value::as_object);
    for (name, response) in responses.into_iter().flatten() {
        surface.add(format!("response {name}"), false, content(response))?;
    }
    super::add_webhooks(&mut surface, spec)?;
    Ok(surface)
}

struct Doc<'a> {
    spec: &'a Value,
}

impl<'a> Doc<'a> {
    /// Follows a `$ref` to `#/components/<kind>/<name>` (parameters, request bodies, responses).
    fn resolve(&self, node: &'a Value) -> &'a Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix('#')
                .and_then(|pointer| self.spec.pointer(pointer))
                .unwrap_or(node),
            None => node,
        }
    }
}

fn add_operations(surface: &mut Surface, doc: &Doc) -> Result<()> {
    for super::Operation {
        id, item, op, head, ..
    } in super::operations(doc.spec)?
    {
        surface.add(format!("op {id}"), false, head)?;
        let shared = item.get("parameters").and_then(Value::as_array);
        let own = op.get("parameters").and_then(Value::as_array);
        for param in shared.into_iter().chain(own).flatten() {
            let param = doc.resolve(param);
            let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
            let location = param.get("in").and_then(Value::as_str).unwrap_or("?");
            let required = param.get("required") == Some(&Value::Bool(true));
            let schema = param.get("schema").map(with_nullable).unwrap_or_default();
            surface.add(format!("op {id} {location} {name}"), !required, schema)?;
        }
        if let Some(body) = op.get("requestBody") {
            let body = doc.resolve(body);
            let required = body.get("required") == Some(&Value::Bool(true));
            surface.add(format!("op {id} body"), !required, content(body))?;
        }
        if let Some(responses) = op.get("responses").and_then(Value::as_object) {
            let answers: Vec<String> = responses
                .iter()
                .map(|(code, response)| format!("{code} {}", answer(doc, response)))
                .collect();
            surface.add(format!("op {id} answers"), false, answers.join(", "))?;
        }
    }
    Ok(())
}

/// A response: the name of a shared one (`components/responses`, which has its own line), else
/// its content.
fn answer(doc: &Doc, response: &Value) -> String {
    match response
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/responses/"))
    {
        Some(name) => format!("response {name}"),
        None => content(doc.resolve(response)),
    }
}

/// The schemas of a body or response: `Name` for JSON, `media/type Name` otherwise.
fn content(holder: &Value) -> String {
    let Some(content) = holder.get("content").and_then(Value::as_object) else {
        return "no body".into();
    };
    let parts: Vec<String> = content
        .iter()
        .map(|(media, m)| {
            let schema = m.get("schema").map(expr).unwrap_or_else(|| "any".into());
            if media == "application/json" {
                schema
            } else {
                format!("{media} {schema}")
            }
        })
        .collect();
    parts.join(" | ")
}

fn add_properties(surface: &mut Surface, at: &str, schema: &Value) -> Result<()> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        if let Some(items) = schema.get("items") {
            if items.get("properties").is_some() {
                add_properties(surface, &format!("{at}[]"), items)?;
            }
        }
        return Ok(());
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, property) in properties {
        let key = format!("{at}.{name}");
        surface.add(
            key.clone(),
            !required.contains(&name.as_str()),
            with_nullable(property),
        )?;
        add_properties(surface, &key, property)?;
    }
    Ok(())
}

/// A property's or parameter's schema, with `, nullable` when it is.
fn with_nullable(schema: &Value) -> String {
    let mut out = expr(schema);
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        out.push_str(", nullable");
    }
    out
}

/// A component schema's own line: what it is, apart from its properties and values.
fn shape(schema: &Value) -> String {
    let enum_kind = if schema.get("x-extensible-enum").is_some() {
        Some("open enum")
    } else if schema.get("enum").is_some() {
        Some("closed enum")
    } else {
        None
    };
    let mut out = match enum_kind {
        Some(kind) => format!("{}, {kind}", expr(schema)),
        None => expr(schema),
    };
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        out.push_str(", nullable");
    }
    out
}

/// A schema in a few words: its component name, or its type.
fn expr(schema: &Value) -> String {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
    {
        return name.to_owned();
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = schema.get(combinator).and_then(Value::as_array) {
            let parts: Vec<String> = parts.iter().map(expr).collect();
            if combinator == "allOf" && parts.len() == 1 {
                return parts.into_iter().next().unwrap_or_default();
            }
            return format!("{combinator}<{}>", parts.join(", "));
        }
    }
    let format = schema.get("format").and_then(Value::as_str);
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!(
            "array<{}>",
            schema
                .get("items")
                .map(expr)
                .unwrap_or_else(|| "any".into())
        ),
        Some("object") | None
            if schema
                .get("additionalProperties")
                .is_some_and(Value::is_object) =>
        {
            format!("map<{}>", expr(&schema["additionalProperties"]))
        }
        Some(ty) => match format {
            Some(f) => format!("{ty}({f})"),
            None => ty.to_owned(),
        },
        None if schema.get("properties").is_some() => "object".into(),
        None => "any".into(),
    }
}
