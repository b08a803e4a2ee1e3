//! The change report: what a spec change does to the users of the crates (the Rust view of the
//! surface) and to clients generated from the spec in other languages (the spec view), each
//! changed item classified as breaking or additive, and the version to release.
//!
//! [`classify`] is a pure function of two surfaces (the checked-in one and the fresh one), so it
//! can be tested on any pair. One line per changed item; the members of an added or removed
//! operation or type are folded into its line. Whether a type is sent (request) or received
//! (response) is read from the surfaces themselves: the types an operation's setters, parameters
//! or body name, and everything they contain, are requests; answers and webhook payloads, and
//! everything they contain, are responses.
//!
//! The rules, for Rust users (what stops compiling, or fails at run time, after an upgrade):
//! - removing anything is breaking; adding an operation, type, setter, field or enum value is
//!   additive, except a required setter, or a required field of a request type (a call or a
//!   builder without it now fails);
//! - a changed type is breaking (a money field changing between `DecimalNumber` and
//!   `DecimalString` says so); optional → required is breaking for what a request carries,
//!   required → optional is additive when the type stays the same;
//! - a changed method, path, effect (retries and unknown outcomes follow it), answer type,
//!   webhook payload or dedupe key is breaking.
//!
//! For other languages (oasdiff's rules for OpenAPI diffs, in short): removals and changed
//! schemas are breaking; a new required request property or parameter is breaking, a new
//! optional one or any new response property is additive; optional → required breaks requests,
//! required → optional breaks responses; nullable breaks responses, not nullable breaks requests;
//! a new answer code or enum value is additive (a value P100 sends is worth handling).

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::surface::{identifiers, split_top, Item, Snapshot, Surface, Views};

/// Which users a surface speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lens {
    /// Users of the Rust crates (the Rust view).
    Rust,
    /// Clients generated from the spec in other languages (the spec view).
    Spec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Breaking,
    Additive,
}

/// One changed item, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub class: Class,
    pub text: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let class = match self.class {
            Class::Breaking => "breaking",
            Class::Additive => "additive",
        };
        write!(f, "{class}: {}", self.text)
    }
}

