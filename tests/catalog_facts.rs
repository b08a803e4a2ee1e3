//! The facts are the oracle of the catalog. `p100_api::catalog` is generated from the spec, and
//! the SDK and the sandbox both read it, so when they agree only `tests/facts` can say whether a
//! value is wrong: every error title, `errorName` and HTTP status the catalog calls documented,
//! every documented status value, the 401 reasons and the delivery schedule must appear there.
//!
//! The checker works on plain views of the catalog so that the last tests can feed it a
//! deliberately wrong value and see it fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use p100_api::catalog::{self, Knowledge};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every facts file, by file name.
fn facts() -> BTreeMap<String, Value> {
    let dir = root().join("tests/facts");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("tests/facts") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".yaml") || name == "catalog.yaml" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
        out.insert(name, serde_json::to_value(yaml).expect("json"));
    }
    out
}

/// What the facts say about error codes and statuses, gathered from every entry.
#[derive(Default)]
struct Oracle {
    /// `file#title` of every entry.
    entries: BTreeSet<String>,
    /// code → the names pages give it (`name` fields of error tables and lists).
    names: BTreeMap<String, BTreeSet<String>>,
    /// code → the errorName values shown (`error_name`, example `errorName`, legacy `name` slugs).
    error_names: BTreeMap<String, BTreeSet<String>>,
    /// code → HTTP statuses shown with it.
    http: BTreeMap<String, BTreeSet<u64>>,
    /// Every status-like value: `statuses` lists, `enum`s, values of `*status*` keys.
    statuses: BTreeSet<String>,
    /// Every string anywhere (for the 401 messages).
    strings: BTreeSet<String>,
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Oracle {
    fn gather(files: &BTreeMap<String, Value>) -> Self {
        let mut o = Oracle::default();
        for (file, doc) in files {
            for entry in doc.as_array().into_iter().flatten() {
                if let Some(title) = entry.get("title").and_then(Value::as_str) {
                    o.entries.insert(format!("{file}#{title}"));
                }
                o.walk(entry, None);
            }
        }
        o
    }

    fn walk(&mut self, node: &Value, key: Option<&str>) {
        match node {
            Value::Object(map) => {
                let code = map
                    .get("code")
                    .or_else(|| map.get("errorCode"))
                    .and_then(Value::as_str)
                    .filter(|c| c.starts_with('P'));
                if let Some(code) = code {
                    let code = code.to_owned();
                    if let Some(name) = map.get("name").and_then(Value::as_str) {
                        // Legacy tables put the errorName slug in `name`.
                        if is_slug(name) {
                            self.error_names
                                .entry(code.clone())
                                .or_default()
                                .insert(name.into());
                        } else {
                            self.names
                                .entry(code.clone())
                                .or_default()
                                .insert(name.into());
                        }
                    }
                    for k in ["error_name", "errorName"] {
                        if let Some(n) = map.get(k).and_then(Value::as_str) {
                            self.error_names
                                .entry(code.clone())
                                .or_default()
                                .insert(n.into());
                        }
                    }
                    if let Some(h) = map.get("http").and_then(Value::as_u64) {
                        self.http.entry(code.clone()).or_default().insert(h);
                    }
                    if let Some(h) = map.get("status").and_then(Value::as_u64) {
                        self.http.entry(code).or_default().insert(h);
                    }
                }
                for (k, v) in map {
                    self.walk(v, Some(k));
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, key);
                }
            }
            Value::String(s) => {
                self.strings.insert(s.clone());
                let k = key.unwrap_or_default().to_ascii_lowercase();
                if k.contains("status") || k == "enum" {
                    self.statuses.insert(s.to_ascii_uppercase());
                }
            }
            _ => {}
        }
    }
}

/// A plain view of one registry entry.
#[derive(Clone, Debug)]
struct ErrorView {
    code: String,
    title: Option<String>,
    error_name: Option<String>,
    http: u16,
    http_inferred: bool,
    facts: String,
}

fn catalog_errors() -> Vec<ErrorView> {
    catalog::ERRORS
        .iter()
        .map(|e| ErrorView {
            code: e.code.into(),
            title: e.title.map(Into::into),
            error_name: e.error_name.map(Into::into),
            http: e.http,
            http_inferred: e.http_inferred,
            facts: e.facts.into(),
        })
        .collect()
}

/// (schema, value) of every value the catalog calls documented.
fn catalog_documented_statuses() -> Vec<(String, String)> {
    catalog::STATUS_SETS
        .iter()
        .flat_map(|set| {
            set.values
                .iter()
                .filter(|v| v.knowledge == Knowledge::Documented)
                .map(|v| (set.schema.to_owned(), v.value.to_owned()))
        })
        .collect()
}

