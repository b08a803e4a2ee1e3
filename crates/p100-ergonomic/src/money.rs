//! Money values: [`Amount`], the one type every money setter and lock flow of this crate takes
//! (a positive exact decimal, checked before anything is sent), and the currency and network
//! value sets, [`Currency`] and [`Network`], generated from the spec's `Currency` and `Network`
//! sets (open enums: a code P100 adds later is `Unknown`, read without regard to case).
//!
//! What does not belong here: the raw decimal types of the wire (`types::DecimalNumber`,
//! `types::DecimalString`, which accept whatever P100 sends); an `Amount` converts into either
//! by value.
//!
//! ```
//! use p100_ergonomic::money::{Amount, Currency, Network};
//! use p100_ergonomic::rust_decimal::Decimal;
//!
//! let amount = Amount::try_from("0.5")?;
//! assert_eq!(amount.value(), Decimal::new(5, 1));
//! assert_eq!(Amount::try_from(100)?.to_string(), "100");
//! assert!(Amount::try_from("-5").is_err());
//! assert!(Amount::try_from("1e3").is_err());
//!
//! assert_eq!("BTC".parse::<Currency>(), Ok(Currency::Btc));
//! assert_eq!(Currency::Btc.as_str(), "btc");
//! assert_eq!(Network::from("POLYGON"), Network::Polygon);
//! # Ok::<(), p100_ergonomic::money::AmountError>(())
//! ```
//!
//! Currencies and amounts have different types, so swapping them does not compile:
//!
//! ```compile_fail
//! # async fn demo(client: p100_ergonomic::Client) {
//! use p100_ergonomic::money::{Amount, Currency};
//! let amount = Amount::try_from("10").unwrap();
//! client.exchange().user("u-1").sell(Currency::Eur, amount); // swapped: does not compile
//! # }
//! ```
//!
//! and neither does a string where a `Currency` is expected:
//!
//! ```compile_fail
//! # async fn demo(client: p100_ergonomic::Client) {
//! use p100_ergonomic::money::{Amount, Currency};
//! let amount = Amount::try_from("10").unwrap();
//! client.exchange().user("u-1").sell(amount, "eur"); // a string: does not compile
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::types::{DecimalNumber, DecimalString};

pub use p100_api::types::{Currency, Network};

/// The most significant digits an [`Amount`] may have (what an exact 96-bit decimal holds).
pub const MAX_SIGNIFICANT_DIGITS: usize = 28;

/// An amount of money to move: a positive exact decimal.
///
/// Made from text in plain notation (`"0.5"`, `"100"`, `"+2.50"`: an optional sign, digits, at
/// most one point followed by digits; no exponent, underscores, separators or whitespace), from
/// a [`Decimal`] or from an integer, always with `try_from`: zero, negative and malformed values
/// are an [`AmountError`] that names the value, before anything is sent. Trailing zeros are
/// kept (`"2.50"` is sent as `2.50`).
///
/// ```
/// use p100_ergonomic::money::Amount;
///
/// let amount: Amount = "346.59".parse()?;
/// assert_eq!(amount.to_string(), "346.59");
/// let error = Amount::try_from(0u32).err().map(|e| e.to_string());
/// assert_eq!(error.as_deref(), Some("amount 0 refused: it must be more than zero"));
/// # Ok::<(), p100_ergonomic::money::AmountError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Amount(Decimal);

/// Why a value is not an [`Amount`]. Its message names the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Zero or negative.
    #[error("amount {value} refused: it must be more than zero")]
    NotPositive {
        /// The refused value, as given.
        value: String,
    },
    /// Not a decimal in plain notation.
    #[error("amount {value:?} refused: {reason}")]
    Malformed {
        /// The refused text.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More significant digits than an exact decimal holds.
    #[error(
        "amount {value:?} refused: {digits} significant digits, at most {MAX_SIGNIFICANT_DIGITS}"
    )]
    TooPrecise {
        /// The refused text.
        value: String,
        /// Its significant digits.
        digits: usize,
    },
}

impl Amount {
    /// `value`, if it is more than zero.
    pub fn new(value: Decimal) -> Result<Amount, AmountError> {
        if value <= Decimal::ZERO {
            return Err(AmountError::NotPositive {
                value: value.to_string(),
            });
        }
        Ok(Amount(value))
    }

