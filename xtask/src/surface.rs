//! The API surface: one line per item that users depend on, sorted, so that a one-field change
//! in the spec is a one-line change in review. Two views of the same spec:
//!
//! - [`rust`]: what users of `p100-api` see: operations (method, path, effect, builder setters
//!   with their Rust types, answer type), types and their fields, open enums and their values,
//!   webhook kinds. Read from the generated client itself (syn), so every name and type is the
//!   one progenitor and typify produced; method, path, effect and dedupe fields come from the
//!   spec.
//! - [`openapi`]: what a client generated from `spec/p100.yaml` in another language sees:
//!   operations, parameters, bodies and answers, schemas, properties, required-ness, nullability
//!   and enum values, in OpenAPI terms.
//!
//! Both live in one insta snapshot, `tests/snapshots/api_surface.snap` ([`stored`]: the Rust
//! lines, plus `spec` lines for what the Rust lines do not say), written by `cargo xtask codegen`
//! and guarded by `--check`; `crate::report` diffs fresh views against the checked-in ones. A
//! line is `key: value`, `key?: value` for an item a caller may leave out (an optional field,
//! setter or parameter), or a bare `key` (an enum value of the spec view).

pub mod openapi;
pub mod rust;
pub mod stored;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// One item of a surface: whether a caller may leave it out, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub optional: bool,
    pub value: String,
}

/// Every item of one view, by key (`op exchange_create.body`, `type ExchangeDetails.amount`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Surface {
    pub items: BTreeMap<String, Item>,
}

impl Surface {
    /// Adds an item; a key can only be added once (two items of one name would hide a change).
    pub fn add(&mut self, key: String, optional: bool, value: impl Into<String>) -> Result<()> {
        let value = value.into();
        if split_key(&key).is_some()
            || key.ends_with('?')
            || key.contains('\n')
            || value.contains('\n')
        {
            bail!("surface item {key:?} cannot be written on one line");
        }
        if self.items.contains_key(&key) {
            bail!("surface item {key:?} twice");
        }
        self.items.insert(key, Item { optional, value });
        Ok(())
    }

    /// One line per item, sorted by key.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (key, item) in &self.items {
            out.push_str(key);
            if item.optional {
                out.push('?');
            }
            if !item.value.is_empty() {
                out.push_str(": ");
                out.push_str(&item.value);
            }
            out.push('\n');
        }
        out
    }

    /// Reads what [`render`](Self::render) wrote.
    pub fn parse(text: &str) -> Result<Self> {
        let mut surface = Surface::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (head, value) = match split_key(line) {
                Some((head, value)) => (head, value),
                None => (line, ""),
            };
            let (key, optional) = match head.strip_suffix('?') {
                Some(key) => (key, true),
                None => (head, false),
            };
            surface
                .add(key.to_owned(), optional, value)
                .with_context(|| format!("line {}", i + 1))?;
        }
        Ok(surface)
    }
}

/// Splits `key: value` at the first `": "` outside double quotes (enum values are quoted).
fn split_key(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ':' if !quoted && line[i + 1..].starts_with(' ') => {
                return Some((&line[..i], &line[i + 2..]));
            }
            _ => {}
        }
    }
    None
}

/// The snapshot's description (insta's `description:` field): how to read its lines.
const DESCRIPTION: &str = "The API surface, one line per item, sorted. The Rust API of p100-api: op (method, path, effect, answer), op.setter (builder setter and the type it takes), type (struct, newtype, open enum), type.field, type::Variant (the values an open enum reads), webhook (payload, dedupe fields). `?`: may be left out. Lines starting `spec` are what spec/p100.yaml tells other languages beyond the Rust lines (see xtask/src/surface/stored.rs).";

/// The source file of the insta test that asserts the snapshot (insta's `source:` field).
const SNAPSHOT_SOURCE: &str = "xtask/src/surface/tests.rs";

/// `tests/snapshots/api_surface.snap`.
pub fn snapshot_path(root: &Path) -> PathBuf {
    root.join("tests/snapshots/api_surface.snap")
}

/// The snapshot file as insta writes it (its header, then the lines), so that `cargo insta
/// review` and `cargo xtask codegen` agree on it.
pub fn snapshot_file(stored: &Surface) -> String {
    format!(
        "---\nsource: {SNAPSHOT_SOURCE}\ndescription: {}\nexpression: stored.render()\n---\n{}",
        serde_json::to_string(DESCRIPTION).expect("a string serializes"),
        stored.render()
    )
}

