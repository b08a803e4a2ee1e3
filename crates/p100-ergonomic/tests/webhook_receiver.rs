//! The axum receiver, driven through `tower::ServiceExt::oneshot` (no network) under tokio's
//! paused clock: token check (401, handler not called), parse (400 with the reason), 200 at once
//! with the handler spawned, and P100's retries reaching the handler once.
#![cfg(feature = "axum")]

mod webhook_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use p100_ergonomic::webhooks::testing::TestDelivery;
use p100_ergonomic::webhooks::{
    BoxError, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting, WebhookEvent, WebhookHandler,
    WebhookKind, WebhookReceiver, P100_RETRY_DELAYS,
};
use serde_json::json;
use tokio::sync::mpsc;
use tower::ServiceExt;
use webhook_support::{sample_body, sample_with};

const TOKEN: &str = "whsec-7f3a9c";

/// A handler that forwards every event it is called with.
fn recorder() -> (impl WebhookHandler, mpsc::UnboundedReceiver<WebhookEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |event: WebhookEvent| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(event);
        }
    };
    (handler, rx)
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response: Response<Body> = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Lets every spawned handler run: with the clock paused, a sleep returns only once every other
/// task is idle.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

fn drain(rx: &mut mpsc::UnboundedReceiver<WebhookEvent>) -> Vec<WebhookEvent> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn deposit(status: &str) -> TestDelivery {
    TestDelivery::new(
        WebhookKind::CryptoDeposit,
        sample_with(WebhookKind::CryptoDeposit, "status", json!(status)),
    )
    .token(TOKEN)
}

// ---- Done when: the same event delivered 5 times reaches the handler once ------------------

#[tokio::test(start_paused = true)]
async fn five_deliveries_on_p100s_retry_schedule_reach_the_handler_once() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    let delivery = deposit("SUCCESSFUL");

    let mut statuses = Vec::new();
    for delay in std::iter::once(Duration::ZERO).chain(P100_RETRY_DELAYS) {
        tokio::time::advance(delay).await;
        statuses.push(send(&app, delivery.clone().into_request()).await.0);
        settle().await;
    }

    assert_eq!(statuses, [StatusCode::OK; 5]);
    let handled = drain(&mut rx);
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].kind(), WebhookKind::CryptoDeposit);
}

