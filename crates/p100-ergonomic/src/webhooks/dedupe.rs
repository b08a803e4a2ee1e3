//! Recognising a retried delivery. P100 retries a delivery that failed (any answer but 200, or a
//! timeout) and sends no event id, so one event is identified by its business id and status
//! (the spec's `x-p100-dedupe-key` per kind, [`WebhookKind::dedupe_fields`]), or by a digest of
//! the whole body when the kind names no such fields. A [`DedupeStore`] remembers the keys seen
//! recently; [`InMemoryDedupeStore`] is the bounded, expiring default.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{UndocumentedPayload, WebhookEvent, WebhookKind};

/// What identifies one webhook event across P100's retries: the kind plus the values of the
/// kind's [`dedupe_fields`](WebhookKind::dedupe_fields), or the kind plus a SHA-256 of the body's
/// canonical JSON (keys sorted, no whitespace) when there are none.
///
/// Two deliveries with the same key are one event as far as a handler can tell: where a kind's
/// body has no per-event id (`kyc_file_added` is `{externalUserId, status}` whichever file was
/// added), a second event with the same content carries no information the first did not, so
/// handling it once loses nothing. Use
/// [`WebhookReceiver::without_dedupe`](super::WebhookReceiver::without_dedupe) for a kind whose
/// every delivery you want to count.
///
/// The text is stable across processes and versions, so it can go into a shared store (Redis, a
/// database table), e.g. `crypto_deposit:["facc5951-…","SUCCESSFUL"]` or
/// `card_transaction:sha256:9f86d0…`. Field values are JSON-quoted, so no two events share a key
/// by accident of punctuation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupeKey(Arc<str>);

impl DedupeKey {
    /// The key of a delivery: the event's business key ([`WebhookEvent::dedupe_key`]) when it
    /// has one, else the digest of the raw body ([`DedupeKey::from_body`]), which also covers
    /// fields the generated type does not keep. This is what the receiver uses.
    pub fn for_delivery(event: &WebhookEvent, body: &[u8]) -> Self {
        event
            .dedupe_key()
            .unwrap_or_else(|| Self::from_body(event.kind(), body))
    }

    /// A key from the whole body: SHA-256 of its canonical form (top-level keys sorted, no
    /// whitespace outside strings, every value's text kept exactly, so amounts that differ in
    /// their 20th digit are different events), or of the bytes themselves if the body is not a
    /// JSON object.
    pub fn from_body(kind: WebhookKind, body: &[u8]) -> Self {
        match serde_json::from_slice::<UndocumentedPayload>(body) {
            Ok(payload) => map_digest(kind, &payload),
            Err(_) => Self::digest(kind, "sha256-raw", body),
        }
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digest(kind: WebhookKind, scheme: &str, bytes: &[u8]) -> Self {
        let digest = hmac_sha256::Hash::hash(bytes);
        let mut text = format!("{kind}:{scheme}:");
        for byte in digest {
            text.push_str(&format!("{byte:02x}"));
        }
        Self(text.into())
    }

    fn fields(kind: WebhookKind, values: &[Option<String>]) -> Option<Self> {
        // The first field is the business id: without it the event cannot name itself.
        if values.first().is_none_or(Option::is_none) {
            return None;
        }
        let mut text = format!("{kind}:[");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            // JSON quoting keeps the encoding injective whatever the values contain.
            match value {
                Some(value) => text.push_str(&serde_json::Value::from(value.as_str()).to_string()),
                None => text.push_str("null"),
            }
        }
        text.push(']');
        Some(Self(text.into()))
    }
}

impl fmt::Display for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DedupeKey({})", self.0)
    }
}

impl AsRef<str> for DedupeKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The key of one event from the spec's `x-p100-dedupe-key` (the rows of
/// `p100_api::with_webhook_kinds!`), so that a field added to a kind's key in the spec changes
/// the key by regenerating.
macro_rules! define_dedupe_key {
    ($(($variant:ident, $name:literal, $title:literal, $payload:ident, $carrier:ty, $dedupe:tt)),* $(,)?) => {
        impl WebhookEvent {
            /// The event's business key: its kind plus the values of the kind's
            /// [`dedupe_fields`](WebhookKind::dedupe_fields) (e.g. `cryptoDepositId` + `status`);
            /// a field after the first (the business id) that is absent reads as `null`.
            ///
            /// For the kinds whose body is kept whole (`create_wallet`, `sepa_deposit`,
            /// `card_transaction`) it is the digest of the body. `None` when the event cannot name
            /// itself: its business id is absent (all fields of the inferred kinds are optional),
            /// or the kind names no fields and its type keeps only part of the body
            /// (`iban_status`). Then use [`DedupeKey::for_delivery`] with the raw body.
            pub fn dedupe_key(&self) -> Option<DedupeKey> {
                let kind = self.kind();
                match self {
                    $(WebhookEvent::$variant(e) => dedupe_key!(kind, e, $dedupe),)*
                }
            }
        }
    };
}

