//! How both views fit in one snapshot: the Rust lines as they are, and a `spec` line for each
//! item of the spec view that fixed rules do not read from the Rust lines.
//!
//! The rules ([`translate`]): a field `network_config` is the property `networkConfig`; a setter
//! is a path parameter when the path names it and a query parameter otherwise; a body is required;
//! `String` is `string`, `Uuid` `string(uuid)`, `DateTime<Utc>` `string(date-time)`, `NaiveDate`
//! `string(date)`, `i64` `integer`, `bool` `boolean`, `Vec<T>` `array<T>`, `HashMap<String, T>`
//! `map<T>`, `Map<String, Value>` `object`, `Option<T>` `T`; a struct or an alias of `OpenObject` is
//! an `object`, an open enum
//! `string, open enum`; an operation answers `200 <answer>` and the error answers most operations
//! share (stored once: `spec usual error answers: 4XX response Error, 5XX response Error`). What
//! they miss is stored: `spec schema BalanceFiat.iban?: string, nullable`, `spec schema
//! KycOccupation: string, closed enum`, the answers of an operation with a `201`, the
//! operations that are not generated; `spec <key>: -` where the rules give an item the spec does
//! not have. So `split(combine(rust, spec))` gives back exactly `rust` and `spec`, which a test
//! checks on the real spec, and the checked-in snapshot stays small.
//!
//! The checked-in snapshot is read with the rules of the xtask reading it: a change to them
//! changes which `spec` lines are stored, so it comes with a regenerated snapshot (`--check`
//! fails until then).

use anyhow::{Context, Result};

use super::{split_top, Item, Surface, Views};

/// The marker of a `spec` line that removes an item the rules gave.
const ABSENT: &str = "-";

/// The key of the stored line giving the error answers most operations share.
const USUAL_ERRORS: &str = "spec usual error answers";

/// The spec view the rules read from the Rust view; `usual_errors` are the error answers of an
/// operation (default: `4XX <error>, 5XX <error>`).
pub fn translate(rust: &Surface, usual_errors: Option<&str>) -> Result<Surface> {
    let mut out = Surface::default();
    let mut paths = std::collections::BTreeMap::new();
    for (key, item) in &rust.items {
        let Some(rest) = key.strip_prefix("op ") else {
            continue;
        };
        if rest.contains('.') {
            continue;
        }
        let parts = split_top(&item.value);
        let endpoint = parts.first().copied().unwrap_or_default();
        paths.insert(rest, endpoint.split(' ').nth(1).unwrap_or_default());
        let effect = parts.iter().find(|p| p.starts_with("effect ")).copied();
        let head = match effect {
            Some(effect) => format!("{endpoint}, {effect}"),
            None => endpoint.to_owned(),
        };
        out.add(format!("op {rest}"), false, head)?;
        let answer = parts.iter().find_map(|p| p.strip_prefix("answer "));
        let error = parts.iter().find_map(|p| p.strip_prefix("error "));
        if let (Some(answer), Some(error)) = (answer, error) {
            let errors = match usual_errors {
                Some(usual) => usual.to_owned(),
                None => format!("4XX {}, 5XX {}", schema(error), schema(error)),
            };
            out.add(
                format!("op {rest} answers"),
                false,
                format!("200 {}, {errors}", schema(answer)),
            )?;
        }
    }
    for (key, item) in &rust.items {
        if let Some(rest) = key.strip_prefix("op ") {
            let Some((op, setter)) = rest.split_once('.') else {
                continue;
            };
            if setter == "body" {
                out.add(format!("op {op} body"), false, schema(&item.value))?;
            } else if !setter.ends_with("_map") {
                let name = camel(setter);
                let path = paths.get(op).copied().unwrap_or_default();
                let location = if path.contains(&format!("{{{name}}}")) {
                    "path"
                } else {
                    "query"
                };
                out.add(
                    format!("op {op} {location} {name}"),
                    item.optional,
                    schema(&item.value),
                )?;
            }
        } else if let Some(rest) = key.strip_prefix("type ") {
            if let Some((ty, _variant)) = rest.split_once("::") {
                for value in item.value.split(" | ") {
                    out.add(format!("schema {ty} = {value}"), false, "")?;
                }
            } else if let Some((ty, field)) = rest.split_once('.') {
                out.add(
                    format!("schema {ty}.{}", camel(field)),
                    item.optional,
                    schema(&item.value),
                )?;
            } else {
                let shape = match item.value.as_str() {
                    "struct" => "object".to_owned(),
                    "open enum" => "string, open enum".to_owned(),
                    "alias OpenObject" => "object".to_owned(),
                    other => schema(other.strip_prefix("newtype ").unwrap_or(other)),
                };
                out.add(format!("schema {rest}"), false, shape)?;
            }
        } else if key.starts_with("webhook ") {
            out.add(key.clone(), item.optional, item.value.clone())?;
        }
    }
    Ok(out)
}

