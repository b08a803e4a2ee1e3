//! Issue 12, item 5: bad input is a clear error where the mistake is made, never a panic and
//! never a request that is sure to fail.

use std::time::Duration;

use p100_ergonomic::webhooks::{DedupeKey, InMemoryDedupeStore, Sighting, WebhookKind};
use p100_ergonomic::{Client, ConfigError};

#[test]
fn a_dedupe_ttl_too_long_for_the_clock_is_refused_not_a_panic() {
    // Before: `with_limits(_, Duration::MAX)` was accepted and `record_now` then panicked with
    // "overflow when adding duration to instant".
    let refused = InMemoryDedupeStore::with_limits(10, Duration::MAX).map(|_| ());
    let message = refused.as_ref().map_err(ToString::to_string).err();
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("dedupe TTL") && m.contains("at most 604800s")),
        "{message:?}"
    );
    assert!(InMemoryDedupeStore::with_limits(10, Duration::ZERO).is_err());

    // The longest accepted TTL works.
    let store = InMemoryDedupeStore::with_limits(10, InMemoryDedupeStore::MAX_TTL);
    let key = DedupeKey::from_body(WebhookKind::KycFileAdded, br#"{"externalUserId":"u-1"}"#);
    assert_eq!(
        store.map(|store| (store.record_now(&key), store.record_now(&key))),
        Ok((Sighting::First, Sighting::Repeat))
    );
}

#[test]
fn a_zero_timeout_is_refused_when_the_client_is_built() {
    let built = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:9")
        .timeout(Duration::ZERO)
        .build();
    // Before: accepted, and every call then failed as a timeout.
    let error = built.err();
    assert!(
        matches!(
            error.as_ref().and_then(|e| e.config_error()),
            Some(ConfigError::ZeroTimeout)
        ),
        "{error:?}"
    );
    assert!(error.is_some_and(|e| e.to_string().contains("the timeout is zero")));
    // `None` (no timeout) and any positive duration stay valid.
    for timeout in [None, Some(Duration::from_millis(1))] {
        let built = Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9")
            .timeout(timeout)
            .build();
        assert!(built.is_ok(), "{timeout:?}");
    }
}
