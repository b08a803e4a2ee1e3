//! Decimals are read strictly (issue 16, item 5): plain decimal notation only (an optional `-`,
//! digits without leading zeros, optionally one `.` followed by digits), in a JSON string, a
//! JSON number and `FromStr` alike; a JSON number may also carry an exponent when the value it
//! denotes is exactly representable. Everything else is an error that names the value and says
//! why; nothing is ever rounded.

use p100_api::types::{DecimalNumber, DecimalString, ExchangeLock, ParseDecimalError};
use proptest::prelude::*;

/// Both wire forms of `text`: a JSON number (`text` as is) and a JSON string.
fn wire_forms(text: &str) -> [String; 2] {
    [text.to_string(), serde_json::to_string(text).unwrap()]
}

/// The error of reading `json` as each decimal type.
fn errors(json: &str) -> Vec<String> {
    let n = serde_json::from_str::<DecimalNumber>(json).map(|d| d.to_string());
    let s = serde_json::from_str::<DecimalString>(json).map(|d| d.to_string());
    [n, s]
        .into_iter()
        .map(|r| match r {
            Ok(value) => panic!("{json} was read as {value}"),
            Err(e) => e.to_string(),
        })
        .collect()
}

/// `text` in a JSON string is rejected by both types and by `FromStr`, naming the value.
fn assert_rejected_as_string(text: &str) {
    let json = serde_json::to_string(text).unwrap();
    for err in errors(&json) {
        assert!(
            err.contains(&format!("{text:?}")) && err.contains("not a decimal number"),
            "{json}: {err}"
        );
    }
    let err: ParseDecimalError = text
        .parse::<DecimalString>()
        .expect_err(&format!("FromStr accepted {text:?}"));
    assert!(err.to_string().contains(&format!("{text:?}")), "{err}");
    assert!(text.parse::<DecimalNumber>().is_err(), "{text:?}");
}

#[test]
fn underscores_are_rejected_not_read_as_digit_separators() {
    for text in ["1_000", "1__0", "_1", "1_", "0.000_1", "1_000.00"] {
        assert_rejected_as_string(text);
    }
}

#[test]
fn signs_points_and_other_forms_are_rejected_in_strings() {
    for text in [
        "",
        " ",
        "+1",
        "--1",
        "-",
        "+-1",
        "1.",
        ".5",
        "-.5",
        "1.2.3",
        " 1",
        "1 ",
        "\t1",
        "1\n",
        "0x10",
        "0b1",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1e3",
        "1E3",
        "1.5e-7",
        "01",
        "-01.5",
        "1,5",
        "1'000",
        "١",
        "1.0.",
        "e5",
        "abc",
    ] {
        assert_rejected_as_string(text);
    }
}

#[test]
fn exact_exponents_in_json_numbers_are_converted() {
    for (json, plain) in [
        ("1.5E3", "1500"),
        ("1.5e+3", "1500"),
        ("4.69e-4", "0.000469"),
        ("1e-8", "0.00000001"),
        ("-2.50e1", "-25.0"),
        ("1e28", "10000000000000000000000000000"),
        ("1e-28", "0.0000000000000000000000000001"),
    ] {
        let n: DecimalNumber = serde_json::from_str(json).unwrap();
        assert_eq!(n.to_string(), plain, "{json}");
        let s: DecimalString = serde_json::from_str(json).unwrap();
        assert_eq!(s.to_string(), plain, "{json}");
    }
}

#[test]
fn exponents_that_lose_digits_are_errors_not_rounded() {
    let thirty_ones = format!("1.{}1e0", "0".repeat(30));
    for json in [
        thirty_ones.as_str(),
        "1e-29",
        "1.5e-28",
        "1e29",
        "8e28",
        "1e400",
        "1e-400",
        "1e99999999999999999999",
    ] {
        for err in errors(json) {
            assert!(
                err.contains(&json[..json.len().min(20)]) && err.contains("not a decimal number"),
                "{json}: {err}"
            );
        }
    }
}

