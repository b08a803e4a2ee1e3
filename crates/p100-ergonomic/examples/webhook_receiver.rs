//! A P100 webhook receiver: every kind at `/webhooks/p100/{kind}`, token checked, retries
//! deduplicated, each event handled once on its own task.
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

    let token = std::env::var("P100_WEBHOOK_TOKEN")
        .map_err(|_| "set P100_WEBHOOK_TOKEN to the token arranged with P100")?;
    let addr = std::env::var("P100_WEBHOOK_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());

    let app = WebhookReceiver::new(token, Handler).into_router();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("receiving P100 webhooks at http://{addr}/webhooks/p100/{{kind}}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
