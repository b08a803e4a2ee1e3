//! The token check. P100 signs nothing: it puts the partner's secret token in the
//! `Authorization` header of every delivery, and the receiver compares it with its own copy.

use std::fmt;
use std::sync::Arc;

use subtle::{Choice, ConstantTimeEq};

use super::WebhookError;

/// The partner's secret webhook token (arranged with P100), as the receiver keeps it.
///
/// `Debug` never shows it. An empty token matches nothing, so a missing configuration fails
/// closed.
#[derive(Clone)]
pub struct WebhookToken(Arc<[u8]>);

impl WebhookToken {
    /// Keeps `token` for checking deliveries.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Arc::from(token.into().into_bytes()))
    }

    /// Checks the value of a delivery's `Authorization` header (`None` if it has none).
    ///
    /// Accepts the raw token (what P100 sends) and `Bearer <token>`; surrounding whitespace is
    /// ignored. The comparison takes the same time whatever the header holds, short of its
    /// length.
    #[inline]
    pub fn verify<H: AsRef<[u8]>>(
        &self,
        authorization_header: Option<H>,
    ) -> Result<(), WebhookError> {
        check(&self.0, authorization_header.as_ref().map(AsRef::as_ref))
    }
}

impl fmt::Debug for WebhookToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookToken(<redacted>)")
    }
}

impl From<&str> for WebhookToken {
    fn from(token: &str) -> Self {
        Self::new(token)
    }
}

impl From<String> for WebhookToken {
    fn from(token: String) -> Self {
        Self::new(token)
    }
}

/// Checks a delivery's `Authorization` header against the expected token, in constant time.
///
/// `authorization_header` is the header's value (`None` if the request has none): the raw token,
/// as P100 sends it, or `Bearer <token>`. A missing or empty header is
/// [`WebhookError::MissingToken`], anything else that does not match is
/// [`WebhookError::WrongToken`]; both are [`is_unauthorized`](WebhookError::is_unauthorized), which
/// a receiver answers with 401. An empty `expected` token matches nothing.
///
/// ```
/// use p100_ergonomic::webhooks::verify_token;
///
/// assert!(verify_token("s3cret", Some("s3cret")).is_ok());
/// assert!(verify_token("s3cret", Some("Bearer s3cret")).is_ok());
/// assert!(verify_token("s3cret", Some("s3cre")).unwrap_err().is_unauthorized());
/// assert!(verify_token("s3cret", None::<&str>).unwrap_err().is_unauthorized());
/// ```
pub fn verify_token<H: AsRef<[u8]>>(
    expected: &str,
    authorization_header: Option<H>,
) -> Result<(), WebhookError> {
    check(
        expected.as_bytes(),
        authorization_header.as_ref().map(AsRef::as_ref),
    )
}

#[inline]
fn check(expected: &[u8], header: Option<&[u8]>) -> Result<(), WebhookError> {
    let header = match header.map(<[u8]>::trim_ascii) {
        None | Some([]) => return Err(WebhookError::MissingToken),
        Some(header) => header,
    };
    // Both readings are compared, so a token that itself starts with "Bearer " still works. The
    // branches depend only on the header, which the caller already knows, never on the secret.
    let raw = constant_time_eq(header, expected);
    let bearer = match strip_bearer(header) {
        Some(token) => constant_time_eq(token, expected),
        None => Choice::from(0),
    };
    if bool::from(raw | bearer) && !expected.is_empty() {
        Ok(())
    } else {
        Err(WebhookError::WrongToken)
    }
}

/// Whether `a == b`, in a time that depends on their lengths only. The differences are
/// OR-folded without an early exit and `subtle` turns the result into a `Choice` (one optimization
/// barrier per comparison rather than one per byte, as `<[u8]>::ct_eq` does; several times
/// faster on a token).
fn constant_time_eq(a: &[u8], b: &[u8]) -> Choice {
    if a.len() != b.len() {
        return Choice::from(0);
    }
    // Eight bytes at a time: a token is compared in a few word operations instead of one per
    // byte. Every word is visited whatever the differences, so the time depends on the length only.
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    let mut diff = 0u64;
    for (x, y) in a_words.iter().zip(b_words) {
        diff |= u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y);
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff |= u64::from(x ^ y);
    }
    diff.ct_eq(&0)
}

/// The token after a case-insensitive `Bearer` scheme and at least one space or tab.
fn strip_bearer(header: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer";
    let rest = header
        .get(..SCHEME.len())
        .filter(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
        .map(|_| &header[SCHEME.len()..])?;
    match rest.first() {
        Some(b' ' | b'\t') => Some(rest.trim_ascii_start()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_raw_and_bearer_forms() {
        let token = WebhookToken::new("t0k en");
        assert!(token.verify(Some("t0k en")).is_ok());
        assert!(token.verify(Some("  t0k en \t")).is_ok());
        assert!(token.verify(Some("Bearer t0k en")).is_ok());
        assert!(token.verify(Some("bearer\t  t0k en")).is_ok());
        assert!(matches!(
            token.verify(Some("Bearert0k en")),
            Err(WebhookError::WrongToken)
        ));
        assert!(matches!(
            token.verify(Some("Basic t0k en")),
            Err(WebhookError::WrongToken)
        ));
        assert!(matches!(
            token.verify(Some("t0k")),
            Err(WebhookError::WrongToken)
        ));
        assert!(matches!(
            token.verify(Some("   ")),
            Err(WebhookError::MissingToken)
        ));
        assert!(matches!(
            token.verify(None::<&[u8]>),
            Err(WebhookError::MissingToken)
        ));
    }

    #[test]
    fn word_wise_comparison_sees_a_difference_at_every_position() {
        for len in 0..40usize {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(bool::from(constant_time_eq(&a, &a)), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!bool::from(constant_time_eq(&a, &b)), "{len} {at}");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!bool::from(constant_time_eq(&a, &longer)), "{len}");
        }
    }

    #[test]
    fn a_token_that_starts_with_bearer_still_matches() {
        assert!(verify_token("Bearer abc", Some("Bearer abc")).is_ok());
        assert!(verify_token("Bearer abc", Some("Bearer Bearer abc")).is_ok());
    }

    #[test]
    fn an_empty_expected_token_matches_nothing() {
        assert!(matches!(
            verify_token("", Some("x")),
            Err(WebhookError::WrongToken)
        ));
        assert!(matches!(
            verify_token("", Some("Bearer ")),
            Err(WebhookError::WrongToken)
        ));
    }

    #[test]
    fn debug_hides_the_token() {
        assert_eq!(
            format!("{:?}", WebhookToken::new("s3cret")),
            "WebhookToken(<redacted>)"
        );
    }
}
