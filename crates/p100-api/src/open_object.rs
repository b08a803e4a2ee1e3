//! [`OpenObject`]: a JSON object whose fields the spec does not know, kept exactly.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde_json::value::RawValue;

/// A JSON object whose fields the docs never showed (the spec's open objects: a schema with
/// `additionalProperties: true` and no properties, such as `TransactionHistory`, the bodies of
/// the requests whose fields were never seen, and the webhook kinds nobody documented), kept
/// exactly as received or given.
///
/// A free-form `serde_json::Value` would read an amount such as `12.30` as a binary float and
/// lose digits; this keeps the text of every field, so an amount is read exactly when asked for
/// as a decimal. Read a field with [`get`](Self::get) into any type (amounts into
/// [`DecimalNumber`](crate::types::DecimalNumber), which takes a JSON number or string), or the
/// whole object into your own struct with [`deserialize`](Self::deserialize) once you know its
/// shape. Build one to send with [`from_json`](Self::from_json) or [`from_serialize`](Self::from_serialize).
///
/// ```
/// use p100_api::types::{DecimalNumber, OpenObject};
///
/// let history = OpenObject::from_json(r#"{"amount":12.300000000000000001,"merchant":{"name":"Cafe"}}"#)?;
/// let amount: DecimalNumber = history.get("amount").transpose()?.expect("has an amount");
/// assert_eq!(amount.to_string(), "12.300000000000000001");
/// assert_eq!(history.raw("merchant").map(|m| m.get()), Some(r#"{"name":"Cafe"}"#));
/// assert!(history.get::<String>("missing").is_none());
/// assert_eq!(OpenObject::default().json(), "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenObject {
    /// The body's text, as received.
    body: Box<RawValue>,
    /// Each top-level field's text, by name.
    fields: BTreeMap<String, Box<RawValue>>,
}

impl OpenObject {
    /// Reads a JSON object from its text, keeping it exactly (an error if it is not an object).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Writes `value` with serde_json (an error if it is not an object). Exact for types that
    /// write exact JSON, such as the decimals.
    pub fn from_serialize<T: serde::Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        Self::from_json(&serde_json::to_string(value)?)
    }

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
    /// [`DecimalNumber`](crate::types::DecimalNumber).
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

    /// The fields with their texts, keys in sorted order (what a digest of the body reads).
    pub fn fields(&self) -> &BTreeMap<String, Box<RawValue>> {
        &self.fields
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for OpenObject {
    /// The object a map writes (its numbers are what the map holds: build the map from exact
    /// types, or use [`from_serialize`](Self::from_serialize), to keep amounts exact).
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        Self::from_serialize(&map).expect("a map of JSON values writes a JSON object")
    }
}

impl Default for OpenObject {
    /// The empty object `{}`.
    fn default() -> Self {
        Self::from_json("{}").expect("`{}` is a JSON object")
    }
}

impl fmt::Debug for OpenObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OpenObject").field(&self.body.get()).finish()
    }
}

impl PartialEq for OpenObject {
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

impl serde::Serialize for OpenObject {
    /// Writes the body as received (with serde_json; other serializers see a JSON string).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for OpenObject {
    /// Reads a JSON object (only with serde_json, which can hand out a field's text).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let body = Box::<RawValue>::deserialize(deserializer)?;
        match serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(body.get()) {
            Ok(fields) => Ok(Self { body, fields }),
            // Not an object. The second parse's error is positioned inside the value's own text,
            // and serde_json would keep that position instead of the value's place in the whole
            // document: say what the value is instead, and the document's position is added.
            Err(_) => Err(D::Error::invalid_type(
                unexpected(body.get()),
                &"a JSON object",
            )),
        }
    }
}

/// What a JSON value that is not an object is, for a type error.
fn unexpected(text: &str) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match text.as_bytes().first() {
        Some(b'[') => Unexpected::Seq,
        Some(b'"') => Unexpected::Other("string"),
        Some(b't') => Unexpected::Bool(true),
        Some(b'f') => Unexpected::Bool(false),
        Some(b'n') => Unexpected::Unit,
        _ => Unexpected::Other("number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> Result<OpenObject, serde_json::Error> {
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
    fn a_field_that_is_not_an_object_is_an_error_at_its_place_in_the_document() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            user: OpenObject,
        }
        for (value, what) in [
            ("false", "boolean `false`"),
            ("[1]", "sequence"),
            ("\"u\"", "string"),
            ("null", "null"),
            ("-1.5", "number"),
        ] {
            // Not the last field: serde_json places the error right after the value (for the
            // last one it would be the end of the enclosing object).
            let body = format!("{{\n  \"user\": {value},\n  \"n\": 1\n}}");
            let error = serde_json::from_str::<Outer>(&body).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid type: {what}, expected a JSON object at line 2 column {}",
                    10 + value.len()
                )
            );
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error_not_a_default() {
        let p = payload(r#"{"amount":"twelve"}"#).unwrap();
        assert!(p
            .get::<crate::types::DecimalNumber>("amount")
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
