//! Shared by the PostgreSQL webhook tests: the database from `DATABASE_URL` (skipped with a
//! message when unset, unless `P100_REQUIRE_DATABASE=1`, as in CI), a fresh table per test,
//! an effects table with no unique constraint (so a doubled effect shows), deliveries over
//! loopback, and the server's stop/start for the outage test.
#![allow(dead_code)]

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p100_ergonomic::webhooks::postgres::tokio_postgres::{self, NoTls};
use p100_ergonomic::webhooks::postgres::{EventTransaction, PgDedupeStore, TransactionalHandler};
use p100_ergonomic::webhooks::{BoxError, WebhookEvent, WebhookKind};
use serde_json::json;

pub const TOKEN: &str = "whsec-pg-4c1d";

/// The database URL, or `None` (after saying so on stderr) when the tests that need it are to
/// be skipped. With `P100_REQUIRE_DATABASE=1` a missing URL fails the test.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => panic!("{test}: DATABASE_URL is not set but P100_REQUIRE_DATABASE=1"),
        _ => {
            skipped(test, "DATABASE_URL not set");
            None
        }
    }
}

/// Says so on the real stderr: `eprintln!` would be captured, and hidden, for a passing test.
fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{test}: skipped: {why}");
}

pub fn required() -> bool {
    std::env::var("P100_REQUIRE_DATABASE").is_ok_and(|v| v == "1")
}

/// A table name no other test (or earlier run) uses.
pub fn unique_table(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..12])
}

/// A plain connection for the test's own checks (not from the store's pool).
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to DATABASE_URL: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A migrated store on a fresh keys table, and the effects table `{keys}_effects`.
pub async fn fresh_store(url: &str, prefix: &str) -> (PgDedupeStore, Tables) {
    let keys = unique_table(prefix);
    let store = store_on(url, &keys);
    store.migrate().await.expect("migrate");
    let tables = Tables {
        keys: keys.clone(),
        effects: format!("{keys}_effects"),
    };
    connect(url)
        .await
        .batch_execute(&format!(
            "CREATE TABLE {} (event_key text NOT NULL, receiver int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
            tables.effects
        ))
        .await
        .expect("effects table");
    (store, tables)
}

/// Another store (its own pool) on the same table.
pub fn store_on(url: &str, table: &str) -> PgDedupeStore {
    PgDedupeStore::builder()
        .url(url)
        .table(table)
        .max_connections(16)
        .build()
        .expect("store")
}

#[derive(Clone, Debug)]
pub struct Tables {
    pub keys: String,
    pub effects: String,
}

impl Tables {
    pub async fn count(&self, client: &tokio_postgres::Client, sql_tail: &str) -> i64 {
        client
            .query_one(&format!("SELECT count(*) {sql_tail}"), &[])
            .await
            .unwrap_or_else(|e| panic!("SELECT count(*) {sql_tail}: {e}"))
            .get(0)
    }

    pub async fn effect_rows(&self, client: &tokio_postgres::Client) -> i64 {
        self.count(client, &format!("FROM {}", self.effects)).await
    }

    pub async fn distinct_effects(&self, client: &tokio_postgres::Client) -> i64 {
        self.count(
            client,
            &format!("FROM (SELECT DISTINCT event_key FROM {}) d", self.effects),
        )
        .await
    }

    pub async fn key_rows(&self, client: &tokio_postgres::Client) -> i64 {
        self.count(client, &format!("FROM {}", self.keys)).await
    }

    pub async fn effects_of(&self, client: &tokio_postgres::Client, key: &str) -> i64 {
        client
            .query_one(
                &format!("SELECT count(*) FROM {} WHERE event_key = $1", self.effects),
                &[&key],
            )
            .await
            .expect("count")
            .get(0)
    }

    pub async fn has_key(&self, client: &tokio_postgres::Client, key: &str) -> bool {
        client
            .query_opt(
                &format!("SELECT 1 FROM {} WHERE key = $1", self.keys),
                &[&key],
            )
            .await
            .expect("select key")
            .is_some()
    }

    pub async fn drop_all(&self, client: &tokio_postgres::Client) {
        let _ = client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}",
                self.keys, self.effects
            ))
            .await;
    }
}