macro_rules! dedupe_key {
    ($kind:ident, $e:ident, whole) => {
        Some(map_digest($kind, $e))
    };
    ($kind:ident, $e:ident, none) => {{
        let _ = $e;
        None
    }};
    ($kind:ident, $e:ident, [$($field:ident),*]) => {
        DedupeKey::fields($kind, &[$(key_part(&$e.$field)),*])
    };
}

p100_api::with_webhook_kinds!(define_dedupe_key, crate::webhooks::UndocumentedPayload);

/// The text of one key field as it serializes (a string, a status, a UUID); `None` when absent.
fn key_part<T: serde::Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Some(text),
        Ok(serde_json::Value::Null) | Err(_) => None,
        Ok(other) => Some(other.to_string()),
    }
}

fn map_digest(kind: WebhookKind, payload: &UndocumentedPayload) -> DedupeKey {
    // Keys sorted (the map is ordered), each value's own text without insignificant whitespace:
    // exact, so two amounts that differ in the 20th digit are two events.
    let mut out = Vec::new();
    out.push(b'{');
    for (i, (key, value)) in payload.fields().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(serde_json::Value::from(key.as_str()).to_string().as_bytes());
        out.push(b':');
        minify_into(value.get(), &mut out);
    }
    out.push(b'}');
    DedupeKey::digest(kind, "sha256", &out)
}

/// Copies valid JSON text without the whitespace outside its strings.
fn minify_into(json: &str, out: &mut Vec<u8>) {
    let (mut in_string, mut escaped) = (false, false);
    for &byte in json.as_bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if byte.is_ascii_whitespace() {
            continue;
        }
        out.push(byte);
    }
}

/// The error type a [`DedupeStore`] may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whether a [`DedupeStore`] had seen a key before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sighting {
    /// The first delivery of this event (within the store's memory): handle it.
    First,
    /// A repeat (P100 retrying): acknowledge it, do not handle it again.
    Repeat,
}

/// Where the receiver remembers which events it has already handled.
///
/// The default is [`InMemoryDedupeStore`] (one process). Several instances behind a load balancer
/// need a shared store: implement `record` as one atomic "insert if absent, with expiry" (Redis
/// `SET key 1 NX EX 600`, or an `INSERT … ON CONFLICT DO NOTHING` with a cleanup job), and
/// `forget` as a delete (Redis `DEL key`) if the store serves an
/// [acknowledging receiver](super::WebhookReceiver::acknowledging). With the `postgres` feature,
/// `webhooks::postgres::PgDedupeStore` is such a store, with exactly-once handling on top.
///
/// ```
/// use p100_ergonomic::webhooks::{BoxError, DedupeKey, DedupeStore, Sighting};
///
/// struct NeverSeen;
///
/// impl DedupeStore for NeverSeen {
///     async fn record(&self, _key: &DedupeKey) -> Result<Sighting, BoxError> {
///         Ok(Sighting::First)
///     }
///
///     async fn forget(&self, _key: &DedupeKey) -> Result<(), BoxError> {
///         Ok(()) // nothing was kept
///     }
/// }
/// ```
pub trait DedupeStore: Send + Sync + 'static {
    /// Records `key` and says whether it was new. Must be atomic: of two concurrent calls with
    /// the same key, only one may see [`Sighting::First`].
    ///
    /// If it fails, the receiver handles the event anyway (a possible duplicate is better than a
    /// lost event) and logs the error.
    fn record(&self, key: &DedupeKey) -> impl Future<Output = Result<Sighting, BoxError>> + Send;

    /// Removes `key`, so that its next delivery is [`Sighting::First`] again. Forgetting a key
    /// that is not held is not an error.
    ///
    /// An [acknowledging receiver](super::WebhookReceiver::acknowledging) calls it when the
    /// handler failed, before answering 500, so that P100's retry reaches the handler. Only that
    /// receiver calls it, so stores written before it existed still compile: the default
    /// returns an error (the receiver logs it), because a store that keeps the key makes P100's
    /// retry of a failed event look handled, and the event is lost. Implement it for a store
    /// used with an acknowledging receiver.
    fn forget(&self, key: &DedupeKey) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = key;
        std::future::ready(Err(
            "this DedupeStore does not implement `forget`: the key stays recorded".into(),
        ))
    }
}