/// What a surface key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key<'a> {
    Op(&'a str),
    /// A setter (`op x.body`), parameter (`op x query network`), body or answers of an operation.
    OpMember {
        op: &'a str,
        member: &'a str,
    },
    Type(&'a str),
    /// A field (`type T.amount`) or property (`schema T.user.name`).
    Field {
        ty: &'a str,
        name: &'a str,
    },
    /// An open-enum variant (`type T::Completed`) or enum value (`schema T = "COMPLETED"`).
    Value {
        ty: &'a str,
        name: &'a str,
    },
    Webhook(&'a str),
    Other,
}

fn parse_key(key: &str) -> Key<'_> {
    if let Some(rest) = key.strip_prefix("op ") {
        return match rest.find(['.', ' ']) {
            Some(i) => Key::OpMember {
                op: &rest[..i],
                member: &rest[i + 1..],
            },
            None => Key::Op(rest),
        };
    }
    if let Some(kind) = key.strip_prefix("webhook ") {
        return Key::Webhook(kind);
    }
    let Some(rest) = key
        .strip_prefix("type ")
        .or_else(|| key.strip_prefix("schema "))
    else {
        return Key::Other;
    };
    if let Some((ty, name)) = rest.split_once(" = ") {
        Key::Value { ty, name }
    } else if let Some((ty, name)) = rest.split_once("::") {
        Key::Value { ty, name }
    } else if let Some((ty, name)) = rest.split_once('.') {
        Key::Field { ty, name }
    } else {
        Key::Type(rest)
    }
}

/// The key of the item another belongs to: the operation of a setter, parameter, body or
/// answers; the type of a top-level field or value; the property of a nested property.
fn parent(key: &str) -> Option<String> {
    let kind = if key.starts_with("schema ") {
        "schema"
    } else {
        "type"
    };
    match parse_key(key) {
        Key::OpMember { op, .. } => Some(format!("op {op}")),
        Key::Field { ty, name } => match name.rsplit_once('.') {
            Some((outer, _)) => Some(format!(
                "{kind} {ty}.{}",
                outer.strip_suffix("[]").unwrap_or(outer)
            )),
            None => Some(format!("{kind} {ty}")),
        },
        Key::Value { ty, .. } => Some(format!("{kind} {ty}")),
        _ => None,
    }
}

/// Which types are sent and which are received.
#[derive(Default)]
struct Roles {
    request: HashSet<String>,
    response: HashSet<String>,
}

impl Roles {
    fn of(lens: Lens, surfaces: [&Surface; 2]) -> Self {
        let mut roles = Roles::default();
        for surface in surfaces {
            let names: HashSet<&str> = surface
                .items
                .keys()
                .filter_map(|k| match parse_key(k) {
                    Key::Type(t) => Some(t),
                    _ => None,
                })
                .collect();
            let mut request = Vec::new();
            let mut response = Vec::new();
            for (key, item) in &surface.items {
                match parse_key(key) {
                    Key::OpMember { member, .. } => {
                        if lens == Lens::Spec && member == "answers" {
                            response.push(item.value.as_str());
                        } else {
                            request.push(item.value.as_str());
                        }
                    }
                    Key::Op(_) => {
                        for part in split_top(&item.value) {
                            if part.starts_with("answer ") || part.starts_with("error ") {
                                response.push(part);
                            }
                        }
                    }
                    Key::Webhook(_) => response.push(split_top(&item.value)[0]),
                    _ => {}
                }
            }
            let contains = |ty: &str| -> Vec<&str> {
                surface
                    .items
                    .iter()
                    .filter(|(k, _)| match parse_key(k) {
                        Key::Type(t) | Key::Field { ty: t, .. } => t == ty,
                        _ => false,
                    })
                    .flat_map(|(_, item)| identifiers(&item.value))
                    .filter(|id| names.contains(id))
                    .collect()
            };
            for (roots, set) in [
                (request, &mut roles.request),
                (response, &mut roles.response),
            ] {
                let mut todo: Vec<&str> = roots
                    .iter()
                    .flat_map(|v| identifiers(v))
                    .filter(|id| names.contains(id))
                    .collect();
                while let Some(ty) = todo.pop() {
                    if set.insert(ty.to_owned()) {
                        todo.extend(contains(ty));
                    }
                }
            }
        }
        roles
    }

    fn describe(&self, ty: &str) -> &'static str {
        match (self.request.contains(ty), self.response.contains(ty)) {
            (true, true) => " (request and response)",
            (true, false) => " (request)",
            (false, true) => " (response)",
            (false, false) => "",
        }
    }

    /// Unused types count as both: the strictest rule applies.
    fn is_request(&self, ty: &str) -> bool {
        self.request.contains(ty) || !self.response.contains(ty)
    }

    fn is_response(&self, ty: &str) -> bool {
        self.response.contains(ty) || !self.request.contains(ty)
    }
}

/// Every change from `old` to `new`, breaking first, each class in key order.
pub fn classify(lens: Lens, old: &Surface, new: &Surface) -> Vec<Change> {
    let roles = Roles::of(lens, [old, new]);
    let keys: BTreeSet<&String> = old.items.keys().chain(new.items.keys()).collect();
    // Whether an item is there for callers: present and, for an operation, generated (one that
    // becomes generated brings its setters with it, and one that no longer is takes them away).
    let usable = |s: &Surface, key: &str| {
        s.items
            .get(key)
            .is_some_and(|i| !split_top(&i.value).contains(&"not generated"))
    };
    let listed = |s: &Surface, key: &str| s.items.contains_key(key);
    let gone =
        |key: &str| usable(old, key) && !usable(new, key) || listed(old, key) && !listed(new, key);
    let came =
        |key: &str| usable(new, key) && !usable(old, key) || listed(new, key) && !listed(old, key);
    let mut changes = Vec::new();
    for key in keys {
        let change = match (old.items.get(key), new.items.get(key)) {
            (Some(item), None) if !parent(key).is_some_and(|p| gone(&p)) => {
                Some(removed(&roles, key, item))
            }
            (None, Some(item)) if !parent(key).is_some_and(|p| came(&p)) => {
                Some(added(lens, &roles, key, item))
            }
            (Some(a), Some(b)) if a != b => Some(changed(lens, &roles, key, a, b)),
            _ => None,
        };
        changes.extend(change);
    }
    changes.sort_by_key(|c| c.class);
    changes
}