/// The effect of the handlers in these tests: one row per handled event, no unique constraint.
pub async fn write_effect(
    tx: &EventTransaction,
    effects: &str,
    event: &WebhookEvent,
    receiver: i32,
) -> Result<(), BoxError> {
    let key = event
        .dedupe_key()
        .ok_or("the test events have business keys")?;
    tx.execute(
        &format!("INSERT INTO {effects} (event_key, receiver) VALUES ($1, $2)"),
        &[&key.as_str(), &receiver],
    )
    .await?;
    Ok(())
}

/// A handler that writes the effect row and succeeds.
#[derive(Clone)]
pub struct Ledger {
    pub effects: String,
    pub receiver: i32,
}

impl TransactionalHandler for Ledger {
    async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
        write_effect(tx, &self.effects, &event, self.receiver).await
    }
}

/// A crypto deposit event: its dedupe key is `crypto_deposit:["<id>","SUCCESSFUL"]`.
pub fn deposit_body(id: uuid::Uuid) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "externalUserId": "8bdd8c8a-e9b7-475e-9690-8a34e8b78dab",
        "cryptoDepositId": id.to_string(),
        "amount": 0.001,
        "currency": "eth",
        "status": "SUCCESSFUL",
        "transactionHash": "0x10d5bd4367fd6623a16f56889abb3bb2352b8ea7df7b21537f1fc56fc2d07a87",
        "createdAt": "2025-03-20T11:34:37.646Z"
    }))
    .expect("JSON")
}

pub fn deposit_key(id: uuid::Uuid) -> String {
    format!("crypto_deposit:[\"{id}\",\"SUCCESSFUL\"]")
}

pub fn deposit_path() -> String {
    format!("/webhooks/p100/{}", WebhookKind::CryptoDeposit)
}

/// Serves `router` on a free loopback port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// One HTTP delivery as P100 makes it; the status, or 0 when no answer came.
pub async fn deliver(http: &reqwest::Client, base: &str, body: &[u8]) -> u16 {
    match http
        .post(format!("{base}{}", deposit_path()))
        .header("authorization", TOKEN)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
    {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()
        .expect("reqwest client")
}

/// Polls `condition` (a database query, typically) up to `attempts` times, yielding between.
pub async fn eventually<F, Fut>(what: &str, attempts: usize, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..attempts {
        if condition().await {
            return;
        }
        tokio::task::yield_now().await;
        // Each attempt is a database round trip; a short pause keeps the polling cheap.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{what}: not reached after {attempts} polls");
}

/// Backends of this database waiting on a lock (a delivery waiting for a concurrent one).
pub async fn lock_waiters(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            &[],
        )
        .await
        .expect("pg_stat_activity")
        .get(0)
}

/// Log lines captured by a global subscriber (set once per test binary).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Installs a global subscriber writing here (WARN and above, plus the crate's DEBUG).
    pub fn install() -> Self {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_env_filter("warn,p100_ergonomic=debug")
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber per binary");
        logs
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The server's `pg_ctl`, data directory and log, from `.ci/postgres.sh`.
pub struct Server {
    pg_ctl: String,
    data: String,
    log: String,
}

impl Server {
    /// `None` (after saying so) when the test cannot control the server; a failure when
    /// `P100_REQUIRE_DATABASE=1`.
    pub fn from_env(test: &str) -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("P100_PG_CTL"), var("P100_PG_DATA")) {
            (Some(pg_ctl), Some(data)) => Some(Self {
                log: var("P100_PG_LOG").unwrap_or_else(|| format!("{data}/../restart.log")),
                pg_ctl,
                data,
            }),
            _ if required() => {
                panic!(
                    "{test}: P100_PG_CTL and P100_PG_DATA are not set but P100_REQUIRE_DATABASE=1"
                )
            }
            _ => {
                eprintln!(
                    "{test}: skipped: P100_PG_CTL / P100_PG_DATA not set (see .ci/postgres.sh)"
                );
                None
            }
        }
    }

    /// `pg_ctl stop -m immediate`: every backend killed, no checkpoint (a crash).
    pub fn crash(&self) {
        self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// `pg_ctl start`, waiting until it accepts connections (it replays its WAL first).
    pub fn start(&self) {
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", &self.log]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        let mut command = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", &self.pg_ctl]);
            c
        } else {
            Command::new(&self.pg_ctl)
        };
        let status = command
            .current_dir("/")
            .args(["-D", &self.data])
            .args(args)
            .status()
            .expect("run pg_ctl");
        assert!(status.success(), "pg_ctl {args:?}: {status}");
    }
}
