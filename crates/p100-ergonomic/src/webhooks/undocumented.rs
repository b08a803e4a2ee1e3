//! [`UndocumentedPayload`]: the body of a kind whose fields P100 never documented, kept exactly.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde_json::value::RawValue;

/// The body of a webhook kind whose fields were never seen in P100's docs (`create_wallet`,
/// `sepa_deposit`, `card_transaction`), kept exactly as received.
///
/// A free-form `serde_json::Value` would read an amount such as `12.30` as a binary float and
/// lose digits; this keeps the text of every field, so an amount is read exactly when asked for
/// as a decimal. Read a field with [`get`](Self::get) into any type (amounts into
/// [`DecimalNumber`](p100_api::types::DecimalNumber), which takes a JSON number or string), or the
/// whole body into your own struct with [`deserialize`](Self::deserialize) once you know its
/// shape.
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
#[derive(Clone)]
pub struct UndocumentedPayload {
    /// The body's text, as received.
    body: Box<RawValue>,
    /// Each top-level field's text, by name.
    fields: BTreeMap<String, Box<RawValue>>,
}

impl UndocumentedPayload {
    /// The body's JSON text, exactly as received.
    pub fn json(&self) -> &str {
        self.body.get()
    }

    /// The names of the body's top-level fields, in sorted order.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// The JSON text of one top-level field, exactly as received (`None` if absent).
    pub fn raw(&self, name: &str) -> Option<&RawValue> {
        self.fields.get(name).map(|raw| &**raw)
    }

    /// One top-level field read as `T` (`None` if absent; `Some(Err)` if it is not a `T`).
    ///
    /// Numbers keep every digit when `T` is an exact type such as
    /// [`DecimalNumber`](p100_api::types::DecimalNumber).
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<Result<T, serde_json::Error>> {
        self.fields
            .get(name)
            .map(|raw| serde_json::from_str(raw.get()))
    }

    /// The whole body read as `T`: your own struct, once the shape is known.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.body.get())
    }

    /// The body as a `serde_json::Value`, for display or ad-hoc inspection. Numbers with a
    /// fraction become binary floats there: read amounts with [`get`](Self::get) instead.
    pub fn to_value(&self) -> serde_json::Value {
        // A RawValue is valid JSON by construction, so this cannot fail; `Null` would only be an
        // answer to a broken invariant.
        serde_json::from_str(self.body.get()).unwrap_or(serde_json::Value::Null)
    }

    /// The fields with their texts, keys in sorted order: the input of the dedupe digest.
    pub(crate) fn fields(&self) -> &BTreeMap<String, Box<RawValue>> {
        &self.fields
    }
}

impl fmt::Debug for UndocumentedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UndocumentedPayload")
            .field(&self.body.get())
            .finish()
    }
}

impl PartialEq for UndocumentedPayload {
    /// Equal when every field has the same text (key order and whitespace between fields do not
    /// matter).
    fn eq(&self, other: &Self) -> bool {
        self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(&other.fields)
                .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
    }
}

impl serde::Serialize for UndocumentedPayload {
    /// Writes the body as received (with serde_json; other serializers see a JSON string).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for UndocumentedPayload {
    /// Reads a JSON object (only with serde_json, which can hand out a field's text).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = Box::<RawValue>::deserialize(deserializer)?;
        let fields: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(body.get()).map_err(D::Error::custom)?;
        Ok(Self { body, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> Result<UndocumentedPayload, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn keeps_every_digit_and_the_text() {
        let p = payload(r#"{ "amount": 0.1000000000000000000000001, "n": "x" }"#).unwrap();
        assert_eq!(
            p.raw("amount").unwrap().get(),
            "0.1000000000000000000000001"
        );
        assert_eq!(
            p.json(),
            r#"{ "amount": 0.1000000000000000000000001, "n": "x" }"#
        );
        assert_eq!(p.field_names().collect::<Vec<_>>(), ["amount", "n"]);
        assert_eq!(serde_json::to_string(&p).unwrap(), p.json());
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        for bad in ["[1,2]", "12", "\"s\"", "null", "{", ""] {
            assert!(payload(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error_not_a_default() {
        let p = payload(r#"{"amount":"twelve"}"#).unwrap();
        assert!(p
            .get::<p100_api::types::DecimalNumber>("amount")
            .unwrap()
            .is_err());
    }

    #[test]
    fn equality_ignores_key_order_and_whitespace_between_fields() {
        let a = payload(r#"{"a":1,"b":"x"}"#).unwrap();
        let b = payload(r#"{ "b" : "x", "a" : 1 }"#).unwrap();
        let c = payload(r#"{"a":1.0,"b":"x"}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
