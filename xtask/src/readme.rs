//! The parts of the workspace README that restate the spec, generated so that they cannot drift:
//! the operations table (with each operation's effect and waiter) and the list of what the
//! catalog marks inferred (the README's known gaps). Each lives between a pair of markers,
//! `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; the rest of the README is hand-written.

use anyhow::{bail, Context, Result};
use serde_yaml::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn operations(spec: &Value) -> Result<String> {
    let mut out = String::from(
        "| tag | operation | method | path | confidence | effect | outcome polled with | generated |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let paths = spec
        .get("paths")
        .and_then(Value::as_mapping)
        .context("no paths")?;
    for (path, item) in paths {
        let path = path.as_str().unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op
                .get("tags")
                .and_then(Value::as_sequence)
                .and_then(|t| t.first())
                .and_then(Value::as_str)
                .unwrap_or("");
            let waiter = op
                .get("x-p100-waiter")
                .map(|w| format!("`{}`", text(w, "link")))
                .unwrap_or_default();
            let generated = if text(op, "x-p100-codegen") == "skip" {
                "no (hand-written)"
            } else {
                "yes"
            };
            out.push_str(&format!(
                "| {tag} | `{}` | {} | `{path}` | {} | {} | {waiter} | {generated} |\n",
                text(op, "operationId"),
                method.to_uppercase(),
                text(op, "x-p100-confidence"),
                text(op, "x-p100-effect"),
            ));
        }
    }
    Ok(out)
}

fn inferred(spec: &Value) -> Result<String> {
    let mut out = String::new();
    let schemas = spec
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_mapping)
        .context("no components/schemas")?;
    out.push_str(
        "Status values no page shows (`x-p100-status-classes`, knowledge `inferred`):\n\n",
    );
    for (name, schema) in schemas {
        let Some(classes) = schema
            .get("x-p100-status-classes")
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        let values: Vec<String> = classes
            .iter()
            .filter(|(_, c)| text(c, "knowledge") == "inferred")
            .map(|(v, c)| format!("`{}` ({})", v.as_str().unwrap_or(""), text(c, "class")))
            .collect();
        if !values.is_empty() {
            out.push_str(&format!(
                "- `{}`: {}\n",
                name.as_str().unwrap_or(""),
                values.join(", ")
            ));
        }
    }
    out.push_str("\nError registry fields no page shows (`x-p100-errors`):\n\n");
    let registry = spec.get("x-p100-errors").context("no x-p100-errors")?;
    if let Some(codes) = registry.get("codes").and_then(Value::as_mapping) {
        for (code, entry) in codes {
            let fields: Vec<&str> = entry
                .get("inferred")
                .and_then(Value::as_sequence)
                .map(|s| s.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut missing = Vec::new();
            if entry.get("title").is_none() {
                missing.push("title");
            }
            if entry.get("errorName").is_none() {
                missing.push("errorName");
            }
            if fields.is_empty() && missing.is_empty() {
                continue;
            }
            let mut parts = Vec::new();
            if !fields.is_empty() {
                parts.push(format!("inferred {}", fields.join(", ")));
            }
            if !missing.is_empty() {
                parts.push(format!("never shown: {}", missing.join(", ")));
            }
            out.push_str(&format!(
                "- `{}`: {}\n",
                code.as_str().unwrap_or(""),
                parts.join("; ")
            ));
        }
    }
    if let Some(answers) = registry.get("undocumented").and_then(Value::as_mapping) {
        out.push_str("\nAnswers the docs never show (the sandbox's own codes, `x-p100-errors.undocumented`):\n\n");
        for (name, entry) in answers {
            let http = entry.get("http").and_then(Value::as_u64).unwrap_or(0);
            out.push_str(&format!(
                "- `{}` (HTTP {http}, `{}`): {}\n",
                name.as_str().unwrap_or(""),
                text(entry, "code"),
                text(entry, "description")
            ));
        }
    }
    Ok(out)
}

fn replace(readme: &str, name: &str, body: &str) -> Result<String> {
    let open = format!("<!-- generated:{name} (cargo xtask codegen; do not edit) -->\n");
    let close = format!("<!-- /generated:{name} -->");
    let Some(start) = readme.find(&open) else {
        bail!("README.md has no `{}` marker", open.trim_end());
    };
    let from = start + open.len();
    let Some(len) = readme[from..].find(&close) else {
        bail!(
            "README.md has no `{close}` marker after `{}`",
            open.trim_end()
        );
    };
    Ok(format!(
        "{}{body}{}",
        &readme[..from],
        &readme[from + len..]
    ))
}

/// The README with its generated sections brought up to date with the spec.
pub fn generate(readme: &str, spec: &Value) -> Result<String> {
    let readme = replace(readme, "operations", &operations(spec)?)?;
    replace(&readme, "inferred", &inferred(spec)?)
}
