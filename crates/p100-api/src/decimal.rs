//! Exact decimals for every amount, rate, fee and balance.
//!
//! P100 shows the same field as a JSON number in one edition of its docs and as a JSON string in
//! another, and rates carry more digits than an `f64` keeps (`0.8582865811608077`). Both types
//! here read either form without passing through binary floating point, keep the digits (and
//! trailing zeros) exactly, and differ only in how they are written: [`DecimalNumber`] as a JSON
//! number, [`DecimalString`] as a JSON string, the form the docs show for that field.
//!
//! Reading is strict, and never rounds:
//!
//! - A JSON string (and [`FromStr`]) holds plain decimal notation, the syntax of a JSON number
//!   without exponent: an optional `-`, an integer part without leading zeros (`0`, `12`), and
//!   optionally one `.` followed by digits: `"12.50"`, `"-0.000469"`, `"0"`. Anything else is an
//!   error: `"1_000"`, `"+1"`, `"--1"`, `"1."`, `".5"`, `"01"`, `" 1"`, `"1e3"`, `"0x10"`,
//!   `"NaN"`, `"Infinity"`, `""`.
//! - A JSON number is read from its text as written; an exponent (`4.69e-4`, `1.5E3`) is
//!   accepted when the value it denotes is exact: its digits, shifted by the exponent, fit in
//!   28 decimal places (`1e-29` is an error) and below 2^96 (`1e29` is an error).
//! - More digits than a [`Decimal`] keeps (more than 28 decimal places, more than 29 significant
//!   digits, 2^96 or more) are an error, in either form: nothing is rounded.
//! - `-0` reads as zero (and is written `0`).
//!
//! The error ([`ParseDecimalError`]) names the value (its first 64 characters) and says why.
//!
//! Exactness for JSON numbers relies on `serde_json`'s `raw_value` feature (enabled by this
//! crate): the number's text is read as written. Other deserializers fall back to their own
//! number types: a `serde_json::Value` (without `arbitrary_precision`) has already turned a
//! non-integer number into an `f64`, whose shortest text is the best that is left.

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

/// How many characters of a rejected value an error repeats.
const SHOWN_CHARS: usize = 64;

/// The most decimal places (and the most significant digits, 28 or 29) a [`Decimal`] holds.
const MAX_SCALE: u32 = 28;

/// The largest exponent magnitude worth looking at: past it no exact value fits.
const MAX_EXPONENT: u32 = 64;

/// The error for text that is not a decimal number in the accepted notation: it names the value
/// (its first 64 characters) and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shown:?} is not a decimal number: {reason}")]
pub struct ParseDecimalError {
    shown: String,
    reason: String,
}

impl ParseDecimalError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        let mut shown: String = input.chars().take(SHOWN_CHARS).collect();
        if shown.len() < input.len() {
            shown.push('…');
        }
        Self {
            shown,
            reason: reason.into(),
        }
    }

    /// The rejected value, cut to its first 64 characters (then followed by `…`).
    pub fn value(&self) -> &str {
        &self.shown
    }

    /// Why the value was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Whether an exponent (`1.5e-7`) may follow the digits: in JSON number text only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Notation {
    /// A JSON string or `FromStr`: plain decimal notation.
    Plain,
    /// The text of a JSON number: plain notation, or an exponent that loses no digit.
    JsonNumber,
}