/// The snapshot: the Rust lines, then a `spec` line wherever the rules miss the spec view.
pub fn combine(rust: &Surface, spec: &Surface) -> Result<Surface> {
    let usual = usual_errors(rust, spec);
    let read = translate(rust, usual.as_deref())?;
    let mut out = rust.clone();
    if let Some(usual) = &usual {
        out.add(USUAL_ERRORS.to_owned(), false, usual.clone())?;
    }
    for (key, item) in &spec.items {
        if read.items.get(key) != Some(item) {
            out.add(format!("spec {key}"), item.optional, item.value.clone())?;
        }
    }
    for key in read.items.keys() {
        if !spec.items.contains_key(key) {
            out.add(format!("spec {key}"), false, ABSENT)?;
        }
    }
    Ok(out)
}

/// Both views back from a snapshot.
pub fn split(stored: &Surface) -> Result<Views> {
    let mut rust = Surface::default();
    let mut corrections = Vec::new();
    for (key, item) in &stored.items {
        if key == USUAL_ERRORS {
            continue;
        }
        match key.strip_prefix("spec ") {
            Some(spec_key) => corrections.push((spec_key, item)),
            None => {
                rust.items.insert(key.clone(), item.clone());
            }
        }
    }
    let usual = stored.items.get(USUAL_ERRORS).map(|i| i.value.as_str());
    let mut spec = translate(&rust, usual).context("reading the spec view from the Rust lines")?;
    for (key, item) in corrections {
        if item.value == ABSENT {
            spec.items.remove(key);
        } else {
            spec.items.insert(key.to_owned(), Item::clone(item));
        }
    }
    Ok(Views { rust, spec })
}

/// The error answers (every code but 2xx) most generated operations of `spec` share.
fn usual_errors(rust: &Surface, spec: &Surface) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for (key, item) in &spec.items {
        let Some(op) = key
            .strip_prefix("op ")
            .and_then(|k| k.strip_suffix(" answers"))
        else {
            continue;
        };
        let generated = rust
            .items
            .get(&format!("op {op}"))
            .is_some_and(|i| split_top(&i.value).iter().any(|p| p.starts_with("answer ")));
        if generated {
            let errors: Vec<&str> = split_top(&item.value)
                .into_iter()
                .filter(|p| !p.starts_with('2'))
                .collect();
            *counts.entry(errors.join(", ")).or_default() += 1;
        }
    }
    // The most common; of equally common ones, the first in order (deterministic).
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(e, _)| e)
}

/// `external_user_id` → `externalUserId`; `type_` → `type`.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.trim_end_matches('_').chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A Rust type in the spec's words (what the generator made of the schema, read backwards).
fn schema(rust: &str) -> String {
    let rust = rust.trim();
    if let Some((outer, inner)) = rust
        .strip_suffix('>')
        .and_then(|r| r.split_once('<'))
        .map(|(o, i)| (o, split_top(i)))
    {
        return match (outer, inner.as_slice()) {
            ("Option", [one]) => schema(one),
            ("Vec", [one]) => format!("array<{}>", schema(one)),
            ("HashMap", ["String", value]) => format!("map<{}>", schema(value)),
            ("Map", ["String", "Value"]) => "object".into(),
            ("DateTime", ["Utc"]) => "string(date-time)".into(),
            _ => rust.to_owned(),
        };
    }
    match rust {
        "String" => "string",
        "Uuid" => "string(uuid)",
        "NaiveDate" => "string(date)",
        "i64" => "integer",
        "bool" => "boolean",
        "Value" => "any",
        other => other,
    }
    .to_owned()
}
