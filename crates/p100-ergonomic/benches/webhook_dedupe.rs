//! Dedupe cost per event: the in-memory store's `record`, the PostgreSQL store's `record` (one
//! autocommit `INSERT … ON CONFLICT`), and exactly-once handling (`begin`, one effect `INSERT`,
//! `commit`), each for a new key, one event at a time on loopback. Criterion's estimates, then
//! p50/p99 over 2 000 events per variant.
//!
//! `DATABASE_URL=postgres://… cargo bench -p p100-ergonomic --features postgres --bench webhook_dedupe`
//! (without `DATABASE_URL` only the in-memory store is measured).

use std::time::{Duration, Instant};

use criterion::Criterion;
use p100_ergonomic::webhooks::postgres::{Begin, PgDedupeStore};
use p100_ergonomic::webhooks::{self, DedupeKey, DedupeStore, InMemoryDedupeStore, WebhookKind};

const BODY: &str = r#"{"externalUserId":"8bdd8c8a-e9b7-475e-9690-8a34e8b78dab","cryptoDepositId":"ID","amount":0.001,"currency":"eth","status":"SUCCESSFUL","transactionHash":"0x10d5","createdAt":"2025-03-20T11:34:37.646Z"}"#;

/// A new event's key each call, made as the receiver makes it.
fn fresh_key() -> DedupeKey {
    let body = BODY.replace("ID", &uuid::Uuid::new_v4().to_string());
    let event = webhooks::parse(WebhookKind::CryptoDeposit, body.as_bytes()).expect("valid");
    DedupeKey::for_delivery(&event, body.as_bytes())
}

struct Pg {
    store: PgDedupeStore,
    effects: String,
}

async fn setup(url: &str) -> Pg {
    let table = format!("bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let store = PgDedupeStore::builder()
        .url(url)
        .table(&table)
        .build()
        .expect("store");
    store.migrate().await.expect("migrate");
    let effects = format!("{table}_effects");
    let client = store.pool().get().await.expect("connection");
    client
        .batch_execute(&format!(
            "CREATE TABLE {effects} (event_key text NOT NULL, amount numeric NOT NULL)"
        ))
        .await
        .expect("effects table");
    Pg { store, effects }
}

async fn exactly_once(pg: &Pg, key: &DedupeKey) {
    match pg.store.begin(key).await.expect("begin") {
        Begin::First(tx) => {
            tx.execute(
                &format!(
                    "INSERT INTO {} (event_key, amount) VALUES ($1, 0.001)",
                    pg.effects
                ),
                &[&key.as_str()],
            )
            .await
            .expect("effect");
            tx.commit().await.expect("commit");
        }
        Begin::Repeat => unreachable!("fresh keys"),
    }
}

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{name:<40} p50 {:>10.1?}  p99 {:>10.1?}  ({} events)",
        at(0.50),
        at(0.99),
        samples.len()
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
    let pg = url.as_deref().map(|url| runtime.block_on(setup(url)));
    if pg.is_none() {
        eprintln!("DATABASE_URL not set: measuring the in-memory store only");
    }

    let mut criterion = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group("dedupe/new_event");
        let memory = InMemoryDedupeStore::new();
        group.bench_function("in_memory/record", |b| {
            b.to_async(&runtime)
                .iter(|| async { memory.record(&fresh_key()).await.expect("record") })
        });
        if let Some(pg) = &pg {
            group.bench_function("postgres/record", |b| {
                b.to_async(&runtime)
                    .iter(|| async { pg.store.record(&fresh_key()).await.expect("record") })
            });
            group.bench_function("postgres/begin+effect+commit", |b| {
                b.to_async(&runtime)
                    .iter(|| async { exactly_once(pg, &fresh_key()).await })
            });
        }
        group.finish();
    }
    criterion.final_summary();

    println!("\nlatency per new event, sequential, on this machine:");
    const N: usize = 2_000;
    let memory = InMemoryDedupeStore::new();
    let samples = runtime.block_on(async {
        let mut samples = Vec::with_capacity(N);
        for _ in 0..N {
            let key = fresh_key();
            let start = Instant::now();
            memory.record(&key).await.expect("record");
            samples.push(start.elapsed());
        }
        samples
    });
    percentiles("in_memory record", samples);
    if let Some(pg) = &pg {
        let (record, once) = runtime.block_on(async {
            let (mut record, mut once) = (Vec::with_capacity(N), Vec::with_capacity(N));
            for _ in 0..N {
                let key = fresh_key();
                let start = Instant::now();
                pg.store.record(&key).await.expect("record");
                record.push(start.elapsed());
                let key = fresh_key();
                let start = Instant::now();
                exactly_once(pg, &key).await;
                once.push(start.elapsed());
            }
            (record, once)
        });
        percentiles("postgres record (autocommit)", record);
        percentiles("postgres begin + effect + commit", once);
        let table = pg.store.table().to_owned();
        let effects = pg.effects.clone();
        runtime.block_on(async {
            if let Ok(client) = pg.store.pool().get().await {
                let _ = client
                    .batch_execute(&format!("DROP TABLE {table}; DROP TABLE {effects}"))
                    .await;
            }
        });
    }
}
