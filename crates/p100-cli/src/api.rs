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

/// The request body of `--json-body`: `-` reads stdin, text that starts with `{` or `[` is the
/// JSON itself, anything else is a file to read. Parsed into the request's type, so that amounts
/// are read exactly and a body that does not fit the schema is refused before anything is sent.
pub fn read_body<T: DeserializeOwned>(source: &str) -> Result<T, CommandError> {
    let text = if source == "-" {
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
    };
    serde_json::from_str(&text).map_err(|e| {
        let ty = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
        CommandError::Usage(format!("--json-body is not a valid {ty}: {e}"))
    })
}