#[test]
fn more_digits_than_fit_are_errors_not_rounded() {
    for text in [
        // 29 decimal places (the most is 28).
        "0.12345678901234567890123456789",
        // 30 significant digits.
        "123456789012345678901234567890",
        // 2^96: one more than the largest value.
        "79228162514264337593543950336",
        "1.0000000000000000000000000000001",
    ] {
        for json in wire_forms(text) {
            for err in errors(&json) {
                assert!(err.contains(text), "{json}: {err}");
            }
        }
        assert!(text.parse::<DecimalString>().is_err(), "{text}");
    }
    // The largest values that fit are kept digit for digit.
    for text in [
        "79228162514264337593543950335",
        "-7.9228162514264337593543950335",
        "0.0000000000000000000000000001",
        "1234567890.1234567890123456789",
    ] {
        for json in wire_forms(text) {
            let n: DecimalNumber = serde_json::from_str(&json).unwrap();
            assert_eq!(n.to_string(), text);
        }
    }
}

#[test]
fn documented_forms_still_round_trip_digit_for_digit() {
    for text in [
        "0.8582865811608077",
        "12345678901.234567891",
        "500.00",
        "0.00000000",
        "0",
        "-0.5",
        "101970.17793043",
    ] {
        for json in wire_forms(text) {
            let n: DecimalNumber = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&n).unwrap(), text);
            let s: DecimalString = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(text.parse::<DecimalString>().unwrap().to_string(), text);
    }
}

#[test]
fn the_error_names_the_field_value_and_truncates_long_values() {
    let lock = r#"{"id": "407ea838-6e41-45ed-ae0f-84fb0f5d3863", "rates": {"usdt": "1_000"},
        "feePercentage": 1.49, "createdAt": "2025-07-28T11:24:46.312Z",
        "validUntil": "2025-07-28T11:25:46.310Z"}"#;
    let err = serde_json::from_str::<ExchangeLock>(lock)
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"1_000\""), "{err}");
    assert!(err.contains("underscore"), "{err}");

    let long = format!("1_{}", "0".repeat(10_000));
    let err = long.parse::<DecimalString>().unwrap_err().to_string();
    assert!(err.len() < 200, "{} characters: {err}", err.len());
    assert!(err.starts_with("\"1_000"), "{err}");
}

#[test]
fn negative_zero_reads_as_zero() {
    for json in ["-0", "\"-0\"", "-0.00", "\"-0.00\"", "-0e3"] {
        let n: DecimalNumber = serde_json::from_str(json).unwrap();
        assert!(n.is_zero(), "{json}");
        assert!(!n.to_string().starts_with('-'), "{json}: {n}");
    }
}

/// Valid plain decimals: an optional `-`, an integer part without leading zeros, an optional
/// fraction, 28 digits at most in all (so that every one fits).
fn valid_plain() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop_oneof![Just("0".to_string()), "[1-9][0-9]{0,13}"],
        prop::option::of("[0-9]{1,14}"),
    )
        .prop_map(|(negative, int, frac)| {
            // `-0` reads as zero and is written `0`: only non-zero values carry a sign here.
            let zero = int == "0" && frac.as_deref().is_none_or(|f| f.bytes().all(|b| b == b'0'));
            let sign = if negative && !zero { "-" } else { "" };
            match frac {
                Some(frac) => format!("{sign}{int}.{frac}"),
                None => format!("{sign}{int}"),
            }
        })
}

