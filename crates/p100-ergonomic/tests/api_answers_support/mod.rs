//! What a client does with the bytes of an API answer, for any bytes: read them as every success
//! body type of the spec, as each decimal type, and as an error answer of several statuses.
//! Shared, as the same function, by the stable property test `tests/api_answer_props.rs` (CI)
//! and the cargo-fuzz target `fuzz/fuzz_targets/api_answers.rs` (longer runs, nightly).
//!
//! Invariants: nothing panics; whatever parses serializes and parses back to the same value;
//! a decimal keeps its value and, when written in plain notation, its digits.
#![allow(dead_code)]

use p100_ergonomic::types;
use p100_ergonomic::Error;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Lists the success body types and defines [`ANSWER_TYPES`] and [`exercise_answers`] from the
/// list. `tests/api_answer_props.rs` checks the list against the spec: every 2xx body schema of
/// every operation, and nothing else.
macro_rules! answer_types {
    ($($name:ident),* $(,)?) => {
        /// The success body type of every operation of the spec (the component schema names).
        pub const ANSWER_TYPES: &[&str] = &[$(stringify!($name)),*];

        /// Reads `body` as every success body type.
        pub fn exercise_answers(body: &[u8]) {
            $(round_trip::<types::$name>(stringify!($name), body);)*
        }

        /// Reads `body` as the success body type named `schema`; whether it parsed, `None`
        /// for a name not in the list.
        pub fn parses_as(schema: &str, body: &[u8]) -> Option<bool> {
            match schema {
                $(stringify!($name) => Some(serde_json::from_slice::<types::$name>(body).is_ok()),)*
                _ => None,
            }
        }
    };
}

answer_types!(
    CardActionResult,
    CardCreated,
    CardDetails,
    CardLimits,
    CardList,
    CheckoutCreated,
    CryptoWithdrawalCreated,
    CryptoWithdrawalDetails,
    ExchangeCreated,
    ExchangeDetails,
    ExchangeLock,
    ExchangeRates,
    KycFilesAdded,
    KycStatus,
    KycVerificationCreated,
    NetworkFeeQuote,
    OrderCreated,
    OrderDetails,
    OrderLock,
    OrderRates,
    PartnerBalances,
    PartnerWalletCreated,
    PaymentLinkCreated,
    PaymentLinkDetails,
    PoaFilesAdded,
    SepaDepositContacts,
    SepaDepositInfo,
    SepaTransferCreated,
    SepaTransferDetails,
    TransactionHistory,
    TransferCreated,
    TransferDetails,
    TravelRuleUpdated,
    UserBalances,
    UserCreated,
    UserCreatedWithoutKyc,
    UserDeleted,
    UserExtended,
    UserSuspended,
    UserUnsuspended,
    UserUpdated,
    UserVerificationAdded,
);

/// Everything: every answer type, both decimal types, the error path.
pub fn exercise(body: &[u8]) {
    exercise_answers(body);
    exercise_decimals(body);
    exercise_error(body);
}

/// A value that parsed serializes, parses back, and is the same value (free-form JSON inside it
/// holds numbers as `f64`, which serde_json reads back to within one ulp: compared as JSON then).
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    name: &str,
    body: &[u8],
) {
    let Ok(value) = serde_json::from_slice::<T>(body) else {
        return;
    };
    let again = serde_json::to_vec(&value)
        .unwrap_or_else(|e| panic!("{name}: a parsed answer does not serialize: {e}"));
    let reparsed: T = serde_json::from_slice(&again).unwrap_or_else(|e| {
        panic!(
            "{name}: a serialized answer does not parse: {e}\n{}",
            String::from_utf8_lossy(&again)
        )
    });
    if reparsed != value {
        let (a, b) = (to_json(&reparsed), to_json(&value));
        assert!(
            same_json(&a, &b),
            "{name}: the round trip changed the answer:\n{reparsed:?}\n{value:?}"
        );
    }
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_vec(value)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// Equal JSON, floats within a relative 1e-12.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `text` is plain decimal notation as the decimal types define it: `-`, an integer
/// part without leading zeros, optionally `.` and digits. (An independent statement of the
/// rule, to check the parser against.)
pub fn is_plain(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

/// The decimal types on any bytes: what is accepted keeps its value through a round trip in both
/// wire forms; plain notation keeps its digits; a JSON string that is not plain notation is
/// refused, with an error that names it.
pub fn exercise_decimals(body: &[u8]) {
    let number = serde_json::from_slice::<types::DecimalNumber>(body);
    let string = serde_json::from_slice::<types::DecimalString>(body);
    match (&number, &string) {
        (Ok(n), Ok(s)) => assert_eq!(n.value(), s.value(), "the two types disagree"),
        (Err(_), Err(_)) => {}
        _ => panic!("one decimal type accepted what the other refused: {number:?} {string:?}"),
    }
    if let Ok(n) = number {
        let text = n.to_string();
        assert!(is_plain(&text), "{text} is written in another notation");
        let as_number = serde_json::to_string(&n).expect("a decimal serializes");
        assert_eq!(as_number, text);
        let as_string = serde_json::to_string(&types::DecimalString::from(n)).expect("serializes");
        for form in [&as_number, &as_string] {
            let back: types::DecimalNumber = serde_json::from_str(form).expect("reads back");
            assert_eq!(back.value(), n.value());
            assert_eq!(back.to_string(), text, "digits changed through {form}");
        }
        // Plain notation keeps every digit (trailing zeros included); `-0` reads as zero.
        if let Ok(raw) = std::str::from_utf8(body) {
            let raw = raw.trim_matches([' ', '\t', '\n', '\r']);
            let inner = raw
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(raw);
            if is_plain(inner) && !(inner.starts_with('-') && n.is_zero()) {
                assert_eq!(text, inner, "digits changed reading {raw}");
            }
        }
    }
    // A JSON string holds plain notation only; refusals name the value.
    if let Ok(Value::String(inner)) = serde_json::from_slice::<Value>(body) {
        match inner.parse::<types::DecimalString>() {
            Ok(d) => assert!(is_plain(&inner), "{inner:?} was accepted as {d}"),
            Err(e) => {
                assert!(
                    !is_plain(&inner) || inner.len() > 28,
                    "{inner:?} refused: {e}"
                );
                let shown: String = inner.chars().take(20).collect();
                assert!(
                    e.to_string()
                        .contains(format!("{shown:?}").trim_end_matches('"')),
                    "the error does not name {inner:?}: {e}"
                );
            }
        }
    }
}

/// Statuses an answer may come with.
const STATUSES: [u16; 9] = [400, 401, 403, 404, 413, 429, 500, 502, 503];

/// The error path: any body with any error status becomes an `Error` that can be inspected.
pub fn exercise_error(body: &[u8]) {
    let _ = serde_json::from_slice::<types::Error>(body);
    for status in STATUSES {
        let Ok(status) = StatusCode::from_u16(status) else {
            continue;
        };
        let error = Error::from_response(status, body);
        assert_eq!(error.status(), Some(status));
        let _ = (
            error.to_string(),
            format!("{error:?}"),
            error.code().map(|c| (c.as_str().to_owned(), c.is_known())),
            error.name(),
            error.message(),
            error.auth_failure(),
            error.retry_after(),
            error.body(),
            error.kind(),
            error.is_retryable(),
            error.is_not_found(),
            error.is_unauthorized(),
        );
    }
}
