//! Exact decimals for every amount, rate, fee and balance.
//!
//! P100 shows the same field as a JSON number in one edition of its docs and as a JSON string in
//! another, and rates carry more digits than an `f64` keeps (`0.8582865811608077`). Both types
//! here read either form without passing through binary floating point, keep the digits (and
//! trailing zeros) exactly, and differ only in how they are written: [`DecimalNumber`] as a JSON
//! number, [`DecimalString`] as a JSON string, the form the docs show for that field.
//!
//! Exactness for JSON numbers relies on `serde_json`'s `raw_value` feature (enabled by this
//! crate): the number's text is read as written. Other deserializers fall back to their own
//! number types.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

/// `serde_json`'s marker for raw JSON text (`serde_json::value::RawValue`). Asking a
/// `serde_json` deserializer for this newtype hands us the number's exact text; serializing a
/// struct of this name writes text verbatim.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// The error for text that is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDecimalError {
    input: String,
    reason: String,
}

impl fmt::Display for ParseDecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a decimal number: {}",
            self.input, self.reason
        )
    }
}

impl std::error::Error for ParseDecimalError {}

fn parse(text: &str) -> Result<Decimal, ParseDecimalError> {
    let trimmed = text.trim();
    let result = if trimmed.contains(['e', 'E']) {
        Decimal::from_scientific(trimmed)
    } else {
        Decimal::from_str_exact(trimmed)
    };
    result.map_err(|e| ParseDecimalError {
        input: text.to_string(),
        reason: e.to_string(),
    })
}

macro_rules! decimal_type {
    ($(#[$doc:meta])* $name:ident, $other:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Decimal);

        impl $name {
            /// The exact value.
            pub fn value(self) -> Decimal {
                self.0
            }
        }

        impl From<Decimal> for $name {
            fn from(value: Decimal) -> Self {
                Self(value)
            }
        }

        impl From<$name> for Decimal {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl From<$other> for $name {
            fn from(value: $other) -> Self {
                Self(value.0)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(Decimal::from(value))
            }
        }

        impl From<u32> for $name {
            fn from(value: u32) -> Self {
                Self(Decimal::from(value))
            }
        }

        impl std::ops::Deref for $name {
            type Target = Decimal;
            fn deref(&self) -> &Decimal {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseDecimalError;
            /// Parses `"12.50"`, `"-3"` or `"1.5e-7"` exactly.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse(s).map(Self)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ParseDecimalError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseDecimalError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer
                    .deserialize_newtype_struct(RAW_TOKEN, DecimalVisitor)
                    .map(Self)
            }
        }
    };
}

decimal_type!(
    /// An exact decimal written as a JSON number (`10`, `0.8582865811608077`).
    ///
    /// Reads a JSON number or a JSON string without loss.
    ///
    /// ```
    /// use p100_api::types::DecimalNumber;
    /// let rate: DecimalNumber = serde_json::from_str("0.8582865811608077").unwrap();
    /// assert_eq!(rate.to_string(), "0.8582865811608077");
    /// assert_eq!(serde_json::to_string(&rate).unwrap(), "0.8582865811608077");
    /// let from_text: DecimalNumber = serde_json::from_str("\"10.50\"").unwrap();
    /// assert_eq!(serde_json::to_string(&from_text).unwrap(), "10.50");
    /// ```
    DecimalNumber,
    DecimalString
);

decimal_type!(
    /// An exact decimal written as a JSON string (`"0.00000000"`, `"16.02"`).
    ///
    /// Reads a JSON string or a JSON number without loss; trailing zeros are kept.
    ///
    /// ```
    /// use p100_api::types::DecimalString;
    /// let amount: DecimalString = serde_json::from_str("\"0.00000000\"").unwrap();
    /// assert_eq!(serde_json::to_string(&amount).unwrap(), "\"0.00000000\"");
    /// let from_number: DecimalString = serde_json::from_str("16.02").unwrap();
    /// assert_eq!(serde_json::to_string(&from_number).unwrap(), "\"16.02\"");
    /// ```
    DecimalString,
    DecimalNumber
);

impl Serialize for DecimalString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl Serialize for DecimalNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // serde_json writes the digits verbatim as a JSON number. Formats that do not know the
        // marker (query strings, YAML) are human-readable text formats: give them the digits.
        if serializer.is_human_readable() && std::any::type_name::<S>().contains("serde_json") {
            let text = self.0.to_string();
            let mut s = serializer.serialize_struct(RAW_TOKEN, 1)?;
            s.serialize_field(RAW_TOKEN, &text)?;
            s.end()
        } else {
            serializer.collect_str(&self.0)
        }
    }
}

