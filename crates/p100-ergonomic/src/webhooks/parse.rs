//! [`parse`]: the bytes of a delivery of a known kind → a typed [`WebhookEvent`].
//!
//! The payload types are the generated ones (`p100_api::types::*Webhook`): statuses are open
//! enums (an undocumented value is kept as `Unknown`), amounts are exact decimals that accept a
//! JSON number or string, and unknown fields are ignored.

use p100_api::types;

use super::{WebhookError, WebhookKind};

macro_rules! define_event {
    ($(($variant:ident, $name:literal, $title:literal, $payload:ident, $carrier:ty, $dedupe:tt)),* $(,)?) => {
        /// One webhook delivery, typed: one variant per [`WebhookKind`], carrying the generated
        /// payload type of that kind.
        ///
        /// Serializes as the payload alone (the flat JSON P100 sends, without unknown fields).
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        #[serde(untagged)]
        #[non_exhaustive]
        pub enum WebhookEvent {
            $(
                #[doc = concat!("The ", $title, " (`", $name, "`).")]
                $variant($carrier),
            )*
        }

        impl WebhookEvent {
            /// The kind of webhook this event is.
            pub fn kind(&self) -> WebhookKind {
                match self {
                    $(WebhookEvent::$variant(_) => WebhookKind::$variant,)*
                }
            }
        }

        /// The typed parse of one kind, its error already a [`WebhookError`].
        ///
        /// One small function per kind, each building the final `Result` in place: the payload
        /// is written once into the caller's return slot instead of being moved through an
        /// intermediate `Result`, and kept out of line so that the eighteen deserializers do not
        /// end up in one large frame that every call, whatever its kind, would set up.
        #[inline]
        fn parse_as(kind: WebhookKind, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
            $(
                #[allow(non_snake_case)]
                #[inline(never)]
                fn $variant(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
                    match serde_json::from_slice(body) {
                        Ok(payload) => Ok(WebhookEvent::$variant(payload)),
                        Err(source) => Err(invalid(WebhookKind::$variant, body, source)),
                    }
                }
            )*
            match kind {
                $(WebhookKind::$variant => $variant(body),)*
            }
        }

        /// The field path of a parse error, found by parsing again with `serde_path_to_error`.
        /// Only runs on the error path, so the happy path stays a bare `serde_json::from_slice`.
        fn error_path(kind: WebhookKind, body: &[u8]) -> Option<String> {
            fn path_of<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<String> {
                let mut deserializer = serde_json::Deserializer::from_slice(body);
                match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
                    Ok(_) => None,
                    Err(e) => Some(e.path().to_string()).filter(|p| p != "."),
                }
            }
            match kind {
                $(WebhookKind::$variant => path_of::<types::$payload>(body),)*
            }
        }
    };
}

p100_api::with_webhook_kinds!(define_event, crate::webhooks::UndocumentedPayload);

/// Reads the body of a delivery of a known kind (the kind comes from the URL it was sent to).
///
/// Undocumented status values, new fields, and amounts as JSON strings or numbers all parse. An
/// empty, truncated or ill-typed body is an error saying what was wrong and where; no input makes
/// this panic. Check the token first ([`verify_token`](super::verify_token)).
///
/// ```
/// use p100_ergonomic::webhooks::{parse, WebhookEvent, WebhookKind};
/// use p100_ergonomic::types::BalanceStatus;
///
/// let body = br#"{"externalUserId":"u-1","status":"ACTIVE"}"#;
/// let event = parse(WebhookKind::UserBalanceGeneration, body)?;
/// let WebhookEvent::UserBalanceGeneration(balance) = &event else { unreachable!() };
/// assert_eq!(balance.status, BalanceStatus::Active);
///
/// // An unknown status is kept, not rejected.
/// let event = parse(WebhookKind::UserBalanceGeneration, br#"{"externalUserId":"u-1","status":"FROZEN"}"#)?;
/// let WebhookEvent::UserBalanceGeneration(balance) = &event else { unreachable!() };
/// assert_eq!(balance.status, BalanceStatus::Unknown("FROZEN".into()));
///
/// // A broken body says what and where.
/// let err = parse(WebhookKind::UserBalanceGeneration, br#"{"externalUserId":"u-1"}"#).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid user_balance_generation webhook body: missing field `status` at line 1 column 24"
/// );
/// # Ok::<(), p100_ergonomic::webhooks::WebhookError>(())
/// ```
#[inline]
pub fn parse(kind: WebhookKind, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    // Every webhook body is a JSON object. serde would also read a struct from an array of its
    // field values, which P100 never sends; refuse it.
    if body.first() != Some(&b'{') && body.trim_ascii_start().first() != Some(&b'{') {
        return Err(not_an_object(kind, body));
    }
    parse_as(kind, body)
}

#[cold]
#[inline(never)]
fn not_an_object(kind: WebhookKind, body: &[u8]) -> WebhookError {
    if body.trim_ascii().is_empty() {
        return WebhookError::EmptyBody { kind: Some(kind) };
    }
    // serde's own wording ("expected value", "invalid type: sequence, expected a map").
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
        Err(source) => WebhookError::InvalidBody {
            kind: Some(kind),
            path: None,
            source,
        },
        // Unreachable (an object starts with `{`), but an answer all the same.
        Ok(_) => match parse_as(kind, body) {
            Err(error) => error,
            Ok(_) => WebhookError::Undetected { fields: Vec::new() },
        },
    }
}

#[cold]
#[inline(never)]
fn invalid(kind: WebhookKind, body: &[u8], source: serde_json::Error) -> WebhookError {
    WebhookError::InvalidBody {
        kind: Some(kind),
        path: error_path(kind, body),
        source,
    }
}
