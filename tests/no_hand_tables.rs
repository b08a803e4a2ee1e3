//! Knowledge lives once: what P100 does is in the spec, generated into `p100_api::catalog`, and
//! the hand-written crates read it from there. This test reads their sources (code only:
//! comments, doc text and `#[cfg(test)]` modules are skipped) and fails on a string literal that
//! restates the catalog: a P-code, a status value of any status set, an API path, or a list of
//! webhook kinds (two or more kind names in one file; one is a reference, a list is a table).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use p100_api::catalog;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a source file: without comment lines and without everything from the first
/// `#[cfg(test)]` on (unit tests may spell out values to check them).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The contents of the plain string literals in `code` (escapes kept as written).
fn literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        // Skip char literals such as '"'.
        if c == '\'' && chars.peek() == Some(&'"') {
            chars.next();
            prev = '"';
            continue;
        }
        if c == '"' && prev != '\\' {
            let mut lit = String::new();
            let mut escaped = false;
            for d in chars.by_ref() {
                if d == '"' && !escaped {
                    break;
                }
                escaped = d == '\\' && !escaped;
                lit.push(d);
            }
            out.push(lit);
            prev = '"';
            continue;
        }
        prev = c;
    }
    out
}

fn problems_in(file: &str, code: &str) -> Vec<String> {
    let statuses: BTreeSet<&str> = catalog::STATUS_SETS
        .iter()
        .flat_map(|s| s.values.iter().map(|v| v.value))
        .collect();
    let kinds: BTreeSet<&str> = p100_api::webhooks::ALL.iter().map(|k| k.kind).collect();
    let mut problems = Vec::new();
    let mut kinds_seen = BTreeSet::new();
    for lit in literals(code) {
        let is_code =
            lit.len() == 4 && lit.starts_with('P') && lit[1..].chars().all(|c| c.is_ascii_digit());
        if is_code {
            problems.push(format!("{file}: P-code literal {lit:?}"));
        }
        if statuses.contains(lit.as_str()) {
            problems.push(format!("{file}: status literal {lit:?}"));
        }
        if lit.starts_with("/v1/") {
            problems.push(format!("{file}: path literal {lit:?}"));
        }
        if kinds.contains(lit.as_str()) {
            kinds_seen.insert(lit);
        }
    }
    if kinds_seen.len() > 1 {
        problems.push(format!("{file}: a list of webhook kinds {kinds_seen:?}"));
    }
    problems
}

#[test]
fn the_ergonomic_crate_the_sandbox_and_the_cli_restate_nothing_the_catalog_holds() {
    let mut files = Vec::new();
    for krate in [
        "crates/p100-ergonomic/src",
        "crates/p100-sandbox/src",
        "crates/p100-cli/src",
    ] {
        rust_files(&root().join(krate), &mut files);
    }
    assert!(files.len() > 30, "found only {} files", files.len());
    assert!(
        files.iter().any(|f| f.ends_with("p100-cli/src/flows.rs")),
        "the CLI's sources are scanned"
    );
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let name = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        problems.extend(problems_in(&name, &code(&text)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    let table = r#"
        // a comment line: "P999" is ignored
        const LOCKS: &[&str] = &["P432", "P433"];
        const WORDS: [&str; 2] = ["COMPLETED", "PENDING"];
        const PATH: &str = "/v1/exchange";
        fn kinds() -> [&'static str; 2] { ["exchange", "crypto_deposit"] }
        let quote = '"'; let ok = "COMPLETED is fine inside a sentence";
    "#;
    let problems = problems_in("fixture.rs", &code(table));
    assert_eq!(
        problems,
        vec![
            "fixture.rs: P-code literal \"P432\"",
            "fixture.rs: P-code literal \"P433\"",
            "fixture.rs: status literal \"COMPLETED\"",
            "fixture.rs: status literal \"PENDING\"",
            "fixture.rs: path literal \"/v1/exchange\"",
            "fixture.rs: a list of webhook kinds {\"crypto_deposit\", \"exchange\"}",
        ]
    );
    // One reference to a kind is not a table.
    assert!(problems_in("one.rs", r#"emit("exchange")"#).is_empty());
}