/// How an item is named in a report line.
fn name(key: &str) -> String {
    let spec = key.starts_with("schema ");
    match parse_key(key) {
        Key::Op(op) => format!("operation `{op}`"),
        Key::OpMember { op, member } => {
            if key[3 + op.len()..].starts_with('.') {
                format!("setter `{op}().{member}()`")
            } else if member == "body" {
                format!("`{op}` request body")
            } else if member == "answers" {
                format!("`{op}` answers")
            } else if let Some((location, param)) = member.split_once(' ') {
                format!("`{op}` {location} parameter `{param}`")
            } else {
                format!("`{op}` {member}")
            }
        }
        Key::Type(ty) if spec => format!("schema `{ty}`"),
        Key::Type(ty) => format!("type `{ty}`"),
        Key::Field { ty, name } if spec => format!("property `{ty}.{name}`"),
        Key::Field { ty, name } => format!("field `{ty}.{name}`"),
        Key::Value { ty, name } if spec => format!("`{ty}` value {name}"),
        Key::Value { ty, name } => format!("variant `{ty}::{name}`"),
        Key::Webhook(kind) => format!("webhook `{kind}`"),
        Key::Other => format!("`{key}`"),
    }
}

/// The type whose role decides an item's class (a type, its field or value).
fn owner(key: &str) -> Option<&str> {
    match parse_key(key) {
        Key::Type(ty) | Key::Field { ty, .. } | Key::Value { ty, .. } => Some(ty),
        _ => None,
    }
}

fn needed(item: &Item) -> &'static str {
    if item.optional {
        "optional"
    } else {
        "required"
    }
}

fn line(class: Class, key: &str, roles: &Roles, what: &str, detail: &str) -> Change {
    let role = owner(key).map(|ty| roles.describe(ty)).unwrap_or_default();
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    Change {
        class,
        text: format!("{}{what}{role}{detail}", name(key)),
    }
}

fn removed(roles: &Roles, key: &str, item: &Item) -> Change {
    let was = if item.value.is_empty() {
        String::new()
    } else {
        format!("was {}", item.value)
    };
    line(Class::Breaking, key, roles, " removed", &was)
}

fn added(lens: Lens, roles: &Roles, key: &str, item: &Item) -> Change {
    let (class, detail) = match parse_key(key) {
        Key::OpMember {
            member: "answers", ..
        } => (Class::Additive, item.value.clone()),
        Key::OpMember { .. } if !item.optional => (
            Class::Breaking,
            format!("{}, required: a call without it now fails", item.value),
        ),
        Key::OpMember { .. } => (Class::Additive, format!("{}, optional", item.value)),
        Key::Field { ty, .. } => {
            let class = if !item.optional && roles.is_request(ty) {
                Class::Breaking
            } else {
                Class::Additive
            };
            (class, format!("{}, {}", item.value, needed(item)))
        }
        Key::Value { .. } if lens == Lens::Rust => (
            Class::Additive,
            format!("reads {}, which was `Unknown` before", item.value),
        ),
        Key::Value { ty, .. } if roles.response.contains(ty) => {
            (Class::Additive, "P100 may send it".to_owned())
        }
        _ => (Class::Additive, item.value.clone()),
    };
    line(class, key, roles, " added", &detail)
}

/// `DecimalNumber` ↔ `DecimalString` (possibly inside `Option<…>`): the money form changed.
fn money_form(old: &str, new: &str) -> Option<&'static str> {
    let swapped = old
        .replace("DecimalNumber", "\u{0}")
        .replace("DecimalString", "DecimalNumber")
        .replace('\u{0}', "DecimalString");
    if swapped != new {
        return None;
    }
    Some(if new.contains("DecimalString") {
        "money form: the docs now show a JSON string"
    } else {
        "money form: the docs now show a JSON number"
    })
}

/// The attributes of an operation or webhook line by label: the first one (endpoint, payload)
/// unlabelled, the others by their first word (`effect`, `answer`, `error`, `not`, `dedupe`).
fn attributes(value: &str) -> Vec<(&str, &str)> {
    split_top(value)
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let label = if i == 0 {
                ""
            } else {
                part.split(' ').next().unwrap_or(part)
            };
            (label, part)
        })
        .collect()
}

