//! A P100 webhook receiver: every kind at `/webhooks/p100/{kind}`, token checked, retries
//! deduplicated, each event handled once on its own task.
//!
//! Without `P100_WEBHOOK_TOKEN` it runs a demonstration against an in-process `p100-sandbox`:
//! the sandbox delivers its webhooks to this receiver while a user is funded and exchanges, and
//! the example prints each event and exits (no key, no network).
//!
//! ```sh
//! cargo run -p p100-ergonomic --example webhook_receiver --features axum
//! ```
//!
//! With `P100_WEBHOOK_TOKEN` (the token arranged with P100) it serves until Ctrl-C:
//!
//! ```sh
//! P100_WEBHOOK_TOKEN=s3cret cargo run -p p100-ergonomic --example webhook_receiver --features axum
//! # in another shell, what P100 would send:
//! curl -i http://127.0.0.1:3000/webhooks/p100/kyc_file_added -H 'Authorization: s3cret' \
//!      -H 'Content-Type: application/json' -d '{"externalUserId":"u-1","status":"ADDED"}'
//! ```
//!
//! `P100_WEBHOOK_ADDR` changes the address (default `127.0.0.1:3000`); `RUST_LOG=debug` shows
//! each delivery, retries included.

use p100_ergonomic::webhooks::{WebhookEvent, WebhookHandler, WebhookReceiver};
use tracing_subscriber::EnvFilter;

/// Where your own logic goes; here it only logs what arrived.
struct Handler;

impl WebhookHandler for Handler {
    async fn handle(&self, event: WebhookEvent) {
        match &event {
            WebhookEvent::CryptoDeposit(deposit) => tracing::info!(
                deposit = %deposit.crypto_deposit_id,
                user = %deposit.external_user_id,
                amount = %deposit.amount,
                currency = %deposit.currency,
                status = %deposit.status,
                "crypto deposit"
            ),
            WebhookEvent::KycVerificationStatus(kyc) => tracing::info!(
                user = %kyc.external_user_id,
                verification = %kyc.verification_status,
                attempt = %kyc.attempt_status,
                reason = kyc.rejection_reason.as_deref().unwrap_or("-"),
                "KYC status"
            ),
            other => tracing::info!(
                kind = %other.kind(),
                key = ?other.dedupe_key(),
                payload = %serde_json::to_string(other).unwrap_or_default(),
                "webhook"
            ),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let Ok(token) = std::env::var("P100_WEBHOOK_TOKEN") else {
        return demo_with_sandbox().await;
    };
    let addr = std::env::var("P100_WEBHOOK_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());

    let app = WebhookReceiver::new(token, Handler).into_router();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("receiving P100 webhooks at http://{addr}/webhooks/p100/{{kind}}");
    // Header-read, request and idle timeouts: a stalled client cannot hold a connection.
    tokio::select! {
        served = p100_ergonomic::webhooks::serve(listener, app, Default::default()) => served?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

/// The receiver on a free loopback port, a sandbox that delivers every kind to it, and some
/// activity that makes the sandbox send webhooks: a funded user (`p2p_transfer`) and an
/// exchange (`exchange`).
async fn demo_with_sandbox() -> Result<(), Box<dyn std::error::Error>> {
    use p100_ergonomic::types::{CreateTransferRequest, UserCreateRequest};
    use p100_ergonomic::{Amount, Client, Currency, WaitPolicy};
    use p100_sandbox::{Config, Sandbox};

    println!("P100_WEBHOOK_TOKEN is not set: a demonstration against a local p100-sandbox");
    let token = format!("demo-{}", uuid::Uuid::new_v4());

    // The receiver, forwarding each event to this task as well as logging it.
    let (seen, mut events) = tokio::sync::mpsc::unbounded_channel::<WebhookEvent>();
    let app = WebhookReceiver::new(token.clone(), move |event: WebhookEvent| {
        let seen = seen.clone();
        async move {
            Handler.handle(event.clone()).await;
            let _ = seen.send(event);
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/webhooks/p100/{{kind}}", listener.local_addr()?);
    let server = tokio::spawn(p100_ergonomic::webhooks::serve(
        listener,
        app,
        Default::default(),
    ));
    println!("receiver at {receiver_url}");

    let sandbox = Sandbox::start_with(
        Config::default()
            .with_default_webhook_url(receiver_url)
            .with_webhook_token(token),
    )
    .await?;
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .api_key(sandbox.api_key())
        .build()?;

    let user = format!("webhook-demo-{}", uuid::Uuid::new_v4());
    client
        .user_create()
        .body(UserCreateRequest::builder().external_user_id(user.clone()))
        .send()
        .await?;
    client
        .transfer_create()
        .body(
            CreateTransferRequest::builder()
                .destination_external_user_id(user.clone())
                .amount(Amount::try_from("250.00")?)
                .currency(Currency::Eur.as_str()),
        )
        .send()
        .await?;
    println!("funded {user} with 250.00 eur; exchanging 50 eur to usdt");
    // The exchange needs the funding settled first; its own webhook follows when it completes.
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv()).await?;
    print_event(first.as_ref());
    client
        .exchange()
        .user(&user)
        .sell(Amount::try_from(50)?, Currency::Eur)
        .buy(Currency::Usdt)
        .send_and_wait(WaitPolicy::default())
        .await?;
    let second = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv()).await?;
    print_event(second.as_ref());

    server.abort();
    let kinds: Vec<String> = [first, second]
        .iter()
        .flatten()
        .map(|event| event.kind().to_string())
        .collect();
    println!("received {} webhooks: {}", kinds.len(), kinds.join(", "));
    Ok(())
}

fn print_event(event: Option<&WebhookEvent>) {
    match event {
        Some(event) => println!(
            "webhook {}: {}",
            event.kind(),
            serde_json::to_string(event).unwrap_or_default()
        ),
        None => println!("the receiver stopped"),
    }
}
