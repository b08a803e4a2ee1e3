//! Shared helpers of the sandbox tests: a sandbox on a manual clock, error inspection, the
//! requests many tests make (a user, a funding transfer, a partner exchange), and a webhook
//! receiver that fails on demand and records what it got.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use p100_api::types::{self, DecimalNumber, DecimalString};
use p100_api::{Error, ResponseValue};
use p100_sandbox::{Config, Sandbox};
use rust_decimal::Decimal;
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

/// The status and P100 error code of a failed call are these; returns the error.
pub fn assert_api_error<T: std::fmt::Debug>(
    result: Result<T, p100_api::Error<types::Error>>,
    status: u16,
    code: &str,
) -> types::Error {
    let (got, error) = api_error(result);
    assert_eq!(
        (got, error.error_code.as_str()),
        (status, code),
        "{error:?}"
    );
    error
}

/// A decimal from its text.
pub fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Creates a user `id` with nothing but its id.
pub async fn create_user(client: &p100_api::Client, id: &str) {
    client
        .user_create()
        .body(types::UserCreateRequest::builder().external_user_id(id))
        .send()
        .await
        .expect("user");
}

/// An internal transfer from the partner to the user `id`, as sent (not yet settled).
pub async fn transfer_to(
    client: &p100_api::Client,
    id: &str,
    amount: &str,
    currency: &str,
) -> Result<ResponseValue<types::TransferCreated>, Error<types::Error>> {
    client
        .transfer_create()
        .body(
            types::CreateTransferRequest::builder()
                .destination_external_user_id(id.to_string())
                .amount(amount.parse::<DecimalString>().expect("amount"))
                .currency(currency),
        )
        .send()
        .await
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
    transfer_to(client, id, amount, currency)
        .await
        .expect("funding accepted");
    sandbox.advance(SETTLE);
}

/// A partner exchange of `amount` at the lock `lock`, as answered.
pub async fn partner_exchange(
    client: &p100_api::Client,
    lock: uuid::Uuid,
    amount: &str,
    from: &str,
    to: &str,
) -> Result<ResponseValue<types::ExchangeCreated>, Error<types::Error>> {
    client
        .partner_create_exchange()
        .body(
            types::PartnerCreateExchangeRequest::builder()
                .amount(amount.parse::<DecimalNumber>().expect("amount"))
                .currency_from(from)
                .currency_to(to)
                .lock_id(lock),
        )
        .send()
        .await
}

/// A fresh partner lock, then a partner exchange at it (accepted); returns the exchange id.
pub async fn locked_partner_exchange(
    client: &p100_api::Client,
    amount: &str,
    from: &str,
    to: &str,
) -> String {
    let lock = client
        .partner_create_exchange_lock()
        .send()
        .await
        .expect("lock")
        .into_inner();
    partner_exchange(client, lock.id, amount, from, to)
        .await
        .expect("accepted")
        .into_inner()
        .exchange_id
}

/// A user exchange of `amount` at the lock `lock`, as answered.
pub async fn user_exchange(
    client: &p100_api::Client,
    user: &str,
    lock: uuid::Uuid,
    amount: &str,
    from: &str,
    to: &str,
) -> Result<ResponseValue<types::ExchangeCreated>, Error<types::Error>> {
    client
        .exchange_create()
        .body(
            types::CreateExchangeRequest::builder()
                .source_external_user_id(user)
                .amount(amount.parse::<DecimalNumber>().expect("amount"))
                .currency_from(from.to_string())
                .currency_to(to.to_string())
                .lock_id(lock),
        )
        .send()
        .await
}

/// Sends a request and reads its answer as JSON (whatever the status).
pub async fn json(request: reqwest::RequestBuilder) -> serde_json::Value {
    request
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json")
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

    /// The body of the next request, read as `T` (a webhook payload type of the spec).
    pub async fn next_payload<T: serde::de::DeserializeOwned>(&mut self) -> T {
        let body = self.next().await.body;
        serde_json::from_value(body).expect("the spec's payload")
    }

    /// Whether a request is already waiting.
    pub fn try_next(&mut self) -> Option<Hit> {
        self.hits.try_recv().ok()
    }
}

/// A valid Method B KYC request for `user` (salary income, so occupation and additional info).
pub fn kyc_request(user: &str) -> types::builder::KycVerificationRequest {
    types::KycVerificationRequest::builder()
        .external_user_id(user)
        .document_type(types::KycDocumentType::IdCard)
        .country("PL")
        .income_source(types::KycIncomeSource::Salary)
        .occupation(Some(types::KycOccupation::It))
        .additional_info(Some("I am a programmer".to_string()))
        .open_account_reason(types::KycOpenAccountReason::DailyUse)
}