#[tokio::test(start_paused = true)]
async fn concurrent_duplicates_reach_the_handler_once() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    let requests = (0..5).map(|_| send(&app, deposit("SUCCESSFUL").into_request()));
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK));
    settle().await;
    assert_eq!(drain(&mut rx).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn each_status_of_an_event_reaches_the_handler_once_in_order() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    let lifecycle = [
        "WAITING_FOR_TR_DATA",
        "WAITING_FOR_VERIFICATION",
        "SUCCESSFUL",
    ];
    for status in lifecycle {
        for _ in 0..3 {
            assert_eq!(
                send(&app, deposit(status).into_request()).await.0,
                StatusCode::OK
            );
            tokio::time::advance(Duration::from_secs(8)).await;
        }
        settle().await;
    }
    let statuses: Vec<String> = drain(&mut rx)
        .into_iter()
        .map(|event| match event {
            WebhookEvent::CryptoDeposit(d) => d.status.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(statuses, lifecycle);
}

#[tokio::test(start_paused = true)]
async fn an_event_is_handled_again_once_its_key_expired() {
    let (handler, mut rx) = recorder();
    let Ok(store) = InMemoryDedupeStore::with_limits(100, Duration::from_secs(300)) else {
        panic!("a 300 s TTL is valid");
    };
    let app = WebhookReceiver::new(TOKEN, handler)
        .dedupe_store(store)
        .into_router();
    send(&app, deposit("SUCCESSFUL").into_request()).await;
    tokio::time::advance(Duration::from_secs(299)).await;
    send(&app, deposit("SUCCESSFUL").into_request()).await;
    settle().await;
    assert_eq!(drain(&mut rx).len(), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    send(&app, deposit("SUCCESSFUL").into_request()).await;
    settle().await;
    assert_eq!(drain(&mut rx).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_kind_can_skip_dedupe() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler)
        .without_dedupe(WebhookKind::KycFileAdded)
        .into_router();
    let upload = TestDelivery::new(
        WebhookKind::KycFileAdded,
        sample_body(WebhookKind::KycFileAdded),
    )
    .token(TOKEN);
    for _ in 0..3 {
        send(&app, upload.clone().into_request()).await;
        send(&app, deposit("SUCCESSFUL").into_request()).await;
    }
    settle().await;
    let kinds: Vec<WebhookKind> = drain(&mut rx).iter().map(WebhookEvent::kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == WebhookKind::KycFileAdded)
            .count(),
        3
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == WebhookKind::CryptoDeposit)
            .count(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn instances_sharing_a_store_handle_an_event_once() {
    let (handler_a, mut rx_a) = recorder();
    let (handler_b, mut rx_b) = recorder();
    let store = Arc::new(InMemoryDedupeStore::new());
    let a = WebhookReceiver::new(TOKEN, handler_a)
        .dedupe_store(Arc::clone(&store))
        .into_router();
    let b = WebhookReceiver::new(TOKEN, handler_b)
        .dedupe_store(Arc::clone(&store))
        .into_router();
    send(&a, deposit("SUCCESSFUL").into_request()).await;
    tokio::time::advance(P100_RETRY_DELAYS[0]).await;
    send(&b, deposit("SUCCESSFUL").into_request()).await;
    settle().await;
    assert_eq!(drain(&mut rx_a).len() + drain(&mut rx_b).len(), 1);
    assert_eq!(store.len(), 1);
}

struct BrokenStore;

impl DedupeStore for BrokenStore {
    async fn record(&self, _key: &DedupeKey) -> Result<Sighting, BoxError> {
        Err("connection refused".into())
    }
}

#[tokio::test(start_paused = true)]
async fn a_failing_store_still_lets_events_through() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler)
        .dedupe_store(BrokenStore)
        .into_router();
    for _ in 0..2 {
        assert_eq!(
            send(&app, deposit("SUCCESSFUL").into_request()).await.0,
            StatusCode::OK
        );
    }
    settle().await;
    // Duplicates rather than a lost event.
    assert_eq!(drain(&mut rx).len(), 2);
}

// ---- Done when: wrong or missing token → 401 and the handler is not called -----------------

#[tokio::test(start_paused = true)]
async fn a_missing_or_wrong_token_is_401_and_the_handler_is_not_called() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    let body = sample_body(WebhookKind::CryptoDeposit);
    let cases = [
        (
            None,
            "missing webhook token: the request has no Authorization header",
        ),
        (
            Some(""),
            "missing webhook token: the request has no Authorization header",
        ),
        (
            Some("whsec-7f3a9"),
            "wrong webhook token in the Authorization header",
        ),
        (
            Some("Bearer wrong"),
            "wrong webhook token in the Authorization header",
        ),
        (
            Some("Basic whsec-7f3a9c"),
            "wrong webhook token in the Authorization header",
        ),
    ];
    for (authorization, message) in cases {
        let mut delivery = TestDelivery::new(WebhookKind::CryptoDeposit, body.clone());
        if let Some(value) = authorization {
            delivery = delivery.authorization(value);
        }
        let (status, text) = send(&app, delivery.into_request()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(text, message);
        assert!(!text.contains(TOKEN));
    }
    settle().await;
    assert!(drain(&mut rx).is_empty());

    // The rejected attempts did not mark the event as handled.
    let delivery =
        TestDelivery::new(WebhookKind::CryptoDeposit, body).authorization("Bearer whsec-7f3a9c");
    assert_eq!(send(&app, delivery.into_request()).await.0, StatusCode::OK);
    settle().await;
    assert_eq!(drain(&mut rx).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_token_is_checked_before_the_body_is_read() {
    let (handler, _rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler)
        .body_limit(64)
        .into_router();
    let big = vec![b' '; 4096];
    let without_token = TestDelivery::new(WebhookKind::CryptoDeposit, big.clone());
    assert_eq!(
        send(&app, without_token.into_request()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let with_token = TestDelivery::new(WebhookKind::CryptoDeposit, big).token(TOKEN);
    assert_eq!(
        send(&app, with_token.into_request()).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

// ---- Done when: unparseable → 400 ----------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn an_unparseable_body_is_400_with_the_reason() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    let full = sample_body(WebhookKind::CryptoDeposit);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "empty crypto_deposit webhook body"),
        (full[..30].to_vec(), "invalid crypto_deposit webhook body: "),
        (b"not json".to_vec(), "expected ident at line 1 column 2"),
        (
            sample_with(WebhookKind::CryptoDeposit, "amount", json!(true)),
            "at `amount`",
        ),
        (br#"{"status":"SUCCESSFUL"}"#.to_vec(), "missing field"),
    ];
    for (body, reason) in cases {
        let delivery = TestDelivery::new(WebhookKind::CryptoDeposit, body).token(TOKEN);
        let (status, text) = send(&app, delivery.into_request()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains(reason), "{text:?} lacks {reason:?}");
    }
    settle().await;
    assert!(drain(&mut rx).is_empty());
}

// ---- answering at once ---------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn p100_gets_its_200_before_the_handler_finishes() {
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let handler = {
        let (started, finished, release) = (started.clone(), finished.clone(), release.clone());
        move |_event: WebhookEvent| {
            let (started, finished, release) = (started.clone(), finished.clone(), release.clone());
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                release.notified().await;
                finished.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    let (status, text) = send(&app, deposit("SUCCESSFUL").into_request()).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
    settle().await;
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    release.notify_one();
    settle().await;
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

// ---- routing -------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn every_kind_is_mounted_at_its_own_path() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler).into_router();
    for &kind in WebhookKind::ALL {
        let delivery = TestDelivery::new(kind, sample_body(kind)).token(TOKEN);
        assert_eq!(delivery.uri(), format!("/webhooks/p100/{kind}"));
        assert_eq!(send(&app, delivery.into_request()).await.0, StatusCode::OK);
    }
    settle().await;
    let kinds: Vec<WebhookKind> = drain(&mut rx).iter().map(WebhookEvent::kind).collect();
    assert_eq!(kinds, WebhookKind::ALL);
}

#[tokio::test(start_paused = true)]
async fn paths_methods_and_kinds_are_configurable() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler)
        .path("hooks/{kind}/in")
        .kinds([WebhookKind::CryptoDeposit, WebhookKind::P2pTransfer])
        .into_router();
    let ok = deposit("SUCCESSFUL").path("/hooks/{kind}/in");
    assert_eq!(send(&app, ok.into_request()).await.0, StatusCode::OK);
    let not_mounted = TestDelivery::new(
        WebhookKind::KycFileAdded,
        sample_body(WebhookKind::KycFileAdded),
    )
    .token(TOKEN)
    .path("/hooks/{kind}/in");
    assert_eq!(
        send(&app, not_mounted.into_request()).await.0,
        StatusCode::NOT_FOUND
    );
    let default_path = deposit("SUCCESSFUL");
    assert_eq!(
        send(&app, default_path.into_request()).await.0,
        StatusCode::NOT_FOUND
    );
    let mut get: Request<Body> = deposit("SUCCESSFUL")
        .path("/hooks/{kind}/in")
        .into_request();
    *get.method_mut() = axum::http::Method::GET;
    assert_eq!(send(&app, get).await.0, StatusCode::METHOD_NOT_ALLOWED);
    settle().await;
    assert_eq!(drain(&mut rx).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn one_path_for_every_kind_detects_the_kind() {
    let (handler, mut rx) = recorder();
    let app = WebhookReceiver::new(TOKEN, handler)
        .path("/p100")
        .into_router();
    let at_one_path = |kind: WebhookKind, body: Vec<u8>| {
        TestDelivery::new(kind, body)
            .token(TOKEN)
            .path("/p100")
            .into_request()
    };
    let deposit = at_one_path(
        WebhookKind::CryptoDeposit,
        sample_body(WebhookKind::CryptoDeposit),
    );
    assert_eq!(send(&app, deposit).await.0, StatusCode::OK);
    let ambiguous = at_one_path(
        WebhookKind::UserBalanceGeneration,
        br#"{"externalUserId":"u-1","status":"NEW"}"#.to_vec(),
    );
    let (status, text) = send(&app, ambiguous).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("user_balance_generation, kyc_file_added, poa_verification_status"),
        "{text}"
    );
    settle().await;
    let kinds: Vec<WebhookKind> = drain(&mut rx).iter().map(WebhookEvent::kind).collect();
    assert_eq!(kinds, [WebhookKind::CryptoDeposit]);
}

struct Counter(Arc<AtomicUsize>);

impl WebhookHandler for Counter {
    async fn handle(&self, event: WebhookEvent) {
        assert_eq!(event.kind(), WebhookKind::CryptoDeposit);
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_handler_can_be_a_type_with_state() {
    let count = Arc::new(AtomicUsize::new(0));
    let app = WebhookReceiver::new(TOKEN, Counter(count.clone())).into_router();
    for _ in 0..2 {
        send(&app, deposit("SUCCESSFUL").into_request()).await;
    }
    settle().await;
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn the_receiver_debug_hides_the_token() {
    let (handler, _rx) = recorder();
    let receiver = WebhookReceiver::new(TOKEN, handler);
    let text = format!("{receiver:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(text.contains("<redacted>"));
}