    /// Reads `text` in plain decimal notation (see [`Amount`]).
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let malformed = |reason| AmountError::Malformed {
            value: text.to_string(),
            reason,
        };
        let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let digits_only = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if text.is_empty() {
            return Err(malformed("it is empty"));
        }
        if !digits_only(whole) || !fraction.is_none_or(digits_only) {
            return Err(malformed(
                "not a decimal in plain notation (an optional sign, digits, at most one point \
                 followed by digits; no exponent, separators or whitespace)",
            ));
        }
        let all = whole.bytes().chain(fraction.unwrap_or_default().bytes());
        let significant = all.skip_while(|b| *b == b'0').count();
        if significant > MAX_SIGNIFICANT_DIGITS {
            return Err(AmountError::TooPrecise {
                value: text.to_string(),
                digits: significant,
            });
        }
        let value = Decimal::from_str_exact(text)
            .map_err(|_| malformed("out of the range of an exact decimal"))?;
        if value <= Decimal::ZERO {
            return Err(AmountError::NotPositive {
                value: text.to_string(),
            });
        }
        Ok(Amount(value))
    }

    /// The exact value.
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Amount::parse(text)
    }
}

impl TryFrom<&str> for Amount {
    type Error = AmountError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Amount::parse(text)
    }
}

impl TryFrom<&String> for Amount {
    type Error = AmountError;

    fn try_from(text: &String) -> Result<Self, Self::Error> {
        Amount::parse(text)
    }
}

impl TryFrom<String> for Amount {
    type Error = AmountError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Amount::parse(&text)
    }
}

impl TryFrom<Decimal> for Amount {
    type Error = AmountError;

    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Amount::new(value)
    }
}

macro_rules! amount_from_integers {
    ($($int:ty),*) => {$(
        impl TryFrom<$int> for Amount {
            type Error = AmountError;

            fn try_from(value: $int) -> Result<Self, Self::Error> {
                Amount::new(Decimal::from(value))
            }
        }
    )*};
}

amount_from_integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl From<Amount> for Decimal {
    fn from(amount: Amount) -> Self {
        amount.0
    }
}

impl From<Amount> for DecimalNumber {
    fn from(amount: Amount) -> Self {
        DecimalNumber(amount.0)
    }
}

impl From<Amount> for DecimalString {
    fn from(amount: Amount) -> Self {
        DecimalString(amount.0)
    }
}

/// A money field of a generated request whose value must be an [`Amount`]: checked by the
/// operation methods of [`crate::operations`] before sending.
pub(crate) trait AmountField {
    fn check_amount(&self) -> Result<(), AmountError>;
}

impl AmountField for DecimalNumber {
    fn check_amount(&self) -> Result<(), AmountError> {
        Amount::new(self.0).map(|_| ())
    }
}

impl AmountField for DecimalString {
    fn check_amount(&self) -> Result<(), AmountError> {
        Amount::new(self.0).map(|_| ())
    }
}

impl<T: AmountField> AmountField for Option<T> {
    fn check_amount(&self) -> Result<(), AmountError> {
        self.as_ref().map_or(Ok(()), AmountField::check_amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_notation_only() {
        for ok in [
            "1",
            "0.5",
            "+2.50",
            "007",
            "0.00000001",
            "12345678901234567890.12345678",
        ] {
            assert!(Amount::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Amount::parse("2.50").map(|a| a.to_string()),
            Ok("2.50".into())
        );
        for malformed in [
            "", " 1", "1 ", "1e3", "1E3", "1_000", "1,5", "1.", ".5", "1.2.3", "--1", "+-1",
            "0x10", "NaN", "inf", "١",
        ] {
            assert!(
                matches!(Amount::parse(malformed), Err(AmountError::Malformed { .. })),
                "{malformed:?}"
            );
        }
        for not_positive in ["0", "0.000", "-5", "-0.1", "+0"] {
            assert_eq!(
                Amount::parse(not_positive),
                Err(AmountError::NotPositive {
                    value: not_positive.into()
                }),
                "{not_positive}"
            );
        }
        assert!(matches!(
            Amount::parse("1234567890123456789012345678.9"),
            Err(AmountError::TooPrecise { digits: 29, .. })
        ));
        assert!(Amount::parse("0000000000000000000000000000001").is_ok());
    }

    #[test]
    fn integers_and_decimals() {
        assert_eq!(
            Amount::try_from(5u8).map(Amount::value),
            Ok(Decimal::from(5))
        );
        assert!(Amount::try_from(0i64).is_err());
        assert!(Amount::try_from(-1i32).is_err());
        assert!(Amount::try_from(Decimal::new(-1, 2)).is_err());
        assert_eq!(
            Amount::try_from(-3i32)
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("amount -3 refused: it must be more than zero")
        );
    }
}