/// Reads the lines of a snapshot file (`None` if there is none yet).
pub fn read_snapshot(path: &Path) -> Result<Option<Surface>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_, body)| body)
        .with_context(|| format!("{}: no insta header", path.display()))?;
    Surface::parse(body)
        .with_context(|| format!("reading {}", path.display()))
        .map(Some)
}

/// Both views of one spec: what Rust users see and what other languages see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Views {
    pub rust: Surface,
    pub spec: Surface,
}

impl Views {
    /// The views of the spec `raw` and the generated client `client`.
    pub fn new(raw: &serde_json::Value, client: &str) -> Result<Self> {
        Ok(Views {
            rust: rust::surface(raw, client)?,
            spec: openapi::surface(raw)?,
        })
    }

    /// The one snapshot both are kept in.
    pub fn stored(&self) -> Result<Surface> {
        stored::combine(&self.rust, &self.spec)
    }

    /// Both views back from the snapshot.
    pub fn from_stored(stored: &Surface) -> Result<Self> {
        stored::split(stored)
    }
}

/// For `cargo xtask codegen`: the snapshot to write for the generated client `client`, with the
/// views it holds and the checked-in ones.
pub fn output(root: &Path, spec_path: &Path, client: &str) -> Result<Snapshot> {
    let raw = crate::spec::load(spec_path)?;
    let fresh = Views::new(&raw, client)?;
    let path = snapshot_path(root);
    let checked_in = read_snapshot(&path)?
        .map(|stored| Views::from_stored(&stored))
        .transpose()?;
    Ok(Snapshot {
        contents: snapshot_file(&fresh.stored()?),
        path,
        fresh,
        checked_in,
    })
}

/// The snapshot file as `cargo xtask codegen` is about to write it.
pub struct Snapshot {
    pub path: PathBuf,
    pub contents: String,
    pub fresh: Views,
    pub checked_in: Option<Views>,
}

/// Splits `a, B<c, d>, e` at the commas outside brackets.
pub fn split_top(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut start = 0;
    let mut previous = ' ';
    for (i, c) in value.char_indices() {
        let arrow = previous == '-';
        previous = c;
        match c {
            '"' => quoted = !quoted,
            '<' | '(' | '[' if !quoted => depth += 1,
            '>' if !quoted && arrow => {}
            '>' | ')' | ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 && value[i + 1..].starts_with(' ') => {
                parts.push(&value[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// The identifiers in a value (`HashMap<String, BalanceNetworkConfig>` → `HashMap`, `String`, …).
pub fn identifiers(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The methods an OpenAPI path item may hold, in the order both views read them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of the spec, as both views start it.
struct Operation<'a> {
    id: &'a str,
    /// The path item (its shared parameters).
    item: &'a serde_json::Value,
    op: &'a serde_json::Value,
    /// `POST /v1/exchange, effect moves-money`: how both views begin its line.
    head: String,
}

/// Every operation of the spec, by path, then method.
fn operations(spec: &serde_json::Value) -> Result<Vec<Operation<'_>>> {
    let paths = spec
        .get("paths")
        .and_then(serde_json::Value::as_object)
        .context("the spec has no paths")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op
                .get("operationId")
                .and_then(serde_json::Value::as_str)
                .with_context(|| format!("{method} {path}: no operationId"))?;
            let effect = op
                .get("x-p100-effect")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("unstated");
            out.push(Operation {
                id,
                item,
                op,
                head: format!("{} {path}, effect {effect}", method.to_uppercase()),
            });
        }
    }
    Ok(out)
}

/// `webhook <kind>: <Payload>, dedupe [<field>, …]`, the same in both views.
fn add_webhooks(surface: &mut Surface, spec: &serde_json::Value) -> Result<()> {
    let Some(webhooks) = spec
        .get("x-webhooks")
        .and_then(serde_json::Value::as_object)
    else {
        return Ok(());
    };
    for (kind, item) in webhooks {
        let post = item
            .get("post")
            .with_context(|| format!("x-webhooks/{kind}: no `post` operation"))?;
        let payload = post
            .pointer("/requestBody/content/application~1json/schema/$ref")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .with_context(|| format!("x-webhooks/{kind}: the body is not a $ref"))?;
        let dedupe: Vec<&str> = post
            .get("x-p100-dedupe-key")
            .and_then(serde_json::Value::as_array)
            .map(|keys| keys.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        surface.add(
            format!("webhook {kind}"),
            false,
            format!("{payload}, dedupe [{}]", dedupe.join(", ")),
        )?;
    }
    Ok(())
}
