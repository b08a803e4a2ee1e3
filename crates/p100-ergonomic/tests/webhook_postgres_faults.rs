//! A transactional receiver when the database is in trouble: a full pool, a slow database (a
//! table lock held elsewhere), an unreachable server. Each delivery is answered 500 (so P100
//! retries), records nothing, and the log says why; once the trouble ends the retry is handled
//! once. Logs are captured by a global subscriber, so these tests have their own binary.
#![cfg(all(feature = "postgres", feature = "axum"))]

mod pg_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use p100_ergonomic::webhooks::postgres::{
    EventTransaction, PgDedupeStore, PgStoreError, TransactionalHandler,
};
use p100_ergonomic::webhooks::testing::TestDelivery;
use p100_ergonomic::webhooks::{
    self, BoxError, DedupeKey, WebhookEvent, WebhookKind, WebhookReceiver,
};
use pg_support::*;
use tower::ServiceExt;
use uuid::Uuid;

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(Logs::install)
}

/// The log lines that mention `id`.
fn lines_about(id: Uuid) -> Vec<String> {
    let id = id.to_string();
    logs()
        .text()
        .lines()
        .filter(|line| line.contains(&id))
        .map(str::to_owned)
        .collect()
}

async fn post_deposit(app: &Router, id: Uuid) -> (StatusCode, String) {
    let request = TestDelivery::new(WebhookKind::CryptoDeposit, deposit_body(id))
        .token(TOKEN)
        .into_request::<axum::body::Body>();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Writes the effect row; counts its calls.
#[derive(Clone)]
struct Counting {
    effects: String,
    calls: Arc<AtomicUsize>,
}

impl TransactionalHandler for Counting {
    async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        write_effect(tx, &self.effects, &event, 0).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_500_records_nothing_and_says_so() {
    logs();
    let Some(url) = database_url("a_full_pool_answers_500_records_nothing_and_says_so") else {
        return;
    };
    let (_, tables) = fresh_store(&url, "fullpool").await;
    let client = connect(&url).await;
    let store = PgDedupeStore::builder()
        .url(&url)
        .table(&tables.keys)
        .max_connections(1)
        .wait_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let handler = Counting {
        effects: tables.effects.clone(),
        calls: Arc::default(),
    };
    let app = WebhookReceiver::transactional(TOKEN, store.clone(), handler.clone()).into_router();
    let id = Uuid::new_v4();

    let busy = store.pool().get().await.expect("the only connection");
    let (status, body) = post_deposit(&app, id).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        "P100 webhook not recorded: no free database connection"
    );
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);
    assert!(!tables.has_key(&client, &deposit_key(id)).await);
    let lines = lines_about(id);
    assert!(
        lines.iter().any(|l| l.contains("ERROR")
            && l.contains("no free database connection")
            && l.contains("the pool is full")
            && l.contains("answering 500")),
        "{lines:#?}"
    );

    drop(busy);
    assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
    assert_eq!(tables.effects_of(&client, &deposit_key(id)).await, 1);
    tables.drop_all(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_database_answers_500_within_the_time_limit_and_records_nothing() {
    logs();
    let Some(url) =
        database_url("a_slow_database_answers_500_within_the_time_limit_and_records_nothing")
    else {
        return;
    };
    let (store, tables) = fresh_store(&url, "slow").await;
    let client = connect(&url).await;
    let handler = Counting {
        effects: tables.effects.clone(),
        calls: Arc::default(),
    };
    let app = WebhookReceiver::transactional(TOKEN, store.clone(), handler.clone())
        .handler_time_limit(Duration::from_millis(300))
        .into_router();
    let id = Uuid::new_v4();

    // Another session holds the keys table: every statement on it waits.
    let mut blocker = connect(&url).await;
    let lock = blocker.transaction().await.unwrap();
    lock.batch_execute(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        tables.keys
    ))
    .await
    .unwrap();
    let (status, body) = post_deposit(&app, id).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "P100 webhook not handled within the time limit");
    let lines = lines_about(id);
    assert!(
        lines.iter().any(|l| l.contains("WARN")
            && l.contains("within the time limit")
            && l.contains("300ms")),
        "{lines:#?}"
    );
    // The store's own operations are bounded too.
    let quick = PgDedupeStore::builder()
        .url(&url)
        .table(&tables.keys)
        .operation_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let probe_body = deposit_body(Uuid::new_v4());
    let probe = webhooks::parse(WebhookKind::CryptoDeposit, &probe_body).unwrap();
    let error = quick
        .record(&DedupeKey::for_delivery(&probe, &probe_body))
        .await
        .unwrap_err();
    assert!(
        matches!(error, PgStoreError::TimedOut(_)) && error.is_timeout(),
        "{error}"
    );
    lock.rollback().await.unwrap();

    eventually("nothing of the timed-out delivery is left", 400, || async {
        tables.key_rows(&client).await == 0 && tables.effect_rows(&client).await == 0
    })
    .await;
    assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
    assert_eq!(tables.effects_of(&client, &deposit_key(id)).await, 1);
    assert_eq!(post_deposit(&app, id).await.0, StatusCode::OK);
    assert_eq!(tables.effects_of(&client, &deposit_key(id)).await, 1);
    tables.drop_all(&client).await;
}

/// Needs no database: the URL points at a loopback port nobody listens on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_answers_500_and_says_so() {
    logs();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let store = PgDedupeStore::builder()
        .url(&format!("postgres://postgres@127.0.0.1:{port}/none"))
        .table("never_created")
        .build()
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = Counting {
        effects: "never_created_effects".into(),
        calls: Arc::clone(&calls),
    };
    let app = WebhookReceiver::transactional(TOKEN, store.clone(), handler).into_router();
    let id = Uuid::new_v4();
    let (status, body) = post_deposit(&app, id).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "P100 webhook not recorded: database unavailable");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let lines = lines_about(id);
    assert!(
        lines.iter().any(|l| l.contains("ERROR")
            && l.contains("database unavailable")
            && l.contains("answering 500")),
        "{lines:#?}"
    );
    let error = store.migrate().await.unwrap_err();
    assert!(error.is_unavailable(), "{error}");
}
