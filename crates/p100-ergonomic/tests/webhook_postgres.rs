//! The PostgreSQL webhook store and exactly-once handling against a real server
//! (`DATABASE_URL`; `.ci/postgres.sh` starts one): atomic `record` across stores, expiry,
//! the migration, 4 receivers taking 10 000 deliveries with 30 % duplicates (many of them
//! concurrent) with exactly one effect per event, a failing handler leaving neither effect nor
//! key, a concurrent retry waiting for the first delivery, and a hand-written axum handler.
//! Without `DATABASE_URL` each test says "skipped" and passes, unless
//! `P100_REQUIRE_DATABASE=1`.
#![cfg(all(feature = "postgres", feature = "axum"))]

mod pg_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use p100_ergonomic::webhooks::postgres::{
    Begin, EventTransaction, Handled, PgDedupeStore, PgStoreError, TransactionalHandler,
};
use p100_ergonomic::webhooks::{
    self, BoxError, DedupeKey, Sighting, WebhookEvent, WebhookKind, WebhookReceiver,
};
use pg_support::*;
use tokio::sync::Notify;
use uuid::Uuid;

fn key(text: &str) -> DedupeKey {
    // Keys as the receiver makes them, from a real event.
    let digest = hmac_sha256::Hash::hash(text.as_bytes());
    let id = Uuid::from_slice(&digest[..16]).unwrap();
    let body = deposit_body(id);
    let event = webhooks::parse(WebhookKind::CryptoDeposit, &body).unwrap();
    DedupeKey::for_delivery(&event, &body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_is_atomic_across_instances_forget_and_expiry() {
    let Some(url) = database_url("record_is_atomic_across_instances_forget_and_expiry") else {
        return;
    };
    let (first, tables) = fresh_store(&url, "atomic").await;
    let stores: Vec<PgDedupeStore> = std::iter::once(first.clone())
        .chain((0..3).map(|_| store_on(&url, &tables.keys)))
        .collect();

    // 4 instances record the same 200 keys at the same time: one First per key.
    let keys: Vec<DedupeKey> = (0..200).map(|i| key(&format!("atomic-{i}"))).collect();
    let attempts = keys
        .iter()
        .flat_map(|k| stores.iter().map(move |s| (s.clone(), k.clone())));
    let sightings: Vec<(DedupeKey, Sighting)> = futures::stream::iter(attempts)
        .map(|(store, key)| async move {
            let sighting = store.record(&key).await.expect("record");
            (key, sighting)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut firsts: HashMap<DedupeKey, usize> = HashMap::new();
    for (key, sighting) in &sightings {
        *firsts.entry(key.clone()).or_default() += usize::from(*sighting == Sighting::First);
    }
    assert_eq!(sightings.len(), 800);
    assert!(firsts.values().all(|&n| n == 1), "{firsts:?}");
    assert_eq!(firsts.len(), 200);

    // forget: the next delivery is first again, once.
    let k = &keys[0];
    assert!(stores[1].forget(k).await.unwrap());
    assert!(!stores[2].forget(k).await.unwrap(), "already forgotten");
    assert!(!stores[3].is_recorded(k).await.unwrap());
    assert_eq!(stores[3].record(k).await.unwrap(), Sighting::First);
    assert_eq!(stores[0].record(k).await.unwrap(), Sighting::Repeat);

    // Expiry: a key recorded with no time to live counts as absent to every store; a purge
    // deletes it and nothing else.
    let client = connect(&url).await;
    let short = PgDedupeStore::builder()
        .url(&url)
        .table(&tables.keys)
        .ttl(Duration::ZERO)
        .build()
        .unwrap();
    let gone = key("expired");
    assert_eq!(short.record(&gone).await.unwrap(), Sighting::First);
    assert!(!stores[0].is_recorded(&gone).await.unwrap());
    assert_eq!(short.record(&gone).await.unwrap(), Sighting::First);
    assert_eq!(
        stores[0].record(&gone).await.unwrap(),
        Sighting::First,
        "taken over"
    );
    assert_eq!(
        short.record(&gone).await.unwrap(),
        Sighting::Repeat,
        "now with the long TTL"
    );
    assert_eq!(
        short.record(&key("expired-2")).await.unwrap(),
        Sighting::First
    );
    assert_eq!(tables.key_rows(&client).await, 202);
    assert_eq!(stores[0].purge_expired().await.unwrap(), 1);
    assert_eq!(tables.key_rows(&client).await, 201);
    assert!(stores[0].is_recorded(&gone).await.unwrap());

    tables.drop_all(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_is_idempotent_from_several_instances_at_once() {
    let Some(url) = database_url("migrate_is_idempotent_from_several_instances_at_once") else {
        return;
    };
    let client = connect(&url).await;
    let schema = unique_table("schema");
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let table = format!("{schema}.keys");
    let stores: Vec<PgDedupeStore> = (0..4).map(|_| store_on(&url, &table)).collect();
    let results = futures::future::join_all(stores.iter().map(|s| s.migrate())).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    stores[0].migrate().await.expect("again");
    assert_eq!(stores[0].record(&key("m")).await.unwrap(), Sighting::First);
    stores[1].migrate().await.expect("with rows");
    assert_eq!(stores[2].record(&key("m")).await.unwrap(), Sighting::Repeat);
    let indexes: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = 'keys'",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(indexes, 2, "primary key and expiry index");
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// 10 000 deliveries to 4 receivers (each its own pool) sharing one table: 7 000 events, and
/// 3 000 duplicates, 2 000 of them sent at the same moment as the event's first delivery (to
/// other receivers) and 1 000 later, as P100's retries. A delivery not answered 200 is sent
/// again, as P100 would. Exactly one effect row per event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_receivers_ten_thousand_deliveries_exactly_one_effect_per_event() {
    let Some(url) =
        database_url("four_receivers_ten_thousand_deliveries_exactly_one_effect_per_event")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "load").await;
    let mut bases = Vec::new();
    for receiver in 0..4 {
        let store = if receiver == 0 {
            store.clone()
        } else {
            store_on(&url, &tables.keys)
        };
        let handler = Ledger {
            effects: tables.effects.clone(),
            receiver,
        };
        let router = WebhookReceiver::transactional(TOKEN, store, handler).into_router();
        bases.push(serve(router).await);
    }

    // Events 0..1000 are delivered 2 at once, 1000..1500 3 at once, 1500..2500 once more later.
    let events: Vec<Uuid> = (0..7_000).map(|_| Uuid::new_v4()).collect();
    let mut first_wave: Vec<Vec<Uuid>> = events
        .iter()
        .enumerate()
        .map(|(i, &id)| match i {
            0..1000 => vec![id; 2],
            1000..1500 => vec![id; 3],
            _ => vec![id],
        })
        .collect();
    let mut retries: Vec<Vec<Uuid>> = events[1500..2500].iter().map(|&id| vec![id]).collect();
    shuffle(&mut first_wave, 7);
    shuffle(&mut retries, 11);
    let groups: Vec<Vec<Uuid>> = first_wave.into_iter().chain(retries).collect();
    let deliveries: usize = groups.iter().map(Vec::len).sum();
    assert_eq!(deliveries, 10_000);

    let http = http_client();
    let non_200 = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures::stream::iter(groups.into_iter().enumerate())
        .map(|(g, group)| {
            let (http, bases, non_200) = (http.clone(), bases.clone(), Arc::clone(&non_200));
            async move {
                // The copies of one event go to different receivers at the same moment.
                let sends = group.into_iter().enumerate().map(|(copy, id)| {
                    let (http, base) = (http.clone(), bases[(g + copy) % bases.len()].clone());
                    let non_200 = Arc::clone(&non_200);
                    async move {
                        let body = deposit_body(id);
                        let start = Instant::now();
                        for _attempt in 0..20 {
                            if deliver(&http, &base, &body).await == 200 {
                                return start.elapsed();
                            }
                            non_200.fetch_add(1, Ordering::Relaxed);
                        }
                        panic!("event {id}: no 200 in 20 deliveries");
                    }
                });
                futures::future::join_all(sends).await
            }
        })
        .buffer_unordered(48)
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    let elapsed = started.elapsed();

    let client = connect(&url).await;
    let effects = tables.effect_rows(&client).await;
    let distinct = tables.distinct_effects(&client).await;
    let keys = tables.key_rows(&client).await;
    latencies.sort();
    eprintln!(
        "10 000 deliveries to 4 receivers in {elapsed:.1?}: {} answers other than 200 (re-sent), \
         {effects} effect rows, {distinct} distinct events, {keys} keys; \
         delivery latency p50 {:?}, p99 {:?}",
        non_200.load(Ordering::Relaxed),
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
    );
    assert_eq!(latencies.len(), 10_000, "every delivery answered 200");
    assert_eq!(effects, 7_000, "one effect row per event, no more");
    assert_eq!(distinct, 7_000);
    assert_eq!(keys, 7_000);
    let receivers_used: i64 = client
        .query_one(
            &format!("SELECT count(DISTINCT receiver) FROM {}", tables.effects),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(receivers_used, 4);
    tables.drop_all(&client).await;
}

/// Deterministic Fisher–Yates with a tiny xorshift, so a failure replays identically.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// What the scripted handler does on its n-th call (the last step repeats).
#[derive(Clone, Copy, Debug)]
enum Step {
    Succeed,
    /// Writes the effect, then returns an error.
    WriteThenFail,
    /// Writes the effect, then panics.
    WriteThenPanic,
    /// Writes the effect, then waits for `release` (the receiver's time limit ends it first).
    WriteThenHang,
    /// Writes the effect, then a statement fails; the handler ignores that and returns `Ok`.
    WriteThenIgnoreAnError,
    /// Writes the effect and commits it itself, then returns `Ok`.
    WriteThenCommitItself,
    /// Writes the effect, then waits for `release`, then succeeds.
    WriteThenWait,
}

#[derive(Clone)]
struct Script {
    steps: Arc<Vec<Step>>,
    calls: Arc<AtomicUsize>,
    effects: String,
    release: Arc<Notify>,
    entered: Arc<Notify>,
}

impl Script {
    fn new(effects: &str, steps: impl Into<Vec<Step>>) -> Self {
        Self {
            steps: Arc::new(steps.into()),
            calls: Arc::default(),
            effects: effects.to_owned(),
            release: Arc::default(),
            entered: Arc::default(),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl TransactionalHandler for Script {
    async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let step = self.steps[n.min(self.steps.len() - 1)];
        write_effect(tx, &self.effects, &event, n as i32).await?;
        self.entered.notify_one();
        match step {
            Step::Succeed => Ok(()),
            Step::WriteThenFail => Err("the ledger service is down".into()),
            Step::WriteThenPanic => panic!("handler bug"),
            Step::WriteThenHang => {
                std::future::pending::<()>().await;
                Ok(())
            }
            Step::WriteThenIgnoreAnError => {
                let _ = tx.execute("SELECT 1/0", &[]).await;
                Ok(())
            }
            Step::WriteThenCommitItself => {
                tx.batch_execute("COMMIT").await?;
                Ok(())
            }
            Step::WriteThenWait => {
                self.release.notified().await;
                Ok(())
            }
        }
    }
}

async fn post_deposit(app: &Router, id: Uuid) -> (StatusCode, String) {
    use tower::ServiceExt;
    let request =
        webhooks::testing::TestDelivery::new(WebhookKind::CryptoDeposit, deposit_body(id))
            .token(TOKEN)
            .into_request::<axum::body::Body>();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

const ABORTED: &str =
    "P100 webhook not recorded: its transaction had failed or was ended before the commit";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_fails_after_writing_leaves_no_effect_and_no_key_and_the_retry_applies_it_once(
) {
    let Some(url) = database_url("a_handler_that_fails_after_writing_leaves_no_effect_and_no_key_and_the_retry_applies_it_once") else {
        return;
    };
    let client = connect(&url).await;
    for (failure, reason) in [
        (Step::WriteThenFail, "P100 webhook handler failed"),
        (Step::WriteThenPanic, "P100 webhook handler panicked"),
        (
            Step::WriteThenHang,
            "P100 webhook not handled within the time limit",
        ),
        (Step::WriteThenIgnoreAnError, ABORTED),
        (Step::WriteThenCommitItself, ABORTED),
    ] {
        let (store, tables) = fresh_store(&url, "fail").await;
        let script = Script::new(&tables.effects, [failure, Step::Succeed]);
        let app = WebhookReceiver::transactional(TOKEN, store, script.clone())
            .handler_time_limit(Duration::from_millis(500))
            .into_router();
        let id = Uuid::new_v4();
        let key = deposit_key(id);

        let (status, body) = post_deposit(&app, id).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{failure:?}");
        assert_eq!(body, reason, "{failure:?}");
        assert_eq!(script.calls(), 1);
        if matches!(failure, Step::WriteThenCommitItself) {
            // The handler's own COMMIT made its write and the key durable, against the
            // contract; the store refuses to call that handled, and the retry sees the key.
            assert_eq!(tables.effects_of(&client, &key).await, 1);
            assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
            assert_eq!(script.calls(), 1, "the key was committed: a repeat");
            tables.drop_all(&client).await;
            continue;
        }
        // The rollback of a dropped transaction happens when the server sees the connection
        // close: wait for it rather than for a time.
        eventually("the failed transaction rolled back", 400, || async {
            tables.effect_rows(&client).await == 0 && tables.key_rows(&client).await == 0
        })
        .await;
        assert!(!tables.has_key(&client, &key).await, "{failure:?}: no key");

        // P100's retry: handled, once.
        assert_eq!(
            post_deposit(&app, id).await,
            (StatusCode::OK, String::new())
        );
        assert_eq!(script.calls(), 2);
        assert_eq!(tables.effects_of(&client, &key).await, 1, "{failure:?}");
        assert!(tables.has_key(&client, &key).await);
        // And its next retry is a repeat: not handled again.
        assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
        assert_eq!(script.calls(), 2);
        assert_eq!(tables.effects_of(&client, &key).await, 1);
        tables.drop_all(&client).await;
    }
}

/// P100 retries while the first delivery is still being handled, and the retry reaches another
/// instance: it waits for the first (on the key's row), and is a repeat once the first commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_retry_on_another_instance_waits_for_the_first_delivery() {
    let Some(url) =
        database_url("a_concurrent_retry_on_another_instance_waits_for_the_first_delivery")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "wait").await;
    let client = connect(&url).await;
    let script = Script::new(&tables.effects, [Step::WriteThenWait]);
    let a = WebhookReceiver::transactional(TOKEN, store, script.clone()).into_router();
    let b = WebhookReceiver::transactional(TOKEN, store_on(&url, &tables.keys), script.clone())
        .into_router();
    let id = Uuid::new_v4();

    let first = tokio::spawn({
        let a = a.clone();
        async move { post_deposit(&a, id).await }
    });
    script.entered.notified().await; // A's handler has written, uncommitted
    let waiters_before = lock_waiters(&client).await;
    let retry = tokio::spawn(async move { post_deposit(&b, id).await });
    eventually("the retry waits on the key's row", 400, || async {
        lock_waiters(&client).await > waiters_before
    })
    .await;
    assert!(
        !retry.is_finished(),
        "answered while the first was in flight"
    );
    assert_eq!(script.calls(), 1);

    script.release.notify_one();
    assert_eq!(first.await.unwrap().0, StatusCode::OK);
    assert_eq!(retry.await.unwrap().0, StatusCode::OK);
    assert_eq!(script.calls(), 1, "the retry was a repeat");
    assert_eq!(tables.effects_of(&client, &deposit_key(id)).await, 1);
    tables.drop_all(&client).await;
}

/// The same with the first delivery failing: the waiting retry is then the one that handles it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_retry_handles_the_event_when_the_first_delivery_fails() {
    let Some(url) = database_url("a_waiting_retry_handles_the_event_when_the_first_delivery_fails")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "waitfail").await;
    let client = connect(&url).await;
    let gate = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());

    /// Fails its first call after `gate`, succeeds afterwards.
    struct FirstFails {
        effects: String,
        calls: AtomicUsize,
        gate: Arc<Notify>,
        entered: Arc<Notify>,
    }
    impl TransactionalHandler for FirstFails {
        async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
            write_effect(tx, &self.effects, &event, 0).await?;
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                self.entered.notify_one();
                self.gate.notified().await;
                return Err("first attempt fails".into());
            }
            Ok(())
        }
    }
    let handler = Arc::new(FirstFails {
        effects: tables.effects.clone(),
        calls: AtomicUsize::new(0),
        gate: Arc::clone(&gate),
        entered: Arc::clone(&entered),
    });
    let a = WebhookReceiver::transactional(TOKEN, store, Arc::clone(&handler)).into_router();
    let b =
        WebhookReceiver::transactional(TOKEN, store_on(&url, &tables.keys), Arc::clone(&handler))
            .into_router();
    let id = Uuid::new_v4();
    let first = tokio::spawn(async move { post_deposit(&a, id).await });
    entered.notified().await;
    let waiters_before = lock_waiters(&client).await;
    let retry = tokio::spawn(async move { post_deposit(&b, id).await });
    eventually("the retry waits on the key's row", 400, || async {
        lock_waiters(&client).await > waiters_before
    })
    .await;
    gate.notify_one();
    assert_eq!(first.await.unwrap().0, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(retry.await.unwrap().0, StatusCode::OK);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 2);
    assert_eq!(tables.effects_of(&client, &deposit_key(id)).await, 1);
    assert!(tables.has_key(&client, &deposit_key(id)).await);
    tables.drop_all(&client).await;
}

/// A hand-written axum handler: token, parse, key, then `begin` / writes / `commit`.
#[derive(Clone)]
struct AppState {
    store: PgDedupeStore,
    effects: String,
    fail_next: Arc<AtomicUsize>,
}

async fn hand_written(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    if webhooks::verify_token(TOKEN, authorization).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = webhooks::parse(WebhookKind::CryptoDeposit, &body) else {
        return StatusCode::BAD_REQUEST;
    };
    let key = DedupeKey::for_delivery(&event, &body);
    let outcome: Result<(), BoxError> = async {
        match app.store.begin(&key).await? {
            Begin::Repeat => Ok(()),
            Begin::First(tx) => {
                write_effect(&tx, &app.effects, &event, 9).await?;
                if app.fail_next.load(Ordering::SeqCst) > 0 {
                    app.fail_next.fetch_sub(1, Ordering::SeqCst);
                    return Err("failing on purpose after the write".into()); // tx dropped
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }
    .await;
    match outcome {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_written_axum_handler_gets_exactly_once_from_begin_and_commit() {
    let Some(url) =
        database_url("a_hand_written_axum_handler_gets_exactly_once_from_begin_and_commit")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "hand").await;
    let client = connect(&url).await;
    let fail_next = Arc::new(AtomicUsize::new(1));
    let app = Router::new()
        .route(&deposit_path(), post(hand_written))
        .with_state(AppState {
            store: store.clone(),
            effects: tables.effects.clone(),
            fail_next: Arc::clone(&fail_next),
        });
    let base = serve(app).await;
    let http = http_client();

    let failing = Uuid::new_v4();
    assert_eq!(deliver(&http, &base, &deposit_body(failing)).await, 500);
    eventually("the failed transaction rolled back", 400, || async {
        tables.effect_rows(&client).await == 0
    })
    .await;
    assert!(!tables.has_key(&client, &deposit_key(failing)).await);

    // 50 events, each delivered 3 times at once, plus the failed one again.
    let ids: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).chain([failing]).collect();
    let statuses = futures::future::join_all(ids.iter().flat_map(|&id| [id; 3]).map(|id| {
        let (http, base) = (http.clone(), base.clone());
        async move { deliver(&http, &base, &deposit_body(id)).await }
    }))
    .await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(tables.effect_rows(&client).await, 51);
    assert_eq!(tables.distinct_effects(&client).await, 51);

    // handle_once, the same from code that is not a receiver.
    let id = Uuid::new_v4();
    let body = deposit_body(id);
    let event = webhooks::parse(WebhookKind::CryptoDeposit, &body).unwrap();
    let key = DedupeKey::for_delivery(&event, &body);
    let ledger = Ledger {
        effects: tables.effects.clone(),
        receiver: 7,
    };
    let once = store.handle_once(Some(&key), event.clone(), &ledger).await;
    assert_eq!(once.unwrap(), Handled::Now);
    let again = store.handle_once(Some(&key), event, &ledger).await;
    assert_eq!(again.unwrap(), Handled::Earlier);
    assert_eq!(tables.effects_of(&client, key.as_str()).await, 1);
    tables.drop_all(&client).await;
}

/// Kinds marked `without_dedupe` are handled at every delivery, still in a transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_without_dedupe_is_handled_every_time_in_a_transaction() {
    let Some(url) = database_url("a_kind_without_dedupe_is_handled_every_time_in_a_transaction")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "nodedupe").await;
    let client = connect(&url).await;
    let script = Script::new(
        &tables.effects,
        [Step::Succeed, Step::WriteThenFail, Step::Succeed],
    );
    let app = WebhookReceiver::transactional(TOKEN, store, script.clone())
        .without_dedupe(WebhookKind::CryptoDeposit)
        .into_router();
    let id = Uuid::new_v4();
    assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
    assert_eq!(
        post_deposit(&app, id).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
    assert_eq!(script.calls(), 3);
    eventually("the failed transaction rolled back", 400, || async {
        tables.effect_rows(&client).await == 2
    })
    .await;
    assert_eq!(tables.key_rows(&client).await, 0, "no key recorded");
    tables.drop_all(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_transaction_rolls_back_explicitly_and_refuses_a_failed_transaction() {
    let Some(url) =
        database_url("an_event_transaction_rolls_back_explicitly_and_refuses_a_failed_transaction")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "txn").await;
    let client = connect(&url).await;
    let k = key("explicit");
    let Begin::First(tx) = store.begin(&k).await.unwrap() else {
        panic!("new key")
    };
    assert_eq!(tx.key(), Some(&k));
    tx.rollback().await.unwrap();
    assert!(!tables.has_key(&client, k.as_str()).await);

    let Begin::First(tx) = store.begin(&k).await.unwrap() else {
        panic!("rolled back, so new again")
    };
    assert!(tx.execute("SELECT 1/0", &[]).await.is_err());
    assert!(matches!(
        tx.commit().await,
        Err(PgStoreError::TransactionAborted)
    ));
    assert!(!tables.has_key(&client, k.as_str()).await);
    assert!(matches!(store.begin(&k).await.unwrap(), Begin::First(_)));
    tables.drop_all(&client).await;
}

/// The store as a plain `DedupeStore` for the acknowledging receiver: what one instance
/// handled is a repeat on another, and a failure's key is forgotten for every instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_acknowledging_receiver_shares_its_keys_across_instances() {
    let Some(url) = database_url("the_acknowledging_receiver_shares_its_keys_across_instances")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "ack").await;
    let calls = Arc::new(AtomicUsize::new(0));
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let receiver = |store: PgDedupeStore| {
        let (calls, fail) = (Arc::clone(&calls), Arc::clone(&fail));
        WebhookReceiver::acknowledging(TOKEN, move |_event: WebhookEvent| {
            let (calls, fail) = (Arc::clone(&calls), Arc::clone(&fail));
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                if fail.swap(false, Ordering::SeqCst) {
                    return Err::<(), BoxError>("failing once".into());
                }
                Ok(())
            }
        })
        .dedupe_store(store)
        .into_router()
    };
    let a = receiver(store);
    let b = receiver(store_on(&url, &tables.keys));
    let client = connect(&url).await;

    let handled = Uuid::new_v4();
    assert_eq!(post_deposit(&a, handled).await.0, StatusCode::OK);
    assert_eq!(post_deposit(&b, handled).await.0, StatusCode::OK);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a repeat on the other instance"
    );

    let failing = Uuid::new_v4();
    fail.store(true, Ordering::SeqCst);
    assert_eq!(
        post_deposit(&a, failing).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert!(
        !tables.has_key(&client, &deposit_key(failing)).await,
        "forgotten"
    );
    assert_eq!(post_deposit(&b, failing).await.0, StatusCode::OK);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "the retry reached a handler"
    );
    assert!(tables.has_key(&client, &deposit_key(failing)).await);
    tables.drop_all(&client).await;
}