fn check_errors(errors: &[ErrorView], o: &Oracle) -> Vec<String> {
    let mut problems = Vec::new();
    for e in errors {
        if !o.entries.contains(&e.facts) {
            problems.push(format!(
                "{}: facts entry {:?} does not exist",
                e.code, e.facts
            ));
        }
        if let Some(title) = &e.title {
            if !o.names.get(&e.code).is_some_and(|n| n.contains(title)) {
                problems.push(format!(
                    "{}: title {title:?} is not a name the facts give it ({:?})",
                    e.code,
                    o.names.get(&e.code)
                ));
            }
        }
        if let Some(name) = &e.error_name {
            if !o.error_names.get(&e.code).is_some_and(|n| n.contains(name)) {
                problems.push(format!(
                    "{}: errorName {name:?} is not shown in the facts ({:?})",
                    e.code,
                    o.error_names.get(&e.code)
                ));
            }
        }
        let shown = o.http.get(&e.code);
        if !e.http_inferred && !shown.is_some_and(|h| h.contains(&u64::from(e.http))) {
            problems.push(format!(
                "{}: HTTP {} is not shown with it in the facts ({shown:?}); mark it inferred",
                e.code, e.http
            ));
        }
    }
    problems
}

fn check_statuses(values: &[(String, String)], o: &Oracle) -> Vec<String> {
    values
        .iter()
        .filter(|(_, v)| !o.statuses.contains(&v.to_ascii_uppercase()))
        .map(|(schema, v)| format!("{schema}: documented value {v} appears nowhere in the facts"))
        .collect()
}

#[test]
fn every_error_title_name_and_status_is_in_the_facts() {
    let o = Oracle::gather(&facts());
    let problems = check_errors(&catalog_errors(), &o);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every code the facts show has an entry, too.
    let known: BTreeSet<&str> = catalog::ERRORS.iter().map(|e| e.code).collect();
    let shown: BTreeSet<&String> = o.names.keys().chain(o.error_names.keys()).collect();
    let missing: Vec<_> = shown
        .iter()
        .filter(|c| !known.contains(c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "codes in the facts without a registry entry: {missing:?}"
    );
}

#[test]
fn every_documented_status_value_is_in_the_facts() {
    let o = Oracle::gather(&facts());
    let problems = check_statuses(&catalog_documented_statuses(), &o);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_401_reasons_and_the_delivery_schedule_are_the_documented_ones() {
    let o = Oracle::gather(&facts());
    for reason in catalog::AuthFailure::ALL {
        let body = reason.body();
        assert!(o.strings.contains(&body), "{body:?} is not in the facts");
    }
    let overview = &facts()["webhooks.yaml"];
    let delays: Vec<u64> = overview
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("retry_schedule"))
        .flat_map(|s| s.as_array().cloned().unwrap_or_default())
        .filter_map(|a| {
            let text = a.get("delay_after_previous_failure")?.as_str()?;
            text.trim_start_matches('~')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(delays, catalog::webhooks::RETRY_DELAYS_SECS.to_vec());
}

// The checker itself: a wrong value in a copy of the catalog must be reported.

#[test]
fn a_title_the_facts_do_not_hold_is_reported() {
    let o = Oracle::gather(&facts());
    let mut errors = catalog_errors();
    let p412 = errors.iter_mut().find(|e| e.code == "P412").expect("P412");
    p412.title = Some("User not found".into()); // the docs say "User not exist"
    let problems = check_errors(&errors, &o);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("P412: title \"User not found\""),
        "{problems:?}"
    );
}

#[test]
fn an_invented_error_name_and_an_unshown_status_are_reported() {
    let o = Oracle::gather(&facts());
    let mut errors = catalog_errors();
    let p432 = errors.iter_mut().find(|e| e.code == "P432").expect("P432");
    p432.error_name = Some("invalid-exchange-lock".into()); // no page shows one
    let p428 = errors.iter_mut().find(|e| e.code == "P428").expect("P428");
    p428.http = 400; // the docs show 404
    let problems = check_errors(&errors, &o);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p.starts_with("P432: errorName")));
    assert!(problems.iter().any(|p| p.starts_with("P428: HTTP 400")));
}

#[test]
fn a_status_value_the_facts_do_not_hold_is_reported() {
    let o = Oracle::gather(&facts());
    let mut values = catalog_documented_statuses();
    values.push(("ExchangeStatus".into(), "SETTLED".into()));
    let problems = check_statuses(&values, &o);
    assert_eq!(
        problems,
        vec!["ExchangeStatus: documented value SETTLED appears nowhere in the facts"]
    );
}
