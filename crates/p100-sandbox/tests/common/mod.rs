//! Shared helpers of the sandbox tests: a sandbox on a manual clock, error inspection, a user
//! with funds, and a webhook receiver that fails on demand and records what it got.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use p100_api::types;
use p100_sandbox::{Config, Sandbox};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The settle delay of the test sandboxes.
pub const SETTLE: Duration = Duration::from_secs(2);

/// A sandbox whose time moves only by `advance`, without the documented example records.
pub async fn manual_sandbox(config: Config) -> Sandbox {
    Sandbox::start_with(
        config
            .with_manual_clock()
            .with_settle_after(SETTLE)
            .with_seed_examples(false),
    )
    .await
    .expect("sandbox starts")
}

/// The HTTP status and P100 error of a failed call.
pub fn api_error<T: std::fmt::Debug>(
    result: Result<T, p100_api::Error<types::Error>>,
) -> (u16, types::Error) {
    match result {
        Err(p100_api::Error::ErrorResponse(e)) => (e.status().as_u16(), e.into_inner()),
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// Creates a user `id` and funds it from the partner balance (settled).
pub async fn funded_user(
    sandbox: &Sandbox,
    client: &p100_api::Client,
    id: &str,
    currency: &str,
    amount: &str,
) {
    client
        .user_create()
        .body(
            types::UserCreateRequest::builder()
                .external_user_id(id)
                .email(format!("{id}@example.com"))
                .country("PL".to_string())
                .has_accepted_p100_tc(true),
        )
        .send()
        .await
        .expect("user created");
    client
        .transfer_create()
        .body(
            types::CreateTransferRequest::builder()
                .destination_external_user_id(id.to_string())
                .amount(amount.parse::<types::DecimalString>().expect("amount"))
                .currency(currency),
        )
        .send()
        .await
        .expect("funding accepted");
    sandbox.advance(SETTLE);
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub authorization: Option<String>,
    pub body: serde_json::Value,
    pub at: Instant,
}

/// A webhook receiver on loopback: answers 500 to the first `fail_first` requests, then 200.
pub struct Receiver {
    pub base_url: String,
    hits: mpsc::UnboundedReceiver<Hit>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Self {
        let (tx, hits) = mpsc::unbounded_channel();
        let seen = Arc::new(Mutex::new(0usize));
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                let seen = seen.clone();
                async move {
                    let hit = Hit {
                        path: uri.path().to_string(),
                        authorization: headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string),
                        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                        at: Instant::now(),
                    };
                    let _ = tx.send(hit);
                    let mut seen = seen.lock().expect("count");
                    *seen += 1;
                    if *seen <= fail_first {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            hits,
            task,
        }
    }

    /// The next request (waits at most 10 s of real time).
    pub async fn next(&mut self) -> Hit {
        tokio::time::timeout(Duration::from_secs(10), self.hits.recv())
            .await
            .expect("a webhook arrives in time")
            .expect("receiver running")
    }

    /// Whether a request is already waiting.
    pub fn try_next(&mut self) -> Option<Hit> {
        self.hits.try_recv().ok()
    }
}