fn changed(lens: Lens, roles: &Roles, key: &str, old: &Item, new: &Item) -> Change {
    let mut breaking = false;
    let mut notes: Vec<String> = Vec::new();
    let mut note = |is_breaking: bool, text: String| {
        breaking |= is_breaking;
        notes.push(text);
    };
    match parse_key(key) {
        Key::Op(_) | Key::Webhook(_) => {
            let (a, b) = (attributes(&old.value), attributes(&new.value));
            let generated = |attrs: &[(&str, &str)]| !attrs.iter().any(|(l, _)| *l == "not");
            let switched = generated(&a) != generated(&b);
            if switched && generated(&b) {
                note(false, "now generated".into());
            } else if switched {
                note(true, "no longer generated".into());
            }
            let mut labels: Vec<&str> = a.iter().map(|(l, _)| *l).collect();
            for (label, _) in &b {
                if !labels.contains(label) {
                    labels.push(label);
                }
            }
            for label in labels {
                if switched && ["not", "answer", "error"].contains(&label) {
                    continue;
                }
                let find = |attrs: &[(&str, &str)]| {
                    attrs
                        .iter()
                        .find(|(l, _)| *l == label)
                        .map(|(_, text)| text.to_string())
                };
                match (find(&a), find(&b)) {
                    (Some(x), Some(y)) if x != y => {
                        let strip = |t: &str| t.strip_prefix(label).unwrap_or(t).trim().to_owned();
                        let label = if label.is_empty() {
                            String::new()
                        } else {
                            format!("{label} ")
                        };
                        note(true, format!("{label}{} → {}", strip(&x), strip(&y)));
                    }
                    (Some(x), None) => note(true, format!("{x} removed")),
                    (None, Some(y)) => note(true, format!("{y} added")),
                    _ => {}
                }
            }
        }
        Key::OpMember {
            member: "answers", ..
        } => {
            let codes = |v: &str| -> Vec<(String, String)> {
                split_top(v)
                    .iter()
                    .map(|p| match p.split_once(' ') {
                        Some((code, schema)) => (code.to_owned(), schema.to_owned()),
                        None => (p.to_string(), String::new()),
                    })
                    .collect()
            };
            let (a, b) = (codes(&old.value), codes(&new.value));
            for (code, schema) in &a {
                match b.iter().find(|(c, _)| c == code) {
                    None => note(true, format!("{code} {schema} removed")),
                    Some((_, s)) if s != schema => note(true, format!("{code} {schema} → {s}")),
                    Some(_) => {}
                }
            }
            for (code, schema) in &b {
                if !a.iter().any(|(c, _)| c == code) {
                    note(false, format!("{code} {schema} added"));
                }
            }
        }
        Key::OpMember { .. } => {
            if old.value != new.value {
                note(true, type_change(&old.value, &new.value));
            }
            if old.optional != new.optional {
                note(!new.optional, format!("{} → {}", needed(old), needed(new)));
            }
        }
        Key::Field { ty, .. } => {
            let (a, b) = (split_top(&old.value), split_top(&new.value));
            if old.optional != new.optional {
                // optional → required breaks what is sent; required → optional breaks what
                // is read, unless the Rust type stays the same (a defaulted `Vec`).
                let is_breaking = if new.optional {
                    lens == Lens::Spec && roles.is_response(ty)
                } else {
                    roles.is_request(ty)
                };
                note(is_breaking, format!("{} → {}", needed(old), needed(new)));
            }
            if a[0] != b[0] {
                note(true, type_change(a[0], b[0]));
            }
            let nullable = |parts: &[&str]| parts.contains(&"nullable");
            match (nullable(&a), nullable(&b)) {
                (false, true) => note(roles.is_response(ty), "now nullable".into()),
                (true, false) => note(roles.is_request(ty), "no longer nullable".into()),
                _ => {}
            }
        }
        Key::Value { .. } => {
            let spellings =
                |v: &str| -> BTreeSet<String> { v.split(" | ").map(str::to_owned).collect() };
            let (a, b) = (spellings(&old.value), spellings(&new.value));
            for gone in a.difference(&b) {
                note(true, format!("no longer reads {gone}"));
            }
            for came in b.difference(&a) {
                note(false, format!("now also reads {came}"));
            }
        }
        Key::Type(_) | Key::Other => note(true, type_change(&old.value, &new.value)),
    }
    let class = if breaking {
        Class::Breaking
    } else {
        Class::Additive
    };
    line(class, key, roles, "", &notes.join(", "))
}

