//! Issue 12, item 4: webhooks inside your own app. The receiver merges into a `Router<S>` with
//! the app's state; the `Delivery` extractor makes the receiver's checks (token, body limit,
//! parse, dedupe key) for a hand-written handler; `http_status()` is a `StatusCode`.
#![cfg(feature = "axum")]

mod webhook_support;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use p100_ergonomic::webhooks::testing::TestDelivery;
use p100_ergonomic::webhooks::{
    self, DedupeKey, Delivery, DeliveryConfig, WebhookEvent, WebhookKind, WebhookReceiver,
};
use serde_json::json;
use tower::ServiceExt;
use webhook_support::sample_with;

const TOKEN: &str = "whsec-7f3a9c";

/// What the hand-written handler saw: each event's kind and dedupe key.
type Seen = Arc<Mutex<Vec<(WebhookKind, String)>>>;

#[derive(Clone)]
struct AppState {
    name: &'static str,
    webhooks: DeliveryConfig,
    seen: Seen,
}

impl FromRef<AppState> for DeliveryConfig {
    fn from_ref(state: &AppState) -> Self {
        state.webhooks.clone()
    }
}

fn state() -> AppState {
    AppState {
        name: "acme",
        webhooks: DeliveryConfig::new(TOKEN).body_limit(4096),
        seen: Arc::default(),
    }
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn deposit() -> TestDelivery {
    TestDelivery::new(
        WebhookKind::CryptoDeposit,
        sample_with(WebhookKind::CryptoDeposit, "status", json!("SUCCESSFUL")),
    )
    .token(TOKEN)
}

#[tokio::test]
async fn the_receiver_merges_into_an_app_with_state() {
    async fn hello(State(state): State<AppState>) -> &'static str {
        state.name
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app: Router = WebhookReceiver::new(TOKEN, move |event: WebhookEvent| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(event.kind());
        }
    })
    .merge_into(Router::new().route("/hello", get(hello)))
    .with_state(state());

    let hello = Request::get("/hello").body(Body::empty()).expect("request");
    assert_eq!(
        send(&app, hello).await,
        (StatusCode::OK, "acme".to_string())
    );
    let (status, _) = send(&app, deposit().into_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rx.recv().await, Some(WebhookKind::CryptoDeposit));
}

async fn record(State(state): State<AppState>, delivery: Delivery) -> StatusCode {
    let mut seen = state.seen.lock().unwrap_or_else(|p| p.into_inner());
    seen.push((delivery.event.kind(), delivery.key.to_string()));
    StatusCode::NO_CONTENT
}

fn extracting_app() -> (Router, Seen) {
    let state = state();
    let seen = state.seen.clone();
    let app = Router::new()
        .route("/p100/{kind}", post(record))
        .route("/p100", post(record))
        .with_state(state);
    (app, seen)
}

#[tokio::test]
async fn the_extractor_checks_token_limit_and_body_and_gives_the_dedupe_key() {
    let (app, seen) = extracting_app();
    let delivery = deposit().path("/p100/{kind}");
    let expected_key = webhooks::parse(WebhookKind::CryptoDeposit, delivery.body())
        .map(|event| DedupeKey::for_delivery(&event, delivery.body()).to_string())
        .expect("the sample parses");

    // Accepted: the kind from the path, the key as the receiver computes it.
    let (status, _) = send(&app, delivery.clone().into_request()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Without `{kind}` in the route, the kind is detected from the body.
    let (status, _) = send(&app, delivery.clone().path("/p100").into_request()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        seen.lock().map(|s| s.clone()).unwrap_or_default(),
        vec![
            (WebhookKind::CryptoDeposit, expected_key.clone()),
            (WebhookKind::CryptoDeposit, expected_key)
        ]
    );

    // Refused, the handler not called.
    let wrong_token = delivery.clone().token("nope").into_request();
    assert_eq!(send(&app, wrong_token).await.0, StatusCode::UNAUTHORIZED);
    let unknown_kind = TestDelivery::new(WebhookKind::CryptoDeposit, delivery.body().to_vec())
        .token(TOKEN)
        .path("/p100/{kind}")
        .into_request::<Body>();
    let (parts, body) = unknown_kind.into_parts();
    let mut unknown_kind = Request::from_parts(parts, body);
    *unknown_kind.uri_mut() = "/p100/no_such_kind".parse().expect("uri");
    let (status, message) = send(&app, unknown_kind).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{message}");
    let bad_body = TestDelivery::new(WebhookKind::CryptoDeposit, r#"{"status": 1"#)
        .token(TOKEN)
        .path("/p100/{kind}");
    let (status, message) = send(&app, bad_body.into_request()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("crypto_deposit"), "{message}");
    let too_large = TestDelivery::new(WebhookKind::CryptoDeposit, vec![b' '; 5000])
        .token(TOKEN)
        .path("/p100/{kind}");
    assert_eq!(
        send(&app, too_large.into_request()).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(seen.lock().map(|s| s.len()).unwrap_or_default(), 2);
}

#[test]
fn http_status_is_a_status_code() {
    let error = webhooks::verify_token(TOKEN, None::<&str>).err();
    let status: Option<StatusCode> = error.map(|e| e.http_status());
    assert_eq!(status, Some(StatusCode::UNAUTHORIZED));
}
