//! [`UndocumentedPayload`]: the body of a kind whose fields P100 never documented, kept exactly.

/// The body of a webhook kind whose fields were never seen in P100's docs (`create_wallet`,
/// `sepa_deposit`, `card_transaction`), kept exactly as received: the spec's open object,
/// [`OpenObject`](p100_api::types::OpenObject), which every response and request of unknown shape
/// uses too.
///
/// A free-form `serde_json::Value` would read an amount such as `12.30` as a binary float and
/// lose digits; this keeps the text of every field, so an amount is read exactly when asked for
/// as a decimal. Read a field with [`get`](p100_api::types::OpenObject::get) into any type
/// (amounts into [`DecimalNumber`](p100_api::types::DecimalNumber), which takes a JSON number or
/// string), or the whole body into your own struct with
/// [`deserialize`](p100_api::types::OpenObject::deserialize) once you know its shape.
///
/// ```
/// use p100_ergonomic::types::DecimalNumber;
/// use p100_ergonomic::webhooks::{parse, WebhookEvent, WebhookKind};
///
/// let body = br#"{"cardId":"c-1","amount":12.300000000000000001,"merchant":{"name":"Cafe"}}"#;
/// let WebhookEvent::CardTransaction(tx) = parse(WebhookKind::CardTransaction, body)? else {
///     unreachable!()
/// };
/// let amount: DecimalNumber = tx.get("amount").transpose()?.expect("has an amount");
/// assert_eq!(amount.to_string(), "12.300000000000000001");
/// assert_eq!(tx.raw("merchant").map(|m| m.get()), Some(r#"{"name":"Cafe"}"#));
/// assert!(tx.get::<String>("missing").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type UndocumentedPayload = p100_api::types::OpenObject;
