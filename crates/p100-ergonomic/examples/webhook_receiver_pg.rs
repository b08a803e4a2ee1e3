//! A P100 webhook receiver for several instances: keys in PostgreSQL, and each deposit credited
//! to a ledger table in the same transaction that records the event, so that it is credited
//! exactly once whichever instance receives it and however often P100 delivers it.
//!
//! The database comes from `DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:55432/p100_test`,
//! which `.ci/postgres.sh` starts). Without `P100_WEBHOOK_TOKEN` it runs a demonstration: two
//! receivers ("instances") on loopback, each with its own pool, get every deposit three times at
//! once (some to one instance, some to the other), one of them failing its first attempt; it
//! prints what the ledger holds and exits.
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:55432/p100_test \
//!   cargo run -p p100-ergonomic --example webhook_receiver_pg --features postgres,axum
//! ```
//!
//! With `P100_WEBHOOK_TOKEN` it serves at `P100_WEBHOOK_ADDR` (default `127.0.0.1:3000`) until
//! Ctrl-C; run it on as many instances as you like against the same database.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use p100_ergonomic::webhooks::postgres::{EventTransaction, PgDedupeStore, TransactionalHandler};
use p100_ergonomic::webhooks::{BoxError, WebhookEvent, WebhookReceiver};
use tracing_subscriber::EnvFilter;

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS p100_example_ledger (
    deposit_id text NOT NULL,
    user_id text NOT NULL,
    amount numeric NOT NULL,
    currency text NOT NULL,
    credited_at timestamptz NOT NULL DEFAULT now())";

/// Credits successful crypto deposits; its writes commit with the event's key.
#[derive(Clone, Default)]
struct CreditDeposits {
    /// For the demonstration: fail once, after writing, to show that nothing of it stays.
    fail_once: Arc<AtomicBool>,
}

impl TransactionalHandler for CreditDeposits {
    async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
        let WebhookEvent::CryptoDeposit(deposit) = event else {
            tracing::info!(kind = %event.kind(), "webhook (nothing to credit)");
            return Ok(());
        };
        if deposit.status.to_string() != "SUCCESSFUL" {
            return Ok(());
        }
        // Exact decimals go in as text and are read by PostgreSQL as numeric.
        tx.execute(
            "INSERT INTO p100_example_ledger (deposit_id, user_id, amount, currency) \
             VALUES ($1, $2, $3::text::numeric, $4)",
            &[
                &deposit.crypto_deposit_id.to_string(),
                &deposit.external_user_id,
                &deposit.amount.to_string(),
                &deposit.currency.to_string(),
            ],
        )
        .await?;
        if self.fail_once.swap(false, Ordering::SeqCst) {
            return Err("simulated failure after the ledger write".into());
        }
        tracing::info!(deposit = %deposit.crypto_deposit_id, amount = %deposit.amount, "credited");
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:55432/p100_test");
        std::process::exit(2);
    };
    let store = PgDedupeStore::builder().url(&url).build()?;
    store.migrate().await?; // the keys table, idempotent
    store.pool().get().await?.batch_execute(LEDGER).await?;
    tokio::spawn(
        store
            .clone()
            .purge_every(std::time::Duration::from_secs(300)),
    );

    let Ok(token) = std::env::var("P100_WEBHOOK_TOKEN") else {
        return demo(&url, store).await;
    };
    let addr = std::env::var("P100_WEBHOOK_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let app = WebhookReceiver::transactional(token, store, CreditDeposits::default()).into_router();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("receiving P100 webhooks at http://{addr}/webhooks/p100/{{kind}}");
    // Header-read, request and idle timeouts: a stalled client cannot hold a connection.
    tokio::select! {
        served = p100_ergonomic::webhooks::serve(listener, app, Default::default()) => served?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

/// Two instances, 20 deposits, each delivered 3 times at once; one first attempt fails.
async fn demo(url: &str, first: PgDedupeStore) -> Result<(), Box<dyn std::error::Error>> {
    let token = format!("demo-{}", uuid::Uuid::new_v4());
    let handler = CreditDeposits {
        fail_once: Arc::new(AtomicBool::new(true)),
    };
    let mut instances = Vec::new();
    for store in [first.clone(), PgDedupeStore::builder().url(url).build()?] {
        let app =
            WebhookReceiver::transactional(token.clone(), store, handler.clone()).into_router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        instances.push(format!("http://{}", listener.local_addr()?));
        tokio::spawn(p100_ergonomic::webhooks::serve(
            listener,
            app,
            Default::default(),
        ));
    }
    println!("2 instances at {}", instances.join(" and "));

    let http = reqwest::Client::new();
    let deposits: Vec<String> = (0..20).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let instances = &instances;
    let deliveries = deposits.iter().enumerate().flat_map(|(i, id)| {
        (0..3).map(move |copy| (instances[(i + copy) % 2].clone(), id.clone()))
    });
    let deliver = |base: String, id: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let body = serde_json::json!({
                "externalUserId": "demo-user", "cryptoDepositId": id, "amount": "0.00125",
                "currency": "eth", "status": "SUCCESSFUL", "transactionHash": "0x10d5",
                "createdAt": "2025-03-20T11:34:37.646Z"
            });
            // P100 delivers again after a failure (after 8, 16, 32, 64 s; here at once).
            for _ in 0..5 {
                let answer = http
                    .post(format!("{base}/webhooks/p100/crypto_deposit"))
                    .header("authorization", &token)
                    .json(&body)
                    .send()
                    .await;
                if answer.is_ok_and(|a| a.status().is_success()) {
                    return Ok(());
                }
            }
            Err(format!("deposit {id}: no 200 after 5 deliveries"))
        }
    };
    let outcomes = futures::future::join_all(deliveries.map(|(b, id)| deliver(b, id))).await;
    let delivered = outcomes.len();
    for outcome in outcomes {
        outcome?;
    }

    let client = first.pool().get().await?;
    let row = client
        .query_one(
            "SELECT count(*), count(DISTINCT deposit_id), coalesce(sum(amount), 0)::text \
             FROM p100_example_ledger WHERE deposit_id = ANY($1)",
            &[&deposits],
        )
        .await?;
    let (rows, distinct, total): (i64, i64, String) = (row.get(0), row.get(1), row.get(2));
    println!("ledger: {rows} rows for {distinct} deposits, {total} eth in all");
    println!(
        "demo: {delivered} deliveries to 2 instances, {} deposits credited {}",
        deposits.len(),
        if rows == distinct && distinct == deposits.len() as i64 {
            "once each"
        } else {
            "WRONGLY"
        }
    );
    Ok(())
}