fn type_change(old: &str, new: &str) -> String {
    match money_form(old, new) {
        Some(form) => format!("{old} → {new} ({form})"),
        None => format!("{old} → {new}"),
    }
}

// ---------------------------------------------------------------- the printed report

/// The version to release after `changes`, from the current `version` (`0.1.0`): in 0.x a
/// breaking change bumps the minor version and anything else the patch; from 1.0, major / minor.
pub fn suggestion(changes: &[Change], version: &str) -> String {
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .chain(std::iter::repeat(0))
        .take(3)
        .collect();
    let (major, minor, patch) = (parts[0], parts[1], parts[2]);
    let breaking = changes.iter().any(|c| c.class == Class::Breaking);
    match (breaking, changes.is_empty(), major) {
        (_, true, _) => format!("no change to the API: {version} stays, or a patch release"),
        (true, _, 0) => format!(
            "breaking: release 0.{}.0 (0.x: a breaking change bumps the minor version)",
            minor + 1
        ),
        (true, _, _) => format!("breaking: release {}.0.0", major + 1),
        (false, _, 0) => format!(
            "additive: release 0.{minor}.{} (0.x: additions are a patch release)",
            patch + 1
        ),
        (false, _, _) => format!("additive: release {major}.{}.0", minor + 1),
    }
}

/// The report `cargo xtask codegen` prints for the snapshot it is about to write.
pub fn render(root: &Path, snapshot: &Snapshot) -> Result<String> {
    let Some(old) = &snapshot.checked_in else {
        return Ok("API surface: no snapshot checked in yet, so no change report\n".into());
    };
    let version = workspace_version(root)?;
    Ok(report(old, &snapshot.fresh, &version))
}

/// Both classified lists and the version to release, as printed.
pub fn report(old: &Views, new: &Views, version: &str) -> String {
    let rust = classify(Lens::Rust, &old.rust, &new.rust);
    let spec = classify(Lens::Spec, &old.spec, &new.spec);
    let mut out = String::new();
    for (audience, changes) in [
        ("Rust users (p100-api)", &rust),
        ("other languages (spec/p100.yaml)", &spec),
    ] {
        let breaking = changes
            .iter()
            .filter(|c| c.class == Class::Breaking)
            .count();
        let summary = if changes.is_empty() {
            "no change".to_owned()
        } else {
            format!("{breaking} breaking, {} additive", changes.len() - breaking)
        };
        let _ = writeln!(out, "API surface for {audience}: {summary}");
        for change in changes {
            let _ = writeln!(out, "- {change}");
        }
    }
    let _ = writeln!(
        out,
        "semver (the crates are at {version}): {}",
        suggestion(&rust, version)
    );
    out
}