impl<S: DedupeStore> DedupeStore for Arc<S> {
    fn record(&self, key: &DedupeKey) -> impl Future<Output = Result<Sighting, BoxError>> + Send {
        (**self).record(key)
    }

    fn forget(&self, key: &DedupeKey) -> impl Future<Output = Result<(), BoxError>> + Send {
        (**self).forget(key)
    }
}

/// A time to live [`InMemoryDedupeStore::with_limits`] refuses: zero, or longer than
/// [`InMemoryDedupeStore::MAX_TTL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "dedupe TTL {ttl:?} refused: it must be more than zero and at most {max:?} (P100 retries for about 2 minutes)",
    max = InMemoryDedupeStore::MAX_TTL
)]
pub struct DedupeLimitsError {
    /// The refused time to live.
    pub ttl: Duration,
}

/// An in-process [`DedupeStore`] that forgets a key after a time to live and holds at most a
/// fixed number of keys (the oldest go first when it is full).
///
/// Defaults: [`DEFAULT_TTL`](Self::DEFAULT_TTL) (10 minutes) and
/// [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) keys. The TTL must outlast P100's retries (the
/// last comes about 2 minutes after the first attempt, plus P100's own timeouts), but it should
/// not be much longer: an event whose key comes back later (a KYC attempt status reached again)
/// would be taken for a retry. Time is `tokio::time`, so tests can pause it.
///
/// When it is full it drops the oldest key even though that key's TTL has not run out, and a
/// retry of that event is then handled again: it logs a warning and counts it
/// ([`early_evictions`](Self::early_evictions)). For large volumes, or several instances, use a
/// shared store (`webhooks::postgres::PgDedupeStore`, feature `postgres`).
#[derive(Debug)]
pub struct InMemoryDedupeStore {
    ttl: Duration,
    capacity: usize,
    state: Mutex<State>,
    early_evictions: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// Key → when it expires.
    expiry: HashMap<DedupeKey, Instant>,
    /// Keys in the order they were recorded, which is also the order they expire in (one TTL).
    order: VecDeque<(Instant, DedupeKey)>,
}

impl InMemoryDedupeStore {
    /// The default time to live of a key: 10 minutes.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
    /// The default maximum number of keys: 100 000 (some tens of MB at most).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with the default TTL and capacity.
    pub fn new() -> Self {
        Self::unchecked(Self::DEFAULT_CAPACITY, Self::DEFAULT_TTL)
    }

    /// The longest time to live [`with_limits`](Self::with_limits) accepts: 7 days. P100's last
    /// retry comes about 2 minutes after the first delivery; a longer TTL only makes later,
    /// different events with the same key look like retries (and an unbounded one would
    /// overflow the clock).
    pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

    /// A store holding at most `capacity` keys (at least 1), each for `ttl`.
    ///
    /// A `ttl` of zero (nothing would ever be recognized as a repeat: use the receiver's
    /// `without_dedupe` instead) or above [`MAX_TTL`](Self::MAX_TTL) is refused here.
    ///
    /// ```
    /// use std::time::Duration;
    /// use p100_ergonomic::webhooks::InMemoryDedupeStore;
    ///
    /// let store = InMemoryDedupeStore::with_limits(1_000, Duration::from_secs(300))?;
    /// assert_eq!(store.ttl(), Duration::from_secs(300));
    /// assert!(InMemoryDedupeStore::with_limits(1_000, Duration::MAX).is_err());
    /// # Ok::<(), p100_ergonomic::webhooks::DedupeLimitsError>(())
    /// ```
    pub fn with_limits(capacity: usize, ttl: Duration) -> Result<Self, DedupeLimitsError> {
        if ttl.is_zero() || ttl > Self::MAX_TTL {
            return Err(DedupeLimitsError { ttl });
        }
        Ok(Self::unchecked(capacity, ttl))
    }

