//! What the generated operation commands (`generated.rs`) need: reading a request body
//! ([`read_body`]), the answer as exact JSON ([`Answer`]) and the error of a command
//! ([`CommandError`]). The commands themselves are generated; the flows are in `flows`.

use std::io::Read;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The answer of an operation, as JSON written from the typed answer: amounts keep every digit
/// and the scale P100 sent (`500.00`), never passing through a binary float.
#[derive(Debug)]
pub struct Answer {
    /// The operation that answered.
    pub operation: &'static str,
    /// The answer, as pretty-printed JSON.
    pub json: String,
}

impl Answer {
    /// The answer of `operation`, serialized.
    pub fn of<T: Serialize>(operation: &'static str, answer: &T) -> Result<Self, CommandError> {
        let json = serde_json::to_string_pretty(answer)
            .map_err(|e| CommandError::Output(e.to_string()))?;
        Ok(Answer { operation, json })
    }
}

/// Why an operation command did not answer.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The input is unusable (a body that is no JSON of the request's schema, an unreadable
    /// file); nothing was sent.
    #[error("{0}")]
    Usage(String),
    /// The call failed (see the SDK's error: it says whether it may have executed).
    #[error(transparent)]
    Api(p100_ergonomic::Error),
    /// The answer could not be written.
    #[error("cannot write the answer: {0}")]
    Output(String),
}

/// How a body field flag's value is written into the JSON body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonKind {
    /// A JSON string (text, an enum value).
    String,
    /// A `DecimalString` amount: checked as a decimal, written as a JSON string.
    DecimalString,
    /// A JSON number, written as given (a `DecimalNumber` amount: checked as a decimal, its
    /// digits kept).
    Number,
    /// `true` or `false`.
    Boolean,
}

/// The request body: `--json-body` (if given; see [`read_text`]) with the body field flags set
/// on top, parsed into the request's type. `None` when neither is given and the body is
/// optional; a required body with neither is parsed from `{}`, so the error names the missing
/// fields.
pub fn body<T: DeserializeOwned>(
    source: Option<&str>,
    fields: &[(&str, JsonKind, Option<&str>)],
    required: bool,
) -> Result<Option<T>, CommandError> {
    let set: Vec<_> = fields
        .iter()
        .filter_map(|(name, kind, value)| value.map(|v| (*name, *kind, v)))
        .collect();
    if source.is_none() && set.is_empty() && !required {
        return Ok(None);
    }
    let mut members = match source {
        Some(source) => {
            let text = read_text(source)?;
            crate::output::members(&text).ok_or_else(|| {
                CommandError::Usage(format!("--json-body {source}: not a JSON object"))
            })?
        }
        None => Vec::new(),
    };
    for (name, kind, value) in set {
        let flag = || {
            let mut flag = String::new();
            for c in name.chars() {
                if c.is_uppercase() {
                    flag.push('-');
                }
                flag.extend(c.to_lowercase());
            }
            flag
        };
        let json = match kind {
            JsonKind::String => serde_json::to_string(value).unwrap_or_default(),
            JsonKind::DecimalString => {
                value
                    .trim()
                    .parse::<p100_ergonomic::rust_decimal::Decimal>()
                    .map_err(|e| CommandError::Usage(format!("--{}: {value:?}: {e}", flag())))?;
                serde_json::to_string(value.trim()).unwrap_or_default()
            }
            JsonKind::Number => {
                value
                    .trim()
                    .parse::<p100_ergonomic::rust_decimal::Decimal>()
                    .map_err(|e| CommandError::Usage(format!("--{}: {value:?}: {e}", flag())))?;
                value.trim().to_string()
            }
            JsonKind::Boolean => match value.trim() {
                "true" | "false" => value.trim().to_string(),
                _ => {
                    return Err(CommandError::Usage(format!(
                        "--{}: {value:?} is not true or false",
                        flag()
                    )))
                }
            },
        };
        members.retain(|(k, _)| k != name);
        members.push((name.to_string(), json));
    }
    let text = format!(
        "{{{}}}",
        members
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(",")
    );
    parse_body(&text).map(Some)
}

/// The text of `--json-body`: `-` reads stdin, text that starts with `{` or `[` is the
/// JSON itself, anything else is a file to read. Parsed into the request's type, so that amounts
/// are read exactly and a body that does not fit the schema is refused before anything is sent.
pub fn read_body<T: DeserializeOwned>(source: &str) -> Result<T, CommandError> {
    parse_body(&read_text(source)?)
}

/// The text `--json-body` names (see [`read_body`]).
pub fn read_text(source: &str) -> Result<String, CommandError> {
    Ok(if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CommandError::Usage(format!("--json-body -: cannot read stdin: {e}")))?;
        text
    } else if source.trim_start().starts_with(['{', '[']) {
        source.to_string()
    } else {
        std::fs::read_to_string(source)
            .map_err(|e| CommandError::Usage(format!("--json-body {source}: {e}")))?
    })
}

/// A request body parsed into its type (amounts exactly), or why it does not fit.
fn parse_body<T: DeserializeOwned>(text: &str) -> Result<T, CommandError> {
    serde_json::from_str(text).map_err(|e| {
        let ty = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
        CommandError::Usage(format!("the request body is not a valid {ty}: {e}"))
    })
}
