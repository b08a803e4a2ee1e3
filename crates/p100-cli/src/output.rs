//! How answers are shown: `--output table` (the default), one `field  value` line per leaf with
//! aligned values (`cryptoBalances[0].amount  0.00500000`), or `--output json`, the answer as
//! JSON. Both are made from the exact JSON of the typed answer: numbers are copied as text,
//! never read into a float, so every digit and trailing zero stays as P100 sent it.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The output format (`--output`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned `field  value` lines, for people.
    #[default]
    Table,
    /// JSON, for scripts (exact amounts).
    Json,
}

/// A JSON object's members in their order, values still raw text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// The members of a JSON object in their order, each value as its JSON text; `None` when
/// `json` is not an object.
pub fn members(json: &str) -> Option<Vec<(String, String)>> {
    serde_json::from_str::<Members>(json.trim())
        .ok()
        .map(|Members(m)| {
            m.into_iter()
                .map(|(k, v)| (k, v.get().to_string()))
                .collect()
        })
}

/// The leaves of `json` as `(path, text)`, in document order; strings unquoted, numbers as
/// written.
pub fn leaves(json: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk("", json, &mut out);
    out
}

fn walk(path: &str, json: &str, out: &mut Vec<(String, String)>) {
    let trimmed = json.trim();
    if trimmed.starts_with('{') {
        match serde_json::from_str::<Members>(trimmed) {
            Ok(Members(members)) if members.is_empty() => out.push((path.to_string(), "{}".into())),
            Ok(Members(members)) => {
                for (key, value) in members {
                    let child = if path.is_empty() {
                        key
                    } else {
                        format!("{path}.{key}")
                    };
                    walk(&child, value.get(), out);
                }
            }
            Err(_) => out.push((path.to_string(), trimmed.to_string())),
        }
    } else if trimmed.starts_with('[') {
        match serde_json::from_str::<Vec<Box<RawValue>>>(trimmed) {
            Ok(items) if items.is_empty() => out.push((path.to_string(), "[]".into())),
            Ok(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{path}[{i}]"), item.get(), out);
                }
            }
            Err(_) => out.push((path.to_string(), trimmed.to_string())),
        }
    } else if trimmed.starts_with('"') {
        let text = serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| trimmed.into());
        out.push((path.to_string(), text));
    } else {
        out.push((path.to_string(), trimmed.to_string()));
    }
}

/// `println!` that never panics: see [`emit`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::emit(format_args!($($arg)*))
    };
}

/// Prints `text` and a newline on stdout. A closed stdout (`p100 … | head`) is not an error
/// worth a panic: what cannot be written is dropped.
pub fn emit(text: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// `json` in `format`, ready to print (no trailing newline).
pub fn render(json: &str, format: Format) -> String {
    match format {
        Format::Json => json.to_string(),
        Format::Table => {
            let leaves = leaves(json);
            let width = leaves
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            leaves
                .iter()
                .map(|(k, v)| {
                    if k.is_empty() {
                        v.clone()
                    } else {
                        format!("{k:width$}  {v}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_digits_and_members_their_order() {
        let json = r#"{"z": 1, "amount": 500.00, "rate": 0.8582865811608077,
            "list": [{"a": "x"}, 2e-3], "empty": {}, "none": null}"#;
        assert_eq!(
            leaves(json),
            vec![
                ("z".into(), "1".into()),
                ("amount".into(), "500.00".into()),
                ("rate".into(), "0.8582865811608077".into()),
                ("list[0].a".into(), "x".into()),
                ("list[1]".into(), "2e-3".into()),
                ("empty".into(), "{}".into()),
                ("none".into(), "null".into()),
            ]
        );
        assert_eq!(render("null", Format::Table), "null");
        assert_eq!(render(r#"{"a":1,"bb":2}"#, Format::Table), "a   1\nbb  2");
    }
}