/// `[workspace.package] version` of the root Cargo.toml, which every crate inherits.
fn workspace_version(root: &Path) -> Result<String> {
    let path = root.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package {
            if let Some(value) = line
                .strip_prefix("version")
                .and_then(|rest| rest.trim_start().strip_prefix('='))
            {
                return Ok(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    anyhow::bail!("{}: no [workspace.package] version", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface(lines: &str) -> Surface {
        Surface::parse(lines).expect("test lines parse")
    }

    fn lines(lens: Lens, old: &str, new: &str) -> Vec<String> {
        classify(lens, &surface(old), &surface(new))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// A small Rust surface: one operation sending `Req`, answering `Resp` (which holds `Item`s).
    const RUST: &str = "\
op make: POST /v1/make, effect moves-money, answer Resp, error Error
op make.body?: Req
type Error: struct
type Error.code?: Option<String>
type Item: struct
type Item.tags?: Vec<String>
type Req: struct
type Req.amount: DecimalString
type Req.note?: Option<String>
type Resp: struct
type Resp.id: Uuid
type Resp.items?: Vec<Item>
type Status: open enum
type Status::Done: \"DONE\" | \"done\"
webhook made: Resp, dedupe [id]
";

    fn rust_with(edit: impl FnOnce(String) -> String) -> String {
        edit(RUST.to_owned())
    }

    #[test]
    fn lines_read_back_as_written() {
        let text = "op a.b?: Option<String>\nschema S = \"a: b\"\nschema S = \"q\\\": \"\ntype T::V: \"x: y\" | \"z\"\n";
        let parsed = surface(text);
        assert_eq!(parsed.render(), text);
        assert!(parsed.items["op a.b"].optional);
        assert_eq!(parsed.items["schema S = \"a: b\""].value, "");
        assert_eq!(parsed.items["schema S = \"q\\\": \""].value, "");
        assert_eq!(parsed.items["type T::V"].value, "\"x: y\" | \"z\"");
    }

    #[test]
    fn one_key_twice_is_refused() {
        assert!(Surface::parse("type A: struct\ntype A?: struct\n").is_err());
    }

    #[test]
    fn splitting_keeps_brackets_and_arrows_whole() {
        assert_eq!(
            split_top("FnOnce(builder::A) -> builder::A, HashMap<String, B>, c"),
            [
                "FnOnce(builder::A) -> builder::A",
                "HashMap<String, B>",
                "c"
            ]
        );
        assert_eq!(split_top(""), [""]);
    }

    #[test]
    fn a_removed_type_or_operation_is_one_line() {
        let new = rust_with(|s| {
            s.replace("type Item: struct\ntype Item.tags?: Vec<String>\n", "")
                .replace("op make: POST /v1/make, effect moves-money, answer Resp, error Error\nop make.body?: Req\n", "")
        });
        assert_eq!(
            lines(Lens::Rust, RUST, &new),
            [
                "breaking: operation `make` removed: was POST /v1/make, effect moves-money, answer Resp, error Error",
                "breaking: type `Item` removed (response): was struct",
            ]
        );
    }

    #[test]
    fn an_added_type_is_one_line() {
        let new = format!("{RUST}type Extra: struct\ntype Extra.a: String\ntype Extra.b: String\n");
        assert_eq!(
            lines(Lens::Rust, RUST, &new),
            ["additive: type `Extra` added: struct"]
        );
    }

    #[test]
    fn a_new_field_breaks_only_a_request_and_only_when_required() {
        let required_in_request =
            rust_with(|s| s.replace("type Req.note?", "type Req.memo: String\ntype Req.note?"));
        assert_eq!(
            lines(Lens::Rust, RUST, &required_in_request),
            ["breaking: field `Req.memo` added (request): String, required"]
        );
        let required_in_response = rust_with(|s| {
            s.replace(
                "type Resp.id:",
                "type Resp.at: DateTime<Utc>\ntype Resp.id:",
            )
        });
        assert_eq!(
            lines(Lens::Rust, RUST, &required_in_response),
            ["additive: field `Resp.at` added (response): DateTime<Utc>, required"]
        );
        // `Item` is reached through `Resp.items`: a response type too.
        let nested =
            rust_with(|s| s.replace("type Item.tags?", "type Item.name: String\ntype Item.tags?"));
        assert_eq!(
            lines(Lens::Rust, RUST, &nested),
            ["additive: field `Item.name` added (response): String, required"]
        );
    }

    #[test]
    fn setters_added_required_break_calls() {
        let required = rust_with(|s| {
            s.replace(
                "op make.body?: Req\n",
                "op make.body?: Req\nop make.user_id: String\n",
            )
        });
        assert_eq!(
            lines(Lens::Rust, RUST, &required),
            ["breaking: setter `make().user_id()` added: String, required: a call without it now fails"]
        );
        let optional = rust_with(|s| {
            s.replace(
                "op make.body?: Req\n",
                "op make.body?: Req\nop make.page?: i64\n",
            )
        });
        assert_eq!(
            lines(Lens::Rust, RUST, &optional),
            ["additive: setter `make().page()` added: i64, optional"]
        );
    }

    #[test]
    fn required_ness_of_a_response_field_rust_versus_spec() {
        // Rust: `Option<Uuid>` → `Uuid` is a changed type; for other languages a field that is now
        // always sent is additive, and one that may now be missing is breaking.
        let rust_new =
            rust_with(|s| s.replace("type Resp.id: Uuid", "type Resp.id?: Option<Uuid>"));
        assert_eq!(
            lines(Lens::Rust, RUST, &rust_new),
            ["breaking: field `Resp.id` (response): required → optional, Uuid → Option<Uuid>"]
        );
        assert_eq!(
            lines(Lens::Rust, &rust_new, RUST),
            ["breaking: field `Resp.id` (response): optional → required, Option<Uuid> → Uuid"]
        );
        // A defaulted `Vec` keeps its type: no Rust code breaks.
        let vec_required =
            rust_with(|s| s.replace("type Resp.items?: Vec<Item>", "type Resp.items: Vec<Item>"));
        assert_eq!(
            lines(Lens::Rust, RUST, &vec_required),
            ["additive: field `Resp.items` (response): optional → required"]
        );
        let spec_old = "op make answers: 200 Resp, 4XX Error, 5XX Error\nschema Resp: object\nschema Resp.id: string(uuid)\n";
        let spec_new = spec_old.replace("Resp.id:", "Resp.id?:");
        assert_eq!(
            lines(Lens::Spec, spec_old, &spec_new),
            ["breaking: property `Resp.id` (response): required → optional"]
        );
        assert_eq!(
            lines(Lens::Spec, &spec_new, spec_old),
            ["additive: property `Resp.id` (response): optional → required"]
        );
    }

    #[test]
    fn nullable_breaks_what_is_read_and_not_nullable_what_is_sent() {
        let old = "op make body: Req\nop make answers: 200 Resp\nschema Req: object\nschema Req.note?: string\nschema Resp: object\nschema Resp.note?: string\n";
        let new = old.replace("note?: string", "note?: string, nullable");
        assert_eq!(
            lines(Lens::Spec, old, &new),
            [
                "breaking: property `Resp.note` (response): now nullable",
                "additive: property `Req.note` (request): now nullable",
            ]
        );
        assert_eq!(
            lines(Lens::Spec, &new, old),
            [
                "breaking: property `Req.note` (request): no longer nullable",
                "additive: property `Resp.note` (response): no longer nullable",
            ]
        );
    }

    #[test]
    fn a_type_in_requests_and_responses_takes_the_stricter_rule() {
        let old = "op a body: Shared\nop b answers: 200 Shared\nschema Shared: object\nschema Shared.x?: string\n";
        let new = old.replace("Shared.x?", "Shared.x");
        assert_eq!(
            lines(Lens::Spec, old, &new),
            ["breaking: property `Shared.x` (request and response): optional → required"]
        );
    }

    #[test]
    fn operation_changes() {
        let effect = rust_with(|s| s.replace("effect moves-money", "effect read"));
        assert_eq!(
            lines(Lens::Rust, RUST, &effect),
            ["breaking: operation `make`: effect moves-money → read"]
        );
        let path = rust_with(|s| s.replace("POST /v1/make", "PUT /v2/make"));
        assert_eq!(
            lines(Lens::Rust, RUST, &path),
            ["breaking: operation `make`: POST /v1/make → PUT /v2/make"]
        );
        let answer = rust_with(|s| s.replace("answer Resp", "answer Item"));
        assert_eq!(
            lines(Lens::Rust, RUST, &answer),
            ["breaking: operation `make`: answer Resp → Item"]
        );
        let skipped = "op up: POST /v1/up, effect changes-state, not generated\n";
        let generated = "op up: POST /v1/up, effect changes-state, answer Done, error Error\nop up.user_id: String\n";
        assert_eq!(
            lines(Lens::Rust, skipped, generated),
            ["additive: operation `up`: now generated"]
        );
        assert_eq!(
            lines(Lens::Rust, generated, skipped),
            ["breaking: operation `up`: no longer generated"]
        );
    }

    #[test]
    fn answer_codes() {
        let old = "op make answers: 200 Resp, 4XX Error, 5XX Error\n";
        assert_eq!(
            lines(
                Lens::Spec,
                old,
                "op make answers: 200 Resp, 201 Resp, 4XX Error, 5XX Error\n"
            ),
            ["additive: `make` answers: 201 Resp added"]
        );
        assert_eq!(
            lines(
                Lens::Spec,
                old,
                "op make answers: 201 Resp, 4XX Error, 5XX Error\n"
            ),
            ["breaking: `make` answers: 200 Resp removed, 201 Resp added"]
        );
    }

    #[test]
    fn parameters() {
        let old = "op get: GET /v1/x/{id}, effect read\nop get path id: string\nop get query page?: integer\n";
        assert_eq!(
            lines(Lens::Spec, old, &old.replace("page?:", "page:")),
            ["breaking: `get` query parameter `page`: optional → required"]
        );
        assert_eq!(
            lines(
                Lens::Spec,
                old,
                &format!("{old}op get query size?: integer\n")
            ),
            ["additive: `get` query parameter `size` added: integer, optional"]
        );
        assert_eq!(
            lines(
                Lens::Spec,
                old,
                &old.replace("path id: string", "path id: string(uuid)")
            ),
            ["breaking: `get` path parameter `id`: string → string(uuid)"]
        );
    }

    #[test]
    fn enum_values() {
        let removed = rust_with(|s| s.replace("type Status::Done: \"DONE\" | \"done\"\n", ""));
        assert_eq!(
            lines(Lens::Rust, RUST, &removed),
            ["breaking: variant `Status::Done` removed: was \"DONE\" | \"done\""]
        );
        let alias_gone = rust_with(|s| s.replace(" | \"done\"", ""));
        assert_eq!(
            lines(Lens::Rust, RUST, &alias_gone),
            ["breaking: variant `Status::Done`: no longer reads \"done\""]
        );
        assert_eq!(
            lines(Lens::Rust, &alias_gone, RUST),
            ["additive: variant `Status::Done`: now also reads \"done\""]
        );
        let spec_old =
            "op send body: Kind\nschema Kind: string, closed enum\nschema Kind = \"A\"\n";
        assert_eq!(
            lines(
                Lens::Spec,
                spec_old,
                &format!("{spec_old}schema Kind = \"B\"\n")
            ),
            ["additive: `Kind` value \"B\" added (request)"]
        );
        assert_eq!(
            lines(
                Lens::Spec,
                spec_old,
                &spec_old.replace("closed enum", "open enum")
            ),
            ["breaking: schema `Kind` (request): string, closed enum → string, open enum"]
        );
    }

    #[test]
    fn webhook_changes() {
        let dedupe = rust_with(|s| s.replace("dedupe [id]", "dedupe [id, status]"));
        assert_eq!(
            lines(Lens::Rust, RUST, &dedupe),
            ["breaking: webhook `made`: dedupe [id] → [id, status]"]
        );
        let payload = rust_with(|s| s.replace("webhook made: Resp", "webhook made: Item"));
        assert_eq!(
            lines(Lens::Rust, RUST, &payload),
            ["breaking: webhook `made`: Resp → Item"]
        );
    }

    #[test]
    fn money_form_is_named_only_for_the_two_decimal_types() {
        assert!(money_form("Option<DecimalNumber>", "Option<DecimalString>").is_some());
        assert!(money_form("DecimalString", "DecimalNumber").is_some());
        assert_eq!(money_form("DecimalNumber", "String"), None);
        assert_eq!(
            money_form("Vec<DecimalNumber>", "Option<DecimalString>"),
            None
        );
    }

    #[test]
    fn semver_suggestions() {
        let breaking = [Change {
            class: Class::Breaking,
            text: String::new(),
        }];
        let additive = [Change {
            class: Class::Additive,
            text: String::new(),
        }];
        assert!(suggestion(&breaking, "0.1.3").starts_with("breaking: release 0.2.0"));
        assert!(suggestion(&additive, "0.1.3").starts_with("additive: release 0.1.4"));
        assert_eq!(suggestion(&breaking, "1.2.3"), "breaking: release 2.0.0");
        assert_eq!(suggestion(&additive, "1.2.3"), "additive: release 1.3.0");
        assert!(suggestion(&[], "0.1.0").starts_with("no change"));
    }

    #[test]
    fn the_workspace_version_is_read_from_the_root_manifest() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let version = workspace_version(&root).expect("the root Cargo.toml has one");
        assert!(
            version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u64>().is_ok()),
            "{version}"
        );
    }
}