    fn unchecked(capacity: usize, ttl: Duration) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            early_evictions: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The time to live of a key.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The maximum number of keys held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many keys were dropped before their TTL ran out because the store was full (their
    /// retries would be handled again).
    pub fn early_evictions(&self) -> u64 {
        self.early_evictions
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many keys are held now (expired ones included until the next call).
    pub fn len(&self) -> usize {
        self.lock().expiry.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `key` now; the synchronous core of [`DedupeStore::record`].
    pub fn record_now(&self, key: &DedupeKey) -> Sighting {
        let now = Instant::now();
        let mut state = self.lock();
        state.forget_expired(now);
        if state.expiry.contains_key(key) {
            return Sighting::Repeat;
        }
        while state.expiry.len() >= self.capacity {
            // Expired keys are gone already: the oldest one left is still within its TTL.
            if !state.forget_oldest() {
                break;
            }
            let dropped = self
                .early_evictions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            if dropped == 1 || dropped.is_multiple_of(10_000) {
                tracing::warn!(
                    capacity = self.capacity,
                    early_evictions = dropped,
                    "the in-memory dedupe store is full and drops keys before their TTL: a \
                     retry of those events will be handled again (raise the capacity, or use a \
                     shared store such as PgDedupeStore)"
                );
            }
        }
        let expires = now + self.ttl;
        state.expiry.insert(key.clone(), expires);
        state.order.push_back((expires, key.clone()));
        Sighting::First
    }

    /// Forgets `key` now, so that its next delivery is [`Sighting::First`]; the synchronous core
    /// of [`DedupeStore::forget`]. Returns whether the key was held.
    pub fn forget_now(&self, key: &DedupeKey) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        state.forget_expired(now);
        let Some(expires) = state.expiry.remove(key) else {
            return false;
        };
        // `order` is sorted by expiry and holds each key once: find its entry by bisection (a
        // key forgotten after a failed handler was recorded moments ago, near the back, which
        // is the cheap end to remove from).
        let start = state.order.partition_point(|(at, _)| *at < expires);
        let position = (start..state.order.len())
            .take_while(|&i| state.order[i].0 == expires)
            .find(|&i| state.order[i].1 == *key);
        if let Some(i) = position {
            state.order.remove(i);
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters (at worst a key is forgotten early), so keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn forget_expired(&mut self, now: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(expires, _)| *expires <= now)
        {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) -> bool {
        let Some((expires, key)) = self.order.pop_front() else {
            return false;
        };
        // The key may have been recorded again since; only its latest entry counts.
        if self.expiry.get(&key) == Some(&expires) {
            self.expiry.remove(&key);
        }
        true
    }
}

impl Default for InMemoryDedupeStore {
    fn default() -> Self {
        Self::new()
    }
}

impl DedupeStore for InMemoryDedupeStore {
    async fn record(&self, key: &DedupeKey) -> Result<Sighting, BoxError> {
        Ok(self.record_now(key))
    }

    async fn forget(&self, key: &DedupeKey) -> Result<(), BoxError> {
        self.forget_now(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> DedupeKey {
        DedupeKey(text.into())
    }

    #[tokio::test(start_paused = true)]
    async fn forgets_a_key_after_its_ttl() {
        let store = InMemoryDedupeStore::unchecked(10, Duration::from_secs(60));
        assert_eq!(store.record_now(&key("a")), Sighting::First);
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(store.record_now(&key("a")), Sighting::Repeat);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(store.record_now(&key("a")), Sighting::First);
        assert_eq!(store.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeat_does_not_extend_the_ttl() {
        let store = InMemoryDedupeStore::unchecked(10, Duration::from_secs(60));
        store.record_now(&key("a"));
        tokio::time::advance(Duration::from_secs(50)).await;
        assert_eq!(store.record_now(&key("a")), Sighting::Repeat);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(store.record_now(&key("a")), Sighting::First);
    }

    #[tokio::test(start_paused = true)]
    async fn holds_at_most_capacity_keys_dropping_the_oldest() {
        let store = InMemoryDedupeStore::unchecked(3, Duration::from_secs(60));
        for name in ["a", "b", "c", "d"] {
            assert_eq!(store.record_now(&key(name)), Sighting::First);
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.record_now(&key("b")), Sighting::Repeat);
        assert_eq!(store.record_now(&key("d")), Sighting::Repeat);
        // "a" was dropped to make room: it counts as new again (and drops "b").
        assert_eq!(store.record_now(&key("a")), Sighting::First);
        assert_eq!(store.len(), 3);
        // Both were dropped within their TTL: counted (and logged).
        assert_eq!(store.early_evictions(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_that_expired_are_not_early_evictions() {
        let store = InMemoryDedupeStore::unchecked(2, Duration::from_secs(5));
        store.record_now(&key("a"));
        store.record_now(&key("b"));
        tokio::time::advance(Duration::from_secs(5)).await;
        store.record_now(&key("c"));
        store.record_now(&key("d"));
        assert_eq!(store.early_evictions(), 0);
        store.record_now(&key("e"));
        assert_eq!(store.early_evictions(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_keys_are_dropped_from_both_indexes() {
        let store = InMemoryDedupeStore::unchecked(100, Duration::from_secs(10));
        for i in 0..50 {
            store.record_now(&key(&i.to_string()));
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        store.record_now(&key("fresh"));
        let state = store.lock();
        assert_eq!(state.expiry.len(), 1);
        assert_eq!(state.order.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_forgotten_key_is_first_again_and_leaves_both_indexes() {
        let store = InMemoryDedupeStore::unchecked(10, Duration::from_secs(60));
        // Several keys with the same expiry, so the bisection has to pick the right one.
        for name in ["a", "b", "c"] {
            assert_eq!(store.record_now(&key(name)), Sighting::First);
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        store.record_now(&key("d"));

        assert!(store.forget_now(&key("b")));
        assert!(!store.forget_now(&key("b")), "already forgotten");
        assert!(!store.forget_now(&key("never")));
        {
            let state = store.lock();
            assert_eq!(state.expiry.len(), 3);
            let order: Vec<&str> = state.order.iter().map(|(_, k)| k.as_str()).collect();
            assert_eq!(order, ["a", "c", "d"]);
        }
        assert_eq!(store.record_now(&key("a")), Sighting::Repeat);
        assert_eq!(store.record_now(&key("c")), Sighting::Repeat);
        assert_eq!(store.record_now(&key("b")), Sighting::First);
        assert_eq!(store.record_now(&key("b")), Sighting::Repeat);

        // Recorded again, the key has a fresh TTL; the others keep theirs.
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(store.record_now(&key("a")), Sighting::First);
        assert_eq!(store.record_now(&key("b")), Sighting::Repeat);
        let state = store.lock();
        assert_eq!(state.expiry.len(), state.order.len());
    }

    #[tokio::test(start_paused = true)]
    async fn forgetting_through_the_trait_and_an_arc() {
        let store = Arc::new(InMemoryDedupeStore::new());
        assert_eq!(store.record(&key("a")).await.unwrap(), Sighting::First);
        DedupeStore::forget(&store, &key("a")).await.unwrap();
        assert!(store.is_empty());
        assert_eq!(store.record(&key("a")).await.unwrap(), Sighting::First);
    }

    #[tokio::test]
    async fn a_store_without_forget_says_so() {
        struct RecordOnly;
        impl DedupeStore for RecordOnly {
            async fn record(&self, _key: &DedupeKey) -> Result<Sighting, BoxError> {
                Ok(Sighting::First)
            }
        }
        let error = RecordOnly.forget(&key("a")).await.unwrap_err();
        assert!(error.to_string().contains("does not implement `forget`"));
    }

    #[test]
    fn body_digests_are_sha256_of_the_canonical_text() {
        // Expected digests from Python's hashlib: FIPS 180-2's "abc" for a body that is not a
        // JSON object (hashed as it is), and the canonical text `{"amount":1.50,"status":"a b"}`
        // for an object given with other key order and spacing.
        let kind = WebhookKind::IbanStatus;
        assert_eq!(
            DedupeKey::from_body(kind, b"abc").as_str(),
            "iban_status:sha256-raw:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            DedupeKey::from_body(kind, br#"{ "status": "a b", "amount": 1.50 }"#).as_str(),
            "iban_status:sha256:d0066b3d3478fa0aea1efdb383407290ce463f917f5a24d2f11c736f48f6caec"
        );
    }

    #[test]
    fn body_keys_ignore_key_order_and_whitespace_but_keep_every_digit() {
        let kind = WebhookKind::IbanStatus;
        let a = DedupeKey::from_body(
            kind,
            br#"{"status":"PENDING","amount":0.10000000000000000001,"x":{"k": "a b"}}"#,
        );
        let b = DedupeKey::from_body(
            kind,
            br#"{ "x" : {"k":"a b"} , "amount" : 0.10000000000000000001, "status":"PENDING" }"#,
        );
        let c = DedupeKey::from_body(
            kind,
            br#"{"status":"PENDING","amount":0.10000000000000000002,"x":{"k":"a b"}}"#,
        );
        let d = DedupeKey::from_body(
            kind,
            br#"{"status":"PENDING","amount":0.10000000000000000001,"x":{"k":"ab"}}"#,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d, "whitespace inside strings is content");
        assert!(a.as_str().starts_with("iban_status:sha256:"));
        assert!(DedupeKey::from_body(kind, b"[1]")
            .as_str()
            .starts_with("iban_status:sha256-raw:"));
    }
}