/// Forms that are not plain decimal notation, made from a valid one.
fn invalid_form() -> impl Strategy<Value = String> {
    (valid_plain(), any::<prop::sample::Index>(), 0..14usize).prop_map(|(valid, at, how)| {
        let i = at.index(valid.len() + 1);
        let (head, tail) = valid.split_at(i);
        match how {
            0 => format!("{head}_{tail}"),
            1 => format!("--{}", valid.trim_start_matches('-')),
            2 => format!("+{valid}"),
            3 => format!(" {valid}"),
            4 => format!("{valid} "),
            5 => format!("{valid}e0"),
            6 => format!("0x{}", valid.trim_start_matches('-')),
            7 => "NaN".to_string(),
            8 => "Infinity".to_string(),
            9 => String::new(),
            10 => format!("{valid}."),
            11 => format!(".{}", valid.trim_start_matches('-').replace('.', "")),
            12 => format!("{valid}.5.5"),
            _ => format!("{head}\u{a0}{tail}"),
        }
    })
}

/// An exact exponent form of a valid decimal, and its plain value.
fn exact_exponent() -> impl Strategy<Value = (String, String)> {
    ("[1-9][0-9]{0,9}", 0..10usize, -5..15i32, any::<bool>()).prop_map(
        |(digits, point, exp, upper)| {
            let point = point.min(digits.len() - 1);
            let mantissa = if point == 0 {
                digits.clone()
            } else {
                format!(
                    "{}.{}",
                    &digits[..digits.len() - point],
                    &digits[digits.len() - point..]
                )
            };
            let e = if upper { 'E' } else { 'e' };
            // The same value in plain notation, computed by shifting the point.
            let scale = point as i32 - exp;
            let plain = if scale <= 0 {
                format!("{digits}{}", "0".repeat((-scale) as usize))
            } else {
                let scale = scale as usize;
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (int, frac) = padded.split_at(padded.len() - scale);
                format!("{int}.{frac}")
            };
            (format!("{mantissa}{e}{exp}"), plain)
        },
    )
}

proptest! {
    #[test]
    fn valid_decimals_round_trip_exactly_in_both_wire_forms(text in valid_plain()) {
        let [number, string] = wire_forms(&text);
        for json in [&number, &string] {
            let n: DecimalNumber = serde_json::from_str(json).unwrap();
            prop_assert_eq!(&serde_json::to_string(&n).unwrap(), &number);
            let s: DecimalString = serde_json::from_str(json).unwrap();
            prop_assert_eq!(&serde_json::to_string(&s).unwrap(), &string);
            prop_assert_eq!(n.value(), s.value());
        }
        prop_assert_eq!(&text.parse::<DecimalNumber>().unwrap().to_string(), &text);
    }

    #[test]
    fn invalid_forms_are_rejected_naming_the_value(text in invalid_form()) {
        // As a JSON string, through both types and FromStr. (As a JSON number most of these
        // are not JSON at all; the number forms that are JSON but not exact are below.)
        assert_rejected_as_string(&text);
    }

    #[test]
    fn too_many_digits_are_rejected_in_both_wire_forms(
        int in "[1-9][0-9]{0,20}",
        frac in "[0-9]{29,40}",
    ) {
        let text = format!("{int}.{frac}");
        for json in wire_forms(&text) {
            for err in errors(&json) {
                prop_assert!(err.contains(&text[..text.len().min(40)]), "{}: {}", json, err);
            }
        }
    }

    #[test]
    fn exact_exponents_read_as_the_same_plain_value(case in exact_exponent()) {
        let (json, plain) = case;
        let n: DecimalNumber = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(n.to_string(), plain.clone());
        // A JSON string holds plain notation only.
        let quoted = serde_json::to_string(&json).unwrap();
        prop_assert!(serde_json::from_str::<DecimalString>(&quoted).is_err());
    }

    #[test]
    fn exponents_that_lose_digits_are_rejected(digits in "[1-9][0-9]{0,20}", extra in 1..40i32) {
        // The last digit lands past the 28th decimal place.
        let exp = -(28 + extra - (digits.len() as i32 - 1));
        let json = format!("{}.{}e{exp}", &digits[..1], &digits[1..]);
        let json = json.replace(".e", "e");
        for err in errors(&json) {
            prop_assert!(err.contains(&json), "{}: {}", json, err);
        }
    }
}