struct DecimalVisitor;

impl DecimalVisitor {
    fn from_text<E: de::Error>(text: &str) -> Result<Decimal, E> {
        let text = text.trim();
        // A raw JSON value: a number, or a string with its quotes.
        if let Some(inner) = text.strip_prefix('"') {
            let unquoted: String = serde_json::from_str(text)
                .map_err(|_| E::custom(format!("invalid JSON string for a decimal: {inner}")))?;
            return parse(&unquoted).map_err(E::custom);
        }
        parse(text).map_err(E::custom)
    }
}

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number as a JSON number or string")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(self)
    }

    // serde_json with `raw_value` presents the raw text as a one-entry map.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        let key: Option<String> = map.next_key()?;
        if key.as_deref() != Some(RAW_TOKEN) {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let raw: String = map.next_value()?;
        Self::from_text(&raw)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Decimal, E> {
        Decimal::try_from_i128_with_scale(v, 0).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // Only reached from deserializers that have already turned the number into an f64; the
        // shortest text that round-trips is the best that is left.
        if !v.is_finite() {
            return Err(E::custom(format!("{v} is not a decimal number")));
        }
        parse(&v.to_string()).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWENTY_DIGITS: &str = "12345678901.234567891";

    #[test]
    fn numbers_keep_every_digit() {
        for text in [
            "0.8582865811608077",
            TWENTY_DIGITS,
            "0.00000000",
            "-5.10",
            "101970.17793043",
        ] {
            let n: DecimalNumber = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&n).unwrap(), text);
            let s: DecimalString = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{text}\""));
        }
    }

    #[test]
    fn strings_keep_every_digit() {
        let s: DecimalString = serde_json::from_str(&format!("\"{TWENTY_DIGITS}\"")).unwrap();
        assert_eq!(s.to_string(), TWENTY_DIGITS);
        let n: DecimalNumber = serde_json::from_str(&format!("\"{TWENTY_DIGITS}\"")).unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), TWENTY_DIGITS);
    }

    #[test]
    fn exponent_form_is_read() {
        let n: DecimalNumber = serde_json::from_str("4.69e-4").unwrap();
        assert_eq!(n.to_string(), "0.000469");
    }

    #[test]
    fn through_a_value_and_buffered_content() {
        let v: serde_json::Value = serde_json::from_str("{\"a\": 1.49}").unwrap();
        #[derive(Deserialize)]
        struct A {
            a: DecimalNumber,
        }
        let a: A = serde_json::from_value(v).unwrap();
        assert_eq!(a.a.to_string(), "1.49");
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum U {
            A(A),
        }
        let U::A(a) = serde_json::from_str::<U>("{\"a\": \"2.50\"}").unwrap();
        assert_eq!(a.a.to_string(), "2.50");
    }

    #[test]
    fn bad_input_is_an_error_that_says_why() {
        for bad in ["\"abc\"", "true", "null", "[1]", "\"1.2.3\"", "{}"] {
            let err = serde_json::from_str::<DecimalNumber>(bad)
                .unwrap_err()
                .to_string();
            assert!(!err.is_empty(), "{bad}");
        }
        let err = "x1".parse::<DecimalString>().unwrap_err().to_string();
        assert!(err.contains("\"x1\" is not a decimal number"), "{err}");
    }
}