/// The accepted notation, checked by hand because `rust_decimal`'s own parsers are lenient
/// (they read `1_000` as 1000 and round past 28 digits):
///
/// ```text
/// decimal  = [ "-" ] int [ "." digits ]          ; a JSON number without exponent
/// int      = "0" | "1"-"9" *digit
/// exponent = ( "e" | "E" ) [ "+" | "-" ] digits  ; JSON number text only, exact values only
/// ```
fn parse_as(text: &str, notation: Notation) -> Result<Decimal, ParseDecimalError> {
    let error = |reason: &str| ParseDecimalError::new(text, reason);
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(error("empty"));
    }
    let (negative, unsigned) = match bytes[0] {
        b'-' => (true, &bytes[1..]),
        b'+' => return Err(error("a leading + is not allowed")),
        _ => (false, bytes),
    };
    let int_len = unsigned.iter().take_while(|b| b.is_ascii_digit()).count();
    let (int, rest) = unsigned.split_at(int_len);
    let (frac, rest) = match rest.split_first() {
        Some((b'.', after)) => {
            let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return Err(error("a decimal point must be followed by digits"));
            }
            after.split_at(n)
        }
        _ => (&[][..], rest),
    };
    if int.is_empty() {
        return Err(error(match unsigned.first() {
            Some(b'.') => "a decimal point must follow digits",
            Some(b'-' | b'+') => "only one leading - is allowed",
            Some(b'_') => "underscores are not allowed",
            Some(b) if b.is_ascii_whitespace() => "whitespace is not allowed",
            None => "no digits",
            _ => "expected plain decimal notation (digits, one optional point)",
        }));
    }
    if int.len() > 1 && int[0] == b'0' {
        return Err(error("leading zeros are not allowed"));
    }
    let exponent = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', digits)) if notation == Notation::JsonNumber => {
            exponent(digits).ok_or_else(|| error("the exponent is out of range"))?
        }
        Some((b'e' | b'E', _)) => {
            return Err(error(
                "exponents are not allowed (plain decimal notation only)",
            ))
        }
        Some((b'_', _)) => return Err(error("underscores are not allowed")),
        Some((b'.', _)) => return Err(error("more than one decimal point")),
        Some((b, _)) if b.is_ascii_whitespace() => return Err(error("whitespace is not allowed")),
        Some(_) => {
            return Err(error(
                "expected plain decimal notation (digits, one optional point)",
            ))
        }
    };
    exact(negative, int, frac, exponent).map_err(|reason| error(&reason))
}

/// A JSON exponent's value (`+5`, `-12`, `7`), or `None` when malformed or past any exact value.
fn exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first()? {
        (b'-', digits) => (true, digits),
        (b'+', digits) => (false, digits),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = digits.iter().skip_while(|&&b| b == b'0').count();
    if significant > 4 {
        return None;
    }
    let value: i64 = digits
        .iter()
        .fold(0, |acc, &d| acc * 10 + i64::from(d - b'0'));
    if value > i64::from(MAX_EXPONENT) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// `int.frac × 10^exponent` exactly, keeping every written digit (so `500.00` keeps its
/// scale), or why it does not fit.
fn exact(negative: bool, int: &[u8], frac: &[u8], exponent: i64) -> Result<Decimal, String> {
    let mut digits: Vec<u8> = int.iter().chain(frac).copied().collect();
    // Decimal places of the value as written: the fraction's, less the exponent.
    let mut scale = frac.len() as i64 - exponent;
    if scale < 0 {
        digits.extend(std::iter::repeat_n(b'0', scale.unsigned_abs() as usize));
        scale = 0;
    }
    if scale > i64::from(MAX_SCALE) {
        return Err(format!(
            "{scale} decimal places, more than the {MAX_SCALE} that can be kept exactly"
        ));
    }
    let first = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    let significant = &digits[first..];
    // 29 digits fit only below 2^96; more never do.
    if significant.len() > 29 {
        return Err(format!(
            "{} significant digits, more than the 29 that can be kept exactly",
            significant.len()
        ));
    }
    let mantissa = significant
        .iter()
        .fold(0_i128, |acc, &d| acc * 10 + i128::from(d - b'0'));
    let mantissa = if negative { -mantissa } else { mantissa };
    // `scale` is at most 28 here.
    let scale = u32::try_from(scale).unwrap_or(MAX_SCALE);
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| {
        "too large to be kept exactly (the largest is 79228162514264337593543950335)".into()
    })
}

/// Plain decimal notation (a JSON string's content, `FromStr`).
fn parse(text: &str) -> Result<Decimal, ParseDecimalError> {
    parse_as(text, Notation::Plain)
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
            /// Parses plain decimal notation exactly: `"12.50"`, `"-3"`, `"0.00000015"`; the
            /// rules of a JSON string (see the module documentation), so `"1_000"`, `"+1"`,
            /// `"1e3"`, `" 1"` and values past 28 decimal places are errors.
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
        // A raw JSON value: a number, or a string with its quotes.
        if text.starts_with('"') {
            let unquoted: String = serde_json::from_str(text)
                .map_err(|_| E::custom(ParseDecimalError::new(text, "not a valid JSON string")))?;
            return parse(&unquoted).map_err(E::custom);
        }
        parse_as(text, Notation::JsonNumber).map_err(E::custom)
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
